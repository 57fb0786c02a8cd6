// ruledex progressive enhancement. Pages work without this script; with it, copy buttons
// appear, technique filters apply instantly (no reload), and the search box suggests
// techniques. Nothing here builds HTML from strings: text goes through textContent only.
"use strict";

function enableCopyButtons() {
  for (const button of document.querySelectorAll("button.copy[data-copy]")) {
    button.hidden = false;
    button.addEventListener("click", async () => {
      const code = document.getElementById(button.dataset.copy);
      if (!code) return;
      const ok = await copyText(code.textContent);
      button.textContent = ok ? "Copied" : "Copy failed";
      if (ok) button.dataset.copied = "true";
      clearTimeout(button.resetTimer);
      button.resetTimer = setTimeout(() => { button.textContent = "Copy"; delete button.dataset.copied; }, 2000);
    });
  }
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch (_) {
    // Older browsers and non-secure contexts: copy through a temporary text area.
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    return ok;
  }
}

// Technique page: the form's checkboxes filter the cards in place, and the URL follows so the
// filtered view can be shared. Semantics match the server's: within a group any checked value
// matches; community content shows when asked for or when a vendor is picked by name.
function enableInstantFilters() {
  const form = document.getElementById("filters");
  if (!form) return;
  const apply = form.querySelector(".apply button");
  if (apply) apply.hidden = true;
  const cards = Array.from(document.querySelectorAll("article.card"));
  const groups = Array.from(document.querySelectorAll("section.vendor-group"));
  const shownCount = document.getElementById("shown-count");
  const keys = { vendor: "vendor", language: "language", severity: "severity", type: "type", status: "status" };

  function checked(name) {
    return Array.from(form.querySelectorAll(`input[name="${name}"]:checked`)).map((i) => i.value);
  }

  function visible(card, wanted) {
    const d = card.dataset;
    if (d.deprecated === "1" && !wanted.deprecated) return false;
    if (d.kind === "community" && !wanted.community && wanted.vendor.length === 0) return false;
    if (wanted.exact && d.direct !== "1") return false;
    for (const [name, attr] of Object.entries(keys)) {
      const values = wanted[name];
      if (values.length && !values.some((v) => v.toLowerCase() === (d[attr] || "").toLowerCase())) return false;
    }
    if (wanted.data_source.length) {
      const sources = (d.sources || "").split("|");
      if (!wanted.data_source.some((w) => sources.includes(w.toLowerCase()))) return false;
    }
    return true;
  }

  // Each checkbox's count: the cards it would show if it alone were ticked in its group, the
  // other groups as they are (the server counts the same way for the first paint).
  function updateOptionCounts(wanted) {
    for (const fieldset of form.querySelectorAll("fieldset.facet")) {
      const name = fieldset.dataset.facet;
      for (const label of fieldset.querySelectorAll("label")) {
        const input = label.querySelector("input");
        const trial = { ...wanted, [name]: [input.value] };
        const count = cards.filter((card) => visible(card, trial)).length;
        const badge = label.querySelector(".count");
        if (badge) badge.textContent = String(count);
        label.classList.toggle("none", count === 0);
      }
    }
  }

  function update() {
    const wanted = {
      deprecated: checked("deprecated").length > 0,
      community: checked("community").length > 0,
      exact: checked("exact").length > 0,
      data_source: checked("data_source"),
    };
    for (const name of Object.keys(keys)) wanted[name] = checked(name);
    updateOptionCounts(wanted);
    let shown = 0;
    for (const card of cards) {
      card.hidden = !visible(card, wanted);
      if (!card.hidden) shown++;
    }
    for (const group of groups) {
      const visibleCards = group.querySelectorAll("article.card:not([hidden])").length;
      group.hidden = visibleCards === 0;
      const count = group.querySelector(".group-count");
      if (count) count.textContent = String(visibleCards);
    }
    if (shownCount) shownCount.textContent = String(shown);
    const query = new URLSearchParams(new FormData(form)).toString();
    history.replaceState(null, "", query ? `?${query}` : location.pathname);
  }

  form.addEventListener("change", update);
  form.addEventListener("submit", (event) => { event.preventDefault(); update(); });
}

// Search box: suggest techniques by ID or name as the user types.
function enableTechniqueSuggestions() {
  const list = document.getElementById("technique-suggestions");
  if (!list) return;
  let timer = null;
  for (const input of document.querySelectorAll('input[list="technique-suggestions"]')) {
    input.addEventListener("input", () => {
      clearTimeout(timer);
      const q = input.value.trim();
      if (q.length < 2) return;
      timer = setTimeout(async () => {
        const response = await fetch(`/api/v1/techniques?q=${encodeURIComponent(q)}`);
        if (!response.ok) return;
        const suggestions = await response.json();
        list.replaceChildren(...suggestions.map((s) => {
          const option = document.createElement("option");
          option.value = `${s.id} · ${s.name}`;
          option.textContent = `${s.detections} detections`;
          return option;
        }));
      }, 150);
    });
  }
}

// On a phone the filters would push the detections below the fold: start them folded.
function foldFiltersOnSmallScreens() {
  const panel = document.getElementById("filter-panel");
  if (panel && window.matchMedia("(max-width: 720px)").matches) panel.open = false;
}

document.addEventListener("DOMContentLoaded", () => {
  foldFiltersOnSmallScreens();
  enableCopyButtons();
  enableInstantFilters();
  enableTechniqueSuggestions();
});

// ruledex progressive enhancement. Pages work without this script; with it, copy buttons
// appear, technique filters apply without leaving the page, more cards load in place, and the
// search box suggests techniques. Nothing here builds HTML from strings: text goes through
// textContent, and page parts come as nodes of the server's own pages.
"use strict";

function enableCopyButtons() {
  for (const button of document.querySelectorAll("button.copy[data-copy]:not([data-enhanced])")) {
    button.dataset.enhanced = "1";
    button.hidden = false;
    button.addEventListener("click", async () => {
      const code = document.getElementById(button.dataset.copy);
      if (!code) return;
      const ok = await copyText(code.textContent);
      const label = button.dataset.label || (button.dataset.label = button.textContent);
      button.textContent = ok ? "Copied" : "Copy failed";
      if (ok) button.dataset.copied = "true";
      clearTimeout(button.resetTimer);
      button.resetTimer = setTimeout(() => { button.textContent = label; delete button.dataset.copied; }, 2000);
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

// Technique and search pages: the server filters and pages the cards (the largest families hold
// thousands). With this script, ticking a filter fetches the URL the form would load and swaps
// the results, the counts and the export links in place, and the URL follows so the view can be
// shared; "next cards" appends the next page instead of leaving the page. The fetched document
// is the server's own page, escaped as every page is: nodes are moved from it, never built from
// strings.
function enableInstantFilters() {
  const form = document.getElementById("filters");
  if (!form) return;
  const apply = form.querySelector(".apply button");
  if (apply) apply.hidden = true;
  let latest = 0;

  async function fetchPage(url) {
    const response = await fetch(url, { headers: { accept: "text/html" } });
    if (!response.ok) return null;
    return new DOMParser().parseFromString(await response.text(), "text/html");
  }

  function replace(doc, selector) {
    const fresh = doc.querySelector(selector);
    const current = document.querySelector(selector);
    // A live region stays in place (only its text changes), so screen readers announce it.
    if (fresh && current && current.hasAttribute("aria-live")) current.replaceChildren(...document.importNode(fresh, true).childNodes);
    else if (fresh && current) current.replaceWith(document.importNode(fresh, true));
    else if (current) current.remove();
  }

  // The checkboxes on offer change with the switches (community-only values appear with
  // community content); when they do, the groups are replaced, otherwise each checkbox keeps
  // its place and only its count changes.
  function updateFacets(doc) {
    const options = (root) => Array.from(root.querySelectorAll("fieldset.facet input"), (i) => `${i.name}=${i.value}`).join("&");
    const fresh = doc.querySelector("#filters");
    if (!fresh) return;
    if (options(fresh) === options(form)) { updateCounts(doc); return; }
    for (const group of form.querySelectorAll("fieldset.facet")) group.remove();
    const apply = form.querySelector("p.apply");
    for (const group of fresh.querySelectorAll("fieldset.facet")) form.insertBefore(document.importNode(group, true), apply);
  }

  function updateCounts(doc) {
    for (const label of form.querySelectorAll("fieldset.facet label")) {
      const input = label.querySelector("input");
      const fresh = doc.querySelector(`#filters input[name="${CSS.escape(input.name)}"][value="${CSS.escape(input.value)}"]`);
      const count = label.querySelector(".count");
      const freshCount = fresh && fresh.closest("label").querySelector(".count");
      if (count) count.textContent = freshCount ? freshCount.textContent : "0";
      label.classList.toggle("none", !freshCount || freshCount.textContent === "0");
    }
  }

  async function update() {
    const query = new URLSearchParams(new FormData(form)).toString();
    const url = query ? `?${query}` : location.pathname;
    const request = ++latest;
    const doc = await fetchPage(url);
    if (!doc || request !== latest) return;
    for (const selector of [".results", "#shown-line", "#exports", ".summary .headline", ".search-head"]) replace(doc, selector);
    updateFacets(doc);
    history.replaceState(null, "", url);
    enableCopyButtons();
    enableMoreCards();
  }

  form.addEventListener("change", update);
  form.addEventListener("submit", (event) => { event.preventDefault(); update(); });
  enableMoreCards();
}

// "next cards": the next page's cards join the list (into their vendor's group when it goes on).
function enableMoreCards() {
  const more = document.querySelector("#pager a.more");
  if (!more || more.dataset.enhanced) return;
  more.dataset.enhanced = "1";
  more.addEventListener("click", async (event) => {
    event.preventDefault();
    const response = await fetch(more.href, { headers: { accept: "text/html" } });
    if (!response.ok) { location.href = more.href; return; }
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    const results = document.querySelector(".results");
    const pager = document.getElementById("pager");
    for (const group of doc.querySelectorAll(".results section.vendor-group")) {
      const groups = results.querySelectorAll("section.vendor-group");
      const last = groups[groups.length - 1];
      if (last && last.dataset.vendor === group.dataset.vendor) {
        for (const card of group.querySelectorAll("article.card")) last.appendChild(document.importNode(card, true));
      } else {
        results.insertBefore(document.importNode(group, true), pager);
      }
    }
    const freshPager = doc.getElementById("pager");
    const nextPager = freshPager ? document.importNode(freshPager, true) : null;
    if (nextPager) nextPager.querySelector("a.previous")?.remove();
    if (nextPager) pager.replaceWith(nextPager); else pager.remove();
    const range = document.getElementById("shown-range");
    const freshRange = doc.getElementById("shown-range");
    if (range && freshRange) range.textContent = `${range.textContent.split("–")[0]}–${freshRange.textContent.split("–")[1]}`;
    enableCopyButtons();
    enableMoreCards();
  });
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

// Technique page: a compact table of the detections (one line each: title, vendor, language,
// severity, techniques), for daily use; the choice is remembered.
function enableCompactView() {
  const toggle = document.querySelector("button.view-toggle");
  if (!toggle) return;
  toggle.hidden = false;
  const apply = (compact) => {
    document.body.classList.toggle("compact", compact);
    toggle.setAttribute("aria-pressed", String(compact));
    toggle.textContent = compact ? "Cards" : "Compact table";
  };
  apply(localStorage.getItem("ruledex-view") === "compact");
  toggle.addEventListener("click", () => {
    const compact = !document.body.classList.contains("compact");
    localStorage.setItem("ruledex-view", compact ? "compact" : "cards");
    apply(compact);
  });
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
  enableCompactView();
});

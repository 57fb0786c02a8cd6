//! `technique` and `search`: a page of detections, long texts cut for a model's context.

use std::fmt::Write as _;

use ruledex_app::Catalog;
use ruledex_app::request::vocabulary;
use ruledex_app::request::{Arguments, SearchRequest, TechniqueRequest};
use ruledex_app::wire::{DetectionJson, SearchHitJson, SearchJson, TechniquePageJson};

use super::{Answer, Definition, ToolError, answer, tool};
use crate::text;

pub const TECHNIQUE: Definition = Definition {
    name: "technique",
    read_only: true,
    operation: &vocabulary::TECHNIQUE_LISTING,
    tool: || {
        tool::<TechniquePageJson>(
            "technique",
            &vocabulary::TECHNIQUE_LISTING,
            "Detections for an ATT&CK technique",
            "Vendor-native detections (Google SecOps/Chronicle YARA-L, Splunk SPL, Elastic, Microsoft Sentinel KQL, \
             Sublime, Panther) for one MITRE ATT&CK technique, with the technique itself, its sub-techniques and how \
             many detections each has. Use it when asked what detects a technique, how a technique is covered, or \
             for rules to deploy against it. A parent technique includes its sub-techniques' detections unless \
             `exact`. Community content (Sigma) is left out unless `community` is true or sources/vendors/kinds name \
             it; detections only ruledex's mapping lists under the technique unless `inferred`. Listings carry each \
             detection's summary fields (long texts cut); call `show` with an address for the whole rule and its \
             paste-ready query. The answer says how many detections `more` follow; page with `offset`. \
             Example: {\"technique\": \"T1090\", \"vendors\": [\"Splunk\"], \"limit\": 10}.",
        )
    },
    run: technique,
};

pub const SEARCH: Definition = Definition {
    name: "search",
    read_only: true,
    operation: &vocabulary::SEARCH,
    tool: || {
        tool::<SearchJson>(
            "search",
            &vocabulary::SEARCH,
            "Search detections",
            "Full-text search over every detection's title, description, query and tags (vendor-native and \
             community) by word forms, best matches first (title matches, then description and tags, then query \
             text; vendor-native before community), with the passage that matched. A misspelled search that finds \
             almost nothing is corrected: `corrected_query` then says what the results are for. Use it to find \
             rules by what they look for (a tool, a log source, an indicator, an event ID) rather than by ATT&CK \
             technique; use `technique` for a technique. Filters narrow the results; `total` says how many match, \
             page with `offset`. Listings carry summary fields (long texts cut); `show` an address for the whole \
             rule. Example: {\"query\": \"tor exit node\", \"languages\": [\"yara-l\"]}.",
        )
    },
    run: search,
};

fn technique(catalog: &Catalog, args: &Arguments) -> Result<Answer, ToolError> {
    let mut json = catalog.technique(&TechniqueRequest::from_arguments(args)?)?;
    json.detections = json.detections.into_iter().map(text::listed).collect();
    let summary = technique_summary(&json);
    answer(&json, summary)
}

fn technique_summary(page: &TechniquePageJson) -> String {
    let id = page.id;
    let mut out = String::new();
    if let Some(old) = page.revoked {
        let _ = writeln!(out, "{old} was revoked in ATT&CK and replaced by {id}; showing {id}.");
    }
    match &page.technique {
        Some(t) => {
            let parent = page.parent.as_ref().map(|p| format!("{}: ", p.name)).unwrap_or_default();
            let version = page.attack_version.as_ref().map(|v| format!(" · ATT&CK v{v}")).unwrap_or_default();
            let tactics: Vec<String> = t.tactics.iter().map(ToString::to_string).collect();
            let _ = writeln!(out, "{id} {parent}{}{version} · tactics {} · {}", t.name, tactics.join(", "), t.url);
        }
        None => {
            let _ = writeln!(out, "{id} (not in the loaded ATT&CK data; listed because detections are tagged with it)");
        }
    }
    if !page.subtechniques.is_empty() {
        let subs: Vec<String> =
            page.subtechniques.iter().map(|s| format!("{} {} ({})", s.id, s.name, s.count)).collect();
        let _ = writeln!(out, "Sub-techniques: {}", subs.join(" · "));
    }
    let scope = if page.exact || id.is_subtechnique() { "tagged with it" } else { "with its sub-techniques" };
    let _ = writeln!(out, "{} of {} detections pass the filter ({scope}).", page.shown, page.total);
    if page.inferred > 0 {
        let _ = writeln!(
            out,
            "Of those, {} are listed only through ruledex's mapping of vendor labels, not tagged {id} by the vendor.",
            page.inferred
        );
    }
    let hidden = [
        (page.hidden_community, "community detections", "community"),
        (page.hidden_inferred, "detections listed only through ruledex's mapping of vendor labels", "inferred"),
        (page.hidden_deprecated, "deprecated detections", "deprecated"),
    ];
    for (count, what, switch) in hidden.into_iter().filter(|(count, ..)| *count > 0) {
        let _ = writeln!(out, "+{count} {what}: `{switch}: true` includes them.");
    }
    page_lines(&mut out, page.detections.iter(), page.offset, page.more);
    out
}

/// The listed detections, one line each, and how to get the next page.
fn page_lines<'a>(
    out: &mut String,
    detections: impl ExactSizeIterator<Item = &'a DetectionJson>,
    offset: usize,
    more: usize,
) {
    let count = detections.len();
    if count > 0 {
        let _ = writeln!(out, "Listed {}-{}:", offset + 1, offset + count);
    }
    for d in detections {
        let _ = writeln!(out, "{}", text::detection_line(d));
    }
    if more > 0 {
        let _ = writeln!(out, "{more} more: call again with `offset: {}`.", offset + count);
    }
    if count > 0 {
        let _ = writeln!(out, "`show` with an address gives the whole rule and its paste-ready query.");
    }
}

fn search(catalog: &Catalog, args: &Arguments) -> Result<Answer, ToolError> {
    let mut json = catalog.search(&SearchRequest::from_arguments(args)?)?;
    json.detections = json
        .detections
        .into_iter()
        .map(|hit| SearchHitJson { detection: text::listed(hit.detection), ..hit })
        .collect();
    let mut summary = match &json.corrected_query {
        Some(corrected) => format!(
            "{:?} finds almost nothing; showing results for {corrected:?}.\n{} detections match {corrected:?}{}.\n",
            json.query,
            json.total,
            json.partial_note()
        ),
        None => format!("{} detections match {:?}{}.\n", json.total, json.query, json.partial_note()),
    };
    let more = json.total.saturating_sub(json.offset + json.detections.len());
    let count = json.detections.len();
    if count > 0 {
        let _ = writeln!(summary, "Listed {}-{}:", json.offset + 1, json.offset + count);
    }
    for hit in &json.detections {
        let _ = writeln!(
            summary,
            "{}\n  {}: {}",
            text::detection_line(&hit.detection),
            hit.matched_field,
            text::inert(&text::line(&hit.snippet, 200))
        );
    }
    if more > 0 {
        let _ = writeln!(summary, "{more} more: call again with `offset: {}`.", json.offset + count);
    }
    answer(&json, summary)
}

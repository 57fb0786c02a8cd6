//! `show` (one detection, whole) and `stats` (the catalog and its sources).

use std::fmt::Write as _;

use ruledex_app::Catalog;
use ruledex_app::request::{Arguments, Operation, vocabulary};
use ruledex_app::wire::{DetectionJson, StatsJson};

use super::{Answer, Definition, ToolError, answer, tool};
use crate::text;

pub const SHOW: Definition = Definition {
    name: "show",
    read_only: true,
    operation: &vocabulary::SHOW,
    tool: || {
        tool::<DetectionJson>(
            "show",
            &vocabulary::SHOW,
            "One detection, whole",
            "One detection with everything ruledex knows: the query as shipped and `paste_ready_query` (ready to \
             paste where the vendor's app is not installed, Splunk macros expanded), the whole native rule file \
             (`native_rule`), ATT&CK mappings and how each was tagged, data sources, false positives, references, \
             implementation and investigation notes, the tests the rule ships, license and the upstream file at its \
             commit. Use it after `technique` or `search` to read, explain, adapt or deploy a rule. \
             Example: {\"address\": \"chronicle/gcti_tor_exit_nodes\"}.",
        )
    },
    run: show,
};

/// `stats` takes no arguments.
static NOTHING: Operation = Operation { name: "stats", subject: None, params: &[] };

pub const STATS: Definition = Definition {
    name: "stats",
    read_only: true,
    operation: &NOTHING,
    tool: || {
        tool::<StatsJson>(
            "stats",
            &NOTHING,
            "Catalog and sources",
            "The catalog and each configured source as the last sync left it: repository and commit, license, rule \
             files found and read, detections, files that could not be read and why, and how its ATT&CK tags \
             resolved (tags newer than the loaded ATT&CK release in `newer_than_release`). Use it to learn which \
             sources and vendors the catalog holds (the names `sources` filters take), how fresh it is \
             (`built_at`, each source's `synced_at`) and which ATT&CK release it uses. Example: {}.",
        )
    },
    run: stats,
};

fn show(catalog: &Catalog, args: &Arguments) -> Result<Answer, ToolError> {
    let address = args.text(vocabulary::DETECTION).unwrap_or_default();
    let json = text::whole(catalog.detection_at(address.trim())?);
    let mut summary = format!(
        "{}\n{}/{} · {} · {}",
        text::inert(&text::line(&json.title, 1_000)),
        json.source,
        json.id,
        json.vendor,
        text::inert(&json.product)
    );
    let details = [
        json.language.map(|l| format!("language {}", l.label())),
        json.severity.map(|s| format!("severity {}", s.as_str())),
        json.rule_type.map(|t| format!("type {}", t.label())),
        json.status.map(|s| format!("status {}", s.as_str())),
        json.deprecated.then(|| "deprecated".to_string()),
    ];
    let details: Vec<String> = details.into_iter().flatten().collect();
    if !details.is_empty() {
        summary.push_str(&format!(" · {}", details.join(" · ")));
    }
    let techniques: Vec<String> = json
        .techniques
        .iter()
        .map(|m| format!("{} {}", m.id, m.name.clone().unwrap_or_default()).trim().to_string())
        .collect();
    if !techniques.is_empty() {
        summary.push_str(&format!("\nATT&CK: {}", techniques.join("; ")));
    }
    if let Some(url) = &json.provenance.upstream_url {
        summary.push_str(&format!("\nUpstream: {url}"));
    }
    summary.push_str(&format!("\n\n{}\n", text::inert(&text::line(&json.description, 1_000))));
    let mut query = json.paste_ready_query.clone();
    text::cut(&mut query, 4_000, "the structured result has it whole");
    summary.push_str(&format!("\nPaste-ready query:\n{}\n", text::fenced(&query)));
    if !json.unresolved_macros.is_empty() {
        summary
            .push_str(&format!("Macros without a definition: {}\n", text::inert(&json.unresolved_macros.join(", "))));
    }
    summary.push_str(&format!(
        "The native rule file is `native_rule` in the structured result and the resource {}.",
        crate::uri::detection_uri(&json.source, &json.id)
    ));
    answer(&json, summary)
}

fn stats(catalog: &Catalog, _: &Arguments) -> Result<Answer, ToolError> {
    // MCP over HTTP answers anonymous clients too.
    let json = catalog.stats().published();
    let mut summary = format!(
        "Catalog built {} · ATT&CK {} · {} detections\n",
        json.catalog.built_at.as_deref().unwrap_or("?"),
        json.catalog.attack_version.as_deref().unwrap_or("(version not configured)"),
        json.catalog.detections
    );
    for s in &json.sources {
        let _ = writeln!(
            summary,
            "- {} ({}, {}): {} detections from {} files, {} unreadable · {} techniques · commit {} · synced {}{}",
            s.name,
            s.format.as_str(),
            s.kind.as_str(),
            s.detections,
            s.files,
            s.failures.len(),
            s.attack.techniques,
            s.commit.as_deref().map_or("unknown", |c| c.get(..12).unwrap_or(c)),
            s.synced_at,
            s.error.as_ref().map(|e| format!(" · last sync could not read it: {e}")).unwrap_or_default()
        );
    }
    answer(&json, summary)
}

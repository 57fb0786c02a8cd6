//! `ruledex show SOURCE/ID`

use std::io::{IsTerminal, Write};

use anyhow::Result;
use ruledex_app::ServiceError;
use ruledex_app::request::vocabulary::DETECTION;
use ruledex_app::wire::{CandidatesJson, DetectionJson, MappingJson};
use ruledex_core::model::MappingStatus;

use super::Env;
use crate::cli::ShowArgs;
use crate::exit;
use crate::output;
use crate::output::outln;

pub fn run(env: &Env, args: &ShowArgs) -> Result<u8> {
    let address = args.given.arguments()?.owned(DETECTION).unwrap_or_default();
    let catalog = env.open_catalog()?;
    match catalog.detection_at(&address) {
        Ok(detection) if args.output.json => output::json(&detection)?,
        Ok(detection) if args.native => print_native(&detection)?,
        Ok(detection) => print_detection(&detection)?,
        Err(ServiceError::Ambiguous { candidates, .. }) => {
            if args.output.json {
                output::json(&CandidatesJson { candidates })?;
            } else {
                outln!("{address} names {} detections; show one of them:", candidates.len())?;
                for c in &candidates {
                    outln!("  {}/{}  {}  ({})", c.source, c.id, c.title, c.path)?;
                }
            }
            return Ok(exit::FAILED);
        }
        Err(error) => return Err(error.into()),
    }
    Ok(exit::OK)
}

/// The detection as text: title and address, one line per field, then the long texts.
/// Only the native rule file, byte for byte when redirected (`> rule.yml`), made safe on a
/// terminal.
fn print_native(d: &DetectionJson) -> std::io::Result<()> {
    let native = d.native_rule.as_deref().unwrap_or_default();
    let mut out = std::io::stdout().lock();
    if out.is_terminal() { out.write_all(output::safe(native).as_bytes()) } else { out.write_all(native.as_bytes()) }
}

fn print_detection(d: &DetectionJson) -> std::io::Result<()> {
    let native = |label: Option<&str>, native: &Option<String>| {
        joined([label.map(str::to_string), native.clone()], " · native: ")
    };
    let mut fields: Vec<(&str, String)> = vec![
        ("vendor", format!("{} · {}", d.vendor, d.product)),
        ("source", format!("{} ({})", d.source, d.source_kind.label())),
        ("language", d.language.map(|l| l.label().to_string()).unwrap_or_default()),
        ("type", native(d.rule_type.map(|t| t.label()), &d.rule_type_native)),
        ("severity", native(d.severity.map(|s| s.as_str()), &d.severity_native)),
        ("risk score", d.risk_score.map(|s| s.to_string()).unwrap_or_default()),
        ("status", native(d.status.map(|s| s.as_str()), &d.status_native)),
    ];
    fields.extend(d.techniques.iter().map(|m| ("technique", technique_line(m))));
    fields.extend([
        ("tactics", d.tactics.iter().map(|t| format!("{} ({})", t.name, t.id)).collect::<Vec<_>>().join(", ")),
        ("unresolved tags", d.unresolved_tags.join(", ")),
        ("atlas", d.atlas.iter().map(|a| a.id.clone()).collect::<Vec<_>>().join(", ")),
        ("unresolved macros", d.unresolved_macros.join(", ")),
        ("data sources", d.data_sources.join(", ")),
        ("platforms", d.platforms.join(", ")),
        ("version", d.version.clone().unwrap_or_default()),
        ("agent", d.min_agent_version.as_ref().map(|v| format!("{v} or later")).unwrap_or_default()),
        (
            "requires",
            d.requires.iter().map(|x| format!("{} {}", x.kind.label(), x.name)).collect::<Vec<_>>().join(", "),
        ),
        ("author", d.author.clone().unwrap_or_default()),
        ("created", d.created.clone().unwrap_or_default()),
        ("updated", d.updated.clone().unwrap_or_default()),
        ("license", d.effective_license.clone().unwrap_or_default()),
        ("path", d.provenance.path.clone()),
        ("commit", d.provenance.commit.clone().unwrap_or_default()),
        ("upstream", d.provenance.upstream_url.clone().unwrap_or_default()),
        ("tags", d.tags.join(", ")),
        ("cves", d.cves.join(", ")),
    ]);
    fields.extend(d.response_actions.iter().map(|x| ("response", x.to_string())));
    fields.extend(d.references.iter().map(|x| ("reference", x.clone())));
    fields.extend(d.false_positives.iter().map(|x| ("false positive", x.clone())));

    outln!("{}\n{}/{}\n", d.title, d.source, d.id)?;
    for (name, value) in fields.iter().filter(|(_, v)| !v.is_empty()) {
        // A space even after the names longer than the column ("unresolved macros").
        outln!("{name:<15} {value}")?;
    }
    // A rule of several queries is run query by query: those are printed below, each on its own.
    let several = d.queries.len() > 1;
    let paste_ready = if several || d.paste_ready_query == d.query { "" } else { d.paste_ready_query.as_str() };
    let query_title = match (several, paste_ready.is_empty()) {
        (true, _) => "Queries (as shipped, each run on its own: see below)",
        (false, true) => "Query",
        (false, false) => "Query (as shipped)",
    };
    let paste_ready_title = format!("Paste-ready query ({})", d.paste_ready_note());
    let tests = tests_summary(d);
    // Investigation guides are Markdown (Elastic's): read as plain text, one block a line.
    let investigation = ruledex_core::markdown::to_plain(d.investigation.as_deref().unwrap_or_default()).join("\n");
    let sections = [
        ("Description", d.description.as_str()),
        ("How to implement", d.implementation.as_deref().unwrap_or_default()),
        ("Investigation", investigation.as_str()),
        ("Tests the rule ships", tests.as_str()),
        (query_title, d.query.as_str()),
        (paste_ready_title.as_str(), paste_ready),
    ];
    for (title, text) in sections.iter().filter(|(_, t)| !t.trim().is_empty()) {
        outln!("\n{title}:\n{}", text.trim_end())?;
    }
    let count = d.queries.len();
    for (n, query) in d.queries.iter().enumerate().filter(|_| several) {
        let language = query.language.map(|l| format!(", {}", l.label())).unwrap_or_default();
        outln!("\nQuery {} of {count}{language} (run on its own):\n{}", n + 1, query.query.trim_end())?;
    }
    Ok(())
}

/// "3 tests: Tor exit node matches (expected: match), Internal traffic (expected: no match)..."
fn tests_summary(d: &DetectionJson) -> String {
    let each: Vec<String> = d
        .tests
        .iter()
        .map(|t| format!("  {} (expected: {})", t.name, if t.expected { "match" } else { "no match" }))
        .collect();
    match d.tests.len() {
        0 => String::new(),
        n => format!("{}; `show --json` has their sample events\n{}", output::plural(n, "test"), each.join("\n")),
    }
}

fn joined<const N: usize>(parts: [Option<String>; N], separator: &str) -> String {
    parts.into_iter().flatten().collect::<Vec<_>>().join(separator)
}

/// "T1059.001 PowerShell · tagged "t1086" · tagged by the vendor · revoked, replaced by ..."
fn technique_line(m: &MappingJson) -> String {
    let name = m.name.clone().unwrap_or_default();
    let note = match (m.status, m.tagged_id) {
        (MappingStatus::Revoked, Some(old)) => format!(" · tagged {old}, revoked and replaced by {}", m.id),
        (MappingStatus::Current, _) => String::new(),
        (status, _) => format!(" · {} in ATT&CK", status.as_str()),
    };
    format!("{} {name} · tagged {:?} · {}{note}", m.id, m.tagged, m.mapped_by.label())
}

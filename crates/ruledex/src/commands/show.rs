//! `ruledex show SOURCE/ID`

use std::io::{IsTerminal, Write};

use anyhow::Result;
use ruledex_app::ServiceError;
use ruledex_app::wire::{CandidateJson, CandidatesJson};
use ruledex_core::model::{Detection, MappingStatus, TechniqueMapping};

use super::Env;
use crate::cli::ShowArgs;
use crate::exit;
use crate::output;
use crate::output::outln;

pub fn run(env: &Env, args: &ShowArgs) -> Result<u8> {
    let catalog = env.open_catalog()?;
    match catalog.detection_at(&args.address) {
        Ok(detection) if args.output.json => output::json(&catalog.detection_json(&detection))?,
        Ok(detection) if args.native => print_native(&detection)?,
        Ok(detection) => print_detection(&detection)?,
        Err(ServiceError::Ambiguous { candidates, .. }) => {
            if args.output.json {
                output::json(&CandidatesJson { candidates: candidates.iter().map(CandidateJson::from).collect() })?;
            } else {
                outln!("{} names {} detections; show one of them:", args.address, candidates.len())?;
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
fn print_native(d: &Detection) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    if out.is_terminal() {
        out.write_all(output::safe(&d.rule.native_rule).as_bytes())
    } else {
        out.write_all(d.rule.native_rule.as_bytes())
    }
}

fn print_detection(d: &Detection) -> std::io::Result<()> {
    let r = &d.rule;
    let mut fields: Vec<(&str, String)> = vec![
        ("vendor", format!("{} · {}", r.vendor, r.product)),
        ("source", format!("{} ({})", d.source, d.source_kind.label())),
        ("language", r.language.map(|l| l.label().to_string()).unwrap_or_default()),
        ("type", joined([r.rule_type.map(|t| t.label().to_string()), r.rule_type_native.clone()], " · native: ")),
        ("severity", joined([r.severity.map(|s| s.as_str().to_string()), r.severity_native.clone()], " · native: ")),
        ("risk score", r.risk_score.map(|s| s.to_string()).unwrap_or_default()),
        ("status", joined([r.status.map(|s| s.as_str().to_string()), r.status_native.clone()], " · native: ")),
    ];
    fields.extend(d.techniques.iter().map(|m| ("technique", technique_line(m))));
    fields.extend([
        ("tactics", d.tactics.iter().map(|t| format!("{} ({})", t.name, t.id)).collect::<Vec<_>>().join(", ")),
        ("unresolved tags", d.unresolved_tags.join(", ")),
        ("atlas", d.atlas.iter().map(|a| a.id.to_string()).collect::<Vec<_>>().join(", ")),
        ("unresolved macros", r.unresolved_macros.join(", ")),
        ("data sources", r.data_sources.join(", ")),
        ("platforms", r.platforms.join(", ")),
        ("version", r.version.clone().unwrap_or_default()),
        ("agent", r.min_agent_version.as_ref().map(|v| format!("{v} or later")).unwrap_or_default()),
        (
            "requires",
            r.requires.iter().map(|x| format!("{} {}", x.kind.label(), x.name)).collect::<Vec<_>>().join(", "),
        ),
        ("author", r.author.clone().unwrap_or_default()),
        ("created", r.created.clone().unwrap_or_default()),
        ("updated", r.updated.clone().unwrap_or_default()),
        ("license", d.effective_license.clone().unwrap_or_default()),
        ("path", d.provenance.path.clone()),
        ("commit", d.provenance.commit.clone().unwrap_or_default()),
        ("upstream", d.provenance.upstream_url.clone().unwrap_or_default()),
        ("tags", r.tags.join(", ")),
        ("cves", d.cves.join(", ")),
    ]);
    fields.extend(r.response_actions.iter().map(|x| ("response", x.to_string())));
    fields.extend(r.references.iter().map(|x| ("reference", x.clone())));
    fields.extend(r.false_positives.iter().map(|x| ("false positive", x.clone())));

    outln!("{}\n{}\n", r.title, d.address())?;
    for (name, value) in fields.iter().filter(|(_, v)| !v.is_empty()) {
        // A space even after the names longer than the column ("unresolved macros").
        outln!("{name:<15} {value}")?;
    }
    let paste_ready = r.paste_ready_query.as_deref().filter(|p| *p != r.query).unwrap_or_default();
    let query_title = match (paste_ready.is_empty(), r.queries.len()) {
        (_, n) if n > 1 => "Queries (as shipped, each run on its own: see below)",
        (true, _) => "Query",
        (false, _) => "Query (as shipped)",
    };
    let tests = tests_summary(d);
    let sections = [
        ("Description", r.description.as_str()),
        ("How to implement", r.implementation.as_deref().unwrap_or_default()),
        ("Investigation", r.investigation.as_deref().unwrap_or_default()),
        ("Tests the rule ships", tests.as_str()),
        (query_title, r.query.as_str()),
        ("Paste-ready query (macros expanded: runs without the vendor's app)", paste_ready),
    ];
    for (title, text) in sections.iter().filter(|(_, t)| !t.trim().is_empty()) {
        outln!("\n{title}:\n{}", text.trim_end())?;
    }
    // A rule of several queries: each is run on its own, so each is printed on its own.
    let count = r.queries.len();
    for (n, query) in r.queries.iter().enumerate() {
        let language = query.language.map(|l| format!(", {}", l.label())).unwrap_or_default();
        outln!("\nQuery {} of {count}{language} (run on its own):\n{}", n + 1, query.text.trim_end())?;
    }
    Ok(())
}

/// "3 tests: Tor exit node matches (expected: match), Internal traffic (expected: no match)..."
fn tests_summary(d: &Detection) -> String {
    let tests = &d.rule.tests;
    let each: Vec<String> = tests
        .iter()
        .map(|t| format!("  {} (expected: {})", t.name, if t.expected { "match" } else { "no match" }))
        .collect();
    match tests.len() {
        0 => String::new(),
        n => format!("{}; `show --json` has their sample events\n{}", output::plural(n, "test"), each.join("\n")),
    }
}

fn joined<const N: usize>(parts: [Option<String>; N], separator: &str) -> String {
    parts.into_iter().flatten().collect::<Vec<_>>().join(separator)
}

/// "T1059.001 PowerShell · tagged "t1086" · tagged by the vendor · revoked, replaced by ..."
fn technique_line(m: &TechniqueMapping) -> String {
    let name = m.name.clone().unwrap_or_default();
    let note = match (m.status, m.tagged_id) {
        (MappingStatus::Revoked, Some(old)) => format!(" · tagged {old}, revoked and replaced by {}", m.id),
        (MappingStatus::Current, _) => String::new(),
        (status, _) => format!(" · {} in ATT&CK", status.as_str()),
    };
    format!("{} {name} · tagged {:?} · {}{note}", m.id, m.tagged, m.mapped_by.label())
}

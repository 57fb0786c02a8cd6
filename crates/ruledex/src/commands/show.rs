//! `ruledex show SOURCE/ID`

use anyhow::{Result, bail};
use ruledex_core::model::Detection;
use ruledex_store::Lookup;

use super::Env;
use crate::cli::ShowArgs;
use crate::exit;
use crate::output;

pub fn run(env: &Env, args: &ShowArgs) -> Result<u8> {
    let Some((source, id)) = args.address.split_once('/') else {
        bail!("{:?} is not an address; expected SOURCE/ID, like chronicle/gcti_tor_exit_nodes", args.address);
    };
    let store = env.open_store()?;
    match store.detection(source, id)? {
        Lookup::Found(detection) if args.output.json => output::json(&detection)?,
        Lookup::Found(detection) => print_detection(&detection, args.native),
        Lookup::Ambiguous(candidates) => {
            if args.output.json {
                output::json(&serde_json::json!({ "candidates": candidates }))?;
            } else {
                println!("{} names {} detections; show one of them:", args.address, candidates.len());
                for c in &candidates {
                    println!("  {}/{}  {}  ({})", c.source, c.id, c.title, c.path);
                }
            }
            return Ok(exit::FAILED);
        }
        Lookup::NotFound => {
            let known = store.sources()?.iter().any(|s| s.report.name == source);
            match known {
                true => bail!("no detection {id:?} in source {source:?}; `ruledex search` finds detections by words"),
                false => bail!("no source named {source:?}; `ruledex stats` lists the sources"),
            }
        }
    }
    Ok(exit::OK)
}

fn print_detection(d: &Detection, native: bool) {
    let r = &d.rule;
    println!("{}\n{}\n", r.title, d.address());
    let field = |name: &str, value: String| {
        if !value.is_empty() {
            println!("{name:<16}{value}");
        }
    };
    let opt = |v: Option<&str>| v.unwrap_or_default().to_string();
    field("vendor", format!("{} · {}", r.vendor, r.product));
    field("source", format!("{} ({})", d.source, d.source_kind.label()));
    field("language", r.language.map(|l| l.label().to_string()).unwrap_or_default());
    field(
        "type",
        [r.rule_type.map(|t| t.label().to_string()), r.rule_type_native.clone()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · "),
    );
    field(
        "severity",
        [r.severity.map(|s| s.as_str().to_string()), r.severity_native.clone()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · native: "),
    );
    field("risk score", r.risk_score.map(|s| s.to_string()).unwrap_or_default());
    field(
        "status",
        [r.status.map(|s| s.as_str().to_string()), r.status_native.clone()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · native: "),
    );
    for m in &d.techniques {
        let name = m.name.clone().unwrap_or_default();
        let note = match (m.status.as_str(), m.tagged_id) {
            ("revoked", Some(old)) => format!(" · tagged {old}, revoked and replaced by {}", m.id),
            ("current", _) => String::new(),
            (status, _) => format!(" · {status} in ATT&CK"),
        };
        field("technique", format!("{} {name} · tagged {:?} · {}{note}", m.id, m.tagged, m.mapped_by.label()));
    }
    field("tactics", d.tactics.iter().map(|t| format!("{} ({})", t.name, t.id)).collect::<Vec<_>>().join(", "));
    field("unresolved tags", d.unresolved_tags.join(", "));
    field("data sources", r.data_sources.join(", "));
    field("platforms", r.platforms.join(", "));
    field(
        "requires",
        r.requires.iter().map(|x| format!("{:?} {}", x.kind, x.name).to_lowercase()).collect::<Vec<_>>().join(", "),
    );
    field("author", opt(r.author.as_deref()));
    field("created", opt(r.created.as_deref()));
    field("updated", opt(r.updated.as_deref()));
    field("license", opt(d.effective_license.as_deref()));
    field("path", d.provenance.path.clone());
    field("commit", opt(d.provenance.commit.as_deref()));
    field("upstream", opt(d.provenance.upstream_url.as_deref()));
    field("tags", r.tags.join(", "));
    for reference in &r.references {
        field("reference", reference.clone());
    }
    for fp in &r.false_positives {
        field("false positive", fp.clone());
    }
    section("Description", &r.description);
    section("How to implement", r.implementation.as_deref().unwrap_or_default());
    section("Investigation", r.investigation.as_deref().unwrap_or_default());
    if native {
        section("Native rule", &r.native_rule);
    } else {
        section("Query", &r.query);
    }
}

fn section(title: &str, text: &str) {
    if !text.trim().is_empty() {
        println!("\n{title}:\n{}", text.trim_end());
    }
}

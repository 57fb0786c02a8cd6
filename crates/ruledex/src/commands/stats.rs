//! `ruledex stats`

use std::collections::BTreeMap;

use anyhow::Result;
use ruledex_core::attack::AttackCatalog;

use super::Env;
use crate::cli::JsonArg;
use crate::exit;
use crate::output;
use crate::output::outln;

pub fn run(env: &Env, args: &JsonArg) -> Result<u8> {
    let catalog = env.open_catalog()?;
    if args.json {
        output::json(&catalog.stats())?;
        return Ok(exit::OK);
    }
    let store = catalog.store();
    let (info, sources) = (store.info(), store.sources());
    let release = info.attack_version.clone().unwrap_or_else(|| "as loaded".into());
    outln!(
        "catalog {} · built {} · ATT&CK {} · {} detections",
        info.path.display(),
        info.built_at.as_deref().unwrap_or("?"),
        info.attack_version.as_deref().unwrap_or("(version not configured)"),
        info.detections
    )?;
    outln!(
        "\n{:<16} {:<10} {:>6} {:>6} {:>10} {:>8} {:>7} {:>10} {:>8} {:>10} {:>8}",
        "source",
        "kind",
        "files",
        "parsed",
        "detections",
        "failures",
        "mapped",
        "techniques",
        "revoked",
        "deprecated",
        "unknown"
    )?;
    for s in sources {
        let r = &s.report;
        outln!(
            "{:<16} {:<10} {:>6} {:>6} {:>10} {:>8} {:>7} {:>10} {:>8} {:>10} {:>8}",
            r.name,
            r.kind.as_str(),
            r.files,
            r.files_parsed,
            r.detections,
            r.failures.len(),
            r.attack.mapped_detections,
            r.attack.techniques,
            r.attack.revoked_tags,
            r.attack.deprecated_tags,
            r.attack.unknown_tags
        )?;
    }
    outln!(
        "\nmapped: detections with an ATT&CK technique; revoked/deprecated/unknown: tags naming a revoked, \
         deprecated or unknown technique, or nothing in ATT&CK"
    )?;
    for s in sources {
        let r = &s.report;
        let commit = r.commit.as_deref().unwrap_or("unknown commit");
        outln!("\n{} · {} · {} · synced {}", r.name, r.repository.as_deref().unwrap_or("local"), commit, s.synced_at)?;
        if let Some(error) = &s.error {
            outln!("  last sync could not read it: {error}")?;
        }
        for failure in &r.failures {
            outln!("  {}: {}", failure.path, failure.reason)?;
        }
        if !r.attack.unknown.is_empty() {
            outln!(
                "  tags naming nothing in ATT&CK {release}: {}",
                unknown_tags(catalog.store().attack(), &r.attack.unknown, &release)
            )?;
        }
    }
    Ok(exit::OK)
}

/// "stealth (1099, newer than ATT&CK 18.1), T1685 (12, newer than ATT&CK 18.1), TA003 (1)", most
/// used first.
fn unknown_tags(attack: &AttackCatalog, unknown: &BTreeMap<String, usize>, release: &str) -> String {
    let mut tags: Vec<(&String, &usize)> = unknown.iter().collect();
    tags.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    tags.iter()
        .map(|(tag, n)| match attack.is_newer_than_release(tag) {
            true => format!("{tag} ({n}, newer than ATT&CK {release})"),
            false => format!("{tag} ({n})"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

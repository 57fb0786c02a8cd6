//! `ruledex stats`

use anyhow::Result;
use ruledex_app::wire::SourceJson;

use super::Env;
use crate::cli::JsonArg;
use crate::exit;
use crate::output;
use crate::output::outln;

pub fn run(env: &Env, args: &JsonArg) -> Result<u8> {
    let catalog = env.open_catalog()?;
    let stats = catalog.stats();
    if args.json {
        output::json(&stats)?;
        return Ok(exit::OK);
    }
    let (info, sources) = (&stats.catalog, &stats.sources);
    let release = info.attack_version.clone().unwrap_or_else(|| "as loaded".into());
    outln!(
        "catalog {} · built {} · ATT&CK {} · {}",
        catalog.path().display(),
        info.built_at.as_deref().unwrap_or("?"),
        info.attack_version.as_deref().unwrap_or("(version not configured)"),
        output::plural(info.detections, "detection")
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
        outln!(
            "{:<16} {:<10} {:>6} {:>6} {:>10} {:>8} {:>7} {:>10} {:>8} {:>10} {:>8}",
            s.name,
            s.kind.as_str(),
            s.files,
            s.files_parsed,
            s.detections,
            s.failures.len(),
            s.attack.mapped_detections,
            s.attack.techniques,
            s.attack.revoked_tags,
            s.attack.deprecated_tags,
            s.attack.unknown_tags
        )?;
    }
    outln!(
        "\nmapped: detections with an ATT&CK technique; revoked/deprecated/unknown: tags naming a revoked, \
         deprecated or unknown technique, or nothing in ATT&CK"
    )?;
    for s in sources {
        let commit = s.commit.as_deref().unwrap_or("unknown commit");
        outln!("\n{} · {} · {} · synced {}", s.name, s.repository.as_deref().unwrap_or("local"), commit, s.synced_at)?;
        if let Some(error) = &s.error {
            outln!("  last sync could not read it: {error}")?;
        }
        for failure in &s.failures {
            outln!("  {}: {}", failure.path, failure.reason)?;
        }
        if !s.attack.unknown.is_empty() {
            outln!("  tags naming nothing in ATT&CK {release}: {}", unknown_tags(s, &release))?;
        }
    }
    Ok(exit::OK)
}

/// "stealth (1099, newer than ATT&CK 18.1), T1685 (12, newer than ATT&CK 18.1), TA003 (1)", most
/// used first.
fn unknown_tags(source: &SourceJson, release: &str) -> String {
    let mut tags: Vec<(&String, &usize)> = source.attack.unknown.iter().collect();
    tags.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    tags.iter()
        .map(|(tag, n)| match source.attack.newer_than_release.contains(tag) {
            true => format!("{tag} ({n}, newer than ATT&CK {release})"),
            false => format!("{tag} ({n})"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

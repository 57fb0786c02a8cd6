//! `ruledex technique T1090`

use anyhow::{Result, bail};
use ruledex_core::attack::Technique;
use ruledex_core::ids::TechniqueId;
use ruledex_core::model::Detection;
use ruledex_core::query::Filter;
use ruledex_store::{Listing, Store};
use serde::Serialize;

use super::Env;
use crate::cli::TechniqueArgs;
use crate::exit;
use crate::output;
use crate::output::outln;

#[derive(Serialize)]
struct TechniqueOutput<'a> {
    /// What the user asked for.
    requested: &'a str,
    /// The technique listed (the replacement, when a revoked ID was asked for).
    id: TechniqueId,
    technique: Option<&'a Technique>,
    /// Set when the requested ID was revoked.
    revoked: Option<TechniqueId>,
    attack_version: Option<String>,
    exact: bool,
    /// Detections listed for the technique before filtering.
    total: usize,
    shown: usize,
    /// More detections the filter leaves out because they are deprecated / community content.
    hidden_deprecated: usize,
    hidden_community: usize,
    facets: &'a ruledex_core::query::FacetCounts,
    detections: &'a [Detection],
}

pub fn run(env: &Env, args: &TechniqueArgs) -> Result<u8> {
    let store = env.open_store()?;
    let requested = resolve(&store, &args.technique)?;
    let (id, revoked) = match store.technique(requested)? {
        Some(Technique { revoked: true, revoked_by: Some(replacement), .. }) => (replacement, Some(requested)),
        _ => (requested, None),
    };
    let technique = store.technique(id)?;
    let filter = args.filter.to_filter(true);
    let listing = store.technique_detections(id, args.exact, &filter)?;
    if technique.is_none() && listing.total == 0 {
        bail!("{id} is not an ATT&CK technique, and no detection is tagged with it");
    }
    let info = store.info()?;
    if args.output.json {
        output::json(&TechniqueOutput {
            requested: &args.technique,
            id,
            technique: technique.as_ref(),
            revoked,
            attack_version: info.attack_version,
            exact: args.exact,
            total: listing.total,
            shown: listing.detections.len(),
            hidden_deprecated: listing.hidden_deprecated,
            hidden_community: listing.hidden_community,
            facets: &listing.facets,
            detections: &listing.detections,
        })?;
    } else {
        print_header(&store, id, technique.as_ref(), revoked, info.attack_version.as_deref(), &filter)?;
        print_listing(id, args.exact, &listing)?;
    }
    Ok(exit::OK)
}

/// A technique ID in any spelling, or a technique name ("Proxy", "Proxy: Multi-hop Proxy").
fn resolve(store: &Store, text: &str) -> Result<TechniqueId> {
    if let Ok(id) = text.parse() {
        return Ok(id);
    }
    let wanted = text.trim().to_lowercase();
    let techniques = store.techniques()?;
    let full_name = |t: &Technique| match techniques.iter().find(|p| t.id.is_subtechnique() && p.id == t.id.parent()) {
        Some(parent) => format!("{}: {}", parent.name, t.name).to_lowercase(),
        None => t.name.to_lowercase(),
    };
    let mut matches: Vec<&Technique> = techniques
        .iter()
        .filter(|t| !t.revoked && (full_name(t) == wanted || t.name.to_lowercase() == wanted))
        .collect();
    matches.dedup_by_key(|t| t.id);
    match matches.as_slice() {
        [one] => Ok(one.id),
        [] => bail!("{text:?} is neither a technique ID (like T1090 or T1090.003) nor an ATT&CK technique name"),
        many => {
            let names: Vec<String> = many.iter().map(|t| format!("{} ({})", t.id, full_name(t))).collect();
            bail!("{text:?} names several techniques: {}; give the ID", names.join(", "))
        }
    }
}

fn print_header(
    store: &Store,
    id: TechniqueId,
    technique: Option<&Technique>,
    revoked: Option<TechniqueId>,
    attack_version: Option<&str>,
    filter: &Filter,
) -> Result<()> {
    if let Some(old) = revoked {
        outln!("{old} was revoked in ATT&CK and replaced by {id}; showing {id}.\n")?;
    }
    let Some(t) = technique else {
        outln!("{id} (not in the loaded ATT&CK data; listed because detections are tagged with it)\n")?;
        return Ok(());
    };
    let version = attack_version.map(|v| format!(" · ATT&CK v{v}")).unwrap_or_default();
    let parent = match id.is_subtechnique() {
        true => store.technique(id.parent())?.map(|p| format!("{}: ", p.name)).unwrap_or_default(),
        false => String::new(),
    };
    outln!("{id} · {parent}{}{version}", t.name)?;
    let tactics = store.tactics()?;
    let tactic_names: Vec<String> = t
        .tactics
        .iter()
        .filter_map(|tid| tactics.iter().find(|x| x.id == *tid))
        .map(|x| format!("{} ({})", x.name, x.id))
        .collect();
    if !tactic_names.is_empty() {
        outln!("Tactics: {}", tactic_names.join(", "))?;
    }
    if t.deprecated {
        outln!("This technique is deprecated in ATT&CK.")?;
    }
    outln!("{}", t.url)?;
    if !id.is_subtechnique() {
        let subs = store.subtechniques(id)?;
        if !subs.is_empty() {
            let counts = store.technique_counts(filter)?;
            let listed: Vec<String> = subs
                .iter()
                .filter(|s| !s.revoked)
                .map(|s| format!("{} {} ({})", s.id, s.name, counts.get(&s.id).copied().unwrap_or(0)))
                .collect();
            outln!("Sub-techniques: {}", listed.join(" · "))?;
        }
    }
    outln!()?;
    Ok(())
}

fn print_listing(id: TechniqueId, exact: bool, listing: &Listing) -> std::io::Result<()> {
    let scope = match (exact, id.is_subtechnique()) {
        (false, false) => format!("for {id} and its sub-techniques (--exact for {id} only)"),
        _ => format!("tagged {id}"),
    };
    outln!("{} of {} detections shown, {scope}", listing.detections.len(), listing.total)?;
    if listing.hidden_community > 0 {
        outln!("+ {} community detections (Sigma, community KQL): --community to show them", listing.hidden_community)?;
    }
    if listing.hidden_deprecated > 0 {
        outln!("+ {} deprecated detections: --deprecated to show them", listing.hidden_deprecated)?;
    }
    let mut vendor = None;
    for d in &listing.detections {
        if vendor != Some(d.rule.vendor.as_str()) {
            vendor = Some(d.rule.vendor.as_str());
            let count = listing.detections.iter().filter(|x| x.rule.vendor == d.rule.vendor).count();
            outln!("\n{} ({count})", d.rule.vendor)?;
        }
        outln!("{}", output::detection_line(d, &d.rule.title))?;
    }
    Ok(())
}

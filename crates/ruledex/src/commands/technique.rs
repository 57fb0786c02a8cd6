//! `ruledex technique T1090`

use anyhow::{Result, bail};
use std::collections::HashMap;

use ruledex_core::attack::{Tactic, Technique, full_name};
use ruledex_core::ids::TechniqueId;
use ruledex_store::{Store, TechniquePage};
use serde::Serialize;

use super::Env;
use crate::cli::TechniqueArgs;
use crate::exit;
use crate::output;
use crate::output::outln;

#[derive(Serialize)]
struct TechniqueOutput<'a> {
    /// What the user typed.
    query: &'a str,
    attack_version: Option<String>,
    #[serde(flatten)]
    page: &'a TechniquePage,
}

pub fn run(env: &Env, args: &TechniqueArgs) -> Result<u8> {
    let store = env.open_store()?;
    let requested = resolve(&store, &args.technique)?;
    let filter = args.filter.to_filter(true);
    let Some(page) = store.technique_page(requested, args.exact, &filter)? else {
        bail!("{requested} is not an ATT&CK technique, and no detection is tagged with it");
    };
    let attack_version = store.info()?.attack_version;
    if args.output.json {
        output::json(&TechniqueOutput { query: &args.technique, attack_version, page: &page })?;
    } else {
        print_header(&page, &store.tactics()?, attack_version.as_deref())?;
        print_listing(&page)?;
    }
    Ok(exit::OK)
}

/// A technique ID in any spelling, or a technique name ("Proxy", "Proxy: Multi-hop Proxy").
fn resolve(store: &Store, text: &str) -> Result<TechniqueId> {
    if let Ok(id) = text.parse() {
        return Ok(id);
    }
    let wanted = text.trim().to_lowercase();
    let techniques: HashMap<TechniqueId, Technique> = store.techniques()?.into_iter().map(|t| (t.id, t)).collect();
    let name_of = |t: &Technique| full_name(t.id, |i| techniques.get(&i)).unwrap_or_default();
    let mut matches: Vec<&Technique> = techniques
        .values()
        .filter(|t| !t.revoked && (name_of(t).to_lowercase() == wanted || t.name.to_lowercase() == wanted))
        .collect();
    matches.sort_by_key(|t| t.id);
    match matches.as_slice() {
        [one] => Ok(one.id),
        [] => bail!("{text:?} is neither a technique ID (like T1090 or T1090.003) nor an ATT&CK technique name"),
        many => {
            let names: Vec<String> = many.iter().map(|t| format!("{} ({})", t.id, name_of(t))).collect();
            bail!("{text:?} names several techniques: {}; give the ID", names.join(", "))
        }
    }
}

fn print_header(page: &TechniquePage, tactics: &[Tactic], attack_version: Option<&str>) -> std::io::Result<()> {
    let id = page.id;
    if let Some(old) = page.revoked {
        outln!("{old} was revoked in ATT&CK and replaced by {id}; showing {id}.\n")?;
    }
    let Some(t) = &page.technique else {
        return outln!("{id} (not in the loaded ATT&CK data; listed because detections are tagged with it)\n");
    };
    let version = attack_version.map(|v| format!(" · ATT&CK v{v}")).unwrap_or_default();
    let parent = page.parent.as_ref().map(|p| format!("{}: ", p.name)).unwrap_or_default();
    outln!("{id} · {parent}{}{version}", t.name)?;
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
    if !page.subtechniques.is_empty() {
        let listed: Vec<String> =
            page.subtechniques.iter().map(|s| format!("{} {} ({})", s.id, s.name, s.count)).collect();
        outln!("Sub-techniques: {}", listed.join(" · "))?;
    }
    outln!()
}

fn print_listing(page: &TechniquePage) -> std::io::Result<()> {
    let (id, listing) = (page.id, &page.listing);
    let scope = match (page.exact, id.is_subtechnique()) {
        (false, false) => format!("for {id} and its sub-techniques (--exact for {id} only)"),
        _ => format!("tagged {id}"),
    };
    outln!("{} of {} detections shown, {scope}", page.shown, listing.total)?;
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

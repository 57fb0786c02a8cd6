//! `ruledex technique T1090`

use anyhow::Result;
use ruledex_app::Catalog;
use ruledex_app::wire::TechniquePageJson;
use ruledex_store::TechniquePage;

use super::Env;
use crate::cli::TechniqueArgs;
use crate::exit;
use crate::output;
use crate::output::outln;

pub fn run(env: &Env, args: &TechniqueArgs) -> Result<u8> {
    let catalog = env.open_catalog()?;
    let filter = args.filter.to_filter(true);
    let page = catalog.technique_page(&args.technique, args.exact, &filter)?;
    if args.output.json {
        output::json(&TechniquePageJson::new(&page, catalog.attack_version(), Some(args.technique.clone())))?;
    } else {
        print_header(&catalog, &page)?;
        print_listing(&page)?;
    }
    Ok(exit::OK)
}

fn print_header(catalog: &Catalog, page: &TechniquePage) -> std::io::Result<()> {
    let id = page.id;
    if let Some(old) = page.revoked {
        outln!("{old} was revoked in ATT&CK and replaced by {id}; showing {id}.\n")?;
    }
    let Some(t) = &page.technique else {
        return outln!("{id} (not in the loaded ATT&CK data; listed because detections are tagged with it)\n");
    };
    let version = catalog.attack_version().map(|v| format!(" · ATT&CK v{v}")).unwrap_or_default();
    let parent = page.parent.as_ref().map(|p| format!("{}: ", p.name)).unwrap_or_default();
    outln!("{id} · {parent}{}{version}", t.name)?;
    let attack = catalog.store().attack();
    let tactic_names: Vec<String> =
        t.tactics.iter().filter_map(|tid| attack.tactic(*tid)).map(|x| format!("{} ({})", x.name, x.id)).collect();
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
    outln!("{} of {} shown, {scope}", page.shown, output::plural(listing.total, "detection"))?;
    if listing.inferred > 0 {
        let inferred = output::plural(listing.inferred, "detection");
        outln!("  of which {inferred} only through ruledex's mapping of vendor labels, not tagged {id} by the vendor")?;
    }
    if listing.hidden_community > 0 {
        let hidden = output::plural(listing.hidden_community, "community detection");
        outln!("+ {hidden} (Sigma, community KQL): --community to show them")?;
    }
    if listing.hidden_deprecated > 0 {
        outln!("+ {}: --deprecated to show them", output::plural(listing.hidden_deprecated, "deprecated detection"))?;
    }
    let mut vendor = None;
    for d in &listing.detections {
        if vendor != Some(d.rule.vendor.as_str()) {
            vendor = Some(d.rule.vendor.as_str());
            let count = listing.detections.iter().filter(|x| x.rule.vendor == d.rule.vendor).count();
            outln!("\n{} ({count})", d.rule.vendor)?;
        }
        output::styled(&output::detection_line(d, &output::safe(&d.rule.title)))?;
    }
    Ok(())
}

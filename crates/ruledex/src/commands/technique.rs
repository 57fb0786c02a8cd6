//! `ruledex technique T1090`: a page of a technique's detections (`--all`: every page, one
//! after another, printed as each comes).

use anyhow::Result;
use ruledex_app::Catalog;
use ruledex_app::request::vocabulary::MAX_LIMIT;
use ruledex_app::request::{Page, TechniqueRequest};
use ruledex_app::wire::{DetectionJson, TechniquePageJson};

use super::{Env, following_pages};
use crate::cli::TechniqueArgs;
use crate::exit;
use crate::output;
use crate::output::outln;

pub fn run(env: &Env, args: &TechniqueArgs) -> Result<u8> {
    let mut request = TechniqueRequest::from_arguments(&args.given.arguments()?)?;
    let catalog = env.open_catalog()?;
    if args.all {
        request.page = Page::first(usize::try_from(MAX_LIMIT).unwrap_or(usize::MAX));
    }
    let first = catalog.technique(&request)?;
    let rest = pages(&catalog, &request, &first, args.all);
    if args.output.json {
        output::json_listing(&first, args.all, rest)?;
        return Ok(exit::OK);
    }
    print_header(&catalog, &first)?;
    print_counts(&first)?;
    let mut vendor = None;
    print_detections(&first, &first.detections, &mut vendor)?;
    for page in rest {
        print_detections(&first, &page?, &mut vendor)?;
    }
    if !args.all && first.more > 0 {
        let next = first.offset + first.detections.len();
        outln!("\nmore: --offset {next} (the next {}), or --all for every one", first.more.min(first.limit))?;
    }
    Ok(exit::OK)
}

/// The pages after `first`, when every one is asked for.
fn pages<'a>(
    catalog: &'a Catalog,
    request: &'a TechniqueRequest,
    first: &TechniquePageJson,
    all: bool,
) -> impl Iterator<Item = Result<Vec<DetectionJson>>> + 'a {
    let more = if all { first.more } else { 0 };
    following_pages(first.offset + first.detections.len(), more, move |offset| {
        let page = TechniqueRequest { page: Page { offset, ..request.page }, ..request.clone() };
        let page = catalog.technique(&page)?;
        Ok((page.detections, page.more))
    })
}

fn print_header(catalog: &Catalog, page: &TechniquePageJson) -> std::io::Result<()> {
    let id = page.id;
    if let Some(old) = page.revoked {
        outln!("{old} was revoked in ATT&CK and replaced by {id}; showing {id}.\n")?;
    }
    let Some(t) = &page.technique else {
        return outln!("{id} (not in the loaded ATT&CK data; listed because detections are tagged with it)\n");
    };
    let version = page.attack_version.as_ref().map(|v| format!(" · ATT&CK v{v}")).unwrap_or_default();
    let parent = page.parent.as_ref().map(|p| format!("{}: ", p.name)).unwrap_or_default();
    outln!("{id} · {parent}{}{version}", t.name)?;
    let tactics = catalog.tactics(t.domain);
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
    // ATT&CK's first paragraph, as plain text (its Markdown and citation markers left out).
    if let Some(lead) = ruledex_core::markdown::to_plain(&t.description).first() {
        outln!("{lead}")?;
    }
    outln!("{}", t.url)?;
    if !page.subtechniques.is_empty() {
        let listed: Vec<String> =
            page.subtechniques.iter().map(|s| format!("{} {} ({})", s.id, s.name, s.count)).collect();
        outln!("Sub-techniques: {}", listed.join(" · "))?;
    }
    outln!()
}

fn print_counts(page: &TechniquePageJson) -> std::io::Result<()> {
    let id = page.id;
    let scope = match (page.exact, id.is_subtechnique()) {
        (false, false) => format!("for {id} and its sub-techniques (--exact for {id} only)"),
        _ => format!("tagged {id}"),
    };
    outln!("{} of {} shown, {scope}", page.shown, output::plural(page.total, "detection"))?;
    if page.inferred > 0 {
        let inferred = output::plural(page.inferred, "detection");
        outln!("  of which {inferred} only through ruledex's mapping of vendor labels, not tagged {id} by the vendor")?;
    }
    let hidden = [
        (page.hidden_community, "community detection", " (Sigma, community KQL)", "--community"),
        (page.hidden_inferred, "detection", " listed only through ruledex's mapping of vendor labels", "--inferred"),
        (page.hidden_deprecated, "deprecated detection", "", "--deprecated"),
    ];
    for (count, noun, what, flag) in hidden.into_iter().filter(|(count, ..)| *count > 0) {
        outln!("+ {}{what}: {flag} to show them", output::plural(count, noun))?;
    }
    Ok(())
}

/// Detections under a heading per vendor, each saying how many of the vendor's are shown on
/// every page; `vendor` is the last heading printed, carried from page to page.
fn print_detections(
    page: &TechniquePageJson,
    detections: &[DetectionJson],
    vendor: &mut Option<String>,
) -> std::io::Result<()> {
    for d in detections {
        if vendor.as_deref() != Some(d.vendor.as_str()) {
            *vendor = Some(d.vendor.clone());
            let count = page.shown_facets.vendors.get(&d.vendor).copied().unwrap_or(0);
            outln!("\n{} ({count})", d.vendor)?;
        }
        output::styled(&output::detection_line(d, &output::safe(&d.title)))?;
    }
    Ok(())
}

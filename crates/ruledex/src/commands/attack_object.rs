//! `ruledex group APT29`, `ruledex campaign C0024`, `ruledex software "Cobalt Strike"`

use anyhow::Result;
use ruledex_app::coverage::ObjectRequest;
use ruledex_app::wire::AttackObjectPageJson;
use ruledex_core::ids::ObjectKind;

use super::Env;
use super::coverage::summary_line;
use crate::cli::AttackObjectArgs;
use crate::exit;
use crate::output::{self, outln};

pub fn run(env: &Env, kind: ObjectKind, args: &AttackObjectArgs) -> Result<u8> {
    let request = ObjectRequest::from_arguments(&args.given.arguments()?);
    let catalog = env.open_catalog()?;
    let page = catalog.attack_object_page(kind, &request)?;
    if args.output.json {
        output::json(&page)?;
    } else {
        print_page(&page)?;
    }
    Ok(exit::OK)
}

fn print_page(page: &AttackObjectPageJson) -> std::io::Result<()> {
    let Some(object) = page.group.as_ref().or(page.campaign.as_ref()).or(page.software.as_ref()) else {
        return Ok(());
    };
    outln!("{} · {} ({})", object.id, object.name, object.kind.label())?;
    if !object.aliases.is_empty() {
        outln!("Also known as: {}", object.aliases.join(", "))?;
    }
    outln!("{}", object.url)?;
    for block in ruledex_core::markdown::to_plain(&page.description) {
        outln!("\n{block}")?;
    }
    if let (Some(have), Some(summary)) = (&page.have, &page.summary) {
        outln!("For {}: {}", have.join(", "), summary_line(summary))?;
    }
    outln!("\n{} it uses:", output::plural(page.techniques.len(), "technique"))?;
    for technique in &page.techniques {
        let status = technique.status.map(|s| format!(" [{}]", s.as_str())).unwrap_or_default();
        let by_source: Vec<String> = technique.counts.iter().map(|(source, n)| format!("{source} {n}")).collect();
        let by_source = if by_source.is_empty() { String::new() } else { format!(" ({})", by_source.join(", ")) };
        outln!(
            "{:<10} {}: {}{by_source}{status}",
            technique.id.to_string(),
            technique.name,
            output::plural(technique.detections, "detection")
        )?;
    }
    if !page.uses_software.is_empty() {
        let names: Vec<String> = page.uses_software.iter().map(|s| format!("{} ({})", s.name, s.id)).collect();
        outln!("\nSoftware: {}", names.join(", "))?;
    }
    if !page.related.is_empty() {
        let names: Vec<String> = page.related.iter().map(|s| format!("{} ({})", s.name, s.id)).collect();
        outln!("Related: {}", names.join(", "))?;
    }
    Ok(())
}

//! `ruledex coverage --have splunk,sentinel [--layer [--out FILE]]`

use anyhow::Result;
use ruledex_app::coverage::CoverageRequest;
use ruledex_app::request::vocabulary::LAYER;
use ruledex_app::wire::{CoverageStatus, StackCoverageJson, StatusSummaryJson};

use super::Env;
use super::export::save;
use crate::cli::CoverageArgs;
use crate::exit;
use crate::output::{self, outln};

pub fn run(env: &Env, args: &CoverageArgs) -> Result<u8> {
    let given = args.given.arguments()?;
    let request = CoverageRequest::from_arguments(&given);
    let catalog = env.open_catalog()?;
    if given.flag(LAYER) {
        let layer = catalog.stack_layer(&request, Some(&args.links.base_url(&env.config)))?;
        save(&layer, args.out.as_deref())?;
        return Ok(exit::OK);
    }
    let coverage = catalog.stack_coverage(&request)?;
    if args.output.json {
        output::json(&coverage)?;
    } else {
        print_coverage(&coverage)?;
    }
    Ok(exit::OK)
}

fn print_coverage(coverage: &StackCoverageJson) -> std::io::Result<()> {
    let have = if coverage.have.is_empty() { "no sources".to_string() } else { coverage.have.join(", ") };
    let version = coverage.attack_version.as_deref().map(|v| format!(" v{v}")).unwrap_or_default();
    outln!("Coverage of ATT&CK{version} {} for {have}", coverage.domain.label())?;
    outln!("{}", summary_line(&coverage.summary))?;
    outln!()?;
    for tactic in &coverage.tactics {
        outln!("{:<24} {}", tactic.tactic.name, summary_line(&tactic.summary))?;
    }
    let gaps: Vec<_> = coverage.techniques.iter().filter(|t| t.status != CoverageStatus::Covered).collect();
    outln!("\nGaps ({}), with where content exists:", gaps.len())?;
    for gap in gaps {
        outln!("{:<10} {:<15} {}: {}", gap.id.to_string(), gap.status.as_str(), gap.name, gap.found())?;
    }
    Ok(())
}

/// "412 covered · 120 elsewhere · 30 community-only · 150 none (of 712)".
pub fn summary_line(summary: &StatusSummaryJson) -> String {
    let parts: Vec<String> =
        CoverageStatus::ALL.iter().map(|status| format!("{} {}", summary.get(*status), status.as_str())).collect();
    format!("{} (of {})", parts.join(" · "), summary.total())
}

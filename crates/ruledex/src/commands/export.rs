//! `ruledex export --format FORMAT [selection] [--out PATH]`

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use ruledex_app::export::{ExportFormat, Exported, Selection, archive};

use super::Env;
use crate::cli::ExportArgs;
use crate::exit;
use crate::output::safe;

pub fn run(env: &Env, args: &ExportArgs) -> Result<u8> {
    // Parsed here, not by clap: a format ruledex does not write is a failed export (status 1),
    // not a usage error.
    let format: ExportFormat = args.format.parse().map_err(anyhow::Error::msg)?;
    let catalog = env.open_catalog()?;
    let exported = catalog.export_linked(format, &selection(args), None, Some(&args.links.base_url(&env.config)))?;
    save(&exported, args.out.as_deref())?;
    for skipped in &exported.skipped {
        eprintln!("ruledex: skipped {}: {}", skipped.address, safe(&skipped.reason));
    }
    if !exported.skipped.is_empty() {
        eprintln!(
            "ruledex: {} detections of the selection are not {}; see above",
            exported.skipped.len(),
            exported.format
        );
    }
    Ok(exit::OK)
}

/// Writes an export to `out`, saying so, or its one file to standard output.
pub fn save(exported: &Exported, out: Option<&Path>) -> Result<()> {
    match out {
        Some(path) => {
            archive::write(exported, path)?;
            // A layer of counts (a stack's coverage) names no detection: it is named itself.
            let what = match exported.included.len() {
                0 => format!("{} ({})", exported.name, exported.format),
                n => format!("{n} detections as {}", exported.format),
            };
            eprintln!("ruledex: wrote {what} to {}", safe(&path.display().to_string()));
        }
        None => std::io::stdout().lock().write_all(&archive::only_file(exported)?.bytes)?,
    }
    Ok(())
}

/// One detection, a technique, a search, or every detection the filters keep.
fn selection(args: &ExportArgs) -> Selection {
    match (&args.detection, &args.technique, &args.query) {
        (Some(address), _, _) => Selection::Detection(address.clone()),
        (_, Some(technique), _) => Selection::Technique {
            technique: technique.clone(),
            exact: args.exact,
            filter: args.filter.to_filter(true),
        },
        (_, _, Some(text)) => Selection::Search { text: text.clone(), filter: args.filter.to_filter(false) },
        _ => Selection::Catalog { filter: args.filter.to_filter(false) },
    }
}

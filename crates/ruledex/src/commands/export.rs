//! `ruledex export --format FORMAT [selection] [--out PATH]`

use std::io::Write;

use anyhow::Result;
use ruledex_app::export::{ExportFormat, Selection, archive};

use super::Env;
use crate::cli::ExportArgs;
use crate::exit;
use crate::output::safe;

pub fn run(env: &Env, args: &ExportArgs) -> Result<u8> {
    // Parsed here, not by clap: a format ruledex does not write is a failed export (status 1),
    // not a usage error.
    let format: ExportFormat = args.format.parse().map_err(anyhow::Error::msg)?;
    let catalog = env.open_catalog()?;
    let exported = catalog.export_linked(format, &selection(args), None, Some(&args.base_url))?;
    match &args.out {
        Some(path) => {
            archive::write(&exported, path)?;
            eprintln!(
                "ruledex: wrote {} detections as {} to {}",
                exported.included.len(),
                exported.format,
                safe(&path.display().to_string())
            );
        }
        None => std::io::stdout().lock().write_all(&archive::only_file(&exported)?.bytes)?,
    }
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

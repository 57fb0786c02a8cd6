//! `ruledex export --format FORMAT [selection] [--out PATH]`

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use ruledex_app::export::{Exported, archive};
use ruledex_app::request::ExportRequest;

use super::Env;
use crate::cli::ExportArgs;
use crate::exit;
use crate::output::safe;

pub fn run(env: &Env, args: &ExportArgs) -> Result<u8> {
    let request = ExportRequest::from_arguments(&args.given.arguments()?)?;
    let catalog = env.open_catalog()?;
    let base_url = args.links.base_url(&env.config);
    let exported = catalog.export_linked(request.format, &request.selection, None, Some(&base_url))?;
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

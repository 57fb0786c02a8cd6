//! `export`: detections in a platform's format, the files' text in the answer.

use std::fmt::Write as _;

use ruledex_app::Catalog;
use ruledex_app::request::{Arguments, ExportRequest, vocabulary};
use ruledex_app::wire::ExportJson;
use ruledex_core::export::ExportFile;

use super::{Answer, Definition, ToolError, answer, tool};

pub const EXPORT: Definition = Definition {
    name: "export",
    read_only: true,
    operation: &vocabulary::EXPORT,
    tool: || {
        tool::<ExportJson>(
            "export",
            &vocabulary::EXPORT,
            "Export detections",
            "Writes detections in a platform's import format (a Splunk app, Kibana saved-objects NDJSON, \
             YARA-L files, a Sentinel ARM template or YAML, Sigma, Panther's upload folder) or as catalog rows \
             (JSON, CSV), and returns the files' text; multi-file formats (a Splunk app) come as a list of files \
             with their paths. Select one detection (`address`), a technique's detections (`technique`, as the \
             `technique` tool lists them), a search's matches (`query`), or with none of these every detection the \
             filters keep (vendor-native unless `community` or the filters name community content). Detections a \
             format cannot hold are listed in `skipped` with why. Nothing is written to disk. Example: \
             {\"format\": \"sentinel-arm\", \"technique\": \"T1090\", \"sources\": [\"sentinel\"]}.",
        )
    },
    run: export,
};

/// The most bytes of files one `export` call returns.
pub const MAX_EXPORT_BYTES: usize = 512 * 1024;
/// The most detections one export call renders: a larger selection is refused before any of it
/// is written, so a call's cost stays bounded whatever it asks for.
pub const MAX_EXPORT_DETECTIONS: usize = 500;

/// The bytes of `files` when one call may return them; else an error saying that `what` is too
/// large and how to ask for less (`narrower`).
pub(super) fn within_limit(files: &[ExportFile], what: &str, narrower: &str) -> Result<usize, ToolError> {
    let bytes: usize = files.iter().map(|f| f.bytes.len()).sum();
    if bytes > MAX_EXPORT_BYTES {
        return Err(ToolError(format!(
            "{what} is {bytes} bytes, more than the {MAX_EXPORT_BYTES} one call returns; {narrower}"
        )));
    }
    Ok(bytes)
}

fn export(catalog: &Catalog, args: &Arguments) -> Result<Answer, ToolError> {
    let request = ExportRequest::from_arguments(args)?;
    let exported = catalog.export(request.format, &request.selection, Some(MAX_EXPORT_DETECTIONS))?;
    let bytes = within_limit(
        &exported.files,
        &format!("the export of {} detections", exported.included.len()),
        "narrow the selection (sources, vendors, languages, a technique, `exact`)",
    )?;
    let json = ExportJson::from(&exported);
    let mut summary = format!(
        "{} export `{}`: {} detections in {} files ({bytes} bytes).\n",
        json.format,
        json.name,
        json.included.len(),
        json.files.len()
    );
    for file in &json.files {
        let _ = writeln!(summary, "- {} ({} bytes)", file.path, file.text.len());
    }
    if !json.skipped.is_empty() {
        let _ = writeln!(summary, "{} detections left out:", json.skipped.len());
        for s in json.skipped.iter().take(20) {
            let _ = writeln!(summary, "- {}: {}", s.address, s.reason);
        }
    }
    summary.push_str("The files' text is in the structured result (`files`).");
    answer(&json, summary)
}

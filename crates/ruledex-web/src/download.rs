//! `/api/v1/export`: detections in a platform's import format, or as JSON/CSV rows, as a file to
//! download. An export of several files comes as a `.zip` (or `.tar.gz` with `archive=tar.gz`);
//! a Splunk app comes as the `.tar.gz` Splunk installs. `/api/v1/coverage/stack/layer`: a
//! stack's coverage as a Navigator layer to download.
//!
//! Layers link to the server's pages at its configured public URL, never at the request's
//! `Host`, which the client chooses.

use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use ruledex_app::coverage::CoverageRequest;
use ruledex_app::export::{ExportFormat, Exported, archive};
use ruledex_app::request::ExportRequest;
use ruledex_app::request::vocabulary::{ARCHIVE, DOWNLOAD, STACK_COVERAGE};
use ruledex_core::export::PlatformFormat;

use crate::error::{ApiError, WebError};
use crate::params::arguments;
use crate::state::{AppState, Cost};

pub async fn export(State(state): State<AppState>, query: RawQuery) -> Result<Response, ApiError> {
    let args = arguments(&DOWNLOAD, &query, None)?;
    let request = ExportRequest::from_arguments(&args)?;
    let archive = args.text(ARCHIVE).filter(|_| args.has(ARCHIVE)).unwrap_or_default().to_string();
    let (max, max_bytes) = (state.limits().max_export_detections, state.limits().max_export_bytes);
    let base_url = state.public_url();
    let exported = state
        .run(Cost::Search, move |catalog| {
            Ok(catalog.export_linked(request.format, &request.selection, Some(max), base_url.as_deref())?)
        })
        .await?;
    let bytes: usize = exported.files.iter().map(|f| f.bytes.len()).sum();
    if bytes > max_bytes {
        return Err(WebError::bad_request(format!(
            "the export of {} detections is {bytes} bytes, more than the {max_bytes} a download here may have; \
             narrow the selection (filters) or use `ruledex export`",
            exported.included.len()
        ))
        .into());
    }
    Ok(download(exported, &archive)?)
}

/// The Navigator layer of a stack's coverage (the parameters of `/api/v1/coverage/stack`).
pub async fn stack_layer(State(state): State<AppState>, query: RawQuery) -> Result<Response, ApiError> {
    let request = CoverageRequest::from_arguments(&arguments(&STACK_COVERAGE, &query, None)?);
    let base_url = state.public_url();
    let layer =
        state.run(Cost::Ordinary, move |catalog| Ok(catalog.stack_layer(&request, base_url.as_deref())?)).await?;
    Ok(download(layer, "")?)
}

/// The export as one file to save: itself when it is one file, else an archive.
fn download(exported: Exported, archive: &str) -> Result<Response, WebError> {
    let tar = archive == "tar.gz"
        || (archive.is_empty() && exported.format == ExportFormat::Platform(PlatformFormat::SplunkApp));
    let (name, content_type, bytes) = match exported.files.as_slice() {
        [file] if exported.format != ExportFormat::Platform(PlatformFormat::SplunkApp) => (
            file.path.rsplit('/').next().unwrap_or("export").to_string(),
            content_type(exported.format),
            file.bytes.clone(),
        ),
        _ if tar => (format!("{}.tar.gz", exported.name), "application/gzip", packed(archive::tar_gz(&exported))?),
        _ => (format!("{}.zip", exported.name), "application/zip", packed(archive::zip(&exported))?),
    };
    let disposition = format!("attachment; filename=\"{}\"", header_safe(&name));
    Ok(([(header::CONTENT_TYPE, content_type.to_string()), (header::CONTENT_DISPOSITION, disposition)], bytes)
        .into_response())
}

fn packed(bytes: std::io::Result<Vec<u8>>) -> Result<Vec<u8>, WebError> {
    bytes.map_err(|e| WebError::internal(format!("cannot pack the export: {e}")))
}

fn content_type(format: ExportFormat) -> &'static str {
    match format {
        ExportFormat::Json | ExportFormat::Navigator | ExportFormat::Platform(PlatformFormat::SentinelArm) => {
            "application/json"
        }
        ExportFormat::Csv => "text/csv; charset=utf-8",
        ExportFormat::Platform(PlatformFormat::KibanaNdjson) => "application/x-ndjson",
        ExportFormat::Platform(_) => "text/plain; charset=utf-8",
    }
}

/// File names come from rule names: only characters safe inside a quoted header value.
fn header_safe(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect()
}

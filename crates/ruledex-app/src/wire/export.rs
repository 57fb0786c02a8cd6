//! Exports as JSON (the MCP `export` tool).

use schemars::JsonSchema;
use serde::Serialize;

/// An export in memory (the MCP `export` tool): its files as text, and what went into it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Export")]
pub struct ExportJson {
    /// The format written: a platform's import format, `json` or `csv`.
    pub format: String,
    /// A short name for the export, safe in file names.
    pub name: String,
    /// Whether the format is several files (a directory or an archive) rather than one.
    pub multi_file: bool,
    pub files: Vec<ExportFileJson>,
    /// Addresses of the detections written.
    pub included: Vec<String>,
    /// Detections of the selection the format cannot hold, and why.
    pub skipped: Vec<SkippedJson>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "ExportFile")]
pub struct ExportFileJson {
    /// The file's path inside the export.
    pub path: String,
    /// The file's contents (UTF-8; exports are text).
    pub text: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "SkippedDetection")]
pub struct SkippedJson {
    pub address: String,
    pub reason: String,
}

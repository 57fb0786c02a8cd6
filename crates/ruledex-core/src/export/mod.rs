//! Export writers: the mirror of the format adapters. Each platform format has one module that
//! turns detections back into what that platform imports (a Splunk app, Kibana's NDJSON, ARM
//! templates, `.yaral` files...), owning that format's quirks as `sources::<format>` owns the
//! quirks of reading it.
//!
//! Writers work in memory: they return the files of an export, and the application decides
//! whether they go to standard output, a directory or an archive.
//!
//! [`navigator`] is not a platform format: it draws a selection's ATT&CK coverage as an ATT&CK
//! Navigator layer.

pub mod navigator;

mod bundle;
mod kibana_ndjson;
mod panther;
mod sentinel_arm;
mod sentinel_yaml;
mod sigma;
pub mod splunk_app;
mod yaral;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ingest::Asset;
use crate::model::{Detection, Format};

/// The platform formats ruledex exports to. (`json` and `csv` of catalog rows are written by
/// the application, from its wire types.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlatformFormat {
    /// A Splunk app: savedsearches.conf, macros.conf, lookups.
    SplunkApp,
    /// Kibana's rule import: one rule object per line.
    KibanaNdjson,
    /// Google SecOps: one `.yaral` file per rule.
    Yaral,
    /// Microsoft Sentinel: an ARM template deploying analytic rules.
    SentinelArm,
    /// Microsoft Sentinel: the analytic rule YAML as upstream ships it.
    SentinelYaml,
    /// Sigma rules as YAML.
    Sigma,
    /// Panther analysis items: rules' YAML and Python, saved queries, global helpers.
    Panther,
}

impl PlatformFormat {
    pub const ALL: &'static [PlatformFormat] = &[
        PlatformFormat::SplunkApp,
        PlatformFormat::KibanaNdjson,
        PlatformFormat::Yaral,
        PlatformFormat::SentinelArm,
        PlatformFormat::SentinelYaml,
        PlatformFormat::Sigma,
        PlatformFormat::Panther,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PlatformFormat::SplunkApp => "splunk-app",
            PlatformFormat::KibanaNdjson => "kibana-ndjson",
            PlatformFormat::Yaral => "yaral",
            PlatformFormat::SentinelArm => "sentinel-arm",
            PlatformFormat::SentinelYaml => "sentinel-yaml",
            PlatformFormat::Sigma => "sigma",
            PlatformFormat::Panther => "panther",
        }
    }

    /// The platform formats detections read from `format` export to.
    pub fn for_source(format: Format) -> Vec<PlatformFormat> {
        match format {
            Format::SplunkEscu => vec![PlatformFormat::SplunkApp],
            Format::Elastic => vec![PlatformFormat::KibanaNdjson],
            Format::Chronicle => vec![PlatformFormat::Yaral],
            Format::Sentinel => vec![PlatformFormat::SentinelArm, PlatformFormat::SentinelYaml],
            Format::Sigma => vec![PlatformFormat::Sigma],
            Format::Panther => vec![PlatformFormat::Panther],
            // Elastic Defend's behavior rules ship inside the agent's artifacts: nothing imports them.
            Format::Sublime | Format::KqlMarkdown | Format::ElasticEndpoint => vec![],
        }
    }

    /// The writer for this format.
    pub fn writer(self) -> &'static dyn Writer {
        match self {
            PlatformFormat::SplunkApp => &splunk_app::SplunkApp,
            PlatformFormat::KibanaNdjson => &kibana_ndjson::KibanaNdjson,
            PlatformFormat::Yaral => &yaral::Yaral,
            PlatformFormat::SentinelArm => &sentinel_arm::SentinelArm,
            PlatformFormat::SentinelYaml => &sentinel_yaml::SentinelYaml,
            PlatformFormat::Sigma => &sigma::Sigma,
            PlatformFormat::Panther => &panther::Panther,
        }
    }
}

impl fmt::Display for PlatformFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PlatformFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PlatformFormat::ALL.iter().copied().find(|f| f.as_str() == s).ok_or_else(|| {
            let known: Vec<_> = PlatformFormat::ALL.iter().map(|f| f.as_str()).collect();
            format!("unknown export format {s:?} (expected one of: {})", known.join(", "))
        })
    }
}

/// What a writer needs besides the detections.
#[derive(Debug, Clone, Default)]
pub struct ExportContext {
    /// A short name for the selection, safe in file names ("T1090", "search-tor"); writers
    /// name bundles after it (the Splunk app's folder, say).
    pub name: String,
    /// A sentence describing the selection, for descriptions and READMEs.
    pub description: String,
    /// Each source's assets (lookup tables, macro definitions...), by source name.
    pub assets: BTreeMap<String, Vec<Asset>>,
    /// The ATT&CK release the catalog was built from ("18.1"), when known.
    pub attack_version: Option<String>,
}

/// One file of an export, at a relative `/`-separated path inside the bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// A detection a writer left out, and why ("not an Elastic rule", "hunting queries are not
/// Kibana rules").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub address: String,
    pub reason: String,
}

/// The files of an export and what went into it.
#[derive(Debug, Clone, Default)]
pub struct Export {
    pub files: Vec<ExportFile>,
    /// Addresses of the detections written.
    pub included: Vec<String>,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// No detection of the selection can be written in this format.
    #[error("none of the {selected} selected detections can be exported as {format}{}", first_reason(.skipped))]
    Nothing { format: PlatformFormat, selected: usize, skipped: Vec<Skipped> },
    /// A detection's native rule could not be read back (it was stored by an older ruledex,
    /// say); the message names it.
    #[error("{address}: {message}")]
    Rule { address: String, message: String },
}

fn first_reason(skipped: &[Skipped]) -> String {
    skipped.first().map(|s| format!(" ({}: {})", s.address, s.reason)).unwrap_or_default()
}

/// One platform format's writer.
pub trait Writer: Sync {
    fn format(&self) -> PlatformFormat;

    /// Whether the format holds several files (a directory or an archive) or exactly one.
    fn multi_file(&self) -> bool;

    /// `Ok` when the detection can be written in this format, else why not (shown to users).
    fn accepts(&self, detection: &Detection) -> Result<(), String>;

    /// Writes the detections this format accepts; the others are listed as skipped. Fails
    /// with [`ExportError::Nothing`] when none is accepted.
    fn write(&self, detections: &[&Detection], context: &ExportContext) -> Result<Export, ExportError>;
}

/// Splits a selection into what `writer` accepts and what it skips, and refuses an export with
/// nothing in it.
pub fn accepted<'d>(
    writer: &dyn Writer,
    detections: &[&'d Detection],
) -> Result<(Vec<&'d Detection>, Vec<Skipped>), ExportError> {
    let mut accepted = Vec::new();
    let mut skipped = Vec::new();
    for detection in detections {
        match writer.accepts(detection) {
            Ok(()) => accepted.push(*detection),
            Err(reason) => skipped.push(Skipped { address: detection.address(), reason }),
        }
    }
    if accepted.is_empty() {
        return Err(ExportError::Nothing { format: writer.format(), selected: detections.len(), skipped });
    }
    Ok((accepted, skipped))
}

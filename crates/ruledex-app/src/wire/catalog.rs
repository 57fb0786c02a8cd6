//! The catalog and its sources as JSON.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ruledex_core::attack::AttackCatalog;
use ruledex_core::model::{Format, SourceKind};
use ruledex_store::{CatalogInfo, SourceStatus};
use schemars::JsonSchema;
use serde::Serialize;

/// About the catalog file.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "CatalogInfo")]
pub struct CatalogJson {
    /// Where the catalog file is: on the command line only, never to anonymous clients.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    pub built_at: Option<String>,
    pub attack_version: Option<String>,
    pub ruledex_version: Option<String>,
    pub detections: usize,
}

impl From<&CatalogInfo> for CatalogJson {
    fn from(i: &CatalogInfo) -> CatalogJson {
        CatalogJson {
            path: Some(i.path.clone()),
            built_at: i.built_at.clone(),
            attack_version: i.attack_version.clone(),
            ruledex_version: i.ruledex_version.clone(),
            detections: i.detections,
        }
    }
}

/// A source as the last sync left it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "SourceStatus")]
pub struct SourceJson {
    /// The configured name: what requests name the source by (`source`, `have`).
    pub name: String,
    /// The name pages show: the vendor, with the configured name after it when another
    /// source has the same vendor ("Splunk (splunk-fork)").
    pub title: String,
    /// Who ships its rules, as detections and the `vendor` filter name them.
    pub vendor: String,
    /// The product its queries run in.
    pub product: String,
    pub format: Format,
    pub kind: SourceKind,
    pub repository: Option<String>,
    pub commit: Option<String>,
    pub license: Option<String>,
    /// Rule files found.
    pub files: usize,
    /// Files read without any error.
    pub files_parsed: usize,
    pub detections: usize,
    /// Files (or rules in them) that could not be read, and why.
    pub failures: Vec<FailureJson>,
    pub attack: AttackCoverageJson,
    /// Milliseconds the last read took.
    pub parse_time: u64,
    pub synced_at: String,
    /// Why the last sync could not read the source (its detections are from `synced_at`).
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Failure")]
pub struct FailureJson {
    pub path: String,
    pub reason: String,
}

/// How a source's ATT&CK tags resolved.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "AttackCoverage")]
pub struct AttackCoverageJson {
    pub mapped_detections: usize,
    pub techniques: usize,
    pub revoked_tags: usize,
    pub deprecated_tags: usize,
    pub unknown_tags: usize,
    /// Each tag that names nothing in the loaded ATT&CK, with how many times the source uses it
    /// (newer releases' IDs and tactic words, typos).
    pub unknown: BTreeMap<String, usize>,
    /// Of `unknown`, the tags newer than the loaded ATT&CK release (a later release's
    /// technique IDs and tactic words, like Sigma's `stealth`), most used first.
    pub newer_than_release: Vec<String>,
    /// References to MITRE ATLAS (kept apart from ATT&CK).
    pub atlas_refs: usize,
}

impl SourceJson {
    /// A source as the last sync left it, its unknown tags checked against `attack`.
    pub(crate) fn new(s: &SourceStatus, attack: &AttackCatalog) -> SourceJson {
        let r = &s.report;
        SourceJson {
            name: r.name.clone(),
            title: r.format.vendor().into(),
            vendor: r.format.vendor().into(),
            product: r.format.product().into(),
            format: r.format,
            kind: r.kind,
            repository: r.repository.clone(),
            commit: r.commit.clone(),
            license: r.license.clone(),
            files: r.files,
            files_parsed: r.files_parsed,
            detections: r.detections,
            failures: r
                .failures
                .iter()
                .map(|f| FailureJson { path: f.path.clone(), reason: f.reason.clone() })
                .collect(),
            attack: AttackCoverageJson {
                mapped_detections: r.attack.mapped_detections,
                techniques: r.attack.techniques,
                revoked_tags: r.attack.revoked_tags,
                deprecated_tags: r.attack.deprecated_tags,
                unknown_tags: r.attack.unknown_tags,
                unknown: r.attack.unknown.clone(),
                newer_than_release: newer_than_release(&r.attack.unknown, attack),
                atlas_refs: r.attack.atlas_refs,
            },
            parse_time: u64::try_from(r.parse_time.as_millis()).unwrap_or(u64::MAX),
            synced_at: s.synced_at.clone(),
            error: s.error.clone(),
        }
    }
}

/// The catalog and its sources (`stats --json`, `/api/v1/stats`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Stats")]
pub struct StatsJson {
    pub catalog: CatalogJson,
    pub sources: Vec<SourceJson>,
}

impl StatsJson {
    /// These stats as anyone reaching a server may see them: without the catalog's place on
    /// the server's disk.
    pub fn published(mut self) -> StatsJson {
        self.catalog.path = None;
        self
    }
}

/// The tags of `unknown` newer than `attack`'s release, most used first.
fn newer_than_release(unknown: &BTreeMap<String, usize>, attack: &AttackCatalog) -> Vec<String> {
    let mut newer: Vec<(&String, &usize)> =
        unknown.iter().filter(|(tag, _)| attack.is_newer_than_release(tag)).collect();
    newer.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    newer.into_iter().map(|(tag, _)| tag.clone()).collect()
}

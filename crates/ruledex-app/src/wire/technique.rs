//! ATT&CK techniques and tactics as JSON, and a technique's listing.

use std::collections::BTreeMap;

use ruledex_core::attack::{Domain, Tactic, Technique};
use ruledex_core::ids::{TacticId, TechniqueId};
use ruledex_core::query::FacetCounts;
use schemars::JsonSchema;
use serde::Serialize;

use super::DetectionJson;

/// An ATT&CK technique.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Technique")]
pub struct TechniqueJson {
    pub id: TechniqueId,
    pub name: String,
    pub description: String,
    pub domain: Domain,
    /// Tactics in matrix order.
    pub tactics: Vec<TacticId>,
    pub platforms: Vec<String>,
    /// ATT&CK data components that detect it.
    pub data_components: Vec<String>,
    pub url: String,
    pub revoked: bool,
    pub revoked_by: Option<TechniqueId>,
    pub deprecated: bool,
    /// For a deprecated technique: those its ATT&CK note says to use instead.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub successors: Vec<TechniqueId>,
}

impl From<&Technique> for TechniqueJson {
    fn from(t: &Technique) -> TechniqueJson {
        TechniqueJson {
            id: t.id,
            name: t.name.clone(),
            description: t.description.clone(),
            domain: t.domain,
            tactics: t.tactics.clone(),
            platforms: t.platforms.clone(),
            data_components: t.data_components.clone(),
            url: t.url.clone(),
            revoked: t.revoked,
            revoked_by: t.revoked_by,
            deprecated: t.deprecated,
            successors: t.successors.clone(),
        }
    }
}

/// An ATT&CK tactic.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Tactic")]
pub struct TacticJson {
    pub id: TacticId,
    pub name: String,
    /// The STIX kill-chain phase name, e.g. `command-and-control`.
    pub shortname: String,
    pub description: String,
    pub domain: Domain,
    pub url: String,
}

impl From<&Tactic> for TacticJson {
    fn from(t: &Tactic) -> TacticJson {
        TacticJson {
            id: t.id,
            name: t.name.clone(),
            shortname: t.shortname.clone(),
            description: t.description.clone(),
            domain: t.domain,
            url: t.url.clone(),
        }
    }
}

/// How many detections have each value, for filter controls.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "FacetCounts")]
pub struct FacetsJson {
    pub sources: BTreeMap<String, usize>,
    pub vendors: BTreeMap<String, usize>,
    pub kinds: BTreeMap<String, usize>,
    pub languages: BTreeMap<String, usize>,
    pub rule_types: BTreeMap<String, usize>,
    pub severities: BTreeMap<String, usize>,
    pub statuses: BTreeMap<String, usize>,
    pub data_sources: BTreeMap<String, usize>,
    /// Deprecated detections.
    pub deprecated: usize,
}

impl From<&FacetCounts> for FacetsJson {
    fn from(f: &FacetCounts) -> FacetsJson {
        FacetsJson {
            sources: f.sources.clone(),
            vendors: f.vendors.clone(),
            kinds: f.kinds.clone(),
            languages: f.languages.clone(),
            rule_types: f.rule_types.clone(),
            severities: f.severities.clone(),
            statuses: f.statuses.clone(),
            data_sources: f.data_sources.clone(),
            deprecated: f.deprecated,
        }
    }
}

/// A technique with its sub-techniques and a page of its detections (`technique --json`,
/// `/api/v1/techniques/{technique}`, the `technique` tool, the technique page), with the counts
/// filter controls show.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "TechniquePage")]
pub struct TechniquePageJson {
    /// What was asked for, as typed (the CLI's argument, the tool's `technique`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The ATT&CK release the catalog was built from.
    pub attack_version: Option<String>,
    /// The ID asked for.
    pub requested: TechniqueId,
    /// The technique shown: the replacement when `requested` was revoked.
    pub id: TechniqueId,
    /// Set when `requested` was revoked in ATT&CK.
    pub revoked: Option<TechniqueId>,
    /// Null for IDs ATT&CK lacks that detections are tagged with.
    pub technique: Option<TechniqueJson>,
    pub parent: Option<TechniqueJson>,
    /// With the detections each lists that pass the filters.
    pub subtechniques: Vec<SubtechniqueJson>,
    /// Only detections tagged with the technique itself.
    pub exact: bool,
    /// Detections passing the filters, on every page.
    pub shown: usize,
    /// Of `shown`, those listed only through ruledex's own mapping of vendor labels (Sublime's
    /// attack types and tactics), not tagged with the technique by their vendor (only with
    /// `inferred`): counted apart so that mapped content never passes for the vendor's own.
    pub inferred: usize,
    /// Detections listed for the technique (with its sub-techniques unless `exact`), before
    /// the filters.
    pub total: usize,
    /// The live detections listed, by how they are listed, before the filters: the headline.
    pub counts: FamilyCountsJson,
    /// Counts over the technique's whole family (its sub-techniques included), before the
    /// filters: every value a filter can take here.
    pub facets: FacetsJson,
    /// For each value of the filters: how many detections choosing it alone in its group would
    /// show, the other filters unchanged (sources, kinds and deprecated: counted plainly). While
    /// community content is left out, only values vendor-native detections have are offered.
    pub choices: FacetsJson,
    /// Counts over the detections passing the filters (on every page).
    pub shown_facets: FacetsJson,
    /// How many more with deprecated detections included.
    pub hidden_deprecated: usize,
    /// How many more with community content included.
    pub hidden_community: usize,
    /// How many more with the detections listed only through ruledex's mapping included.
    pub hidden_inferred: usize,
    /// Where `detections` starts among the `shown`.
    pub offset: usize,
    /// The most detections this page lists.
    pub limit: usize,
    /// How many shown detections come after this page.
    pub more: usize,
    /// The page's detections, in display order (by source, then severity, then title).
    pub detections: Vec<DetectionJson>,
}

/// How the detections of a technique are listed, live ones only but for `deprecated`.
#[derive(Debug, Clone, Copy, Default, Serialize, JsonSchema)]
#[schemars(rename = "FamilyCounts")]
pub struct FamilyCountsJson {
    /// Vendor-native detections their vendor tagged with the technique.
    pub vendor_native: usize,
    /// Vendor-native detections listed only through ruledex's mapping of the vendor's labels.
    pub inferred: usize,
    /// Community detections (Sigma, community KQL).
    pub community: usize,
    /// Deprecated detections, of any kind.
    pub deprecated: usize,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "SubtechniqueCount")]
pub struct SubtechniqueJson {
    pub id: TechniqueId,
    pub name: String,
    /// Detections passing the filter.
    pub count: usize,
}

/// A technique offered for what was typed (`/api/v1/techniques?q=`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "TechniqueSuggestion")]
pub struct TechniqueSuggestionJson {
    pub id: TechniqueId,
    /// "Parent: Sub" for sub-techniques.
    pub name: String,
    /// Detections for the technique and its sub-techniques (vendor-native unless asked).
    pub detections: usize,
}

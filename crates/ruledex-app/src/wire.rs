//! The JSON ruledex answers with: one set of types for the CLI's `--json`, the `/api/v1`
//! endpoints and the MCP tools' structured output. The OpenAPI document and the MCP output
//! schemas are generated from these types ([`crate::openapi`]), so what is documented is what is
//! sent.
//!
//! These types are owned for this purpose: the model and the store's records may change without
//! changing the JSON, and a change here is a change to ruledex's public interface.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ruledex_core::attack::{Domain, Tactic, Technique};
use ruledex_core::ids::{TacticId, TechniqueId};
use ruledex_core::model::{
    ChangeKind, ChangedField, DependencyKind, Detection, Format, Language, MappedBy, MappingStatus, MappingVia,
    RuleType, Severity, SourceKind, Status,
};
use ruledex_core::query::FacetCounts;
use ruledex_core::url::encode_component;
use ruledex_store::{Candidate, CatalogInfo, Hit, RecordedAttackUpdate, RecordedChange, SourceStatus, TechniquePage};
use schemars::JsonSchema;
use serde::Serialize;

mod coverage;
pub use coverage::{
    AttackObjectJson, AttackObjectPageJson, CoverageStatus, StackCoverageJson, StackTechniqueJson, StatusSummaryJson,
    TacticCoverageJson, UsedTechniqueJson,
};

/// One detection. Listings leave out the native rule file (`native_rule` absent) and carry
/// `implementation` and `investigation` as null; `show` has them all.
/// One query of a detection, to paste and run on its own.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct QueryJson {
    pub language: Option<Language>,
    pub query: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Detection")]
pub struct DetectionJson {
    /// The configured source (`SOURCE` in the address `SOURCE/ID`).
    pub source: String,
    pub source_kind: SourceKind,
    /// The native format the rule was read from.
    pub format: Format,
    /// Unique within the source: the vendor's ID, made unique where upstream repeats it.
    pub id: String,
    /// The vendor's own identifier.
    pub native_id: String,
    pub title: String,
    pub description: String,
    pub vendor: String,
    pub product: String,
    pub language: Option<Language>,
    /// The query exactly as the vendor ships it.
    pub query: String,
    /// The query ready to paste where the vendor's app is not installed (Splunk macros
    /// expanded); equal to `query` where nothing needed expanding. For a rule of several
    /// queries, the first of `queries`.
    pub paste_ready_query: String,
    /// Each query to paste and run on its own, in its language: one for most rules (the
    /// paste-ready query), several for a rule that ships several (Elastic hunts).
    pub queries: Vec<QueryJson>,
    /// Macros the paste-ready query still calls: no definition was found for them.
    pub unresolved_macros: Vec<String>,
    /// Lookup tables the query needs.
    pub lookups: Vec<String>,
    /// The whole native rule file (only for a single detection).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub native_rule: Option<String>,
    pub rule_type: Option<RuleType>,
    pub rule_type_native: Option<String>,
    pub severity: Option<Severity>,
    pub severity_native: Option<String>,
    pub risk_score: Option<f64>,
    pub status: Option<Status>,
    pub status_native: Option<String>,
    /// Every ATT&CK reference exactly as the vendor tagged it.
    pub attack_tags: Vec<String>,
    /// ATT&CK references ruledex inferred from vendor labels that are not ATT&CK.
    pub inferred_attack_tags: Vec<String>,
    pub data_sources: Vec<String>,
    pub platforms: Vec<String>,
    pub author: Option<String>,
    /// ISO date (YYYY-MM-DD).
    pub created: Option<String>,
    pub updated: Option<String>,
    pub references: Vec<String>,
    pub false_positives: Vec<String>,
    /// A license the rule declares itself.
    pub license: Option<String>,
    pub tags: Vec<String>,
    /// Macros, lookups and lists the query needs.
    pub requires: Vec<DependencyJson>,
    pub implementation: Option<String>,
    pub investigation: Option<String>,
    /// The tests the rule ships (Panther): sample events and the expected result. Listings
    /// carry each test's name and expectation; a single detection has the inputs too.
    pub tests: Vec<RuleTestJson>,
    /// The rule's own version, as the vendor numbers it.
    pub version: Option<String>,
    /// For a rule that runs on the host (type `endpoint`): the oldest version of the vendor's
    /// agent that runs it.
    pub min_agent_version: Option<String>,
    /// What a rule that runs on the host does when it matches (Elastic Defend: `kill_process`,
    /// `rollback`), and on what.
    pub response_actions: Vec<ResponseActionJson>,
    /// Path of the rule file in its source.
    pub path: String,
    pub deprecated: bool,
    pub techniques: Vec<MappingJson>,
    pub tactics: Vec<TacticRefJson>,
    /// ATT&CK tags that name nothing in ATT&CK.
    pub unresolved_tags: Vec<String>,
    /// CVEs the rule is about (named in its title, tags or references), like `CVE-2021-44228`.
    pub cves: Vec<String>,
    /// MITRE ATLAS techniques and tactics the rule names (attacks on AI systems; never counted
    /// as ATT&CK). Absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub atlas: Vec<AtlasRefJson>,
    pub provenance: ProvenanceJson,
    /// The license that applies: the rule's own, else the source's.
    pub effective_license: Option<String>,
    /// The ATT&CK release the catalog was built from, which the mappings refer to: on a single
    /// detection (`show --json`, `/api/v1/detections/...`), absent from listings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attack_version: Option<String>,
}

/// A test a rule ships: an input and whether the rule must match it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "RuleTest")]
pub struct RuleTestJson {
    pub name: String,
    /// Whether the rule must match the input.
    pub expected: bool,
    /// The input's log type, for rules that read several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_type: Option<String>,
    /// The sample event as JSON text (only for a single detection).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// Functions or globals the test replaces, with the value each returns.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub mocks: BTreeMap<String, serde_json::Value>,
}

/// A response a rule takes on the host when it matches.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "ResponseAction")]
pub struct ResponseActionJson {
    /// The vendor's name for it: `kill_process`, `rollback`.
    pub action: String,
    /// The event field naming what it acts on: `process.entity_id`, `process.parent.entity_id`.
    pub field: String,
    /// In a sequence, which of its events holds that field (0: the first).
    pub event: u32,
    /// It acts on the whole process tree.
    pub tree: bool,
    /// It runs only where the user's policy turns it on.
    pub optional: bool,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Dependency")]
pub struct DependencyJson {
    pub kind: DependencyKind,
    pub name: String,
}

/// A technique a detection is listed under.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "TechniqueMapping")]
pub struct MappingJson {
    /// The technique (the replacement, for a revoked tag).
    pub id: TechniqueId,
    pub name: Option<String>,
    /// The tag as the source wrote it.
    pub tagged: String,
    /// The ID the tag named, when it differs from `id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tagged_id: Option<TechniqueId>,
    pub status: MappingStatus,
    pub mapped_by: MappedBy,
    /// `reference` when read from a link among the rule's references, not from its ATT&CK tags
    /// (absent for tags).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<MappingVia>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "TacticRef")]
pub struct TacticRefJson {
    /// The tactic (a successor, for a revoked or split tactic).
    pub id: TacticId,
    pub name: String,
    /// The tactic the tag named, when it differs from `id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tagged_id: Option<TacticId>,
    /// Absent when current.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<MappingStatus>,
}

/// A MITRE ATLAS technique or tactic.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "AtlasRef")]
pub struct AtlasRefJson {
    /// `AML.T0051.000`, `AML.TA0002`.
    pub id: String,
    /// Its page on atlas.mitre.org.
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<MappingVia>,
}

/// Where a detection came from.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Provenance")]
pub struct ProvenanceJson {
    pub path: String,
    pub repository: Option<String>,
    pub commit: Option<String>,
    /// The file at its commit, where the host's URL scheme is known.
    pub upstream_url: Option<String>,
}

impl From<&Detection> for DetectionJson {
    fn from(d: &Detection) -> DetectionJson {
        let r = &d.rule;
        let queries: Vec<QueryJson> =
            r.runnable_queries().into_iter().map(|q| QueryJson { language: q.language, query: q.text }).collect();
        DetectionJson {
            source: d.source.clone(),
            source_kind: d.source_kind,
            format: d.format,
            id: d.id.clone(),
            native_id: r.native_id.clone(),
            title: r.title.clone(),
            description: r.description.clone(),
            vendor: r.vendor.clone(),
            product: r.product.clone(),
            language: r.language,
            query: r.query.clone(),
            paste_ready_query: queries.first().map(|q| q.query.clone()).unwrap_or_default(),
            queries,
            unresolved_macros: r.unresolved_macros.clone(),
            lookups: r.requires.iter().filter(|x| x.kind == DependencyKind::Lookup).map(|x| x.name.clone()).collect(),
            native_rule: Some(r.native_rule.clone()).filter(|n| !n.is_empty()),
            rule_type: r.rule_type,
            rule_type_native: r.rule_type_native.clone(),
            severity: r.severity,
            severity_native: r.severity_native.clone(),
            risk_score: r.risk_score,
            status: r.status,
            status_native: r.status_native.clone(),
            attack_tags: r.attack_tags.clone(),
            inferred_attack_tags: r.inferred_attack_tags.clone(),
            data_sources: r.data_sources.clone(),
            platforms: r.platforms.clone(),
            author: r.author.clone(),
            created: r.created.clone(),
            updated: r.updated.clone(),
            references: r.references.clone(),
            false_positives: r.false_positives.clone(),
            license: r.license.clone(),
            tags: r.tags.clone(),
            requires: r.requires.iter().map(|x| DependencyJson { kind: x.kind, name: x.name.clone() }).collect(),
            implementation: r.implementation.clone(),
            investigation: r.investigation.clone(),
            tests: r
                .tests
                .iter()
                .map(|t| RuleTestJson {
                    name: t.name.clone(),
                    expected: t.expected,
                    log_type: t.log_type.clone(),
                    input: Some(t.input.clone()).filter(|i| !i.is_empty()),
                    mocks: t.mocks.clone(),
                })
                .collect(),
            version: r.version.clone(),
            min_agent_version: r.min_agent_version.clone(),
            response_actions: r
                .response_actions
                .iter()
                .map(|a| ResponseActionJson {
                    action: a.action.clone(),
                    field: a.field.clone(),
                    event: a.event,
                    tree: a.tree,
                    optional: a.optional,
                })
                .collect(),
            path: r.path.clone(),
            deprecated: d.deprecated,
            techniques: d
                .techniques
                .iter()
                .map(|m| MappingJson {
                    id: m.id,
                    name: m.name.clone(),
                    tagged: m.tagged.clone(),
                    tagged_id: m.tagged_id,
                    status: m.status,
                    mapped_by: m.mapped_by,
                    via: unusual_via(m.via),
                })
                .collect(),
            tactics: d
                .tactics
                .iter()
                .map(|t| TacticRefJson {
                    id: t.id,
                    name: t.name.clone(),
                    tagged_id: t.tagged_id,
                    status: Some(t.status).filter(|s| *s != MappingStatus::Current),
                })
                .collect(),
            unresolved_tags: d.unresolved_tags.clone(),
            cves: d.cves.clone(),
            atlas: d
                .atlas
                .iter()
                .map(|a| AtlasRefJson { id: a.id.to_string(), url: a.url.clone(), via: unusual_via(a.via) })
                .collect(),
            provenance: ProvenanceJson {
                path: d.provenance.path.clone(),
                repository: d.provenance.repository.clone(),
                commit: d.provenance.commit.clone(),
                upstream_url: d.provenance.upstream_url.clone(),
            },
            effective_license: d.effective_license.clone(),
            attack_version: None,
        }
    }
}

/// How a mapping was read, when not from the rule's tags.
fn unusual_via(via: MappingVia) -> Option<MappingVia> {
    Some(via).filter(|v| *v != MappingVia::Tag)
}

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

/// A technique with its sub-techniques and detections (`technique --json`,
/// `/api/v1/techniques/{id}`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "TechniquePage")]
pub struct TechniquePageJson {
    /// What was asked for, as typed (the CLI's argument).
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
    pub subtechniques: Vec<SubtechniqueJson>,
    /// Only detections tagged with the technique itself.
    pub exact: bool,
    /// Detections shown, after the filter.
    pub shown: usize,
    /// Of `shown`, those listed only through ruledex's own mapping of vendor labels (Sublime's
    /// attack types and tactics), not tagged with the technique by their vendor: counted apart
    /// so that mapped content never passes for the vendor's own.
    pub inferred: usize,
    /// Detections for the technique before filtering.
    pub total: usize,
    /// Counts before filtering.
    pub facets: FacetsJson,
    /// How many more with deprecated detections included.
    pub hidden_deprecated: usize,
    /// How many more with community content included.
    pub hidden_community: usize,
    /// Where `detections` starts among the `shown`, when a front end pages them (the MCP
    /// tools); absent when every shown detection is listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<usize>,
    /// The most detections one page lists, when paged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// How many shown detections come after this page, when paged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub more: Option<usize>,
    pub detections: Vec<DetectionJson>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "SubtechniqueCount")]
pub struct SubtechniqueJson {
    pub id: TechniqueId,
    pub name: String,
    /// Detections passing the filter.
    pub count: usize,
}

impl TechniquePageJson {
    pub fn new(page: &TechniquePage, attack_version: Option<String>, query: Option<String>) -> TechniquePageJson {
        let listing = &page.listing;
        TechniquePageJson {
            query,
            attack_version,
            requested: page.requested,
            id: page.id,
            revoked: page.revoked,
            technique: page.technique.as_ref().map(TechniqueJson::from),
            parent: page.parent.as_ref().map(TechniqueJson::from),
            subtechniques: page
                .subtechniques
                .iter()
                .map(|s| SubtechniqueJson { id: s.id, name: s.name.clone(), count: s.count })
                .collect(),
            exact: page.exact,
            shown: page.shown,
            inferred: listing.inferred,
            total: listing.total,
            facets: (&listing.facets).into(),
            hidden_deprecated: listing.hidden_deprecated,
            hidden_community: listing.hidden_community,
            offset: None,
            limit: None,
            more: None,
            detections: listing.detections.iter().map(DetectionJson::from).collect(),
        }
    }

    /// Only the detections `offset..offset + limit` of the shown ones, saying how many follow.
    pub fn paged(mut self, offset: usize, limit: usize) -> TechniquePageJson {
        let after = self.detections.split_off(offset.min(self.detections.len()));
        self.detections = after;
        let more = self.detections.len().saturating_sub(limit);
        self.detections.truncate(limit);
        (self.offset, self.limit, self.more) = (Some(offset), Some(limit), Some(more));
        self
    }
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

/// Search results (`search --json`, `/api/v1/search`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "SearchResults")]
pub struct SearchJson {
    pub query: String,
    /// The search the results are for, present when it is not `query`: the search as typed
    /// found (almost) nothing, and its misspelled words were corrected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrected_query: Option<String>,
    /// The ATT&CK release the catalog was built from.
    pub attack_version: Option<String>,
    /// Matches passing the filter.
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
    /// Counts over all matches, before the filter.
    pub facets: FacetsJson,
    pub detections: Vec<SearchHitJson>,
}

/// A detection found by a search.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "SearchHit")]
pub struct SearchHitJson {
    #[serde(flatten)]
    pub detection: DetectionJson,
    /// BM25 relevance (higher is better).
    pub score: f64,
    /// A passage of the field that matched, as the rule states it.
    pub snippet: String,
    /// The most telling field the search matched: title, description, query or tags.
    pub matched_field: String,
}

impl From<&Hit> for SearchHitJson {
    fn from(hit: &Hit) -> SearchHitJson {
        SearchHitJson {
            detection: (&hit.detection).into(),
            score: hit.score,
            snippet: hit.snippet.plain(),
            matched_field: hit.matched_field.as_str().into(),
        }
    }
}

/// About the catalog file.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "CatalogInfo")]
pub struct CatalogJson {
    pub path: PathBuf,
    pub built_at: Option<String>,
    pub attack_version: Option<String>,
    pub ruledex_version: Option<String>,
    pub detections: usize,
}

impl From<&CatalogInfo> for CatalogJson {
    fn from(i: &CatalogInfo) -> CatalogJson {
        CatalogJson {
            path: i.path.clone(),
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
    pub name: String,
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
    /// References to MITRE ATLAS (kept apart from ATT&CK).
    pub atlas_refs: usize,
}

impl From<&SourceStatus> for SourceJson {
    fn from(s: &SourceStatus) -> SourceJson {
        let r = &s.report;
        SourceJson {
            name: r.name.clone(),
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

/// Detection counts per technique, as the home page's matrix shows them (`/api/v1/coverage`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Coverage")]
pub struct CoverageJson {
    pub attack_version: Option<String>,
    pub tactics: Vec<TacticJson>,
    /// Techniques with at least one detection passing the filter.
    pub techniques: Vec<CoveredTechniqueJson>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "CoveredTechnique")]
pub struct CoveredTechniqueJson {
    pub id: TechniqueId,
    pub name: String,
    pub tactics: Vec<TacticId>,
    /// Detections tagged with the technique itself.
    pub exact: usize,
    /// With its sub-techniques, each detection once.
    pub detections: usize,
    /// Of `detections`, those listed only through ruledex's own mapping of vendor labels.
    pub inferred: usize,
}

/// Detections an address names when it names several (`show --json`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Candidates")]
pub struct CandidatesJson {
    pub candidates: Vec<CandidateJson>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Candidate")]
pub struct CandidateJson {
    pub source: String,
    pub id: String,
    pub title: String,
    pub path: String,
}

impl From<&Candidate> for CandidateJson {
    fn from(c: &Candidate) -> CandidateJson {
        CandidateJson { source: c.source.clone(), id: c.id.clone(), title: c.title.clone(), path: c.path.clone() }
    }
}

/// An error, in every front end's JSON: `{"error": {...}}`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Error")]
pub struct ErrorJson {
    pub error: ErrorDetailJson,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "ErrorDetail")]
pub struct ErrorDetailJson {
    /// `bad_request`, `not_found`, `ambiguous`, `unavailable` or `internal`.
    pub kind: String,
    /// The HTTP status (the API) that goes with the kind.
    pub status: u16,
    pub title: String,
    /// What went wrong and what to do about it.
    pub message: String,
    /// Close matches, or where to go instead.
    pub suggestions: Vec<SuggestionJson>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Suggestion")]
pub struct SuggestionJson {
    /// A path on the web catalog.
    pub href: String,
    pub label: String,
}

/// Changes to detections, newest first (`changes --json`, `/api/v1/changes`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Changes")]
pub struct ChangesJson {
    pub changes: Vec<ChangeJson>,
    /// Syncs that read new ATT&CK data (a new release), newest first: `since` applies, the
    /// source and technique filters do not (a release moves detections of every source).
    pub attack_updates: Vec<AttackUpdateJson>,
}

/// A sync that read other ATT&CK data than the catalog had.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "AttackUpdate")]
pub struct AttackUpdateJson {
    /// The release before and after (as the bundles declare it, else the configured label).
    pub release_before: Option<String>,
    pub release_after: Option<String>,
    /// Detections listed under other techniques since (revoked techniques followed to their
    /// replacements, say), though their own tags did not change.
    pub moved: usize,
    /// The above in a sentence ("ATT&CK 18.1 → 19.0: 12 detections moved to other techniques").
    pub summary: String,
    pub synced_at: String,
    pub sync: i64,
    /// A stable identifier of this update (feeds use it as the entry ID).
    pub update_id: String,
}

impl From<&RecordedAttackUpdate> for AttackUpdateJson {
    fn from(r: &RecordedAttackUpdate) -> AttackUpdateJson {
        AttackUpdateJson {
            release_before: r.update.before.clone(),
            release_after: r.update.after.clone(),
            moved: r.update.moved,
            summary: r.update.sentence(),
            synced_at: r.synced_at.clone(),
            sync: r.sync,
            update_id: format!("urn:ruledex:attack-update:{}", r.sync_uid),
        }
    }
}

/// What one sync found changed about one detection.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Change")]
pub struct ChangeJson {
    pub source: String,
    pub id: String,
    pub title: String,
    pub change: ChangeKind,
    /// What changed, for `changed` and `deprecated` (empty otherwise).
    pub fields: Vec<ChangedField>,
    /// The upstream commit the change was found at (for a removed detection, the first commit
    /// without it).
    pub commit: Option<String>,
    /// The upstream commit before the change.
    pub commit_before: Option<String>,
    /// When the sync that found it ran (UTC).
    pub synced_at: String,
    /// The sync's number, for `since`: later syncs have larger numbers.
    pub sync: i64,
    /// Unique to this change and stable: the Atom feeds' entry ID.
    pub change_id: String,
    /// The techniques the detection is listed under (before the change, for a removed one).
    pub techniques: Vec<TechniqueId>,
    /// The detection's page (gone for a removed detection).
    pub href: String,
    /// The query before and after, when it changed (the paste-ready query when only that did).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_after: Option<String>,
}

impl From<&RecordedChange> for ChangeJson {
    fn from(r: &RecordedChange) -> ChangeJson {
        let c = &r.change;
        ChangeJson {
            source: c.source.clone(),
            id: c.id.clone(),
            title: c.title.clone(),
            change: c.kind,
            fields: c.fields.clone(),
            commit: c.commit_after.clone(),
            commit_before: c.commit_before.clone(),
            synced_at: r.synced_at.clone(),
            sync: r.sync,
            change_id: format!(
                "urn:ruledex:change:{}:{}:{}",
                r.sync_uid,
                encode_component(&c.source),
                encode_component(&c.id)
            ),
            techniques: c.techniques.clone(),
            href: crate::links::detection(&c.source, &c.id),
            query_before: c.query_before.clone(),
            query_after: c.query_after.clone(),
        }
    }
}

/// Where a background sync stands (`/api/v1/sync`).
pub use crate::sync::SyncPhase;

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

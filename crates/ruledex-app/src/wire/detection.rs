//! A detection as JSON: everything the model holds of it, in listings without its long texts.

use std::collections::BTreeMap;
use std::fmt;

use ruledex_core::ids::{TacticId, TechniqueId};
use ruledex_core::model::{
    DependencyKind, Detection, Format, Language, MappedBy, MappingStatus, MappingVia, RuleType, Severity, SourceKind,
    Status,
};
use schemars::JsonSchema;
use serde::Serialize;

/// One query of a detection, to paste and run on its own.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct QueryJson {
    pub language: Option<Language>,
    pub query: String,
}

/// One detection. Listings leave out the native rule file (`native_rule` absent) and carry
/// `implementation` and `investigation` as null; `show` has them all.
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

impl fmt::Display for ResponseActionJson {
    /// "kill process tree on process.entity_id (sequence event 2, optional)", as cards and
    /// `show` print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tree = if self.tree { " tree" } else { "" };
        write!(f, "{}{tree} on {}", self.action.replace('_', " "), self.field)?;
        let mut notes = Vec::new();
        if self.event > 0 {
            notes.push(format!("sequence event {}", self.event + 1));
        }
        if self.optional {
            notes.push("optional".to_string());
        }
        if !notes.is_empty() {
            write!(f, " ({})", notes.join(", "))?;
        }
        Ok(())
    }
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

impl DetectionJson {
    /// Whether the paste-ready query differs from the shipped one: macros were expanded.
    pub fn macros_expanded(&self) -> bool {
        self.paste_ready_query != self.query
    }

    /// What the paste-ready query is, in words, for front ends to print above or beside it;
    /// empty when it is the shipped query. It runs without the vendor's app only when every
    /// macro was expanded.
    pub fn paste_ready_note(&self) -> String {
        match (self.macros_expanded(), self.unresolved_macros.as_slice()) {
            (false, _) => String::new(),
            (true, []) => "macros expanded: runs without the vendor's app".into(),
            (true, unresolved) => format!(
                "macros expanded where defined: still calls {} (no definition found; needs the vendor's app)",
                unresolved.join(", ")
            ),
        }
    }

    /// What the paste-ready query still needs in the SIEM: lookups, lists, index patterns, and
    /// the macros it still calls (all of them when none was expanded, else those without a
    /// definition, nested ones included).
    pub fn still_needs(&self) -> Vec<DependencyJson> {
        let macro_named = |name: &String| DependencyJson { kind: DependencyKind::Macro, name: name.clone() };
        let kept = self.requires.iter().filter(|x| x.kind != DependencyKind::Macro || !self.macros_expanded());
        let unexpanded = self.unresolved_macros.iter().filter(|_| self.macros_expanded()).map(macro_named);
        kept.cloned().chain(unexpanded).collect()
    }

    /// The index patterns an Elastic query searches.
    pub fn index_patterns(&self) -> Vec<String> {
        self.requires.iter().filter(|x| x.kind == DependencyKind::Index).map(|x| x.name.clone()).collect()
    }
}

/// How a mapping was read, when not from the rule's tags.
fn unusual_via(via: MappingVia) -> Option<MappingVia> {
    Some(via).filter(|v| *v != MappingVia::Tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_actions_read_as_phrases() {
        let kill = ResponseActionJson {
            action: "kill_process".into(),
            field: "process.entity_id".into(),
            event: 0,
            tree: false,
            optional: false,
        };
        assert_eq!(kill.to_string(), "kill process on process.entity_id");
        let tree = ResponseActionJson { tree: true, event: 1, optional: true, ..kill };
        assert_eq!(tree.to_string(), "kill process tree on process.entity_id (sequence event 2, optional)");
    }
}

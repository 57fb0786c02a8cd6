//! How the catalog stores what it holds: record types the store owns.
//!
//! The model's own serde shapes are the public face of ruledex's JSON; they may change with the
//! API. The catalog keeps its own records instead, written and read here field by field, so a
//! change to the model changes this file (and [`crate::SCHEMA_VERSION`]) on purpose, never by
//! accident. Enums are stored by their wire names and read back with `FromStr`; a value this
//! ruledex does not know makes the record unreadable (`StoreError::Corrupt`), never a panic.
//!
//! Detections are stored without their long texts (`native_rule`, investigation,
//! implementation, the inputs of the tests a rule ships), which have columns of their own (see
//! `schema.sql`).

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use ruledex_core::attack::{AttackObject, Domain, SoftwareKind, Tactic, Technique, TechniqueUse};
use ruledex_core::ingest::{AttackCoverage, Failure, SourceReport};
use ruledex_core::model::{
    AtlasRef, Dependency, DependencyKind, Detection, Provenance, Query, ResponseAction, Rule, RuleTest, TacticRef,
    TechniqueMapping,
};
use serde::{Deserialize, Serialize};

use crate::{Result, StoreError};

#[derive(Serialize, Deserialize)]
pub(crate) struct DetectionRecord {
    source: String,
    kind: String,
    format: String,
    id: String,
    rule: RuleRecord,
    deprecated: bool,
    techniques: Vec<MappingRecord>,
    tactics: Vec<TacticRefRecord>,
    unresolved_tags: Vec<String>,
    cves: Vec<String>,
    atlas: Vec<AtlasRecord>,
    provenance: ProvenanceRecord,
    effective_license: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct RuleRecord {
    native_id: String,
    title: String,
    description: String,
    vendor: String,
    product: String,
    language: Option<String>,
    query: String,
    /// Each query of a rule of several, run one by one.
    queries: Vec<QueryRecord>,
    paste_ready_query: Option<String>,
    unresolved_macros: Vec<String>,
    rule_type: Option<String>,
    rule_type_native: Option<String>,
    severity: Option<String>,
    severity_native: Option<String>,
    risk_score: Option<f64>,
    status: Option<String>,
    status_native: Option<String>,
    attack_tags: Vec<String>,
    inferred_attack_tags: Vec<String>,
    data_sources: Vec<String>,
    platforms: Vec<String>,
    author: Option<String>,
    created: Option<String>,
    updated: Option<String>,
    references: Vec<String>,
    false_positives: Vec<String>,
    license: Option<String>,
    tags: Vec<String>,
    requires: Vec<(String, String)>,
    /// The tests the rule ships, without their inputs (a column of their own, like the other
    /// long texts): listings say how many there are and what they expect.
    tests: Vec<TestRecord>,
    version: Option<String>,
    min_agent_version: Option<String>,
    response_actions: Vec<ResponseActionRecord>,
    path: String,
}

#[derive(Serialize, Deserialize)]
struct QueryRecord {
    language: Option<String>,
    text: String,
}

#[derive(Serialize, Deserialize)]
struct ResponseActionRecord {
    action: String,
    field: String,
    event: u32,
    tree: bool,
    optional: bool,
}

#[derive(Serialize, Deserialize)]
struct TestRecord {
    name: String,
    expected: bool,
    log_type: Option<String>,
}

/// A test's input and mocks, stored apart from the record (see [`test_inputs`]).
#[derive(Serialize, Deserialize)]
pub(crate) struct TestInput {
    input: String,
    mocks: BTreeMap<String, serde_json::Value>,
}

/// The long parts of a rule's tests, stored in their own column.
pub(crate) fn test_inputs(rule: &Rule) -> Vec<TestInput> {
    rule.tests.iter().map(|t| TestInput { input: t.input.clone(), mocks: t.mocks.clone() }).collect()
}

/// Puts the stored inputs back into a rule's tests.
pub(crate) fn restore_test_inputs(rule: &mut Rule, inputs: Vec<TestInput>) {
    for (test, stored) in rule.tests.iter_mut().zip(inputs) {
        test.input = stored.input;
        test.mocks = stored.mocks;
    }
}

#[derive(Serialize, Deserialize)]
struct MappingRecord {
    id: String,
    name: Option<String>,
    tagged: String,
    tagged_id: Option<String>,
    status: String,
    mapped_by: String,
    via: String,
}

#[derive(Serialize, Deserialize)]
struct TacticRefRecord {
    id: String,
    name: String,
    tagged_id: Option<String>,
    status: String,
}

#[derive(Serialize, Deserialize)]
struct AtlasRecord {
    id: String,
    url: String,
    via: String,
}

#[derive(Serialize, Deserialize)]
struct ProvenanceRecord {
    path: String,
    repository: Option<String>,
    commit: Option<String>,
    upstream_url: Option<String>,
}

impl DetectionRecord {
    /// The record of a detection, its long texts left out.
    pub(crate) fn card(d: &Detection) -> DetectionRecord {
        let r = &d.rule;
        DetectionRecord {
            source: d.source.clone(),
            kind: d.source_kind.as_str().into(),
            format: d.format.as_str().into(),
            id: d.id.clone(),
            rule: RuleRecord {
                native_id: r.native_id.clone(),
                title: r.title.clone(),
                description: r.description.clone(),
                vendor: r.vendor.clone(),
                product: r.product.clone(),
                language: r.language.map(|v| v.as_str().into()),
                query: r.query.clone(),
                queries: r
                    .queries
                    .iter()
                    .map(|q| QueryRecord { language: q.language.map(|v| v.as_str().into()), text: q.text.clone() })
                    .collect(),
                paste_ready_query: r.paste_ready_query.clone(),
                unresolved_macros: r.unresolved_macros.clone(),
                rule_type: r.rule_type.map(|v| v.as_str().into()),
                rule_type_native: r.rule_type_native.clone(),
                severity: r.severity.map(|v| v.as_str().into()),
                severity_native: r.severity_native.clone(),
                risk_score: r.risk_score,
                status: r.status.map(|v| v.as_str().into()),
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
                requires: r.requires.iter().map(|x| (x.kind.as_str().into(), x.name.clone())).collect(),
                tests: r
                    .tests
                    .iter()
                    .map(|t| TestRecord { name: t.name.clone(), expected: t.expected, log_type: t.log_type.clone() })
                    .collect(),
                version: r.version.clone(),
                min_agent_version: r.min_agent_version.clone(),
                response_actions: r
                    .response_actions
                    .iter()
                    .map(|a| ResponseActionRecord {
                        action: a.action.clone(),
                        field: a.field.clone(),
                        event: a.event,
                        tree: a.tree,
                        optional: a.optional,
                    })
                    .collect(),
                path: r.path.clone(),
            },
            deprecated: d.deprecated,
            techniques: d.techniques.iter().map(MappingRecord::from).collect(),
            tactics: d
                .tactics
                .iter()
                .map(|t| TacticRefRecord {
                    id: t.id.to_string(),
                    name: t.name.clone(),
                    tagged_id: t.tagged_id.map(|x| x.to_string()),
                    status: t.status.as_str().into(),
                })
                .collect(),
            unresolved_tags: d.unresolved_tags.clone(),
            cves: d.cves.clone(),
            atlas: d
                .atlas
                .iter()
                .map(|a| AtlasRecord { id: a.id.to_string(), url: a.url.clone(), via: a.via.as_str().into() })
                .collect(),
            provenance: ProvenanceRecord {
                path: d.provenance.path.clone(),
                repository: d.provenance.repository.clone(),
                commit: d.provenance.commit.clone(),
                upstream_url: d.provenance.upstream_url.clone(),
            },
            effective_license: d.effective_license.clone(),
        }
    }

    pub(crate) fn parse(json: &str) -> Result<Detection> {
        serde_json::from_str::<DetectionRecord>(json)?.into_detection()
    }

    fn into_detection(self) -> Result<Detection> {
        let r = self.rule;
        let rule = Rule {
            native_id: r.native_id,
            title: r.title,
            description: r.description,
            vendor: r.vendor,
            product: r.product,
            language: optional(r.language)?,
            query: r.query,
            queries: r
                .queries
                .into_iter()
                .map(|q| Ok(Query { language: optional(q.language)?, text: q.text }))
                .collect::<Result<_>>()?,
            paste_ready_query: r.paste_ready_query,
            unresolved_macros: r.unresolved_macros,
            native_rule: String::new(),
            rule_type: optional(r.rule_type)?,
            rule_type_native: r.rule_type_native,
            severity: optional(r.severity)?,
            severity_native: r.severity_native,
            risk_score: r.risk_score,
            status: optional(r.status)?,
            status_native: r.status_native,
            attack_tags: r.attack_tags,
            inferred_attack_tags: r.inferred_attack_tags,
            data_sources: r.data_sources,
            platforms: r.platforms,
            author: r.author,
            created: r.created,
            updated: r.updated,
            references: r.references,
            false_positives: r.false_positives,
            license: r.license,
            tags: r.tags,
            requires: r
                .requires
                .into_iter()
                .map(|(kind, name)| Ok(Dependency { kind: wire::<DependencyKind>(&kind)?, name }))
                .collect::<Result<_>>()?,
            implementation: None,
            investigation: None,
            tests: r
                .tests
                .into_iter()
                .map(|t| RuleTest {
                    name: t.name,
                    expected: t.expected,
                    input: String::new(),
                    log_type: t.log_type,
                    mocks: BTreeMap::new(),
                })
                .collect(),
            version: r.version,
            min_agent_version: r.min_agent_version,
            response_actions: r
                .response_actions
                .into_iter()
                .map(|a| ResponseAction {
                    action: a.action,
                    field: a.field,
                    event: a.event,
                    tree: a.tree,
                    optional: a.optional,
                })
                .collect(),
            path: r.path,
        };
        Ok(Detection {
            source: self.source,
            source_kind: wire(&self.kind)?,
            format: wire(&self.format)?,
            id: self.id,
            rule,
            deprecated: self.deprecated,
            techniques: self.techniques.into_iter().map(MappingRecord::into_mapping).collect::<Result<_>>()?,
            tactics: self
                .tactics
                .into_iter()
                .map(|t| {
                    Ok(TacticRef {
                        id: wire(&t.id)?,
                        name: t.name,
                        tagged_id: optional(t.tagged_id)?,
                        status: wire(&t.status)?,
                    })
                })
                .collect::<Result<_>>()?,
            unresolved_tags: self.unresolved_tags,
            cves: self.cves,
            atlas: self
                .atlas
                .into_iter()
                .map(|a| Ok(AtlasRef { id: wire(&a.id)?, url: a.url, via: wire(&a.via)? }))
                .collect::<Result<_>>()?,
            provenance: Provenance {
                path: self.provenance.path,
                repository: self.provenance.repository,
                commit: self.provenance.commit,
                upstream_url: self.provenance.upstream_url,
            },
            effective_license: self.effective_license,
        })
    }
}

impl From<&TechniqueMapping> for MappingRecord {
    fn from(m: &TechniqueMapping) -> MappingRecord {
        MappingRecord {
            id: m.id.to_string(),
            name: m.name.clone(),
            tagged: m.tagged.clone(),
            tagged_id: m.tagged_id.map(|t| t.to_string()),
            status: m.status.as_str().into(),
            mapped_by: m.mapped_by.as_str().into(),
            via: m.via.as_str().into(),
        }
    }
}

impl MappingRecord {
    fn into_mapping(self) -> Result<TechniqueMapping> {
        Ok(TechniqueMapping {
            id: wire(&self.id)?,
            name: self.name,
            tagged: self.tagged,
            tagged_id: optional(self.tagged_id)?,
            status: wire(&self.status)?,
            mapped_by: wire(&self.mapped_by)?,
            via: wire(&self.via)?,
        })
    }
}

/// An ATT&CK technique as the catalog keeps it.
#[derive(Serialize, Deserialize)]
pub(crate) struct TechniqueRecord {
    id: String,
    name: String,
    description: String,
    domain: String,
    tactics: Vec<String>,
    platforms: Vec<String>,
    data_components: Vec<String>,
    url: String,
    revoked: bool,
    revoked_by: Option<String>,
    deprecated: bool,
    successors: Vec<String>,
}

impl From<&Technique> for TechniqueRecord {
    fn from(t: &Technique) -> TechniqueRecord {
        TechniqueRecord {
            id: t.id.to_string(),
            name: t.name.clone(),
            description: t.description.clone(),
            domain: domain_name(t.domain).into(),
            tactics: t.tactics.iter().map(ToString::to_string).collect(),
            platforms: t.platforms.clone(),
            data_components: t.data_components.clone(),
            url: t.url.clone(),
            revoked: t.revoked,
            revoked_by: t.revoked_by.map(|r| r.to_string()),
            deprecated: t.deprecated,
            successors: t.successors.iter().map(ToString::to_string).collect(),
        }
    }
}

impl TechniqueRecord {
    pub(crate) fn parse(json: &str) -> Result<Technique> {
        let r: TechniqueRecord = serde_json::from_str(json)?;
        Ok(Technique {
            id: wire(&r.id)?,
            name: r.name,
            description: r.description,
            domain: domain(&r.domain)?,
            tactics: r.tactics.iter().map(|t| wire(t)).collect::<Result<_>>()?,
            platforms: r.platforms,
            data_components: r.data_components,
            url: r.url,
            revoked: r.revoked,
            revoked_by: optional(r.revoked_by)?,
            deprecated: r.deprecated,
            successors: r.successors.iter().map(|t| wire(t)).collect::<Result<_>>()?,
        })
    }
}

/// An ATT&CK tactic as the catalog keeps it.
#[derive(Serialize, Deserialize)]
pub(crate) struct TacticRecord {
    id: String,
    name: String,
    shortname: String,
    description: String,
    domain: String,
    url: String,
    revoked: bool,
    deprecated: bool,
    revoked_by: Vec<String>,
    successors: Vec<String>,
}

impl From<&Tactic> for TacticRecord {
    fn from(t: &Tactic) -> TacticRecord {
        TacticRecord {
            id: t.id.to_string(),
            name: t.name.clone(),
            shortname: t.shortname.clone(),
            description: t.description.clone(),
            domain: domain_name(t.domain).into(),
            url: t.url.clone(),
            revoked: t.revoked,
            deprecated: t.deprecated,
            revoked_by: t.revoked_by.iter().map(ToString::to_string).collect(),
            successors: t.successors.iter().map(ToString::to_string).collect(),
        }
    }
}

impl TacticRecord {
    pub(crate) fn parse(json: &str) -> Result<Tactic> {
        let r: TacticRecord = serde_json::from_str(json)?;
        Ok(Tactic {
            id: wire(&r.id)?,
            name: r.name,
            shortname: r.shortname,
            description: r.description,
            domain: domain(&r.domain)?,
            url: r.url,
            revoked: r.revoked,
            deprecated: r.deprecated,
            revoked_by: r.revoked_by.iter().map(|t| wire(t)).collect::<Result<_>>()?,
            successors: r.successors.iter().map(|t| wire(t)).collect::<Result<_>>()?,
        })
    }
}

/// An ATT&CK group, campaign or software as the catalog keeps it, with the techniques it uses
/// already carried to their replacements.
#[derive(Serialize, Deserialize)]
pub(crate) struct ObjectRecord {
    id: String,
    name: String,
    aliases: Vec<String>,
    description: String,
    url: String,
    domains: Vec<String>,
    software_kind: Option<String>,
    platforms: Vec<String>,
    revoked: bool,
    revoked_by: Option<String>,
    deprecated: bool,
    /// Technique, the technique the relationship named (when different), status, description.
    techniques: Vec<(String, Option<String>, String, String)>,
    software: Vec<String>,
    attributed_to: Vec<String>,
}

impl From<&AttackObject> for ObjectRecord {
    fn from(o: &AttackObject) -> ObjectRecord {
        let ids = |ids: &[ruledex_core::ids::ObjectId]| ids.iter().map(ToString::to_string).collect();
        ObjectRecord {
            id: o.id.to_string(),
            name: o.name.clone(),
            aliases: o.aliases.clone(),
            description: o.description.clone(),
            url: o.url.clone(),
            domains: o.domains.iter().map(|d| domain_name(*d).to_string()).collect(),
            software_kind: o.software_kind.map(|k| software_kind_name(k).to_string()),
            platforms: o.platforms.clone(),
            revoked: o.revoked,
            revoked_by: o.revoked_by.map(|r| r.to_string()),
            deprecated: o.deprecated,
            techniques: o
                .techniques
                .iter()
                .map(|u| {
                    (
                        u.id.to_string(),
                        u.named_id.map(|n| n.to_string()),
                        u.status.as_str().into(),
                        u.description.clone(),
                    )
                })
                .collect(),
            software: ids(&o.software),
            attributed_to: ids(&o.attributed_to),
        }
    }
}

impl ObjectRecord {
    pub(crate) fn parse(json: &str) -> Result<AttackObject> {
        let r: ObjectRecord = serde_json::from_str(json)?;
        let ids = |ids: &[String]| ids.iter().map(|i| wire(i)).collect::<Result<Vec<_>>>();
        Ok(AttackObject {
            id: wire(&r.id)?,
            name: r.name,
            aliases: r.aliases,
            description: r.description,
            url: r.url,
            domains: r.domains.iter().map(|d| domain(d)).collect::<Result<_>>()?,
            software_kind: r.software_kind.as_deref().map(software_kind).transpose()?,
            platforms: r.platforms,
            revoked: r.revoked,
            revoked_by: optional(r.revoked_by)?,
            deprecated: r.deprecated,
            techniques: r
                .techniques
                .into_iter()
                .map(|(id, named_id, status, description)| {
                    Ok(TechniqueUse {
                        id: wire(&id)?,
                        named_id: optional(named_id)?,
                        status: wire(&status)?,
                        description,
                    })
                })
                .collect::<Result<_>>()?,
            software: ids(&r.software)?,
            attributed_to: ids(&r.attributed_to)?,
        })
    }
}

fn software_kind_name(kind: SoftwareKind) -> &'static str {
    match kind {
        SoftwareKind::Malware => "malware",
        SoftwareKind::Tool => "tool",
    }
}

fn software_kind(name: &str) -> Result<SoftwareKind> {
    [SoftwareKind::Malware, SoftwareKind::Tool]
        .into_iter()
        .find(|k| software_kind_name(*k) == name)
        .ok_or_else(|| corrupt(format!("unknown ATT&CK software kind {name:?}")))
}

/// What a sync read of a source, as the catalog keeps it.
#[derive(Serialize, Deserialize)]
pub(crate) struct ReportRecord {
    name: String,
    format: String,
    kind: String,
    repository: Option<String>,
    commit: Option<String>,
    license: Option<String>,
    files: usize,
    files_parsed: usize,
    detections: usize,
    failures: Vec<(String, String)>,
    mapped_detections: usize,
    techniques: usize,
    revoked_tags: usize,
    deprecated_tags: usize,
    unknown_tags: usize,
    unknown: BTreeMap<String, usize>,
    atlas_refs: usize,
    parse_millis: u64,
}

impl From<&SourceReport> for ReportRecord {
    fn from(r: &SourceReport) -> ReportRecord {
        ReportRecord {
            name: r.name.clone(),
            format: r.format.as_str().into(),
            kind: r.kind.as_str().into(),
            repository: r.repository.clone(),
            commit: r.commit.clone(),
            license: r.license.clone(),
            files: r.files,
            files_parsed: r.files_parsed,
            detections: r.detections,
            failures: r.failures.iter().map(|f| (f.path.clone(), f.reason.clone())).collect(),
            mapped_detections: r.attack.mapped_detections,
            techniques: r.attack.techniques,
            revoked_tags: r.attack.revoked_tags,
            deprecated_tags: r.attack.deprecated_tags,
            unknown_tags: r.attack.unknown_tags,
            unknown: r.attack.unknown.clone(),
            atlas_refs: r.attack.atlas_refs,
            parse_millis: u64::try_from(r.parse_time.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

impl ReportRecord {
    pub(crate) fn parse(json: &str) -> Result<SourceReport> {
        let r: ReportRecord = serde_json::from_str(json)?;
        Ok(SourceReport {
            name: r.name,
            format: wire(&r.format)?,
            kind: wire(&r.kind)?,
            repository: r.repository,
            commit: r.commit,
            license: r.license,
            files: r.files,
            files_parsed: r.files_parsed,
            detections: r.detections,
            failures: r.failures.into_iter().map(|(path, reason)| Failure { path, reason }).collect(),
            attack: AttackCoverage {
                mapped_detections: r.mapped_detections,
                techniques: r.techniques,
                revoked_tags: r.revoked_tags,
                deprecated_tags: r.deprecated_tags,
                unknown_tags: r.unknown_tags,
                unknown: r.unknown,
                atlas_refs: r.atlas_refs,
            },
            parse_time: Duration::from_millis(r.parse_millis),
        })
    }
}

fn domain_name(domain: Domain) -> &'static str {
    match domain {
        Domain::Enterprise => "enterprise",
        Domain::Mobile => "mobile",
        Domain::Ics => "ics",
    }
}

fn domain(name: &str) -> Result<Domain> {
    [Domain::Enterprise, Domain::Mobile, Domain::Ics]
        .into_iter()
        .find(|d| domain_name(*d) == name)
        .ok_or_else(|| corrupt(format!("unknown ATT&CK domain {name:?}")))
}

/// A value stored by its wire name (an enum) or canonical form (an ID), read back.
pub(crate) fn wire<T: FromStr>(value: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    value.parse().map_err(|e: T::Err| corrupt(e.to_string()))
}

fn optional<T: FromStr>(value: Option<String>) -> Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    value.as_deref().map(wire).transpose()
}

fn corrupt(message: String) -> StoreError {
    StoreError::Corrupt(serde::de::Error::custom(message))
}

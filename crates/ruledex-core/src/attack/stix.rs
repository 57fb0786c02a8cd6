//! The slice of the STIX 2.1 bundle format ATT&CK uses that ruledex reads.

use std::collections::HashMap;

use serde::Deserialize;

use super::{Domain, Tactic, Technique};
use crate::ids::{TacticId, TechniqueId};

#[derive(Deserialize)]
pub(super) struct Bundle {
    objects: Vec<Object>,
}

/// Every object type in one flat shape: serde skips what an object lacks, which is far faster
/// than an internally tagged enum over 20,000 relationships.
#[derive(Deserialize)]
struct Object {
    #[serde(rename = "type")]
    kind: String,
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    external_references: Vec<ExternalReference>,
    #[serde(default)]
    kill_chain_phases: Vec<KillChainPhase>,
    #[serde(default)]
    x_mitre_platforms: Vec<String>,
    #[serde(default)]
    x_mitre_data_sources: Vec<String>,
    #[serde(default)]
    revoked: bool,
    #[serde(default)]
    x_mitre_deprecated: bool,
    #[serde(default)]
    x_mitre_shortname: String,
    #[serde(default)]
    tactic_refs: Vec<String>,
    #[serde(default)]
    relationship_type: String,
    #[serde(default)]
    source_ref: String,
    #[serde(default)]
    target_ref: String,
    #[serde(default)]
    x_mitre_analytic_refs: Vec<String>,
    #[serde(default)]
    x_mitre_log_source_references: Vec<LogSourceReference>,
}

#[derive(Deserialize)]
struct ExternalReference {
    source_name: String,
    #[serde(default)]
    external_id: Option<String>,
}

#[derive(Deserialize)]
struct KillChainPhase {
    phase_name: String,
}

#[derive(Deserialize)]
struct LogSourceReference {
    x_mitre_data_component_ref: String,
}

impl Object {
    fn attack_reference(&self) -> Option<&ExternalReference> {
        self.external_references.iter().find(|r| r.source_name.starts_with("mitre"))
    }

    fn external_id(&self) -> Option<&str> {
        self.attack_reference()?.external_id.as_deref()
    }
}

impl Bundle {
    pub(super) fn parse(json: &[u8]) -> Result<Bundle, serde_json::Error> {
        serde_json::from_slice(json)
    }

    /// Turns the raw objects into tactics (matrix order) and techniques (ID order, so parents
    /// come before their sub-techniques).
    pub(super) fn into_domain(self, domain: Domain) -> (Vec<Tactic>, Vec<Technique>) {
        let index = Index::new(&self.objects);
        let tactics = self.tactics(domain);
        let tactic_by_shortname: HashMap<&str, TacticId> =
            tactics.iter().map(|t| (t.shortname.as_str(), t.id)).collect();
        let mut techniques: Vec<Technique> = self
            .objects
            .iter()
            .filter(|o| o.kind == "attack-pattern")
            .filter_map(|o| {
                let id: TechniqueId = o.external_id()?.parse().ok()?;
                Some(Technique {
                    id,
                    name: o.name.clone(),
                    description: o.description.clone(),
                    domain,
                    tactics: o
                        .kill_chain_phases
                        .iter()
                        .filter_map(|p| tactic_by_shortname.get(p.phase_name.as_str()).copied())
                        .collect(),
                    platforms: o.x_mitre_platforms.clone(),
                    data_components: index.data_components(o),
                    url: id.attack_url(),
                    revoked: o.revoked,
                    revoked_by: index.revoked_by.get(o.id.as_str()).copied(),
                    deprecated: o.x_mitre_deprecated,
                })
            })
            .collect();
        techniques.sort_by_key(|t| t.id);
        (tactics, techniques)
    }

    fn tactics(&self, domain: Domain) -> Vec<Tactic> {
        let mut tactics: Vec<(usize, Tactic)> = self
            .objects
            .iter()
            .filter(|o| o.kind == "x-mitre-tactic" && !o.revoked && !o.x_mitre_deprecated)
            .filter_map(|o| {
                let id: TacticId = o.external_id()?.parse().ok()?;
                let order = self.matrix_position(&o.id).unwrap_or(usize::MAX);
                Some((
                    order,
                    Tactic {
                        id,
                        name: o.name.clone(),
                        shortname: o.x_mitre_shortname.clone(),
                        description: o.description.clone(),
                        domain,
                        url: id.attack_url(),
                    },
                ))
            })
            .collect();
        tactics.sort_by_key(|(order, tactic)| (*order, tactic.id));
        tactics.into_iter().map(|(_, t)| t).collect()
    }

    /// Where a tactic sits in the domain's matrix (the first matrix, for mobile's two).
    fn matrix_position(&self, tactic_stix_id: &str) -> Option<usize> {
        self.objects
            .iter()
            .filter(|o| o.kind == "x-mitre-matrix")
            .find_map(|m| m.tactic_refs.iter().position(|r| r == tactic_stix_id))
    }
}

/// Lookups over the bundle's objects by STIX id.
struct Index<'a> {
    revoked_by: HashMap<&'a str, TechniqueId>,
    /// technique STIX id -> detection strategy STIX ids that detect it
    strategies_for: HashMap<&'a str, Vec<&'a str>>,
    by_id: HashMap<&'a str, &'a Object>,
}

impl<'a> Index<'a> {
    fn new(objects: &'a [Object]) -> Index<'a> {
        let by_id: HashMap<&str, &Object> = objects.iter().map(|o| (o.id.as_str(), o)).collect();
        let mut revoked_by = HashMap::new();
        let mut strategies_for: HashMap<&str, Vec<&str>> = HashMap::new();
        for rel in objects.iter().filter(|o| o.kind == "relationship") {
            match rel.relationship_type.as_str() {
                "revoked-by" => {
                    let target = by_id.get(rel.target_ref.as_str()).and_then(|t| t.external_id());
                    if let Some(Ok(target)) = target.map(str::parse::<TechniqueId>) {
                        revoked_by.insert(rel.source_ref.as_str(), target);
                    }
                }
                "detects" => strategies_for.entry(rel.target_ref.as_str()).or_default().push(rel.source_ref.as_str()),
                _ => {}
            }
        }
        Index { revoked_by, strategies_for, by_id }
    }

    /// Data components from ATT&CK v18 detection strategies (strategy -> analytics -> log
    /// sources -> data component), or from the pre-v18 `x_mitre_data_sources` field.
    fn data_components(&self, technique: &Object) -> Vec<String> {
        let mut names: Vec<String> = technique
            .x_mitre_data_sources
            .iter()
            .map(|s| s.split_once(": ").map_or(s.as_str(), |(_, c)| c).to_string())
            .collect();
        let strategies = self.strategies_for.get(technique.id.as_str()).map(Vec::as_slice).unwrap_or(&[]);
        let components = strategies
            .iter()
            .filter_map(|s| self.by_id.get(s))
            .flat_map(|s| s.x_mitre_analytic_refs.iter())
            .filter_map(|a| self.by_id.get(a.as_str()))
            .flat_map(|a| a.x_mitre_log_source_references.iter())
            .filter_map(|r| self.by_id.get(r.x_mitre_data_component_ref.as_str()))
            .map(|c| c.name.clone());
        names.extend(components);
        names.sort();
        names.dedup();
        names
    }
}

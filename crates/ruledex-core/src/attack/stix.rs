//! The slice of the STIX 2.1 bundle format ATT&CK uses that ruledex reads.

use std::borrow::Cow;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;
use rustc_hash::FxHashMap;
use serde::Deserialize;

use super::objects::{AttackObject, SoftwareKind};
use super::{Domain, Tactic, Technique};
use crate::ids::{ObjectId, ObjectKind, TacticId, TechniqueId};

#[derive(Deserialize)]
pub(super) struct Bundle<'a> {
    #[serde(borrow)]
    objects: Vec<Object<'a>>,
}

/// Every object type in one flat shape: serde skips what an object lacks, which is far faster
/// than an internally tagged enum over 20,000 relationships. The short strings read for every
/// object (types, STIX ids, references) and texts without escapes borrow from the bundle's bytes
/// instead of allocating; only what ruledex keeps is copied.
#[derive(Deserialize)]
struct Object<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(default, borrow)]
    name: Cow<'a, str>,
    #[serde(default, borrow)]
    description: Cow<'a, str>,
    #[serde(default, borrow)]
    external_references: Vec<ExternalReference<'a>>,
    #[serde(default, borrow)]
    kill_chain_phases: Vec<KillChainPhase<'a>>,
    #[serde(default)]
    x_mitre_platforms: Vec<String>,
    #[serde(default)]
    x_mitre_data_sources: Vec<String>,
    #[serde(default)]
    revoked: bool,
    #[serde(default)]
    x_mitre_deprecated: bool,
    #[serde(default, borrow)]
    x_mitre_shortname: Cow<'a, str>,
    #[serde(default, borrow)]
    tactic_refs: Vec<Cow<'a, str>>,
    #[serde(default, borrow)]
    relationship_type: Cow<'a, str>,
    #[serde(default, borrow)]
    source_ref: Cow<'a, str>,
    #[serde(default, borrow)]
    target_ref: Cow<'a, str>,
    #[serde(default, borrow)]
    x_mitre_analytic_refs: Vec<Cow<'a, str>>,
    #[serde(default, borrow)]
    x_mitre_log_source_references: Vec<LogSourceReference<'a>>,
    /// Groups and campaigns.
    #[serde(default)]
    aliases: Vec<String>,
    /// Software.
    #[serde(default)]
    x_mitre_aliases: Vec<String>,
    /// The release, on the `x-mitre-collection` object (every object has one: its own version).
    #[serde(default, borrow)]
    x_mitre_version: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ExternalReference<'a> {
    #[serde(borrow)]
    source_name: Cow<'a, str>,
    #[serde(default, borrow)]
    external_id: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct KillChainPhase<'a> {
    #[serde(borrow)]
    phase_name: Cow<'a, str>,
}

#[derive(Deserialize)]
struct LogSourceReference<'a> {
    #[serde(borrow)]
    x_mitre_data_component_ref: Cow<'a, str>,
}

impl Object<'_> {
    fn attack_reference(&self) -> Option<&ExternalReference<'_>> {
        self.external_references.iter().find(|r| r.source_name.starts_with("mitre"))
    }

    fn external_id(&self) -> Option<&str> {
        self.attack_reference()?.external_id.as_deref()
    }

    /// The ATT&CK ID of an object, parsed.
    fn attack_id<T: FromStr>(&self) -> Option<T> {
        self.external_id()?.parse().ok()
    }

    /// A relationship that still holds: ATT&CK marks withdrawn ones revoked or deprecated.
    fn is_live_relationship(&self) -> bool {
        self.kind == "relationship" && !self.revoked && !self.x_mitre_deprecated
    }

    fn object_kind(&self) -> Option<ObjectKind> {
        match self.kind.as_ref() {
            "intrusion-set" => Some(ObjectKind::Group),
            "campaign" => Some(ObjectKind::Campaign),
            "malware" | "tool" => Some(ObjectKind::Software),
            _ => None,
        }
    }
}

/// What one bundle holds, ready for the catalog.
pub(super) struct DomainContent {
    /// The ATT&CK release the bundle declares, when it does (see [`Bundle::release`]).
    pub release: Option<String>,
    /// Current tactics in matrix order, then revoked and deprecated ones.
    pub tactics: Vec<Tactic>,
    /// In ID order, so parents come before their sub-techniques.
    pub techniques: Vec<Technique>,
    pub objects: Vec<ObjectEntry>,
}

/// A group, campaign or software, and the techniques its `uses` relationships name (as named:
/// the catalog follows revoked ones), each with the relationship's description.
pub(super) struct ObjectEntry {
    pub object: AttackObject,
    pub uses: Vec<(TechniqueId, String)>,
}

impl<'a> Bundle<'a> {
    pub(super) fn parse(json: &'a [u8]) -> Result<Bundle<'a>, serde_json::Error> {
        serde_json::from_slice(json)
    }

    pub(super) fn into_domain(self, domain: Domain) -> DomainContent {
        let index = Index::new(&self.objects);
        let tactics = self.tactics(domain, &index);
        let tactic_by_shortname: HashMap<&str, TacticId> =
            tactics.iter().filter(|t| t.is_current()).map(|t| (t.shortname.as_str(), t.id)).collect();
        let mut techniques: Vec<Technique> = self
            .objects
            .iter()
            .filter(|o| o.kind == "attack-pattern")
            .filter_map(|o| {
                let id: TechniqueId = o.attack_id()?;
                Some(Technique {
                    id,
                    name: o.name.to_string(),
                    description: o.description.to_string(),
                    domain,
                    tactics: o
                        .kill_chain_phases
                        .iter()
                        .filter_map(|p| tactic_by_shortname.get(p.phase_name.as_ref()).copied())
                        .collect(),
                    platforms: o.x_mitre_platforms.clone(),
                    data_components: index.data_components(o),
                    url: id.attack_url(),
                    revoked: o.revoked,
                    revoked_by: index.revoked_by(o).into_iter().next(),
                    deprecated: o.x_mitre_deprecated,
                    successors: if o.x_mitre_deprecated { deprecation_successors(o, "techniques") } else { vec![] },
                })
            })
            .collect();
        techniques.sort_by_key(|t| t.id);
        DomainContent { release: self.release(), tactics, techniques, objects: self.attack_objects(domain, &index) }
    }

    /// The release in the bundle's `x-mitre-collection` object, which MITRE's attack-stix-data
    /// bundles carry; the bundles of the older mitre/cti repository have none.
    fn release(&self) -> Option<String> {
        let collection = self.objects.iter().find(|o| o.kind == "x-mitre-collection")?;
        collection.x_mitre_version.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(String::from)
    }

    fn tactics(&self, domain: Domain, index: &Index<'_>) -> Vec<Tactic> {
        let matrices: Vec<&[Cow<'_, str>]> =
            self.objects.iter().filter(|o| o.kind == "x-mitre-matrix").map(|m| m.tactic_refs.as_slice()).collect();
        // Where a tactic sits in the domain's matrix (the first matrix naming it, for mobile's two).
        let position = |stix_id: &str| matrices.iter().find_map(|refs| refs.iter().position(|r| r == stix_id));
        let mut tactics: Vec<(bool, usize, Tactic)> = self
            .objects
            .iter()
            .filter(|o| o.kind == "x-mitre-tactic")
            .filter_map(|o| {
                let id: TacticId = o.attack_id()?;
                let tactic = Tactic {
                    id,
                    name: o.name.to_string(),
                    shortname: o.x_mitre_shortname.to_string(),
                    description: o.description.to_string(),
                    domain,
                    url: id.attack_url(),
                    revoked: o.revoked,
                    deprecated: o.x_mitre_deprecated,
                    revoked_by: index.revoked_by(o),
                    successors: if o.x_mitre_deprecated { deprecation_successors(o, "tactics") } else { vec![] },
                };
                Some((!tactic.is_current(), position(&o.id).unwrap_or(usize::MAX), tactic))
            })
            .collect();
        tactics.sort_by_key(|(retired, order, tactic)| (*retired, *order, tactic.id));
        tactics.into_iter().map(|(_, _, t)| t).collect()
    }

    fn attack_objects(&self, domain: Domain, index: &Index<'_>) -> Vec<ObjectEntry> {
        self.objects
            .iter()
            .filter(|o| o.object_kind().is_some())
            .filter_map(|o| {
                let id: ObjectId = o.attack_id()?;
                (Some(id.kind()) == o.object_kind()).then(|| index.object_entry(o, id, domain))
            })
            .collect()
    }
}

/// The IDs a deprecated object's note points to: ATT&CK deprecates with a first paragraph such
/// as "**This technique has been deprecated. Please use [Remote Services](https://attack.mitre.org/techniques/T1021)
/// where appropriate.**" (`section` is `techniques` or `tactics`).
fn deprecation_successors<T: FromStr + PartialEq>(object: &Object<'_>, section: &str) -> Vec<T> {
    static LINK: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"attack\.mitre\.org/(techniques|tactics)/([A-Za-z0-9]+(?:/[0-9]{3})?)").expect("valid regex")
    });
    let note = object.description.split("\n\n").next().unwrap_or_default();
    if !note.to_ascii_lowercase().contains("deprecated") {
        return vec![];
    }
    let mut ids: Vec<T> = Vec::new();
    for caps in LINK.captures_iter(note).filter(|c| &c[1] == section) {
        if let Ok(id) = caps[2].parse::<T>()
            && !ids.contains(&id)
        {
            ids.push(id);
        }
    }
    ids
}

/// Lookups over the bundle's objects by STIX id. The keys are ATT&CK's own ids, not
/// attacker-chosen text, so a fast non-DoS-resistant hash is safe; std's SipHash was the
/// largest cost of following 20,000 relationships.
struct Index<'a> {
    by_id: FxHashMap<&'a str, &'a Object<'a>>,
    /// revoked object STIX id -> the STIX ids that replace it
    revoked_by: FxHashMap<&'a str, Vec<&'a str>>,
    /// technique STIX id -> detection strategy STIX ids that detect it
    strategies_for: FxHashMap<&'a str, Vec<&'a str>>,
    /// group, campaign or software STIX id -> its `uses` relationships
    uses: FxHashMap<&'a str, Vec<&'a Object<'a>>>,
    /// campaign STIX id -> group STIX ids
    attributed_to: FxHashMap<&'a str, Vec<&'a str>>,
}

impl<'a> Index<'a> {
    fn new(objects: &'a [Object<'a>]) -> Index<'a> {
        let mut index = Index {
            by_id: objects.iter().map(|o| (o.id.as_ref(), o)).collect(),
            revoked_by: FxHashMap::default(),
            strategies_for: FxHashMap::default(),
            uses: FxHashMap::default(),
            attributed_to: FxHashMap::default(),
        };
        for rel in objects.iter().filter(|o| o.is_live_relationship()) {
            let (source, target) = (rel.source_ref.as_ref(), rel.target_ref.as_ref());
            match rel.relationship_type.as_ref() {
                "revoked-by" => index.revoked_by.entry(source).or_default().push(target),
                "detects" => index.strategies_for.entry(target).or_default().push(source),
                "uses" => index.uses.entry(source).or_default().push(rel),
                "attributed-to" => index.attributed_to.entry(source).or_default().push(target),
                _ => {}
            }
        }
        index
    }

    /// The ATT&CK IDs of the objects that replace a revoked one.
    fn revoked_by<T: FromStr + PartialEq>(&self, object: &Object<'_>) -> Vec<T> {
        let targets = self.revoked_by.get(object.id.as_ref()).map(Vec::as_slice).unwrap_or(&[]);
        let mut ids: Vec<T> = Vec::new();
        for id in targets.iter().filter_map(|t| self.attack_id(t)) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }

    fn attack_id<T: FromStr>(&self, stix_id: &str) -> Option<T> {
        self.by_id.get(stix_id)?.attack_id()
    }

    fn object_entry(&self, o: &Object<'_>, id: ObjectId, domain: Domain) -> ObjectEntry {
        let mut techniques = Vec::new();
        let mut software = Vec::new();
        // STIX ids start with their object's type, so one lookup per relationship suffices.
        for rel in self.uses.get(o.id.as_ref()).map(Vec::as_slice).unwrap_or(&[]) {
            let target = rel.target_ref.as_ref();
            if target.starts_with("attack-pattern--") {
                techniques.extend(self.attack_id(target).map(|used| (used, rel.description.to_string())));
            } else if target.starts_with("malware--") || target.starts_with("tool--") {
                software.extend(self.attack_id::<ObjectId>(target).filter(|used| *used != id));
            }
        }
        let attributed_to = self.attributed_to.get(o.id.as_ref()).map(Vec::as_slice).unwrap_or(&[]);
        let aliases = o.aliases.iter().chain(&o.x_mitre_aliases).filter(|a| **a != o.name).cloned().collect();
        let object = AttackObject {
            id,
            name: o.name.to_string(),
            aliases,
            description: o.description.to_string(),
            url: id.attack_url(),
            domains: vec![domain],
            software_kind: match o.kind.as_ref() {
                "malware" => Some(SoftwareKind::Malware),
                "tool" => Some(SoftwareKind::Tool),
                _ => None,
            },
            platforms: o.x_mitre_platforms.clone(),
            revoked: o.revoked,
            revoked_by: self.revoked_by(o).into_iter().next(),
            deprecated: o.x_mitre_deprecated,
            techniques: vec![],
            software,
            attributed_to: attributed_to.iter().filter_map(|g| self.attack_id(g)).collect(),
        };
        ObjectEntry { object, uses: techniques }
    }

    /// Data components from ATT&CK v18 detection strategies (strategy -> analytics -> log
    /// sources -> data component), or from the pre-v18 `x_mitre_data_sources` field.
    fn data_components(&self, technique: &Object<'_>) -> Vec<String> {
        let mut names: Vec<String> = technique
            .x_mitre_data_sources
            .iter()
            .map(|s| s.split_once(": ").map_or(s.as_str(), |(_, c)| c).to_string())
            .collect();
        let strategies = self.strategies_for.get(technique.id.as_ref()).map(Vec::as_slice).unwrap_or(&[]);
        let components = strategies
            .iter()
            .filter_map(|s| self.by_id.get(s))
            .flat_map(|s| s.x_mitre_analytic_refs.iter())
            .filter_map(|a| self.by_id.get(a.as_ref()))
            .flat_map(|a| a.x_mitre_log_source_references.iter())
            .filter_map(|r| self.by_id.get(r.x_mitre_data_component_ref.as_ref()))
            .map(|c| c.name.to_string());
        names.extend(components);
        names.sort();
        names.dedup();
        names
    }
}

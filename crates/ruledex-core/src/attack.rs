//! The MITRE ATT&CK catalog, loaded from the official STIX 2.1 bundles (enterprise, mobile, ICS),
//! and the resolution of the many ways rules tag ATT&CK (IDs, URLs, names, tactic words).

mod find;
mod stix;
mod tags;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::ids::{TacticId, TechniqueId};
use crate::model::{MappedBy, MappingStatus, TechniqueMapping};

pub use find::TechniqueLookup;
pub use tags::TagMeaning;

/// Which ATT&CK matrix an object belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Domain {
    Enterprise,
    Mobile,
    Ics,
}

impl Domain {
    pub fn label(self) -> &'static str {
        match self {
            Domain::Enterprise => "Enterprise",
            Domain::Mobile => "Mobile",
            Domain::Ics => "ICS",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Technique {
    pub id: TechniqueId,
    pub name: String,
    pub description: String,
    pub domain: Domain,
    /// Tactics in matrix order.
    pub tactics: Vec<TacticId>,
    pub platforms: Vec<String>,
    /// ATT&CK data components that detect it (from detection strategies, or the older
    /// `x_mitre_data_sources` field).
    pub data_components: Vec<String>,
    pub url: String,
    pub revoked: bool,
    /// The technique that replaced it, when revoked.
    pub revoked_by: Option<TechniqueId>,
    pub deprecated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tactic {
    pub id: TacticId,
    pub name: String,
    /// The STIX kill-chain phase name, e.g. `command-and-control`.
    pub shortname: String,
    pub description: String,
    pub domain: Domain,
    pub url: String,
}

/// Everything ruledex knows about ATT&CK.
#[derive(Debug, Clone, Default)]
pub struct AttackCatalog {
    techniques: BTreeMap<TechniqueId, Technique>,
    /// In matrix order, enterprise first.
    tactics: Vec<Tactic>,
    /// Normalized technique names ("proxy", "proxy: multi-hop proxy") to the IDs bearing them.
    technique_names: HashMap<String, Vec<TechniqueId>>,
    /// Normalized tactic names and shortnames to IDs; enterprise wins where domains share a name.
    tactic_names: HashMap<String, TacticId>,
    /// An ATT&CK release label, such as "18.1", when known.
    pub version: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AttackError {
    #[error("cannot read ATT&CK bundle {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("ATT&CK bundle {path} is not a STIX bundle: {source}")]
    Parse { path: String, source: serde_json::Error },
}

impl AttackCatalog {
    /// Loads and merges bundles, enterprise first so its names win on conflicts.
    pub fn load(bundles: &[(Domain, &Path)]) -> Result<AttackCatalog, AttackError> {
        let mut catalog = AttackCatalog::default();
        for (domain, path) in bundles {
            let bytes =
                std::fs::read(path).map_err(|source| AttackError::Read { path: path.display().to_string(), source })?;
            catalog
                .add_bundle(*domain, &bytes)
                .map_err(|source| AttackError::Parse { path: path.display().to_string(), source })?;
        }
        Ok(catalog)
    }

    /// A catalog of techniques and tactics read back from storage (tactics in matrix order).
    pub fn from_parts(techniques: Vec<Technique>, tactics: Vec<Tactic>, version: Option<String>) -> AttackCatalog {
        let mut catalog = AttackCatalog { version, ..AttackCatalog::default() };
        for tactic in tactics {
            catalog.add_tactic(tactic);
        }
        let mut techniques = techniques;
        // Parents before their sub-techniques, so "Parent: Sub" names can be indexed.
        techniques.sort_by_key(|t| t.id);
        for technique in techniques {
            catalog.insert_technique(technique);
        }
        catalog
    }

    fn add_tactic(&mut self, tactic: Tactic) {
        for key in [tags::normalize_tactic_name(&tactic.name), tags::normalize_tactic_name(&tactic.shortname)] {
            self.tactic_names.entry(key).or_insert(tactic.id);
        }
        self.tactics.push(tactic);
    }

    /// Adds one STIX bundle's techniques and tactics.
    pub fn add_bundle(&mut self, domain: Domain, json: &[u8]) -> Result<(), serde_json::Error> {
        let bundle = stix::Bundle::parse(json)?;
        let (tactics, techniques) = bundle.into_domain(domain);
        for tactic in tactics {
            self.add_tactic(tactic);
        }
        for technique in techniques {
            self.insert_technique(technique);
        }
        Ok(())
    }

    /// Keeps the current object when a bundle holds several under one ID (a revoked copy and
    /// its successor, say).
    fn insert_technique(&mut self, technique: Technique) {
        let replaces = match self.techniques.get(&technique.id) {
            Some(existing) => existing.revoked || existing.deprecated,
            None => true,
        };
        if !replaces {
            return;
        }
        let parent_name =
            technique.id.is_subtechnique().then(|| self.techniques.get(&technique.id.parent()).map(|p| p.name.clone()));
        let mut names = vec![tags::normalize_technique_name(&technique.name)];
        if let Some(Some(parent)) = parent_name {
            names.push(tags::normalize_technique_name(&format!("{parent}: {}", technique.name)));
        }
        for name in names {
            let ids = self.technique_names.entry(name).or_default();
            if !ids.contains(&technique.id) {
                ids.push(technique.id);
            }
        }
        self.techniques.insert(technique.id, technique);
    }

    pub fn technique(&self, id: TechniqueId) -> Option<&Technique> {
        self.techniques.get(&id)
    }

    pub fn techniques(&self) -> impl Iterator<Item = &Technique> {
        self.techniques.values()
    }

    pub fn tactics(&self) -> &[Tactic] {
        &self.tactics
    }

    pub fn tactic(&self, id: TacticId) -> Option<&Tactic> {
        self.tactics.iter().find(|t| t.id == id)
    }

    /// Sub-techniques of a technique, in ID order.
    pub fn subtechniques(&self, parent: TechniqueId) -> impl Iterator<Item = &Technique> {
        self.techniques.values().filter(move |t| t.id.is_subtechnique() && t.id.parent() == parent)
    }

    /// "Parent: Sub" for sub-techniques, the name otherwise.
    pub fn full_name(&self, id: TechniqueId) -> Option<String> {
        full_name(id, |i| self.techniques.get(&i))
    }

    /// What one ATT&CK tag, as a rule wrote it, refers to.
    pub fn resolve_tag(&self, tag: &str) -> Vec<TagMeaning> {
        tags::resolve(self, tag)
    }

    /// The mapping a detection gets for a technique ID it was tagged with: revoked IDs move to
    /// their replacement, deprecated and unknown IDs stay but are flagged.
    pub fn map_technique(&self, id: TechniqueId, tagged: &str, mapped_by: MappedBy) -> TechniqueMapping {
        let mapping = |listed: TechniqueId, tagged_id: Option<TechniqueId>, status| TechniqueMapping {
            id: listed,
            name: self.full_name(listed),
            tagged: tagged.to_string(),
            tagged_id,
            status,
            mapped_by,
        };
        match self.techniques.get(&id) {
            None => mapping(id, None, MappingStatus::Unknown),
            Some(t) if t.revoked => match self.replacement(id) {
                Some(replacement) => mapping(replacement, Some(id), MappingStatus::Revoked),
                None => mapping(id, None, MappingStatus::Revoked),
            },
            Some(t) if t.deprecated => mapping(id, None, MappingStatus::Deprecated),
            Some(_) => mapping(id, None, MappingStatus::Current),
        }
    }

    /// Follows revoked-by links to a technique that is not revoked (bounded, in case of cycles).
    fn replacement(&self, id: TechniqueId) -> Option<TechniqueId> {
        let mut current = self.techniques.get(&id)?.revoked_by?;
        for _ in 0..8 {
            match self.techniques.get(&current) {
                Some(t) if t.revoked => current = t.revoked_by?,
                _ => return Some(current),
            }
        }
        None
    }

    fn techniques_named(&self, normalized: &str) -> &[TechniqueId] {
        self.technique_names.get(normalized).map(Vec::as_slice).unwrap_or(&[])
    }

    fn tactic_named(&self, normalized: &str) -> Option<TacticId> {
        self.tactic_names.get(normalized).copied()
    }
}

/// "Parent: Sub" for a sub-technique (ATT&CK's own way of naming it), the name otherwise;
/// `find` looks techniques up wherever the caller keeps them.
pub fn full_name<'a>(id: TechniqueId, find: impl Fn(TechniqueId) -> Option<&'a Technique>) -> Option<String> {
    let technique = find(id)?;
    Some(match find(id.parent()).filter(|_| id.is_subtechnique()) {
        Some(parent) => format!("{}: {}", parent.name, technique.name),
        None => technique.name.clone(),
    })
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// A small hand-written bundle (shared with the CLI tests): T1090 with two sub-techniques,
    /// a revoked T1086 replaced by T1059.001, a deprecated T1064, and two tactics.
    pub const MINI_BUNDLE: &str = include_str!("../../../tests/fixtures/attack/mini-enterprise.json");

    pub fn mini_catalog() -> AttackCatalog {
        let mut catalog = AttackCatalog::default();
        catalog.add_bundle(Domain::Enterprise, MINI_BUNDLE.as_bytes()).unwrap();
        catalog
    }
}

#[cfg(test)]
mod tests {
    use super::testing::mini_catalog;
    use super::*;

    fn id(s: &str) -> TechniqueId {
        s.parse().unwrap()
    }

    #[test]
    fn bundle_yields_techniques_with_tactics_platforms_and_data_components() {
        let catalog = mini_catalog();
        let proxy = catalog.technique(id("T1090")).unwrap();
        assert_eq!(proxy.name, "Proxy");
        assert_eq!(proxy.tactics, vec!["TA0011".parse().unwrap()]);
        assert_eq!(proxy.platforms, vec!["Linux", "Windows"]);
        assert_eq!(proxy.data_components, vec!["Network Connection Creation"]);
        assert_eq!(proxy.url, "https://attack.mitre.org/techniques/T1090/");
        let subs: Vec<_> = catalog.subtechniques(id("T1090")).map(|t| t.id.to_string()).collect();
        assert_eq!(subs, vec!["T1090.001", "T1090.002", "T1090.003"]);
        assert_eq!(catalog.full_name(id("T1090.003")).unwrap(), "Proxy: Multi-hop Proxy");
        let tactic_order: Vec<_> = catalog.tactics().iter().map(|t| t.id.to_string()).collect();
        assert_eq!(tactic_order, vec!["TA0002", "TA0011"], "matrix order, not file order");
    }

    #[test]
    fn revoked_ids_are_listed_under_their_replacement() {
        let catalog = mini_catalog();
        let mapping = catalog.map_technique(id("T1086"), "t1086", MappedBy::Vendor);
        assert_eq!(mapping.id, id("T1059.001"));
        assert_eq!(mapping.tagged_id, Some(id("T1086")));
        assert_eq!(mapping.status, MappingStatus::Revoked);
    }

    #[test]
    fn deprecated_and_unknown_ids_are_kept_and_flagged() {
        let catalog = mini_catalog();
        let deprecated = catalog.map_technique(id("T1064"), "T1064", MappedBy::Vendor);
        assert_eq!((deprecated.id, deprecated.status), (id("T1064"), MappingStatus::Deprecated));
        let unknown = catalog.map_technique(id("T1999"), "T1999", MappedBy::Vendor);
        assert_eq!((unknown.id, unknown.status), (id("T1999"), MappingStatus::Unknown));
        assert_eq!(unknown.name, None);
    }
}

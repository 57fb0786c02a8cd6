//! The MITRE ATT&CK catalog, loaded from the official STIX 2.1 bundles (enterprise, mobile, ICS):
//! techniques, tactics, and the groups, campaigns and software that use them; the resolution
//! of the many ways rules tag ATT&CK (IDs, URLs, names, tactic words); and carrying tags across
//! releases (revoked and deprecated techniques and tactics lead to their replacements).

mod find;
mod objects;
mod stix;
mod tags;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::ids::{ObjectId, TacticId, TechniqueId};
use crate::model::{MappedBy, MappingStatus, MappingVia, TacticRef, TechniqueMapping};

pub use find::TechniqueLookup;
pub use objects::{AttackObject, SoftwareKind, TechniqueUse};
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

    /// ATT&CK's own name for the domain, as STIX and the ATT&CK Navigator write it.
    pub fn attack_name(self) -> &'static str {
        match self {
            Domain::Enterprise => "enterprise-attack",
            Domain::Mobile => "mobile-attack",
            Domain::Ics => "ics-attack",
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
    /// For a deprecated technique, those its deprecation note says to use instead "where
    /// appropriate". Detections tagged with it stay listed under it: the choice is per rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub successors: Vec<TechniqueId>,
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
    #[serde(default, skip_serializing_if = "is_false")]
    pub revoked: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub deprecated: bool,
    /// The tactics that replaced it, when revoked (a split names several).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revoked_by: Vec<TacticId>,
    /// The tactics a deprecated tactic's note says to use instead.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub successors: Vec<TacticId>,
}

fn is_false(value: &bool) -> bool {
    !value
}

impl Tactic {
    /// In the matrix: neither revoked nor deprecated.
    pub fn is_current(&self) -> bool {
        !self.revoked && !self.deprecated
    }

    /// The tactics that take the place of a retired one.
    fn replacements(&self) -> &[TacticId] {
        if self.revoked { &self.revoked_by } else { &self.successors }
    }
}

/// Everything ruledex knows about ATT&CK.
#[derive(Debug, Clone, Default)]
pub struct AttackCatalog {
    techniques: BTreeMap<TechniqueId, Technique>,
    /// In matrix order, enterprise first.
    tactics: Vec<Tactic>,
    /// Revoked and deprecated tactics, kept to carry tags naming them.
    retired_tactics: Vec<Tactic>,
    /// Normalized technique names ("proxy", "proxy: multi-hop proxy") to the IDs bearing them.
    technique_names: HashMap<String, Vec<TechniqueId>>,
    /// Normalized tactic names and shortnames to IDs; enterprise wins where domains share a
    /// name, and a current tactic over a retired one of the same bundle.
    tactic_names: HashMap<String, TacticId>,
    objects: objects::ObjectIndex,
    /// The release each bundle declares, when it does.
    bundle_releases: BTreeMap<Domain, String>,
    /// An ATT&CK release label, such as "18.1", from the configuration; see [`AttackCatalog::release`].
    pub version: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AttackError {
    #[error("cannot read ATT&CK bundle {path}: {source}")]
    Read { path: String, source: std::io::Error },
    /// `reason` is part of the message rather than a chained source, so it is printed once.
    #[error("ATT&CK bundle {path} {reason}")]
    Bundle { path: String, reason: BundleError },
}

/// Why a bundle's bytes are not ATT&CK.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("is not a STIX bundle: {0}")]
    Parse(#[from] serde_json::Error),
    #[error(
        "holds no ATT&CK techniques (no attack-pattern object with a mitre-attack ID such as T1090): \
         it is not an ATT&CK bundle"
    )]
    NoTechniques,
}

impl AttackCatalog {
    /// Loads and merges bundles, enterprise first so its names win on conflicts.
    pub fn load(bundles: &[(Domain, &Path)]) -> Result<AttackCatalog, AttackError> {
        let mut catalog = AttackCatalog::default();
        for (domain, path) in bundles {
            let path_text = || path.display().to_string();
            let bytes = std::fs::read(path).map_err(|source| AttackError::Read { path: path_text(), source })?;
            catalog.add_bundle(*domain, &bytes).map_err(|reason| AttackError::Bundle { path: path_text(), reason })?;
        }
        Ok(catalog)
    }

    /// A catalog of techniques and tactics (current and retired) read back from storage, tactics
    /// in matrix order.
    pub fn from_parts(techniques: Vec<Technique>, tactics: Vec<Tactic>, version: Option<String>) -> AttackCatalog {
        let mut catalog = AttackCatalog { version, ..AttackCatalog::default() };
        for tactic in tactics {
            catalog.insert_tactic(tactic);
        }
        let mut techniques = techniques;
        // Parents before their sub-techniques, so "Parent: Sub" names can be indexed.
        techniques.sort_by_key(|t| t.id);
        for technique in techniques {
            catalog.insert_technique(technique);
        }
        catalog
    }

    /// Adds one STIX bundle: its release, tactics, techniques, groups, campaigns and software.
    /// Refuses a bundle without any ATT&CK technique, leaving the catalog as it was.
    pub fn add_bundle(&mut self, domain: Domain, json: &[u8]) -> Result<(), BundleError> {
        let content = stix::Bundle::parse(json)?.into_domain(domain);
        if content.techniques.is_empty() {
            return Err(BundleError::NoTechniques);
        }
        if let Some(release) = content.release {
            self.bundle_releases.insert(domain, release);
        }
        for tactic in content.tactics {
            self.insert_tactic(tactic);
        }
        for technique in content.techniques {
            self.insert_technique(technique);
        }
        for entry in content.objects {
            let mut object = entry.object;
            object.techniques =
                entry.uses.into_iter().map(|(id, description)| self.technique_use(id, description)).collect();
            self.objects.insert(object);
        }
        self.objects.reindex();
        Ok(())
    }

    fn insert_tactic(&mut self, tactic: Tactic) {
        for key in [tags::normalize_tactic_name(&tactic.name), tags::normalize_tactic_name(&tactic.shortname)] {
            self.tactic_names.entry(key).or_insert(tactic.id);
        }
        if tactic.is_current() { self.tactics.push(tactic) } else { self.retired_tactics.push(tactic) }
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

    /// The ATT&CK release of a domain: the one its bundle declares, else the configured
    /// [`AttackCatalog::version`].
    pub fn release(&self, domain: Domain) -> Option<&str> {
        self.bundle_releases.get(&domain).or(self.version.as_ref()).map(String::as_str)
    }

    pub fn technique(&self, id: TechniqueId) -> Option<&Technique> {
        self.techniques.get(&id)
    }

    pub fn techniques(&self) -> impl Iterator<Item = &Technique> {
        self.techniques.values()
    }

    /// The current tactics, in matrix order.
    pub fn tactics(&self) -> &[Tactic] {
        &self.tactics
    }

    /// Revoked and deprecated tactics.
    pub fn retired_tactics(&self) -> &[Tactic] {
        &self.retired_tactics
    }

    /// A current or retired tactic.
    pub fn tactic(&self, id: TacticId) -> Option<&Tactic> {
        self.tactics.iter().chain(&self.retired_tactics).find(|t| t.id == id)
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
        let (listed, tagged_id, status) = self.resolve_technique(id);
        TechniqueMapping {
            id: listed,
            name: self.full_name(listed),
            tagged: tagged.to_string(),
            tagged_id,
            status,
            mapped_by,
            via: MappingVia::Tag,
        }
    }

    /// Where a technique ID is listed (its replacement, when revoked), the ID it was reached
    /// from when that differs, and its status.
    fn resolve_technique(&self, id: TechniqueId) -> (TechniqueId, Option<TechniqueId>, MappingStatus) {
        match self.techniques.get(&id) {
            None => (id, None, MappingStatus::Unknown),
            Some(t) if t.revoked => match self.replacement(id) {
                Some(replacement) => (replacement, Some(id), MappingStatus::Revoked),
                None => (id, None, MappingStatus::Revoked),
            },
            Some(t) if t.deprecated => (id, None, MappingStatus::Deprecated),
            Some(_) => (id, None, MappingStatus::Current),
        }
    }

    fn technique_use(&self, named: TechniqueId, description: String) -> TechniqueUse {
        let (id, named_id, status) = self.resolve_technique(named);
        TechniqueUse { id, named_id, status, description }
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

    /// The tactics a detection is listed under for a tactic ID it was tagged with. A revoked
    /// tactic leads to the tactics that replaced it (several, when it was split), a deprecated
    /// one to those its note names, each marked with the ID the tag named; a retired tactic
    /// without successors, or an unknown ID, stays, flagged.
    pub fn map_tactic(&self, id: TacticId) -> Vec<TacticRef> {
        let Some(tactic) = self.tactic(id) else {
            return vec![TacticRef { id, name: id.to_string(), tagged_id: None, status: MappingStatus::Unknown }];
        };
        let status = match (tactic.revoked, tactic.deprecated) {
            (true, _) => MappingStatus::Revoked,
            (false, true) => MappingStatus::Deprecated,
            (false, false) => MappingStatus::Current,
        };
        let successors = self.current_successors(tactic);
        if successors.is_empty() {
            return vec![TacticRef { id, name: tactic.name.clone(), tagged_id: None, status }];
        }
        successors
            .into_iter()
            .map(|successor| TacticRef { id: successor.id, name: successor.name.clone(), tagged_id: Some(id), status })
            .collect()
    }

    /// The current tactics that replace a retired one, following chains of retirements
    /// (bounded, in case of cycles).
    fn current_successors(&self, tactic: &Tactic) -> Vec<&Tactic> {
        let mut found: Vec<&Tactic> = Vec::new();
        let mut pending: Vec<(TacticId, usize)> = tactic.replacements().iter().map(|id| (*id, 1)).collect();
        while let Some((id, depth)) = pending.pop() {
            match self.tactic(id) {
                Some(t) if t.is_current() && !found.iter().any(|f| f.id == t.id) => found.push(t),
                Some(t) if !t.is_current() && depth < 8 => {
                    pending.extend(t.replacements().iter().map(|id| (*id, depth + 1)));
                }
                _ => {}
            }
        }
        found.sort_by_key(|t| self.tactics.iter().position(|m| m.id == t.id));
        found
    }

    /// Whether an ID the loaded bundles lack is numbered after all they hold (a technique
    /// after every technique, or a sub-technique after every sibling, or a tactic after every
    /// tactic). MITRE numbers new IDs upward, so such a tag comes from a newer release than the
    /// loaded one (Sigma's T1685 against ATT&CK 18.1) rather than being a typo.
    pub fn is_newer_than_release(&self, tag: &str) -> bool {
        if let Ok(id) = tag.parse::<TechniqueId>() {
            return self.is_newer_technique(id);
        }
        tag.parse::<TacticId>().is_ok_and(|id| self.tactics.iter().chain(&self.retired_tactics).all(|t| t.id < id))
    }

    fn is_newer_technique(&self, id: TechniqueId) -> bool {
        if self.techniques.contains_key(&id) {
            return false;
        }
        if self.techniques.contains_key(&id.parent()) {
            // A new sub-technique of a known technique.
            return self.subtechniques(id.parent()).all(|sibling| sibling.id < id);
        }
        self.techniques.keys().all(|known| known.parent() < id.parent())
    }

    /// A group, campaign or software by ID (revoked and deprecated ones included).
    pub fn object(&self, id: ObjectId) -> Option<&AttackObject> {
        self.objects.get(id)
    }

    /// Adds groups, campaigns and software read back from storage, their technique uses
    /// already resolved.
    pub fn insert_objects(&mut self, objects: Vec<AttackObject>) {
        for object in objects {
            self.objects.insert(object);
        }
        self.objects.reindex();
    }

    /// Every group, campaign and software, in ID order (groups first).
    pub fn objects(&self) -> impl Iterator<Item = &AttackObject> {
        self.objects.all()
    }

    /// Groups, campaigns or software named `query`: an ID, a name or an alias, in any letter
    /// case ("APT29", "Cozy Bear", "cozy bear" and "G0016" all find APT29). Current objects win
    /// over revoked or deprecated namesakes.
    pub fn find_objects(&self, query: &str) -> Vec<&AttackObject> {
        self.objects.find(query)
    }

    /// Current objects whose name or an alias is a few edits away from `query`, closest first:
    /// the "did you mean" for a name [`AttackCatalog::find_objects`] does not know.
    pub fn closest_objects(&self, query: &str, limit: usize) -> Vec<&AttackObject> {
        self.objects.closest(query, limit)
    }

    /// Current groups, campaigns and software known to use exactly this technique (not its
    /// sub-techniques), groups first.
    pub fn users_of(&self, technique: TechniqueId) -> impl Iterator<Item = &AttackObject> {
        self.objects.users_of(technique)
    }

    /// Current campaigns attributed to a group.
    pub fn campaigns_of(&self, group: ObjectId) -> impl Iterator<Item = &AttackObject> {
        self.objects.campaigns_of(group)
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

    /// The mini bundle with more STIX objects, for what it lacks.
    pub fn mini_catalog_with(objects: serde_json::Value) -> AttackCatalog {
        let mut bundle: serde_json::Value = serde_json::from_str(MINI_BUNDLE).unwrap();
        let added = objects.as_array().unwrap().iter().cloned();
        bundle["objects"].as_array_mut().unwrap().extend(added);
        let mut catalog = AttackCatalog::default();
        catalog.add_bundle(Domain::Enterprise, &serde_json::to_vec(&bundle).unwrap()).unwrap();
        catalog
    }

    /// A STIX object of `kind` with an ATT&CK ID, plus `fields`.
    pub fn stix(kind: &str, attack_id: &str, fields: serde_json::Value) -> serde_json::Value {
        let mut object = serde_json::json!({
            "type": kind,
            "id": format!("{kind}--{attack_id}"),
            "external_references": [{"source_name": "mitre-attack", "external_id": attack_id}],
        });
        object.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
        object
    }

    /// A relationship between two objects made by [`stix`].
    pub fn relationship(kind: &str, source: &str, target: &str) -> serde_json::Value {
        serde_json::json!({
            "type": "relationship",
            "id": format!("relationship--{source}-{kind}-{target}"),
            "relationship_type": kind,
            "source_ref": source,
            "target_ref": target,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::testing::{mini_catalog, mini_catalog_with, relationship, stix};
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

    fn ta(s: &str) -> TacticId {
        s.parse().unwrap()
    }

    fn tactic(attack_id: &str, name: &str, fields: serde_json::Value) -> serde_json::Value {
        let mut tactic = stix("x-mitre-tactic", attack_id, json!({ "name": name, "description": "" }));
        tactic
            .as_object_mut()
            .unwrap()
            .insert("x_mitre_shortname".into(), name.to_lowercase().replace(' ', "-").into());
        tactic.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
        tactic
    }

    #[test]
    fn a_bundle_without_techniques_is_refused_and_changes_nothing() {
        let mut catalog = mini_catalog();
        let error = catalog.add_bundle(Domain::Mobile, br#"{"type": "bundle", "objects": []}"#).unwrap_err();
        assert!(matches!(error, BundleError::NoTechniques), "{error}");
        let error = catalog.add_bundle(Domain::Mobile, b"title: a Sigma rule").unwrap_err();
        assert!(error.to_string().starts_with("is not a STIX bundle: "), "{error}");
        assert_eq!(catalog.tactics().len(), 2);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("not-attack.json");
        std::fs::write(&path, r#"{"type": "bundle", "objects": [{"type": "identity", "id": "identity--1"}]}"#).unwrap();
        let error = AttackCatalog::load(&[(Domain::Enterprise, &path)]).unwrap_err().to_string();
        assert_eq!(
            error,
            format!(
                "ATT&CK bundle {} holds no ATT&CK techniques (no attack-pattern object with a mitre-attack ID \
                 such as T1090): it is not an ATT&CK bundle",
                path.display()
            )
        );
    }

    #[test]
    fn the_release_is_the_bundles_own_else_the_configured_one() {
        let mut catalog = mini_catalog();
        assert_eq!(catalog.release(Domain::Enterprise), None, "the mini bundle, like mitre/cti's, declares none");
        catalog.version = Some("18.1".into());
        assert_eq!(catalog.release(Domain::Enterprise), Some("18.1"));

        let mut catalog = mini_catalog_with(json!([{
            "type": "x-mitre-collection",
            "id": "x-mitre-collection--1",
            "name": "Enterprise ATT&CK",
            "x_mitre_version": "19.0",
        }]));
        catalog.version = Some("18.1".into());
        assert_eq!(catalog.release(Domain::Enterprise), Some("19.0"));
        assert_eq!(catalog.release(Domain::Mobile), Some("18.1"), "a domain without a declared release");
    }

    #[test]
    fn a_revoked_tactic_leads_to_every_tactic_it_was_split_into() {
        let catalog = mini_catalog_with(json!([
            tactic("TA0005", "Defense Evasion", json!({ "revoked": true })),
            tactic("TA0112", "Stealth", json!({})),
            tactic("TA0113", "Defense Impairment", json!({})),
            relationship("revoked-by", "x-mitre-tactic--TA0005", "x-mitre-tactic--TA0112"),
            relationship("revoked-by", "x-mitre-tactic--TA0005", "x-mitre-tactic--TA0113"),
        ]));
        assert!(catalog.tactics().iter().all(|t| t.id != ta("TA0005")), "a revoked tactic leaves the matrix");
        assert_eq!(catalog.retired_tactics()[0].revoked_by, vec![ta("TA0112"), ta("TA0113")]);
        assert_eq!(catalog.resolve_tag("defense-evasion"), vec![TagMeaning::Tactic(ta("TA0005"))]);
        let mapped = catalog.map_tactic(ta("TA0005"));
        let listed: Vec<(TacticId, &str, Option<TacticId>, MappingStatus)> =
            mapped.iter().map(|t| (t.id, t.name.as_str(), t.tagged_id, t.status)).collect();
        assert_eq!(
            listed,
            vec![
                (ta("TA0112"), "Stealth", Some(ta("TA0005")), MappingStatus::Revoked),
                (ta("TA0113"), "Defense Impairment", Some(ta("TA0005")), MappingStatus::Revoked),
            ]
        );
    }

    #[test]
    fn a_deprecated_tactic_leads_to_those_its_note_names_else_stays_flagged() {
        let note = "**This tactic has been deprecated. Please use [Execution](https://attack.mitre.org/tactics/TA0002) \
                    where appropriate.**\n\nOld text naming [C2](https://attack.mitre.org/tactics/TA0011).";
        let catalog = mini_catalog_with(json!([
            tactic("TA0030", "Old Evasion", json!({ "x_mitre_deprecated": true, "description": note })),
            tactic("TA0038", "Network Effects", json!({ "x_mitre_deprecated": true })),
        ]));
        let old = catalog.map_tactic(ta("TA0030"));
        assert_eq!(old.len(), 1, "only the note's first paragraph names successors: {old:?}");
        assert_eq!(
            (old[0].id, old[0].tagged_id, old[0].status),
            (ta("TA0002"), Some(ta("TA0030")), MappingStatus::Deprecated)
        );
        let kept = &catalog.map_tactic(ta("TA0038"))[0];
        assert_eq!(
            (kept.id, kept.name.as_str(), kept.status),
            (ta("TA0038"), "Network Effects", MappingStatus::Deprecated)
        );
        let unknown = &catalog.map_tactic(ta("TA0999"))[0];
        assert_eq!((unknown.name.as_str(), unknown.status), ("TA0999", MappingStatus::Unknown));
        let current = &catalog.map_tactic(ta("TA0011"))[0];
        assert_eq!(
            (current.name.as_str(), current.tagged_id, current.status),
            ("Command and Control", None, MappingStatus::Current)
        );
    }

    #[test]
    fn ids_numbered_after_all_loaded_ones_are_from_a_newer_release() {
        let catalog = mini_catalog();
        for newer in ["T1685", "T1685.001", "t1090.004", "T1064.001", "TA0112"] {
            assert!(catalog.is_newer_than_release(newer), "{newer}");
        }
        for not_newer in ["T1090", "T1090.002", "T1001", "T1059.000", "TA0001", "TA0011", "stealth", "AML.T0051"] {
            assert!(!catalog.is_newer_than_release(not_newer), "{not_newer}");
        }
    }

    #[test]
    fn a_deprecated_technique_knows_its_successors_but_keeps_its_detections() {
        let note = "**This technique has been deprecated. Please use [Command and Scripting Interpreter](https://attack.mitre.org/techniques/T1059) \
                    and [PowerShell](https://attack.mitre.org/techniques/T1059/001) where appropriate.**";
        let catalog = mini_catalog_with(json!([stix(
            "attack-pattern",
            "T1061",
            json!({ "name": "Graphical User Interface", "x_mitre_deprecated": true, "description": note })
        )]));
        assert_eq!(catalog.technique(id("T1061")).unwrap().successors, vec![id("T1059"), id("T1059.001")]);
        let mapping = catalog.map_technique(id("T1061"), "T1061", MappedBy::Vendor);
        assert_eq!((mapping.id, mapping.status), (id("T1061"), MappingStatus::Deprecated));
    }

    #[test]
    fn uses_of_revoked_techniques_land_on_the_replacement_and_deprecated_ones_are_flagged() {
        let group = "intrusion-set--G0099";
        let catalog = mini_catalog_with(json!([
            stix("intrusion-set", "G0099", json!({ "name": "Test Panda", "aliases": ["Test Panda", "TEMP.Test"] })),
            stix("malware", "S0999", json!({ "name": "TestRAT", "x_mitre_aliases": ["TestRAT", "TRAT"] })),
            stix("campaign", "C0099", json!({ "name": "Operation Test" })),
            relationship("uses", group, "attack-pattern--oldps"),
            relationship("uses", group, "attack-pattern--scripting"),
            relationship("uses", group, "attack-pattern--proxy"),
            relationship("uses", group, "malware--S0999"),
            relationship("uses", "malware--S0999", "attack-pattern--proxy"),
            relationship("attributed-to", "campaign--C0099", group),
        ]));
        let panda = &catalog.find_objects("temp.test")[0];
        assert_eq!(
            (panda.id.to_string().as_str(), panda.aliases.as_slice()),
            ("G0099", ["TEMP.Test".to_string()].as_slice())
        );
        let uses: Vec<(String, Option<TechniqueId>, MappingStatus)> =
            panda.techniques.iter().map(|u| (u.id.to_string(), u.named_id, u.status)).collect();
        assert_eq!(
            uses,
            vec![
                ("T1059.001".into(), Some(id("T1086")), MappingStatus::Revoked),
                ("T1064".into(), None, MappingStatus::Deprecated),
                ("T1090".into(), None, MappingStatus::Current),
            ]
        );
        assert_eq!(panda.software, vec!["S0999".parse().unwrap()]);
        let users: Vec<String> = catalog.users_of(id("T1090")).map(|o| o.name.clone()).collect();
        assert_eq!(users, vec!["Test Panda", "TestRAT"]);
        let campaigns: Vec<&str> = catalog.campaigns_of(panda.id).map(|c| c.name.as_str()).collect();
        assert_eq!(campaigns, vec!["Operation Test"]);
        assert_eq!(catalog.find_objects("trat")[0].software_kind, Some(SoftwareKind::Malware));
        assert!(catalog.find_objects("Test Pandas").is_empty());
        assert_eq!(catalog.closest_objects("Test Pandas", 3)[0].name, "Test Panda");
    }
}

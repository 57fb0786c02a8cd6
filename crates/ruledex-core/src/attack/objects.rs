//! ATT&CK groups, campaigns and software: the techniques each uses, who uses a technique, and
//! finding them by the names people use (aliases, any letter case, near misses).

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::Domain;
use crate::ids::{ObjectId, ObjectKind, TechniqueId};
use crate::model::MappingStatus;

/// A group (intrusion set), campaign, or piece of software (malware or tool).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttackObject {
    pub id: ObjectId,
    pub name: String,
    /// Other names ATT&CK lists for it ("Cozy Bear", "NOBELIUM"), the name itself left out.
    pub aliases: Vec<String>,
    pub description: String,
    pub url: String,
    /// The matrices it appears in: a group may be in enterprise and ICS.
    pub domains: Vec<Domain>,
    /// For software: malware or tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_kind: Option<SoftwareKind>,
    /// For software: the platforms it runs on.
    pub platforms: Vec<String>,
    pub revoked: bool,
    /// The object that replaced it, when revoked.
    pub revoked_by: Option<ObjectId>,
    pub deprecated: bool,
    /// The techniques it uses, in ID order.
    pub techniques: Vec<TechniqueUse>,
    /// For groups and campaigns: the software they use.
    pub software: Vec<ObjectId>,
    /// For campaigns: the groups they are attributed to.
    pub attributed_to: Vec<ObjectId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum SoftwareKind {
    Malware,
    Tool,
}

/// A technique an object uses, from one of ATT&CK's `uses` relationships.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TechniqueUse {
    /// The technique used: the replacement, when the relationship names a revoked technique.
    pub id: TechniqueId,
    /// The technique the relationship named, when it differs from `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub named_id: Option<TechniqueId>,
    /// `Revoked` when followed to a replacement, `Deprecated` when the technique is.
    pub status: MappingStatus,
    /// How the object uses it, in ATT&CK's words (Markdown with `(Citation: ...)` markers).
    pub description: String,
}

impl AttackObject {
    pub fn is_current(&self) -> bool {
        !self.revoked && !self.deprecated
    }

    fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.aliases.iter().map(String::as_str))
    }

    /// The same object read from another domain's bundle: its domains and relationships join.
    fn merge(&mut self, other: AttackObject) {
        if !self.is_current() && other.is_current() {
            let previous = std::mem::replace(self, other);
            self.merge_relationships(previous);
        } else {
            self.merge_relationships(other);
        }
    }

    fn merge_relationships(&mut self, other: AttackObject) {
        self.domains.extend(other.domains);
        self.domains.sort();
        self.domains.dedup();
        self.techniques.extend(other.techniques);
        normalize_uses(&mut self.techniques);
        for (mine, theirs) in [(&mut self.software, other.software), (&mut self.attributed_to, other.attributed_to)] {
            mine.extend(theirs);
            mine.sort();
            mine.dedup();
        }
        for alias in other.aliases {
            if !self.names().any(|n| n == alias) {
                self.aliases.push(alias);
            }
        }
    }
}

/// In ID order, one use per technique: of a direct use and one reached through a revoked
/// technique, the direct one stays.
fn normalize_uses(uses: &mut Vec<TechniqueUse>) {
    uses.sort_by_key(|u| (u.id, u.named_id.is_some()));
    uses.dedup_by_key(|u| u.id);
}

/// The objects of the loaded bundles and the lookups over them. The maps are rebuilt after each
/// bundle (about 20,000 entries), so they use a fast hash; their keys come from ATT&CK itself.
#[derive(Debug, Clone, Default)]
pub(super) struct ObjectIndex {
    objects: BTreeMap<ObjectId, AttackObject>,
    /// Normalized names and aliases to the objects bearing them.
    names: FxHashMap<String, Vec<ObjectId>>,
    /// Technique -> current objects using it, in ID order.
    users: FxHashMap<TechniqueId, Vec<ObjectId>>,
}

impl ObjectIndex {
    /// Adds an object (or merges it into the same object from another domain). Call
    /// [`ObjectIndex::reindex`] once the bundle's objects are in.
    pub(super) fn insert(&mut self, mut object: AttackObject) {
        normalize_uses(&mut object.techniques);
        match self.objects.get_mut(&object.id) {
            Some(existing) => existing.merge(object),
            None => {
                self.objects.insert(object.id, object);
            }
        }
    }

    pub(super) fn reindex(&mut self) {
        self.names.clear();
        self.users.clear();
        for object in self.objects.values() {
            for name in object.names() {
                let ids = self.names.entry(normalize_name(name)).or_default();
                if !ids.contains(&object.id) {
                    ids.push(object.id);
                }
            }
            if object.is_current() {
                for used in &object.techniques {
                    self.users.entry(used.id).or_default().push(object.id);
                }
            }
        }
    }

    pub(super) fn get(&self, id: ObjectId) -> Option<&AttackObject> {
        self.objects.get(&id)
    }

    pub(super) fn all(&self) -> impl Iterator<Item = &AttackObject> {
        self.objects.values()
    }

    /// Objects named `query`: an ID (`G0016`), a name or an alias in any letter case. Current
    /// objects win over revoked or deprecated namesakes ("NOBELIUM" is an alias of APT29 and of
    /// the revoked UNC2452); several current ones are all returned.
    pub(super) fn find(&self, query: &str) -> Vec<&AttackObject> {
        if let Ok(id) = query.parse::<ObjectId>() {
            return self.get(id).into_iter().collect();
        }
        let named: Vec<&AttackObject> = self
            .names
            .get(&normalize_name(query))
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .filter_map(|id| self.get(*id))
            .collect();
        let current: Vec<&AttackObject> = named.iter().copied().filter(|o| o.is_current()).collect();
        if current.is_empty() { named } else { current }
    }

    /// Current objects whose name or an alias is within a few edits of `query`, closest first,
    /// for "did you mean" when [`ObjectIndex::find`] finds nothing.
    pub(super) fn closest(&self, query: &str, limit: usize) -> Vec<&AttackObject> {
        let query = normalize_name(query);
        // One edit per three characters: "APT 29" finds APT29, "Cozy Bare" Cozy Bear.
        let tolerance = (query.chars().count() / 3).max(1);
        let mut scored: Vec<(usize, &AttackObject)> = self
            .objects
            .values()
            .filter(|o| o.is_current())
            .filter_map(|o| {
                let distance = o.names().map(|n| strsim::levenshtein(&query, &normalize_name(n))).min()?;
                (distance <= tolerance).then_some((distance, o))
            })
            .collect();
        scored.sort_by(|(da, a), (db, b)| da.cmp(db).then_with(|| a.name.cmp(&b.name)));
        scored.into_iter().take(limit).map(|(_, o)| o).collect()
    }

    /// Current objects known to use exactly this technique, groups first, in ID order.
    pub(super) fn users_of(&self, technique: TechniqueId) -> impl Iterator<Item = &AttackObject> {
        self.users.get(&technique).map(Vec::as_slice).unwrap_or(&[]).iter().filter_map(|id| self.get(*id))
    }

    /// Current campaigns attributed to a group.
    pub(super) fn campaigns_of(&self, group: ObjectId) -> impl Iterator<Item = &AttackObject> {
        self.objects
            .values()
            .filter(move |o| o.id.kind() == ObjectKind::Campaign && o.is_current() && o.attributed_to.contains(&group))
    }
}

fn normalize_name(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

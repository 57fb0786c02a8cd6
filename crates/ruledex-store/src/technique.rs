//! A technique's page as data: the technique, its sub-techniques with counts, and its
//! detections. The CLI, the web page and the API all show this one read model.

use ruledex_core::attack::Technique;
use ruledex_core::ids::TechniqueId;
use ruledex_core::query::Filter;

use crate::{Listing, Result, Store, Window};

#[derive(Debug, Clone)]
pub struct TechniquePage {
    /// The ID asked for.
    pub requested: TechniqueId,
    /// The technique shown: the replacement when `requested` was revoked.
    pub id: TechniqueId,
    /// Set when `requested` was revoked in ATT&CK.
    pub revoked: Option<TechniqueId>,
    /// `None` for IDs not in ATT&CK that detections are nevertheless tagged with.
    pub technique: Option<Technique>,
    /// The parent, for a sub-technique.
    pub parent: Option<Technique>,
    pub subtechniques: Vec<SubtechniqueCount>,
    pub exact: bool,
    /// Detections passing the filter (`listing.detections` holds the window asked for).
    pub shown: usize,
    pub listing: Listing,
}

#[derive(Debug, Clone)]
pub struct SubtechniqueCount {
    pub id: TechniqueId,
    pub name: String,
    /// Detections passing the filter.
    pub count: usize,
}

impl Store {
    /// The page for `requested`, its detections in `window`; `None` when it is neither in
    /// ATT&CK nor tagged by any detection.
    pub fn technique_page(
        &self,
        requested: TechniqueId,
        exact: bool,
        filter: &Filter,
        window: Window,
    ) -> Result<Option<TechniquePage>> {
        let (id, revoked) = match self.technique(requested) {
            Some(Technique { revoked: true, revoked_by: Some(replacement), .. }) => (*replacement, Some(requested)),
            _ => (requested, None),
        };
        let technique = self.technique(id).cloned();
        let listing = self.technique_detections(id, exact, filter, window)?;
        if technique.is_none() && listing.total == 0 {
            return Ok(None);
        }
        let parent = if id.is_subtechnique() { self.technique(id.parent()).cloned() } else { None };
        let subtechniques = self.subtechnique_counts(id, filter)?;
        Ok(Some(TechniquePage {
            requested,
            id,
            revoked,
            technique,
            parent,
            subtechniques,
            exact,
            shown: listing.shown,
            listing,
        }))
    }

    fn subtechnique_counts(&self, id: TechniqueId, filter: &Filter) -> Result<Vec<SubtechniqueCount>> {
        if id.is_subtechnique() {
            return Ok(vec![]);
        }
        let counts = self.family_counts(id, filter)?;
        Ok(self
            .attack()
            .subtechniques(id)
            .filter(|s| !s.revoked)
            .map(|s| SubtechniqueCount { count: counts.listed(s.id, filter), id: s.id, name: s.name.clone() })
            .collect())
    }
}

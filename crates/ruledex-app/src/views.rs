//! Views of the catalog as a whole: detection counts per technique (`/api/v1/coverage`, the
//! `coverage` tool) and the same counts laid out as the home page's ATT&CK matrix.

use ruledex_core::attack::{Domain, Technique};
use ruledex_store::TechniqueCounts;

use crate::request::Filters;
use crate::service::{Answer, Catalog};
use crate::wire::{CoverageJson, CoveredTechniqueJson, MatrixCellJson, MatrixColumnJson, MatrixJson, TacticJson};

impl Catalog {
    /// Detection counts per technique for the detections `filters` keep (vendor-native unless
    /// asked), those listed only through ruledex's mapping counted in when asked for.
    pub fn coverage(&self, filters: &Filters) -> Answer<CoverageJson> {
        self.check_filters(filters)?;
        let counts = self.counts(filters)?;
        let attack = self.store().attack();
        let inferred = filters.asked.include_inferred;
        let mut techniques: Vec<CoveredTechniqueJson> = counts
            .family
            .keys()
            .map(|id| CoveredTechniqueJson {
                id: *id,
                name: self.technique_name(*id).unwrap_or_default(),
                tactics: attack.technique(*id).map(|t| t.tactics.clone()).unwrap_or_default(),
                exact: counts.exact.get(id).copied().unwrap_or(0),
                detections: if inferred { counts.family(*id) } else { counts.tagged(*id) },
                inferred: counts.inferred(*id),
            })
            .filter(|t| t.detections > 0)
            .collect();
        techniques.sort_by_key(|t| t.id);
        Ok(CoverageJson {
            attack_version: self.attack_version(),
            tactics: attack.tactics().iter().map(TacticJson::from).collect(),
            techniques,
        })
    }

    /// The Enterprise matrix: every current technique under each of its tactics, by name,
    /// with the detections `filters` keep (see [`Catalog::coverage`]).
    pub fn matrix(&self, filters: &Filters) -> Answer<MatrixJson> {
        self.check_filters(filters)?;
        let counts = self.counts(filters)?;
        let inferred = filters.asked.include_inferred;
        let attack = self.store().attack();
        let mut techniques: Vec<&Technique> = attack
            .techniques()
            .filter(|t| t.domain == Domain::Enterprise && !t.id.is_subtechnique() && !t.revoked && !t.deprecated)
            .collect();
        techniques.sort_by(|a, b| a.name.cmp(&b.name));
        let cell = |t: &Technique| MatrixCellJson {
            id: t.id,
            name: t.name.clone(),
            detections: if inferred { counts.family(t.id) } else { counts.tagged(t.id) },
            inferred: if inferred { 0 } else { counts.inferred(t.id) },
        };
        let tactics = attack
            .tactics()
            .iter()
            .filter(|t| t.domain == Domain::Enterprise)
            .map(|tactic| MatrixColumnJson {
                id: tactic.id,
                name: tactic.name.clone(),
                techniques: techniques.iter().filter(|t| t.tactics.contains(&tactic.id)).map(|t| cell(t)).collect(),
            })
            .collect();
        Ok(MatrixJson { attack_version: self.attack_version(), inferred, tactics })
    }

    /// Counts per technique of the detections `filters` keep, where vendor-native content is
    /// the default.
    fn counts(&self, filters: &Filters) -> Answer<TechniqueCounts> {
        Ok(self.store().technique_counts(&filters.resolve(true))?)
    }
}

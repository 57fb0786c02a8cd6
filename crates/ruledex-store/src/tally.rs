//! Detection counts per technique and source, with the links only ruledex's own mapping table
//! made (`mapped_by: ruledex`) counted apart from the vendors' own tags: what coverage for a
//! stack and the techniques of a threat group are counted from.

use std::collections::{BTreeMap, HashMap};

use ruledex_core::ids::TechniqueId;
use ruledex_core::model::MappedBy;
use ruledex_core::query::Filter;

use crate::{Result, Store};

/// How many detections of one source a technique lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Detections the vendor (or community author) tagged with the technique.
    pub tagged: usize,
    /// Detections listed only through ruledex's own mapping of the vendor's labels.
    pub inferred: usize,
}

impl Tally {
    /// The detections counted: the tagged ones, and the inferred ones too when asked.
    pub fn counted(self, with_inferred: bool) -> usize {
        self.tagged + if with_inferred { self.inferred } else { 0 }
    }
}

/// Tallies per technique and source. A technique counts the detections listed under it or any
/// of its sub-techniques (each once), as the matrix shows it; a sub-technique its own.
#[derive(Debug, Clone, Default)]
pub struct SourceTallies {
    by_technique: HashMap<TechniqueId, BTreeMap<String, Tally>>,
}

impl SourceTallies {
    /// The tallies of a technique, by source name (sources without detections left out).
    pub fn of(&self, id: TechniqueId) -> Option<&BTreeMap<String, Tally>> {
        self.by_technique.get(&id)
    }
}

/// A catalog's technique links: each (technique, detection) pair a listing counts, with
/// whether any of its links is the vendor's own tag. A detection is listed under the technique
/// it is tagged with and under that technique's parent.
pub(crate) struct ListedLinks {
    pub listed: HashMap<(TechniqueId, i64), bool>,
    /// Detections tagged with each technique itself.
    pub exact: HashMap<TechniqueId, usize>,
}

impl Store {
    /// [`SourceTallies`] of the detections `filter` keeps.
    pub fn source_tallies(&self, filter: &Filter) -> Result<SourceTallies> {
        let mut tallies = SourceTallies::default();
        for ((id, pk), tagged) in self.listed_links(None, filter)?.listed {
            let Some(facets) = self.facets_of(pk) else { continue };
            let tally = tallies.by_technique.entry(id).or_default().entry(facets.source.clone()).or_default();
            if tagged {
                tally.tagged += 1;
            } else {
                tally.inferred += 1;
            }
        }
        Ok(tallies)
    }

    /// The links of the detections `filter` keeps, of one technique family or of all.
    pub(crate) fn listed_links(&self, family: Option<TechniqueId>, filter: &Filter) -> Result<ListedLinks> {
        self.with_conn(|conn| {
            let sql = match family {
                Some(_) => "SELECT technique, detection, mapped_by FROM detection_techniques WHERE parent = ?1",
                None => "SELECT technique, detection, mapped_by FROM detection_techniques",
            };
            let mut statement = conn.prepare_cached(sql)?;
            let params: Vec<String> = family.iter().map(ToString::to_string).collect();
            let rows = statement.query_map(rusqlite::params_from_iter(params), |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)? != MappedBy::Ruledex.as_str()))
            })?;
            let mut links = ListedLinks { listed: HashMap::new(), exact: HashMap::new() };
            for row in rows {
                let (technique, pk, tagged) = row?;
                let (true, Ok(id)) = (self.facets_of(pk).is_some_and(|f| filter.matches(f)), technique.parse()) else {
                    continue;
                };
                *links.exact.entry(id).or_default() += 1;
                for listed in [id, TechniqueId::parent(id)] {
                    *links.listed.entry((listed, pk)).or_insert(false) |= tagged;
                }
            }
            Ok(links)
        })
    }
}

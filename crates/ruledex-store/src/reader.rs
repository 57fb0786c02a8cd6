//! Reading the catalog: one generation, opened once. Everything here returns model types.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use ruledex_core::attack::{AttackCatalog, Tactic, Technique};
use ruledex_core::ids::TechniqueId;
use ruledex_core::ingest::{Asset, SourceReport};
use ruledex_core::model::{Detection, MappedBy, Severity, SourceKind};
use ruledex_core::query::{FacetCounts, Facets, Filter};
use rusqlite::{Connection, OptionalExtension, params};

use crate::pool::Pool;
use crate::record::{
    DetectionRecord, ObjectRecord, ReportRecord, TacticRecord, TechniqueRecord, restore_test_inputs, wire,
};
use crate::search::Vocabulary;
use crate::tally::ListedLinks;
use crate::{Result, SCHEMA_VERSION, StoreError};

/// How long reading a generation's in-memory tables may take when it opens (the whole catalog
/// is read once; requests are held to [`StoreOptions::query_budget`]).
const LOADING_BUDGET: Duration = Duration::from_secs(120);

/// How a generation is opened.
#[derive(Debug, Clone, Copy)]
pub struct StoreOptions {
    /// Connections opened (and the most queries that run at once).
    pub connections: usize,
    /// The longest one query may run before SQLite interrupts it.
    pub query_budget: Duration,
}

impl Default for StoreOptions {
    fn default() -> StoreOptions {
        StoreOptions { connections: 4, query_budget: Duration::from_secs(10) }
    }
}

/// One catalog generation: one catalog file, opened once, read-only. Every query, connection,
/// facet and ATT&CK lookup of a `Store` answers from that one file, whatever happens to the path
/// afterwards. Cheap to share between threads.
pub struct Store {
    path: PathBuf,
    pool: Pool,
    /// Filterable attributes of every detection, by pk: the catalog never changes once built,
    /// so filters and facet counts run in memory and only the shown rows are read from disk.
    facets: HashMap<i64, Facets>,
    /// Display order of every detection: source order, then severity (highest first), title.
    order: HashMap<i64, usize>,
    /// How many words each title has: search ranks a title the search covers more of higher.
    title_words: HashMap<i64, usize>,
    attack: AttackCatalog,
    info: CatalogInfo,
    sources: Vec<SourceStatus>,
    /// What misspelled searches are corrected against, loaded by the first that needs it.
    pub(crate) vocabulary: OnceLock<Vocabulary>,
}

/// About the catalog as a whole.
#[derive(Debug, Clone)]
pub struct CatalogInfo {
    pub path: PathBuf,
    /// Unique to the sync that wrote the file.
    pub generation: String,
    pub built_at: Option<String>,
    pub attack_version: Option<String>,
    pub ruledex_version: Option<String>,
    /// The configuration the catalog was built from.
    pub config: Option<String>,
    pub detections: usize,
}

/// A source as the last sync left it.
#[derive(Debug, Clone)]
pub struct SourceStatus {
    pub report: SourceReport,
    pub synced_at: String,
    /// Why the last sync could not read the source; the detections shown are from `synced_at`.
    pub error: Option<String>,
}

/// The most bytes of detection records one page of a listing reads, but its first detection:
/// a page's cost stays bounded whatever its rules hold (a few rules ship queries of hundreds of
/// kilobytes). The page then holds fewer than its limit; the next starts after its last.
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;

/// Which part of a list to read: pages of a long list are read on their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub offset: usize,
    pub limit: usize,
    /// The most bytes of records read (see [`MAX_PAGE_BYTES`]), but the first one.
    pub max_bytes: usize,
}

impl Window {
    /// The whole list.
    pub const ALL: Window = Window { offset: 0, limit: usize::MAX, max_bytes: usize::MAX };

    /// A page of `limit` from `offset`, within [`MAX_PAGE_BYTES`].
    pub fn page(offset: usize, limit: usize) -> Window {
        Window { offset, limit, max_bytes: MAX_PAGE_BYTES }
    }

    fn of<T>(self, items: &[T]) -> &[T] {
        let start = self.offset.min(items.len());
        &items[start..start.saturating_add(self.limit).min(items.len())]
    }
}

/// Detections listed for a technique: the shown ones, and counts over all of them.
#[derive(Debug, Clone)]
pub struct Listing {
    /// Detections for the technique before filtering.
    pub total: usize,
    /// Detections passing the filter (`detections` holds those of the window read).
    pub shown: usize,
    /// Of `shown`, those listed only through ruledex's own mapping of vendor labels.
    pub inferred: usize,
    pub facets: FacetCounts,
    /// How many more the filter would show with deprecated detections included.
    pub hidden_deprecated: usize,
    /// How many more it would show with community content included (0 unless the filter is
    /// restricted to vendor-native content).
    pub hidden_community: usize,
    /// How many more it would show with the detections listed only through ruledex's mapping
    /// of vendor labels included (0 when they are).
    pub hidden_inferred: usize,
    /// After filtering, in display order, the window asked for; without their long texts (see
    /// [`Store::detection`]).
    pub detections: Vec<Detection>,
}

/// A detection listed under a technique family, as filter controls count it.
#[derive(Debug, Clone)]
pub struct FamilyMember {
    pub facets: Facets,
    /// Tagged with the technique itself, not only with a sub-technique.
    pub direct: bool,
    /// A vendor's own tag lists it, not only ruledex's mapping of the vendor's labels.
    pub tagged: bool,
}

/// Detection counts per technique.
#[derive(Debug, Clone, Default)]
pub struct TechniqueCounts {
    /// Detections tagged with the technique itself.
    pub exact: HashMap<TechniqueId, usize>,
    /// Detections tagged with the technique or any of its sub-techniques, each counted once.
    pub family: HashMap<TechniqueId, usize>,
    /// Of `family`, those listed only through ruledex's own mapping of vendor labels
    /// (`mapped_by: ruledex`), not through any tag of the vendor.
    pub inferred: HashMap<TechniqueId, usize>,
}

impl TechniqueCounts {
    pub fn family(&self, id: TechniqueId) -> usize {
        self.family.get(&id).copied().unwrap_or(0)
    }

    /// Of [`TechniqueCounts::family`], those listed only through ruledex's mapping.
    pub fn inferred(&self, id: TechniqueId) -> usize {
        self.inferred.get(&id).copied().unwrap_or(0)
    }

    /// The family's detections the vendors themselves tagged with the technique.
    pub fn tagged(&self, id: TechniqueId) -> usize {
        self.family(id) - self.inferred(id)
    }

    /// The family's detections a listing with `filter` lists: those only ruledex's mapping
    /// lists under it too when the filter includes them.
    pub fn listed(&self, id: TechniqueId, filter: &Filter) -> usize {
        if filter.include_inferred { self.family(id) } else { self.tagged(id) }
    }
}

impl From<ListedLinks> for TechniqueCounts {
    fn from(links: ListedLinks) -> Self {
        let mut counts = TechniqueCounts { exact: links.exact, ..TechniqueCounts::default() };
        for ((id, _), tagged) in links.listed {
            *counts.family.entry(id).or_default() += 1;
            if !tagged {
                *counts.inferred.entry(id).or_default() += 1;
            }
        }
        counts
    }
}

/// The outcome of looking up `SOURCE/ID`.
#[derive(Debug, Clone)]
pub enum Lookup {
    Found(Box<Detection>),
    /// The ID names several detections (a native ID upstream repeats).
    Ambiguous(Vec<Candidate>),
    NotFound,
}

#[derive(Debug, Clone)]
pub struct Candidate {
    pub source: String,
    pub id: String,
    pub title: String,
    pub path: String,
}

impl Store {
    /// Opens the catalog at `path` as a new generation.
    pub fn open(path: &Path) -> Result<Store> {
        Store::open_with(path, StoreOptions::default())
    }

    pub fn open_with(path: &Path, options: StoreOptions) -> Result<Store> {
        if !path.is_file() {
            return Err(StoreError::Missing(path.to_path_buf()));
        }
        let damaged = |error: StoreError| match error {
            StoreError::Sqlite(e) => StoreError::Damaged { path: path.to_path_buf(), reason: e.to_string() },
            other => other,
        };
        let pool = Pool::open(path, options.connections, options.query_budget).map_err(damaged)?;
        pool.with_budget(LOADING_BUDGET, |conn| {
            let found: i32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
            match found {
                SCHEMA_VERSION => Ok(()),
                _ => Err(StoreError::Version { path: path.to_path_buf(), found }),
            }
        })
        .map_err(damaged)?;
        let FacetTables { facets, order, title_words } =
            pool.with_budget(LOADING_BUDGET, load_facets).map_err(damaged)?;
        let (attack, info, sources) = pool
            .with_budget(LOADING_BUDGET, |conn| {
                let info = read_info(conn, path, facets.len())?;
                let attack = read_attack(conn, info.attack_version.clone())?;
                Ok((attack, info, read_sources(conn)?))
            })
            .map_err(damaged)?;
        let vocabulary = OnceLock::new();
        Ok(Store { path: path.to_path_buf(), pool, facets, order, title_words, attack, info, sources, vocabulary })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn info(&self) -> &CatalogInfo {
        &self.info
    }

    pub fn sources(&self) -> &[SourceStatus] {
        &self.sources
    }

    /// The ATT&CK techniques and tactics the catalog was built with.
    pub fn attack(&self) -> &AttackCatalog {
        &self.attack
    }

    /// Whether there is a newer generation than this one to open: a sync replaced the catalog
    /// (or removed it), or a query found this one's file damaged (overwritten in place). The one
    /// question a long-running reader asks to follow the catalog.
    pub fn superseded(&self) -> bool {
        self.pool.is_broken() || self.pool.is_replaced(&self.path)
    }

    pub fn technique(&self, id: TechniqueId) -> Option<&Technique> {
        self.attack.technique(id)
    }

    /// Tactics in matrix order (enterprise, then mobile, then ICS).
    pub fn tactics(&self) -> &[Tactic] {
        self.attack.tactics()
    }

    /// Runs `f` on a connection of this generation, within its query budget.
    pub(crate) fn with_conn<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.pool.with_conn(f)
    }

    pub(crate) fn facets_of(&self, pk: i64) -> Option<&Facets> {
        self.facets.get(&pk)
    }

    pub(crate) fn title_words(&self, pk: i64) -> usize {
        self.title_words.get(&pk).copied().unwrap_or(usize::MAX)
    }

    /// Sorts pks into display order.
    pub(crate) fn sort_for_display(&self, pks: &mut [i64]) {
        pks.sort_by_key(|pk| self.order.get(pk).copied().unwrap_or(usize::MAX));
    }

    /// Detections listed under a technique: under its sub-techniques too unless `exact`; of
    /// those `filter` keeps, the ones in `window`, read from the catalog (the others are only
    /// counted, from the in-memory facets).
    pub fn technique_detections(
        &self,
        id: TechniqueId,
        exact: bool,
        filter: &Filter,
        window: Window,
    ) -> Result<Listing> {
        let listed = self.listed_under(id, exact)?;
        let mut pks: Vec<i64> = listed.keys().copied().collect();
        let facets = FacetCounts::count(pks.iter().filter_map(|pk| self.facets.get(pk)));
        let total = pks.len();
        let keeps = |f: &Filter, pk: &i64| {
            (f.include_inferred || listed[pk]) && self.facets.get(pk).is_some_and(|x| f.matches(x))
        };
        let count = |f: &Filter| pks.iter().filter(|pk| keeps(f, pk)).count();
        let shown = count(filter);
        let hidden_deprecated = count(&Filter { include_deprecated: true, ..filter.clone() }) - shown;
        let hidden_community = match filter.kinds.as_slice() {
            [SourceKind::Vendor] => count(&Filter { kinds: vec![], ..filter.clone() }) - shown,
            _ => 0,
        };
        let hidden_inferred = count(&Filter { include_inferred: true, ..filter.clone() }) - shown;
        pks.retain(|pk| keeps(filter, pk));
        let inferred = pks.iter().filter(|pk| !listed[pk]).count();
        self.sort_for_display(&mut pks);
        let detections = self.detections_within(window.of(&pks), window.max_bytes)?;
        Ok(Listing { total, shown, inferred, facets, hidden_deprecated, hidden_community, hidden_inferred, detections })
    }

    /// Every vendor with its kind of content (a vendor with both counts as vendor-native).
    pub fn vendors(&self) -> BTreeMap<String, SourceKind> {
        let mut vendors = BTreeMap::new();
        for f in self.facets.values() {
            let kind = vendors.entry(f.vendor.clone()).or_insert(f.kind);
            if f.kind == SourceKind::Vendor {
                *kind = SourceKind::Vendor;
            }
        }
        vendors
    }

    /// The filterable attributes of every detection listed under a technique and its
    /// sub-techniques, with how each is listed: what filter controls and headline counts
    /// count, without reading a detection. `exact` says which listing `tagged` is about.
    pub fn family_facets(&self, id: TechniqueId, exact: bool) -> Result<Vec<FamilyMember>> {
        let direct = self.listed_under(id, true)?;
        let family = self.listed_under(id, false)?;
        let mut pks: Vec<i64> = family.keys().copied().collect();
        self.sort_for_display(&mut pks);
        let tagged = |pk: &i64| if exact { direct.get(pk) } else { family.get(pk) }.copied().unwrap_or(false);
        Ok(pks
            .iter()
            .filter_map(|pk| {
                let facets = self.facets.get(pk)?.clone();
                Some(FamilyMember { facets, direct: direct.contains_key(pk), tagged: tagged(pk) })
            })
            .collect())
    }

    /// The detections listed under a technique, and under its sub-techniques unless `exact`,
    /// each with whether a vendor tagged it (rather than only ruledex's mapping of its labels).
    fn listed_under(&self, id: TechniqueId, exact: bool) -> Result<HashMap<i64, bool>> {
        self.with_conn(|conn| {
            let sql = if exact || id.is_subtechnique() {
                "SELECT detection, MAX(mapped_by <> ?2) FROM detection_techniques WHERE technique = ?1 GROUP BY detection"
            } else {
                "SELECT detection, MAX(mapped_by <> ?2) FROM detection_techniques WHERE parent = ?1 GROUP BY detection"
            };
            let mut statement = conn.prepare_cached(sql)?;
            let rows = statement.query_map(params![id.to_string(), MappedBy::Ruledex.as_str()], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, bool>(1)?))
            })?;
            Ok(rows.collect::<Result<HashMap<i64, bool>, _>>()?)
        })
    }

    /// How many detections passing `filter` each technique lists, exactly and with its
    /// sub-techniques (each detection counted once per family).
    pub fn technique_counts(&self, filter: &Filter) -> Result<TechniqueCounts> {
        Ok(TechniqueCounts::from(self.listed_links(None, filter)?))
    }

    /// [`Store::technique_counts`] for one technique family only.
    pub fn family_counts(&self, parent: TechniqueId, filter: &Filter) -> Result<TechniqueCounts> {
        Ok(TechniqueCounts::from(self.listed_links(Some(parent), filter)?))
    }

    pub(crate) fn detections_by_pk(&self, pks: &[i64]) -> Result<Vec<Detection>> {
        self.detections_within(pks, usize::MAX)
    }

    /// The detections of `pks`, in order, as long as their records add up to at most
    /// `max_bytes` (the first is always read).
    pub(crate) fn detections_within(&self, pks: &[i64], max_bytes: usize) -> Result<Vec<Detection>> {
        self.with_conn(|conn| {
            let mut statement = conn.prepare_cached("SELECT body FROM detections WHERE pk = ?1")?;
            let mut detections = Vec::with_capacity(pks.len());
            let mut bytes = 0usize;
            for pk in pks {
                let body = statement.query_row([pk], |r| r.get::<_, String>(0))?;
                bytes = bytes.saturating_add(body.len());
                if bytes > max_bytes && !detections.is_empty() {
                    break;
                }
                detections.push(DetectionRecord::parse(&body)?);
            }
            Ok(detections)
        })
    }

    /// How many detections `filter` keeps, and those of them in `window`, in display order,
    /// without their long texts: only the window's rows are read.
    pub fn select(&self, filter: &Filter, window: Window) -> Result<(usize, Vec<Detection>)> {
        let mut pks: Vec<i64> = self.facets.iter().filter(|(_, f)| filter.matches(f)).map(|(pk, _)| *pk).collect();
        self.sort_for_display(&mut pks);
        Ok((pks.len(), self.detections_within(window.of(&pks), window.max_bytes)?))
    }

    /// The same detections with their long texts (native rule, notes, test inputs), for exports.
    pub fn with_long_texts(&self, detections: &[Detection]) -> Result<Vec<Detection>> {
        self.with_conn(|conn| {
            detections
                .iter()
                .map(|d| {
                    let mut full = full_detections(conn, "source = ?1 AND id = ?2", (&d.source, &d.id))?;
                    full.pop()
                        .map(|(_, d)| d)
                        .ok_or_else(|| StoreError::Busy(format!("{} left the catalog", d.address())))
                })
                .collect()
        })
    }

    /// Resolves `SOURCE/ID`: the address itself, then the vendor's native ID, then the rule
    /// file's name (`splunk/windows_proxy_via_netsh`), then any of these ignoring case, then the
    /// vendor's ID of an older address (`elastic/<uuid>~<suffix>`).
    pub fn detection(&self, source: &str, id: &str) -> Result<Lookup> {
        let queries = [
            "SELECT pk FROM detections WHERE source = ?1 AND id = ?2",
            "SELECT pk FROM detections WHERE source = ?1 AND native_id = ?2",
            "SELECT pk FROM detections WHERE source = ?1 AND (path = ?2 OR path LIKE '%/' || ?2 || '.%' ESCAPE '\\')",
            "SELECT pk FROM detections WHERE source = ?1 AND (lower(id) = lower(?2) OR lower(native_id) = lower(?2))",
            "SELECT pk FROM detections WHERE source = ?1 AND native_id = ?2",
        ];
        let pattern_safe = id.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let before_suffix = id.split_once('~').map_or(id, |(native, _)| native);
        for (i, sql) in queries.iter().enumerate() {
            let value = match i {
                2 => pattern_safe.as_str(),
                4 => before_suffix,
                _ => id,
            };
            let pks = self.with_conn(|conn| {
                let mut statement = conn.prepare_cached(sql)?;
                let pks = statement.query_map(params![source, value], |r| r.get::<_, i64>(0))?;
                Ok(pks.collect::<Result<Vec<i64>, _>>()?)
            })?;
            match pks.as_slice() {
                [] => continue,
                [pk] => {
                    let mut found = self.with_conn(|conn| full_detections(conn, "pk = ?1", [pk]))?;
                    return Ok(found.pop().map_or(Lookup::NotFound, |(_, d)| Lookup::Found(Box::new(d))));
                }
                _ => return self.candidates(&pks).map(Lookup::Ambiguous),
            }
        }
        Ok(Lookup::NotFound)
    }

    /// The files of `source` that exports need besides its rules.
    pub fn assets(&self, source: &str) -> Result<Vec<Asset>> {
        self.with_conn(|conn| source_assets(conn, source))
    }

    /// IDs of `source`'s detections for what was typed: IDs starting with it first, then IDs
    /// with a word starting with it, then IDs of detections with such a word in their title
    /// (ignoring ASCII case), each group in ID order. At most `limit`, and whether there are more.
    pub fn ids_like(&self, source: &str, typed: &str, limit: usize) -> Result<(Vec<String>, bool)> {
        let escaped = typed.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let patterns =
            [format!("{escaped}%"), format!("%\\_{escaped}%"), format!("%-{escaped}%"), format!("% {escaped}%")];
        self.with_conn(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT id FROM detections WHERE source = ?1 \
                 AND (id LIKE ?2 ESCAPE '\\' OR id LIKE ?3 ESCAPE '\\' OR id LIKE ?4 ESCAPE '\\' \
                      OR title LIKE ?2 ESCAPE '\\' OR title LIKE ?5 ESCAPE '\\') \
                 ORDER BY id LIKE ?2 ESCAPE '\\' DESC, \
                          (id LIKE ?3 ESCAPE '\\' OR id LIKE ?4 ESCAPE '\\') DESC, id LIMIT ?6",
            )?;
            let fetch = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
            let [prefix, after_underscore, after_dash, after_space] = &patterns;
            let ids = statement
                .query_map(params![source, prefix, after_underscore, after_dash, after_space, fetch], |r| {
                    r.get::<_, String>(0)
                })?;
            let mut ids = ids.collect::<Result<Vec<String>, _>>()?;
            let more = ids.len() > limit;
            ids.truncate(limit);
            Ok((ids, more))
        })
    }

    /// The IDs of `source`'s detections closest to `typed` (a mistyped ID), best first, at most
    /// `limit`: those starting the same way, then those within a few edits.
    pub fn closest_ids(&self, source: &str, typed: &str, limit: usize) -> Result<Vec<String>> {
        let ids: Vec<String> = self.with_conn(|conn| {
            let mut statement = conn.prepare_cached("SELECT id FROM detections WHERE source = ?1")?;
            let ids = statement.query_map([source], |r| r.get::<_, String>(0))?;
            Ok(ids.collect::<Result<Vec<String>, _>>()?)
        })?;
        let typed = typed.to_lowercase();
        let allowed = (typed.chars().count() / 4).max(2);
        let mut scored: Vec<(usize, String)> = ids
            .into_iter()
            .filter_map(|id| {
                let lower = id.to_lowercase();
                let distance = if lower.starts_with(&typed) { 0 } else { strsim::levenshtein(&lower, &typed) };
                (distance <= allowed).then_some((distance, id))
            })
            .collect();
        scored.sort();
        Ok(scored.into_iter().take(limit).map(|(_, id)| id).collect())
    }

    fn candidates(&self, pks: &[i64]) -> Result<Vec<Candidate>> {
        self.with_conn(|conn| {
            let mut statement = conn.prepare_cached("SELECT source, id, title, path FROM detections WHERE pk = ?1")?;
            pks.iter()
                .map(|pk| {
                    Ok(statement.query_row([pk], |r| {
                        Ok(Candidate { source: r.get(0)?, id: r.get(1)?, title: r.get(2)?, path: r.get(3)? })
                    })?)
                })
                .collect()
        })
    }
}

fn read_info(conn: &Connection, path: &Path, detections: usize) -> Result<CatalogInfo> {
    let meta = |key: &str| -> Result<Option<String>> {
        Ok(conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    };
    Ok(CatalogInfo {
        path: path.to_path_buf(),
        generation: meta("generation")?.unwrap_or_default(),
        built_at: meta("built_at")?,
        attack_version: meta("attack_version")?,
        ruledex_version: meta("ruledex_version")?,
        config: meta("config")?,
        detections,
    })
}

fn read_sources(conn: &Connection) -> Result<Vec<SourceStatus>> {
    let mut statement = conn.prepare("SELECT report, synced_at, error FROM sources ORDER BY position")?;
    let rows = statement.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?)))?;
    rows.map(|row| {
        let (report, synced_at, error) = row?;
        Ok(SourceStatus { report: ReportRecord::parse(&report)?, synced_at, error })
    })
    .collect()
}

/// The ATT&CK techniques and tactics a catalog was built with.
pub(crate) fn read_attack(conn: &Connection, version: Option<String>) -> Result<AttackCatalog> {
    let techniques = bodies(conn, "SELECT body FROM techniques ORDER BY id", TechniqueRecord::parse)?;
    let tactics = bodies(conn, "SELECT body FROM tactics ORDER BY position", TacticRecord::parse)?;
    let mut attack = AttackCatalog::from_parts(techniques, tactics, version);
    attack.insert_objects(bodies(conn, "SELECT body FROM attack_objects ORDER BY id", ObjectRecord::parse)?);
    Ok(attack)
}

fn bodies<T>(conn: &Connection, sql: &str, parse: fn(&str) -> Result<T>) -> Result<Vec<T>> {
    let mut statement = conn.prepare(sql)?;
    let rows = statement.query_map([], |r| r.get::<_, String>(0))?;
    rows.map(|body| parse(&body?)).collect()
}

/// A source's assets (files exports need besides the rules), in path order.
pub(crate) fn source_assets(conn: &Connection, source: &str) -> Result<Vec<Asset>> {
    let mut statement = conn.prepare_cached("SELECT path, text FROM assets WHERE source = ?1 ORDER BY path")?;
    let rows = statement.query_map([source], |r| Ok(Asset { path: r.get(0)?, text: r.get(1)? }))?;
    Ok(rows.collect::<Result<Vec<Asset>, _>>()?)
}

/// Whole detections with their pks, long texts included, selected by a WHERE clause and its
/// parameters.
pub(crate) fn full_detections(
    conn: &Connection,
    condition: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<(i64, Detection)>> {
    stored_rows(conn, condition, params)?.into_iter().map(decode).collect()
}

/// A detection's row as stored: its pk, its record and native rule, then its investigation
/// guide, implementation notes and test inputs.
pub(crate) type StoredRow = (i64, (String, String), (Option<String>, Option<String>, String));

/// The stored rows a WHERE clause and its parameters select, not yet decoded.
pub(crate) fn stored_rows(conn: &Connection, condition: &str, params: impl rusqlite::Params) -> Result<Vec<StoredRow>> {
    let sql = format!(
        "SELECT pk, body, native_rule, investigation, implementation, test_inputs FROM detections WHERE {condition}"
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map(params, |r| {
        Ok((
            r.get::<_, i64>(0)?,
            (r.get::<_, String>(1)?, r.get::<_, String>(2)?),
            (r.get::<_, Option<String>>(3)?, r.get(4)?, r.get::<_, String>(5)?),
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A stored row as the detection it holds.
pub(crate) fn decode(
    (pk, (body, native_rule), (investigation, implementation, tests)): StoredRow,
) -> Result<(i64, Detection)> {
    let mut detection = DetectionRecord::parse(&body)?;
    detection.rule.native_rule = native_rule;
    detection.rule.investigation = investigation;
    detection.rule.implementation = implementation;
    restore_test_inputs(&mut detection.rule, serde_json::from_str(&tests)?);
    Ok((pk, detection))
}

struct FacetTables {
    facets: HashMap<i64, Facets>,
    order: HashMap<i64, usize>,
    title_words: HashMap<i64, usize>,
}

fn load_facets(conn: &Connection) -> Result<FacetTables> {
    let mut statement = conn.prepare(
        "SELECT d.pk, d.source, d.source_kind, d.vendor, d.language, d.rule_type, d.severity, d.status,
                d.deprecated, d.data_sources, d.title, s.position
         FROM detections d JOIN sources s ON s.name = d.source",
    )?;
    let mut facets = HashMap::new();
    let mut title_words = HashMap::new();
    let mut sort_keys = Vec::new();
    let rows = statement.query_map([], |r| {
        let parsed = |i: usize| -> rusqlite::Result<Option<String>> { r.get(i) };
        Ok((
            r.get::<_, i64>(0)?,
            (r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?),
            (parsed(4)?, parsed(5)?, parsed(6)?, parsed(7)?),
            (r.get::<_, bool>(8)?, r.get::<_, String>(9)?, r.get::<_, String>(10)?, r.get::<_, i64>(11)?),
        ))
    })?;
    for row in rows {
        let (
            pk,
            (source, kind, vendor),
            (language, rule_type, severity, status),
            (deprecated, data_sources, title, position),
        ) = row?;
        let f = Facets {
            source,
            kind: wire(&kind)?,
            vendor,
            language: language.as_deref().map(wire).transpose()?,
            rule_type: rule_type.as_deref().map(wire).transpose()?,
            severity: severity.as_deref().map(wire).transpose()?,
            status: status.as_deref().map(wire).transpose()?,
            deprecated,
            data_sources: serde_json::from_str(&data_sources)?,
        };
        title_words.insert(pk, ruledex_core::words::words(&title).count());
        sort_keys.push((pk, (position, Reverse(f.severity.unwrap_or(Severity::Informational)), title.to_lowercase())));
        facets.insert(pk, f);
    }
    sort_keys.sort_by(|a, b| a.1.cmp(&b.1));
    let order = sort_keys.into_iter().enumerate().map(|(i, (pk, _))| (pk, i)).collect();
    Ok(FacetTables { facets, order, title_words })
}

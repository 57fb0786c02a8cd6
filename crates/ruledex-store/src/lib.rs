//! ruledex-store: the catalog, one SQLite file with FTS5 full-text search.
//!
//! A sync writes a new catalog beside the current one ([`CatalogWriter`], starting from a copy
//! of it) and renames it into place, so a sync that fails or is killed leaves the previous
//! catalog, and the change history it carries, intact. Readers ([`Store`]) open the file
//! read-only; front ends never write.

mod flush;
mod history;
mod pool;
mod previous;
mod reader;
mod record;
mod search;
mod tally;
mod technique;
mod writer;

use std::path::{Path, PathBuf};

pub use history::{RecordedAttackUpdate, RecordedChange, Retention};
pub use previous::{Previous, PreviousDetections, PreviousSource, SyncLock};
pub use reader::{
    Candidate, CatalogInfo, FamilyMember, Listing, Lookup, MAX_PAGE_BYTES, SourceStatus, Store, StoreOptions,
    TechniqueCounts, Window,
};
pub use search::{Field, Hit, MAX_QUERY_CHARS, Marked, SearchResults};
pub use tally::{SourceTallies, Tally};
pub use technique::{SubtechniqueCount, TechniquePage};
pub use writer::CatalogWriter;

/// Bumped whenever `schema.sql` or a record in `record.rs` changes; a catalog of another
/// version is refused with a request to run a sync, which rebuilds it.
pub const SCHEMA_VERSION: i32 = 9;

/// The catalog's file name inside the data directory.
pub const CATALOG_FILE: &str = "catalog.sqlite";

/// How the next catalog's file is named while a sync writes it (the process ID follows).
const TEMP_PREFIX: &str = "catalog.sqlite.tmp-";

pub fn catalog_path(data_dir: &Path) -> PathBuf {
    data_dir.join(CATALOG_FILE)
}

/// What tells the catalog generation at a path from another, read without opening it: equal
/// marks, the same generation. A reader that could not open one waits for another mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerationMark {
    file: (u64, u64),
    modified: Option<std::time::SystemTime>,
    len: u64,
}

/// The mark of the generation at `path`, when there is a file.
pub fn generation_mark(path: &Path) -> Option<GenerationMark> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some(GenerationMark { file: (m.dev(), m.ino()), modified: m.modified().ok(), len: m.len() })
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no catalog at {0}; run `ruledex sync` to build it")]
    Missing(PathBuf),
    #[error(
        "catalog {path} has schema version {found}, this ruledex reads {SCHEMA_VERSION}; run `ruledex sync` to rebuild it"
    )]
    Version { path: PathBuf, found: i32 },
    #[error("invalid search: {0}")]
    BadQuery(String),
    #[error("another sync is already writing to {0}")]
    Locked(PathBuf),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("catalog database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("catalog holds a record this ruledex cannot read: {0}; run `ruledex sync` to rebuild it")]
    Corrupt(#[from] serde_json::Error),
    /// Every connection stayed busy, or the file kept changing while it was opened.
    #[error("the catalog is busy: {0}; try again")]
    Busy(String),
    /// A query ran longer than the store's query budget and was interrupted.
    #[error("the query took longer than {} ms and was stopped (the query budget)", .0.as_millis())]
    Budget(std::time::Duration),
    /// The catalog file is not a catalog SQLite can read (damaged, or another file).
    #[error("catalog {path} cannot be read ({reason}); run `ruledex sync` to rebuild it")]
    Damaged { path: PathBuf, reason: String },
    /// The catalog file changed under a reader (overwritten in place, truncated).
    #[error("the catalog file became unreadable ({0}); it is being reopened, or run `ruledex sync`")]
    Unreadable(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: path.to_path_buf(), source }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use ruledex_core::attack::{AttackCatalog, Domain};
    use ruledex_core::history::{ChangeQuery, Since};
    use ruledex_core::ingest::{AttackCoverage, IngestedSource, SourceReport};
    use ruledex_core::model::ChangeKind;
    use ruledex_core::model::{Detection, Language, MappedBy, Provenance, Rule, Severity, SourceKind};
    use ruledex_core::query::{Filter, SearchQuery};
    use ruledex_core::sources::Format;

    use super::*;

    fn attack() -> AttackCatalog {
        let mut catalog = AttackCatalog::default();
        let bundle = include_str!("../../../tests/fixtures/attack/mini-enterprise.json");
        catalog.add_bundle(Domain::Enterprise, bundle.as_bytes()).unwrap();
        catalog
    }

    fn detection(attack: &AttackCatalog, id: &str, title: &str, technique: &str, severity: Severity) -> Detection {
        Detection {
            source: "test".into(),
            source_kind: SourceKind::Vendor,
            format: Format::SplunkEscu,
            id: id.into(),
            rule: Rule {
                native_id: id.into(),
                title: title.into(),
                description: format!("{title} description"),
                vendor: "Test Vendor".into(),
                language: Some(Language::Spl),
                query: "index=proxy sourcetype=netsh".into(),
                severity: Some(severity),
                path: format!("rules/{id}.yml"),
                ..Rule::default()
            },
            deprecated: false,
            techniques: vec![attack.map_technique(technique.parse().unwrap(), technique, MappedBy::Vendor)],
            tactics: vec![],
            unresolved_tags: vec![],
            cves: vec![],
            atlas: vec![],
            provenance: Provenance::default(),
            effective_license: None,
        }
    }

    fn source(detections: Vec<Detection>) -> IngestedSource {
        let report = SourceReport {
            name: "test".into(),
            format: Format::Chronicle,
            kind: SourceKind::Vendor,
            repository: None,
            commit: None,
            license: None,
            files: detections.len(),
            files_parsed: detections.len(),
            detections: detections.len(),
            failures: vec![],
            attack: AttackCoverage::default(),
            parse_time: Duration::ZERO,
        };
        IngestedSource {
            report,
            detections,
            assets: vec![],
            files: vec![],
            support_digest: String::new(),
            files_reused: 0,
        }
    }

    fn build(dir: &std::path::Path) -> Store {
        build_with(dir, |_| vec![])
    }

    /// The catalog of three detections, plus `more`.
    fn build_with(dir: &std::path::Path, more: impl Fn(&AttackCatalog) -> Vec<Detection>) -> Store {
        let attack = attack();
        let mut detections = vec![
            detection(&attack, "low-proxy", "Low Proxy Rule", "T1090", Severity::Low),
            detection(&attack, "tor", "Tor Exit Traffic", "T1090.003", Severity::High),
            detection(&attack, "ps", "PowerShell Download", "T1059.001", Severity::Medium),
        ];
        detections.extend(more(&attack));
        build_from_scratch(dir, detections)
    }

    /// A catalog written from scratch with `detections` as the test source.
    fn build_from_scratch(dir: &std::path::Path, detections: Vec<Detection>) -> Store {
        let mut writer = CatalogWriter::start(SyncLock::acquire(dir).unwrap(), None).unwrap();
        writer.write_attack(&attack()).unwrap();
        writer.write_source(&source(detections), "2026-01-01T00:00:00Z", None, &[]).unwrap();
        writer.finish().unwrap();
        Store::open(&catalog_path(dir)).unwrap()
    }

    /// The catalog's spelling vocabulary: each term with its uses.
    fn vocabulary(dir: &std::path::Path) -> Vec<(String, i64)> {
        let conn = rusqlite::Connection::open(catalog_path(dir)).unwrap();
        let mut statement = conn.prepare("SELECT term, uses FROM spelling ORDER BY term").unwrap();
        statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
    }

    /// The next catalog, written from a copy of the current one with `detections` as the test
    /// source's new read, and the changes between the two recorded.
    fn resync(dir: &std::path::Path, detections: Vec<Detection>, synced_at: &str, retention: &Retention) -> Store {
        let lock = SyncLock::acquire(dir).unwrap();
        let previous = Previous::open(&lock).unwrap().unwrap();
        let before = previous.source("test").unwrap().unwrap();
        let rows = previous.detections(&before).unwrap().rows;
        let old: Vec<Detection> = rows.iter().map(|(_, d)| d.clone()).collect();
        let changes = ruledex_core::history::compare(&old, &detections, None);
        let mut writer = CatalogWriter::start(lock, Some(&previous)).unwrap();
        writer.write_source(&source(detections), synced_at, Some("fp"), &rows).unwrap();
        writer.record_changes(synced_at, &changes, None, retention).unwrap();
        writer.finish().unwrap();
        Store::open(&catalog_path(dir)).unwrap()
    }

    #[test]
    fn a_resync_replaces_only_changed_rows_and_carries_the_history_forward() {
        let dir = tempfile::tempdir().unwrap();
        let attack = attack();
        build(dir.path());
        let keep = Retention { syncs: 10, oldest: "2000-01-01T00:00:00Z".into() };
        let mut tor = detection(&attack, "tor", "Tor Exit Traffic", "T1090.003", Severity::High);
        tor.rule.query = "index=proxy tor".into();
        let unchanged = |id, title, technique, severity| detection(&attack, id, title, technique, severity);
        let second = vec![
            unchanged("low-proxy", "Low Proxy Rule", "T1090", Severity::Low),
            tor.clone(),
            unchanged("new", "New Proxy Rule", "T1090.001", Severity::Medium),
        ];
        let store = resync(dir.path(), second.clone(), "2026-02-01T00:00:00Z", &keep);
        let listing =
            store.technique_detections("T1090".parse().unwrap(), false, &Filter::default(), Window::ALL).unwrap();
        let ids: Vec<&str> = listing.detections.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, vec!["tor", "new", "low-proxy"]);
        assert!(matches!(store.detection("test", "ps").unwrap(), Lookup::NotFound), "removed");
        assert_eq!(store.search(&SearchQuery::new("PowerShell")).unwrap().total, 0, "its search entry too");
        assert_eq!(store.search(&SearchQuery::new("query:tor")).unwrap().total, 1, "the new query is indexed");

        let third = vec![second[0].clone(), second[2].clone()];
        let store = resync(dir.path(), third, "2026-03-01T00:00:00Z", &keep);
        let all = store.changes(&ChangeQuery::default()).unwrap();
        let seen: Vec<(i64, &str, ChangeKind)> =
            all.iter().map(|c| (c.sync, c.change.id.as_str(), c.change.kind)).collect();
        assert_eq!(
            seen,
            vec![
                (2, "tor", ChangeKind::Removed),
                (1, "tor", ChangeKind::Changed),
                (1, "new", ChangeKind::Added),
                (1, "ps", ChangeKind::Removed),
            ],
            "newest first"
        );
        let t1090_003 = ChangeQuery { technique: Some("T1090.003".parse().unwrap()), ..ChangeQuery::default() };
        assert_eq!(store.changes(&t1090_003).unwrap().len(), 2);
        let family = ChangeQuery { technique: Some("T1090".parse().unwrap()), ..ChangeQuery::default() };
        assert_eq!(store.changes(&family).unwrap().len(), 3, "a technique's history includes its sub-techniques'");
        let since = ChangeQuery { since: Some(Since::Sync(1)), ..ChangeQuery::default() };
        assert_eq!(store.changes(&since).unwrap().len(), 1);
        let recent = store.recent_changes("2026-02-15T00:00:00Z").unwrap();
        assert_eq!(recent.get(&("test".to_string(), "tor".to_string())), Some(&ChangeKind::Removed));
        assert_eq!(recent.len(), 1);

        let one = Retention { syncs: 1, oldest: "2000-01-01T00:00:00Z".into() };
        let store = resync(dir.path(), vec![second[0].clone()], "2026-04-01T00:00:00Z", &one);
        let kept: Vec<i64> = store.changes(&ChangeQuery::default()).unwrap().iter().map(|c| c.sync).collect();
        assert_eq!(kept, vec![3], "pruned to the newest sync");
        let none = Retention { syncs: 10, oldest: "2026-05-01T00:00:00Z".into() };
        let store = resync(dir.path(), vec![second[0].clone()], "2026-04-02T00:00:00Z", &none);
        assert!(store.changes(&ChangeQuery::default()).unwrap().is_empty(), "pruned by age");
    }

    /// A resync adds what the rows it changed did to the copied vocabulary instead of counting
    /// the whole index again: the result must be what counting it finds.
    #[test]
    fn a_resync_updates_the_vocabulary_to_what_counting_the_index_finds() {
        let attack = attack();
        let rule = |id, title: &str| Detection {
            rule: Rule { description: String::new(), ..detection(&attack, id, title, "T1090", Severity::Low).rule },
            ..detection(&attack, id, title, "T1090", Severity::Low)
        };
        let (copied, counted) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        build_from_scratch(
            copied.path(),
            vec![rule("a", "Kerberoasting Twice"), rule("b", "Kerberoasting Beaconing"), rule("c", "Removed Soon")],
        );
        let has = |words: &[(String, i64)], word: &str| words.iter().any(|(term, _)| term == word);
        assert!(has(&vocabulary(copied.path()), "kerberoasting"));
        // Kerberoasting is used once now, beaconing and newword twice; tags (vendor, path, ...)
        // change their counts; rule c leaves.
        let second = vec![
            rule("a", "Kerberoasting Twice"),
            rule("b", "Beaconing Again"),
            rule("d", "Beaconing Newword"),
            rule("e", "Newword"),
        ];
        let keep = Retention { syncs: 10, oldest: "2000-01-01T00:00:00Z".into() };
        resync(copied.path(), second.clone(), "2026-02-01T00:00:00Z", &keep);
        build_from_scratch(counted.path(), second);
        let words = vocabulary(copied.path());
        assert!(has(&words, "beaconing") && has(&words, "newword") && !has(&words, "kerberoasting"), "{words:?}");
        assert_eq!(words, vocabulary(counted.path()));
    }

    /// A fresh catalog is written with FTS5's merging off; the syncs that copy it must merge.
    #[test]
    fn a_fresh_catalogs_index_is_left_to_merge_as_fts5_does_by_default() {
        let dir = tempfile::tempdir().unwrap();
        build(dir.path());
        let conn = rusqlite::Connection::open(catalog_path(dir.path())).unwrap();
        let settings: Vec<String> = conn
            .prepare("SELECT k FROM detections_fts_config ORDER BY k")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(settings, ["version"]);
    }

    #[test]
    fn a_written_catalog_reads_back_with_parent_roll_up_and_display_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = build(dir.path());
        let listing =
            store.technique_detections("T1090".parse().unwrap(), false, &Filter::default(), Window::ALL).unwrap();
        let ids: Vec<&str> = listing.detections.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, vec!["tor", "low-proxy"], "sub-technique detections roll up; highest severity first");
        let exact =
            store.technique_detections("T1090".parse().unwrap(), true, &Filter::default(), Window::ALL).unwrap();
        assert_eq!(exact.detections.len(), 1);
        assert_eq!(store.technique("T1090".parse().unwrap()).unwrap().name, "Proxy");
        assert_eq!(store.attack().subtechniques("T1090".parse().unwrap()).count(), 3);
        assert!(matches!(store.detection("test", "tor").unwrap(), Lookup::Found(_)));
        assert!(matches!(store.detection("test", "TOR").unwrap(), Lookup::Found(_)), "case-insensitive fallback");
        assert!(matches!(store.detection("test", "nope").unwrap(), Lookup::NotFound));
    }

    #[test]
    fn search_ranks_and_highlights_and_refuses_bad_queries() {
        let dir = tempfile::tempdir().unwrap();
        let store = build(dir.path());
        let results = store.search(&SearchQuery::new("tor")).unwrap();
        assert_eq!(results.total, 1);
        assert_eq!(results.hits[0].title.0, vec![("Tor".to_string(), true), (" Exit Traffic".into(), false)]);
        assert_eq!(results.hits[0].matched_field, Field::Title);
        let by_technique = store.search(&SearchQuery::new("T1059.001")).unwrap();
        assert_eq!(by_technique.hits[0].detection.id, "ps");
        for bad in ["AND", "(unclosed", "\"open"] {
            assert!(matches!(store.search(&SearchQuery::new(bad)), Err(StoreError::BadQuery(_))), "{bad}");
        }
        let too_big = SearchQuery { limit: 10_000, ..SearchQuery::new("tor") };
        assert!(matches!(store.search(&too_big), Err(StoreError::BadQuery(_))));
    }

    #[test]
    fn search_finds_word_forms_ranks_in_tiers_corrects_typos_and_looks_up_cves() {
        let dir = tempfile::tempdir().unwrap();
        let store = build_with(dir.path(), |attack| {
            let mut relay = detection(attack, "relay", "Tor Relays", "T1090", Severity::Critical);
            relay.source_kind = SourceKind::Community;
            let mut onion = detection(attack, "onion", "Onion Routing", "T1090", Severity::Critical);
            onion.rule.description = "Traffic to Tor hidden services".into();
            let mut log4 = detection(attack, "log4", "Log4Shell Exploitation", "T1090", Severity::Low);
            log4.cves = vec!["CVE-2021-44228".into()];
            vec![relay, onion, log4]
        });
        let ids = |text: &str| -> Vec<String> {
            store.search(&SearchQuery::new(text)).unwrap().hits.into_iter().map(|h| h.detection.id).collect()
        };
        assert_eq!(ids("tor"), vec!["tor", "relay", "onion"], "title, vendor first; then the description match");
        assert_eq!(ids("exits"), vec!["tor"], "word forms match");
        assert_eq!(ids("relay"), vec!["relay"]);
        let hit = &store.search(&SearchQuery::new("relay")).unwrap().hits[0];
        assert_eq!(hit.title.0, vec![("Tor ".to_string(), false), ("Relays".into(), true)]);
        let corrected = store.search(&SearchQuery::new("trafic")).unwrap();
        assert_eq!(corrected.corrected_query.as_deref(), Some("traffic"));
        assert_eq!(corrected.total, 2);
        assert_eq!(store.search(&SearchQuery::new("traffic")).unwrap().corrected_query, None);
        assert_eq!(ids("cve:CVE-2021-44228"), vec!["log4"]);
        assert_eq!(ids("cve:2021-44228 OR relay"), vec!["relay", "log4"]);
        assert!(store.search(&SearchQuery::new("cve:CVE-2021-44229")).unwrap().hits.is_empty());
    }

    #[test]
    fn hostile_searches_get_results_or_a_sentence_never_an_sqlite_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = build(dir.path());
        let long = "tor ".repeat(2_500);
        let hostile = [
            "\"",
            "\"\"",
            "(",
            ")",
            "()",
            "(()",
            "AND OR",
            "NOT NOT x",
            "x NOT",
            "*",
            "**",
            "a**",
            "\"ab\"*",
            "title:",
            "title:\"\"",
            "cve:",
            "::",
            "{title}:tor",
            "NEAR(tor exit)",
            "a:b:c",
            "^tor",
            "-tor",
            "+tor",
            "tor^",
            "\u{0}",
            "\u{202e}evil\u{1b}[2J",
            "ÄÖÜ straße",
            "🙂 tor",
            "x OR (y AND (z NOT w))",
            "title:(tor)",
            &long,
        ];
        for text in hostile {
            match store.search(&SearchQuery::new(text)) {
                Ok(_) => {}
                Err(StoreError::BadQuery(message)) => assert!(!message.contains("fts5"), "{text:.40}: {message}"),
                Err(other) => panic!("{text:.40}: {other}"),
            }
        }
    }

    #[test]
    fn one_writer_at_a_time_and_an_unfinished_catalog_is_discarded() {
        let dir = tempfile::tempdir().unwrap();
        let first = CatalogWriter::start(SyncLock::acquire(dir.path()).unwrap(), None).unwrap();
        assert!(matches!(SyncLock::acquire(dir.path()), Err(StoreError::Locked(_))));
        drop(first);
        let names = |d: &std::path::Path| -> Vec<String> {
            std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
        };
        assert_eq!(names(dir.path()), vec!["sync.lock"], "the temporary catalog is removed");
        assert!(matches!(Store::open(&catalog_path(dir.path())), Err(StoreError::Missing(_))));
    }

    /// Issue 7, item 15: a failed rename left a 142 MB temporary file behind.
    #[test]
    fn a_catalog_that_cannot_be_renamed_into_place_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // A non-empty directory where the catalog goes: the rename must fail.
        std::fs::create_dir_all(catalog_path(dir.path()).join("occupied")).unwrap();
        let mut writer = CatalogWriter::start(SyncLock::acquire(dir.path()).unwrap(), None).unwrap();
        writer.write_attack(&attack()).unwrap();
        let error = writer.finish().unwrap_err();
        assert!(matches!(error, StoreError::Io { .. }), "{error}");
        let mut left: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
        left.sort();
        assert_eq!(left, vec!["catalog.sqlite", "sync.lock"], "only the directory in the way and the lock");
    }

    #[test]
    fn a_damaged_catalog_asks_for_a_sync() {
        let dir = tempfile::tempdir().unwrap();
        let path = catalog_path(dir.path());
        std::fs::write(&path, "not a catalog at all, but long enough to look like a file").unwrap();
        let error = Store::open(&path).err().unwrap().to_string();
        assert!(error.contains("cannot be read") && error.contains("run `ruledex sync`"), "{error}");
    }

    #[test]
    fn a_catalog_of_another_schema_version_asks_for_a_sync() {
        let dir = tempfile::tempdir().unwrap();
        let path = catalog_path(dir.path());
        rusqlite::Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
        let error = Store::open(&path).err().unwrap().to_string();
        assert!(error.contains("schema version 99") && error.contains("run `ruledex sync`"), "{error}");
    }
}

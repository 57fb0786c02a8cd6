//! Building a new catalog file and swapping it in.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io;
use std::path::PathBuf;

use ruledex_core::attack::AttackCatalog;
use ruledex_core::ingest::{Asset, FileDigest, IngestedSource, SourceReport};
use ruledex_core::model::Detection;
use ruledex_core::owner_only;
use ruledex_core::words::Stems;
use rusqlite::{Connection, OptionalExtension, params};

use crate::flush::BackgroundFlush;
use crate::previous::{Previous, SyncLock};
use crate::record::{DetectionRecord, ObjectRecord, ReportRecord, TacticRecord, TechniqueRecord, test_inputs};
use crate::search::{RowChange, SpellingUpdate, record_changed_row, record_changes, update_spelling};
use crate::{Result, SCHEMA_VERSION, StoreError, TEMP_PREFIX, catalog_path, io_error};

/// Writes the next catalog into a temporary file in the data directory; [`finish`] renames it
/// over the current catalog. The temporary file starts as a copy of the current catalog, so
/// sources that did not change, and the change history, are carried over without being written
/// again; a source read anew has only its rows that differ replaced. Dropping a writer without
/// finishing deletes the temporary file, and a killed process leaves only a temporary file that
/// the next sync removes: the current catalog and its history are never touched.
///
/// [`finish`]: CatalogWriter::finish
pub struct CatalogWriter {
    /// Always `Some` until `finish` closes it.
    conn: Option<Connection>,
    temp: PathBuf,
    target: PathBuf,
    /// Unique to this catalog (see [`CatalogWriter::generation`]).
    generation: String,
    /// Started empty rather than from a copy: its search index is compacted at the end.
    fresh: bool,
    spelling: SpellingUpdate,
    flush: BackgroundFlush,
    /// Held for the writer's life: one sync at a time per data directory.
    _lock: SyncLock,
}

impl CatalogWriter {
    /// The next catalog: a copy of `previous`, or empty without one.
    pub fn start(lock: SyncLock, previous: Option<&Previous>) -> Result<CatalogWriter> {
        let data_dir = lock.data_dir().to_path_buf();
        let temp = data_dir.join(format!("{TEMP_PREFIX}{}", std::process::id()));
        let mut flush = BackgroundFlush::new(temp.clone());
        // Created before SQLite opens it, which would make it readable by everyone; a copy
        // into it (rather than `fs::copy`) keeps its permissions.
        let mut file = owner_only::create(&temp).map_err(io_error(&temp))?;
        if let Some(previous) = previous {
            let mut current = File::open(previous.path()).map_err(io_error(previous.path()))?;
            io::copy(&mut current, &mut file).map_err(io_error(&temp))?;
            flush.start()?;
        }
        drop(file);
        let conn = Connection::open(&temp)?;
        // The temporary file is discarded on any failure, so durability per statement buys
        // nothing; the finished file is fsynced before it is renamed into place.
        conn.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA foreign_keys = ON;")?;
        // The rows a sync changes, recorded for the vocabulary, are few: memory, not a file.
        conn.execute_batch("PRAGMA temp_store = MEMORY;")?;
        let spelling = match previous {
            Some(_) => {
                record_changes(&conn)?;
                SpellingUpdate::AddChanges
            }
            None => {
                conn.execute_batch(include_str!("schema.sql"))?;
                conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
                conn.execute_batch(NO_MERGING_UNTIL_OPTIMIZED)?;
                SpellingUpdate::CountAll
            }
        };
        conn.execute_batch("BEGIN")?;
        Ok(CatalogWriter {
            conn: Some(conn),
            temp,
            target: catalog_path(&data_dir),
            generation: new_generation_id(),
            fresh: previous.is_none(),
            spelling,
            flush,
            _lock: lock,
        })
    }

    /// Unique to this catalog: the time it was started and the writing process, which no two
    /// syncs share.
    pub fn generation(&self) -> &str {
        &self.generation
    }

    pub fn write_meta(&mut self, key: &str, value: &str) -> Result<()> {
        self.conn().execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", params![key, value])?;
        Ok(())
    }

    /// Replaces the catalog's ATT&CK techniques and tactics.
    pub fn write_attack(&mut self, attack: &AttackCatalog) -> Result<()> {
        self.conn().execute_batch("DELETE FROM techniques; DELETE FROM tactics; DELETE FROM attack_objects;")?;
        let mut technique =
            self.conn().prepare("INSERT INTO techniques (id, parent, name, body) VALUES (?1, ?2, ?3, ?4)")?;
        for t in attack.techniques() {
            technique.execute(params![
                t.id.to_string(),
                t.id.parent().to_string(),
                t.name,
                serde_json::to_string(&TechniqueRecord::from(t))?
            ])?;
        }
        let mut tactic =
            self.conn().prepare("INSERT OR IGNORE INTO tactics (id, position, body) VALUES (?1, ?2, ?3)")?;
        // Current tactics in matrix order, then retired ones (kept to show where tags went).
        for (position, t) in attack.tactics().iter().chain(attack.retired_tactics()).enumerate() {
            tactic.execute(params![
                t.id.to_string(),
                position as i64,
                serde_json::to_string(&TacticRecord::from(t))?
            ])?;
        }
        let mut object = self.conn().prepare("INSERT INTO attack_objects (id, body) VALUES (?1, ?2)")?;
        for o in attack.objects() {
            object.execute(params![o.id.to_string(), serde_json::to_string(&ObjectRecord::from(o))?])?;
        }
        Ok(())
    }

    /// Writes a freshly read source over what the catalog held of it (`previous`: its rows in
    /// the catalog this one started from). Only rows that differ are replaced, so re-reading a
    /// large source after a small change rewrites little.
    pub fn write_source(
        &mut self,
        source: &IngestedSource,
        synced_at: &str,
        fingerprint: Option<&str>,
        previous: &[(i64, Detection)],
    ) -> Result<()> {
        let name = &source.report.name;
        self.upsert_source(&source.report, synced_at, fingerprint, &source.support_digest)?;
        let fresh: HashMap<&str, &Detection> = source.detections.iter().map(|d| (d.id.as_str(), d)).collect();
        let kept: HashMap<&str, &Detection> = previous.iter().map(|(_, d)| (d.id.as_str(), d)).collect();
        for (pk, old) in previous {
            if fresh.get(old.id.as_str()) != Some(&old) {
                self.delete_detection(*pk, old)?;
            }
        }
        let changed: Vec<&Detection> =
            source.detections.iter().filter(|d| kept.get(d.id.as_str()) != Some(d)).collect();
        self.insert_detections(&changed)?;
        self.conn().execute("DELETE FROM assets WHERE source = ?1", [name])?;
        self.insert_assets(name, &source.assets)?;
        self.conn().execute("DELETE FROM files WHERE source = ?1", [name])?;
        self.insert_files(name, &source.files)?;
        self.flush.start()
    }

    /// Records that this sync could not read a source (offline, say): its detections stay as
    /// the previous catalog had them, with `error` saying why, and the kept report is returned.
    /// With nothing to keep, `empty` is recorded with the error and no detections.
    pub fn keep_previous_source(
        &mut self,
        empty: &SourceReport,
        error: &str,
        now: &str,
    ) -> Result<Option<SourceReport>> {
        let kept: Option<String> = self
            .conn()
            .query_row("SELECT report FROM sources WHERE name = ?1", [&empty.name], |r| r.get(0))
            .optional()?;
        match kept {
            Some(report) => {
                self.conn().execute("UPDATE sources SET error = ?2 WHERE name = ?1", params![empty.name, error])?;
                Ok(Some(ReportRecord::parse(&report)?))
            }
            None => {
                self.conn().execute(
                    "INSERT INTO sources (name, position, report, synced_at, error) \
                     VALUES (?1, (SELECT count(*) FROM sources), ?2, ?3, ?4)",
                    params![empty.name, serde_json::to_string(&ReportRecord::from(empty))?, now, error],
                )?;
                Ok(None)
            }
        }
    }

    /// Records that a source was found unchanged upstream: its rows stay, and an error an
    /// earlier sync recorded is cleared.
    pub fn source_unchanged(&mut self, name: &str) -> Result<()> {
        self.conn().execute("UPDATE sources SET error = NULL WHERE name = ?1", [name])?;
        Ok(())
    }

    /// Keeps exactly the sources named, in that order: the rows of sources no longer configured
    /// are removed (their change history stays, until pruned).
    pub fn retain_sources(&mut self, names: &[&str]) -> Result<()> {
        let listed: Vec<String> = {
            let mut statement = self.conn().prepare("SELECT name FROM sources")?;
            let names = statement.query_map([], |r| r.get(0))?;
            names.collect::<Result<_, _>>()?
        };
        for gone in listed.iter().filter(|n| !names.contains(&n.as_str())) {
            // Its rows leave the index unrecorded: every term is counted again.
            self.spelling = SpellingUpdate::CountAll;
            self.conn().execute(
                "DELETE FROM detection_techniques WHERE detection IN (SELECT pk FROM detections WHERE source = ?1)",
                [gone],
            )?;
            self.conn().execute(
                "DELETE FROM detections_fts WHERE rowid IN (SELECT pk FROM detections WHERE source = ?1)",
                [gone],
            )?;
            for table in ["detections", "assets", "files"] {
                self.conn().execute(&format!("DELETE FROM {table} WHERE source = ?1"), [gone])?;
            }
            self.conn().execute("DELETE FROM sources WHERE name = ?1", [gone])?;
        }
        for (position, name) in names.iter().enumerate() {
            self.conn().execute("UPDATE sources SET position = ?2 WHERE name = ?1", params![name, position as i64])?;
        }
        Ok(())
    }

    fn upsert_source(
        &mut self,
        report: &SourceReport,
        synced_at: &str,
        fingerprint: Option<&str>,
        support_digest: &str,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT INTO sources (name, position, report, synced_at, error, fingerprint, support_digest)
             VALUES (?1, (SELECT count(*) FROM sources), ?2, ?3, NULL, ?4, ?5)
             ON CONFLICT (name) DO UPDATE SET report = excluded.report, synced_at = excluded.synced_at,
                 error = NULL, fingerprint = excluded.fingerprint, support_digest = excluded.support_digest",
            params![
                report.name,
                serde_json::to_string(&ReportRecord::from(report))?,
                synced_at,
                fingerprint,
                support_digest
            ],
        )?;
        Ok(())
    }

    /// Deletes the row `pk` holding `detection`.
    fn delete_detection(&mut self, pk: i64, detection: &Detection) -> Result<()> {
        let conn = self.conn();
        conn.prepare_cached("DELETE FROM detection_techniques WHERE detection = ?1")?.execute([pk])?;
        conn.prepare_cached("DELETE FROM detections_fts WHERE rowid = ?1")?.execute([pk])?;
        conn.prepare_cached("DELETE FROM detections WHERE pk = ?1")?.execute([pk])?;
        self.changed_in_index(RowChange::Removed, detection, &search_tags(detection))
    }

    /// Records a detection whose row the index loses or gains, for the vocabulary's update.
    fn changed_in_index(&self, change: RowChange, detection: &Detection, tags: &str) -> Result<()> {
        let rule = &detection.rule;
        match self.spelling {
            SpellingUpdate::AddChanges => record_changed_row(self.conn(), change, &rule.title, &rule.description, tags),
            SpellingUpdate::CountAll => Ok(()),
        }
    }

    fn insert_files(&mut self, source: &str, files: &[FileDigest]) -> Result<()> {
        let mut insert =
            self.conn().prepare_cached("INSERT INTO files (source, path, hash, ids) VALUES (?1, ?2, ?3, ?4)")?;
        for file in files {
            insert.execute(params![source, file.path, file.hash, serde_json::to_string(&file.ids)?])?;
        }
        Ok(())
    }

    fn insert_assets(&mut self, source: &str, assets: &[Asset]) -> Result<()> {
        let mut insert = self.conn().prepare_cached("INSERT INTO assets (source, path, text) VALUES (?1, ?2, ?3)")?;
        for asset in assets {
            insert.execute(params![source, asset.path, asset.text])?;
        }
        Ok(())
    }

    fn insert_detections(&mut self, detections: &[&Detection]) -> Result<()> {
        let mut detection = self.conn().prepare_cached(
            "INSERT INTO detections (source, id, native_id, source_kind, title, vendor, language, rule_type,
                 severity, status, deprecated, path, data_sources, body, native_rule, investigation, implementation,
                 test_inputs)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
        )?;
        let mut technique = self.conn().prepare_cached(
            "INSERT OR IGNORE INTO detection_techniques (technique, parent, detection, status, mapped_by)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let mut fts = self.conn().prepare_cached(
            "INSERT INTO detections_fts (rowid, title, description, query, tags, cves, title_stems,
                 description_stems, tags_stems)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        let mut stems = Stems::default();
        for d in detections {
            let r = &d.rule;
            detection.execute(params![
                d.source,
                d.id,
                r.native_id,
                d.source_kind.as_str(),
                r.title,
                r.vendor,
                r.language.map(|v| v.as_str()),
                r.rule_type.map(|v| v.as_str()),
                r.severity.map(|v| v.as_str()),
                r.status.map(|v| v.as_str()),
                d.deprecated,
                r.path,
                serde_json::to_string(&r.data_sources)?,
                serde_json::to_string(&DetectionRecord::card(d))?,
                r.native_rule,
                r.investigation,
                r.implementation,
                serde_json::to_string(&test_inputs(r))?,
            ])?;
            let pk = self.conn().last_insert_rowid();
            for m in &d.techniques {
                let (id, parent) = (m.id.to_string(), m.id.parent().to_string());
                technique.execute(params![id, parent, pk, m.status.as_str(), m.mapped_by.as_str()])?;
            }
            let tags = search_tags(d);
            fts.execute(params![
                pk,
                r.title,
                r.description,
                d.format.adapter().query_logic(&r.query),
                tags,
                d.cves.join(" "),
                stems.stemmed(&r.title),
                stems.stemmed(&r.description),
                stems.stemmed(&tags),
            ])?;
            self.changed_in_index(RowChange::Added, d, &tags)?;
        }
        Ok(())
    }

    /// Commits, makes the file durable, and renames it over the current catalog. On any
    /// failure the temporary file is removed and the current catalog stays.
    pub fn finish(mut self) -> Result<PathBuf> {
        let generation = self.generation.clone();
        self.write_meta("generation", &generation)?;
        let conn = self.conn.take().expect("connection is open until finish");
        let finished = self.finish_file(conn);
        if finished.is_err() {
            let _ = fs::remove_file(&self.temp);
        }
        finished?;
        if let Some(dir) = self.target.parent() {
            // Persist the rename itself.
            File::open(dir).and_then(|d| d.sync_all()).map_err(io_error(dir))?;
        }
        Ok(self.target.clone())
    }

    /// Commits and makes the file durable. A fresh catalog's search index is merged into one
    /// segment; a copied one keeps FTS5's own incremental merging, since merging the whole index
    /// would cost as much as a full sync.
    fn finish_file(&mut self, conn: Connection) -> Result<()> {
        update_spelling(&conn, self.spelling)?;
        conn.execute_batch("COMMIT")?;
        if self.fresh {
            conn.execute_batch("INSERT INTO detections_fts (detections_fts) VALUES ('optimize')")?;
            conn.execute_batch(MERGING_AS_CONFIGURED)?;
        }
        conn.execute_batch("PRAGMA optimize;")?;
        conn.close().map_err(|(_, e)| StoreError::Sqlite(e))?;
        self.flush.wait()?;
        File::open(&self.temp).and_then(|f| f.sync_all()).map_err(io_error(&self.temp))?;
        fs::rename(&self.temp, &self.target).map_err(io_error(&self.target))
    }

    pub(crate) fn conn(&self) -> &Connection {
        self.conn.as_ref().expect("connection is open until finish")
    }
}

impl Drop for CatalogWriter {
    fn drop(&mut self) {
        // An unfinished catalog is discarded; after `finish` the file has been renamed away.
        if let Some(conn) = self.conn.take() {
            drop(conn);
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// A fresh catalog's index is merged into one segment when it is finished, so merging the
/// segments its inserts flush as it grows (FTS5's automerge) is work thrown away: about a
/// seventh of what storing a full sync cost.
const NO_MERGING_UNTIL_OPTIMIZED: &str = "INSERT INTO detections_fts (detections_fts, rank) VALUES ('automerge', 0)";
/// Drops the setting again, so the catalog's index holds what `schema.sql` made and the
/// incremental syncs that copy it merge as FTS5 does by default.
const MERGING_AS_CONFIGURED: &str = "DELETE FROM detections_fts_config WHERE k = 'automerge'";

/// An identifier unique to one written catalog: the time it was finished and the writing
/// process, which no two syncs share.
fn new_generation_id() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{nanos:x}-{:x}", std::process::id())
}

/// What full-text search should find a detection by besides its title, description and query.
fn search_tags(d: &Detection) -> String {
    let r = &d.rule;
    let mut words: Vec<&str> = vec![&d.id, &r.native_id, &r.vendor, &r.product, &r.path];
    words.extend(r.language.map(|l| l.label()));
    words.extend(r.rule_type.map(|t| t.label()));
    let techniques: Vec<String> = d.techniques.iter().map(|m| m.id.to_string()).collect();
    words.extend(techniques.iter().map(String::as_str));
    words.extend(d.techniques.iter().filter_map(|m| m.name.as_deref()));
    words.extend(d.tactics.iter().map(|t| t.name.as_str()));
    words.extend(r.attack_tags.iter().map(String::as_str));
    words.extend(r.data_sources.iter().map(String::as_str));
    words.extend(r.platforms.iter().map(String::as_str));
    words.extend(r.tags.iter().map(String::as_str));
    words.extend(r.author.as_deref());
    words.join("\n")
}

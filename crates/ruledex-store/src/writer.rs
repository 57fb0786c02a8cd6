//! Building a new catalog file and swapping it in.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use ruledex_core::attack::AttackCatalog;
use ruledex_core::ingest::{Asset, IngestedSource, SourceReport};
use ruledex_core::model::Detection;
use rusqlite::{Connection, OpenFlags, params};

use crate::record::{DetectionRecord, ObjectRecord, ReportRecord, TacticRecord, TechniqueRecord, test_inputs};
use crate::{CATALOG_FILE, Result, SCHEMA_VERSION, StoreError, catalog_path, io_error};

const TEMP_PREFIX: &str = "catalog.sqlite.tmp-";

/// What the current catalog holds of one source: report, sync time, detections, assets.
type PreviousSource = (SourceReport, String, Vec<Detection>, Vec<Asset>);

/// Writes a complete catalog into a temporary file in the data directory; [`finish`] renames it
/// over the current catalog. Dropping a writer without finishing deletes the temporary file, and
/// a killed process leaves only a temporary file that the next sync removes.
///
/// [`finish`]: CatalogWriter::finish
pub struct CatalogWriter {
    /// Always `Some` until `finish` closes it.
    conn: Option<Connection>,
    temp: PathBuf,
    target: PathBuf,
    sources_written: i64,
    /// Held for the writer's life: one sync at a time per data directory.
    _lock: File,
}

impl CatalogWriter {
    pub fn create(data_dir: &Path) -> Result<CatalogWriter> {
        fs::create_dir_all(data_dir).map_err(io_error(data_dir))?;
        let lock_path = data_dir.join("sync.lock");
        let lock = File::create(&lock_path).map_err(io_error(&lock_path))?;
        if lock.try_lock().is_err() {
            return Err(StoreError::Locked(data_dir.to_path_buf()));
        }
        remove_stale_temp_files(data_dir)?;
        let temp = data_dir.join(format!("{TEMP_PREFIX}{}", std::process::id()));
        let conn = Connection::open(&temp)?;
        // The temporary file is discarded on any failure, so durability per statement buys
        // nothing; the finished file is fsynced before it is renamed into place.
        conn.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA foreign_keys = ON;")?;
        conn.execute_batch(include_str!("schema.sql"))?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        conn.execute_batch("BEGIN")?;
        Ok(CatalogWriter { conn: Some(conn), temp, target: catalog_path(data_dir), sources_written: 0, _lock: lock })
    }

    pub fn write_meta(&mut self, key: &str, value: &str) -> Result<()> {
        self.conn().execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", params![key, value])?;
        Ok(())
    }

    pub fn write_attack(&mut self, attack: &AttackCatalog) -> Result<()> {
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

    /// Writes a freshly ingested source.
    pub fn write_source(&mut self, source: &IngestedSource, synced_at: &str) -> Result<()> {
        self.insert_source(&source.report, synced_at, None)?;
        self.insert_assets(&source.report.name, &source.assets)?;
        self.insert_detections(&source.detections)
    }

    /// Keeps a source's detections from the current catalog when this sync could not read the
    /// source (offline, say), recording why, and returns the kept report. When there is nothing
    /// to keep, `empty` is recorded with the error and no detections.
    pub fn keep_previous_source(
        &mut self,
        empty: &SourceReport,
        error: &str,
        now: &str,
    ) -> Result<Option<SourceReport>> {
        match self.previous_source(&empty.name)? {
            Some((previous, synced_at, detections, assets)) => {
                self.insert_source(&previous, &synced_at, Some(error))?;
                self.insert_assets(&previous.name, &assets)?;
                self.insert_detections(&detections)?;
                Ok(Some(previous))
            }
            None => {
                self.insert_source(empty, now, Some(error))?;
                Ok(None)
            }
        }
    }

    /// The source's report, sync time, detections and assets in the current catalog, if it has
    /// them.
    fn previous_source(&self, name: &str) -> Result<Option<PreviousSource>> {
        if !self.target.exists() {
            return Ok(None);
        }
        let previous = Connection::open_with_flags(&self.target, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let version: i32 = previous.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version != SCHEMA_VERSION {
            return Ok(None);
        }
        let row: Option<(String, String)> = previous
            .query_row("SELECT report, synced_at FROM sources WHERE name = ?1", [name], |r| Ok((r.get(0)?, r.get(1)?)))
            .map(Some)
            .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })?;
        let Some((report, synced_at)) = row else { return Ok(None) };
        let detections = crate::reader::full_detections(&previous, "source = ?1 ORDER BY pk", [name])?;
        let assets = crate::reader::source_assets(&previous, name)?;
        Ok(Some((ReportRecord::parse(&report)?, synced_at, detections, assets)))
    }

    fn insert_assets(&mut self, source: &str, assets: &[Asset]) -> Result<()> {
        let mut insert = self.conn().prepare_cached("INSERT INTO assets (source, path, text) VALUES (?1, ?2, ?3)")?;
        for asset in assets {
            insert.execute(params![source, asset.path, asset.text])?;
        }
        Ok(())
    }

    fn insert_source(&mut self, report: &SourceReport, synced_at: &str, error: Option<&str>) -> Result<()> {
        self.conn().execute(
            "INSERT INTO sources (name, position, report, synced_at, error) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                report.name,
                self.sources_written,
                serde_json::to_string(&ReportRecord::from(report))?,
                synced_at,
                error
            ],
        )?;
        self.sources_written += 1;
        Ok(())
    }

    fn insert_detections(&mut self, detections: &[Detection]) -> Result<()> {
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
            "INSERT INTO detections_fts (rowid, title, description, query, tags) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
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
            fts.execute(params![pk, r.title, r.description, r.query, search_tags(d)])?;
        }
        Ok(())
    }

    /// Commits, makes the file durable, and renames it over the current catalog. On any
    /// failure the temporary file is removed and the current catalog stays.
    pub fn finish(mut self) -> Result<PathBuf> {
        let generation = new_generation_id();
        self.write_meta("generation", &generation)?;
        let conn = self.conn.take().expect("connection is open until finish");
        let finished = finish_file(conn, &self.temp, &self.target);
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

    fn conn(&self) -> &Connection {
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

fn finish_file(conn: Connection, temp: &Path, target: &Path) -> Result<()> {
    conn.execute_batch("COMMIT; INSERT INTO detections_fts (detections_fts) VALUES ('optimize'); PRAGMA optimize;")?;
    conn.close().map_err(|(_, e)| StoreError::Sqlite(e))?;
    File::open(temp).and_then(|f| f.sync_all()).map_err(io_error(temp))?;
    fs::rename(temp, target).map_err(io_error(target))
}

/// An identifier unique to one written catalog: the time it was finished and the writing
/// process, which no two syncs share.
fn new_generation_id() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{nanos:x}-{:x}", std::process::id())
}

/// Temporary files left by a sync that was killed. Only called with the sync lock held, so no
/// other writer is using them.
fn remove_stale_temp_files(data_dir: &Path) -> Result<()> {
    for entry in fs::read_dir(data_dir).map_err(io_error(data_dir))? {
        let entry = entry.map_err(io_error(data_dir))?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with(TEMP_PREFIX) && name != CATALOG_FILE {
            fs::remove_file(entry.path()).map_err(io_error(&entry.path()))?;
        }
    }
    Ok(())
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

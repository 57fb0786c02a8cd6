//! The current catalog as the next sync reads it: what each source looked like when last read,
//! its detections and files (for reuse and comparison), and the ATT&CK it was built with.
//!
//! A sync holds the [`SyncLock`] while it reads this, so the file cannot be replaced under it.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rayon::prelude::*;
use ruledex_core::attack::AttackCatalog;
use ruledex_core::ingest::{EarlierFile, EarlierRead, SourceReport};
use ruledex_core::model::Detection;
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::reader::{decode, read_attack, stored_rows};
use crate::record::ReportRecord;
use crate::{CATALOG_FILE, Result, SCHEMA_VERSION, StoreError, TEMP_PREFIX, catalog_path, io_error};

/// One sync at a time per data directory: held from before a sync looks at the current catalog
/// until its new catalog is in place.
pub struct SyncLock {
    data_dir: PathBuf,
    file: File,
}

impl SyncLock {
    /// Takes the lock, or fails at once when another sync holds it; removes what a killed sync
    /// left behind.
    pub fn acquire(data_dir: &Path) -> Result<SyncLock> {
        fs::create_dir_all(data_dir).map_err(io_error(data_dir))?;
        let lock_path = data_dir.join("sync.lock");
        let file = File::create(&lock_path).map_err(io_error(&lock_path))?;
        if file.try_lock().is_err() {
            return Err(StoreError::Locked(data_dir.to_path_buf()));
        }
        remove_stale_temp_files(data_dir)?;
        Ok(SyncLock { data_dir: data_dir.to_path_buf(), file })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
}

/// The lock belongs to the open file, which a child process started meanwhile shares (every
/// process started from another thread has a copy of the descriptor until it runs its program):
/// closing ours would leave the lock held as long as such a copy lives. Unlocking ends it now.
impl Drop for SyncLock {
    fn drop(&mut self) {
        // An error leaves nothing to do: the lock then goes with the last copy of the file.
        let _ = self.file.unlock();
    }
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

/// The current catalog, read-only, as a sync sees it. Shared between the sync's threads (one
/// reads sources while another writes the next catalog), one query at a time.
pub struct Previous {
    path: PathBuf,
    conn: Mutex<Connection>,
}

/// A source as the last sync left it.
#[derive(Debug, Clone)]
pub struct PreviousSource {
    pub report: SourceReport,
    pub synced_at: String,
    pub error: Option<String>,
    /// `None` for a source whose last read failed, or that was never read whole.
    pub fingerprint: Option<String>,
}

/// A source's detections with their row keys, and its files as its last read found them.
pub struct PreviousDetections {
    pub rows: Vec<(i64, Detection)>,
    support_digest: String,
    /// Path, content hash (absent unless read cleanly), addresses of its detections.
    files: Vec<(String, Option<String>, Vec<String>)>,
}

impl PreviousDetections {
    /// What the last read leaves for the next one (see [`EarlierRead`]), borrowing the rules.
    pub fn earlier(&self) -> EarlierRead<'_> {
        let by_id: HashMap<&str, &Detection> = self.rows.iter().map(|(_, d)| (d.id.as_str(), d)).collect();
        let files = self.files.iter().map(|(path, hash, ids)| {
            let rules = ids.iter().filter_map(|id| by_id.get(id.as_str())).map(|d| &d.rule).collect();
            (path.clone(), EarlierFile { hash: hash.clone(), rules })
        });
        EarlierRead { support_digest: self.support_digest.clone(), files: files.collect() }
    }
}

impl Previous {
    /// The catalog in `lock`'s data directory, when there is one this ruledex can read (another
    /// schema version is rebuilt from scratch, its history lost).
    pub fn open(lock: &SyncLock) -> Result<Option<Previous>> {
        let path = catalog_path(lock.data_dir());
        if !path.is_file() {
            return Ok(None);
        }
        let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let version: i32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        Ok((version == SCHEMA_VERSION).then_some(Previous { path, conn: Mutex::new(conn) }))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A query that panicked left nothing half-done in a read-only connection.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self.conn().query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    /// The configured sources in the order the catalog lists them.
    pub fn source_names(&self) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut statement = conn.prepare("SELECT name FROM sources ORDER BY position")?;
        let names = statement.query_map([], |r| r.get(0))?;
        Ok(names.collect::<Result<_, _>>()?)
    }

    pub fn source(&self, name: &str) -> Result<Option<PreviousSource>> {
        let row = self
            .conn()
            .query_row("SELECT report, synced_at, error, fingerprint FROM sources WHERE name = ?1", [name], |r| {
                Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        let Some((report, synced_at, error, fingerprint)) = row else { return Ok(None) };
        Ok(Some(PreviousSource { report: ReportRecord::parse(&report)?, synced_at, error, fingerprint }))
    }

    /// The source's detections, and its files with the rules each held: files its last read
    /// reported failures for are offered only as a fallback (see [`EarlierRead`]).
    pub fn detections(&self, source: &PreviousSource) -> Result<PreviousDetections> {
        let name = source.report.name.as_str();
        let conn = self.conn();
        // Decoding the records is most of what reading a whole source back costs: on every core.
        // (Lookups of a few detections decode on their own thread, off the pool.)
        let rows = stored_rows(&conn, "source = ?1 ORDER BY pk", [name])?;
        let rows = rows.into_par_iter().map(decode).collect::<Result<_>>()?;
        let support_digest: Option<String> =
            conn.query_row("SELECT support_digest FROM sources WHERE name = ?1", [name], |r| r.get(0))?;
        let failed: HashSet<&str> = source.report.failures.iter().map(|f| f.path.as_str()).collect();
        let mut statement = conn.prepare_cached("SELECT path, hash, ids FROM files WHERE source = ?1")?;
        let rows_of_files =
            statement.query_map([name], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get::<_, String>(2)?)))?;
        let mut files = Vec::new();
        for file in rows_of_files {
            let (path, hash, ids): (String, Option<String>, String) = file?;
            let hash = hash.filter(|_| !failed.contains(path.as_str()));
            files.push((path, hash, serde_json::from_str(&ids)?));
        }
        Ok(PreviousDetections { rows, support_digest: support_digest.unwrap_or_default(), files })
    }

    /// How many ATT&CK techniques the catalog holds.
    pub fn technique_count(&self) -> Result<usize> {
        let count: i64 = self.conn().query_row("SELECT count(*) FROM techniques", [], |r| r.get(0))?;
        Ok(usize::try_from(count).unwrap_or_default())
    }

    /// The ATT&CK techniques and tactics the catalog was built with.
    pub fn attack(&self) -> Result<AttackCatalog> {
        let version = self.meta("attack_version")?;
        read_attack(&self.conn(), version)
    }
}

#[cfg(test)]
mod tests {
    use std::process::{Command, Stdio};

    use super::*;

    /// A child process started while a sync holds the lock gets a copy of the lock file's
    /// descriptor: until it runs its program (which closes it) if it was started from another
    /// thread (a git fetch, say), for good if it was handed the descriptor. Either way the lock
    /// ends with the sync: the next sync must not be told that another one is writing.
    #[test]
    fn the_lock_ends_with_its_holder_even_when_a_child_process_has_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let lock = SyncLock::acquire(dir.path()).unwrap();
        let copy = lock.file.try_clone().unwrap();
        let mut child = Command::new("sleep").arg("60").stdin(copy).stdout(Stdio::null()).spawn().unwrap();
        drop(lock);
        let next = SyncLock::acquire(dir.path());
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(next.is_ok(), "{:?}", next.err());
    }
}

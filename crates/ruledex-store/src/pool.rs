//! The read-only connections of one catalog generation, each query within a budget.
//!
//! All connections are opened together when the generation opens, and the catalog file is
//! checked to be the same file before and after, so every connection reads the same catalog:
//! a sync that renames a new file into place later never reaches an open generation. No
//! connection is ever opened by path afterwards.
//!
//! The file is read with plain reads, not a memory map: a catalog overwritten in place
//! (`cp` over it) then makes queries fail with an error the server recovers from by reopening,
//! instead of killing the process with SIGBUS.
//!
//! Every query runs under a deadline that SQLite itself enforces (its progress handler), so a
//! costly search is interrupted instead of holding a connection for minutes.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use crate::{Result, StoreError};

/// How long a caller waits for a free connection before the store reports itself busy.
const WAIT_FOR_CONNECTION: Duration = Duration::from_secs(10);
/// SQLite virtual-machine steps between two looks at the deadline.
const STEPS_BETWEEN_CHECKS: i32 = 10_000;

pub(crate) struct Pool {
    idle: Mutex<Vec<Reader>>,
    returned: Condvar,
    budget: Duration,
    /// Set when a query found the file unreadable (overwritten or truncated in place).
    broken: AtomicBool,
    /// The file the connections read (device and inode).
    file: (u64, u64),
}

struct Reader {
    conn: Connection,
    /// Milliseconds since [`epoch`] after which the running query is interrupted; 0: none.
    deadline: Arc<AtomicU64>,
}

impl Pool {
    /// Opens `size` connections to the catalog at `path`, all to the same file.
    pub(crate) fn open(path: &Path, size: usize, budget: Duration) -> Result<Pool> {
        for _ in 0..3 {
            let before = identity(path)?;
            let readers = (0..size.max(1)).map(|_| Reader::open(path)).collect::<Result<Vec<_>>>()?;
            if identity(path)? == before {
                let pool = Pool {
                    idle: Mutex::new(readers),
                    returned: Condvar::new(),
                    budget,
                    broken: AtomicBool::new(false),
                    file: before,
                };
                return Ok(pool);
            }
            // A sync renamed a new catalog into place while the connections opened: the
            // connections may read two different files. Open them again.
        }
        Err(StoreError::Busy(format!("the catalog {} kept changing while it was opened", path.display())))
    }

    /// Runs `f` on a connection, interrupting SQLite once the pool's budget is spent.
    pub(crate) fn with_conn<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.with_budget(self.budget, f)
    }

    /// Runs `f` on a connection with a budget of its own: loading a generation's in-memory
    /// tables when it opens reads the whole catalog, which no request does.
    pub(crate) fn with_budget<T>(&self, budget: Duration, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let reader = self.take()?;
        reader.deadline.store(millis_since_epoch() + millis(budget), Ordering::Relaxed);
        let result = f(&reader.conn).map_err(|e| self.classify(e));
        reader.deadline.store(0, Ordering::Relaxed);
        self.give_back(reader);
        result
    }

    /// Whether a query found the file damaged: the generation should be replaced.
    pub(crate) fn is_broken(&self) -> bool {
        self.broken.load(Ordering::Relaxed)
    }

    /// Whether `path` names another file than the one the connections read (a sync renamed a
    /// new catalog into place), or none.
    pub(crate) fn is_replaced(&self, path: &Path) -> bool {
        identity(path).map_or(true, |now| now != self.file)
    }

    fn take(&self) -> Result<Reader> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let started = Instant::now();
        loop {
            if let Some(reader) = idle.pop() {
                return Ok(reader);
            }
            let left = WAIT_FOR_CONNECTION.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Err(StoreError::Busy("every catalog connection is in use".into()));
            }
            idle = self.returned.wait_timeout(idle, left).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    fn give_back(&self, reader: Reader) {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).push(reader);
        self.returned.notify_one();
    }

    /// Names an interrupted query's budget, and notes a damaged file.
    fn classify(&self, error: StoreError) -> StoreError {
        use rusqlite::ErrorCode::*;
        let StoreError::Sqlite(rusqlite::Error::SqliteFailure(failure, _)) = &error else { return error };
        match failure.code {
            OperationInterrupted => StoreError::Budget(self.budget),
            DatabaseCorrupt | NotADatabase | SystemIoFailure | CannotOpen => {
                self.broken.store(true, Ordering::Relaxed);
                StoreError::Unreadable(error.to_string())
            }
            _ => error,
        }
    }
}

impl Reader {
    fn open(path: &Path) -> Result<Reader> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let uri = format!("file:{}?immutable=1", uri_path(path));
        let mut conn = Connection::open_with_flags(uri, flags)?;
        // No memory map (see the module doc); a modest page cache per connection.
        conn.execute_batch("PRAGMA mmap_size = 0; PRAGMA cache_size = -8192;")?;
        // Reading the schema makes SQLite open the file now, not at the first query.
        conn.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))?;
        let deadline = Arc::new(AtomicU64::new(0));
        let watched = Arc::clone(&deadline);
        conn.progress_handler(
            STEPS_BETWEEN_CHECKS,
            Some(move || {
                let deadline = watched.load(Ordering::Relaxed);
                deadline != 0 && millis_since_epoch() > deadline
            }),
        )?;
        Ok(Reader { conn, deadline })
    }
}

/// Which file a path names now (device and inode), to tell a renamed-over catalog apart.
fn identity(path: &Path) -> Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let metadata = std::fs::metadata(path).map_err(crate::io_error(path))?;
    Ok((metadata.dev(), metadata.ino()))
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn millis_since_epoch() -> u64 {
    millis(epoch().elapsed()).max(1)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX / 2)
}

/// A path as the path part of an SQLite `file:` URI.
fn uri_path(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    absolute
        .to_string_lossy()
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'.' | b'-' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

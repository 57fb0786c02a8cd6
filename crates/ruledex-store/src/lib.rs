//! ruledex-store: the catalog, one SQLite file with FTS5 full-text search.
//!
//! A sync writes a complete new catalog beside the current one ([`CatalogWriter`]) and renames
//! it into place, so a sync that fails or is killed leaves the previous catalog intact. Readers
//! ([`Store`]) open the file read-only; front ends never write.

mod reader;
mod search;
mod writer;

use std::path::{Path, PathBuf};

pub use reader::{Candidate, CatalogInfo, Listing, Lookup, SourceStatus, Store};
pub use search::{HIGHLIGHT_END, HIGHLIGHT_START, Hit, SearchResults};
pub use writer::CatalogWriter;

/// Bumped whenever `schema.sql` changes; a catalog of another version is rebuilt by a sync.
pub const SCHEMA_VERSION: i32 = 1;

/// The catalog's file name inside the data directory.
pub const CATALOG_FILE: &str = "catalog.sqlite";

pub fn catalog_path(data_dir: &Path) -> PathBuf {
    data_dir.join(CATALOG_FILE)
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
    #[error("catalog holds a record this ruledex cannot read: {0}")]
    Corrupt(#[from] serde_json::Error),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: path.to_path_buf(), source }
}

//! What every handler shares: the catalog (absent until the first sync finishes), the state of
//! a sync running in the background, and the cache of rendered responses.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use ruledex_core::attack::{Tactic, Technique};
use ruledex_core::ids::TechniqueId;
use ruledex_store::{CatalogInfo, SourceStatus, Store};
use serde::Serialize;

use crate::cache::PageCache;

/// The catalog with what every page needs about ATT&CK, read once when it is installed.
pub struct Catalog {
    pub store: Store,
    pub info: CatalogInfo,
    pub sources: Vec<SourceStatus>,
    pub tactics: Vec<Tactic>,
    /// Every technique, by ID.
    pub techniques: HashMap<TechniqueId, Technique>,
}

impl Catalog {
    pub fn open(store: Store) -> Result<Catalog, ruledex_store::StoreError> {
        let techniques = store.techniques()?.into_iter().map(|t| (t.id, t)).collect();
        Ok(Catalog { info: store.info()?, sources: store.sources()?, tactics: store.tactics()?, techniques, store })
    }

    /// "Parent: Sub" for sub-techniques.
    pub fn full_name(&self, id: TechniqueId) -> Option<String> {
        ruledex_core::attack::full_name(id, |i| self.techniques.get(&i))
    }
}

/// Where a background sync stands, shown on the home page while the catalog is built.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SyncPhase {
    /// No sync has run since the server started.
    #[default]
    Idle,
    Running {
        step: String,
        files_read: usize,
        files_total: usize,
    },
    /// Finished; `problems` names sources that could not be read.
    Finished {
        problems: Vec<String>,
    },
    /// No catalog could be written (offline without ATT&CK data, say).
    Failed {
        error: String,
    },
}

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    catalog: RwLock<Option<Arc<Catalog>>>,
    sync: Mutex<SyncPhase>,
    cache: PageCache,
    /// How to point ruledex at local mirrors, shown when a sync fails.
    config_origin: String,
}

impl AppState {
    pub fn new(catalog: Option<Catalog>, config_origin: impl Into<String>) -> AppState {
        AppState(Arc::new(Inner {
            catalog: RwLock::new(catalog.map(Arc::new)),
            sync: Mutex::new(SyncPhase::Idle),
            cache: PageCache::default(),
            config_origin: config_origin.into(),
        }))
    }

    pub fn catalog(&self) -> Option<Arc<Catalog>> {
        self.0.catalog.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Swaps in a newly built catalog; pages rendered from the old one are dropped.
    pub fn install(&self, catalog: Catalog) {
        *self.0.catalog.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(catalog));
        self.0.cache.clear();
    }

    pub fn sync_phase(&self) -> SyncPhase {
        self.0.sync.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn set_sync_phase(&self, phase: SyncPhase) {
        let was_running = matches!(self.sync_phase(), SyncPhase::Running { .. });
        *self.0.sync.lock().unwrap_or_else(|p| p.into_inner()) = phase;
        if !was_running || !matches!(self.sync_phase(), SyncPhase::Running { .. }) {
            self.0.cache.clear();
        }
    }

    /// Progress within a running sync; cheap, called once per file read.
    pub fn sync_file_read(&self, total: usize) {
        if let SyncPhase::Running { files_read, files_total, .. } =
            &mut *self.0.sync.lock().unwrap_or_else(|p| p.into_inner())
        {
            *files_read += 1;
            *files_total = total;
        }
    }

    pub fn cache(&self) -> &PageCache {
        &self.0.cache
    }

    pub fn config_origin(&self) -> &str {
        &self.0.config_origin
    }
}

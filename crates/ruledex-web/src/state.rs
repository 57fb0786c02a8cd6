//! What every handler shares: the current catalog generation (absent until the first sync
//! finishes), the state of a sync running in the background, the cache of rendered responses,
//! and the limits that keep one client from starving the others.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use ruledex_app::Catalog;
use ruledex_app::config::HistoryConfig;
use ruledex_app::sync::SyncPhase;
use tokio::sync::Semaphore;

use crate::cache::PageCache;
use crate::error::WebError;

/// How much work the server takes on at once.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Requests reading the catalog at once (at most the catalog's connections).
    pub catalog_tasks: usize,
    /// Searches at once: a search can be costly, so fewer run side by side than other reads.
    pub searches: usize,
    /// How long a request waits for its turn before it is answered 503.
    pub queue_wait: Duration,
    /// Bytes of responses the cache holds, keys and headers included.
    pub cache_bytes: usize,
    /// The longest request target (path and query) accepted.
    pub max_url_bytes: usize,
    /// The most bytes of request headers accepted.
    pub max_header_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            catalog_tasks: 4,
            searches: 2,
            queue_wait: Duration::from_secs(10),
            cache_bytes: 64 * 1024 * 1024,
            max_url_bytes: 8 * 1024,
            max_header_bytes: 16 * 1024,
        }
    }
}

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    catalog: RwLock<Option<Arc<Catalog>>>,
    sync: Mutex<SyncPhase>,
    cache: PageCache,
    limits: Limits,
    catalog_tasks: Semaphore,
    searches: Semaphore,
    /// The configuration in use, for messages (which config, how to switch to local mirrors).
    config_origin: String,
    /// Days a card says "new" or "updated" after its detection changed (`[history] badge_days`).
    badge_days: AtomicU32,
}

/// How costly a request is expected to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cost {
    Ordinary,
    /// A full-text search.
    Search,
}

impl AppState {
    pub fn new(catalog: Option<Catalog>, config_origin: impl Into<String>, limits: Limits) -> AppState {
        AppState(Arc::new(Inner {
            catalog: RwLock::new(catalog.map(Arc::new)),
            sync: Mutex::new(SyncPhase::Idle),
            cache: PageCache::new(limits.cache_bytes),
            catalog_tasks: Semaphore::new(limits.catalog_tasks.max(1)),
            searches: Semaphore::new(limits.searches.max(1)),
            limits,
            config_origin: config_origin.into(),
            badge_days: AtomicU32::new(HistoryConfig::default().badge_days),
        }))
    }

    /// The current generation; a request keeps the one it started with to the end.
    pub fn catalog(&self) -> Option<Arc<Catalog>> {
        self.0.catalog.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Swaps in a new generation. Requests in flight finish on the old one; cached responses
    /// of the old one are never served again (the cache is keyed by generation).
    pub fn install(&self, catalog: Catalog) {
        *self.0.catalog.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(catalog));
        self.0.cache.clear();
    }

    /// Runs catalog work on a blocking thread, so queries and rendering never hold up the
    /// async workers (which keep answering `/healthz` and queueing others). At most
    /// [`Limits::catalog_tasks`] run at once, fewer for searches; a request that cannot start
    /// within [`Limits::queue_wait`] is answered 503.
    pub async fn run<T: Send + 'static>(
        &self,
        cost: Cost,
        work: impl FnOnce(&Catalog) -> Result<T, WebError> + Send + 'static,
    ) -> Result<T, WebError> {
        let catalog = self.catalog().ok_or(WebError::NoCatalog)?;
        let wait = self.0.limits.queue_wait;
        let _search = match cost {
            Cost::Search => Some(acquire(&self.0.searches, wait).await?),
            Cost::Ordinary => None,
        };
        let _task = acquire(&self.0.catalog_tasks, wait).await?;
        tokio::task::spawn_blocking(move || work(&catalog))
            .await
            .unwrap_or_else(|e| Err(WebError::internal(format!("catalog task failed: {e}"))))
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

    pub fn limits(&self) -> &Limits {
        &self.0.limits
    }

    pub fn config_origin(&self) -> &str {
        &self.0.config_origin
    }

    pub fn badge_days(&self) -> u32 {
        self.0.badge_days.load(Ordering::Relaxed)
    }

    pub fn set_badge_days(&self, days: u32) {
        self.0.badge_days.store(days, Ordering::Relaxed);
        self.0.cache.clear();
    }
}

async fn acquire(semaphore: &Semaphore, wait: Duration) -> Result<tokio::sync::SemaphorePermit<'_>, WebError> {
    match tokio::time::timeout(wait, semaphore.acquire()).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => Err(WebError::Busy),
    }
}

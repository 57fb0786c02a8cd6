//! What every handler shares: the catalog's lifecycle (its current generation, absent until the
//! first sync finishes, and the sync running in the background), the cache of rendered
//! responses, and the limits that keep one client from starving the others.

use std::sync::Arc;
use std::time::Duration;

use ruledex_app::config::{HistoryConfig, PublicUrl};
use ruledex_app::sync::SyncPhase;
use ruledex_app::{Catalog, LiveCatalog};
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
    /// The most detections one export request may hold (the CLI's `ruledex export` has no limit).
    pub max_export_detections: usize,
    /// The most bytes one export download may have, its files added up.
    pub max_export_bytes: usize,
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
            max_export_detections: 2_000,
            max_export_bytes: 32 * 1024 * 1024,
        }
    }
}

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    live: Arc<LiveCatalog>,
    cache: PageCache,
    limits: Limits,
    catalog_tasks: Semaphore,
    searches: Semaphore,
    /// What the server tells people about how it was started.
    setup: Setup,
}

/// How the server was started, for its messages: which configuration, the command that serves
/// local mirrors instead (offline), and anything people should know about the catalog.
#[derive(Debug, Clone)]
pub struct Setup {
    pub config_origin: String,
    /// The command that serves the example local mirrors, as this server was started
    /// (`cargo run --release -- ...` or `ruledex ...`).
    pub mirrors_command: String,
    /// A warning shown on the home page (the catalog was built from another configuration).
    pub notice: Option<String>,
    /// Days a card says "new" or "updated" after its detection changed (`[history] badge_days`).
    pub badge_days: u32,
    /// Where people reach the server (`--public-url`, `[serve] public_url`): downloaded
    /// Navigator layers link to its pages there, and have no links without it.
    pub public_url: Option<PublicUrl>,
}

impl From<&str> for Setup {
    fn from(config_origin: &str) -> Setup {
        Setup {
            config_origin: config_origin.to_string(),
            mirrors_command: "ruledex --config examples/local-mirrors.toml serve".into(),
            notice: None,
            badge_days: HistoryConfig::default().badge_days,
            public_url: None,
        }
    }
}

/// How costly a request is expected to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cost {
    Ordinary,
    /// A full-text search.
    Search,
}

impl AppState {
    pub fn new(live: Arc<LiveCatalog>, setup: impl Into<Setup>, limits: Limits) -> AppState {
        AppState(Arc::new(Inner {
            live,
            cache: PageCache::new(limits.cache_bytes),
            catalog_tasks: Semaphore::new(limits.catalog_tasks.max(1)),
            searches: Semaphore::new(limits.searches.max(1)),
            limits,
            setup: setup.into(),
        }))
    }

    /// The catalog's lifecycle.
    pub fn live(&self) -> &Arc<LiveCatalog> {
        &self.0.live
    }

    /// The current generation; a request keeps the one it started with to the end.
    pub fn catalog(&self) -> Option<Arc<Catalog>> {
        self.0.live.current()
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
        self.0.live.phase()
    }

    pub fn cache(&self) -> &PageCache {
        &self.0.cache
    }

    pub fn limits(&self) -> &Limits {
        &self.0.limits
    }

    pub fn setup(&self) -> &Setup {
        &self.0.setup
    }

    pub fn badge_days(&self) -> u32 {
        self.0.setup.badge_days
    }

    /// The base of the links in downloaded Navigator layers.
    pub fn public_url(&self) -> Option<String> {
        self.0.setup.public_url.as_ref().map(|url| url.as_str().to_string())
    }
}

async fn acquire(semaphore: &Semaphore, wait: Duration) -> Result<tokio::sync::SemaphorePermit<'_>, WebError> {
    match tokio::time::timeout(wait, semaphore.acquire()).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => Err(WebError::Busy),
    }
}

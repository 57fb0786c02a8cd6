//! `ruledex mcp`: the server over stdin and stdout, for an assistant that starts it.
//!
//! The catalog is opened on a thread of its own while the client says hello; when there is none
//! (or it cannot be read) it is built first, with `ruledex_app::sync::run`, and its progress is
//! sent to the client as MCP log messages. Nothing but protocol messages is written to stdout:
//! logs go to stderr. A catalog rebuilt on disk by `ruledex sync` is picked up by the next call.

// MCP logging is deprecated by SEP-2577 in newer protocol versions; see server.rs.
#![allow(deprecated)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result};
use rmcp::ServiceExt;
use rmcp::model::{LoggingLevel, LoggingMessageNotificationParam};
use ruledex_app::config::Config;
use ruledex_app::sync::{self, Progress};
use ruledex_app::{Catalog, ServiceError};
use ruledex_store::StoreOptions;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

use crate::provider::{CatalogProvider, Unavailable};
use crate::server::{Access, Server};

/// How often a call checks whether the catalog file was replaced.
const RECHECK: Duration = Duration::from_secs(2);
/// How often file-reading progress is reported while building.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);

/// Serves MCP on stdin/stdout until the client goes away.
pub async fn run(config: Config, data_dir: PathBuf) -> Result<()> {
    let (log, mut messages) = unbounded_channel::<(LoggingLevel, String)>();
    let catalog = LocalCatalog::start(config, &data_dir, log);
    let server = Server::new(catalog, Access::Local);
    let level = server.log_level();
    let (input, output) = rmcp::transport::stdio_pipes();
    let service = server.serve((input, output)).await.context("the MCP client did not complete the handshake")?;
    let peer = service.peer().clone();
    let forward = tokio::spawn(async move {
        while let Some((severity, message)) = messages.recv().await {
            tracing::info!("{message}");
            if level.wants(severity) {
                let param = LoggingMessageNotificationParam::new(severity, serde_json::Value::String(message))
                    .with_logger("ruledex");
                if peer.notify_logging_message(param).await.is_err() {
                    break;
                }
            }
        }
    });
    let quit = service.waiting().await;
    forward.abort();
    tracing::debug!("MCP client went away: {quit:?}");
    Ok(())
}

/// The catalog of the data directory: opened (or built) in the background, reopened when a
/// sync replaces the file.
pub struct LocalCatalog {
    path: PathBuf,
    state: Mutex<State>,
}

struct State {
    phase: Phase,
    /// The file the current catalog was opened from, and when that was last checked.
    identity: Option<Identity>,
    checked: Instant,
}

enum Phase {
    Opening,
    Building(String),
    Ready(Arc<Catalog>),
    Failed(String),
}

type Identity = (Option<SystemTime>, u64, u64);

fn identity(path: &Path) -> Option<Identity> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok(), m.len(), m.ino()))
}

impl LocalCatalog {
    /// Starts opening the catalog in `data_dir`, building it first when there is none usable;
    /// what happens is sent to `log`.
    pub fn start(config: Config, data_dir: &Path, log: UnboundedSender<(LoggingLevel, String)>) -> Arc<LocalCatalog> {
        let path = ruledex_store::catalog_path(data_dir);
        let catalog = Arc::new(LocalCatalog {
            path: path.clone(),
            state: Mutex::new(State { phase: Phase::Opening, identity: None, checked: Instant::now() }),
        });
        let this = Arc::clone(&catalog);
        let data_dir = data_dir.to_path_buf();
        std::thread::spawn(move || {
            let seen = identity(&path);
            match open(&path) {
                Ok(opened) => this.install(opened, seen),
                Err(ServiceError::Unavailable(reason)) => this.build(&config, &data_dir, &reason, &log),
                Err(error) => this.lock().phase = Phase::Failed(error.to_string()),
            }
        });
        catalog
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn install(&self, catalog: Catalog, seen: Option<Identity>) {
        let mut state = self.lock();
        state.phase = Phase::Ready(Arc::new(catalog));
        state.identity = seen;
        state.checked = Instant::now();
    }

    fn build(&self, config: &Config, data_dir: &Path, reason: &str, log: &UnboundedSender<(LoggingLevel, String)>) {
        let say = |level, message: String| {
            let _ = log.send((level, message));
        };
        say(
            LoggingLevel::Notice,
            format!("ruledex: no usable catalog ({reason}); building it now from {}", config.origin),
        );
        self.lock().phase = Phase::Building("starting".into());
        let progress = BuildProgress::new(self, log);
        match sync::run(config, data_dir, &progress).and_then(|summary| {
            for source in summary.sources.iter().filter(|s| s.problem.is_some()) {
                say(
                    LoggingLevel::Warning,
                    format!("ruledex: {}: {}", source.name, source.problem.as_deref().unwrap_or_default()),
                );
            }
            let seen = identity(&summary.catalog);
            Ok((open(&summary.catalog)?, seen))
        }) {
            Ok((catalog, seen)) => {
                say(
                    LoggingLevel::Notice,
                    format!("ruledex: catalog ready ({} detections)", catalog.store().info().detections),
                );
                self.install(catalog, seen);
            }
            Err(error) => {
                let message = format!(
                    "building the catalog failed: {error:#}. Offline, point ruledex at local mirrors with --config \
                     (see examples/local-mirrors.toml), or run `ruledex sync`"
                );
                say(LoggingLevel::Error, format!("ruledex: {message}"));
                self.lock().phase = Phase::Failed(message);
            }
        }
    }

    /// Reopens the catalog when its file was replaced (a sync renames a new file into place).
    fn refresh(&self) {
        let current = {
            let mut state = self.lock();
            if !matches!(state.phase, Phase::Ready(_) | Phase::Failed(_)) || state.checked.elapsed() < RECHECK {
                return;
            }
            state.checked = Instant::now();
            let current = identity(&self.path);
            let broken = matches!(&state.phase, Phase::Ready(c) if c.store().is_broken());
            if current == state.identity && !broken {
                return;
            }
            current
        };
        // Opened outside the lock: calls in flight keep answering from the previous catalog.
        match open(&self.path) {
            Ok(catalog) => {
                tracing::info!("reopened the catalog ({} detections)", catalog.store().info().detections);
                self.install(catalog, current);
            }
            Err(error) => tracing::warn!("the catalog at {} cannot be reopened: {error}", self.path.display()),
        }
    }
}

fn open(path: &Path) -> Result<Catalog, ServiceError> {
    Catalog::open(path, StoreOptions::default())
}

impl CatalogProvider for LocalCatalog {
    fn catalog(&self) -> Result<Arc<Catalog>, Unavailable> {
        self.refresh();
        match &self.lock().phase {
            Phase::Ready(catalog) => Ok(Arc::clone(catalog)),
            Phase::Opening => Err(Unavailable::Pending(format!("opening {}", self.path.display()))),
            Phase::Building(progress) => Err(Unavailable::Pending(format!("building it ({progress})"))),
            Phase::Failed(why) => Err(Unavailable::Missing(why.clone())),
        }
    }
}

/// A build's progress: kept for calls that arrive meanwhile, and sent as log messages (file
/// counts at most every [`PROGRESS_EVERY`]).
struct BuildProgress<'a> {
    catalog: &'a LocalCatalog,
    log: &'a UnboundedSender<(LoggingLevel, String)>,
    step: Mutex<Step>,
}

struct Step {
    name: String,
    files_read: usize,
    reported: Instant,
}

impl BuildProgress<'_> {
    fn new<'a>(catalog: &'a LocalCatalog, log: &'a UnboundedSender<(LoggingLevel, String)>) -> BuildProgress<'a> {
        let step = Step { name: "starting".into(), files_read: 0, reported: Instant::now() };
        BuildProgress { catalog, log, step: Mutex::new(step) }
    }

    fn lock(&self) -> MutexGuard<'_, Step> {
        self.step.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Progress for BuildProgress<'_> {
    fn step(&self, message: &str) {
        *self.lock() = Step { name: message.to_string(), files_read: 0, reported: Instant::now() };
        self.catalog.lock().phase = Phase::Building(message.to_string());
        let _ = self.log.send((LoggingLevel::Info, format!("ruledex: {message}")));
    }

    fn file_read(&self, total: usize) {
        let mut step = self.lock();
        step.files_read += 1;
        let progress = format!("{}: {}/{total} files", step.name, step.files_read);
        if step.reported.elapsed() >= PROGRESS_EVERY || step.files_read == total {
            step.reported = Instant::now();
            let _ = self.log.send((LoggingLevel::Info, format!("ruledex: {progress}")));
        }
        self.catalog.lock().phase = Phase::Building(progress);
    }
}

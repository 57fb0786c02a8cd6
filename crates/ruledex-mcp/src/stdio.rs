//! `ruledex mcp`: the server over stdin and stdout, for an assistant that starts it.
//!
//! The catalog is opened on a thread of its own while the client says hello; calls arriving
//! meanwhile wait for it and are answered the moment it is open. When there is none (or it
//! cannot be read) it is built first, by the catalog's lifecycle, and the build's progress is
//! sent to the client as MCP log messages. Nothing but protocol messages is written to stdout:
//! logs go to stderr. A catalog rebuilt on disk by `ruledex sync` is followed.

// MCP logging is deprecated by SEP-2577 in newer protocol versions; see server.rs.
#![allow(deprecated)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rmcp::ServiceExt;
use rmcp::model::{LoggingLevel, LoggingMessageNotificationParam};
use ruledex_app::config::Config;
use ruledex_app::sync::Progress;
use ruledex_app::{CatalogOptions, LiveCatalog, Opened};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

use crate::server::{Access, Server};

/// How often the catalog file is checked for a newer generation.
const FOLLOW_EVERY: Duration = Duration::from_secs(2);
/// How often file-reading progress is reported while building.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);

type Log = UnboundedSender<(LoggingLevel, String)>;

/// Serves MCP on stdin/stdout until the client goes away.
pub async fn run(config: Config, data_dir: PathBuf) -> Result<()> {
    let (log, mut messages) = unbounded_channel::<(LoggingLevel, String)>();
    let live = LiveCatalog::new(&data_dir, CatalogOptions::default());
    start(&live, config, data_dir, log);
    let server = Server::new(live, Access::Local);
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

/// Opens (or builds) the catalog on a thread of its own, and follows it once there is one.
fn start(live: &Arc<LiveCatalog>, config: Config, data_dir: PathBuf, log: Log) {
    live.opening();
    let opener = Arc::clone(live);
    std::thread::spawn(move || {
        let say = |level, message: String| {
            let _ = log.send((level, message));
        };
        let progress = BuildProgress::new(&log);
        match opener.open_or_build(&config, &data_dir, &progress) {
            Ok(Opened::Existing) => {}
            Ok(Opened::Built(summary)) => {
                for problem in summary.problems() {
                    say(LoggingLevel::Warning, format!("ruledex: {problem}"));
                }
                let detections = opener.current().map_or(0, |c| c.catalog_info().detections);
                say(LoggingLevel::Notice, format!("ruledex: catalog ready ({detections} detections)"));
            }
            Err(error) => say(
                LoggingLevel::Error,
                format!(
                    "ruledex: building the catalog failed: {error:#}. Offline, point ruledex at local mirrors with \
                     --config (see examples/local-mirrors.toml), or run `ruledex sync`"
                ),
            ),
        }
        opener.follow(FOLLOW_EVERY, |change| match change {
            Ok(catalog) => tracing::info!("reopened the catalog ({} detections)", catalog.catalog_info().detections),
            Err(error) => tracing::warn!("the catalog cannot be reopened: {error}"),
        });
    });
}

/// A build's progress, sent as log messages (file counts at most every [`PROGRESS_EVERY`]).
struct BuildProgress<'a> {
    log: &'a Log,
    step: Mutex<Step>,
}

struct Step {
    name: String,
    files_read: usize,
    reported: Instant,
}

impl BuildProgress<'_> {
    fn new(log: &Log) -> BuildProgress<'_> {
        let step = Step { name: "starting".into(), files_read: 0, reported: Instant::now() };
        BuildProgress { log, step: Mutex::new(step) }
    }

    fn lock(&self) -> MutexGuard<'_, Step> {
        self.step.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Progress for BuildProgress<'_> {
    fn step(&self, message: &str) {
        *self.lock() = Step { name: message.to_string(), files_read: 0, reported: Instant::now() };
        let _ = self.log.send((LoggingLevel::Info, format!("ruledex: {message}")));
    }

    fn file_read(&self, total: usize) {
        let mut step = self.lock();
        step.files_read += 1;
        if step.reported.elapsed() >= PROGRESS_EVERY || step.files_read == total {
            step.reported = Instant::now();
            let progress = format!("{}: {}/{total} files", step.name, step.files_read);
            let _ = self.log.send((LoggingLevel::Info, format!("ruledex: {progress}")));
        }
    }
}

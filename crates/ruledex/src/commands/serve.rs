//! `ruledex serve`: the web catalog. With no catalog yet (or with `--sync`), a sync runs in the
//! background while the server already answers; the home page shows its progress, and if it
//! fails (offline, say) what failed and how to point ruledex at local mirrors.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::thread;

use anyhow::{Context, Result};
use ruledex_app::sync::SyncPhase;
use ruledex_app::{Catalog, ServiceError};
use ruledex_store::StoreOptions;
use ruledex_web::{AppState, Limits, Setup};

use super::Env;
use super::sync::{Bar, print_summary};
use crate::cli::ServeArgs;
use crate::exit;
use ruledex_app::config::Config;
use ruledex_app::sync::{self, Progress};

pub fn run(env: Env, args: &ServeArgs) -> Result<u8> {
    let catalog_path = ruledex_store::catalog_path(&env.data_dir);
    let catalog = match open(&catalog_path) {
        Ok(catalog) => Some(catalog),
        // A missing catalog is the first run, said below; a damaged one is worth its reason.
        Err(ServiceError::Unavailable(reason)) => {
            if catalog_path.exists() {
                eprintln!("ruledex: cannot serve the catalog at {}: {reason}", catalog_path.display());
            }
            None
        }
        Err(error) => return Err(error.into()),
    };
    let needs_sync = catalog.is_none() || args.sync;
    let notice = catalog.as_ref().and_then(|c| other_config(c, &env.config.origin));
    if let Some(notice) = &notice {
        eprintln!("ruledex: warning: {notice}");
    }
    let setup = Setup {
        config_origin: env.config.origin.clone(),
        mirrors_command: mirrors_command(),
        notice,
        badge_days: env.config.history.badge_days,
        public_url: args.public_url.clone().or_else(|| env.config.serve.public_url.clone()),
    };
    let state = AppState::new(catalog, setup, Limits::default());
    let mcp = args.mcp || env.config.serve.mcp;
    if mcp {
        state.enable_mcp(args.mcp_hosts.iter().chain(&env.config.serve.mcp_hosts).cloned().collect());
    }
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(args.addr))
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    eprintln!("ruledex: serving http://{} (config: {})", listener.local_addr()?, env.config.origin);
    if mcp {
        eprintln!("ruledex: MCP (read-only tools) at http://{}/mcp", listener.local_addr()?);
    }
    match state.catalog() {
        Some(catalog) => eprintln!(
            "ruledex: catalog {} with {} detections",
            catalog_path.display(),
            catalog.store().info().detections
        ),
        None => eprintln!(
            "ruledex: no usable catalog at {}; building it now (pages answer \"building\" until it is ready)",
            catalog_path.display()
        ),
    }
    if needs_sync {
        spawn_sync(env.config, env.data_dir, state.clone());
    }
    runtime.spawn(follow_catalog(catalog_path, state.clone()));
    runtime.block_on(ruledex_web::serve(listener, state, shutdown_signal()))?;
    Ok(exit::OK)
}

fn open(path: &Path) -> Result<Catalog, ServiceError> {
    Catalog::open(path, StoreOptions::default())
}

/// Picks up a catalog rebuilt by another process (`ruledex sync` from cron, say): a sync renames
/// a new file into place, so a changed file identity means a new catalog. A catalog found
/// damaged under the server (overwritten in place) is opened again too.
async fn follow_catalog(path: PathBuf, state: AppState) {
    let identity = |path: &PathBuf| std::fs::metadata(path).ok().map(|m| (m.modified().ok(), m.len(), inode(&m)));
    let mut seen = identity(&path);
    let mut interval = tokio::time::interval(std::time::Duration::from_secs(2));
    loop {
        interval.tick().await;
        let current = identity(&path);
        let broken = state.catalog().is_some_and(|c| c.store().is_broken());
        if (current == seen && !broken) || matches!(state.sync_phase(), SyncPhase::Running { .. }) {
            continue;
        }
        seen = current;
        let opened = tokio::task::spawn_blocking({
            let path = path.clone();
            move || open(&path)
        })
        .await;
        match opened {
            Ok(Ok(catalog)) => {
                eprintln!("ruledex: reloaded the catalog ({} detections)", catalog.store().info().detections);
                state.install(catalog);
            }
            Ok(Err(error)) => {
                eprintln!("ruledex: the catalog at {} cannot be read: {error}", path.display())
            }
            Err(error) => eprintln!("ruledex: reopening the catalog failed: {error}"),
        }
    }
}

fn inode(metadata: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    metadata.ino()
}

/// Builds the catalog on a thread of its own and installs it in the running server.
fn spawn_sync(config: Config, data_dir: PathBuf, state: AppState) {
    thread::spawn(move || {
        state.set_sync_phase(SyncPhase::Running { step: "starting".into(), files_read: 0, files_total: 0 });
        let progress = ServerProgress { state: &state, bar: std::io::stderr().is_terminal().then(Bar::new) };
        let result = sync::run(&config, &data_dir, &progress);
        if let Some(bar) = &progress.bar {
            bar.0.finish_and_clear();
        }
        let phase = match result.and_then(|summary| install(&state, &data_dir, &summary)) {
            Ok((problems, unchanged)) => SyncPhase::Finished { problems, unchanged },
            Err(error) => {
                eprintln!("ruledex: sync failed: {error:#}");
                eprintln!(
                    "ruledex: still serving; the home page says what failed. Offline, serve the local mirrors \
                     instead:\n    {}",
                    state.setup().mirrors_command
                );
                SyncPhase::Failed { error: format!("{error:#}") }
            }
        };
        state.set_sync_phase(phase);
    });
}

/// A warning when the catalog was built from another configuration than the one serving it.
fn other_config(catalog: &Catalog, origin: &str) -> Option<String> {
    let built_from = catalog.store().info().config.as_deref()?;
    (built_from != origin).then(|| {
        format!(
            "this catalog was built from {built_from}, not from {origin}, which is serving it; \
             run `ruledex sync` with this configuration, or pass --data-dir to keep their catalogs apart"
        )
    })
}

/// The command that serves the example local mirrors, spelled the way this server was started:
/// through cargo from a checkout, or as an installed `ruledex`.
fn mirrors_command() -> String {
    let exe = std::env::current_exe().unwrap_or_default();
    let from_checkout = exe.components().any(|c| c.as_os_str() == "target");
    if from_checkout {
        "cargo run --release -- --config examples/local-mirrors.toml serve".into()
    } else {
        let name = exe.file_name().map_or("ruledex".into(), |n| n.to_string_lossy().into_owned());
        format!("{name} --config examples/local-mirrors.toml serve   (from a checkout of ruledex)")
    }
}

/// Opens the freshly built catalog in the server (the one it serves, when nothing changed);
/// returns the sources that could not be read, and whether nothing changed.
fn install(state: &AppState, data_dir: &Path, summary: &sync::SyncSummary) -> Result<(Vec<String>, bool)> {
    print_summary(summary)?;
    if !summary.unchanged || state.catalog().is_none() {
        state.install(open(&summary.catalog)?);
    }
    eprintln!("ruledex: catalog ready in {}", data_dir.display());
    if summary.sources.iter().any(|s| s.failures > 0) {
        eprintln!("ruledex: the unreadable files, each with its reason, are listed on the Sources page (/sources)");
    }
    Ok((summary.problems(), summary.unchanged))
}

/// Reports progress to the server (the home page) and, on a terminal, to a progress bar.
struct ServerProgress<'a> {
    state: &'a AppState,
    bar: Option<Bar>,
}

impl Progress for ServerProgress<'_> {
    fn step(&self, message: &str) {
        self.state.set_sync_phase(SyncPhase::Running { step: message.to_string(), files_read: 0, files_total: 0 });
        if let Some(bar) = &self.bar {
            bar.step(message);
        }
    }

    fn file_read(&self, total: usize) {
        self.state.sync_file_read(total);
        if let Some(bar) = &self.bar {
            bar.file_read(total);
        }
    }
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    eprintln!("ruledex: shutting down");
}

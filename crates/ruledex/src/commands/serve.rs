//! `ruledex serve`: the web catalog, and MCP at `/mcp` when asked. With no catalog yet (or with
//! `--sync`), a sync runs in the background while the server already answers; the home page
//! shows its progress, and if it fails (offline, say) what failed and how to point ruledex at
//! local mirrors. With `--no-sync` it never syncs: it serves what another process writes. Either
//! way it follows the catalog's generations through the one lifecycle every front end shares.

use std::io::IsTerminal;
use std::num::{NonZeroU64, NonZeroUsize};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use anyhow::{Context, Result};
use ruledex_app::config::{self, Config, ServeConfig};
use ruledex_app::lifecycle;
use ruledex_app::sync::Progress;
use ruledex_app::{Catalog, LiveCatalog, ServiceError};
use ruledex_web::{AppState, ConnectionLimits, Limits, Mount, Setup};

use super::Env;
use super::sync::{Bar, print_summary};
use crate::cli::ServeArgs;
use crate::exit;
use crate::output;

/// How often the catalog file is checked for a newer generation.
const FOLLOW_EVERY: Duration = Duration::from_secs(1);

pub fn run(env: Env, args: &ServeArgs) -> Result<u8> {
    let live = env.live_catalog();
    let catalog = match live.open() {
        Ok(catalog) => Some(catalog),
        // A missing catalog is the first run, said below; a damaged one is worth its reason.
        Err(ServiceError::Unavailable(reason)) => {
            if live.path().exists() {
                eprintln!("ruledex: cannot serve the catalog at {}: {reason}", live.path().display());
            }
            None
        }
        Err(error) => return Err(error.into()),
    };
    let needs_sync = !args.no_sync && (catalog.is_none() || args.sync);
    let notice = catalog.as_ref().and_then(|c| other_config(c, &env.config.origin));
    if let Some(notice) = &notice {
        eprintln!("ruledex: warning: {notice}");
    }
    let setup = Setup {
        config_origin: env.config.origin.clone(),
        mirrors_command: config::local_mirrors_command("serve"),
        notice,
        badge_days: env.config.history.badge_days,
        public_url: args.public_url.clone().or_else(|| env.config.serve.public_url.clone()),
    };
    let state = AppState::new(Arc::clone(&live), setup, Limits::default());
    let mcp = args.mcp || env.config.serve.mcp;
    let mut mounts = Vec::new();
    if mcp {
        let hosts: Vec<String> = args.mcp_hosts.iter().chain(&env.config.serve.mcp_hosts).cloned().collect();
        let service = ruledex_mcp::http::service(Arc::clone(&live), &hosts);
        mounts.push(Mount { path: "/mcp", router: axum::Router::new().route_service("/mcp", service) });
    }
    let connections = connection_limits(&env.config.serve);
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(args.addr))
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    eprintln!("ruledex: serving http://{} (config: {})", listener.local_addr()?, env.config.origin);
    if mcp {
        eprintln!("ruledex: MCP (read-only tools) at http://{}/mcp", listener.local_addr()?);
    }
    match (&catalog, args.no_sync) {
        (Some(catalog), _) => eprintln!(
            "ruledex: catalog {} with {}",
            live.path().display(),
            output::plural(catalog.catalog_info().detections, "detection")
        ),
        (None, true) => eprintln!(
            "ruledex: no catalog at {} yet; serving it as soon as another process (`ruledex sync`) writes it{}",
            live.path().display(),
            lifecycle::others_instead(&env.data_dir)
        ),
        (None, false) => eprintln!(
            "ruledex: no usable catalog at {}; building it now (pages answer \"building\" until it is ready)",
            live.path().display()
        ),
    }
    if needs_sync {
        spawn_sync(env.config, env.data_dir, Arc::clone(&live));
    }
    live.follow(FOLLOW_EVERY, |change| match change {
        Ok(catalog) => {
            eprintln!(
                "ruledex: reloaded the catalog ({})",
                output::plural(catalog.catalog_info().detections, "detection")
            )
        }
        Err(error) => eprintln!("ruledex: the catalog cannot be read: {error}"),
    });
    let router = ruledex_web::router(state, mounts);
    runtime.block_on(ruledex_web::serve(listener, router, connections, shutdown_signal()))?;
    // Catalog work on blocking threads is bounded by its own budgets; exit does not wait on it.
    runtime.shutdown_timeout(Duration::from_secs(1));
    Ok(exit::OK)
}

/// The configured bounds on connections, the cap kept below the open file limit (first raised
/// as far as the system allows), saying so when it had to be lowered.
fn connection_limits(config: &ServeConfig) -> ConnectionLimits {
    let default = ConnectionLimits::default();
    let seconds =
        |configured: Option<NonZeroU64>, default| configured.map_or(default, |s| Duration::from_secs(s.get()));
    let limits = ConnectionLimits {
        max_connections: config.max_connections.map_or(default.max_connections, NonZeroUsize::get),
        header_read_timeout: seconds(config.header_timeout_secs, default.header_read_timeout),
        idle_timeout: seconds(config.idle_timeout_secs, default.idle_timeout),
        shutdown_grace: seconds(config.shutdown_grace_secs, default.shutdown_grace),
    };
    let (limits, lowered) = limits.within(ruledex_web::raise_open_file_limit());
    if let Some(lowered) = lowered {
        eprintln!("ruledex: warning: {lowered}");
    }
    limits
}

/// Builds the catalog on a thread of its own; the lifecycle installs it in the running server.
fn spawn_sync(config: Config, data_dir: std::path::PathBuf, live: Arc<LiveCatalog>) {
    thread::spawn(move || {
        let progress = BarProgress { bar: std::io::stderr().is_terminal().then(Bar::new) };
        let result = live.sync(&config, &data_dir, &progress);
        if let Some(bar) = &progress.bar {
            bar.0.finish_and_clear();
        }
        match result {
            Ok(summary) => {
                let _ = print_summary(&summary);
                eprintln!("ruledex: catalog ready in {}", data_dir.display());
                if summary.sources.iter().any(|s| s.failures > 0) {
                    eprintln!(
                        "ruledex: the unreadable files, each with its reason, are listed on the Sources page (/sources)"
                    );
                }
            }
            Err(error) => {
                eprintln!("ruledex: sync failed: {error:#}");
                eprintln!("ruledex: still serving; the home page says what failed");
                if let Some(hint) = config.offline_hint("serve") {
                    eprintln!("ruledex: {hint}");
                }
            }
        }
    });
}

/// A warning when the catalog was built from another configuration than the one serving it.
fn other_config(catalog: &Catalog, origin: &str) -> Option<String> {
    let built_from = catalog.built_from()?;
    (built_from != origin).then(|| {
        format!(
            "this catalog was built from {built_from}, not from {origin}, which is serving it; \
             run `ruledex sync` with this configuration, or pass --data-dir to keep their catalogs apart"
        )
    })
}

/// A sync's progress on a progress bar, when the terminal shows one (the home page shows the
/// lifecycle's phase).
struct BarProgress {
    bar: Option<Bar>,
}

impl Progress for BarProgress {
    fn step(&self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.step(message);
        }
    }

    fn file_read(&self, total: usize) {
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

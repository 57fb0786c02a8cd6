//! The `ruledex` command: wiring, logging, exit codes and user-facing errors. Each command lives
//! in `commands/`; they read the catalog through the query service of `ruledex-app` and never
//! write it, except `sync`.

mod cli;
mod commands;
mod output;
mod request;

use std::process::ExitCode;

use clap::Parser;
use ruledex_app::request::{RequestError, Spelling};

use crate::cli::Cli;

// Listings and syncs allocate many small strings; mimalloc makes them markedly faster than the
// system allocator (technique listings about 1.4x, measured by the queries benchmark).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit statuses, documented in the README.
pub mod exit {
    pub const OK: u8 = 0;
    /// The command failed (bad input, missing catalog, nothing found).
    pub const FAILED: u8 = 1;
    /// A usage error: clap's own, and a value ruledex does not take (an unknown source, a
    /// number out of its range), said the same way by every front end.
    pub const USAGE: u8 = 2;
    /// `sync` wrote the catalog, but some source or file could not be read.
    pub const PARTIAL: u8 = 3;
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let json = cli.command.json();
    match commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        // The reader went away (`ruledex ... | head`): nothing more to say.
        Err(error) if is_broken_pipe(&error) => ExitCode::from(exit::OK),
        Err(error) => {
            let code = if invalid(&error).is_some() { exit::USAGE } else { exit::FAILED };
            if json {
                eprintln!("{}", serde_json::json!({ "error": error_json(&error) }));
            } else {
                eprintln!("ruledex: {}", output::safe(&message(&error)));
            }
            ExitCode::from(code)
        }
    }
}

/// An error as scripts read it: `kind` is the query service's (`not_found`, `bad_request`,
/// `ambiguous`, `unavailable`, `internal`) or `failed` for anything else (a bad configuration,
/// an unreadable file).
fn error_json(error: &anyhow::Error) -> serde_json::Value {
    let service = error.chain().find_map(|e| e.downcast_ref::<ruledex_app::ServiceError>());
    let suggestions: Vec<String> =
        service.map(|e| e.suggestions().into_iter().map(|s| s.label).collect()).unwrap_or_default();
    let kind = if invalid(error).is_some() { "bad_request" } else { service.map_or("failed", |e| e.kind()) };
    serde_json::json!({ "kind": kind, "message": message(error), "suggestions": suggestions })
}

/// The value ruledex did not take, when that is the error.
fn invalid(error: &anyhow::Error) -> Option<&RequestError> {
    error.chain().find_map(|e| match e.downcast_ref::<ruledex_app::ServiceError>() {
        Some(ruledex_app::ServiceError::Invalid(invalid)) => Some(invalid),
        _ => e.downcast_ref::<RequestError>(),
    })
}

/// The error as the command line says it: a value ruledex did not take names its `--flag`.
fn message(error: &anyhow::Error) -> String {
    match invalid(error) {
        Some(invalid) => invalid.spelled(Spelling::Flag),
        None => format!("{error:#}"),
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .any(|e| e.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe))
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("RULEDEX_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colour codes only for a person at a terminal, never in a log file or a pipe.
    let colours = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colours).init();
}

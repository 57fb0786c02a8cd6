//! The `ruledex` command: wiring, logging, exit codes and user-facing errors. Each command lives
//! in `commands/`; they read the catalog through `ruledex-store` and never write it, except
//! `sync`.

mod cli;
mod commands;
mod output;

use std::process::ExitCode;

use clap::Parser;

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
    // 2 is clap's status for a usage error.
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
        Err(error) if json => {
            eprintln!("{}", serde_json::json!({ "error": error_json(&error) }));
            ExitCode::from(exit::FAILED)
        }
        Err(error) => {
            eprintln!("ruledex: {}", output::safe(&format!("{error:#}")));
            ExitCode::from(exit::FAILED)
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
    serde_json::json!({
        "kind": service.map_or("failed", |e| e.kind()),
        "message": format!("{error:#}"),
        "suggestions": suggestions,
    })
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

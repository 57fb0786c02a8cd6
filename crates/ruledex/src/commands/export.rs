//! `ruledex export --format FORMAT [selection] [--out PATH]`

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use ruledex_app::export::Exported;
use ruledex_app::export::archive::{self, Written};
use ruledex_app::request::ExportRequest;

use super::Env;
use crate::cli::ExportArgs;
use crate::exit;
use crate::output::safe;

pub fn run(env: &Env, args: &ExportArgs) -> Result<u8> {
    let request = ExportRequest::from_arguments(&args.given.arguments()?)?;
    let catalog = env.open_catalog()?;
    let base_url = args.links.base_url(&env.config);
    let exported = catalog.export_linked(request.format, &request.selection, None, Some(&base_url))?;
    save(&exported, args.out.as_deref())?;
    for skipped in &exported.skipped {
        eprintln!("ruledex: skipped {}: {}", skipped.address, safe(&skipped.reason));
    }
    if !exported.skipped.is_empty() {
        eprintln!(
            "ruledex: {} detections of the selection are not {}; see above",
            exported.skipped.len(),
            exported.format
        );
    }
    Ok(exit::OK)
}

/// Writes an export to `out`, saying so, or its one file to standard output (also `--out -`),
/// made safe when that is a terminal. Stopped by SIGINT or SIGTERM, it first removes what it was
/// writing.
pub fn save(exported: &Exported, out: Option<&Path>) -> Result<()> {
    match out.filter(|path| *path != Path::new("-")) {
        Some(path) => {
            remove_unfinished_when_stopped();
            let written = unless_stopped(archive::write(exported, path))?;
            // A layer of counts (a stack's coverage) names no detection: it is named itself.
            let what = match exported.included.len() {
                0 => format!("{} ({})", exported.name, exported.format),
                n => format!("{n} detections as {}", exported.format),
            };
            let how = match written {
                Written::Created | Written::Streamed => "wrote",
                Written::Replaced => "replaced the file there with",
            };
            eprintln!("ruledex: {how} {what} to {}", safe(&path.display().to_string()));
        }
        None => {
            let bytes = &archive::only_file(exported)?.bytes;
            let mut stdout = std::io::stdout().lock();
            if stdout.is_terminal() {
                // Rule text is untrusted: escape sequences are shown, as `show --native` does.
                stdout.write_all(safe(&String::from_utf8_lossy(bytes)).as_bytes())?;
            } else {
                stdout.write_all(bytes)?;
            }
        }
    }
    Ok(())
}

/// Set once a signal stops the export: its temporaries are being removed and the process is
/// about to exit with the signal's status.
static STOPPING: AtomicBool = AtomicBool::new(false);

/// The export's outcome, unless a signal stopped it: then the writer, whose files are being
/// removed under it, waits for the signal's handler to end the process with the signal's status
/// rather than exit first with an error about a file that vanished.
fn unless_stopped<T>(outcome: T) -> T {
    while STOPPING.load(Ordering::SeqCst) {
        std::thread::park();
    }
    outcome
}

/// On SIGINT or SIGTERM, removes the temporary files of the export being written, then exits
/// as a process killed by that signal would (128 + its number). Installed once, for the
/// commands that write exports to disk.
fn remove_unfinished_when_stopped() {
    use tokio::signal::unix::{SignalKind, signal};
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_io().build() else { return };
        // Registered here, before the export starts, so no signal comes too early to be seen.
        let registered = {
            let _context = runtime.enter();
            (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
        };
        let (Ok(mut interrupt), Ok(mut terminate)) = registered else { return };
        std::thread::spawn(move || {
            let code = runtime.block_on(async {
                tokio::select! {
                    _ = interrupt.recv() => 130,
                    _ = terminate.recv() => 143,
                }
            });
            STOPPING.store(true, Ordering::SeqCst);
            archive::remove_unfinished();
            std::process::exit(code);
        });
    });
}

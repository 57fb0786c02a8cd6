//! `ruledex sync`

use std::io::IsTerminal;
use std::time::Duration;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};

use super::Env;
use crate::cli::SyncArgs;
use crate::exit;
use crate::output;
use crate::output::outln;
use ruledex_app::sync::{self, Mode, Progress, Quiet, SyncSummary};

pub fn run(env: &Env, args: &SyncArgs) -> Result<u8> {
    let mode = if args.full { Mode::Full } else { Mode::Incremental };
    let summary = if std::io::stderr().is_terminal() && !args.output.json {
        let bar = Bar::new();
        let summary = sync::run_with(&env.config, env.data_dir(), &bar, mode);
        bar.0.finish_and_clear();
        summary
    } else {
        sync::run_with(&env.config, env.data_dir(), &Quiet, mode)
    };
    // Said after the error, as `serve` and `mcp` say it: what to run instead without a network.
    let summary = summary.map_err(|error| match env.config.offline_hint("sync") {
        Some(hint) => anyhow::anyhow!("{error:#}\n{hint}"),
        None => error,
    })?;
    if args.output.json {
        output::json(&summary)?;
    } else {
        print_summary(&summary)?;
    }
    if !summary.all_sources_read()
        && let Some(hint) = env.config.offline_hint("sync")
    {
        eprintln!("ruledex: {hint}");
    }
    let unreadable_files = summary.sources.iter().any(|s| s.failures > 0);
    Ok(if !summary.all_sources_read() || (args.strict && unreadable_files) { exit::PARTIAL } else { exit::OK })
}

/// A progress bar on stderr.
pub struct Bar(pub ProgressBar);

impl Bar {
    pub fn new() -> Bar {
        let bar = ProgressBar::new(0);
        bar.set_style(Bar::waiting());
        bar.enable_steady_tick(Duration::from_millis(120));
        Bar(bar)
    }

    /// A step that reads no files yet (fetching, storing): a spinner, not an empty bar drawn full.
    fn waiting() -> ProgressStyle {
        ProgressStyle::with_template("{spinner} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner())
    }

    fn counting() -> ProgressStyle {
        ProgressStyle::with_template("{spinner} {msg:20} [{bar:30}] {pos}/{len} files")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ")
    }
}

impl Progress for Bar {
    fn step(&self, message: &str) {
        self.0.set_style(Bar::waiting());
        self.0.set_message(message.to_string());
        self.0.set_position(0);
        self.0.set_length(0);
    }

    fn file_read(&self, total: usize) {
        if self.0.length() == Some(0) {
            self.0.set_style(Bar::counting());
        }
        self.0.set_length(total as u64);
        self.0.inc(1);
    }
}

pub fn print_summary(summary: &SyncSummary) -> std::io::Result<()> {
    let attack = &summary.attack;
    outln!("config: {}", summary.config)?;
    outln!(
        "ATT&CK {}: {} techniques from {} ({})",
        attack.version.as_deref().unwrap_or("(version not configured)"),
        attack.techniques,
        output::plural(attack.bundles.len(), "bundle"),
        seconds(attack.load_time)
    )?;
    outln!()?;
    outln!(
        "{:<16} {:>7} {:>10} {:>8} {:>10} {:>7} {:>7} {:>7}  commit",
        "source",
        "files",
        "detections",
        "failures",
        "techniques",
        "fetch",
        "parse",
        "store"
    )?;
    for s in &summary.sources {
        let commit = s.commit.as_deref().map_or("-", |c| c.get(..12).unwrap_or(c));
        let read = match (s.unchanged, s.files_reused) {
            (true, _) => "unchanged upstream, not read".to_string(),
            (false, 0) => String::new(),
            (false, reused) => format!("{reused} unchanged files not parsed"),
        };
        outln!(
            "{:<16} {:>7} {:>10} {:>8} {:>10} {:>7} {:>7} {:>7}  {commit:<12}  {read}",
            s.name,
            s.files,
            s.detections,
            s.failures,
            s.attack.techniques,
            seconds(s.fetch_time),
            seconds(s.parse_time),
            seconds(s.store_time),
        )?;
    }
    outln!()?;
    for warning in &attack.warnings {
        outln!("warning: ATT&CK: {warning}")?;
    }
    for s in summary.sources.iter().filter(|s| s.problem.is_some()) {
        let problem = s.problem.as_deref().unwrap_or_default();
        let consequence = match (s.root.is_some(), s.kept_previous) {
            (true, _) => String::new(),
            (false, true) => format!("; kept its {} from the previous sync", output::plural(s.detections, "detection")),
            (false, false) => "; it has no detections yet (point it at a local mirror with `path`, see README)".into(),
        };
        outln!("warning: {}: {problem}{consequence}", s.name)?;
    }
    if let Some(warning) = &summary.catalog_warning {
        outln!("warning: {warning}")?;
    }
    let failed: usize = summary.sources.iter().map(|s| s.failures).sum();
    if failed > 0 {
        let files = if failed == 1 { "1 rule file or rule" } else { "rule files or rules" };
        let count = if failed == 1 { String::new() } else { format!("{failed} ") };
        outln!("{count}{files} could not be read; `ruledex stats` lists each with its reason")?;
    }
    let detections = output::plural(summary.sources.iter().map(|s| s.detections).sum(), "detection");
    if summary.unchanged {
        return outln!(
            "nothing changed upstream; catalog unchanged: {} ({detections}), checked in {}",
            summary.catalog.display(),
            seconds(summary.total_time)
        );
    }
    let c = &summary.changes;
    match summary.sync {
        Some(sync) => outln!(
            "changes (sync {sync}): {} added, {} changed, {} deprecated, {} removed; `ruledex changes --since {}` lists them",
            c.added,
            c.changed,
            c.deprecated,
            c.removed,
            sync - 1
        )?,
        None => outln!("{}", no_changes(summary))?,
    }
    if let Some(update) = &summary.attack_update {
        outln!("{} (their own tags unchanged)", update.sentence())?;
    }
    outln!("catalog: {} ({detections}) built in {}", summary.catalog.display(), seconds(summary.total_time))
}

/// What a sync that recorded no change says: on a first read, that its detections are where the
/// history starts, not that nothing changed.
fn no_changes(summary: &SyncSummary) -> String {
    let first: Vec<&str> = summary.sources.iter().filter(|s| s.first_read).map(|s| s.name.as_str()).collect();
    match first.len() {
        0 => "no detection changed".into(),
        n if n == summary.sources.len() => {
            "first sync: its detections are where the change history starts (`ruledex changes` lists what later syncs find)"
                .into()
        }
        _ => format!(
            "no detection changed; read for the first time, their detections where their history starts: {}",
            first.join(", ")
        ),
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.2}s", d.as_secs_f64())
}

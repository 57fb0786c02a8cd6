//! A sync: fetch every source, read what changed, and write the next catalog with its history.
//!
//! Each source's upstream fingerprint ([`crate::fingerprint`]) is compared with the one the
//! catalog stored: when neither ATT&CK nor any source changed, nothing is read or written and
//! the summary says so. Otherwise the next catalog starts as a copy of the current one; each
//! changed source is read again, parsing only the files whose content changed, and only its
//! rows that differ are replaced. What happened to each detection is recorded in the change
//! history the catalog carries.
//!
//! A source that cannot be fetched or read does not stop the sync: its detections from the
//! previous catalog are kept and the failure is recorded (so is a source that suddenly holds no
//! rule files at all: a broken checkout must not empty the catalog). Only a failure that would
//! leave the whole catalog wrong (no ATT&CK data, an unwritable data directory) aborts, and then
//! the previous catalog stays untouched.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rayon::prelude::*;
use ruledex_core::attack::{AttackCatalog, Domain};
use ruledex_core::history::{AttackUpdate, DetectionChange, compare, moved};
use ruledex_core::ingest::{
    AttackCoverage, EarlierRead, IngestedSource, SourceFiles, SourceReport, SourceSpec, parse_files, read_files,
};
use ruledex_core::model::{ChangeKind, Detection};
use ruledex_store::{CatalogWriter, Previous, PreviousDetections, PreviousSource, Retention, SyncLock};
use serde::Serialize;

use crate::config::{Config, HistoryConfig, SourceConfig};
use crate::{fetch, fingerprint};

/// Reports what a sync is doing, for a progress bar.
pub trait Progress: Sync {
    /// A new step begins ("fetching chronicle").
    fn step(&self, message: &str);
    /// One file of `total` has been read.
    fn file_read(&self, total: usize);
}

/// Progress nobody watches.
pub struct Quiet;

impl Progress for Quiet {
    fn step(&self, _: &str) {}
    fn file_read(&self, _: usize) {}
}

/// Where a sync running beside a server stands, shown while the catalog is built.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SyncPhase {
    /// No sync has run since the server started.
    #[default]
    Idle,
    Running {
        step: String,
        files_read: usize,
        files_total: usize,
    },
    /// Finished; `problems` names sources that could not be read.
    Finished {
        problems: Vec<String>,
        /// Nothing changed upstream, so the catalog was left as it was.
        unchanged: bool,
    },
    /// No catalog could be written (offline without ATT&CK data, say).
    Failed {
        error: String,
    },
}

/// What `sync --full` changes: every source is read and every file parsed again, whatever the
/// fingerprints say (after changing ruledex's adapters without changing its version, say).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    #[default]
    Incremental,
    Full,
}

#[derive(Debug, Serialize)]
pub struct SyncSummary {
    pub catalog: PathBuf,
    pub config: String,
    /// Nothing changed upstream (no source, no ATT&CK bundle): the catalog was not written.
    pub unchanged: bool,
    /// What this sync recorded in the change history, over all sources.
    pub changes: ChangeCounts,
    /// The sync's number in the change history (`changes --since`), when it changed detections.
    pub sync: Option<i64>,
    /// Why the current catalog could not be carried over (it is damaged, say): a new one was
    /// built from scratch, and the change history starts afresh.
    pub catalog_warning: Option<String>,
    pub attack: AttackSummary,
    /// Set when the sync read other ATT&CK data than the catalog had (a new release): the
    /// releases, and how many detections moved to other techniques.
    pub attack_update: Option<AttackUpdate>,
    pub sources: Vec<SourceOutcome>,
    #[serde(serialize_with = "millis")]
    pub total_time: Duration,
}

/// How many detections a sync added, changed, deprecated and removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ChangeCounts {
    pub added: usize,
    pub changed: usize,
    pub deprecated: usize,
    pub removed: usize,
}

impl ChangeCounts {
    fn of(changes: &[DetectionChange]) -> ChangeCounts {
        let count = |kind| changes.iter().filter(|c| c.kind == kind).count();
        ChangeCounts {
            added: count(ChangeKind::Added),
            changed: count(ChangeKind::Changed),
            deprecated: count(ChangeKind::Deprecated),
            removed: count(ChangeKind::Removed),
        }
    }

    pub fn total(&self) -> usize {
        self.added + self.changed + self.deprecated + self.removed
    }
}

#[derive(Debug, Serialize)]
pub struct AttackSummary {
    pub bundles: Vec<PathBuf>,
    pub version: Option<String>,
    pub techniques: usize,
    /// Bundles that could not be refreshed (offline, or a bad download), whose previous copy
    /// was used: each says which and why, for the front ends to show.
    pub warnings: Vec<String>,
    /// The bundles were unchanged, so the catalog's ATT&CK was kept without loading them.
    pub unchanged: bool,
    #[serde(serialize_with = "millis")]
    pub load_time: Duration,
}

#[derive(Debug, Serialize)]
pub struct SourceOutcome {
    pub name: String,
    pub root: Option<PathBuf>,
    pub commit: Option<String>,
    pub files: usize,
    pub detections: usize,
    pub failures: usize,
    pub attack: AttackCoverage,
    /// Why the source could not be read this time, or what was used instead.
    pub problem: Option<String>,
    /// Whether the detections are from the previous catalog (the source could not be read).
    pub kept_previous: bool,
    /// Unchanged upstream since the last sync, so not read again.
    pub unchanged: bool,
    /// Rule files whose content was unchanged, so their rules were not parsed again.
    pub files_reused: usize,
    /// What this read changed in the catalog (zero for a source read for the first time, whose
    /// detections are its starting point rather than changes).
    pub changes: ChangeCounts,
    /// Read for the first time: its detections are its history's starting point.
    pub first_read: bool,
    /// Detections listed under other techniques than before though their tags are unchanged:
    /// moved by new ATT&CK data.
    pub moved: usize,
    #[serde(serialize_with = "millis")]
    pub fetch_time: Duration,
    #[serde(serialize_with = "millis")]
    pub parse_time: Duration,
    #[serde(serialize_with = "millis")]
    pub store_time: Duration,
}

impl SyncSummary {
    /// True when every source was read fresh, without falling back.
    pub fn all_sources_read(&self) -> bool {
        self.sources.iter().all(|s| s.problem.is_none())
    }

    /// What could not be read fresh, one line each: ATT&CK bundles kept from before, then
    /// sources that could not be fetched or read.
    pub fn problems(&self) -> Vec<String> {
        let attack = self.attack.warnings.iter().map(|w| format!("ATT&CK: {w}"));
        let sources = self.sources.iter().filter_map(|s| s.problem.as_ref().map(|p| format!("{}: {p}", s.name)));
        attack.chain(sources).collect()
    }
}

/// Syncs incrementally: see the module documentation.
pub fn run(config: &Config, data_dir: &Path, progress: &dyn Progress) -> Result<SyncSummary> {
    run_with(config, data_dir, progress, Mode::Incremental)
}

pub fn run_with(config: &Config, data_dir: &Path, progress: &dyn Progress, mode: Mode) -> Result<SyncSummary> {
    let started = Instant::now();
    let lock = SyncLock::acquire(data_dir)?;
    // Sources are fetched (and local ones listed) on every core: each is a walk of its own tree.
    let enabled: Vec<&SourceConfig> = config.enabled_sources().collect();
    let fetched: Vec<Fetched> = enabled.into_par_iter().map(|s| fetch_source(s, data_dir, progress)).collect();
    progress.step("checking ATT&CK");
    let bundles = fetch_attack(config, data_dir).map_err(|error| with_unreachable_sources(error, &fetched))?;
    // A current catalog that cannot be read must not stop every later sync: it is replaced.
    let planned = Previous::open(&lock)
        .map_err(anyhow::Error::from)
        .and_then(|previous| Ok((Plan::new(config, previous.as_ref(), &bundles, &fetched, mode)?, previous)));
    let (plan, previous, catalog_warning) = match planned {
        Ok((plan, previous)) => (plan, previous, None),
        Err(error) => {
            let warning = format!(
                "the current catalog cannot be read ({error:#}); a new one is built and its change history starts afresh"
            );
            (Plan::new(config, None, &bundles, &fetched, mode)?, None, Some(warning))
        }
    };
    if plan.nothing_to_write() {
        let catalog = previous.as_ref().map(|p| p.path().to_path_buf()).unwrap_or_default();
        let sources = fetched.iter().zip(&plan.sources).map(|(f, p)| unchanged_outcome(f, p)).collect();
        let techniques = previous.as_ref().map(Previous::technique_count).transpose()?.unwrap_or(0);
        let version = previous.as_ref().map(|p| p.meta("attack_version")).transpose()?.flatten();
        let attack = attack_summary(&bundles, version, techniques, true, started);
        return Ok(SyncSummary {
            catalog,
            config: config.origin.clone(),
            unchanged: true,
            changes: ChangeCounts::default(),
            sync: None,
            catalog_warning,
            attack,
            attack_update: None,
            sources,
            total_time: started.elapsed(),
        });
    }
    let attack_started = Instant::now();
    progress.step("loading ATT&CK");
    let (attack, attack_changed) = match (&previous, plan.attack_unchanged) {
        (Some(previous), true) => (previous.attack()?, false),
        _ => (load_attack(config, &bundles).map_err(|error| with_unreachable_sources(error, &fetched))?, true),
    };
    let version = attack.release(Domain::Enterprise).map(String::from);
    let techniques = attack.techniques().count();
    let attack_summary = attack_summary(&bundles, version, techniques, !attack_changed, attack_started);
    let now = Now::new(&config.history);
    let context = ReadContext { previous: previous.as_ref(), attack: &attack, progress, mode };
    // One thread reads the sources while this one writes: the next source is parsed while the
    // last is stored, and the current catalog is copied while the first is read.
    let (sources, changes, mut writer) = std::thread::scope(|scope| {
        let (sender, reads) = mpsc::sync_channel(0);
        let jobs = fetched.into_iter().zip(plan.sources);
        scope.spawn(|| read_sources(jobs, &context, sender));
        let mut writer = CatalogWriter::start(lock, previous.as_ref())?;
        if attack_changed {
            writer.write_attack(&attack)?;
        }
        let mut sources = Vec::new();
        let mut changes = Vec::new();
        for read in reads {
            sources.push(match read? {
                Read::Unchanged(fetched, planned) => {
                    writer.source_unchanged(&fetched.source.name)?;
                    unchanged_outcome(&fetched, &planned)
                }
                Read::Changed(changed) => store_source(changed, &now, &mut writer, &mut changes)?,
            });
        }
        anyhow::Ok((sources, changes, writer))
    })?;
    let names: Vec<&str> = config.enabled_sources().map(|s| s.name.as_str()).collect();
    writer.retain_sources(&names)?;
    writer.write_meta("built_at", &now.stamp)?;
    writer.write_meta("ruledex_version", env!("CARGO_PKG_VERSION"))?;
    writer.write_meta("attack_fingerprint", &plan.attack_fingerprint)?;
    writer.write_meta("config", &config.origin)?;
    if let Some(version) = &attack_summary.version {
        writer.write_meta("attack_version", version)?;
    }
    let attack_update = plan.replaced_attack.map(|replaced| AttackUpdate {
        before: replaced.release,
        after: attack_summary.version.clone(),
        moved: sources.iter().map(|s| s.moved).sum(),
    });
    let sync = writer.record_changes(&now.stamp, &changes, attack_update.as_ref(), &now.retention)?;
    progress.step("saving the catalog");
    let catalog = writer.finish()?;
    Ok(SyncSummary {
        catalog,
        config: config.origin.clone(),
        unchanged: false,
        changes: ChangeCounts::of(&changes),
        sync,
        catalog_warning,
        attack: attack_summary,
        attack_update,
        sources,
        total_time: started.elapsed(),
    })
}

/// The time of a sync, as the catalog records it, and what history it keeps.
struct Now {
    /// UTC, fixed width (`YYYY-MM-DDTHH:MM:SSZ`): the history orders and prunes by text.
    stamp: String,
    retention: Retention,
}

impl Now {
    fn new(history: &HistoryConfig) -> Now {
        let now = jiff::Timestamp::now();
        let oldest = now - jiff::SignedDuration::from_hours(24 * i64::from(history.keep_days));
        Now { stamp: stamp(now), retention: Retention { syncs: history.keep_syncs, oldest: stamp(oldest) } }
    }
}

/// A time as the catalog's history records it.
pub fn stamp(time: jiff::Timestamp) -> String {
    time.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// One source as fetched: its tree (or why not) and its upstream fingerprint.
struct Fetched<'a> {
    source: &'a SourceConfig,
    tree: Result<fetch::Tree>,
    fingerprint: Option<String>,
    fetch_time: Duration,
}

fn fetch_source<'a>(source: &'a SourceConfig, data_dir: &Path, progress: &dyn Progress) -> Fetched<'a> {
    progress.step(&format!("fetching {}", source.name));
    let started = Instant::now();
    let tree = fetch::source_tree(source, &checkout_patterns(source), data_dir);
    // A tree that cannot even be listed is read anyway, and fails there with its reason.
    let fingerprint = tree.as_ref().ok().and_then(|tree| fingerprint::source(source, tree).ok());
    Fetched { source, tree, fingerprint, fetch_time: started.elapsed() }
}

/// What a sync will do, decided before anything is written.
struct Plan {
    attack_fingerprint: String,
    attack_unchanged: bool,
    /// The ATT&CK data differs from the catalog's (whatever the mode): the release the catalog
    /// had, for the history.
    replaced_attack: Option<Replaced>,
    /// The same sources as the catalog holds, in the same order.
    same_sources: bool,
    sources: Vec<Planned>,
}

/// The catalog's ATT&CK release, when a sync reads other ATT&CK data.
struct Replaced {
    release: Option<String>,
}

/// One source's part of the plan: what the catalog holds of it, and whether it changed.
struct Planned {
    previous: Option<PreviousSource>,
    unchanged: bool,
}

impl Plan {
    fn new(
        config: &Config,
        previous: Option<&Previous>,
        bundles: &[(Domain, PathBuf, Option<String>)],
        fetched: &[Fetched],
        mode: Mode,
    ) -> Result<Plan> {
        let paths: Vec<(Domain, &Path)> = bundles.iter().map(|(d, p, _)| (*d, p.as_path())).collect();
        let attack_fingerprint = fingerprint::attack(&config.attack, &paths)?;
        let Some(previous) = previous else {
            let sources = fetched.iter().map(|_| Planned { previous: None, unchanged: false }).collect();
            let (attack_unchanged, replaced_attack, same_sources) = (false, None, false);
            return Ok(Plan { attack_fingerprint, attack_unchanged, replaced_attack, same_sources, sources });
        };
        let incremental = mode == Mode::Incremental;
        let same_attack = previous.meta("attack_fingerprint")?.as_deref() == Some(attack_fingerprint.as_str());
        let attack_unchanged = incremental && same_attack;
        let replaced_attack = match same_attack {
            true => None,
            false => Some(Replaced { release: previous.meta("attack_version")? }),
        };
        let names: Vec<&str> = fetched.iter().map(|f| f.source.name.as_str()).collect();
        let same_sources = previous.source_names()? == names;
        let sources = fetched
            .iter()
            .map(|f| {
                let earlier = previous.source(&f.source.name)?;
                let same = |p: &PreviousSource| f.fingerprint.is_some() && p.fingerprint == f.fingerprint;
                let unchanged = incremental && attack_unchanged && earlier.as_ref().is_some_and(same);
                Ok(Planned { previous: earlier, unchanged })
            })
            .collect::<Result<_>>()?;
        Ok(Plan { attack_fingerprint, attack_unchanged, replaced_attack, same_sources, sources })
    }

    /// Every source and ATT&CK unchanged, and no error of an earlier sync to clear.
    fn nothing_to_write(&self) -> bool {
        self.attack_unchanged
            && self.same_sources
            && self.sources.iter().all(|p| p.unchanged && p.previous.as_ref().is_some_and(|s| s.error.is_none()))
    }
}

/// The report of a source that was not read again.
fn unchanged_outcome(fetched: &Fetched, planned: &Planned) -> SourceOutcome {
    let previous = planned.previous.as_ref().map(|p| &p.report);
    let report = previous.cloned().unwrap_or_else(|| empty_report(fetched.source));
    let tree = fetched.tree.as_ref().ok();
    SourceOutcome {
        root: tree.map(|t| t.root.clone()),
        problem: tree.and_then(|t| t.warning.clone()),
        unchanged: true,
        fetch_time: fetched.fetch_time,
        parse_time: Duration::ZERO,
        ..outcome(&report)
    }
}

/// The bundles' local copies (downloading those that changed), with a warning for each that
/// could not be refreshed.
fn fetch_attack(config: &Config, data_dir: &Path) -> Result<Vec<(Domain, PathBuf, Option<String>)>> {
    config
        .attack
        .bundles()
        .map(|(domain, _, location)| {
            let bundle = fetch::attack_bundle(location, domain, &config.attack, data_dir)?;
            Ok((domain, bundle.path, bundle.warning))
        })
        .collect()
}

/// Loads every bundle. A bundle without techniques stops the sync, so the previous catalog
/// stays rather than lose its techniques.
fn load_attack(config: &Config, bundles: &[(Domain, PathBuf, Option<String>)]) -> Result<AttackCatalog> {
    let refs: Vec<(Domain, &Path)> = bundles.iter().map(|(d, p, _)| (*d, p.as_path())).collect();
    let mut catalog = AttackCatalog::load(&refs).context("cannot load ATT&CK; the previous catalog is kept")?;
    catalog.version = config.attack.version.clone();
    Ok(catalog)
}

/// Without ATT&CK no catalog is written; the error also names every source that could not be
/// fetched (offline, all of them), not only ATT&CK.
fn with_unreachable_sources(error: anyhow::Error, fetched: &[Fetched]) -> anyhow::Error {
    let unreachable: Vec<String> =
        fetched.iter().filter_map(|f| f.tree.as_ref().err().map(|e| format!("{}: {e:#}", f.source.name))).collect();
    match unreachable.as_slice() {
        [] => error,
        _ => anyhow::anyhow!("{error:#}\nthe sources could not be fetched either:\n{}", unreachable.join("\n")),
    }
}

/// The files a source's checkout needs: its rules, and what they refer to (Panther's Python and
/// helpers).
fn checkout_patterns(source: &SourceConfig) -> Vec<&'static str> {
    let adapter = source.format.adapter();
    adapter.patterns().iter().chain(adapter.support_patterns()).copied().collect()
}

/// `version` is the release the enterprise bundle declares, else the configured label.
fn attack_summary(
    bundles: &[(Domain, PathBuf, Option<String>)],
    version: Option<String>,
    techniques: usize,
    unchanged: bool,
    started: Instant,
) -> AttackSummary {
    AttackSummary {
        bundles: bundles.iter().map(|(_, p, _)| p.clone()).collect(),
        version,
        techniques,
        warnings: bundles.iter().filter_map(|(_, _, w)| w.clone()).collect(),
        unchanged,
        load_time: started.elapsed(),
    }
}

/// What reading a source needs besides the source.
struct ReadContext<'a> {
    /// The current catalog, when there is one this ruledex reads.
    previous: Option<&'a Previous>,
    attack: &'a AttackCatalog,
    progress: &'a dyn Progress,
    /// A full sync parses every file, reusing nothing.
    mode: Mode,
}

/// A source as the reading thread hands it to the writing one.
enum Read<'a> {
    /// Unchanged upstream, so not read.
    Unchanged(Fetched<'a>, Planned),
    Changed(ChangedSource<'a>),
}

/// A changed source as read: its rows in the current catalog, and the new read or why it
/// failed.
struct ChangedSource<'a> {
    source: &'a SourceConfig,
    fingerprint: Option<String>,
    fetch_time: Duration,
    rows: Vec<(i64, Detection)>,
    read: Result<NewRead, String>,
    parse_time: Duration,
}

/// A source read afresh, and what changed since its rows in the current catalog.
struct NewRead {
    ingested: IngestedSource,
    tree: fetch::Tree,
    changes: Vec<DetectionChange>,
    moved: usize,
    /// No earlier read of the source to compare with.
    first: bool,
}

/// Reads the sources in order, handing each to the writing thread; stops at the first error,
/// or when the writer has stopped taking them.
fn read_sources<'a>(
    jobs: impl Iterator<Item = (Fetched<'a>, Planned)>,
    context: &ReadContext,
    sender: mpsc::SyncSender<Result<Read<'a>>>,
) {
    for (fetched, planned) in jobs {
        let read = match planned.unchanged {
            true => Ok(Read::Unchanged(fetched, planned)),
            false => read_source(fetched, &planned, context).map(Read::Changed),
        };
        let failed = read.is_err();
        if sender.send(read).is_err() || failed {
            return;
        }
    }
}

/// Reads one changed source, reusing what its last read parsed, and finds what changed.
fn read_source<'a>(fetched: Fetched<'a>, planned: &Planned, context: &ReadContext) -> Result<ChangedSource<'a>> {
    let (source, progress) = (fetched.source, context.progress);
    progress.step(&format!("reading {}", source.name));
    let parse_started = Instant::now();
    let fetch_warning = fetched.tree.as_ref().ok().and_then(|tree| tree.warning.clone());
    let (files, previous) = files_and_previous_rows(fetched.tree, source, planned, context);
    let previous = previous?;
    let rows = previous.as_ref().map_or(&[][..], |p| p.rows.as_slice());
    let earlier = match (context.mode, previous.as_ref()) {
        (_, None) => EarlierRead::default(),
        (Mode::Incremental, Some(previous)) => previous.earlier(),
        // Everything is parsed again, but addresses stay with their detections.
        (Mode::Full, Some(previous)) => EarlierRead { addresses: previous.addresses(), ..EarlierRead::default() },
    };
    let ingested = files.and_then(|FilesRead { tree, spec, files }| {
        let on_file = |total| progress.file_read(total);
        let ingested = parse_files(&spec, context.attack, &on_file, files, &earlier)?;
        if ingested.report.files == 0 && !rows.is_empty() {
            bail!("no rule files found where the last sync read {}; the checkout may be broken", rows.len());
        }
        Ok((ingested, tree))
    });
    let parse_time = parse_started.elapsed();
    let read = match ingested {
        Ok((ingested, tree)) => Ok(NewRead::of(ingested, tree, rows, planned)),
        Err(error) => {
            Err(fetch_warning.map_or_else(|| format!("{error:#}"), |warning| format!("{warning}; {error:#}")))
        }
    };
    let rows = previous.map(|p| p.rows).unwrap_or_default();
    let (fingerprint, fetch_time) = (fetched.fingerprint, fetched.fetch_time);
    Ok(ChangedSource { source, fingerprint, fetch_time, rows, read, parse_time })
}

impl NewRead {
    /// A new read, with what changed since the source's `rows` in the current catalog.
    fn of(ingested: IngestedSource, tree: fetch::Tree, rows: &[(i64, Detection)], planned: &Planned) -> NewRead {
        // A source read for the first time starts its history; its detections are not news.
        let first = planned.previous.as_ref().is_none_or(|p| p.fingerprint.is_none());
        let changes = match first {
            false => compare(rows.iter().map(|(_, d)| d), &ingested.detections, tree.commit.as_deref()),
            true => vec![],
        };
        let moved = moved(rows.iter().map(|(_, d)| d), &ingested.detections);
        NewRead { ingested, tree, changes, moved, first }
    }
}

/// A changed source's files as read from its tree.
struct FilesRead {
    tree: fetch::Tree,
    spec: SourceSpec,
    files: SourceFiles,
}

/// A source's files, read while its rows in the current catalog are loaded: neither needs the
/// other.
fn files_and_previous_rows(
    tree: Result<fetch::Tree>,
    source: &SourceConfig,
    planned: &Planned,
    context: &ReadContext,
) -> (Result<FilesRead>, Result<Option<PreviousDetections>>) {
    std::thread::scope(|scope| {
        let previous = scope.spawn(|| previous_rows(context.previous, planned));
        let files = tree.and_then(|tree| {
            let spec = spec(source, &tree);
            let files = read_files(&spec)?;
            Ok(FilesRead { tree, spec, files })
        });
        (files, previous.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    })
}

/// What the current catalog holds of a source, when it holds any.
fn previous_rows(catalog: Option<&Previous>, planned: &Planned) -> Result<Option<PreviousDetections>> {
    match (catalog, &planned.previous) {
        (Some(catalog), Some(source)) => Ok(Some(catalog.detections(source)?)),
        _ => Ok(None),
    }
}

/// Writes what differs of a changed source read afresh, or, when it could not be read, keeps its
/// previous detections. Its changes are added to `changes`.
fn store_source(
    changed: ChangedSource,
    now: &Now,
    writer: &mut CatalogWriter,
    changes: &mut Vec<DetectionChange>,
) -> Result<SourceOutcome> {
    let store_started = Instant::now();
    let outcome = match changed.read {
        Ok(read) => {
            writer.write_source(&read.ingested, &now.stamp, changed.fingerprint.as_deref(), &changed.rows)?;
            let outcome = SourceOutcome {
                root: Some(read.tree.root),
                commit: read.tree.commit,
                problem: read.tree.warning,
                files_reused: read.ingested.files_reused,
                changes: ChangeCounts::of(&read.changes),
                first_read: read.first,
                moved: read.moved,
                ..outcome(&read.ingested.report)
            };
            changes.extend(read.changes);
            outcome
        }
        Err(problem) => {
            let empty = empty_report(changed.source);
            let previous = writer.keep_previous_source(&empty, &problem, &now.stamp)?;
            let kept_previous = previous.is_some();
            SourceOutcome { problem: Some(problem), kept_previous, ..outcome(previous.as_ref().unwrap_or(&empty)) }
        }
    };
    let (fetch_time, parse_time) = (changed.fetch_time, changed.parse_time);
    Ok(SourceOutcome { fetch_time, parse_time, store_time: store_started.elapsed(), ..outcome })
}

fn spec(source: &SourceConfig, tree: &fetch::Tree) -> SourceSpec {
    SourceSpec {
        name: source.name.clone(),
        format: source.format,
        kind: source.kind,
        root: tree.root.clone(),
        license: source.license.clone(),
        repository: source.repository(),
        commit: tree.commit.clone(),
        limits: source.limits(),
    }
}

fn outcome(report: &SourceReport) -> SourceOutcome {
    SourceOutcome {
        name: report.name.clone(),
        root: None,
        commit: report.commit.clone(),
        files: report.files,
        detections: report.detections,
        failures: report.failures.len(),
        attack: report.attack.clone(),
        problem: None,
        kept_previous: false,
        unchanged: false,
        files_reused: 0,
        changes: ChangeCounts::default(),
        first_read: false,
        moved: 0,
        fetch_time: Duration::ZERO,
        parse_time: report.parse_time,
        store_time: Duration::ZERO,
    }
}

/// The report of a source that could not be read at all.
fn empty_report(source: &SourceConfig) -> SourceReport {
    SourceReport {
        name: source.name.clone(),
        format: source.format,
        kind: source.kind,
        repository: source.repository(),
        commit: None,
        license: source.license.clone(),
        files: 0,
        files_parsed: 0,
        detections: 0,
        failures: vec![],
        attack: AttackCoverage::default(),
        parse_time: Duration::ZERO,
    }
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;
    use std::process::Command;

    use ruledex_core::model::Detection;
    use ruledex_store::{Lookup, Previous, Store, SyncLock};

    use super::*;
    use crate::testing::{MINI_BUNDLE, Server, ok, one_at_a_time, open_to_others};

    fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
    }

    fn git(dir: &Path, args: &[&str]) {
        let status = Command::new("git").arg("-C").arg(dir).args(args).status().expect("git runs");
        assert!(status.success(), "git {args:?}");
    }

    /// A git repository holding a copy of a fixture source, committed on `main`.
    fn upstream(fixture: &Path) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        copy_fixture(fixture, dir.path());
        git(dir.path(), &["init", "--quiet", "--initial-branch=main"]);
        git(dir.path(), &["add", "."]);
        git(dir.path(), &["-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "fixture"]);
        dir
    }

    fn copy_fixture(fixture: &Path, to: &Path) {
        for entry in files_under(fixture) {
            let target = to.join(entry.strip_prefix(fixture).expect("inside"));
            fs::create_dir_all(target.parent().expect("a parent")).expect("mkdir");
            fs::copy(&entry, target).expect("copy");
        }
    }

    /// Every detection of the catalog in `data`, by source and ID.
    fn all_detections(data: &Path) -> Vec<Detection> {
        let lock = SyncLock::acquire(data).unwrap();
        let previous = Previous::open(&lock).unwrap().unwrap();
        let mut all = Vec::new();
        for name in previous.source_names().unwrap() {
            let source = previous.source(&name).unwrap().unwrap();
            all.extend(previous.detections(&source).unwrap().rows.into_iter().map(|(_, d)| d));
        }
        all.sort_by_key(Detection::address);
        all
    }

    /// A damaged catalog (overwritten in place, say) is replaced, with a warning, rather than
    /// stopping every later sync.
    #[test]
    fn a_catalog_that_cannot_be_read_is_rebuilt_with_a_warning() {
        let _serial = one_at_a_time();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let config = load_config(dir.path(), &mini_attack(), "");
        let summary = run(&config, &data, &Quiet).unwrap();
        fs::write(&summary.catalog, b"not a catalog at all, but long enough to look like a file header").unwrap();
        let rebuilt = run(&config, &data, &Quiet).unwrap();
        let warning = rebuilt.catalog_warning.unwrap();
        assert!(warning.starts_with("the current catalog cannot be read ("), "{warning}");
        assert!(warning.ends_with("; a new one is built and its change history starts afresh"), "{warning}");
        assert!(Store::open(&rebuilt.catalog).is_ok());
        assert_eq!(run(&config, &data, &Quiet).unwrap().catalog_warning, None);
    }

    /// Reused rules and replaced rows make the same catalog as reading everything afresh, when a
    /// rule file changed and when a support file (a Panther rule's Python) did.
    #[test]
    fn an_incremental_sync_builds_what_a_fresh_read_builds() {
        let _serial = one_at_a_time();
        let dir = tempfile::tempdir().unwrap();
        for name in ["splunk-escu", "panther"] {
            copy_fixture(&fixtures().join(name), &dir.path().join(name));
        }
        let sources = format!(
            "[[sources]]\nname = \"splunk\"\nformat = \"splunk-escu\"\nkind = \"vendor\"\npath = {:?}\n\
             [[sources]]\nname = \"panther\"\nformat = \"panther\"\nkind = \"vendor\"\npath = {:?}\n",
            dir.path().join("splunk-escu"),
            dir.path().join("panther")
        );
        let config = load_config(dir.path(), &mini_attack(), &sources);
        let (incremental, fresh) = (dir.path().join("incremental"), dir.path().join("fresh"));
        run(&config, &incremental, &Quiet).unwrap();
        let netsh = dir.path().join("splunk-escu/detections/endpoint/fixture_proxy_via_netsh.yml");
        fs::write(&netsh, fs::read_to_string(&netsh).unwrap().replacen("name: ", "name: Renamed ", 1)).unwrap();
        let python = dir.path().join("panther/rules/fixture_rules/tor_exit_node.py");
        fs::write(&python, fs::read_to_string(&python).unwrap() + "\n# changed upstream\n").unwrap();
        let summary = run(&config, &incremental, &Quiet).unwrap();
        let splunk = &summary.sources[1];
        assert!(splunk.files_reused > 0 && splunk.files_reused < splunk.files, "{splunk:?}");
        assert_eq!(summary.sources[2].files_reused, 0, "a changed support file invalidates every rule");
        assert_eq!((summary.changes.changed, summary.changes.total()), (2, 2), "{:?}", summary.changes);
        run(&config, &fresh, &Quiet).unwrap();
        assert_eq!(all_detections(&incremental), all_detections(&fresh));
        let full = run_with(&config, &incremental, &Quiet, Mode::Full).unwrap();
        assert!(full.sources.iter().all(|s| s.files_reused == 0 && !s.unchanged), "a full sync reads everything");
        assert_eq!(full.changes.total(), 0, "and finds what the incremental one found");
    }

    fn files_under(dir: &Path) -> Vec<PathBuf> {
        fs::read_dir(dir)
            .expect("readable")
            .map(|e| e.expect("entry").path())
            .flat_map(|path| if path.is_dir() { files_under(&path) } else { vec![path] })
            .collect()
    }

    #[test]
    fn git_sources_check_out_the_support_files_their_rules_need() {
        let upstream = upstream(&fixtures().join("panther"));
        let work = tempfile::tempdir().expect("temp dir");
        let config = work.path().join("ruledex.toml");
        let text = format!(
            "[attack]\nenterprise = {:?}\n[[sources]]\nname = \"panther\"\nformat = \"panther\"\nkind = \"vendor\"\n\
             git = \"file://{}\"\nrev = \"main\"\n",
            fixtures().join("attack/mini-enterprise.json"),
            upstream.path().display()
        );
        fs::write(&config, text).expect("write config");
        let summary =
            run(&Config::load(&config).expect("valid config"), &work.path().join("data"), &Quiet).expect("sync");
        let panther = &summary.sources[0];
        assert_eq!(panther.problem, None);
        // The Python beside each rule and the helpers are checked out with the rules: the five
        // detections of the fixture load, as from a local path.
        assert_eq!((panther.files, panther.detections), (13, 5));
    }

    /// `[attack]` lines, then the fixture Google SecOps rules as source `chronicle`, plus `more`.
    fn load_config(dir: &Path, attack: &str, more: &str) -> Config {
        let path = dir.join("ruledex.toml");
        let chronicle = fixtures().join("chronicle");
        let text = format!(
            "[attack]\n{attack}\n[[sources]]\nname = \"chronicle\"\nformat = \"chronicle\"\nkind = \"vendor\"\n\
             path = {chronicle:?}\n{more}"
        );
        fs::write(&path, text).unwrap();
        Config::load(&path).unwrap()
    }

    fn mini_attack() -> String {
        format!("enterprise = {:?}", fixtures().join("attack/mini-enterprise.json"))
    }

    /// A valid bundle with nothing in it once replaced the catalog's ATT&CK.
    #[test]
    fn a_bundle_without_techniques_stops_the_sync_and_keeps_the_previous_catalog() {
        let _serial = one_at_a_time();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let summary = run(&load_config(dir.path(), &mini_attack(), ""), &data, &Quiet).unwrap();
        let before = fs::read(&summary.catalog).unwrap();
        let empty = dir.path().join("empty.json");
        fs::write(&empty, r#"{"type": "bundle", "id": "bundle--empty", "objects": []}"#).unwrap();
        let config = load_config(dir.path(), &format!("enterprise = {empty:?}"), "");
        let error = run(&config, &data, &Quiet).unwrap_err();
        assert_eq!(
            format!("{error:#}"),
            format!(
                "cannot load ATT&CK; the previous catalog is kept: ATT&CK bundle {} holds no ATT&CK techniques (no \
                 attack-pattern object with a mitre-attack ID such as T1090): it is not an ATT&CK bundle",
                empty.display()
            )
        );
        assert_eq!(fs::read(&summary.catalog).unwrap(), before);
    }

    #[test]
    fn an_unreachable_bundle_url_keeps_the_previous_copy_and_warns_in_the_summary() {
        let _serial = one_at_a_time();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let server = Server::start(vec![ok("\"v1\"", MINI_BUNDLE.as_bytes())]);
        let url = server.url("/enterprise-attack.json");
        let config = load_config(dir.path(), &format!("enterprise = {url:?}\nallow_http = true"), "");
        let online = run(&config, &data, &Quiet).unwrap();
        assert!(online.attack.warnings.is_empty(), "{:?}", online.attack.warnings);
        server.finish();
        let offline = run(&config, &data, &Quiet).unwrap();
        assert_eq!(offline.attack.techniques, online.attack.techniques);
        let [warning] = offline.attack.warnings.as_slice() else { panic!("{:?}", offline.attack.warnings) };
        assert!(warning.starts_with(&format!("cannot refresh ATT&CK bundle {url}: ")), "{warning}");
        assert!(warning.contains("; using the copy downloaded at "), "{warning}");
    }

    /// Issue 21, item 2: the data directory was created 0755, the catalog, the ATT&CK download
    /// and the checkouts readable by everyone. A catalog an earlier version left readable is
    /// replaced by one that is not.
    #[test]
    fn a_sync_keeps_its_data_directory_to_its_owner() {
        let _serial = one_at_a_time();
        let upstream = upstream(&fixtures().join("panther"));
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("new/data");
        let server = Server::start(vec![ok("\"v1\"", MINI_BUNDLE.as_bytes())]);
        let attack = format!("enterprise = {:?}\nallow_http = true", server.url("/enterprise-attack.json"));
        let source = format!(
            "[[sources]]\nname = \"panther\"\nformat = \"panther\"\nkind = \"vendor\"\ngit = \"file://{}\"\n",
            upstream.path().display()
        );
        let config = load_config(dir.path(), &attack, &source);
        let summary = run(&config, &data, &Quiet).unwrap();
        assert!(data.join("attack").is_dir() && data.join("sources/panther/rules").is_dir());
        assert_eq!(open_to_others(&dir.path().join("new")), Vec::<PathBuf>::new());
        fs::set_permissions(&summary.catalog, fs::Permissions::from_mode(0o644)).unwrap();
        run_with(&config, &data, &Quiet, Mode::Full).unwrap();
        assert_eq!(open_to_others(&dir.path().join("new")), Vec::<PathBuf>::new());
    }

    /// Issue 21, item 6, through syncs: a file added upstream declares the name of an existing
    /// Google SecOps rule. The existing rule keeps its address (nothing is recorded as removed),
    /// the newcomer is added at a suffixed address, and the source's report says why.
    #[test]
    fn a_new_rule_cannot_take_an_existing_rules_address() {
        let _serial = one_at_a_time();
        let dir = tempfile::tempdir().unwrap();
        let rules = dir.path().join("secops");
        copy_fixture(&fixtures().join("chronicle"), &rules);
        let source =
            format!("[[sources]]\nname = \"secops\"\nformat = \"chronicle\"\nkind = \"vendor\"\npath = {rules:?}\n");
        let config = load_config(dir.path(), &mini_attack(), &source);
        let data = dir.path().join("data");
        run(&config, &data, &Quiet).unwrap();
        let squatter = "rules/community/a_squatter.yaral";
        let text = "rule fixture_tor_exit {\n  meta:\n    author = \"someone else\"\n  events:\n    \
                    $e.metadata.event_type = \"PROCESS_LAUNCH\"\n  condition:\n    $e\n}\n";
        fs::write(rules.join(squatter), text).unwrap();

        let summary = run(&config, &data, &Quiet).unwrap();
        assert_eq!((summary.changes.added, summary.changes.removed), (1, 0), "{:?}", summary.changes);
        let store = Store::open(&summary.catalog).unwrap();
        let Lookup::Found(real) = store.detection("secops", "fixture_tor_exit").unwrap() else { panic!("moved") };
        assert_eq!(real.rule.path, "rules/community/two_rules.yaral");
        let report = &store.sources().iter().find(|s| s.report.name == "secops").unwrap().report;
        let note = report.failures.iter().find(|f| f.path == squatter).expect("a note on the squatting file");
        let (_, address) = note.reason.rsplit_once(" this one is ").unwrap();
        let (_, id) = address.split_once('/').unwrap();
        assert!(id.starts_with("fixture_tor_exit~"), "{}", note.reason);
        let Lookup::Found(newcomer) = store.detection("secops", id).unwrap() else { panic!("{address} not found") };
        assert_eq!(newcomer.rule.author.as_deref(), Some("someone else"));

        let full = run_with(&config, &data, &Quiet, Mode::Full).unwrap();
        assert_eq!(full.changes.total(), 0, "a full read keeps the addresses: {:?}", full.changes);
    }

    /// URLs may carry tokens; only git gets them. The summary, the catalog (reports,
    /// provenance, errors) and the error of a failed sync hold none.
    #[test]
    fn credentials_in_urls_reach_no_report_provenance_or_error() {
        let _serial = one_at_a_time();
        let secret = "s3cret-token";
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let chronicle = fixtures().join("chronicle");
        let sources = format!(
            "repository = \"https://alice:{secret}@github.com/chronicle/detection-rules\"\ncommit = \"abc123\"\n\
             [[sources]]\nname = \"remote\"\nformat = \"chronicle\"\nkind = \"vendor\"\n\
             git = \"https://alice:{secret}@127.0.0.1:9/rules.git\"\nrev = \"main\"\n\
             [[sources]]\nname = \"mirror\"\nformat = \"chronicle\"\nkind = \"vendor\"\npath = {chronicle:?}\n\
             repository = \"https://{secret}@gitlab.com/org/rules\"\n"
        );
        let summary = run(&load_config(dir.path(), &mini_attack(), &sources), &data, &Quiet).unwrap();
        let shown = serde_json::to_string(&summary).unwrap();
        assert!(!shown.contains(secret), "{shown}");
        let remote = summary.sources.iter().find(|s| s.name == "remote").unwrap();
        let problem = remote.problem.as_deref().unwrap();
        assert!(problem.starts_with("cannot fetch main of https://127.0.0.1:9/rules.git: git fetch: "), "{problem}");

        let catalog = fs::read(&summary.catalog).unwrap();
        assert!(!catalog.windows(secret.len()).any(|w| w == secret.as_bytes()), "the catalog holds the secret");
        let store = Store::open(&summary.catalog).unwrap();
        let repositories: Vec<Option<String>> = store.sources().iter().map(|s| s.report.repository.clone()).collect();
        assert_eq!(
            repositories,
            [
                Some("https://github.com/chronicle/detection-rules".to_string()),
                Some("https://127.0.0.1:9/rules.git".to_string()),
                Some("https://gitlab.com/org/rules".to_string()),
            ]
        );
        let Lookup::Found(detection) = store.detection("chronicle", "fixture_tor_exit").unwrap() else {
            panic!("fixture_tor_exit not found")
        };
        let provenance = &detection.provenance;
        assert_eq!(provenance.repository.as_deref(), Some("https://github.com/chronicle/detection-rules"));
        let link = provenance.upstream_url.as_deref().unwrap_or_default();
        assert!(link.starts_with("https://github.com/chronicle/detection-rules/blob/abc123/rules/"), "{link}");

        let attack =
            format!("enterprise = \"http://bob:{secret}@127.0.0.1:9/enterprise-attack.json\"\nallow_http = true");
        let error = format!("{:#}", run(&load_config(dir.path(), &attack, ""), &data, &Quiet).unwrap_err());
        assert!(
            error.starts_with("cannot download ATT&CK bundle http://127.0.0.1:9/enterprise-attack.json: "),
            "{error}"
        );
        assert!(!error.contains(secret), "{error}");
    }
}

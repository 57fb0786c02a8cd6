//! One catalog lifecycle for every front end: opening the data directory's catalog, building
//! it when there is none (a sync), following the generations a sync writes (in this process or
//! another), and telling whoever waits the moment a catalog is ready.
//!
//! A [`LiveCatalog`] holds the current generation; a request takes it once
//! ([`LiveCatalog::current`]) and answers from it to the end, whatever is installed meanwhile.
//! Whether there is a newer generation to open is the store's question
//! ([`ruledex_store::Store::superseded`]), so how the store writes generations stays its own
//! business. Waiters ([`LiveCatalog::wait`]) block on a condition variable that opening,
//! building and reopening notify: nothing polls for readiness.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

pub use ruledex_store::StoreOptions as CatalogOptions;
use ruledex_store::{GenerationMark, catalog_path, generation_mark};

use crate::config::Config;
use crate::service::{Answer, Catalog, ServiceError};
use crate::sync::{self, Progress, SyncPhase, SyncSummary};

/// How [`LiveCatalog::open_or_build`] got its catalog.
#[derive(Debug)]
pub enum Opened {
    /// The catalog there was.
    Existing,
    /// A sync built it.
    Built(Box<SyncSummary>),
}

/// Why there is no catalog to answer from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unavailable {
    /// A catalog is being opened or built; it says how far along.
    Pending(String),
    /// There is none and none is coming; it says what to do.
    Missing(String),
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unavailable::Pending(progress) => write!(f, "the catalog is not ready yet: {progress}; try again shortly"),
            Unavailable::Missing(why) => write!(f, "there is no catalog to answer from: {why}"),
        }
    }
}

/// The catalog of a data directory as it lives: the current generation, what is happening to
/// it, and who waits for it.
pub struct LiveCatalog {
    path: PathBuf,
    options: CatalogOptions,
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    current: Option<Arc<Catalog>>,
    /// The last sync run here, or the one running.
    phase: SyncPhase,
    /// A catalog is being opened (on another thread).
    opening: bool,
    /// Why the catalog could not be opened, when it could not.
    unusable: Option<String>,
    /// The generation that could not be opened: not tried again until another is there.
    failed: Option<GenerationMark>,
    /// Counts every change of the above: what a cache of answers is keyed by.
    version: u64,
}

impl LiveCatalog {
    /// The catalog of `data_dir`, not opened yet.
    pub fn new(data_dir: &Path, options: CatalogOptions) -> Arc<LiveCatalog> {
        Arc::new(LiveCatalog {
            path: catalog_path(data_dir),
            options,
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        })
    }

    /// A catalog already opened, serving as the current generation (tests, benchmarks).
    pub fn serving(catalog: Catalog) -> Arc<LiveCatalog> {
        let path = catalog.path().to_path_buf();
        let live = Arc::new(LiveCatalog {
            path,
            options: CatalogOptions::default(),
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        });
        live.install(catalog);
        live
    }

    /// The catalog file followed.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes the state and tells every waiter.
    fn update(&self, change: impl FnOnce(&mut State)) {
        let mut state = self.lock();
        change(&mut state);
        state.version += 1;
        drop(state);
        self.changed.notify_all();
    }

    fn install(&self, catalog: Catalog) {
        self.update(|state| {
            state.current = Some(Arc::new(catalog));
            state.unusable = None;
            state.failed = None;
            state.opening = false;
        });
    }

    /// Opens the catalog now and makes it the current generation.
    pub fn open(&self) -> Answer<Arc<Catalog>> {
        self.update(|state| state.opening = true);
        let opened = self.try_open();
        if let Err(error) = &opened {
            self.update(|state| {
                state.opening = false;
                state.unusable = Some(error.to_string());
            });
        }
        opened
    }

    fn try_open(&self) -> Answer<Arc<Catalog>> {
        let catalog = Arc::new(Catalog::open(&self.path, self.options)?);
        self.update(|state| {
            state.current = Some(Arc::clone(&catalog));
            state.unusable = None;
            state.failed = None;
            state.opening = false;
        });
        Ok(catalog)
    }

    /// Says the catalog is being opened, so that waiters wait for it: call it before handing
    /// [`LiveCatalog::open_or_build`] to another thread.
    pub fn opening(&self) {
        self.update(|state| state.opening = true);
    }

    /// Opens the catalog, or, when there is none usable, builds it with `config` (`progress`
    /// hears why first, then how the build goes). Waiters keep waiting throughout.
    pub fn open_or_build(&self, config: &Config, data_dir: &Path, progress: &dyn Progress) -> anyhow::Result<Opened> {
        match self.try_open() {
            Ok(_) => Ok(Opened::Existing),
            Err(ServiceError::Unavailable(reason)) => {
                self.update(|state| {
                    state.phase = SyncPhase::Running { step: "starting".into(), files_read: 0, files_total: 0 }
                });
                progress.step(&format!("no usable catalog ({reason}); building it now from {}", config.origin));
                self.sync(config, data_dir, progress).map(|summary| Opened::Built(Box::new(summary)))
            }
            Err(error) => {
                self.update(|state| {
                    state.opening = false;
                    state.unusable = Some(error.to_string());
                });
                Err(error.into())
            }
        }
    }

    /// The current generation, when there is one.
    pub fn current(&self) -> Option<Arc<Catalog>> {
        self.lock().current.clone()
    }

    /// The current generation, waiting up to `patience` while one is being opened or built.
    pub fn wait(&self, patience: Duration) -> Result<Arc<Catalog>, Unavailable> {
        let deadline = Instant::now() + patience;
        let mut state = self.lock();
        loop {
            match unavailable(&state) {
                Err(Unavailable::Pending(progress)) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(Unavailable::Pending(progress));
                    }
                    state = self.changed.wait_timeout(state, left).unwrap_or_else(|p| p.into_inner()).0;
                }
                answer => return answer,
            }
        }
    }

    /// Sets the phase as a sync running here would (tests of what front ends show meanwhile).
    #[cfg(any(test, feature = "testing"))]
    pub fn show_phase(&self, phase: SyncPhase) {
        self.update(|state| state.phase = phase);
    }

    /// Where the last sync run here stands.
    pub fn phase(&self) -> SyncPhase {
        self.lock().phase.clone()
    }

    /// A number that changes whenever the generation or the sync's phase does: answers made
    /// from one version stay right while it lasts.
    pub fn version(&self) -> u64 {
        self.lock().version
    }

    /// Opens the newer generation, when the store says there is one (and no sync of this process
    /// is about to install it). True when a new generation was installed. A generation that
    /// cannot be opened is tried once, until another takes its place.
    pub fn refresh(&self) -> Answer<bool> {
        let mark = generation_mark(&self.path);
        let stale = {
            let state = self.lock();
            let running = matches!(state.phase, SyncPhase::Running { .. }) || state.opening;
            let newer = match &state.current {
                Some(catalog) => catalog.superseded(),
                None => mark.is_some(),
            };
            !running && newer && mark != state.failed
        };
        if !stale {
            return Ok(false);
        }
        // Opened outside the lock: requests in flight keep answering from the previous one.
        match Catalog::open(&self.path, self.options) {
            Ok(catalog) => {
                self.install(catalog);
                Ok(true)
            }
            Err(error) => {
                self.update(|state| state.failed = mark);
                Err(error)
            }
        }
    }

    /// Follows the catalog on a thread of its own: every `every`, opens the newer generation
    /// when there is one. The thread ends with the last reference to `self`.
    pub fn follow(self: &Arc<Self>, every: Duration, on_change: impl Fn(Answer<&Catalog>) + Send + 'static) {
        let live: Weak<LiveCatalog> = Arc::downgrade(self);
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(every);
                let Some(live) = live.upgrade() else { return };
                match live.refresh() {
                    Ok(true) => {
                        if let Some(catalog) = live.current() {
                            on_change(Ok(&catalog));
                        }
                    }
                    Ok(false) => {}
                    Err(error) => on_change(Err(error)),
                }
            }
        });
    }

    /// Runs a sync of `config` into the data directory and installs the catalog it wrote (the
    /// current one when nothing changed upstream and one is open). The phase follows it.
    pub fn sync(&self, config: &Config, data_dir: &Path, progress: &dyn Progress) -> anyhow::Result<SyncSummary> {
        self.update(|state| {
            state.phase = SyncPhase::Running { step: "starting".into(), files_read: 0, files_total: 0 };
            state.opening = false;
        });
        let tracked = Tracked { live: self, inner: progress };
        let result = sync::run(config, data_dir, &tracked).and_then(|summary| {
            if !summary.unchanged || self.current().is_none() {
                self.install(Catalog::open(&summary.catalog, self.options)?);
            }
            Ok(summary)
        });
        let phase = match &result {
            Ok(summary) => SyncPhase::Finished { problems: summary.problems(), unchanged: summary.unchanged },
            Err(error) => SyncPhase::Failed { error: format!("{error:#}") },
        };
        self.update(|state| state.phase = phase);
        result
    }
}

/// The current generation in `state`, or why there is none.
fn unavailable(state: &State) -> Result<Arc<Catalog>, Unavailable> {
    if let Some(catalog) = &state.current {
        return Ok(Arc::clone(catalog));
    }
    match (&state.phase, state.opening, &state.unusable) {
        (SyncPhase::Running { step, files_read, files_total }, _, _) => {
            Err(Unavailable::Pending(format!("building it ({step}: {files_read}/{files_total} files)")))
        }
        (_, true, _) => Err(Unavailable::Pending("opening it".into())),
        (SyncPhase::Failed { error }, _, _) => Err(Unavailable::Missing(format!("building it failed: {error}"))),
        (_, _, Some(why)) => Err(Unavailable::Missing(why.clone())),
        _ => Err(Unavailable::Missing("there is no catalog yet; run `ruledex sync`".into())),
    }
}

/// A sync's progress, kept in the phase as well as told to the front end's own display.
struct Tracked<'a> {
    live: &'a LiveCatalog,
    inner: &'a dyn Progress,
}

impl Progress for Tracked<'_> {
    fn step(&self, message: &str) {
        self.live.update(|state| {
            state.phase = SyncPhase::Running { step: message.to_string(), files_read: 0, files_total: 0 };
        });
        self.inner.step(message);
    }

    fn file_read(&self, total: usize) {
        // Not a change worth telling waiters or caches about: counted in place.
        if let SyncPhase::Running { files_read, files_total, .. } = &mut self.live.lock().phase {
            *files_read += 1;
            *files_total = total;
        }
        self.inner.file_read(total);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_catalog_waiters_learn_why_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let live = LiveCatalog::new(dir.path(), CatalogOptions::default());
        let started = Instant::now();
        assert!(matches!(live.wait(Duration::from_secs(30)), Err(Unavailable::Missing(_))));
        assert!(started.elapsed() < Duration::from_secs(1), "nothing was under way: no waiting");
        assert!(live.open().is_err());
        let Err(Unavailable::Missing(why)) = live.wait(Duration::ZERO) else { panic!("missing") };
        assert!(why.contains("run `ruledex sync`"), "{why}");
        assert!(!live.refresh().unwrap(), "still nothing to open");
    }

    #[test]
    fn a_waiter_is_woken_when_opening_ends() {
        let dir = tempfile::tempdir().unwrap();
        let live = LiveCatalog::new(dir.path(), CatalogOptions::default());
        live.update(|state| state.opening = true);
        let waiter = {
            let live = Arc::clone(&live);
            std::thread::spawn(move || {
                let started = Instant::now();
                let answer = live.wait(Duration::from_secs(30));
                (started.elapsed(), answer.is_err())
            })
        };
        std::thread::sleep(Duration::from_millis(50));
        live.update(|state| {
            state.opening = false;
            state.unusable = Some("damaged".into());
        });
        let (waited, failed) = waiter.join().unwrap();
        assert!(failed && waited < Duration::from_secs(5), "woken by the notification: {waited:?}");
    }
}

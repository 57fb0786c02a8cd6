//! A sync: fetch every source, ingest it, and write a new catalog in one go.
//!
//! A source that cannot be fetched or read does not stop the sync: its detections from the
//! previous catalog are kept and the failure is recorded. Only a failure that would leave the
//! whole catalog wrong (no ATT&CK data, an unwritable data directory) aborts, and then the
//! previous catalog stays untouched.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use ruledex_core::attack::{AttackCatalog, Domain};
use ruledex_core::ingest::{AttackCoverage, SourceReport, SourceSpec, ingest};
use ruledex_store::CatalogWriter;
use serde::Serialize;

use crate::config::{Config, SourceConfig};
use crate::fetch;

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
    },
    /// No catalog could be written (offline without ATT&CK data, say).
    Failed {
        error: String,
    },
}

#[derive(Debug, Serialize)]
pub struct SyncSummary {
    pub catalog: PathBuf,
    pub config: String,
    pub attack: AttackSummary,
    pub sources: Vec<SourceOutcome>,
    #[serde(serialize_with = "millis")]
    pub total_time: Duration,
}

#[derive(Debug, Serialize)]
pub struct AttackSummary {
    pub bundles: Vec<PathBuf>,
    pub version: Option<String>,
    pub techniques: usize,
    /// Bundles that could not be refreshed (offline, or a bad download), whose previous copy
    /// was used: each says which and why, for the front ends to show.
    pub warnings: Vec<String>,
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

pub fn run(config: &Config, data_dir: &Path, progress: &dyn Progress) -> Result<SyncSummary> {
    let started = Instant::now();
    let mut writer = CatalogWriter::create(data_dir)?;
    progress.step("loading ATT&CK");
    let (attack, attack_summary) =
        load_attack(config, data_dir).map_err(|error| with_unreachable_sources(error, config, data_dir, progress))?;
    writer.write_attack(&attack)?;
    let mut sources = Vec::new();
    for source in config.enabled_sources() {
        sources.push(sync_source(source, &attack, &mut writer, data_dir, progress)?);
    }
    let now = jiff::Timestamp::now().to_string();
    writer.write_meta("built_at", &now)?;
    writer.write_meta("ruledex_version", env!("CARGO_PKG_VERSION"))?;
    writer.write_meta("config", &config.origin)?;
    if let Some(version) = &attack_summary.version {
        writer.write_meta("attack_version", version)?;
    }
    progress.step("saving the catalog");
    let catalog = writer.finish()?;
    Ok(SyncSummary {
        catalog,
        config: config.origin.clone(),
        attack: attack_summary,
        sources,
        total_time: started.elapsed(),
    })
}

/// Loads every configured bundle. A bundle without techniques of its domain stops the sync, so
/// the previous catalog stays rather than lose its techniques.
fn load_attack(config: &Config, data_dir: &Path) -> Result<(AttackCatalog, AttackSummary)> {
    let started = Instant::now();
    let attack = &config.attack;
    let mut bundles = Vec::new();
    let mut warnings = Vec::new();
    for (domain, _, location) in attack.bundles() {
        let bundle = fetch::attack_bundle(location, domain, attack, data_dir)?;
        warnings.extend(bundle.warning);
        bundles.push((domain, bundle.path));
    }
    let refs: Vec<(Domain, &Path)> = bundles.iter().map(|(d, p)| (*d, p.as_path())).collect();
    let mut catalog = AttackCatalog::load(&refs).context("cannot load ATT&CK; the previous catalog is kept")?;
    catalog.version = attack.version.clone();
    // The release the enterprise bundle declares wins over the configured label.
    let version = catalog.release(Domain::Enterprise).map(String::from);
    let summary = AttackSummary {
        bundles: bundles.into_iter().map(|(_, p)| p).collect(),
        version,
        techniques: catalog.techniques().count(),
        warnings,
        load_time: started.elapsed(),
    };
    Ok((catalog, summary))
}

/// Without ATT&CK no catalog is written; the sources are still fetched, so the error names every
/// one that could not be (offline, all of them), not only ATT&CK.
fn with_unreachable_sources(
    error: anyhow::Error,
    config: &Config,
    data_dir: &Path,
    progress: &dyn Progress,
) -> anyhow::Error {
    let unreachable: Vec<String> = config
        .enabled_sources()
        .filter_map(|source| {
            progress.step(&format!("fetching {}", source.name));
            fetch::source_tree(source, &checkout_patterns(source), data_dir)
                .err()
                .map(|e| format!("{}: {e:#}", source.name))
        })
        .collect();
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

/// Fetches and ingests one source; on failure keeps its previous detections.
fn sync_source(
    source: &SourceConfig,
    attack: &AttackCatalog,
    writer: &mut CatalogWriter,
    data_dir: &Path,
    progress: &dyn Progress,
) -> Result<SourceOutcome> {
    progress.step(&format!("fetching {}", source.name));
    let fetch_started = Instant::now();
    let tree = fetch::source_tree(source, &checkout_patterns(source), data_dir);
    let fetch_time = fetch_started.elapsed();
    progress.step(&format!("reading {}", source.name));
    let parse_started = Instant::now();
    let ingested = tree.and_then(|tree| {
        let spec = spec(source, &tree);
        let ingested = ingest(&spec, attack, &|total| progress.file_read(total))?;
        Ok((ingested, tree))
    });
    let parse_time = parse_started.elapsed();
    let store_started = Instant::now();
    let now = jiff::Timestamp::now().to_string();
    let outcome = match ingested {
        Ok((ingested, tree)) => {
            writer.write_source(&ingested, &now)?;
            let report = &ingested.report;
            SourceOutcome {
                root: Some(tree.root),
                commit: tree.commit,
                problem: tree.warning,
                kept_previous: false,
                ..outcome(report)
            }
        }
        Err(error) => {
            let problem = format!("{error:#}");
            let empty = empty_report(source);
            let previous = writer.keep_previous_source(&empty, &problem, &now)?;
            let kept_previous = previous.is_some();
            SourceOutcome { problem: Some(problem), kept_previous, ..outcome(previous.as_ref().unwrap_or(&empty)) }
        }
    };
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
    use std::process::Command;

    use ruledex_store::{Lookup, Store};

    use super::*;
    use crate::testing::{MINI_BUNDLE, Server, ok, one_at_a_time};

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
        for entry in files_under(fixture) {
            let to = dir.path().join(entry.strip_prefix(fixture).expect("inside"));
            fs::create_dir_all(to.parent().expect("a parent")).expect("mkdir");
            fs::copy(&entry, to).expect("copy");
        }
        git(dir.path(), &["init", "--quiet", "--initial-branch=main"]);
        git(dir.path(), &["add", "."]);
        git(dir.path(), &["-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "fixture"]);
        dir
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

//! In-process query latency on a catalog of the real corpora in ../shared.
//!
//! `cargo bench -p ruledex-store --bench queries` builds the catalog (every source configured in
//! examples/local-mirrors.toml's layout: chronicle, splunk, elastic), then runs each query many
//! times and prints the median and 95th percentile. Target: median under 5 ms.
#![allow(clippy::unwrap_used)] // a benchmark on broken data should stop loudly

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ruledex_core::attack::{AttackCatalog, Domain};
use ruledex_core::ingest::{DEFAULT_MAX_FILE_BYTES, SourceSpec, ingest};
use ruledex_core::model::SourceKind;
use ruledex_core::query::{Filter, SearchQuery};
use ruledex_core::sources::Format;
use ruledex_store::{CatalogWriter, Store, catalog_path};

const RUNS: usize = 300;

// The same allocator as the ruledex binary, so the figures are the shipped ones.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The upstream corpora and ATT&CK bundles: `RULEDEX_TEST_DATA` when set (scripts/test.sh sets it,
/// to its cache on a machine without ../shared), else ../shared beside the checkout (as in CI).
fn shared() -> PathBuf {
    std::env::var_os("RULEDEX_TEST_DATA")
        .filter(|dir| !dir.is_empty())
        .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"), PathBuf::from)
}

fn build_catalog(dir: &Path) -> Store {
    let attack_dir = shared().join("attack");
    let bundles = [
        (Domain::Enterprise, attack_dir.join("enterprise-attack.json")),
        (Domain::Ics, attack_dir.join("ics-attack.json")),
        (Domain::Mobile, attack_dir.join("mobile-attack.json")),
    ];
    let refs: Vec<(Domain, &Path)> = bundles.iter().map(|(d, p)| (*d, p.as_path())).collect();
    let attack = AttackCatalog::load(&refs).expect("ATT&CK bundles in ../shared");
    let mut writer = CatalogWriter::create(dir).expect("writer");
    writer.write_attack(&attack).expect("attack");
    for (name, format, path) in [
        ("chronicle", Format::Chronicle, "chronicle-detection-rules"),
        ("splunk", Format::SplunkEscu, "splunk-security-content"),
        ("elastic", Format::Elastic, "elastic-detection-rules"),
    ] {
        let spec = SourceSpec {
            name: name.into(),
            format,
            kind: SourceKind::Vendor,
            root: shared().join("corpus").join(path),
            license: None,
            repository: None,
            commit: None,
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
        };
        let source = ingest(&spec, &attack, &|_| {}).expect("source");
        writer.write_source(&source, "now").expect("write");
    }
    writer.finish().expect("finish");
    Store::open(&catalog_path(dir)).expect("open")
}

fn measure(name: &str, mut query: impl FnMut() -> usize) {
    let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
    let mut results = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        results = std::hint::black_box(query());
        times.push(started.elapsed());
    }
    times.sort();
    let median = times[RUNS / 2];
    let p95 = times[RUNS * 95 / 100];
    println!(
        "{name:<40} {results:>6} results   median {:>8.3} ms   p95 {:>8.3} ms   median/5ms target {:>5.2}",
        median.as_secs_f64() * 1e3,
        p95.as_secs_f64() * 1e3,
        median.as_secs_f64() / 0.005
    );
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = build_catalog(dir.path());
    let all = Filter::default();
    let spl_only = Filter { languages: vec![ruledex_core::model::Language::Spl], ..Filter::default() };
    measure("technique T1090 (with sub-techniques)", || {
        store.technique_detections("T1090".parse().unwrap(), false, &all).unwrap().detections.len()
    });
    measure("technique T1059 (largest family)", || {
        store.technique_detections("T1059".parse().unwrap(), false, &all).unwrap().detections.len()
    });
    measure("technique T1059, SPL only", || {
        store.technique_detections("T1059".parse().unwrap(), false, &spl_only).unwrap().detections.len()
    });
    measure("search \"tor\" (first 20)", || {
        store.search(&SearchQuery { limit: 20, ..SearchQuery::new("tor") }).unwrap().hits.len()
    });
    measure("search \"powershell\" (first 20, many matches)", || {
        store.search(&SearchQuery { limit: 20, ..SearchQuery::new("powershell") }).unwrap().hits.len()
    });
    measure("search \"netsh portproxy\"", || store.search(&SearchQuery::new("netsh portproxy")).unwrap().hits.len());
    measure("show elastic/<rule_id>", || {
        usize::from(matches!(
            store.detection("elastic", "6926b708-7964-425f-bed8-6e006379df08").unwrap(),
            ruledex_store::Lookup::Found(_)
        ))
    });
}

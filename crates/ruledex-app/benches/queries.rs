//! In-process query latency on a catalog of the real corpora in ../shared.
//!
//! `cargo bench -p ruledex-app --bench queries` builds the catalog of the three vendor sources of
//! examples/local-mirrors.toml (Google SecOps, Splunk, Elastic), then runs each query through the
//! query service, as every front end does, many times and prints the median and 95th
//! percentile. Target: median under 5 ms.
#![allow(clippy::unwrap_used)] // a benchmark on broken data should stop loudly

use std::path::Path;
use std::time::{Duration, Instant};

use ruledex_app::Catalog;
use ruledex_app::config::Config;
use ruledex_app::coverage::{CoverageRequest, Stack};
use ruledex_core::attack::Domain;
use ruledex_core::ids::ObjectKind;
use ruledex_core::query::{Filter, SearchQuery};
use ruledex_store::StoreOptions;

const RUNS: usize = 300;

// The same allocator as the ruledex binary, so the figures are the shipped ones.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The catalog of the three vendor sources of examples/local-mirrors.toml (Google SecOps, Splunk,
/// Elastic), built the way `ruledex sync` builds it.
fn build_catalog(dir: &Path) -> Catalog {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut config = Config::load(&root.join("examples/local-mirrors.toml")).expect("examples/local-mirrors.toml");
    config.sources.retain(|s| ["chronicle", "splunk", "elastic"].contains(&s.name.as_str()));
    let summary = ruledex_app::sync::run(&config, dir, &ruledex_app::sync::Quiet).expect("sync");
    Catalog::open(&summary.catalog, StoreOptions::default()).expect("open")
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
    let catalog = build_catalog(dir.path());
    let all = Filter::default();
    let spl_only = Filter { languages: vec![ruledex_core::model::Language::Spl], ..Filter::default() };
    measure("technique T1090 (with sub-techniques)", || {
        catalog.technique_page("T1090", false, &all).unwrap().listing.detections.len()
    });
    measure("technique T1059 (largest family)", || {
        catalog.technique_page("T1059", false, &all).unwrap().listing.detections.len()
    });
    measure("technique T1059, SPL only", || {
        catalog.technique_page("T1059", false, &spl_only).unwrap().listing.detections.len()
    });
    measure("search \"tor\" (first 20)", || {
        catalog.search(&SearchQuery { limit: 20, ..SearchQuery::new("tor") }).unwrap().hits.len()
    });
    measure("search \"powershell\" (first 20, many matches)", || {
        catalog.search(&SearchQuery { limit: 20, ..SearchQuery::new("powershell") }).unwrap().hits.len()
    });
    measure("search \"netsh portproxy\"", || catalog.search(&SearchQuery::new("netsh portproxy")).unwrap().hits.len());
    measure("show elastic/<rule_id>", || {
        usize::from(catalog.detection("elastic", "6926b708-7964-425f-bed8-6e006379df08").is_ok())
    });
    // Coverage (goal: under 20 ms each).
    let stack = Stack { have: vec!["splunk".into(), "elastic".into()], ..Stack::default() };
    let request = CoverageRequest { stack: stack.clone(), domain: Domain::Enterprise, tactics: vec![] };
    measure("coverage for splunk+elastic, Enterprise", || catalog.stack_coverage(&request).unwrap().techniques.len());
    measure("group APT29 with a stack", || {
        catalog.attack_object_page(ObjectKind::Group, "APT29", Some(&stack)).unwrap().techniques.len()
    });
}

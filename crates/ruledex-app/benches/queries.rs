//! In-process query latency on catalogs of the real corpora in ../shared.
//!
//! `cargo bench -p ruledex-app --bench queries [-- FILTER]` runs each query whose name holds
//! FILTER (`coverage`, say; every query without one) through the query service, as every front
//! end does, many times, and prints the median and 95th percentile against the query's goal:
//! median under 5 ms for lookups and searches, under 20 ms for coverage answers. Lookups and
//! searches run on the catalog of the three vendor sources of examples/local-mirrors.toml
//! (Google SecOps, Splunk, Elastic); coverage, a question about every source, on the catalog of
//! all eight. Each catalog is built, the way `ruledex sync` builds it, only when a query needs it.
#![allow(clippy::unwrap_used)] // a benchmark on broken data should stop loudly

use std::cell::OnceCell;
use std::path::Path;
use std::time::{Duration, Instant};

use ruledex_app::config::Config;
use ruledex_app::coverage::{CoverageRequest, ObjectRequest, Stack};
use ruledex_app::request::{Filters, Page, SearchRequest, TechniqueRequest};
use ruledex_app::{Catalog, CatalogOptions};
use ruledex_core::attack::Domain;
use ruledex_core::ids::ObjectKind;
use ruledex_core::model::Language;

const RUNS: usize = 300;

// The same allocator as the ruledex binary, so the figures are the shipped ones.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The catalog of examples/local-mirrors.toml, of only the sources named when some are, built
/// into `dir` the way `ruledex sync` builds it.
fn build_catalog(dir: &Path, only: Option<&[&str]>) -> Catalog {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut config = Config::load(&root.join("examples/local-mirrors.toml")).expect("examples/local-mirrors.toml");
    if let Some(only) = only {
        config.sources.retain(|s| only.contains(&s.name.as_str()));
    }
    let summary = ruledex_app::sync::run(&config, dir, &ruledex_app::sync::Quiet).expect("sync");
    Catalog::open(&summary.catalog, CatalogOptions::default()).expect("open")
}

/// Runs `query` once (building the catalog it needs), then RUNS times, and prints its median
/// and 95th percentile against `goal`.
fn measure(name: &str, goal: Duration, mut query: impl FnMut() -> usize) {
    query();
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
        "{name:<44} {results:>6} results   median {:>8.3} ms   p95 {:>8.3} ms   median/goal ({} ms) {:>5.2}",
        median.as_secs_f64() * 1e3,
        p95.as_secs_f64() * 1e3,
        goal.as_millis(),
        median.as_secs_f64() / goal.as_secs_f64()
    );
}

/// A query to time, and its goal for the median.
struct Query<'a> {
    name: &'static str,
    goal: Duration,
    run: Box<dyn Fn() -> usize + 'a>,
}

impl<'a> Query<'a> {
    fn new(name: &'static str, goal: Duration, run: impl Fn() -> usize + 'a) -> Query<'a> {
        Query { name, goal, run: Box::new(run) }
    }
}

const QUERY_GOAL: Duration = Duration::from_millis(5);
const COVERAGE_GOAL: Duration = Duration::from_millis(20);

fn main() {
    // `cargo bench` passes `--bench`; the first other argument filters the queries by name.
    let filter = std::env::args().skip(1).find(|arg| !arg.starts_with('-')).unwrap_or_default();
    let dir = tempfile::tempdir().expect("temp dir");
    let (vendors, everything) = (OnceCell::new(), OnceCell::new());
    let vendor_catalog = || {
        vendors.get_or_init(|| build_catalog(&dir.path().join("vendors"), Some(&["chronicle", "splunk", "elastic"])))
    };
    let full_catalog = || everything.get_or_init(|| build_catalog(&dir.path().join("all"), None));
    // A technique's first page, as front ends ask for it.
    let technique =
        |id: &str, filters: &Filters| TechniqueRequest { filters: filters.clone(), ..TechniqueRequest::new(id) };
    let all = Filters::default();
    let mut spl_only = Filters::default();
    spl_only.asked.languages = vec![Language::Spl];
    let search = |text: &str, limit: usize| SearchRequest { page: Page::first(limit), ..SearchRequest::new(text) };
    // The example stack.
    let stack = Stack { have: vec!["splunk".into(), "sentinel".into()], ..Stack::default() };
    let request = CoverageRequest { stack: stack.clone(), domain: Domain::Enterprise, tactics: vec![] };
    let queries = [
        Query::new("technique T1090 (with sub-techniques)", QUERY_GOAL, || {
            vendor_catalog().technique(&technique("T1090", &all)).unwrap().detections.len()
        }),
        Query::new("technique T1059 (largest family)", QUERY_GOAL, || {
            vendor_catalog().technique(&technique("T1059", &all)).unwrap().detections.len()
        }),
        Query::new("technique T1059, SPL only", QUERY_GOAL, || {
            vendor_catalog().technique(&technique("T1059", &spl_only)).unwrap().detections.len()
        }),
        Query::new("search \"tor\" (first 20)", QUERY_GOAL, || {
            vendor_catalog().search(&search("tor", 20)).unwrap().detections.len()
        }),
        Query::new("search \"powershell\" (first 20, many matches)", QUERY_GOAL, || {
            vendor_catalog().search(&search("powershell", 20)).unwrap().detections.len()
        }),
        Query::new("search \"netsh portproxy\"", QUERY_GOAL, || {
            vendor_catalog().search(&search("netsh portproxy", 50)).unwrap().detections.len()
        }),
        Query::new("show elastic/<rule_id>", QUERY_GOAL, || {
            usize::from(vendor_catalog().detection("elastic", "6926b708-7964-425f-bed8-6e006379df08").is_ok())
        }),
        Query::new("coverage for splunk+sentinel, Enterprise", COVERAGE_GOAL, || {
            full_catalog().stack_coverage(&request).unwrap().techniques.len()
        }),
        Query::new("coverage layer for splunk+sentinel, Enterprise", COVERAGE_GOAL, || {
            full_catalog().stack_layer(&request, Some("https://ruledex.example.org")).unwrap().files[0].bytes.len()
        }),
        Query::new("coverage of group APT29 for splunk+sentinel", COVERAGE_GOAL, || {
            let apt29 = ObjectRequest { name: "APT29".into(), stack: Some(stack.clone()) };
            full_catalog().attack_object_page(ObjectKind::Group, &apt29).unwrap().techniques.len()
        }),
    ];
    for query in queries.iter().filter(|q| q.name.contains(filter.as_str())) {
        measure(query.name, query.goal, &query.run);
    }
}

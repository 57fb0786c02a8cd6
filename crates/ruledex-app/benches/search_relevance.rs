//! Search relevance and latency over the relevance suite (tests/relevance.toml) on the catalog of
//! every corpus in ../shared.
//!
//! `cargo bench -p ruledex-app --bench search_relevance` builds the catalog the way `ruledex
//! sync` does, then runs each search of the suite through the query service many times and
//! prints, per search, precision at 10 (the share of the first page about what was searched
//! for, as the suite judges it), the median and 95th percentile latency, and the mean time the
//! search thread spent on a CPU (Linux's schedstat: unlike wall time, it does not count waiting
//! for a core, which on a shared 2-core machine is most of the spread); then the suite's mean
//! precision at 10, the median over the suite's searches (target: under 1 ms), the median of the
//! misspelled ones, which are corrected (target: under 5 ms), and the one-off cost of the first
//! correction on a newly opened catalog, which loads the vocabulary.
#![allow(clippy::unwrap_used)] // a benchmark on broken data should stop loudly

#[path = "../tests/relevance_suite/mod.rs"]
mod relevance_suite;

use std::time::{Duration, Instant};

use relevance_suite::{Case, build_catalog, suite};
use ruledex_app::Catalog;

const RUNS: usize = 200;

// The same allocator as the ruledex binary, so the figures are the shipped ones.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Median and 95th percentile of `RUNS` searches, and their mean time on a CPU.
fn latency(catalog: &Catalog, case: &Case) -> (Duration, Duration, Duration) {
    let on_cpu_before = on_cpu();
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(case.search(catalog));
            started.elapsed()
        })
        .collect();
    let on_cpu = (on_cpu() - on_cpu_before) / RUNS as u32;
    times.sort();
    (times[RUNS / 2], times[RUNS * 95 / 100], on_cpu)
}

/// How long this thread has run on a CPU (the first field of /proc/thread-self/schedstat, in
/// nanoseconds).
fn on_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").expect("Linux schedstat");
    Duration::from_nanos(stat.split_whitespace().next().and_then(|n| n.parse().ok()).expect("schedstat's first field"))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let catalog = build_catalog(dir.path());
    let suite = suite();
    let (mut precision_sum, mut all, mut corrected, mut cpu) = (0.0, Vec::new(), Vec::new(), Vec::new());
    for case in &suite.cases {
        let results = case.search(&catalog);
        let precision = case.precision_at_10(&results);
        let (p50, p95, on_cpu) = latency(&catalog, case);
        let expected = format!("{}/{}", case.first_page.len() - case.missing(&results).len(), case.first_page.len());
        println!(
            "{:<40} {:>5} results   expected on page 1 {expected:>5}   P@10 {precision:>4.2}   median {:>7.3} ms   p95 {:>7.3} ms   on CPU {:>7.3} ms",
            format!("{:?}", case.query),
            results.total,
            ms(p50),
            ms(p95),
            ms(on_cpu)
        );
        precision_sum += precision;
        all.push(p50);
        cpu.push(on_cpu);
        if case.corrected.is_some() {
            corrected.push(p50);
        }
    }
    let first_correction = {
        let fresh = Catalog::open(catalog.path(), ruledex_app::CatalogOptions::default()).unwrap();
        let case = suite.cases.iter().find(|c| c.corrected.is_some()).expect("a misspelled search");
        let started = Instant::now();
        case.search(&fresh);
        started.elapsed()
    };
    println!(
        "\n{} searches: mean P@10 {:.3}; median latency {:.3} ms (target < 1 ms), on CPU {:.3} ms; misspelled, corrected: median {:.3} ms (target < 5 ms); first correction on a new catalog (loads the vocabulary) {:.3} ms",
        suite.cases.len(),
        precision_sum / suite.cases.len() as f64,
        ms(median(all)),
        ms(median(cpu)),
        ms(median(corrected)),
        ms(first_correction)
    );
}

//! Expanding the macros of every Splunk ESCU search in ../shared.
//!
//! `cargo bench -p ruledex-core --bench splunk_macros` ingests the ESCU corpus once, builds the
//! macro table from its `macros/*.yml`, then expands every detection's search, RUNS times, and
//! prints the median and slowest run. Target: median under 200 ms for the whole corpus.
#![allow(clippy::unwrap_used)] // a benchmark on broken data should stop loudly

use std::path::Path;
use std::time::{Duration, Instant};

use ruledex_core::attack::AttackCatalog;
use ruledex_core::ingest::{ReadLimits, SourceSpec, ingest};
use ruledex_core::model::SourceKind;
use ruledex_core::sources::Format;
use ruledex_core::sources::splunk::is_macro_file;
use ruledex_core::sources::splunk::macros::{MacroTable, expand, keep_none};

const RUNS: usize = 15;

// The same allocator as the ruledex binary, so the figures are the shipped ones.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let spec = SourceSpec {
        name: "splunk".into(),
        format: Format::SplunkEscu,
        kind: SourceKind::Vendor,
        root: Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/splunk-security-content"),
        license: None,
        repository: None,
        commit: None,
        limits: ReadLimits::default(),
    };
    let source = ingest(&spec, &AttackCatalog::default(), &|_| {}).unwrap();
    let macro_files =
        source.assets.iter().filter(|a| is_macro_file(&a.path)).map(|a| (a.path.as_str(), a.text.as_str()));
    let (table, failures) = MacroTable::read_escu(macro_files);
    assert!(failures.is_empty(), "{failures:?}");
    let searches: Vec<&str> = source.detections.iter().map(|d| d.rule.query.as_str()).collect();
    let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
    let mut bytes = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        bytes = searches.iter().map(|s| std::hint::black_box(expand(s, &table, &keep_none).unwrap()).text.len()).sum();
        times.push(started.elapsed());
    }
    times.sort();
    let median = times[RUNS / 2];
    println!(
        "expand {} ESCU searches ({bytes} bytes expanded), {RUNS} runs: median {:.2} ms, slowest {:.2} ms, median/200ms target {:.3}",
        searches.len(),
        median.as_secs_f64() * 1e3,
        times[RUNS - 1].as_secs_f64() * 1e3,
        median.as_secs_f64() / 0.2
    );
}

//! Loading the three real ATT&CK bundles in ../shared/attack into an `AttackCatalog`.
//!
//! `cargo bench -p ruledex-core --bench attack_load [RUNS]` loads them RUNS times (default 7)
//! and prints the median and the fastest run. Sync loads ATT&CK once, before every source, so
//! this time is paid by every sync.
#![allow(clippy::unwrap_used)] // a benchmark on broken data should stop loudly

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ruledex_core::attack::{AttackCatalog, Domain};

// The same allocator as the ruledex binary, so the figures are the shipped ones.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn bundles() -> Vec<(Domain, PathBuf)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/attack");
    vec![
        (Domain::Enterprise, dir.join("enterprise-attack.json")),
        (Domain::Ics, dir.join("ics-attack.json")),
        (Domain::Mobile, dir.join("mobile-attack.json")),
    ]
}

fn main() {
    // `cargo bench` passes `--bench`; the first number among the arguments is the run count.
    let runs = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(7usize);
    let bundles = bundles();
    let refs: Vec<(Domain, &Path)> = bundles.iter().map(|(d, p)| (*d, p.as_path())).collect();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            let catalog = AttackCatalog::load(&refs).unwrap();
            let elapsed = started.elapsed();
            std::hint::black_box(catalog);
            elapsed
        })
        .collect();
    times.sort();
    println!(
        "AttackCatalog::load, 3 bundles, {runs} runs: median {:.0} ms, fastest {:.0} ms",
        times[runs / 2].as_secs_f64() * 1000.0,
        times[0].as_secs_f64() * 1000.0
    );
}

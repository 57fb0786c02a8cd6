//! The search relevance suite: real searches (relevance.toml) and what a detection engineer
//! expects of each, run against the catalog of every corpus in the test data, built the way
//! `ruledex sync` builds it. Shared by the test (tests/relevance.rs), which asserts the expected
//! detections are on the first page, and the benchmark (benches/search_relevance.rs), which
//! reports precision at 10 and latency.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use ruledex_app::config::Config;
use ruledex_app::request::{Page, SearchRequest};
use ruledex_app::wire::{DetectionJson, SearchJson};
use ruledex_app::{Catalog, CatalogOptions};
use ruledex_core::words::{stem, words};
use serde::Deserialize;

/// The first page, as precision at 10 counts it.
pub const FIRST_PAGE: usize = 10;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suite {
    #[serde(rename = "case")]
    pub cases: Vec<Case>,
}

/// One search and what is expected of it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub query: String,
    /// Detections (`SOURCE/ID`) a user expects on the first page.
    pub first_page: Vec<String>,
    /// What a relevant result is about: it is relevant when its title or description has every
    /// word (in any form) of one of these.
    pub about: Vec<String>,
    /// The corrected search, for a misspelled one.
    #[serde(default)]
    pub corrected: Option<String>,
}

pub fn suite() -> Suite {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/relevance.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

impl Case {
    pub fn search(&self, catalog: &Catalog) -> SearchJson {
        let request = SearchRequest { page: Page::first(FIRST_PAGE), ..SearchRequest::new(&self.query) };
        catalog.search(&request).unwrap_or_else(|e| panic!("{:?}: {e}", self.query))
    }

    /// Whether a result is about what the search is after.
    pub fn is_relevant(&self, detection: &DetectionJson) -> bool {
        let text = format!("{} {}", detection.title, detection.description);
        let stems: HashSet<String> = words(&text).map(stem).collect();
        self.about.iter().any(|about| words(about).all(|w| stems.contains(&stem(w))))
    }

    /// The expected detections missing from the first page.
    pub fn missing<'a>(&'a self, results: &SearchJson) -> Vec<&'a str> {
        let shown: Vec<String> = results.detections.iter().take(FIRST_PAGE).map(|h| address(&h.detection)).collect();
        self.first_page.iter().filter(|a| !shown.contains(a)).map(String::as_str).collect()
    }

    /// The share of the first page's results (at most 10) that are relevant; 0 for none.
    pub fn precision_at_10(&self, results: &SearchJson) -> f64 {
        let page = &results.detections[..results.detections.len().min(FIRST_PAGE)];
        let relevant = page.iter().filter(|h| self.is_relevant(&h.detection)).count();
        if page.is_empty() { 0.0 } else { relevant as f64 / page.len() as f64 }
    }
}

/// `SOURCE/ID`.
pub fn address(detection: &DetectionJson) -> String {
    format!("{}/{}", detection.source, detection.id)
}

/// The catalog of every source of examples/local-mirrors.toml, built into `dir`.
pub fn build_catalog(dir: &Path) -> Catalog {
    let config = Config::load(&local_mirrors(dir)).expect("examples/local-mirrors.toml");
    let summary = ruledex_app::sync::run(&config, &dir.join("data"), &ruledex_app::sync::Quiet).expect("sync");
    Catalog::open(&summary.catalog, CatalogOptions::default()).expect("open the catalog")
}

/// examples/local-mirrors.toml, whose paths name `../../shared` from its folder, copied beside a
/// link to the test data: `RULEDEX_TEST_DATA` when set (scripts/test.sh sets it), else
/// ../shared beside the checkout.
fn local_mirrors(dir: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let shared = std::env::var_os("RULEDEX_TEST_DATA")
        .filter(|d| !d.is_empty())
        .map_or_else(|| root.join("../shared"), PathBuf::from);
    let examples = dir.join("checkout/examples");
    std::fs::create_dir_all(&examples).expect("a temporary folder");
    std::os::unix::fs::symlink(std::path::absolute(shared).expect("test data path"), dir.join("shared"))
        .expect("a link to the test data");
    let config = examples.join("local-mirrors.toml");
    std::fs::copy(root.join("examples/local-mirrors.toml"), &config).expect("examples/local-mirrors.toml");
    config
}

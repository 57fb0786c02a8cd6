//! Search relevance on the real corpora: for every search of tests/relevance.toml, the
//! detections a user expects are on the first page, a misspelled search is corrected as
//! expected, and most of the first page is about what was searched for.
#![allow(clippy::unwrap_used)] // a broken setup should stop the test loudly

mod relevance_suite;

use relevance_suite::{Case, FIRST_PAGE, address, build_catalog, suite};
use ruledex_app::wire::SearchJson;

/// Below this, a first page is mostly noise (the benchmark reports the precision itself).
const MIN_PRECISION_AT_10: f64 = 0.5;

/// Whether the first page is good enough: mostly about the search, or, when fewer detections
/// match every word than a page holds (weaker matches then fill it whatever the ranking does),
/// with the relevant results mostly ranked first (R-precision).
fn first_page_is_good(case: &Case, results: &SearchJson) -> bool {
    let short = results.total_every_word < FIRST_PAGE;
    case.precision_at_10(results) >= MIN_PRECISION_AT_10 || (short && case.r_precision(results) >= MIN_PRECISION_AT_10)
}

#[test]
fn every_search_of_the_suite_puts_what_users_expect_on_the_first_page() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = build_catalog(dir.path());
    let suite = suite();
    assert!(suite.cases.len() >= 30, "the suite holds at least 30 searches");
    let mut failures = Vec::new();
    for case in &suite.cases {
        let results = case.search(&catalog);
        let missing = case.missing(&results);
        let precision = case.precision_at_10(&results);
        if !missing.is_empty() || results.corrected_query != case.corrected || !first_page_is_good(case, &results) {
            failures.push(format!(
                "{:?}: missing {missing:?}, corrected to {:?} (expected {:?}), precision at 10 {precision:.1}; first page:{}",
                case.query,
                results.corrected_query,
                case.corrected,
                describe(&results)
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} searches fail:\n{}", failures.len(), suite.cases.len(), failures.join("\n"));
}

/// The first page as addresses with titles, for messages.
fn describe(results: &SearchJson) -> String {
    results.detections.iter().map(|h| format!("\n  {} | {}", address(&h.detection), h.detection.title)).collect()
}

//! ruledex-core's integration tests on the real upstream corpora and ATT&CK bundles in ../shared
//! and the fixtures in tests/fixtures, built as one test binary: the crate and its dependencies
//! are linked once, not once per file.

mod common;
mod oracle;

mod attack;
mod corpus;
mod export;
mod navigator;
mod next_release;
mod oracles;
mod panther_export;
mod panther_fixtures;
mod splunk_app;
mod splunk_macros;

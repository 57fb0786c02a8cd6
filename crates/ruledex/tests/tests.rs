//! End-to-end tests of the `ruledex` binary: real processes, real SQLite files, real git
//! repositories, the real upstream corpora in ../shared and the fixtures in tests/fixtures.

#![allow(clippy::unwrap_used)] // test helpers panic on broken setups by design

mod util;

mod bad_input;
mod connections;
mod corpus;
mod coverage;
mod export;
mod first_hour;
mod history;
mod hostile_config;
mod markup;
mod mcp;
mod mcp_http;
mod parity;
mod readme;
mod serve;
mod sources;
mod sync;

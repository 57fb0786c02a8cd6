//! The web catalog over real HTTP on loopback: catalogs built from ../shared and from the
//! fixtures in tests/fixtures, served by the real router.
#![allow(clippy::unwrap_used)] // test helpers panic on broken setups by design

mod util;

mod bounded;
mod browser;
mod coverage;
mod hardening;
mod history;
mod http;
mod openapi;
mod openapi_fuzz;
mod security;

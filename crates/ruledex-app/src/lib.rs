//! ruledex-app: the application between the catalog and its front ends.
//!
//! It owns what the CLI, the web server and the MCP server share: the configuration
//! ([`config`]), getting sources onto disk ([`fetch`]), building a catalog ([`sync`]), and the
//! query service they all call. Front ends parse requests and format answers; what a query
//! means is decided here, once.

pub mod changes;
pub mod config;
pub mod coverage;
pub mod export;
pub mod fetch;
pub mod fingerprint;
pub mod links;
pub mod openapi;
pub mod service;
pub mod sync;
mod technique_search;
pub mod wire;

pub use service::{Answer, Catalog, ServiceError, Suggestion};
#[cfg(test)]
mod testing;

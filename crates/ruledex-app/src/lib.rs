//! ruledex-app: the application between the catalog and its front ends.
//!
//! It owns what the CLI, the web server and the MCP server share: the configuration
//! ([`config`]), getting sources onto disk ([`fetch`]), building a catalog ([`sync`]), the
//! catalog's lifecycle ([`lifecycle`]), the request vocabulary every front end parses with
//! ([`request`]), and the query service they all call ([`Catalog`]), which answers with the wire
//! types of [`wire`]. Front ends parse requests and format answers; what a query means is
//! decided here, once. The store is private to this crate.

pub mod changes;
pub mod config;
pub mod coverage;
pub mod export;
pub mod fetch;
pub mod fingerprint;
pub mod lifecycle;
pub mod links;
mod listing;
pub mod openapi;
pub mod request;
pub mod service;
pub mod sync;
mod technique_search;
mod views;
pub mod wire;

pub use lifecycle::{CatalogOptions, LiveCatalog, Opened, Unavailable};
pub use service::{Answer, Catalog, ServiceError, Suggestion};
#[cfg(test)]
mod testing;

//! ruledex-mcp: the catalog for AI assistants, over the Model Context Protocol.
//!
//! [`Server`] is one MCP server (an `rmcp` [`ServerHandler`](rmcp::ServerHandler)) over the
//! catalog of a `ruledex_app::LiveCatalog` (the one lifecycle every front end shares): tools ([`tools`]) that answer with the same JSON
//! as the CLI's `--json` (the wire types of `ruledex_app::wire`, whose schemas are the tools'
//! output schemas) plus a short text summary; detections and technique pages as resources;
//! argument completion for technique IDs and names, sources and detection addresses; and two
//! prompts that use them.
//!
//! Two transports are wired here: [`stdio`] (`ruledex mcp`, which opens the catalog, or builds
//! it with progress sent as MCP log messages) and [`http`] (a tower service the web server
//! mounts at `/mcp`, read-only tools only). What a query means is decided by the query service
//! (`ruledex_app::Catalog`); this crate turns arguments into its calls and its answers into MCP
//! results.

mod complete;
pub mod http;
mod prompts;
mod resources;
mod server;
pub mod stdio;
mod text;
pub mod tools;
mod uri;

pub use server::{Access, Server};

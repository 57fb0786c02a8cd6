//! MCP over Streamable HTTP: a tower service the web server mounts at `/mcp`.
//!
//! It answers statelessly (no sessions to keep: every request stands alone, answered with JSON),
//! offers the read-only tools only, and accepts only the `Host` names it is told, loopback ones
//! always, so a page in a browser cannot reach it through DNS rebinding.

use std::sync::Arc;

use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use ruledex_app::LiveCatalog;
use tokio::sync::Semaphore;

use crate::server::{Access, CATALOG_TASKS, Server};

/// The largest request body accepted (a tool call's arguments are small).
const MAX_REQUEST_BYTES: usize = 256 * 1024;

/// The `/mcp` service over the catalog `live` holds. `hosts` are the `Host` names (or
/// `host:port`) it answers besides loopback ones: the names a team uses to reach the server.
pub fn service(live: Arc<LiveCatalog>, hosts: &[String]) -> StreamableHttpService<Server, NeverSessionManager> {
    let tasks = Arc::new(Semaphore::new(CATALOG_TASKS));
    let mut allowed: Vec<String> = ["localhost", "127.0.0.1", "::1", "[::1]"].map(String::from).to_vec();
    allowed.extend(hosts.iter().cloned());
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_allowed_hosts(allowed)
        .with_max_request_body_bytes(MAX_REQUEST_BYTES);
    StreamableHttpService::new(
        move || Ok(Server::with_tasks(Arc::clone(&live), Access::Shared, Arc::clone(&tasks))),
        Arc::new(NeverSessionManager::default()),
        config,
    )
}

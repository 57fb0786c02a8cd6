//! The MCP server: one `rmcp` handler answering tools, resources, prompts and completions from
//! the current generation of a [`LiveCatalog`].
//!
//! Catalog work runs on blocking threads, at most [`CATALOG_TASKS`] at once, so the protocol
//! keeps flowing (pings, cancellations, other calls) while a query runs. A panic in a query
//! becomes an error result; nothing a client sends stops the server.

// MCP logging is deprecated by SEP-2577 in newer protocol versions, but it is what clients show
// for a server's progress today (the catalog's first build).
#![allow(deprecated)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CompleteRequestParams, CompleteResult, ContentBlock,
    ErrorData as McpError, GetPromptRequestParams, GetPromptResponse, Implementation, InitializeResult,
    ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, LoggingLevel,
    PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, ResourceContents,
    ServerCapabilities, SetLevelRequestParams, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, ServerHandler};
use ruledex_app::{Catalog, LiveCatalog, ServiceError};
use tokio::sync::Semaphore;

use crate::tools::{self, Definition, ToolError};
use crate::{complete, prompts, resources, uri};

/// Catalog work running at once (the store opens as many connections).
pub const CATALOG_TASKS: usize = 4;
/// How long a call waits for its turn before it is told the server is busy.
const QUEUE_WAIT: Duration = Duration::from_secs(20);
/// How long a call waits for a catalog being opened or built before it is told to try later.
const PENDING_WAIT: Duration = Duration::from_secs(30);

const INSTRUCTIONS: &str = "ruledex is a catalog of vendor-native security detections (Google SecOps/Chronicle, \
Splunk, Elastic, Microsoft Sentinel, Sublime, Panther) and community Sigma rules, cross-linked to MITRE ATT&CK. \
Use `technique` for the detections of an ATT&CK technique (sub-techniques rolled up), `search` to find \
detections by what they look for, `show` for one detection's whole rule and paste-ready query, `coverage` \
for the ATT&CK matrix's counts, `export` for detections in a platform's import format, `changes` for what \
syncs found new, changed or removed upstream, and `stats` for the sources and how fresh they are. Detections \
are addressed SOURCE/ID (chronicle/gcti_tor_exit_nodes); their native rule files are resources at \
ruledex://detections/{source}/{id}, technique pages at ruledex://techniques/{id}.";

/// Who the server answers, and so which tools it offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// One user's assistant over stdio: every tool, and log messages.
    Local,
    /// Anyone who reaches a shared server (`/mcp` of `ruledex serve`): read-only tools only.
    Shared,
}

/// The MCP server. Cheap to clone; clones share the catalog and the limit on catalog work.
#[derive(Clone)]
pub struct Server {
    live: Arc<LiveCatalog>,
    access: Access,
    tasks: Arc<Semaphore>,
    log_level: LogLevel,
}

/// The least severe log message the client wants (`logging/setLevel`); shared with whatever
/// sends log messages.
#[derive(Debug, Clone, Default)]
pub struct LogLevel(Arc<AtomicU8>);

impl LogLevel {
    pub fn wants(&self, level: LoggingLevel) -> bool {
        rank(level) >= self.0.load(Ordering::Relaxed)
    }

    fn set(&self, level: LoggingLevel) {
        self.0.store(rank(level), Ordering::Relaxed);
    }
}

fn rank(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}

impl Server {
    pub fn new(live: Arc<LiveCatalog>, access: Access) -> Server {
        Server::with_tasks(live, access, Arc::new(Semaphore::new(CATALOG_TASKS)))
    }

    /// A server sharing `tasks` (the limit on catalog work) with others: the HTTP transport
    /// makes one per request.
    pub fn with_tasks(live: Arc<LiveCatalog>, access: Access, tasks: Arc<Semaphore>) -> Server {
        Server { live, access, tasks, log_level: LogLevel::default() }
    }

    pub fn log_level(&self) -> LogLevel {
        self.log_level.clone()
    }

    fn tools(&self) -> impl Iterator<Item = &'static Definition> + '_ {
        tools::TOOLS.iter().filter(|t| self.access == Access::Local || t.read_only)
    }

    fn tool_definition(&self, name: &str) -> Option<&'static Definition> {
        self.tools().find(|t| t.name == name)
    }

    /// Runs `work` on the catalog on a blocking thread, waiting there for a catalog that is
    /// still being opened or built: the wait ends the moment it is ready (the lifecycle notifies
    /// its waiters), or after [`PENDING_WAIT`].
    async fn with_catalog<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Catalog) -> T + Send + 'static,
    ) -> Result<T, String> {
        let Ok(Ok(_permit)) = tokio::time::timeout(QUEUE_WAIT, self.tasks.acquire()).await else {
            return Err("ruledex is busy answering other calls; try again in a moment".into());
        };
        let live = Arc::clone(&self.live);
        let answer = tokio::task::spawn_blocking(move || {
            let catalog = live.wait(PENDING_WAIT).map_err(|unavailable| unavailable.to_string())?;
            Ok(work(&catalog))
        });
        answer
            .await
            .unwrap_or_else(|error| Err(format!("internal error: the query failed ({error}); other calls still work")))
    }
}

fn error_result(message: String) -> CallToolResponse {
    CallToolResult::error(vec![ContentBlock::text(message)]).into()
}

fn service_error(error: ServiceError) -> McpError {
    let message = ToolError::from(error.clone()).0;
    match error {
        ServiceError::NotFound { .. } => McpError::resource_not_found(message, None),
        ServiceError::Invalid(_) | ServiceError::BadRequest(_) | ServiceError::Ambiguous { .. } => {
            McpError::invalid_params(message, None)
        }
        ServiceError::Unavailable(_) | ServiceError::Internal(_) => McpError::internal_error(message, None),
    }
}

impl ServerHandler for Server {
    fn get_info(&self) -> InitializeResult {
        let mut capabilities = ServerCapabilities::builder()
            .enable_completions()
            .enable_prompts()
            .enable_resources()
            .enable_tools()
            .build();
        if self.access == Access::Local {
            capabilities.logging = Some(Default::default());
        }
        InitializeResult::new(capabilities)
            .with_server_info(
                Implementation::new("ruledex", env!("CARGO_PKG_VERSION"))
                    .with_title("ruledex")
                    .with_description("Vendor-native security detections, cross-linked to MITRE ATT&CK"),
            )
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.tools().map(|t| t.tool().clone()).collect()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tool_definition(name).map(|t| t.tool().clone())
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let Some(definition) = self.tool_definition(&request.name) else {
            let names: Vec<&str> = self.tools().map(|t| t.name).collect();
            return Err(McpError::invalid_params(
                format!("ruledex has no tool {:?}; its tools are {}", request.name, names.join(", ")),
                None,
            ));
        };
        let arguments = serde_json::Value::Object(request.arguments.unwrap_or_default());
        let arguments = match definition.parse(arguments) {
            Ok(arguments) => arguments,
            Err(ToolError(message)) => return Ok(error_result(message)),
        };
        match self.with_catalog(move |catalog| definition.run(catalog, &arguments)).await {
            Ok(Ok(answer)) => {
                let mut result = CallToolResult::structured(answer.structured);
                let files = answer.files.into_iter().map(|file| {
                    let mime = if file.path.ends_with(".json") { "application/json" } else { "text/plain" };
                    let text = String::from_utf8_lossy(&file.bytes).into_owned();
                    ContentBlock::resource(
                        ResourceContents::text(text, uri::export_uri(&file.path)).with_mime_type(mime),
                    )
                });
                result.content = std::iter::once(ContentBlock::text(answer.summary)).chain(files).collect();
                Ok(result.into())
            }
            Ok(Err(ToolError(message))) | Err(message) => Ok(error_result(message)),
        }
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let cursor = request.and_then(|r| r.cursor);
        let listed = self.with_catalog(move |catalog| resources::list(catalog, cursor.as_deref())).await;
        match listed {
            Ok(Ok((items, next))) => {
                let mut result = ListResourcesResult::with_all_items(items);
                result.next_cursor = next;
                Ok(result)
            }
            Ok(Err(ToolError(message))) => Err(McpError::invalid_params(message, None)),
            Err(message) => Err(McpError::internal_error(message, None)),
        }
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Ok(ListResourceTemplatesResult::with_all_items(resources::templates()))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let uri = request.uri;
        let named = resources::parse(&uri).map_err(|message| McpError::resource_not_found(message, None))?;
        let read = self.with_catalog(move |catalog| resources::read(catalog, &uri, named)).await;
        match read {
            Ok(Ok(contents)) => Ok(ReadResourceResult::new(vec![contents]).into()),
            Ok(Err(error)) => Err(service_error(error)),
            Err(message) => Err(McpError::internal_error(message, None)),
        }
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, McpError> {
        match self.with_catalog(move |catalog| complete::complete(catalog, &request)).await {
            Ok(Ok(completion)) => Ok(CompleteResult::new(completion)),
            Ok(Err(error)) => Err(service_error(error)),
            Err(message) => Err(McpError::internal_error(message, None)),
        }
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        Ok(ListPromptsResult::with_all_items(prompts::list()))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        prompts::get(&request.name, request.arguments.as_ref())
            .map(Into::into)
            .map_err(|message| McpError::invalid_params(message, None))
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.log_level.set(request.level);
        Ok(())
    }
}

//! The request vocabulary: every parameter a front end passes to the service, described once.
//!
//! Each parameter is a [`Param`]: its names (in query strings, in JSON arguments, on the command
//! line), what values it takes, its default and its help text. Each question the service answers
//! is an [`Operation`] listing its parameters ([`vocabulary`]). From those descriptions come the
//! query-string parsing of the web and API, the clap arguments of the CLI, the MCP tools' input
//! schemas and argument parsing, and the OpenAPI document's parameters: a front end turns what
//! it received into name and value pairs, [`Arguments::check`] checks them against the
//! operation (the same defaults, ranges and error messages everywhere), and the typed requests
//! of [`selection`] read them.
//!
//! Adding a filter is one [`Param`] in [`vocabulary`], its place in [`selection::Filters`], and
//! its SQL (or in-memory test) in the store.

mod arguments;
mod param;
pub mod selection;
pub mod vocabulary;

pub use arguments::{Arguments, RequestError, Unknown, closest};
pub use param::{FLAG_NO, FLAG_YES, Kind, Operation, Param, Spelling};
pub use selection::{
    ChangesRequest, CoverageRequest, ExportRequest, Filters, ObjectRequest, Page, Scope, SearchRequest, Selection,
    Stack, SuggestRequest, TechniqueRequest,
};

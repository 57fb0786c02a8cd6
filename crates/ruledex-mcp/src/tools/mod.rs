//! The tools: each a question of the query service, its input schema made from the request
//! vocabulary's description of the question (`ruledex_app::request::vocabulary`), a description
//! written for a model, a wire type of `ruledex_app::wire` as its output (its schema is the
//! output schema, its JSON the CLI's `--json`), and a short text summary beside it.
//!
//! A tool checks its arguments with the same vocabulary every front end uses, makes one call of
//! the query service, and never decides what a query means. Bad arguments and unanswerable
//! questions come back as tool errors (`isError`) whose text says what to change: the argument,
//! its range, the closest names. One module per capability: listings (`technique`, `search`),
//! the catalog (`show`, `stats`), coverage (`coverage`, `stack_coverage`, `group`), `export` and
//! `changes`.

mod catalog;
mod changes;
mod coverage;
mod export;
mod listing;

use std::sync::{Arc, OnceLock};

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use ruledex_app::request::{Arguments, Operation, RequestError, Spelling, Unknown};
use ruledex_app::{Catalog, ServiceError};
use ruledex_core::export::ExportFile;
use schemars::JsonSchema;
use serde_json::Value;

pub use export::{MAX_EXPORT_BYTES, MAX_EXPORT_DETECTIONS};

/// What a tool answered: the wire JSON, a short text for clients that show only text, and the
/// files it carries besides (a Navigator layer).
pub struct Answer {
    pub structured: Value,
    pub summary: String,
    pub files: Vec<ExportFile>,
}

/// Why a tool could not answer, in words a model can act on.
pub struct ToolError(pub String);

impl From<RequestError> for ToolError {
    fn from(error: RequestError) -> ToolError {
        ToolError(error.spelled(Spelling::Json))
    }
}

impl From<ServiceError> for ToolError {
    fn from(error: ServiceError) -> ToolError {
        if let ServiceError::Invalid(invalid) = error {
            return invalid.into();
        }
        // The message names the closest matches itself; web suggestions (pages to go to) become
        // the tool that answers the same question, and several candidates the addresses to give.
        let mut message = error.to_string();
        for suggestion in error.suggestions() {
            if suggestion.href == ruledex_app::links::SOURCES {
                message.push_str("; `stats` lists the sources");
            } else if suggestion.href.starts_with("/search?") {
                message.push_str("; `search` may find it by words of its title or query");
            }
        }
        if let ServiceError::Ambiguous { candidates, .. } = &error {
            let addresses: Vec<String> = candidates
                .iter()
                .map(|c| format!("{}/{} · {}", c.source, c.id, crate::text::inert(&c.title)))
                .collect();
            message.push_str(&format!(". Give one of these addresses: {}", addresses.join("; ")));
        }
        ToolError(message)
    }
}

/// A tool: its name, the question it asks, how it is described, and how it answers.
pub struct Definition {
    pub name: &'static str,
    /// True for tools that only read the catalog: the only ones a shared server offers.
    pub read_only: bool,
    operation: &'static Operation,
    tool: fn() -> Tool,
    run: fn(&Catalog, &Arguments) -> Result<Answer, ToolError>,
}

impl Definition {
    /// The tool as `tools/list` describes it (made once: schemas take a while to generate).
    pub fn tool(&self) -> &'static Tool {
        static MADE: OnceLock<Vec<Tool>> = OnceLock::new();
        let made = MADE.get_or_init(|| TOOLS.iter().map(|t| (t.tool)()).collect());
        let index = TOOLS.iter().position(|t| t.name == self.name).unwrap_or_default();
        &made[index]
    }

    /// The call's arguments, checked against the tool's question: unknown arguments refused.
    pub fn parse(&self, arguments: Value) -> Result<Arguments, ToolError> {
        let Value::Object(arguments) = arguments else {
            return Err(ToolError(format!("the arguments of `{}` are an object of named values", self.name)));
        };
        let mut pairs = Vec::new();
        for (name, value) in arguments {
            named_values(&name, value, &mut pairs)?;
        }
        Arguments::check(self.operation, pairs, Spelling::Json, Unknown::Refuse)
            .map_err(|e| ToolError(format!("invalid arguments for `{}`: {}", self.name, e.spelled(Spelling::Json))))
    }

    /// Answers the call from `catalog` (catalog work: run it on a blocking thread).
    pub fn run(&self, catalog: &Catalog, arguments: &Arguments) -> Result<Answer, ToolError> {
        (self.run)(catalog, arguments)
    }
}

/// A JSON argument as the name and value pairs the vocabulary checks: a list gives one pair per
/// item, a switch `true` or `false`, a number its digits.
fn named_values(name: &str, value: Value, pairs: &mut Vec<(String, String)>) -> Result<(), ToolError> {
    match value {
        Value::Null => {}
        Value::String(text) => pairs.push((name.to_string(), text)),
        Value::Bool(on) => pairs.push((name.to_string(), on.to_string())),
        Value::Number(number) => pairs.push((name.to_string(), number.to_string())),
        Value::Array(items) => {
            for item in items {
                if matches!(item, Value::Array(_) | Value::Object(_)) {
                    return Err(ToolError(format!("`{name}` holds names, not nested lists or objects")));
                }
                named_values(name, item, pairs)?;
            }
        }
        Value::Object(_) => return Err(ToolError(format!("`{name}` is a value or a list, not an object"))),
    }
    Ok(())
}

/// Every tool ruledex offers.
pub const TOOLS: &[Definition] = &[
    listing::TECHNIQUE,
    listing::SEARCH,
    catalog::SHOW,
    catalog::STATS,
    coverage::COVERAGE,
    coverage::STACK_COVERAGE,
    coverage::GROUP,
    export::EXPORT,
    changes::CHANGES,
];

pub fn find(name: &str) -> Option<&'static Definition> {
    TOOLS.iter().find(|t| t.name == name)
}

/// A tool of `operation` answering with `Out`, read-only.
fn tool<Out: JsonSchema + 'static>(
    name: &'static str,
    operation: &'static Operation,
    title: &str,
    description: &'static str,
) -> Tool {
    let schema: JsonObject = operation.json_schema();
    Tool::new(name, description, Arc::new(schema)).with_title(title).with_output_schema::<Out>().with_annotations(
        ToolAnnotations::with_title(title).read_only(true).destructive(false).idempotent(true).open_world(false),
    )
}

/// The answer of a wire type, with its text summary.
fn answer<T: serde::Serialize>(json: &T, summary: String) -> Result<Answer, ToolError> {
    let structured = serde_json::to_value(json)
        .map_err(|e| ToolError(format!("internal error: the answer could not be serialized: {e}")))?;
    Ok(Answer { structured, summary, files: vec![] })
}

//! The tools: each an input type (its JSON Schema is the tool's input schema), a description
//! written for a model, a wire type of `ruledex_app::wire` as its output (its schema is the
//! output schema, its JSON the CLI's `--json`), and a short text summary beside it.
//!
//! A tool turns its arguments into one call of the query service and never decides what a query
//! means. Bad arguments and unanswerable questions come back as tool errors (`isError`) whose
//! text says what to change: the field, the maximum, the closest matches.

use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use ruledex_app::changes::ChangeRequest;
use ruledex_app::coverage::{CoverageRequest, Stack};
use ruledex_app::export::{ExportFormat, Selection};
use ruledex_app::wire::{
    AttackObjectPageJson, ChangesJson, CoverageJson, CoverageStatus, ExportJson, SearchHitJson, SearchJson,
    StackCoverageJson, StatsJson, TechniquePageJson,
};
use ruledex_app::{Catalog, ServiceError};
use ruledex_core::attack::Domain;
use ruledex_core::export::ExportFile;
use ruledex_core::ids::ObjectKind;
use ruledex_core::model::{Language, RuleType, Severity, Status};
use ruledex_core::query::{Filter, SearchQuery};
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::text;

/// The most detections one call lists; more come by paging with `offset`.
pub const MAX_LIMIT: u64 = 100;
const TECHNIQUE_LIMIT: u64 = 10;
const SEARCH_LIMIT: u64 = 10;

/// What a tool answered: the wire JSON, a short text for clients that show only text, and the
/// files it carries besides (a Navigator layer).
pub struct Answer {
    pub structured: Value,
    pub summary: String,
    pub files: Vec<ExportFile>,
}

/// Why a tool could not answer, in words a model can act on.
pub struct ToolError(pub String);

impl From<ServiceError> for ToolError {
    fn from(error: ServiceError) -> ToolError {
        let mut message = error.to_string();
        let mut matches = vec![];
        for suggestion in error.suggestions() {
            // Web suggestions (pages to go to) become the tool that answers the same question.
            if suggestion.href == ruledex_app::links::SOURCES {
                message.push_str("; `stats` lists the sources");
            } else if suggestion.href.starts_with("/search?") {
                message.push_str("; `search` may find it by words of its title or query");
            } else {
                matches.push(suggestion.label);
            }
        }
        if !matches.is_empty() {
            let lead = match error {
                ServiceError::Ambiguous { .. } => "Give one of these addresses",
                _ => "Closest matches",
            };
            message.push_str(&format!(". {lead}: {}", matches.join("; ")));
        }
        ToolError(message)
    }
}

/// One tool call, its arguments parsed and checked.
pub enum Call {
    Technique(TechniqueArgs),
    Search(SearchArgs),
    Show(ShowArgs),
    Stats(StatsArgs),
    Coverage(CoverageArgs),
    StackCoverage(StackCoverageArgs),
    Group(GroupArgs),
    Export(ExportArgs),
    Changes(ChangesArgs),
}

/// A tool's definition and how its calls are parsed.
pub struct Definition {
    pub name: &'static str,
    /// True for tools that only read the catalog: the only ones a shared server offers.
    pub read_only: bool,
    tool: fn() -> Tool,
    parse: fn(&JsonObject, Value) -> Result<Call, ToolError>,
}

impl Definition {
    /// The tool as `tools/list` describes it (made once: schemas take a while to generate).
    pub fn tool(&self) -> &'static Tool {
        static MADE: OnceLock<Vec<Tool>> = OnceLock::new();
        let made = MADE.get_or_init(|| TOOLS.iter().map(|t| (t.tool)()).collect());
        let index = TOOLS.iter().position(|t| t.name == self.name).unwrap_or_default();
        &made[index]
    }

    pub fn parse(&self, arguments: Value) -> Result<Call, ToolError> {
        (self.parse)(&self.tool().input_schema, arguments)
    }
}

/// Every tool ruledex offers.
pub const TOOLS: &[Definition] = &[
    Definition {
        name: "technique",
        read_only: true,
        tool: technique_tool,
        parse: |s, a| parse::<TechniqueArgs>("technique", s, a).map(Call::Technique),
    },
    Definition {
        name: "search",
        read_only: true,
        tool: search_tool,
        parse: |s, a| parse::<SearchArgs>("search", s, a).map(Call::Search),
    },
    Definition {
        name: "show",
        read_only: true,
        tool: show_tool,
        parse: |s, a| parse::<ShowArgs>("show", s, a).map(Call::Show),
    },
    Definition {
        name: "stats",
        read_only: true,
        tool: stats_tool,
        parse: |s, a| parse::<StatsArgs>("stats", s, a).map(Call::Stats),
    },
    Definition {
        name: "coverage",
        read_only: true,
        tool: coverage_tool,
        parse: |s, a| parse::<CoverageArgs>("coverage", s, a).map(Call::Coverage),
    },
    Definition {
        name: "stack_coverage",
        read_only: true,
        tool: stack_coverage_tool,
        parse: |s, a| parse::<StackCoverageArgs>("stack_coverage", s, a).map(Call::StackCoverage),
    },
    Definition {
        name: "group",
        read_only: true,
        tool: group_tool,
        parse: |s, a| parse::<GroupArgs>("group", s, a).map(Call::Group),
    },
    Definition {
        name: "export",
        read_only: true,
        tool: export_tool,
        parse: |s, a| parse::<ExportArgs>("export", s, a).map(Call::Export),
    },
    Definition {
        name: "changes",
        read_only: true,
        tool: changes_tool,
        parse: |s, a| parse::<ChangesArgs>("changes", s, a).map(Call::Changes),
    },
];

pub fn find(name: &str) -> Option<&'static Definition> {
    TOOLS.iter().find(|t| t.name == name)
}

impl Call {
    /// Answers the call from `catalog` (catalog work: run it on a blocking thread).
    pub fn run(self, catalog: &Catalog) -> Result<Answer, ToolError> {
        match self {
            Call::Technique(args) => technique(catalog, args),
            Call::Search(args) => search(catalog, args),
            Call::Show(args) => show(catalog, &args),
            Call::Stats(StatsArgs {}) => stats(catalog),
            Call::Coverage(args) => coverage(catalog, &args),
            Call::StackCoverage(args) => stack_coverage(catalog, &args),
            Call::Group(args) => group(catalog, &args),
            Call::Export(args) => export(catalog, args),
            Call::Changes(args) => changes(catalog, &args),
        }
    }
}

/// Parses arguments, naming the field at fault and the parameters the tool takes.
fn parse<T: DeserializeOwned>(tool: &str, schema: &JsonObject, arguments: Value) -> Result<T, ToolError> {
    // Checked here rather than by serde, which cannot deny unknown fields beside flattened ones.
    let known = schema.get("properties").and_then(Value::as_object);
    if let (Some(arguments), Some(known)) = (arguments.as_object(), known)
        && let Some(unknown) = arguments.keys().find(|key| !known.contains_key(key.as_str()))
    {
        return Err(ToolError(format!(
            "invalid arguments for `{tool}`: there is no argument `{unknown}`. It takes: {}",
            parameters(schema)
        )));
    }
    serde_path_to_error::deserialize(arguments).map_err(|error| {
        let path = error.path().to_string();
        let place = if path == "." { String::new() } else { format!("`{path}`: ") };
        ToolError(format!("invalid arguments for `{tool}`: {place}{}. It takes: {}", error.inner(), parameters(schema)))
    })
}

/// "technique (string, required), exact (boolean), ..." from an input schema.
fn parameters(schema: &JsonObject) -> String {
    let required: Vec<&str> =
        schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else { return "no arguments".into() };
    if properties.is_empty() {
        return "no arguments".into();
    }
    properties
        .iter()
        .map(|(name, property)| {
            let kind = match property.get("type") {
                Some(Value::String(t)) => t.clone(),
                Some(Value::Array(types)) => {
                    types.iter().filter_map(Value::as_str).filter(|t| *t != "null").collect::<Vec<_>>().join("|")
                }
                _ => "value".into(),
            };
            let required = if required.contains(&name.as_str()) { ", required" } else { "" };
            format!("{name} ({kind}{required})")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn input_schema<T: JsonSchema + 'static>() -> Arc<JsonObject> {
    rmcp::handler::server::tool::schema_for_input::<T>().unwrap_or_else(|e| panic!("a tool's input schema: {e}"))
}

fn tool<In: JsonSchema + 'static, Out: JsonSchema + 'static>(
    name: &'static str,
    title: &str,
    description: &'static str,
) -> Tool {
    Tool::new(name, description, input_schema::<In>()).with_title(title).with_output_schema::<Out>().with_annotations(
        ToolAnnotations::with_title(title).read_only(true).destructive(false).idempotent(true).open_world(false),
    )
}

/// Checks a requested page size against the maximum.
fn limit(limit: u64) -> Result<usize, ToolError> {
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ToolError(format!(
            "`limit` {limit} is outside 1..={MAX_LIMIT}: a call lists at most {MAX_LIMIT} detections; \
             ask for the next ones with `offset`"
        )));
    }
    Ok(limit as usize)
}

fn offset(offset: u64) -> usize {
    usize::try_from(offset).unwrap_or(usize::MAX)
}

// ---------------------------------------------------------------------------------------------
// technique

/// Arguments of `technique`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct TechniqueArgs {
    /// The ATT&CK technique: an ID in any spelling (T1090, t1090.003, T1090/003) or a name
    /// ("Proxy", "Proxy: Multi-hop Proxy", "Multi-hop Proxy").
    pub technique: String,
    /// Only detections tagged with this technique itself, not with its sub-techniques.
    #[serde(default)]
    pub exact: bool,
    /// Include community content (Sigma, community KQL). Left out unless asked for here or by
    /// naming sources or vendors.
    #[serde(default)]
    pub community: bool,
    /// Include deprecated detections (left out by default).
    #[serde(default)]
    pub deprecated: bool,
    #[serde(flatten)]
    pub filter: FilterArgs,
    /// Detections to skip, for the next page (the answer's `more` says how many follow).
    #[serde(default)]
    pub offset: u64,
    /// The most detections to list (1-100).
    #[serde(default = "technique_limit")]
    #[schemars(range(min = 1, max = 100))]
    pub limit: u64,
}

fn technique_limit() -> u64 {
    TECHNIQUE_LIMIT
}

/// Filters shared by `technique` and `search`; each list keeps detections matching any of its
/// values.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct FilterArgs {
    /// Only these sources, by configured name (`stats` lists them), e.g. ["chronicle", "splunk"].
    #[serde(default)]
    pub sources: Vec<String>,
    /// Only these vendors, e.g. ["Google SecOps", "Splunk", "Elastic", "Microsoft", "Panther"].
    #[serde(default)]
    pub vendors: Vec<String>,
    /// Only these query languages. `kql` is Elastic's Kibana Query Language, `kusto` is
    /// Microsoft's KQL (Sentinel, Defender).
    #[serde(default)]
    pub languages: Vec<Language>,
    /// Only these severities.
    #[serde(default)]
    pub severities: Vec<Severity>,
    /// Only these rule types.
    #[serde(default)]
    pub types: Vec<RuleType>,
    /// Only these statuses.
    #[serde(default)]
    pub statuses: Vec<Status>,
    /// Only detections needing one of these data sources or integrations.
    #[serde(default)]
    pub data_sources: Vec<String>,
}

impl FilterArgs {
    fn to_filter(&self, deprecated: bool) -> Filter {
        Filter {
            sources: self.sources.clone(),
            vendors: self.vendors.clone(),
            kinds: vec![],
            languages: self.languages.clone(),
            rule_types: self.types.clone(),
            severities: self.severities.clone(),
            // Asking for deprecated rules by status implies showing them.
            include_deprecated: deprecated || self.statuses.contains(&Status::Deprecated),
            statuses: self.statuses.clone(),
            data_sources: self.data_sources.clone(),
        }
    }
}

fn technique_tool() -> Tool {
    tool::<TechniqueArgs, TechniquePageJson>(
        "technique",
        "Detections for an ATT&CK technique",
        "Vendor-native detections (Google SecOps/Chronicle YARA-L, Splunk SPL, Elastic, Microsoft Sentinel KQL, \
         Sublime, Panther) for one MITRE ATT&CK technique, with the technique itself, its sub-techniques and how \
         many detections each has. Use it when asked what detects a technique, how a technique is covered, or for \
         rules to deploy against it. A parent technique includes its sub-techniques' detections unless `exact`. \
         Community content (Sigma) is left out unless `community` is true or sources/vendors name it. Listings \
         carry each detection's summary fields (long texts cut); call `show` with an address for the whole rule \
         and its paste-ready query. The answer says how many detections `more` follow; page with `offset`. \
         Example: {\"technique\": \"T1090\", \"vendors\": [\"Splunk\"], \"limit\": 10}.",
    )
}

fn technique(catalog: &Catalog, args: TechniqueArgs) -> Result<Answer, ToolError> {
    let (offset, limit) = (offset(args.offset), limit(args.limit)?);
    let filter = args.filter.to_filter(args.deprecated).vendor_native_unless_asked(args.community);
    let page = catalog.technique_page(&args.technique, args.exact, &filter)?;
    let mut json =
        TechniquePageJson::new(&page, catalog.attack_version(), Some(args.technique.clone())).paged(offset, limit);
    json.detections = json.detections.into_iter().map(text::listed).collect();
    let summary = technique_summary(&json);
    answer(&json, summary)
}

fn technique_summary(page: &TechniquePageJson) -> String {
    let id = page.id;
    let mut out = String::new();
    if let Some(old) = page.revoked {
        let _ = writeln!(out, "{old} was revoked in ATT&CK and replaced by {id}; showing {id}.");
    }
    match &page.technique {
        Some(t) => {
            let parent = page.parent.as_ref().map(|p| format!("{}: ", p.name)).unwrap_or_default();
            let version = page.attack_version.as_ref().map(|v| format!(" · ATT&CK v{v}")).unwrap_or_default();
            let tactics: Vec<String> = t.tactics.iter().map(ToString::to_string).collect();
            let _ = writeln!(out, "{id} {parent}{}{version} · tactics {} · {}", t.name, tactics.join(", "), t.url);
        }
        None => {
            let _ = writeln!(out, "{id} (not in the loaded ATT&CK data; listed because detections are tagged with it)");
        }
    }
    if !page.subtechniques.is_empty() {
        let subs: Vec<String> =
            page.subtechniques.iter().map(|s| format!("{} {} ({})", s.id, s.name, s.count)).collect();
        let _ = writeln!(out, "Sub-techniques: {}", subs.join(" · "));
    }
    let scope = if page.exact || id.is_subtechnique() { "tagged with it" } else { "with its sub-techniques" };
    let _ = writeln!(out, "{} of {} detections pass the filter ({scope}).", page.shown, page.total);
    if page.inferred > 0 {
        let _ = writeln!(
            out,
            "Of those, {} are listed only through ruledex's mapping of vendor labels, not tagged {id} by the vendor.",
            page.inferred
        );
    }
    if page.hidden_community > 0 {
        let _ = writeln!(out, "+{} community detections: `community: true` includes them.", page.hidden_community);
    }
    if page.hidden_deprecated > 0 {
        let _ = writeln!(out, "+{} deprecated detections: `deprecated: true` includes them.", page.hidden_deprecated);
    }
    page_lines(&mut out, page.detections.iter(), page.offset.unwrap_or(0), page.more.unwrap_or(0));
    out
}

/// The listed detections, one line each, and how to get the next page.
fn page_lines<'a>(
    out: &mut String,
    detections: impl ExactSizeIterator<Item = &'a ruledex_app::wire::DetectionJson>,
    offset: usize,
    more: usize,
) {
    let count = detections.len();
    if count > 0 {
        let _ = writeln!(out, "Listed {}-{}:", offset + 1, offset + count);
    }
    for d in detections {
        let _ = writeln!(out, "{}", text::detection_line(d));
    }
    if more > 0 {
        let _ = writeln!(out, "{more} more: call again with `offset: {}`.", offset + count);
    }
    if count > 0 {
        let _ = writeln!(out, "`show` with an address gives the whole rule and its paste-ready query.");
    }
}

// ---------------------------------------------------------------------------------------------
// search

/// Arguments of `search`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SearchArgs {
    /// Words, "quoted phrases", AND/OR/NOT, prefix*, and field:word for title, description,
    /// query or tags, e.g. `tor exit node` or `title:powershell AND encoded`.
    pub query: String,
    /// Include deprecated detections (left out by default).
    #[serde(default)]
    pub deprecated: bool,
    #[serde(flatten)]
    pub filter: FilterArgs,
    /// Results to skip, for the next page.
    #[serde(default)]
    pub offset: u64,
    /// The most results to list (1-100).
    #[serde(default = "search_limit")]
    #[schemars(range(min = 1, max = 100))]
    pub limit: u64,
}

fn search_limit() -> u64 {
    SEARCH_LIMIT
}

fn search_tool() -> Tool {
    tool::<SearchArgs, SearchJson>(
        "search",
        "Search detections",
        "Full-text search over every detection's title, description, query and tags (vendor-native and \
         community) by word forms, best matches first (title matches, then description and tags, then query \
         text; vendor-native before community), with the passage that matched. A misspelled search that finds \
         almost nothing is corrected: `corrected_query` then says what the results are for. Use it to find rules by what \
         they look for (a tool, a log source, an indicator, an event ID) rather than by ATT&CK technique; use \
         `technique` for a technique. Filters narrow the results; `total` says how many match, page with \
         `offset`. Listings carry summary fields (long texts cut); `show` an address for the whole rule. \
         Example: {\"query\": \"tor exit node\", \"languages\": [\"yara-l\"]}.",
    )
}

fn search(catalog: &Catalog, args: SearchArgs) -> Result<Answer, ToolError> {
    let query = SearchQuery {
        text: args.query.clone(),
        filter: args.filter.to_filter(args.deprecated),
        offset: offset(args.offset),
        limit: limit(args.limit)?,
    };
    let results = catalog.search(&query)?;
    let mut json = catalog.search_json(&query.text, &results);
    json.detections = json
        .detections
        .into_iter()
        .map(|hit| SearchHitJson { detection: text::listed(hit.detection), ..hit })
        .collect();
    let mut summary = match &json.corrected_query {
        Some(corrected) => format!(
            "{:?} finds almost nothing; showing results for {corrected:?}.\n{} detections match {corrected:?}.\n",
            json.query, json.total
        ),
        None => format!("{} detections match {:?}.\n", json.total, json.query),
    };
    let more = json.total.saturating_sub(json.offset + json.detections.len());
    let count = json.detections.len();
    if count > 0 {
        let _ = writeln!(summary, "Listed {}-{}:", json.offset + 1, json.offset + count);
    }
    for hit in &json.detections {
        let _ = writeln!(
            summary,
            "{}\n  {}: {}",
            text::detection_line(&hit.detection),
            hit.matched_field,
            text::line(&hit.snippet, 200)
        );
    }
    if more > 0 {
        let _ = writeln!(summary, "{more} more: call again with `offset: {}`.", json.offset + count);
    }
    answer(&json, summary)
}

// ---------------------------------------------------------------------------------------------
// show

/// Arguments of `show`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowArgs {
    /// The detection's address SOURCE/ID, as `technique` and `search` list it (e.g.
    /// "chronicle/gcti_tor_exit_nodes"); the vendor's own ID or the rule's file name after the
    /// source also work.
    pub address: String,
}

fn show_tool() -> Tool {
    tool::<ShowArgs, ruledex_app::wire::DetectionJson>(
        "show",
        "One detection, whole",
        "One detection with everything ruledex knows: the query as shipped and `paste_ready_query` (ready to \
         paste where the vendor's app is not installed, Splunk macros expanded), the whole native rule file \
         (`native_rule`), ATT&CK mappings and how each was tagged, data sources, false positives, references, \
         implementation and investigation notes, the tests the rule ships, license and the upstream file at its \
         commit. Use it after `technique` or `search` to read, explain, adapt or deploy a rule. \
         Example: {\"address\": \"chronicle/gcti_tor_exit_nodes\"}.",
    )
}

fn show(catalog: &Catalog, args: &ShowArgs) -> Result<Answer, ToolError> {
    let detection = catalog.detection_at(args.address.trim())?;
    let json = text::whole(catalog.detection_json(&detection));
    let mut summary = format!("{}\n{}/{} · {} · {}", json.title, json.source, json.id, json.vendor, json.product);
    let details = [
        json.language.map(|l| format!("language {}", l.label())),
        json.severity.map(|s| format!("severity {}", s.as_str())),
        json.rule_type.map(|t| format!("type {}", t.label())),
        json.status.map(|s| format!("status {}", s.as_str())),
        json.deprecated.then(|| "deprecated".to_string()),
    ];
    let details: Vec<String> = details.into_iter().flatten().collect();
    if !details.is_empty() {
        summary.push_str(&format!(" · {}", details.join(" · ")));
    }
    let techniques: Vec<String> = json
        .techniques
        .iter()
        .map(|m| format!("{} {}", m.id, m.name.clone().unwrap_or_default()).trim().to_string())
        .collect();
    if !techniques.is_empty() {
        summary.push_str(&format!("\nATT&CK: {}", techniques.join("; ")));
    }
    if let Some(url) = &json.provenance.upstream_url {
        summary.push_str(&format!("\nUpstream: {url}"));
    }
    summary.push_str(&format!("\n\n{}\n", text::line(&json.description, 1_000)));
    let mut query = json.paste_ready_query.clone();
    text::cut(&mut query, 4_000, "the structured result has it whole");
    summary.push_str(&format!("\nPaste-ready query:\n```\n{query}\n```\n"));
    if !json.unresolved_macros.is_empty() {
        summary.push_str(&format!("Macros without a definition: {}\n", json.unresolved_macros.join(", ")));
    }
    summary.push_str(&format!(
        "The native rule file is `native_rule` in the structured result and the resource {}.",
        crate::uri::detection_uri(&json.source, &json.id)
    ));
    answer(&json, summary)
}

// ---------------------------------------------------------------------------------------------
// stats

/// `stats` takes no arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatsArgs {}

fn stats_tool() -> Tool {
    tool::<StatsArgs, StatsJson>(
        "stats",
        "Catalog and sources",
        "The catalog and each configured source as the last sync left it: repository and commit, license, rule \
         files found and read, detections, files that could not be read and why, and how its ATT&CK tags \
         resolved. Use it to learn which sources and vendors the catalog holds (the names `sources` filters \
         take), how fresh it is (`built_at`, each source's `synced_at`) and which ATT&CK release it uses. \
         Example: {}.",
    )
}

fn stats(catalog: &Catalog) -> Result<Answer, ToolError> {
    let json = catalog.stats();
    let mut summary = format!(
        "Catalog built {} · ATT&CK {} · {} detections\n",
        json.catalog.built_at.as_deref().unwrap_or("?"),
        json.catalog.attack_version.as_deref().unwrap_or("(version not configured)"),
        json.catalog.detections
    );
    for s in &json.sources {
        let _ = writeln!(
            summary,
            "- {} ({}, {}): {} detections from {} files, {} unreadable · {} techniques · commit {} · synced {}{}",
            s.name,
            s.format.as_str(),
            s.kind.as_str(),
            s.detections,
            s.files,
            s.failures.len(),
            s.attack.techniques,
            s.commit.as_deref().map_or("unknown", |c| c.get(..12).unwrap_or(c)),
            s.synced_at,
            s.error.as_ref().map(|e| format!(" · last sync could not read it: {e}")).unwrap_or_default()
        );
    }
    answer(&json, summary)
}

// ---------------------------------------------------------------------------------------------
// coverage

/// Arguments of `coverage`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CoverageArgs {
    /// Include community content (Sigma, community KQL). Left out unless asked for here or by
    /// naming sources or vendors.
    #[serde(default)]
    pub community: bool,
    /// Include deprecated detections (left out by default).
    #[serde(default)]
    pub deprecated: bool,
    #[serde(flatten)]
    pub filter: FilterArgs,
}

fn coverage_tool() -> Tool {
    tool::<CoverageArgs, CoverageJson>(
        "coverage",
        "ATT&CK coverage",
        "Which ATT&CK techniques the catalog's detections cover, and how many detections each has (tagged \
         with the technique itself, and with its sub-techniques rolled up), with the tactics in matrix order: \
         the home page's matrix as data. Use it for coverage questions across the whole matrix or a vendor \
         (\"which techniques does Elastic cover\", \"where is Command and Control thin\"); use `technique` for \
         one technique's detections. Vendor-native content unless `community` or sources/vendors say \
         otherwise. Example: {\"vendors\": [\"Google SecOps\"]}.",
    )
}

fn coverage(catalog: &Catalog, args: &CoverageArgs) -> Result<Answer, ToolError> {
    let filter = args.filter.to_filter(args.deprecated).vendor_native_unless_asked(args.community);
    let mut json = catalog.coverage(&filter)?;
    for tactic in &mut json.tactics {
        text::cut(&mut tactic.description, 200, "see the tactic's ATT&CK page");
    }
    let mut summary = format!("{} techniques have detections passing the filter.\n", json.techniques.len());
    for tactic in &json.tactics {
        let covered: Vec<_> = json.techniques.iter().filter(|t| t.tactics.contains(&tactic.id)).collect();
        if covered.is_empty() {
            continue;
        }
        let mut top = covered.clone();
        top.sort_by(|a, b| b.detections.cmp(&a.detections).then(a.id.cmp(&b.id)));
        let names: Vec<String> =
            top.iter().take(5).map(|t| format!("{} {} ({})", t.id, t.name, t.detections)).collect();
        let _ = writeln!(
            summary,
            "- {} {} ({}): {} techniques; most detections: {}",
            tactic.id,
            tactic.name,
            tactic.domain.label(),
            covered.len(),
            names.join(", ")
        );
    }
    answer(&json, summary)
}

// ---------------------------------------------------------------------------------------------
// stack_coverage and group: coverage for the sources a user runs, threat groups

/// The sources a user runs, and what counts.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct StackArgs {
    /// The sources the user runs, by configured name (`stats` lists them), e.g. ["splunk", "sentinel"].
    #[serde(default)]
    pub have: Vec<String>,
    /// Count community content (Sigma, community KQL) as the user's own.
    #[serde(default)]
    pub community: bool,
    /// Count detections listed only through ruledex's mapping of vendor labels (Sublime's).
    #[serde(default)]
    pub inferred: bool,
}

impl StackArgs {
    fn stack(&self) -> Stack {
        Stack { have: self.have.clone(), community: self.community, inferred: self.inferred }
    }
}

/// Arguments of `stack_coverage`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct StackCoverageArgs {
    #[serde(flatten)]
    pub stack: StackArgs,
    /// Only these tactics (ID, name or shortname), e.g. ["command-and-control"].
    #[serde(default)]
    pub tactics: Vec<String>,
    /// The matrix: enterprise (default), mobile or ics.
    #[serde(default)]
    pub domain: Option<Domain>,
    /// Also return the coverage as an ATT&CK Navigator layer to open in MITRE's ATT&CK
    /// Navigator (JSON, layer format 4.5): each technique in its status's colour.
    #[serde(default)]
    pub layer: bool,
}

fn stack_coverage_tool() -> Tool {
    tool::<StackCoverageArgs, StackCoverageJson>(
        "stack_coverage",
        "Coverage for a stack",
        "For every current technique and sub-technique of an ATT&CK matrix: whether the sources the user \
         runs (`have`) cover it, only other vendors' native content does (`elsewhere`), only community \
         content (`community-only`), or nothing (`none`), with detections per source. Use it for \"what do \
         we cover with Splunk and Sentinel\", \"where are our gaps in Command and Control\". Revoked and \
         deprecated techniques are never gaps. With `layer`, the answer also carries an ATT&CK Navigator layer \
         of the coverage as an embedded JSON resource. Example: {\"have\": [\"splunk\", \"sentinel\"], \
         \"tactics\": [\"command-and-control\"]}.",
    )
}

fn stack_coverage(catalog: &Catalog, args: &StackCoverageArgs) -> Result<Answer, ToolError> {
    let request = CoverageRequest {
        stack: args.stack.stack(),
        domain: args.domain.unwrap_or(Domain::Enterprise),
        tactics: args.tactics.clone(),
    };
    let mut json = catalog.stack_coverage(&request)?;
    // The layer of the whole answer, made before the answer's texts are cut. An MCP client
    // has no ruledex pages to open: the layer links nowhere.
    let layer = args.layer.then(|| catalog.coverage_layer(&json, &request, None)).transpose()?;
    for tactic in &mut json.tactics {
        text::cut(&mut tactic.tactic.description, 200, "see the tactic's ATT&CK page");
    }
    let s = &json.summary;
    let mut summary = format!(
        "{} covered, {} elsewhere, {} community-only, {} none (techniques and sub-techniques).\n",
        s.covered, s.elsewhere, s.community_only, s.none
    );
    let gaps: Vec<String> = json
        .techniques
        .iter()
        .filter(|t| t.status == CoverageStatus::Elsewhere)
        .take(20)
        .map(|t| format!("{} {} ({})", t.id, t.name, t.counts.keys().cloned().collect::<Vec<_>>().join(", ")))
        .collect();
    let _ = writeln!(summary, "Gaps other vendors cover (first 20): {}", gaps.join("; "));
    let mut answer = answer(&json, summary)?;
    if let Some(layer) = layer {
        within_limit(&layer.files, "the layer", "name some `tactics` for a smaller one")?;
        for file in &layer.files {
            let _ = writeln!(
                answer.summary,
                "ATT&CK Navigator layer attached: {} ({} bytes).",
                file.path,
                file.bytes.len()
            );
        }
        answer.files = layer.files;
    }
    Ok(answer)
}

/// Arguments of `group`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct GroupArgs {
    /// An ATT&CK ID (G0016, C0024, S0154), name or alias ("Cozy Bear"), in any letter case.
    pub name: String,
    /// What to look for: group (default), campaign or software.
    #[serde(default)]
    pub kind: Option<ObjectKind>,
    #[serde(flatten)]
    pub stack: StackArgs,
}

fn group_tool() -> Tool {
    tool::<GroupArgs, AttackObjectPageJson>(
        "group",
        "Threat group, campaign or software",
        "An ATT&CK group (intrusion set), campaign or software, found by ID, name or alias, with every \
         technique it is known to use and the detections for each per source; with `have`, whether the \
         user's sources cover each. Use it for \"are we covered against APT29\". Unknown names get the \
         closest names. Example: {\"name\": \"APT29\", \"have\": [\"splunk\"]}.",
    )
}

fn group(catalog: &Catalog, args: &GroupArgs) -> Result<Answer, ToolError> {
    let stack = args.stack.stack();
    let asked = !stack.have.is_empty() || stack.community;
    let mut json =
        catalog.attack_object_page(args.kind.unwrap_or(ObjectKind::Group), &args.name, asked.then_some(&stack))?;
    text::cut(&mut json.description, 600, "see its ATT&CK page");
    for technique in &mut json.techniques {
        text::cut(&mut technique.usage, 200, "see its ATT&CK page");
    }
    let object = json.group.as_ref().or(json.campaign.as_ref()).or(json.software.as_ref());
    let mut summary = object.map(|o| format!("{} {}: ", o.id, o.name)).unwrap_or_default();
    let _ = write!(summary, "{} techniques", json.techniques.len());
    if let Some(s) = &json.summary {
        let _ = write!(
            summary,
            "; {} covered, {} elsewhere, {} community-only, {} none",
            s.covered, s.elsewhere, s.community_only, s.none
        );
    }
    summary.push('\n');
    for t in &json.techniques {
        let status = t.status.map(|s| format!(" [{}]", s.as_str())).unwrap_or_default();
        let _ = writeln!(summary, "- {} {}: {} detections{status}", t.id, t.name, t.detections);
    }
    answer(&json, summary)
}

// ---------------------------------------------------------------------------------------------
// export

/// The most bytes of files one `export` call returns.
pub const MAX_EXPORT_BYTES: usize = 512 * 1024;
/// The most detections one export call renders: a larger selection is refused before any of it
/// is written, so a call's cost stays bounded whatever it asks for.
pub const MAX_EXPORT_DETECTIONS: usize = 500;

/// The bytes of `files` when one call may return them; else an error saying that `what` is too
/// large and how to ask for less (`narrower`).
fn within_limit(files: &[ExportFile], what: &str, narrower: &str) -> Result<usize, ToolError> {
    let bytes: usize = files.iter().map(|f| f.bytes.len()).sum();
    if bytes > MAX_EXPORT_BYTES {
        return Err(ToolError(format!(
            "{what} is {bytes} bytes, more than the {MAX_EXPORT_BYTES} one call returns; {narrower}"
        )));
    }
    Ok(bytes)
}

/// Arguments of `export`. Give one of `address`, `technique` or `query`, or none to export
/// every detection the filters keep.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ExportArgs {
    /// The format: a platform's import format (splunk-app, kibana-ndjson, yaral, sentinel-arm,
    /// sentinel-yaml, sigma, panther) or catalog rows (json, csv).
    pub format: String,
    /// One detection, by address SOURCE/ID.
    #[serde(default)]
    pub address: Option<String>,
    /// A technique's detections (ID or name), as `technique` lists them.
    #[serde(default)]
    pub technique: Option<String>,
    /// With `technique`: only detections tagged with the technique itself.
    #[serde(default)]
    pub exact: bool,
    /// Every match of this search.
    #[serde(default)]
    pub query: Option<String>,
    /// With `technique` or no selection: include community content.
    #[serde(default)]
    pub community: bool,
    /// Include deprecated detections.
    #[serde(default)]
    pub deprecated: bool,
    #[serde(flatten)]
    pub filter: FilterArgs,
}

fn export_tool() -> Tool {
    tool::<ExportArgs, ExportJson>(
        "export",
        "Export detections",
        "Writes detections in a platform's import format (a Splunk app, Kibana saved-objects NDJSON, \
         YARA-L files, a Sentinel ARM template or YAML, Sigma) or as catalog rows (JSON, CSV), and returns \
         the files' text; multi-file formats (a Splunk app) come as a list of files with their paths. \
         Select one detection (`address`), a technique's detections (`technique`), a search's matches \
         (`query`), or with none of these every detection the filters keep. Detections a format cannot \
         hold are listed in `skipped` with why. Nothing is written to disk. Example: \
         {\"format\": \"sentinel-arm\", \"technique\": \"T1090\", \"sources\": [\"sentinel\"]}.",
    )
}

fn export(catalog: &Catalog, args: ExportArgs) -> Result<Answer, ToolError> {
    let format: ExportFormat = args.format.parse().map_err(ToolError)?;
    let filter = args.filter.to_filter(args.deprecated);
    let selection = match (args.address, args.technique, args.query) {
        (Some(address), None, None) => Selection::Detection(address.trim().to_string()),
        (None, Some(technique), None) => Selection::Technique {
            technique,
            exact: args.exact,
            filter: filter.vendor_native_unless_asked(args.community),
        },
        (None, None, Some(text)) => Selection::Search { text, filter },
        (None, None, None) => Selection::Catalog { filter: filter.vendor_native_unless_asked(args.community) },
        _ => return Err(ToolError("give at most one of `address`, `technique` and `query`".into())),
    };
    let exported = catalog.export(format, &selection, Some(MAX_EXPORT_DETECTIONS))?;
    let bytes = within_limit(
        &exported.files,
        &format!("the export of {} detections", exported.included.len()),
        "narrow the selection (sources, vendors, languages, a technique, `exact`)",
    )?;
    let json = ExportJson::from(&exported);
    let mut summary = format!(
        "{} export `{}`: {} detections in {} files ({bytes} bytes).\n",
        json.format,
        json.name,
        json.included.len(),
        json.files.len()
    );
    for file in &json.files {
        let _ = writeln!(summary, "- {} ({} bytes)", file.path, file.text.len());
    }
    if !json.skipped.is_empty() {
        let _ = writeln!(summary, "{} detections left out:", json.skipped.len());
        for s in json.skipped.iter().take(20) {
            let _ = writeln!(summary, "- {}: {}", s.address, s.reason);
        }
    }
    summary.push_str("The files' text is in the structured result (`files`).");
    answer(&json, summary)
}

// ---------------------------------------------------------------------------------------------
// changes

/// Arguments of `changes`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ChangesArgs {
    /// Only changes after this: a date (2026-11-01), a time (2026-11-01T08:00:00Z) or a sync
    /// number (each change carries its sync's number in `sync`).
    #[serde(default)]
    pub since: Option<String>,
    /// Only detections listed under this technique or its sub-techniques (ID or name).
    #[serde(default)]
    pub technique: Option<String>,
    /// Only this source (a name `stats` lists).
    #[serde(default)]
    pub source: Option<String>,
    /// At most this many changes, newest first.
    #[serde(default = "changes_limit")]
    pub limit: u64,
}

fn changes_limit() -> u64 {
    CHANGES_LIMIT
}

const CHANGES_LIMIT: u64 = 50;

fn changes_tool() -> Tool {
    tool::<ChangesArgs, ChangesJson>(
        "changes",
        "What changed upstream",
        "What the catalog's syncs found changed upstream, newest first: detections added, changed (with \
         the fields: query, paste-ready query, ATT&CK tags, severity, status, metadata, and the query before \
         and after), deprecated and removed, each with its source, upstream commit and sync time; and each \
         new ATT&CK release a sync brought, with how many detections it moved to other techniques. Use it \
         for \"what is new for T1090\", \"what changed in Splunk this week\". A source's first sync is its \
         starting point, not news. Example: {\"technique\": \"T1090\", \"since\": \"2026-11-01\"}.",
    )
}

fn changes(catalog: &Catalog, args: &ChangesArgs) -> Result<Answer, ToolError> {
    let limit = limit(args.limit)?;
    let request = ChangeRequest {
        since: args.since.as_deref(),
        technique: args.technique.as_deref(),
        source: args.source.as_deref(),
        id: None,
        limit: Some(limit),
    };
    let json = catalog.changes(&request)?;
    let mut summary = String::new();
    for update in &json.attack_updates {
        let _ = writeln!(summary, "Sync {} at {}: {}.", update.sync, update.synced_at, update.summary);
    }
    let _ = writeln!(summary, "{} detection changes, newest first.", json.changes.len());
    for c in &json.changes {
        let fields: Vec<&str> = c.fields.iter().map(|f| f.label()).collect();
        let what = if fields.is_empty() { String::new() } else { format!(" ({})", fields.join(", ")) };
        let commit = c.commit.as_deref().map_or("unknown", |c| c.get(..12).unwrap_or(c));
        let _ = writeln!(
            summary,
            "- {} {}/{} {}{what} · commit {commit} · sync {} at {}",
            c.change.as_str(),
            c.source,
            c.id,
            c.title,
            c.sync,
            c.synced_at
        );
    }
    answer(&json, summary)
}

/// The answer of a wire type, with its text summary.
fn answer<T: serde::Serialize>(json: &T, summary: String) -> Result<Answer, ToolError> {
    let structured = serde_json::to_value(json)
        .map_err(|e| ToolError(format!("internal error: the answer could not be serialized: {e}")))?;
    Ok(Answer { structured, summary, files: vec![] })
}

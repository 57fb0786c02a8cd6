//! Panther analysis items (panther-labs/panther-analysis): detections written in Python, SQL or
//! Panther's YAML, each described by a YAML file that also carries the unit tests Panther ships.
//!
//! What is read, by `AnalysisType`:
//!
//! - `rule`, a streaming rule (`rules/**`): the query is the Python file the YAML names in
//!   `Filename`, which must sit beside it; the global helper modules that file imports, directly
//!   or through other helpers, are requirements of kind `helper`. A *simple detection* has a
//!   YAML `Detection` block instead of Python, and that block is its query.
//! - `scheduled_rule` (`rules/**`, `queries/**`): the query is the SQL of the saved queries named
//!   in `ScheduledQueries`, found by `QueryName` under `queries/`; each is a requirement of kind
//!   `query`, as is any query template the SQL imports. Their schedule and the Python function
//!   every result row goes through are implementation notes.
//! - `correlation_rule` (`correlation_rules/**`, a few under `rules/**`): the query is the
//!   `Detection` block as the file writes it, and the rules it correlates are requirements of kind
//!   `rule`: they must be deployed for it to fire.
//! - `saved_query`, `scheduled_query` (`queries/**`): no detection of their own. They are read as
//!   rule files too, so that one no scheduled rule can use (no SQL, a name defined twice) is
//!   reported.
//!
//! Both YAML detection forms are language `panther-yaml`, not a generic "yaml": only Panther
//! runs them, and a language filter should never offer them to someone holding another SIEM.
//!
//! Not read, because they are not detections: policies (`policies/`), data models, lookup
//! tables, packs and the helpers' own YAML all live outside the patterns. Any other
//! `AnalysisType` found inside the patterns is reported with its path, never silently dropped.
//!
//! Status: `Status: Experimental` is experimental; `Status: Deprecated`, or a `RuleID` listed in
//! `deprecated.txt`, is deprecated. `Enabled: false` does not change the status: Panther ships
//! rules disabled when they need configuration (allow-lists, a threshold) before they run, which
//! says nothing of their maturity; the native status says "disabled". Rules with
//! `CreateAlert: false` only record signals for correlation rules: they are building blocks.
//!
//! ATT&CK comes from `Reports: MITRE ATT&CK:` as `TACTIC:TECHNIQUE` pairs (`TA0006:T1098.001`);
//! both halves are ATT&CK tags. Other frameworks under `Reports` (CIS, Stratus Red Team) become
//! tags ("CIS: 1.2").

mod library;
mod rule_tests;

use std::collections::{BTreeMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;
use serde_json::Value;

pub(crate) use self::library::queries as saved_queries;
use self::library::{Library, SavedQuery};
use self::rule_tests::{RawTest, read_tests};
use super::util::{OneOrMany, Scalar, non_empty, required, yaml};
use super::{Adapter, ParseError, Parsed, Prepared, SourceFile, Support};
use crate::ids::TacticId;
use crate::model::{Dependency, DependencyKind, Format, Language, Rule, RuleType, Severity, Status};

pub struct Panther;

impl Adapter for Panther {
    fn patterns(&self) -> &'static [&'static str] {
        &[
            "rules/**/*.yml",
            "rules/**/*.yaml",
            "queries/**/*.yml",
            "queries/**/*.yaml",
            "correlation_rules/**/*.yml",
            "correlation_rules/**/*.yaml",
        ]
    }

    fn support_patterns(&self) -> &'static [&'static str] {
        &[
            "rules/**/*.py",
            "queries/**/*.py",
            "correlation_rules/**/*.py",
            "queries/**/*.yml",
            "queries/**/*.yaml",
            "global_helpers/*.py",
            "deprecated.txt",
        ]
    }

    /// The helpers and the saved queries: what a `panther` export writes beside the rules.
    fn asset_patterns(&self) -> &'static [&'static str] {
        &["global_helpers/*.py", "queries/**/*.yml", "queries/**/*.yaml"]
    }

    fn prepare<'a>(&'a self, support: &'a Support) -> Prepared<'a> {
        let library = Library::read(support);
        Prepared::new(move |file| read_item(file, &library))
    }

    /// Without support files no Python file or saved query is known, so only correlation rules
    /// and simple detections read.
    fn parse(&self, file: SourceFile<'_>) -> Parsed {
        read_item(file, &Library::read(&Support::default()))
    }
}

fn is_query_path(path: &str) -> bool {
    path.starts_with("queries/") && (path.ends_with(".yml") || path.ends_with(".yaml"))
}

/// What an analysis file holds, by its `AnalysisType`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Rule(RuleKind),
    SavedQuery,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum RuleKind {
    Streaming,
    Scheduled,
    Correlation,
}

impl Kind {
    fn of(analysis_type: Option<&str>) -> Result<Kind, ParseError> {
        match analysis_type.map(|t| t.trim().to_ascii_lowercase()).as_deref() {
            Some("rule") => Ok(Kind::Rule(RuleKind::Streaming)),
            Some("scheduled_rule") => Ok(Kind::Rule(RuleKind::Scheduled)),
            Some("correlation_rule") => Ok(Kind::Rule(RuleKind::Correlation)),
            Some("saved_query" | "scheduled_query") => Ok(Kind::SavedQuery),
            None | Some("") => Err(ParseError::new("missing `AnalysisType`")),
            Some(other) => Err(ParseError::new(format!(
                "`AnalysisType: {other}` is not a detection (ruledex reads rule, scheduled_rule and correlation_rule)"
            ))),
        }
    }
}

fn read_item(file: SourceFile<'_>, library: &Library<'_>) -> Parsed {
    let item = yaml::<RawItem>(file.text).and_then(|item| Ok((Kind::of(item.analysis_type.as_deref())?, item)));
    let failed = |error| Parsed { rules: vec![], errors: vec![error] };
    match item {
        Err(error) => failed(error),
        Ok((Kind::SavedQuery, item)) => {
            check_saved_query(&item, file.path, library).err().map_or_else(Parsed::default, failed)
        }
        Ok((Kind::Rule(kind), item)) => match item.into_rule(kind, file, library) {
            Ok((rule, test_errors)) => Parsed { rules: vec![rule], errors: test_errors },
            Err(error) => failed(error),
        },
    }
}

/// A saved query holds no detection; it is checked so that one no scheduled rule can use is
/// reported.
fn check_saved_query(item: &RawItem, path: &str, library: &Library<'_>) -> Result<(), ParseError> {
    let query = item.saved_query(path).ok_or_else(|| ParseError::new("missing `QueryName`"))?;
    if query.sql.is_none() {
        return Err(ParseError::new("missing `Query` (or the older `SnowflakeQuery`, `AthenaQuery`)"));
    }
    if !is_query_path(path) {
        return Err(ParseError::new("saved queries are read only under queries/; no scheduled rule can use this one"));
    }
    match library.query(&query.name) {
        Some(known) if known.path != path => Err(ParseError::new(format!(
            "query name {:?} is already defined in {}; this definition is ignored",
            query.name, known.path
        ))),
        _ => Ok(()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct RawItem {
    analysis_type: Option<String>,
    #[serde(rename = "RuleID")]
    rule_id: Option<Scalar>,
    display_name: Option<String>,
    description: Option<String>,
    severity: Option<String>,
    enabled: Option<Scalar>,
    status: Option<String>,
    create_alert: Option<Scalar>,
    filename: Option<String>,
    detection: Option<Value>,
    scheduled_queries: OneOrMany,
    log_types: OneOrMany,
    tags: OneOrMany,
    reference: OneOrMany,
    runbook: Option<String>,
    /// Lists of strings, not [`OneOrMany`]: that reads `1.10` (a CIS section) as the number 1.1.
    reports: Option<BTreeMap<String, Option<Vec<String>>>>,
    dedup_period_minutes: Option<Scalar>,
    threshold: Option<Scalar>,
    summary_attributes: OneOrMany,
    inline_filters: Option<Value>,
    tests: Option<Vec<RawTest>>,
    // Saved and scheduled queries.
    query_name: Option<Scalar>,
    query: Option<String>,
    snowflake_query: Option<String>,
    athena_query: Option<String>,
    schedule: Option<RawSchedule>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct RawSchedule {
    rate_minutes: Option<Scalar>,
    cron_expression: Option<String>,
    timeout_minutes: Option<Scalar>,
}

impl RawSchedule {
    /// "every 60 minutes, timeout 5 minutes", or "on cron `0 0 * * *`".
    fn text(&self) -> Option<String> {
        let when = match (&self.rate_minutes, non_empty(self.cron_expression.clone())) {
            (Some(rate), _) => format!("every {} minutes", rate.0),
            (None, Some(cron)) => format!("on cron `{cron}`"),
            (None, None) => return None,
        };
        Some(match &self.timeout_minutes {
            Some(timeout) => format!("{when}, timeout {} minutes", timeout.0),
            None => when,
        })
    }
}

/// What a rule runs: its language, query, what it needs deployed, and how it runs.
struct Logic {
    language: Language,
    query: String,
    requires: Vec<Dependency>,
    notes: Vec<String>,
}

impl RawItem {
    /// The rule, and the tests of it that did not read.
    fn into_rule(
        self,
        kind: RuleKind,
        file: SourceFile<'_>,
        library: &Library<'_>,
    ) -> Result<(Rule, Vec<ParseError>), ParseError> {
        let native_id = required(self.rule_id.clone().map(|s| s.0), "RuleID")?;
        let logic = match kind {
            RuleKind::Streaming => self.streaming_logic(file, library)?,
            RuleKind::Scheduled => self.scheduled_logic(file.path, library)?,
            RuleKind::Correlation => self.correlation_logic(file.text)?,
        };
        let (tests, test_errors) = read_tests(self.tests.unwrap_or_default());
        let (attack_tags, framework_tags) = split_reports(self.reports.unwrap_or_default());
        let listed_deprecated = library.is_deprecated(&native_id);
        let severity_native = non_empty(self.severity);
        let signal_only = is_false(self.create_alert.as_ref());
        let mut notes = settings(signal_only, self.threshold, self.dedup_period_minutes, self.summary_attributes);
        notes.extend(self.inline_filters.filter(|f| !f.is_null()).map(|f| format!("Inline filters: {f}")));
        notes.extend(logic.notes);
        let rule = Rule {
            title: non_empty(self.display_name).unwrap_or_else(|| native_id.clone()),
            native_id,
            description: self.description.unwrap_or_default().trim().to_string(),
            vendor: Format::Panther.vendor().into(),
            product: Format::Panther.product().into(),
            language: Some(logic.language),
            query: logic.query,
            native_rule: file.text.to_string(),
            rule_type: Some(rule_type(kind, signal_only)),
            rule_type_native: non_empty(self.analysis_type),
            severity: severity_native.as_deref().and_then(Severity::from_native),
            severity_native,
            status: Some(status(self.status.as_deref(), listed_deprecated)),
            status_native: status_words(self.status, is_false(self.enabled.as_ref()), listed_deprecated),
            attack_tags,
            data_sources: self.log_types.0,
            references: self.reference.0,
            tags: self.tags.0.into_iter().chain(framework_tags).collect(),
            requires: logic.requires,
            implementation: (!notes.is_empty()).then(|| notes.join("\n")),
            investigation: non_empty(self.runbook),
            tests,
            path: file.path.to_string(),
            ..Rule::default()
        };
        Ok((rule, test_errors))
    }

    /// Python named by `Filename`, or a simple detection's YAML `Detection`.
    fn streaming_logic(&self, file: SourceFile<'_>, library: &Library<'_>) -> Result<Logic, ParseError> {
        match (non_empty(self.filename.clone()), &self.detection) {
            (Some(filename), _) => {
                let (_, python) = python_file(file.path, &filename, library)?;
                Ok(Logic {
                    language: Language::Python,
                    query: python.trim_end().to_string(),
                    requires: helpers(library, python),
                    notes: vec![],
                })
            }
            (None, Some(detection)) => Ok(Logic {
                language: Language::PantherYaml,
                query: detection_block(file.text, detection)?,
                requires: vec![],
                notes: vec![],
            }),
            (None, None) => {
                Err(ParseError::new("missing `Filename` (a Python rule) or `Detection` (a simple detection)"))
            }
        }
    }

    /// The SQL of the scheduled queries, and the Python function their rows go through.
    fn scheduled_logic(&self, path: &str, library: &Library<'_>) -> Result<Logic, ParseError> {
        let queries = scheduled_queries(&self.scheduled_queries.0, library)?;
        let mut requires = Vec::new();
        let mut notes = Vec::new();
        for (query, sql) in &queries {
            requires.push(Dependency { kind: DependencyKind::Query, name: query.name.clone() });
            requires.extend(imported_templates(sql));
            let schedule = query.schedule.as_deref().map(|s| format!(", {s}")).unwrap_or_default();
            notes.push(format!("Runs on the scheduled query {:?} ({}){schedule}", query.name, query.path));
        }
        if let Some(filename) = non_empty(self.filename.clone()) {
            let (python_path, python) = python_file(path, &filename, library)?;
            requires.extend(helpers(library, python));
            // Last of the notes, so that an export can read the Python back ([`row_function`]).
            notes.push(format!("{ROW_FUNCTION_NOTE}{python_path}:\n\n{python}"));
        }
        requires.sort();
        requires.dedup();
        Ok(Logic { language: Language::Sql, query: joined_sql(&queries), requires, notes })
    }

    /// The `Detection` block, and the rules it correlates.
    fn correlation_logic(&self, text: &str) -> Result<Logic, ParseError> {
        let detection = self.detection.as_ref().ok_or_else(|| ParseError::new("missing `Detection`"))?;
        let mut correlated = Vec::new();
        collect_rule_ids(detection, &mut correlated);
        let requires = correlated.into_iter().map(|name| Dependency { kind: DependencyKind::Rule, name }).collect();
        Ok(Logic { language: Language::PantherYaml, query: detection_block(text, detection)?, requires, notes: vec![] })
    }
}

/// How the note naming a scheduled rule's Python begins; the file's path and its text follow.
const ROW_FUNCTION_NOTE: &str = "Every row the query returns goes through the rule function in ";

/// A scheduled rule's Python, read back from its implementation notes, where it comes last.
pub(crate) fn row_function(implementation: &str) -> Option<&str> {
    let (_, note) = implementation.split_once(ROW_FUNCTION_NOTE)?;
    note.split_once(":\n\n").map(|(_, python)| python)
}

/// The Python file a rule's YAML names in `Filename`, if any.
pub(crate) fn python_filename(native_rule: &str) -> Option<String> {
    yaml::<RawItem>(native_rule).ok().and_then(|item| non_empty(item.filename))
}

/// The Python file a rule names in `Filename`, with its path. Only a file beside the rule is
/// accepted, so a name cannot reach into another folder of the source, let alone outside it.
fn python_file<'l>(rule_path: &str, filename: &str, library: &Library<'l>) -> Result<(String, &'l str), ParseError> {
    if filename.contains(['/', '\\']) || filename == ".." {
        return Err(ParseError::new(format!(
            "`Filename` {filename:?} is not a file in the rule's folder; only a file beside the rule is read"
        )));
    }
    let path = match rule_path.rsplit_once('/') {
        Some((folder, _)) => format!("{folder}/{filename}"),
        None => filename.to_string(),
    };
    match library.python(&path) {
        Some(python) => Ok((path, python)),
        None => Err(ParseError::new(format!("`Filename` {filename:?}: no Python file {path} beside the rule"))),
    }
}

fn helpers(library: &Library<'_>, python: &str) -> Vec<Dependency> {
    let helpers = library.helpers_needed(python).into_iter();
    helpers.map(|name| Dependency { kind: DependencyKind::Helper, name }).collect()
}

/// Each query `ScheduledQueries` names, with its SQL; a name no query file defines, or a query
/// without SQL, fails the rule.
fn scheduled_queries<'l>(
    names: &[String],
    library: &'l Library<'_>,
) -> Result<Vec<(&'l SavedQuery, &'l str)>, ParseError> {
    if names.is_empty() {
        return Err(ParseError::new("missing `ScheduledQueries`"));
    }
    names
        .iter()
        .map(|name| {
            let query = library.query(name).ok_or_else(|| {
                ParseError::new(format!("scheduled query {name:?} is not defined by any file under queries/"))
            })?;
            let sql = query
                .sql
                .as_deref()
                .ok_or_else(|| ParseError::new(format!("scheduled query {name:?} ({}) has no SQL", query.path)))?;
            Ok((query, sql))
        })
        .collect()
}

/// One query's SQL as written; several, each under a comment naming it.
fn joined_sql(queries: &[(&SavedQuery, &str)]) -> String {
    match queries {
        [(_, sql)] => sql.trim_end().to_string(),
        _ => queries
            .iter()
            .map(|(query, sql)| format!("-- {}\n{}", query.name.replace(['\r', '\n'], " "), sql.trim_end()))
            .collect::<Vec<_>>()
            .join("\n\n"),
    }
}

static TEMPLATE_IMPORT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\{%-?\s*(?:import|from)\s+['"]([^'"]+)['"]"#).expect("valid regex"));

/// The saved query templates SQL imports (`{% import 'anomalies' new_unique_values %}`).
fn imported_templates(sql: &str) -> impl Iterator<Item = Dependency> {
    TEMPLATE_IMPORT.captures_iter(sql).map(|c| Dependency { kind: DependencyKind::Query, name: c[1].to_string() })
}

/// Every `RuleID` in a correlation rule's detection (its `Group` and `Sequence` entries), once.
fn collect_rule_ids(value: &Value, ids: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match value {
                    Value::String(id) if key == "RuleID" => {
                        let id = id.trim();
                        if !id.is_empty() && !ids.iter().any(|known| known == id) {
                            ids.push(id.to_string());
                        }
                    }
                    other => collect_rule_ids(other, ids),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_rule_ids(item, ids)),
        _ => {}
    }
}

/// The `Detection:` block as the file writes it, comments included; re-serialized when the file
/// spells the key another way (quoted, or inside a flow mapping).
fn detection_block(text: &str, detection: &Value) -> Result<String, ParseError> {
    if let Some(block) = top_level_block(text, "Detection") {
        return Ok(block.to_string());
    }
    let wrapped = Value::Object([("Detection".to_string(), detection.clone())].into_iter().collect());
    serde_saphyr::to_string(&wrapped)
        .map(|yaml| yaml.trim_end().to_string())
        .map_err(|e| ParseError::new(format!("cannot write `Detection` back as YAML: {e}")))
}

/// The lines of a top-level `key:` and its value: up to the next line that starts a new
/// top-level key, without trailing blank lines and comments.
fn top_level_block<'t>(text: &'t str, key: &str) -> Option<&'t str> {
    let mut lines = text.split_inclusive('\n').scan(0, |offset, line| {
        let start = *offset;
        *offset += line.len();
        Some((start, line))
    });
    let (start, header) = lines.find(|(_, line)| is_key_line(line, key))?;
    let mut end = start + header.len();
    for (offset, line) in lines {
        let content = line.trim_end();
        if content.is_empty() || content.trim_start().starts_with('#') {
            continue;
        }
        let continues = line.starts_with([' ', '\t']) || content == "-" || content.starts_with("- ");
        if !continues {
            break;
        }
        end = offset + line.len();
    }
    Some(text[start..end].trim_end())
}

fn is_key_line(line: &str, key: &str) -> bool {
    let rest = line.strip_prefix(key).and_then(|rest| rest.strip_prefix(':'));
    rest.is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
}

/// `Reports` splits into ATT&CK tags (both halves of each `TACTIC:TECHNIQUE` pair under
/// `MITRE ATT&CK`) and labels for the other frameworks ("CIS: 1.2").
fn split_reports(reports: BTreeMap<String, Option<Vec<String>>>) -> (Vec<String>, Vec<String>) {
    let mut attack = Vec::new();
    let mut labels = Vec::new();
    for (framework, entries) in reports {
        let framework = framework.trim();
        let entries = entries.unwrap_or_default();
        if framework.eq_ignore_ascii_case("MITRE ATT&CK") {
            attack.extend(entries.iter().flat_map(|pair| pair.split(':')).map(|part| part.trim().to_string()));
        } else if framework.parse::<TacticId>().is_ok() {
            // One upstream rule keys its techniques by their tactic (`TA0004: [T1548]`): the
            // same pairs, written another way.
            attack.push(framework.to_string());
            attack.extend(entries.iter().map(|technique| technique.trim().to_string()));
        } else {
            labels.extend(entries.iter().map(|entry| format!("{framework}: {}", entry.trim())));
        }
    }
    let mut seen = HashSet::new();
    attack.retain(|tag| !tag.is_empty() && seen.insert(tag.clone()));
    (attack, labels)
}

/// How a Panther rule is run, one line each, for whoever deploys it.
fn settings(
    signal_only: bool,
    threshold: Option<Scalar>,
    dedup_minutes: Option<Scalar>,
    summary_attributes: OneOrMany,
) -> Vec<String> {
    let mut notes = Vec::new();
    if signal_only {
        notes.push("Signal only (`CreateAlert: false`): its matches feed correlation rules and raise no alert".into());
    }
    notes.extend(threshold.map(|t| format!("Threshold: {} matching events within the deduplication period", t.0)));
    notes.extend(dedup_minutes.map(|d| format!("Deduplication period: {} minutes", d.0)));
    if !summary_attributes.0.is_empty() {
        notes.push(format!("Summary attributes: {}", summary_attributes.0.join(", ")));
    }
    notes
}

fn is_false(flag: Option<&Scalar>) -> bool {
    flag.is_some_and(|f| f.0.trim().eq_ignore_ascii_case("false"))
}

fn rule_type(kind: RuleKind, signal_only: bool) -> RuleType {
    match kind {
        RuleKind::Correlation => RuleType::Correlation,
        _ if signal_only => RuleType::BuildingBlock,
        RuleKind::Streaming | RuleKind::Scheduled => RuleType::Alert,
    }
}

fn status(native: Option<&str>, listed_deprecated: bool) -> Status {
    match native.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        _ if listed_deprecated => Status::Deprecated,
        Some("deprecated") => Status::Deprecated,
        Some("experimental") => Status::Experimental,
        _ => Status::Production,
    }
}

/// The vendor's own status words: `Status`, "disabled" for `Enabled: false`, and whether
/// `deprecated.txt` lists the rule.
fn status_words(native: Option<String>, disabled: bool, listed_deprecated: bool) -> Option<String> {
    let words: Vec<String> = non_empty(native)
        .into_iter()
        .chain(disabled.then(|| "disabled".to_string()))
        .chain(listed_deprecated.then(|| "listed in deprecated.txt".to_string()))
        .collect();
    (!words.is_empty()).then(|| words.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAMING: &str = r#"AnalysisType: rule
Filename: aws_waf_ip_reputation.py
RuleID: "AWS.WAF.Managed.IPReputation"
DisplayName: "AWS WAF Managed IP Reputation Block"
Enabled: true
LogTypes:
  - AWS.WAFWebACL
Tags:
  - AWS
Reports:
  MITRE ATT&CK:
    - TA0005:T1090 # Proxy
    - TA0005:T1562.001
  CIS:
    - 1.10
  Stratus Red Team:
    - aws.defense-evasion.waf
Severity: Info # raised in the rule function
Description: >
  Requests blocked by the managed IP reputation list.
Runbook: Check the source IP.
Reference: https://docs.aws.amazon.com/waf/
DedupPeriodMinutes: 60
Threshold: 5
SummaryAttributes:
  - httpRequest.clientIp
Tests:
  - Name: Blocked
    ExpectedResult: true
    Log: { "action": "BLOCK" }
  - Name: Allowed
    ExpectedResult: false
    Log: { "action": "ALLOW" }
"#;

    const SCHEDULED: &str = "AnalysisType: scheduled_rule\nRuleID: Dropbox.Many.Deletes\nFilename: deletes.py\n\
                             Enabled: false\nStatus: Experimental\nSeverity: Medium\n\
                             ScheduledQueries:\n  - Dropbox Many Deletes\nTests: []\n";

    const SAVED_QUERY: &str = "AnalysisType: scheduled_query\nQueryName: \"Dropbox Many Deletes\"\nQuery: |-\n  \
                               {% import 'anomalies' new_unique_values %}\n  SELECT user FROM dropbox\n\
                               Schedule:\n  RateMinutes: 1440\n  TimeoutMinutes: 3\n";

    const CORRELATION: &str = r#"AnalysisType: correlation_rule
RuleID: "AWS.Backdoor.Then.Access"
DisplayName: "Backdoor key used"
Enabled: true
Severity: High
Detection:
  # backdoor then use
  - Sequence:
      - ID: Backdoored
        RuleID: AWS.IAM.Backdoor.User.Keys
      - ID: Used
        RuleID: AWS.CloudTrail.UserAccessKeyAuth

  - Group:
    - ID: Again
      RuleID: AWS.IAM.Backdoor.User.Keys
    LookbackWindowMinutes: 30
# tests follow
Tests:
  - Name: seq
    ExpectedResult: true
    RuleOutputs:
      - ID: Backdoored
        Matches: {}
"#;

    fn support() -> Support {
        let file = |path: &str, text: &str| (path.to_string(), text.to_string());
        Support::new([
            file(
                "rules/aws_waf_rules/aws_waf_ip_reputation.py",
                "from panther_aws_helpers import x\n\ndef rule(e):\n    return True\n",
            ),
            file(
                "queries/dropbox_queries/deletes.py",
                "import panther_base_helpers\ndef rule(row):\n    return True\n",
            ),
            file("queries/dropbox_queries/Dropbox_Many_Deletes_Query.yml", SAVED_QUERY),
            file("global_helpers/panther_aws_helpers.py", "from panther_base_helpers import deep_get\n"),
            file("global_helpers/panther_base_helpers.py", "import json\n"),
            file("deprecated.txt", "AWS.Backdoor.Then.Access\n"),
        ])
    }

    fn parse(path: &str, text: &str) -> Parsed {
        let support = support();
        Panther.prepare(&support).parse(SourceFile { path, text })
    }

    fn one_rule(path: &str, text: &str) -> Rule {
        let parsed = parse(path, text);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(parsed.rules.len(), 1);
        parsed.rules.into_iter().next().expect("one rule")
    }

    fn requirements(rule: &Rule) -> Vec<String> {
        rule.requires
            .iter()
            .map(|d| format!("{}:{}", serde_json::to_value(d.kind).unwrap().as_str().unwrap(), d.name))
            .collect()
    }

    #[test]
    fn streaming_rules_are_their_python_with_helpers_attack_and_tests() {
        let rule = one_rule("rules/aws_waf_rules/aws_waf_ip_reputation.yml", STREAMING);
        assert_eq!(rule.native_id, "AWS.WAF.Managed.IPReputation");
        assert_eq!(rule.title, "AWS WAF Managed IP Reputation Block");
        assert_eq!((rule.vendor.as_str(), rule.product.as_str()), ("Panther", "Panther"));
        assert_eq!(rule.language, Some(Language::Python));
        assert_eq!(rule.query, "from panther_aws_helpers import x\n\ndef rule(e):\n    return True");
        assert_eq!(rule.native_rule, STREAMING);
        assert_eq!(requirements(&rule), vec!["helper:panther_aws_helpers", "helper:panther_base_helpers"]);
        assert_eq!(rule.attack_tags, vec!["TA0005", "T1090", "T1562.001"]);
        assert_eq!(rule.tags, vec!["AWS", "CIS: 1.10", "Stratus Red Team: aws.defense-evasion.waf"]);
        assert_eq!((rule.severity, rule.severity_native.as_deref()), (Some(Severity::Informational), Some("Info")));
        assert_eq!((rule.status, rule.status_native.as_deref()), (Some(Status::Production), None));
        assert_eq!((rule.rule_type, rule.rule_type_native.as_deref()), (Some(RuleType::Alert), Some("rule")));
        assert_eq!(rule.description, "Requests blocked by the managed IP reputation list.");
        assert_eq!(rule.investigation.as_deref(), Some("Check the source IP."));
        assert_eq!(rule.references, vec!["https://docs.aws.amazon.com/waf/"]);
        assert_eq!(rule.data_sources, vec!["AWS.WAFWebACL"]);
        assert_eq!(
            rule.implementation.as_deref(),
            Some(
                "Threshold: 5 matching events within the deduplication period\nDeduplication period: 60 minutes\n\
                 Summary attributes: httpRequest.clientIp"
            )
        );
        let tests: Vec<(&str, bool)> = rule.tests.iter().map(|t| (t.name.as_str(), t.expected)).collect();
        assert_eq!(tests, vec![("Blocked", true), ("Allowed", false)]);
    }

    #[test]
    fn scheduled_rules_are_their_sql_with_schedule_and_python_as_notes() {
        let rule = one_rule("queries/dropbox_queries/Dropbox_Many_Deletes.yml", SCHEDULED);
        assert_eq!(rule.language, Some(Language::Sql));
        assert_eq!(rule.query, "{% import 'anomalies' new_unique_values %}\nSELECT user FROM dropbox");
        assert_eq!(rule.title, "Dropbox.Many.Deletes", "no DisplayName: the RuleID");
        assert_eq!(
            requirements(&rule),
            vec!["helper:panther_base_helpers", "query:Dropbox Many Deletes", "query:anomalies"]
        );
        let notes = rule.implementation.expect("notes");
        assert!(notes.starts_with(
            "Runs on the scheduled query \"Dropbox Many Deletes\" (queries/dropbox_queries/Dropbox_Many_Deletes_Query.yml), \
             every 1440 minutes, timeout 3 minutes\n\
             Every row the query returns goes through the rule function in queries/dropbox_queries/deletes.py:\n\n\
             import panther_base_helpers\n"
        ));
        assert_eq!(
            (rule.status, rule.status_native.as_deref()),
            (Some(Status::Experimental), Some("Experimental, disabled"))
        );
        assert!(rule.tests.is_empty());
    }

    #[test]
    fn several_scheduled_queries_are_joined_under_their_names() {
        let text =
            SCHEDULED.replace("  - Dropbox Many Deletes\n", "  - Dropbox Many Deletes\n  - Dropbox Many Deletes\n");
        let rule = one_rule("queries/x/rule.yml", &text.replace("Filename: deletes.py\n", ""));
        assert_eq!(rule.query.matches("-- Dropbox Many Deletes\n{% import").count(), 2, "{}", rule.query);
    }

    #[test]
    fn correlation_rules_are_their_detection_block_and_require_the_rules_they_correlate() {
        let rule = one_rule("correlation_rules/backdoor.yml", CORRELATION);
        assert_eq!(rule.language, Some(Language::PantherYaml));
        let block = &CORRELATION[CORRELATION.find("Detection:").unwrap()..CORRELATION.find("\n# tests").unwrap()];
        assert_eq!(rule.query, block);
        assert_eq!(rule.rule_type, Some(RuleType::Correlation));
        assert_eq!(
            requirements(&rule),
            vec!["rule:AWS.IAM.Backdoor.User.Keys", "rule:AWS.CloudTrail.UserAccessKeyAuth"]
        );
        assert_eq!(
            (rule.status, rule.status_native.as_deref()),
            (Some(Status::Deprecated), Some("listed in deprecated.txt"))
        );
        assert!(rule.tests[0].input.contains("\"ID\": \"Backdoored\""));
    }

    #[test]
    fn a_detection_key_written_another_way_is_written_back_as_yaml() {
        let text = "AnalysisType: correlation_rule\nRuleID: r\n\"Detection\": [{Group: [{ID: a, RuleID: X}]}]\n";
        let rule = one_rule("correlation_rules/r.yml", text);
        let back: BTreeMap<String, Value> = yaml(&rule.query).expect("valid YAML");
        assert_eq!(back["Detection"][0]["Group"][0]["RuleID"], "X");
    }

    #[test]
    fn simple_detections_are_panther_yaml_and_signals_are_building_blocks() {
        let text = "AnalysisType: rule\nRuleID: Github.Repo.Archived\nCreateAlert: false\nDetection:\n- Key: action\n  \
                    Condition: Equals\n  Value: repo.archived\nAlertTitle: archived\n";
        let rule = one_rule("rules/github_rules/archived.yml", text);
        assert_eq!(rule.language, Some(Language::PantherYaml));
        assert_eq!(rule.query, "Detection:\n- Key: action\n  Condition: Equals\n  Value: repo.archived");
        assert_eq!(rule.rule_type, Some(RuleType::BuildingBlock));
        assert!(rule.implementation.unwrap().starts_with("Signal only (`CreateAlert: false`)"));
    }

    #[test]
    fn techniques_keyed_by_their_tactic_are_attack_too() {
        let text = "AnalysisType: correlation_rule\nRuleID: r\nDetection: []\nReports:\n  TA0004:\n    - T1548\n  \
                    MITRE ATT&CK:\n    - TA0004:T1548.001\n";
        assert_eq!(one_rule("correlation_rules/r.yml", text).attack_tags, vec!["TA0004", "T1548.001", "T1548"]);
    }

    #[test]
    fn saved_queries_hold_no_detection_but_broken_ones_are_reported() {
        let parsed = parse("queries/dropbox_queries/Dropbox_Many_Deletes_Query.yml", SAVED_QUERY);
        assert!(parsed.rules.is_empty() && parsed.errors.is_empty(), "{:?}", parsed.errors);
        let message = |path: &str, text: &str| parse(path, text).errors[0].message.clone();
        assert_eq!(message("queries/x.yml", "AnalysisType: saved_query\nQuery: SELECT 1\n"), "missing `QueryName`");
        assert!(message("queries/x.yml", "AnalysisType: saved_query\nQueryName: q\n").starts_with("missing `Query`"));
        assert_eq!(
            message("queries/copy.yml", SAVED_QUERY),
            "query name \"Dropbox Many Deletes\" is already defined in \
             queries/dropbox_queries/Dropbox_Many_Deletes_Query.yml; this definition is ignored"
        );
        assert!(message("rules/x.yml", SAVED_QUERY).starts_with("saved queries are read only under queries/"));
    }

    #[test]
    fn files_that_are_not_detections_are_reported() {
        let message = |text: &str| parse("rules/x.yml", text).errors[0].message.clone();
        assert_eq!(
            message("AnalysisType: policy\nPolicyID: p\n"),
            "`AnalysisType: policy` is not a detection (ruledex reads rule, scheduled_rule and correlation_rule)"
        );
        assert_eq!(message("RuleID: r\n"), "missing `AnalysisType`");
        assert_eq!(message("AnalysisType: rule\nFilename: x.py\n"), "missing `RuleID`");
    }

    #[test]
    fn python_is_read_only_beside_the_rule() {
        let with_filename = |name: &str| STREAMING.replace("aws_waf_ip_reputation.py", name);
        let message = |name: &str| parse("rules/aws_waf_rules/r.yml", &with_filename(name)).errors[0].message.clone();
        assert_eq!(
            message("missing.py"),
            "`Filename` \"missing.py\": no Python file rules/aws_waf_rules/missing.py beside the rule"
        );
        for outside in ["../aws_waf_rules/aws_waf_ip_reputation.py", "/etc/passwd", "sub/x.py", "..\\x.py", ".."] {
            assert_eq!(
                message(outside),
                format!(
                    "`Filename` {outside:?} is not a file in the rule's folder; only a file beside the rule is read"
                )
            );
        }
        let not_python = parse("queries/dropbox_queries/r.yml", &with_filename("Dropbox_Many_Deletes_Query.yml"));
        assert!(not_python.errors[0].message.contains("no Python file"), "{:?}", not_python.errors);
        let no_logic = parse("rules/r.yml", "AnalysisType: rule\nRuleID: r\n");
        assert_eq!(
            no_logic.errors[0].message,
            "missing `Filename` (a Python rule) or `Detection` (a simple detection)"
        );
    }

    #[test]
    fn scheduled_rules_need_a_query_that_exists() {
        let message = |text: &str| parse("rules/r.yml", text).errors[0].message.clone();
        assert_eq!(
            message(&SCHEDULED.replace("Dropbox Many Deletes", "Nowhere")),
            "scheduled query \"Nowhere\" is not defined by any file under queries/"
        );
        assert_eq!(message("AnalysisType: scheduled_rule\nRuleID: r\n"), "missing `ScheduledQueries`");
        assert_eq!(message("AnalysisType: correlation_rule\nRuleID: r\n"), "missing `Detection`");
    }

    #[test]
    fn without_support_files_python_rules_are_reported_and_correlations_read() {
        let python = Panther.parse(SourceFile { path: "rules/aws_waf_rules/r.yml", text: STREAMING });
        assert!(python.rules.is_empty() && python.errors[0].message.contains("no Python file"));
        let correlation = Panther.parse(SourceFile { path: "correlation_rules/c.yml", text: CORRELATION });
        assert_eq!(correlation.rules[0].status, Some(Status::Production));
    }

    #[test]
    fn a_broken_test_is_reported_and_the_rule_still_loads() {
        let text = STREAMING.replace("ExpectedResult: false", "ExpectedResult: perhaps");
        let parsed = parse("rules/aws_waf_rules/r.yml", &text);
        assert_eq!(parsed.rules[0].tests.len(), 1);
        assert_eq!(
            parsed.errors[0].message,
            "test \"Allowed\": `ExpectedResult` must be true or false, not \"perhaps\""
        );
    }

    #[test]
    fn broken_files_are_reported_not_panicked_on() {
        let message = |text: &str| parse("rules/x.yml", text).errors[0].message.clone();
        assert!(message("AnalysisType: [rule\n").starts_with("invalid YAML"));
        assert!(message("- a list\n").starts_with("invalid YAML"));
        for text in [STREAMING, SCHEDULED, CORRELATION, SAVED_QUERY] {
            for end in 0..text.len() {
                if text.is_char_boundary(end) {
                    let _ = parse("rules/aws_waf_rules/t.yml", &text[..end]);
                }
            }
        }
    }
}

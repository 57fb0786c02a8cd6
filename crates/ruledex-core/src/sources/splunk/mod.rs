//! Splunk Enterprise Security Content Update detections (`detections/**/*.yml`, YAML + SPL).
//!
//! Two schemas are in the wild: the older one keeps ATT&CK IDs, analytic stories and the risk
//! score under `tags:`; the newer one lifts `mitre_attack_id` and `analytic_story` to the top
//! level, dates them with `creation_date`/`modification_date`, and scores risk under `rba:`.
//! Both are read into the same rule.
//!
//! Each search is also expanded into a paste-ready one with the source's macro definitions
//! (`macros/*.yml`, read once per source as support files; see [`macros`] and
//! docs/splunk-macros.md). The lookup tables and macros are kept as assets for the Splunk app
//! export.

pub mod lookups;
pub mod macros;
pub mod published;
pub mod spl;

use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

use self::macros::{MacroTable, keep_none};
use super::util::{OneOrMany, Scalar, iso_date, non_empty, yaml};
use super::{Adapter, ParseError, Parsed, Prepared, SourceFile, Support};
use crate::model::{Dependency, DependencyKind, Format, Language, Rule, RuleType, Severity, Status};

pub struct SplunkEscu;

/// ESCU's macro definitions.
pub const MACRO_PATTERN: &str = "macros/*.yml";
/// Lookup definitions (`name`, `filename` or `collection`, match options).
pub const LOOKUP_DEFINITION_PATTERN: &str = "lookups/*.yml";
/// Lookup tables. The `.mlmodel` files beside them are binary models no search reads as a lookup.
pub const LOOKUP_TABLE_PATTERN: &str = "lookups/*.csv";

impl Adapter for SplunkEscu {
    fn patterns(&self) -> &'static [&'static str] {
        &["detections/**/*.yml", "detections/**/*.yaml"]
    }

    fn support_patterns(&self) -> &'static [&'static str] {
        &[MACRO_PATTERN, LOOKUP_DEFINITION_PATTERN, LOOKUP_TABLE_PATTERN]
    }

    fn asset_patterns(&self) -> &'static [&'static str] {
        &[MACRO_PATTERN, LOOKUP_DEFINITION_PATTERN, LOOKUP_TABLE_PATTERN]
    }

    fn prepare<'a>(&'a self, support: &'a Support) -> Prepared<'a> {
        let macro_files = support.files().filter(|(path, _)| is_macro_file(path));
        let (table, failures) = MacroTable::read_escu(macro_files);
        Prepared::new(move |file| read_detection(file, &table)).with_failures(failures)
    }

    /// Without the source's macro files, only `_filter` macros and other apps' published
    /// macros expand.
    fn parse(&self, file: SourceFile<'_>) -> Parsed {
        static PUBLISHED: LazyLock<MacroTable> = LazyLock::new(MacroTable::published);
        read_detection(file, &PUBLISHED)
    }
}

/// Whether a support file is one of ESCU's macro definitions.
pub fn is_macro_file(path: &str) -> bool {
    path.strip_prefix("macros/").is_some_and(|name| !name.contains('/') && name.ends_with(".yml"))
}

/// Reads a detection and expands its search. A search whose macros cannot be expanded (a cycle,
/// say) keeps the rule, without a paste-ready search, and reports why.
fn read_detection(file: SourceFile<'_>, macros: &MacroTable) -> Parsed {
    let mut rule = match yaml::<RawDetection>(file.text).and_then(|raw| raw.into_rule(file)) {
        Ok(rule) => rule,
        Err(error) => return Parsed { rules: vec![], errors: vec![error] },
    };
    let mut errors = Vec::new();
    match macros::expand(&rule.query, macros, &keep_none) {
        Ok(expansion) => {
            rule.requires = search_dependencies(&rule.query, &expansion.text);
            rule.unresolved_macros = expansion.unresolved;
            rule.paste_ready_query = (expansion.expanded > 0).then_some(expansion.text);
        }
        Err(error) => {
            rule.requires = search_dependencies(&rule.query, &rule.query);
            errors.push(ParseError::new(format!("search macros cannot be expanded: {error}")));
        }
    }
    Parsed { rules: vec![rule], errors }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawDetection {
    name: Option<String>,
    id: Option<Scalar>,
    date: Option<Scalar>,
    creation_date: Option<Scalar>,
    modification_date: Option<Scalar>,
    author: Option<String>,
    status: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    description: Option<String>,
    data_source: OneOrMany,
    data_sources: OneOrMany,
    search: Option<String>,
    how_to_implement: Option<String>,
    known_false_positives: Option<String>,
    references: OneOrMany,
    mitre_attack_id: OneOrMany,
    analytic_story: OneOrMany,
    rba: Option<RawRba>,
    tags: RawTags,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawTags {
    analytic_story: OneOrMany,
    mitre_attack_id: OneOrMany,
    asset_type: Option<String>,
    security_domain: Option<String>,
    risk_score: Option<f64>,
    confidence: Option<f64>,
    impact: Option<f64>,
    cve: OneOrMany,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawRba {
    risk_objects: Vec<RawRiskObject>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawRiskObject {
    score: Option<f64>,
}

impl RawDetection {
    fn into_rule(self, file: SourceFile<'_>) -> Result<Rule, ParseError> {
        let attack_tags = self.attack_ids();
        let stories = self.stories();
        let title = self.name.filter(|n| !n.trim().is_empty()).ok_or_else(|| ParseError::new("missing `name`"))?;
        let search = self.search.filter(|s| !s.trim().is_empty()).ok_or_else(|| ParseError::new("missing `search`"))?;
        let deprecated = file.path.split('/').any(|c| c == "deprecated");
        let risk_score = self.tags.risk_score.or_else(|| self.rba.as_ref().and_then(RawRba::max_score));
        Ok(Rule {
            native_id: self.id.map(|s| s.0).unwrap_or_default(),
            title,
            description: self.description.unwrap_or_default().trim().to_string(),
            vendor: Format::SplunkEscu.vendor().into(),
            product: Format::SplunkEscu.product().into(),
            language: Some(Language::Spl),
            query: search.trim_end().to_string(),
            native_rule: file.text.to_string(),
            rule_type: self.kind.as_deref().and_then(rule_type),
            rule_type_native: self.kind,
            // ESCU ships a risk score, not a severity; the severity is derived from it.
            severity: risk_score.map(Severity::from_risk_score),
            severity_native: None,
            risk_score,
            status: Some(status(self.status.as_deref(), deprecated)),
            status_native: self.status,
            attack_tags,
            data_sources: if self.data_source.0.is_empty() { self.data_sources.0 } else { self.data_source.0 },
            author: self.author,
            created: self.creation_date.or(self.date.clone()).and_then(|d| iso_date(&d.0)),
            updated: self.modification_date.or(self.date).and_then(|d| iso_date(&d.0)),
            references: self.references.0,
            false_positives: non_empty(self.known_false_positives).into_iter().collect(),
            tags: labels(stories.into_iter(), self.tags.asset_type, self.tags.security_domain, self.tags.cve.0),
            implementation: non_empty(self.how_to_implement),
            path: file.path.to_string(),
            ..Rule::default()
        })
    }
}

impl RawDetection {
    /// ATT&CK IDs, from either schema.
    fn attack_ids(&self) -> Vec<String> {
        self.mitre_attack_id.0.iter().chain(&self.tags.mitre_attack_id.0).cloned().collect()
    }

    /// Analytic stories, from either schema.
    fn stories(&self) -> Vec<String> {
        self.analytic_story.0.iter().chain(&self.tags.analytic_story.0).cloned().collect()
    }
}

/// What ESCU's build writes into a saved search's `action.correlationsearch.annotations`,
/// besides the fields every rule has.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Annotations {
    /// ESCU's detection type (`TTP`, `Anomaly`, `Hunting`, `Correlation`).
    pub kind: Option<String>,
    pub analytic_story: Vec<String>,
    pub mitre_attack: Vec<String>,
    pub cve: Vec<String>,
    pub confidence: Option<f64>,
    pub impact: Option<f64>,
}

/// Reads the annotations back from a detection's native file (either schema).
pub fn read_annotations(native: &str) -> Result<Annotations, ParseError> {
    let raw: RawDetection = yaml(native)?;
    Ok(Annotations {
        analytic_story: raw.stories(),
        mitre_attack: raw.attack_ids(),
        kind: raw.kind,
        cve: raw.tags.cve.0,
        confidence: raw.tags.confidence,
        impact: raw.tags.impact,
    })
}

impl RawRba {
    fn max_score(&self) -> Option<f64> {
        self.risk_objects.iter().filter_map(|o| o.score).reduce(f64::max)
    }
}

/// ESCU's descriptive fields, as `Key: value` labels in the style Elastic tags use.
fn labels(
    stories: impl Iterator<Item = String>,
    asset_type: Option<String>,
    security_domain: Option<String>,
    cves: Vec<String>,
) -> Vec<String> {
    let mut labels: Vec<String> = stories.map(|s| format!("Analytic Story: {s}")).collect();
    labels.extend(asset_type.map(|a| format!("Asset Type: {a}")));
    labels.extend(security_domain.map(|d| format!("Security Domain: {d}")));
    labels.extend(cves.into_iter().map(|c| format!("CVE: {c}")));
    labels.dedup();
    labels
}

fn rule_type(native: &str) -> Option<RuleType> {
    match native.trim().to_ascii_lowercase().as_str() {
        "ttp" => Some(RuleType::Ttp),
        "anomaly" => Some(RuleType::Anomaly),
        "hunting" => Some(RuleType::Hunt),
        "correlation" => Some(RuleType::Correlation),
        "baseline" => Some(RuleType::Baseline),
        _ => None,
    }
}

fn status(native: Option<&str>, in_deprecated_folder: bool) -> Status {
    match native.map(str::to_ascii_lowercase).as_deref() {
        _ if in_deprecated_folder => Status::Deprecated,
        Some("deprecated" | "removed") => Status::Deprecated,
        Some("experimental" | "development") => Status::Experimental,
        _ => Status::Production,
    }
}

static LOOKUP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\|\s*(?:input|output)?lookup\s+(?:[a-z_]+=\S+\s+)*([A-Za-z0-9_.\-]+)").expect("valid regex")
});

/// What a search needs in Splunk: the macros the shipped search calls (named as Splunk defines
/// them, `name(N)` for N arguments) and the lookups its expansion reads or writes.
fn search_dependencies(shipped: &str, expanded: &str) -> Vec<Dependency> {
    let macros = spl::called_macros(shipped).into_iter().map(|name| Dependency { kind: DependencyKind::Macro, name });
    let lookups = lookups_used(expanded).into_iter().map(|name| Dependency { kind: DependencyKind::Lookup, name });
    let mut dependencies: Vec<Dependency> = macros.chain(lookups).collect();
    dependencies.sort();
    dependencies.dedup();
    dependencies
}

/// The lookups a search's `lookup`, `inputlookup` and `outputlookup` commands name, in order,
/// without repeats. Quoted values, comments and unexpanded macro calls are not searched.
pub fn lookups_used(search: &str) -> Vec<String> {
    let code = spl::code_only(search);
    let mut names: Vec<String> = Vec::new();
    for name in LOOKUP.captures_iter(&code).map(|c| c[1].to_string()) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(path: &str, text: &str) -> Parsed {
        SplunkEscu.parse(SourceFile { path, text })
    }

    const OLD_SCHEMA: &str = r#"name: Windows Proxy Via Netsh
id: c137bfe8-6036-4cff-b77b-4e327dd0a1cf
version: 3
date: '2024-09-30'
author: Teoderick Contreras, Splunk
status: production
type: Anomaly
data_source:
- Sysmon EventID 1
description: The following analytic identifies the use of netsh.exe.
search: '| tstats `security_content_summariesonly` count from datamodel=Endpoint.Processes where `process_netsh` by Processes.dest | `drop_dm_object_name("Processes")` | lookup update=true is_windows_system_file filename as process_name OUTPUT systemFile | `windows_proxy_via_netsh_filter`'
how_to_implement: Ingest EDR data.
known_false_positives: Some VPN applications launch netsh.exe.
references:
- https://example.com/volt-typhoon
tags:
  analytic_story:
  - Volt Typhoon
  asset_type: Endpoint
  mitre_attack_id:
  - T1090.001
  - T1090
  risk_score: 49
  security_domain: endpoint
"#;

    const NEW_SCHEMA: &str = r#"name: Windows TOR Client Execution
id: f164bc6f-ecbe-45e0-aaa6-f5c4d8c84b9a
version: 1
creation_date: '2026-01-10'
modification_date: '2026-02-02'
author: Vignesh Subramanian, Splunk
status: experimental
type: TTP
description: |
  Detects TOR.
data_source:
  - Sysmon EventID 1
search: |
  | tstats count from datamodel=Endpoint.Processes where Processes.process_name = "tor.exe"
  | `windows_tor_client_execution_filter`
mitre_attack_id:
  - T1090.003
analytic_story:
  - Command And Control
rba:
  message: TOR on $dest$
  risk_objects:
    - field: dest
      type: system
      score: 40
    - field: user
      type: user
      score: 64
"#;

    #[test]
    fn older_schema_reads_attack_stories_and_risk_from_tags() {
        let parsed = parse("detections/endpoint/windows_proxy_via_netsh.yml", OLD_SCHEMA);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let rule = &parsed.rules[0];
        assert_eq!(rule.native_id, "c137bfe8-6036-4cff-b77b-4e327dd0a1cf");
        assert_eq!(rule.attack_tags, vec!["T1090.001", "T1090"]);
        assert_eq!(rule.rule_type, Some(RuleType::Anomaly));
        assert_eq!(rule.risk_score, Some(49.0));
        assert_eq!(rule.severity, Some(Severity::Medium));
        assert_eq!(rule.created.as_deref(), Some("2024-09-30"));
        assert!(rule.tags.contains(&"Analytic Story: Volt Typhoon".to_string()));
        assert_eq!(rule.false_positives, vec!["Some VPN applications launch netsh.exe."]);
        assert_eq!(rule.native_rule, OLD_SCHEMA);
        let names: Vec<String> = rule.requires.iter().map(|d| format!("{:?}:{}", d.kind, d.name)).collect();
        assert_eq!(
            names,
            vec![
                "Macro:drop_dm_object_name(1)",
                "Macro:process_netsh",
                "Macro:security_content_summariesonly",
                "Macro:windows_proxy_via_netsh_filter",
                "Lookup:is_windows_system_file"
            ]
        );
    }

    #[test]
    fn newer_schema_reads_top_level_attack_dates_and_rba_score() {
        let parsed = parse("detections/endpoint/windows_tor_client_execution.yml", NEW_SCHEMA);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let rule = &parsed.rules[0];
        assert_eq!(rule.attack_tags, vec!["T1090.003"]);
        assert_eq!(rule.created.as_deref(), Some("2026-01-10"));
        assert_eq!(rule.updated.as_deref(), Some("2026-02-02"));
        assert_eq!(rule.risk_score, Some(64.0));
        assert_eq!(rule.status, Some(Status::Experimental));
        assert_eq!(rule.rule_type, Some(RuleType::Ttp));
        assert_eq!(rule.tags, vec!["Analytic Story: Command And Control"]);
        assert!(rule.query.ends_with("`windows_tor_client_execution_filter`"));
    }

    #[test]
    fn files_in_the_deprecated_folder_are_deprecated() {
        let parsed = parse("detections/deprecated/x.yml", OLD_SCHEMA);
        assert_eq!(parsed.rules[0].status, Some(Status::Deprecated));
    }

    #[test]
    fn broken_files_are_reported_not_panicked_on() {
        assert!(parse("detections/x.yml", "name: [unclosed").errors[0].message.starts_with("invalid YAML"));
        assert_eq!(parse("detections/x.yml", "id: 1\nsearch: x\n").errors[0].message, "missing `name`");
        assert_eq!(parse("detections/x.yml", "name: x\n").errors[0].message, "missing `search`");
        assert!(parse("detections/x.yml", "- a list\n- not a mapping\n").errors[0].message.starts_with("invalid YAML"));
        for end in 0..OLD_SCHEMA.len() {
            let _ = parse("detections/t.yml", &OLD_SCHEMA[..end]);
        }
    }
}

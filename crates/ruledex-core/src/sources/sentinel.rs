//! Microsoft Sentinel content (YAML + KQL): analytic rules (`Detections/**` and
//! `Solutions/*/Analytic Rules/**`) and hunting queries (`Hunting Queries/**` and
//! `Solutions/*/Hunting Queries/**`), which Sentinel deploys as saved searches to run by hand.
//!
//! Besides its query, a rule carries how Sentinel runs it: the schedule (`queryFrequency`,
//! `queryPeriod`, the trigger), suppression, the entities its result columns map to, custom
//! details, alert details, event grouping and incident settings. All of that is deployment
//! configuration, so it is kept as the rule's implementation notes, every field written out.
//! The data connectors it reads (`requiredDataConnectors`) are its data sources. Tactics are
//! written in CamelCase ("CommandAndControl") and are spelled out as words so the ATT&CK
//! resolver knows them. Upstream writes files as `.yaml`, `.yml` and `.YAML`.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::util::{OneOrMany, Scalar, non_empty, required, yaml};
use super::{Adapter, ParseError, Parsed, SourceFile};
use crate::ids::TechniqueId;
use crate::model::{Format, Language, Rule, RuleType, Severity, Status};

pub struct Sentinel;

/// The folders upstream keeps hunting queries in; everything else the patterns name is an
/// analytic rule.
const HUNTING_FOLDER: &str = "Hunting Queries";

impl Adapter for Sentinel {
    fn patterns(&self) -> &'static [&'static str] {
        // Bracket classes, which git's sparse checkout reads too, match the extension in any case.
        &[
            "Detections/**/*.[yY][aA][mM][lL]",
            "Detections/**/*.[yY][mM][lL]",
            "Solutions/*/Analytic Rules/**/*.[yY][aA][mM][lL]",
            "Solutions/*/Analytic Rules/**/*.[yY][mM][lL]",
            "Hunting Queries/**/*.[yY][aA][mM][lL]",
            "Hunting Queries/**/*.[yY][mM][lL]",
            "Solutions/*/Hunting Queries/**/*.[yY][aA][mM][lL]",
            "Solutions/*/Hunting Queries/**/*.[yY][mM][lL]",
        ]
    }

    fn parse(&self, file: SourceFile<'_>) -> Parsed {
        read(file.text).and_then(|raw| raw.into_rule(file)).into()
    }
}

/// The file's fields; a file that is only text (a bare query saved as `.yaml`) is named as such.
fn read(text: &str) -> Result<RawRule, ParseError> {
    yaml::<RawRule>(text).map_err(|error| match yaml::<String>(text) {
        Ok(_) => ParseError::new("not a Sentinel rule: the file holds only text (a bare query?), not YAML fields"),
        Err(_) => error,
    })
}

/// Whether a path lies in a hunting queries folder (`Hunting Queries/...` or
/// `Solutions/NAME/Hunting Queries/...`).
fn is_hunting_query(path: &str) -> bool {
    let mut folders = path.split('/');
    match folders.next() {
        Some(HUNTING_FOLDER) => true,
        Some("Solutions") => folders.nth(1) == Some(HUNTING_FOLDER),
        _ => false,
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RawRule {
    id: Option<Scalar>,
    name: Option<String>,
    description: Option<String>,
    /// Hunting queries' longer description, spelled both ways upstream.
    #[serde(rename = "description-detailed")]
    description_detailed: Option<String>,
    #[serde(rename = "description_detailed")]
    description_detailed_underscored: Option<String>,
    severity: Option<String>,
    kind: Option<String>,
    status: Option<String>,
    version: Option<Scalar>,
    required_data_connectors: Option<Vec<RawConnector>>,
    query_frequency: Option<Scalar>,
    query_period: Option<Scalar>,
    trigger_operator: Option<String>,
    trigger_threshold: Option<Scalar>,
    suppression_duration: Option<Scalar>,
    suppression_enabled: Option<Value>,
    enabled: Option<Value>,
    start_time_utc: Option<Value>,
    tactics: OneOrMany,
    relevant_techniques: OneOrMany,
    /// A misspelling of `relevantTechniques` some files carry.
    technique: OneOrMany,
    /// Mostly words ("Solorigate"), sometimes maps (`- Id: <rule id>` for rules derived from
    /// another), so read loosely.
    tags: Option<Vec<Value>>,
    query: Option<String>,
    entity_mappings: Option<Vec<RawEntityMapping>>,
    custom_details: Option<Value>,
    alert_details_override: Option<Value>,
    event_grouping_settings: Option<Value>,
    incident_configuration: Option<Value>,
    /// Solutions' `source`, `author`, `support` and `categories`, read loosely.
    metadata: Option<Value>,
}

/// A connector with the tables it brings; a few files name connectors alone
/// (`requiredDataConnectors: [GitHubLogs]`).
enum RawConnector {
    Named(String),
    Described(RawConnectorFields),
}

impl<'de> Deserialize<'de> for RawConnector {
    /// By the shape found, without buffering the entry as `#[serde(untagged)]` would.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Shape;
        impl<'de> Visitor<'de> for Shape {
            type Value = RawConnector;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a connector's name, or its `connectorId` and `dataTypes`")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<RawConnector, E> {
                Ok(RawConnector::Named(name.to_string()))
            }
            fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<RawConnector, M::Error> {
                RawConnectorFields::deserialize(de::value::MapAccessDeserializer::new(map)).map(RawConnector::Described)
            }
        }
        deserializer.deserialize_any(Shape)
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RawConnectorFields {
    /// One connector, or (in a few files) a list of them bringing the same tables.
    connector_id: OneOrMany,
    data_types: OneOrMany,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RawEntityMapping {
    entity_type: Option<String>,
    field_mappings: Option<Vec<RawFieldMapping>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RawFieldMapping {
    identifier: Option<String>,
    column_name: Option<String>,
}

impl RawRule {
    fn into_rule(mut self, file: SourceFile<'_>) -> Result<Rule, ParseError> {
        let title = required(self.name.take(), "name")?;
        let description = self.description();
        let Some(query) = non_empty(self.query.take()) else {
            return Err(missing_query(&description));
        };
        let hunting = is_hunting_query(file.path);
        let (tag_techniques, mut tags) = split_tags(self.tags.as_deref().unwrap_or_default());
        tags.extend(self.metadata.as_ref().map(metadata_tags).unwrap_or_default());
        let mut attack_tags: Vec<String> = self.tactics.0.iter().map(|t| words(t)).collect();
        let techniques = self.relevant_techniques.0.iter().chain(&self.technique.0);
        attack_tags.extend(techniques.map(|t| t.trim().to_string()));
        attack_tags.extend(tag_techniques);
        attack_tags.retain(|t| !t.is_empty());
        let severity_native = non_empty(self.severity.take());
        Ok(Rule {
            native_id: self.id.take().map(|s| s.0).unwrap_or_default(),
            description,
            vendor: Format::Sentinel.vendor().into(),
            product: Format::Sentinel.product().into(),
            language: Some(Language::Kusto),
            query,
            native_rule: file.text.to_string(),
            rule_type: if hunting { Some(RuleType::Hunt) } else { rule_type(self.kind.as_deref()) },
            rule_type_native: if hunting { Some("hunting query".into()) } else { non_empty(self.kind.take()) },
            severity: severity_native.as_deref().and_then(Severity::from_native),
            severity_native,
            status: Some(status(self.status.as_deref(), &title)),
            status_native: non_empty(self.status.take()),
            attack_tags,
            data_sources: self.data_sources(),
            author: self.metadata.as_ref().and_then(|m| texts(m, "/author/name").into_iter().next()),
            tags,
            implementation: self.implementation(),
            version: self.version.take().map(|v| v.0.trim().to_string()).filter(|v| !v.is_empty()),
            path: file.path.to_string(),
            title,
            ..Rule::default()
        })
    }

    /// The description, then the longer one hunting queries may add, unless it only repeats it.
    fn description(&self) -> String {
        let short = unquote(self.description.as_deref().unwrap_or_default()).to_string();
        let detailed = self.description_detailed.as_deref().or(self.description_detailed_underscored.as_deref());
        match detailed.map(unquote).filter(|d| !d.is_empty()) {
            Some(detailed) if detailed.starts_with(&short) => detailed.to_string(),
            Some(detailed) => format!("{short}\n\n{detailed}"),
            None => short,
        }
    }

    /// One entry per connector, naming the tables it brings: "Syslog (Syslog)".
    fn data_sources(&self) -> Vec<String> {
        let mut sources: Vec<String> =
            self.required_data_connectors.iter().flatten().flat_map(RawConnector::entries).collect();
        sources.dedup();
        sources
    }

    /// How Sentinel runs the rule, one setting a line, for whoever deploys it.
    fn implementation(&self) -> Option<String> {
        let mut lines = Vec::new();
        lines.extend(self.query_frequency.as_ref().map(|f| format!("Query frequency: {}", f.0)));
        lines.extend(self.query_period.as_ref().map(|p| format!("Query period: {}", p.0)));
        if let (Some(operator), Some(threshold)) = (&self.trigger_operator, &self.trigger_threshold) {
            lines.push(format!("Trigger: {operator} {}", threshold.0));
        }
        lines.extend(self.suppression_duration.as_ref().map(|d| format!("Suppression duration: {}", d.0)));
        let settings = [
            ("Suppression enabled", &self.suppression_enabled),
            ("Enabled when deployed", &self.enabled),
            ("Start time (UTC)", &self.start_time_utc),
        ];
        for (label, value) in settings {
            lines.extend(value.as_ref().filter(|v| !v.is_null()).map(|v| format!("{label}: {}", compact(v))));
        }
        let entities: Vec<String> =
            self.entity_mappings.iter().flatten().filter_map(RawEntityMapping::summary).collect();
        if !entities.is_empty() {
            lines.push(format!("Entity mappings: {}", entities.join("; ")));
        }
        let blocks = [
            ("Custom details", &self.custom_details),
            ("Alert details override", &self.alert_details_override),
            ("Event grouping", &self.event_grouping_settings),
            ("Incident configuration", &self.incident_configuration),
        ];
        for (label, value) in blocks {
            lines.extend(value.as_ref().filter(|v| !v.is_null()).map(|v| format!("{label}: {}", compact(v))));
        }
        (!lines.is_empty()).then(|| lines.join("\n"))
    }
}

/// A file without a query: most often a placeholder left where content moved from, which says so
/// in its description.
fn missing_query(description: &str) -> ParseError {
    let lowered = description.to_ascii_lowercase();
    if lowered.contains("moved") || lowered.contains("migration") {
        let said: String = description.chars().take(400).collect();
        ParseError::new(format!("a placeholder, not a rule (no `query`): {said}"))
    } else {
        ParseError::new("missing `query`")
    }
}

impl RawConnector {
    fn entries(&self) -> Vec<String> {
        let (ids, types) = match self {
            RawConnector::Named(id) => (std::slice::from_ref(id), String::new()),
            RawConnector::Described(c) => (c.connector_id.0.as_slice(), c.data_types.0.join(", ")),
        };
        let ids: Vec<&str> = ids.iter().map(|id| id.trim()).filter(|id| !id.is_empty()).collect();
        match (ids.is_empty(), types.is_empty()) {
            (false, true) => ids.iter().map(|id| id.to_string()).collect(),
            (false, false) => ids.iter().map(|id| format!("{id} ({types})")).collect(),
            (true, false) => vec![types],
            (true, true) => vec![],
        }
    }
}

impl RawEntityMapping {
    /// "IP (Address = IPCustomEntity)": the entity and the result columns that fill it.
    fn summary(&self) -> Option<String> {
        let entity = non_empty(self.entity_type.clone())?;
        let fields: Vec<String> = self
            .field_mappings
            .iter()
            .flatten()
            .filter_map(|f| Some(format!("{} = {}", f.identifier.as_deref()?, f.column_name.as_deref()?)))
            .collect();
        Some(if fields.is_empty() { entity } else { format!("{entity} ({})", fields.join(", ")) })
    }
}

/// A setting on one line: `key: value` pairs joined by commas, lists by commas, nested maps in
/// parentheses.
fn compact(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let pairs: Vec<String> = map.iter().map(|(k, v)| format!("{k}: {}", nested(v))).collect();
            pairs.join(", ")
        }
        Value::Array(items) => items.iter().map(nested).collect::<Vec<_>>().join(", "),
        other => scalar(other).unwrap_or_default(),
    }
}

fn nested(value: &Value) -> String {
    match value {
        Value::Object(_) => format!("({})", compact(value)),
        Value::Array(items) if items.len() > 1 => format!("[{}]", compact(value)),
        other => compact(other),
    }
}

/// Solutions' metadata as labels: "Source: Community", "Support: Microsoft", "Domain: Identity".
fn metadata_tags(metadata: &Value) -> Vec<String> {
    let fields = [
        ("Source", "/source/kind"),
        ("Source", "/source/name"),
        ("Support", "/support/tier"),
        ("Support", "/support/name"),
        ("Domain", "/categories/domains"),
        ("Vertical", "/categories/verticals"),
    ];
    fields
        .iter()
        .flat_map(|(label, pointer)| texts(metadata, pointer).into_iter().map(move |t| format!("{label}: {t}")))
        .collect()
}

/// The text (or texts, for a list) at a JSON pointer; nothing for other shapes.
fn texts(value: &Value, pointer: &str) -> Vec<String> {
    let found = match value.pointer(pointer) {
        Some(Value::Array(items)) => items.iter().filter_map(scalar).collect(),
        Some(other) => scalar(other).into_iter().collect(),
        None => vec![],
    };
    found.into_iter().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect()
}

/// Splits `tags` into technique IDs (some rules list them there) and labels. A map entry
/// (`- Id: 28b42356-...` with `version: 1.0.0`, naming the rule this one derives from) becomes
/// one label of `Key: value` pairs.
fn split_tags(tags: &[Value]) -> (Vec<String>, Vec<String>) {
    let mut labels = Vec::new();
    for tag in tags {
        match tag {
            Value::Object(map) => {
                let pairs: Vec<String> = map.iter().filter_map(|(k, v)| Some(format!("{k}: {}", scalar(v)?))).collect();
                labels.push(pairs.join(", "));
            }
            other => labels.extend(scalar(other)),
        }
    }
    labels.iter_mut().for_each(|l| *l = l.trim().to_string());
    labels.retain(|l| !l.is_empty());
    labels.into_iter().partition(|l| l.parse::<TechniqueId>().is_ok())
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// "CommandAndControl" -> "Command And Control".
fn words(camel: &str) -> String {
    let mut words = String::new();
    let mut previous = ' ';
    for c in camel.trim().chars() {
        if c.is_uppercase() && previous.is_lowercase() {
            words.push(' ');
        }
        words.push(c);
        previous = c;
    }
    words
}

/// Sentinel descriptions are usually a block scalar holding a single-quoted string
/// (`description: |` then `'Detects ...'`); the quotes are not part of the text.
pub(crate) fn unquote(description: &str) -> &str {
    let trimmed = description.trim();
    trimmed.strip_prefix('\'').and_then(|d| d.strip_suffix('\'')).map_or(trimmed, str::trim)
}

/// Scheduled and near-real-time (NRT) rules both raise alerts. Rules written before `kind`
/// existed were all scheduled.
fn rule_type(kind: Option<&str>) -> Option<RuleType> {
    match kind.map(|k| k.trim().to_ascii_lowercase()).as_deref() {
        None | Some("" | "scheduled" | "nrt") => Some(RuleType::Alert),
        Some(_) => None,
    }
}

/// Shipped templates are `Available`; retired ones say so in `status` or, more often, with a
/// `[Deprecated]` prefix on the name.
fn status(native: Option<&str>, title: &str) -> Status {
    let retired = native.is_some_and(|s| s.trim().eq_ignore_ascii_case("deprecated"))
        || title.to_ascii_lowercase().starts_with("[deprecated]");
    if retired { Status::Deprecated } else { Status::Production }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(path: &str, text: &str) -> Parsed {
        Sentinel.parse(SourceFile { path, text })
    }

    const SCHEDULED: &str = r#"id: 90d3f6ec-80fb-48e0-9937-2c70c9df9bad
name: Squid proxy events for ToR proxies
description: |
  'Check for Squid proxy events associated with common ToR proxies.'
severity: Low
requiredDataConnectors:
  - connectorId: Syslog
    dataTypes:
      - Syslog
  - connectorId: SyslogAma
    dataTypes:
      - Syslog
queryFrequency: 1d
queryPeriod: 1d
triggerOperator: gt
triggerThreshold: 0
tactics:
  - CommandAndControl
relevantTechniques:
  - T1090
  - 'T1008 '
tags:
  - Solorigate
  - T1090.003
  - Id: a83ef0f4-dace-4767-bce3-ebd32599d2a0
    version: 1.0.0
query: |

  Syslog
  | where ProcessName contains "squid"
  | extend URLCustomEntity = URL, IPCustomEntity = SourceIP
entityMappings:
  - entityType: IP
    fieldMappings:
      - identifier: Address
        columnName: IPCustomEntity
  - entityType: URL
    fieldMappings:
      - identifier: Url
        columnName: URLCustomEntity
version: 1.0.1
metadata:
    author:
        name: Microsoft Security Research
kind: Scheduled
"#;

    #[test]
    fn scheduled_rules_keep_query_schedule_connectors_and_attack() {
        let parsed = parse("Solutions/Syslog/Analytic Rules/squid_tor_proxies.yaml", SCHEDULED);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let rule = &parsed.rules[0];
        assert_eq!(rule.native_id, "90d3f6ec-80fb-48e0-9937-2c70c9df9bad");
        assert_eq!(rule.title, "Squid proxy events for ToR proxies");
        assert_eq!(rule.description, "Check for Squid proxy events associated with common ToR proxies.");
        assert_eq!(rule.language, Some(Language::Kusto));
        assert!(rule.query.starts_with("Syslog\n| where ProcessName") && rule.query.ends_with("SourceIP"));
        assert_eq!(rule.attack_tags, vec!["Command And Control", "T1090", "T1008", "T1090.003"]);
        assert_eq!(rule.data_sources, vec!["Syslog (Syslog)", "SyslogAma (Syslog)"]);
        assert_eq!(rule.severity, Some(Severity::Low));
        assert_eq!((rule.rule_type, rule.rule_type_native.as_deref()), (Some(RuleType::Alert), Some("Scheduled")));
        assert_eq!(rule.status, Some(Status::Production));
        assert_eq!(rule.author.as_deref(), Some("Microsoft Security Research"));
        assert_eq!(rule.tags, vec!["Solorigate", "Id: a83ef0f4-dace-4767-bce3-ebd32599d2a0, version: 1.0.0"]);
        assert_eq!(rule.version.as_deref(), Some("1.0.1"));
        assert_eq!(
            rule.implementation.as_deref(),
            Some(
                "Query frequency: 1d\nQuery period: 1d\nTrigger: gt 0\n\
                 Entity mappings: IP (Address = IPCustomEntity); URL (Url = URLCustomEntity)"
            )
        );
        assert_eq!(rule.native_rule, SCHEDULED);
    }

    #[test]
    fn nrt_and_older_kindless_rules_are_alerts_with_their_native_kind() {
        let nrt = "name: n\nquery: AuditLogs\nkind: NRT\nseverity: Mediumasdf\nstatus: Available\n";
        let rule = &parse("Detections/AuditLogs/NRT_x.yaml", nrt).rules[0];
        assert_eq!((rule.rule_type, rule.rule_type_native.as_deref()), (Some(RuleType::Alert), Some("NRT")));
        assert_eq!((rule.severity, rule.severity_native.as_deref()), (None, Some("Mediumasdf")));
        assert_eq!(rule.status_native.as_deref(), Some("Available"));
        assert_eq!(rule.implementation, None);
        let old = &parse("Detections/x.yaml", "name: n\nquery: x\nrequiredDataConnectors: []\n").rules[0];
        assert_eq!((old.rule_type, old.rule_type_native.as_deref()), (Some(RuleType::Alert), None));
        let other = &parse("Detections/x.yaml", "name: n\nquery: x\nkind: Fusion\n").rules[0];
        assert_eq!(other.rule_type, None);
    }

    #[test]
    fn retired_rules_are_deprecated() {
        let by_name = &parse("Detections/x.yaml", "name: '[Deprecated] - Old rule'\nquery: x\n").rules[0];
        assert_eq!(by_name.status, Some(Status::Deprecated));
        let by_status = &parse("Detections/x.yaml", "name: r\nquery: x\nstatus: Deprecated\n").rules[0];
        assert_eq!(by_status.status, Some(Status::Deprecated));
    }

    #[test]
    fn tactics_in_camel_case_become_words() {
        assert_eq!(words("CommandAndControl"), "Command And Control");
        assert_eq!(words(" PrivilegeEscalation "), "Privilege Escalation");
        assert_eq!(words("Command and Control"), "Command and Control");
        assert_eq!(words("PreAttack"), "Pre Attack");
    }

    const HUNTING: &str = r#"id: edbeec9f-86b9-475d-8a42-cc7b95ad2baa
name: Squid malformed requests
description: |
    'Malformed web requests are sometimes used for reconnaissance.'
description-detailed: |
  'Malformed web requests are sometimes used for reconnaissance.
  Hunting for many requests from one source may locate compromised hosts.'
requiredDataConnectors:
  - connectorId: Syslog
    dataTypes:
      - Syslog
tactics:
  - Discovery
relevantTechniques:
  - T1046
query: |
  Syslog
  | where ProcessName contains "squid"
entityMappings:
  - entityType: IP
    fieldMappings:
      - identifier: Address
        columnName: SourceIP
version: 1.0.1
metadata:
  source:
    kind: Community
  author:
    name: Ofer Shezaf
  support:
    tier: Community
  categories:
    domains: [ "Security - Network", Identity ]
"#;

    #[test]
    fn hunting_queries_are_hunts_with_connectors_attack_entities_and_metadata() {
        for path in ["Solutions/Syslog/Hunting Queries/squid.yaml", "Hunting Queries/Syslog/squid.YAML"] {
            let parsed = parse(path, HUNTING);
            assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
            let rule = &parsed.rules[0];
            assert_eq!(
                (rule.rule_type, rule.rule_type_native.as_deref()),
                (Some(RuleType::Hunt), Some("hunting query"))
            );
            assert_eq!(
                rule.description,
                "Malformed web requests are sometimes used for reconnaissance.\n\
                 Hunting for many requests from one source may locate compromised hosts."
            );
            assert_eq!(rule.attack_tags, vec!["Discovery", "T1046"]);
            assert_eq!(rule.data_sources, vec!["Syslog (Syslog)"]);
            assert_eq!(rule.implementation.as_deref(), Some("Entity mappings: IP (Address = SourceIP)"));
            assert_eq!(rule.author.as_deref(), Some("Ofer Shezaf"));
            assert_eq!(
                rule.tags,
                vec!["Source: Community", "Support: Community", "Domain: Security - Network", "Domain: Identity"]
            );
            assert_eq!(rule.version.as_deref(), Some("1.0.1"));
        }
        let analytic = &parse("Solutions/Syslog/Analytic Rules/squid.yaml", HUNTING).rules[0];
        assert_eq!(analytic.rule_type, Some(RuleType::Alert), "the folder, not the fields, makes a hunt");
    }

    #[test]
    fn the_patterns_read_every_folder_and_extension_upstream_uses() {
        let patterns = crate::walk::glob_set(Sentinel.patterns()).unwrap();
        for path in [
            "Detections/SecurityEvent/x.yaml",
            "Detections/SecurityEvent/x.yml",
            "Solutions/Cisco ASA/Analytic Rules/x.yaml",
            "Hunting Queries/Microsoft 365 Defender/Discovery/MDE_ProxyChangesViaRegistry.YAML",
            "Hunting Queries/Syslog/x.yml",
            "Solutions/Syslog/Hunting Queries/x.yaml",
        ] {
            assert!(patterns.is_match(path), "{path}");
        }
        for path in ["Solutions/Syslog/Workbooks/x.yaml", "Parsers/x.yaml", "Detections/x.json"] {
            assert!(!patterns.is_match(path), "{path}");
        }
        assert!(is_hunting_query("Hunting Queries/x.yaml") && is_hunting_query("Solutions/S/Hunting Queries/x.yaml"));
        assert!(!is_hunting_query("Solutions/Hunting Queries/Analytic Rules/x.yaml"));
    }

    #[test]
    fn deployment_settings_are_written_out_in_the_implementation_notes() {
        let text = "name: n\nquery: x\nsuppressionDuration: 5m\nsuppressionEnabled: false\nenabled: false\n\
                    startTimeUtc: null\ncustomDetails:\n  DGAPattern: DGADomain\n  NameCount: NameCount\n\
                    alertDetailsOverride:\n  alertDisplayNameFormat: 'DGA from {{SrcIpAddr}}'\n\
                    eventGroupingSettings:\n  aggregationKind: AlertPerResult\n\
                    incidentConfiguration:\n  createIncident: true\n  groupingConfiguration:\n    enabled: true\n\
                    \x20   groupByEntities: [Account, Host]\n";
        let rule = &parse("Detections/x.yaml", text).rules[0];
        assert_eq!(
            rule.implementation.as_deref(),
            Some(
                "Suppression duration: 5m\nSuppression enabled: false\nEnabled when deployed: false\n\
                 Custom details: DGAPattern: DGADomain, NameCount: NameCount\n\
                 Alert details override: alertDisplayNameFormat: DGA from {{SrcIpAddr}}\n\
                 Event grouping: aggregationKind: AlertPerResult\n\
                 Incident configuration: createIncident: true, groupingConfiguration: (enabled: true, \
                 groupByEntities: [Account, Host])"
            )
        );
    }

    #[test]
    fn connectors_may_be_listed_under_one_entry() {
        let text = "name: n\nquery: x\nrequiredDataConnectors:\n  - connectorId:\n    - DNS\n    - AzureMonitor\n    \
                    dataTypes:\n      - DnsEvents\n  - dataTypes: [Syslog]\n  - connectorId: Empty\n  - GitHubLogs\n";
        let rule = &parse("Detections/x.yaml", text).rules[0];
        assert_eq!(
            rule.data_sources,
            vec!["DNS (DnsEvents)", "AzureMonitor (DnsEvents)", "Syslog", "Empty", "GitHubLogs"]
        );
    }

    #[test]
    fn misspelled_technique_keys_and_numbers_are_kept_as_tags() {
        let text = "name: n\nquery: x\ntechnique:\n  - T1102\nrelevantTechniques:\n  - T1100\n  - 1089\n";
        assert_eq!(parse("Hunting Queries/x.yaml", text).rules[0].attack_tags, vec!["T1100", "1089", "T1102"]);
    }

    #[test]
    fn placeholders_and_bare_queries_are_named_failures() {
        let moved = "id: 2f8522fc\nname: Palo Alto - potential beaconing detected\ndescription: |\n  \
                     'As part of content migration, this file is moved to a new location.'\n";
        let error = &parse("Hunting Queries/CommonSecurityLog/x.yaml", moved).errors[0];
        assert_eq!(
            error.message,
            "a placeholder, not a rule (no `query`): As part of content migration, this file is moved to a new location."
        );
        let bare = "//Title:File Archiver in the browser URL click\nUrlClickEvents\n| where Timestamp > ago(30d)\n";
        assert_eq!(
            parse("Hunting Queries/x.yaml", bare).errors[0].message,
            "not a Sentinel rule: the file holds only text (a bare query?), not YAML fields"
        );
    }

    #[test]
    fn broken_files_are_reported_not_panicked_on() {
        assert_eq!(parse("Detections/x.yaml", "query: x\n").errors[0].message, "missing `name`");
        assert_eq!(parse("Detections/x.yaml", "name: x\nquery: '  '\n").errors[0].message, "missing `query`");
        let bad_block = "name: x\ndescription: | 'text on the header line'\nquery: x\n";
        assert!(parse("Detections/x.yaml", bad_block).errors[0].message.starts_with("invalid YAML"));
        let misindented = "name: x\nquery: x\nentityMappings:\n  - entityType: IP\n   - entityType: URL\n";
        assert!(parse("Detections/x.yaml", misindented).errors[0].message.starts_with("invalid YAML"));
        assert!(parse("Detections/x.yaml", "- not\n- a mapping\n").errors[0].message.starts_with("invalid YAML"));
        let numbered = parse("Detections/x.yaml", "name: x\nquery: x\nrequiredDataConnectors: [5]\n");
        assert!(numbered.errors[0].message.contains("expected a connector's name, or its `connectorId`"));
        let odd_shapes = "name: x\nquery: x\ntags: [[nested], ~]\nrequiredDataConnectors: ~\nentityMappings: ~\n";
        assert!(parse("Detections/x.yaml", odd_shapes).errors.is_empty());
        for end in 0..SCHEDULED.len() {
            let _ = parse("Detections/t.yaml", &SCHEDULED[..end]);
        }
    }
}

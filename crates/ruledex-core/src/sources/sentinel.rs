//! Microsoft Sentinel analytic rules (`Detections/**` and `Solutions/*/Analytic Rules/**`,
//! YAML + KQL).
//!
//! Besides its query, a rule carries how Sentinel runs it: the schedule (`queryFrequency`,
//! `queryPeriod`, the trigger), the data connectors it reads and the entities its result columns
//! map to. All of that is deployment configuration, so it is kept as the rule's implementation
//! notes. Tactics are written in CamelCase ("CommandAndControl") and are spelled out as words so
//! the ATT&CK resolver knows them.

use serde::Deserialize;
use serde_json::Value;

use super::util::{OneOrMany, Scalar, non_empty, required, yaml};
use super::{Adapter, ParseError, Parsed, SourceFile};
use crate::ids::TechniqueId;
use crate::model::{Format, Language, Rule, RuleType, Severity, Status};

pub struct Sentinel;

impl Adapter for Sentinel {
    fn patterns(&self) -> &'static [&'static str] {
        &[
            "Detections/**/*.yaml",
            "Detections/**/*.yml",
            "Solutions/*/Analytic Rules/**/*.yaml",
            "Solutions/*/Analytic Rules/**/*.yml",
        ]
    }

    fn parse(&self, file: SourceFile<'_>) -> Parsed {
        yaml::<RawRule>(file.text).and_then(|raw| raw.into_rule(file)).into()
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RawRule {
    id: Option<Scalar>,
    name: Option<String>,
    description: Option<String>,
    severity: Option<String>,
    kind: Option<String>,
    status: Option<String>,
    version: Option<Scalar>,
    required_data_connectors: Option<Vec<RawConnector>>,
    query_frequency: Option<Scalar>,
    query_period: Option<Scalar>,
    trigger_operator: Option<String>,
    trigger_threshold: Option<Scalar>,
    tactics: OneOrMany,
    relevant_techniques: OneOrMany,
    /// Mostly words ("Solorigate"), sometimes maps (`- Id: <rule id>` for rules derived from
    /// another), so read loosely.
    tags: Option<Vec<Value>>,
    query: Option<String>,
    entity_mappings: Option<Vec<RawEntityMapping>>,
    metadata: RawMetadata,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RawConnector {
    connector_id: Option<String>,
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

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawMetadata {
    author: RawAuthor,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawAuthor {
    name: Option<String>,
}

impl RawRule {
    fn into_rule(self, file: SourceFile<'_>) -> Result<Rule, ParseError> {
        let data_sources = self.data_sources();
        let implementation = self.implementation();
        let (tag_techniques, mut tags) = split_tags(self.tags.as_deref().unwrap_or_default());
        tags.extend(self.version.map(|v| format!("Version: {}", v.0)));
        let title = required(self.name, "name")?;
        let query = required(self.query, "query")?;
        let mut attack_tags: Vec<String> = self.tactics.0.iter().map(|t| words(t)).collect();
        attack_tags.extend(self.relevant_techniques.0.iter().map(|t| t.trim().to_string()));
        attack_tags.extend(tag_techniques);
        attack_tags.retain(|t| !t.is_empty());
        let severity_native = non_empty(self.severity);
        Ok(Rule {
            native_id: self.id.map(|s| s.0).unwrap_or_default(),
            description: unquote(self.description.as_deref().unwrap_or_default()).to_string(),
            vendor: Format::Sentinel.vendor().into(),
            product: Format::Sentinel.product().into(),
            language: Some(Language::Kusto),
            query,
            native_rule: file.text.to_string(),
            rule_type: rule_type(self.kind.as_deref()),
            rule_type_native: non_empty(self.kind),
            severity: severity_native.as_deref().and_then(Severity::from_native),
            severity_native,
            status: Some(status(self.status.as_deref(), &title)),
            status_native: non_empty(self.status),
            attack_tags,
            data_sources,
            author: non_empty(self.metadata.author.name),
            tags,
            implementation,
            path: file.path.to_string(),
            title,
            ..Rule::default()
        })
    }

    /// One entry per connector, naming the tables it brings: "Syslog (Syslog)".
    fn data_sources(&self) -> Vec<String> {
        let mut sources: Vec<String> = self
            .required_data_connectors
            .iter()
            .flatten()
            .filter_map(|c| {
                let id = non_empty(c.connector_id.clone());
                let types = c.data_types.0.join(", ");
                match (id, types.is_empty()) {
                    (Some(id), true) => Some(id),
                    (Some(id), false) => Some(format!("{id} ({types})")),
                    (None, false) => Some(types),
                    (None, true) => None,
                }
            })
            .collect();
        sources.dedup();
        sources
    }

    /// The schedule, trigger and entity mappings, one line each, for whoever deploys the rule.
    fn implementation(&self) -> Option<String> {
        let mut lines = Vec::new();
        lines.extend(self.query_frequency.as_ref().map(|f| format!("Query frequency: {}", f.0)));
        lines.extend(self.query_period.as_ref().map(|p| format!("Query period: {}", p.0)));
        if let (Some(operator), Some(threshold)) = (&self.trigger_operator, &self.trigger_threshold) {
            lines.push(format!("Trigger: {operator} {}", threshold.0));
        }
        let entities: Vec<String> =
            self.entity_mappings.iter().flatten().filter_map(RawEntityMapping::summary).collect();
        if !entities.is_empty() {
            lines.push(format!("Entity mappings: {}", entities.join("; ")));
        }
        (!lines.is_empty()).then(|| lines.join("\n"))
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
fn unquote(description: &str) -> &str {
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
        assert_eq!(
            rule.tags,
            vec!["Solorigate", "Id: a83ef0f4-dace-4767-bce3-ebd32599d2a0, version: 1.0.0", "Version: 1.0.1"]
        );
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

    #[test]
    fn broken_files_are_reported_not_panicked_on() {
        assert_eq!(parse("Detections/x.yaml", "query: x\n").errors[0].message, "missing `name`");
        assert_eq!(parse("Detections/x.yaml", "name: x\nquery: '  '\n").errors[0].message, "missing `query`");
        let bad_block = "name: x\ndescription: | 'text on the header line'\nquery: x\n";
        assert!(parse("Detections/x.yaml", bad_block).errors[0].message.starts_with("invalid YAML"));
        let misindented = "name: x\nquery: x\nentityMappings:\n  - entityType: IP\n   - entityType: URL\n";
        assert!(parse("Detections/x.yaml", misindented).errors[0].message.starts_with("invalid YAML"));
        assert!(parse("Detections/x.yaml", "- not\n- a mapping\n").errors[0].message.starts_with("invalid YAML"));
        let odd_shapes = "name: x\nquery: x\ntags: [[nested], ~]\nrequiredDataConnectors: ~\nentityMappings: ~\n";
        assert!(parse("Detections/x.yaml", odd_shapes).errors.is_empty());
        for end in 0..SCHEDULED.len() {
            let _ = parse("Detections/t.yaml", &SCHEDULED[..end]);
        }
    }
}

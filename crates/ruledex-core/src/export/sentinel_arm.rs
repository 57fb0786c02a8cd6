//! Microsoft Sentinel analytic rules and hunting queries as one ARM template (`azuredeploy.json`),
//! deployed with `az deployment group create -g GROUP --template-file azuredeploy.json
//! --parameters workspace=WORKSPACE`. Hunting queries become Log Analytics saved searches (see
//! [`hunting`]); the rest of this module is about analytic rules.
//!
//! Each rule becomes one `Microsoft.OperationalInsights/workspaces/providers/alertRules`
//! resource, converted from the upstream YAML as Microsoft's own Azure-Sentinel packaging
//! converts it: durations in ISO 8601 (`1h` → `PT1H`, `14d` → `P14D`), trigger operators spelled
//! out (`gt` → `GreaterThan`), tactics in their API spelling, entity mappings, custom details,
//! alert details, event grouping and incident settings as upstream has them, and the default
//! suppression (`PT1H`, off) where upstream sets none. Rules deploy disabled, to be enabled once
//! reviewed. The resource is named by the rule's own ID (a GUID), so deploying again updates the
//! rules instead of duplicating them.
//!
//! The GA API has no sub-techniques: `T1090.003` is deployed as `T1090`.
//!
//! Only Scheduled and NRT rules deploy from templates, and a rule whose values the API refuses
//! (an unknown tactic, a duration it cannot read) is left out with the reason, since one bad
//! resource fails the whole deployment.

mod hunting;

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::bundle::{Unwritable, convert_each, native_text};
use super::sentinel_yaml::SentinelYaml;
use super::{Export, ExportContext, ExportError, ExportFile, PlatformFormat, Writer};
use crate::ids::TechniqueId;
use crate::model::{Detection, RuleType, Severity};
use crate::sources::sentinel::unquote;
use crate::sources::util::yaml;

/// The API version each kind deploys with. Scheduled rules take the newest stable version (its
/// analytic rule schema is the same from 2023-02-01 to 2025-09-01); no stable version lists the
/// NRT kind, so NRT rules take the newest preview that does.
fn api_version(kind: &str) -> &'static str {
    if kind == "NRT" { "2025-07-01-preview" } else { "2025-09-01" }
}
const TEMPLATE_SCHEMA: &str = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#";
/// What Sentinel's packaging sets when a rule names no suppression.
const DEFAULT_SUPPRESSION: &str = "PT1H";

/// The tactics the API takes, in its spelling.
const TACTICS: &[&str] = &[
    "Reconnaissance",
    "ResourceDevelopment",
    "InitialAccess",
    "Execution",
    "Persistence",
    "PrivilegeEscalation",
    "DefenseEvasion",
    "CredentialAccess",
    "Discovery",
    "LateralMovement",
    "Collection",
    "Exfiltration",
    "CommandAndControl",
    "Impact",
    "PreAttack",
    "ImpairProcessControl",
    "InhibitResponseFunction",
];

/// Upstream settings copied as they are, when present.
const PASSED_THROUGH: &[&str] = &["entityMappings", "customDetails", "alertDetailsOverride", "eventGroupingSettings"];

pub struct SentinelArm;

impl Writer for SentinelArm {
    fn format(&self) -> PlatformFormat {
        PlatformFormat::SentinelArm
    }

    fn multi_file(&self) -> bool {
        false
    }

    fn accepts(&self, detection: &Detection) -> Result<(), String> {
        SentinelYaml.accepts(detection)?;
        if is_hunting_query(detection) {
            return Ok(());
        }
        rule_kind(detection)?;
        arm_severity(detection)?;
        Ok(())
    }

    fn write(&self, detections: &[&Detection], _context: &ExportContext) -> Result<Export, ExportError> {
        let mut names = HashSet::new();
        let converted = convert_each(self, detections, |d| resource(d, &mut names))?;
        let resources: Vec<&Value> = converted.rules.iter().map(|(_, resource)| resource).collect();
        let template = json!({
            "$schema": TEMPLATE_SCHEMA,
            "contentVersion": "1.0.0.0",
            "parameters": {
                "workspace": {
                    "type": "string",
                    "metadata": { "description": "The Log Analytics workspace Microsoft Sentinel runs on." }
                }
            },
            "resources": resources,
        });
        let bytes = format!("{template:#}\n").into_bytes();
        Ok(converted.into_export(vec![ExportFile { path: "azuredeploy.json".into(), bytes }]))
    }
}

/// "Scheduled" or "NRT"; rules written before `kind` existed were all scheduled.
fn rule_kind(detection: &Detection) -> Result<&'static str, String> {
    match detection.rule.rule_type_native.as_deref().map(str::trim) {
        None => Ok("Scheduled"),
        Some(kind) if kind.eq_ignore_ascii_case("scheduled") => Ok("Scheduled"),
        Some(kind) if kind.eq_ignore_ascii_case("nrt") => Ok("NRT"),
        Some(kind) => Err(format!("a {kind} rule: only Scheduled and NRT analytic rules deploy from ARM templates")),
    }
}

/// The severity in the API's words; Microsoft's packaging uses Medium where a rule names none.
fn arm_severity(detection: &Detection) -> Result<&'static str, String> {
    let Some(native) = detection.rule.severity_native.as_deref() else { return Ok("Medium") };
    match Severity::from_native(native) {
        Some(Severity::Informational) => Ok("Informational"),
        Some(Severity::Low) => Ok("Low"),
        Some(Severity::Medium) => Ok("Medium"),
        Some(Severity::High) => Ok("High"),
        Some(Severity::Critical) | None => {
            Err(format!("severity {native:?} is not one Sentinel has (Informational, Low, Medium or High)"))
        }
    }
}

fn is_hunting_query(detection: &Detection) -> bool {
    detection.rule.rule_type == Some(RuleType::Hunt)
}

/// The resource for one detection: a hunting query's saved search, else an analytic rule.
/// `names` holds the resources already written, by type and name.
fn resource(detection: &Detection, names: &mut HashSet<String>) -> Result<Value, Unwritable> {
    let upstream: Map<String, Value> = yaml(native_text(detection)?).map_err(|e| {
        Unwritable::Unreadable(ExportError::Rule {
            address: detection.address(),
            message: format!("its native rule is not valid YAML: {e}"),
        })
    })?;
    let name = resource_name(&detection.rule.native_id)?;
    let built = if is_hunting_query(detection) {
        hunting::saved_search(detection, &upstream, &name)
    } else {
        alert_rule(detection, &upstream, &name)
    };
    let mut resource = built.map_err(Unwritable::Refused)?;
    if let Some(properties) = resource.get_mut("properties") {
        arm_literals(properties);
    }
    // Claimed last, so a rule left out for another reason does not keep its ID from the next.
    let kind = resource["type"].as_str().unwrap_or_default();
    if !names.insert(format!("{kind}/{name}")) {
        let reason = format!("another rule of this export has the same ID {name}, and a workspace holds one");
        return Err(Unwritable::Refused(reason));
    }
    Ok(resource)
}

/// The alert rule resource for an analytic rule named `name`.
fn alert_rule(detection: &Detection, upstream: &Map<String, Value>, name: &str) -> Result<Value, String> {
    let kind = rule_kind(detection)?;
    let properties = properties(detection, upstream, kind)?;
    Ok(json!({
        "type": "Microsoft.OperationalInsights/workspaces/providers/alertRules",
        "apiVersion": api_version(kind),
        "name": format!("[concat(parameters('workspace'), '/Microsoft.SecurityInsights/', '{name}')]"),
        "kind": kind,
        "properties": properties,
    }))
}

/// The rule's upstream ID, which Sentinel requires to be a GUID, in lowercase.
fn resource_name(id: &str) -> Result<String, Unwritable> {
    let id = id.trim();
    let groups: Vec<&str> = id.split('-').collect();
    let shaped = groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()));
    if shaped {
        Ok(id.to_ascii_lowercase())
    } else {
        Err(Unwritable::Refused(format!("its ID {id:?} is not a GUID, which Sentinel names its content by")))
    }
}

fn properties(detection: &Detection, upstream: &Map<String, Value>, kind: &str) -> Result<Value, String> {
    let rule = &detection.rule;
    let mut properties = Map::new();
    properties.insert("displayName".into(), rule.title.clone().into());
    properties.insert("description".into(), description(upstream).into());
    properties.insert("severity".into(), arm_severity(detection)?.into());
    properties.insert("enabled".into(), false.into());
    properties.insert("query".into(), rule.query.clone().into());
    if kind == "Scheduled" {
        properties.insert("queryFrequency".into(), duration(upstream, "queryFrequency")?.into());
        properties.insert("queryPeriod".into(), duration(upstream, "queryPeriod")?.into());
        properties.insert("triggerOperator".into(), trigger_operator(upstream)?.into());
        properties.insert("triggerThreshold".into(), trigger_threshold(upstream)?.into());
    }
    let suppression = match upstream.get("suppressionDuration").filter(|v| !v.is_null()) {
        Some(value) => duration_value(value, "suppressionDuration")?,
        None => DEFAULT_SUPPRESSION.to_string(),
    };
    properties.insert("suppressionDuration".into(), suppression.into());
    let suppressed = upstream.get("suppressionEnabled").and_then(Value::as_bool).unwrap_or(false);
    properties.insert("suppressionEnabled".into(), suppressed.into());
    properties.insert("tactics".into(), tactics(upstream.get("tactics"))?.into());
    properties.insert("techniques".into(), techniques(upstream.get("relevantTechniques"))?.into());
    for field in PASSED_THROUGH {
        if let Some(value) = upstream.get(*field).filter(|v| !v.is_null()) {
            properties.insert((*field).into(), value.clone());
        }
    }
    if let Some(configuration) = upstream.get("incidentConfiguration").filter(|v| !v.is_null()) {
        properties.insert("incidentConfiguration".into(), incident_configuration(configuration)?);
    }
    Ok(Value::Object(properties))
}

/// The rule's `description` as Sentinel shows it (the detection's description may add a longer
/// `description-detailed`, which Sentinel's resources have no place for).
fn description(upstream: &Map<String, Value>) -> &str {
    upstream.get("description").and_then(Value::as_str).map(unquote).unwrap_or_default()
}

/// A field a scheduled rule cannot do without.
fn required<'u>(upstream: &'u Map<String, Value>, field: &str) -> Result<&'u Value, String> {
    upstream
        .get(field)
        .filter(|v| !v.is_null())
        .ok_or_else(|| format!("a scheduled rule needs `{field}`, and it has none"))
}

fn duration(upstream: &Map<String, Value>, field: &str) -> Result<String, String> {
    duration_value(required(upstream, field)?, field)
}

fn duration_value(value: &Value, field: &str) -> Result<String, String> {
    value
        .as_str()
        .and_then(iso_duration)
        .ok_or_else(|| format!("{field} {value} is not a duration Sentinel reads (like 5m, 1h or 14d)"))
}

/// `5m`/`5M` → `PT5M`, `1h` → `PT1H`, `14d` → `P14D`; ISO 8601 spellings (`PT1H`) stay.
/// Sentinel's YAML uses `M` for minutes, as Microsoft's converter reads it.
fn iso_duration(text: &str) -> Option<String> {
    let upper = text.trim().to_ascii_uppercase();
    let (prefix, amount) = match upper.strip_prefix("PT") {
        Some(rest) => ("PT", rest),
        None => ("", upper.strip_prefix('P').unwrap_or(&upper)),
    };
    let unit = amount.chars().last()?;
    let digits = &amount[..amount.len() - unit.len_utf8()];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match (prefix, unit) {
        ("" | "PT", 'S' | 'M' | 'H') => Some(format!("PT{digits}{unit}")),
        ("", 'D') => Some(format!("P{digits}D")),
        _ => None,
    }
}

fn trigger_operator(upstream: &Map<String, Value>) -> Result<&'static str, String> {
    let value = required(upstream, "triggerOperator")?;
    match value.as_str().unwrap_or_default().trim().to_ascii_lowercase().as_str() {
        "gt" | "greaterthan" => Ok("GreaterThan"),
        "lt" | "lessthan" => Ok("LessThan"),
        "eq" | "equal" => Ok("Equal"),
        "ne" | "notequal" => Ok("NotEqual"),
        _ => Err(format!("triggerOperator {value} is not one Sentinel has (gt, lt, eq or ne)")),
    }
}

fn trigger_threshold(upstream: &Map<String, Value>) -> Result<i64, String> {
    let value = required(upstream, "triggerThreshold")?;
    let number = match value {
        Value::String(text) => text.trim().parse().ok(),
        other => other.as_i64(),
    };
    number.ok_or_else(|| format!("triggerThreshold {value} is not a whole number"))
}

/// One string or a list of strings, as upstream writes lists.
fn strings(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

/// Tactics in the API's spelling ("Command and Control" → "CommandAndControl").
fn tactics(value: Option<&Value>) -> Result<Vec<&'static str>, String> {
    let mut tactics = Vec::new();
    for tactic in strings(value) {
        let squeezed: String = tactic.chars().filter(|c| !c.is_whitespace()).collect();
        let known = TACTICS
            .iter()
            .find(|t| t.eq_ignore_ascii_case(&squeezed))
            .ok_or_else(|| format!("tactic {tactic:?} is not one Sentinel has ({})", TACTICS.join(", ")))?;
        if !tactics.contains(known) {
            tactics.push(*known);
        }
    }
    Ok(tactics)
}

/// Technique IDs as the GA API takes them: parents only.
fn techniques(value: Option<&Value>) -> Result<Vec<String>, String> {
    let mut techniques = Vec::new();
    for technique in strings(value) {
        let id: TechniqueId =
            technique.trim().parse().map_err(|_| format!("relevantTechniques names {technique:?}, not a technique"))?;
        let parent = id.parent().to_string();
        if !techniques.contains(&parent) {
            techniques.push(parent);
        }
    }
    Ok(techniques)
}

/// The incident settings, with the grouping look-back in ISO 8601 like the other durations.
fn incident_configuration(configuration: &Value) -> Result<Value, String> {
    let mut configuration = configuration.clone();
    let lookback = configuration.pointer_mut("/groupingConfiguration/lookbackDuration");
    if let Some(lookback) = lookback {
        *lookback = duration_value(lookback, "lookbackDuration")?.into();
    }
    Ok(configuration)
}

/// ARM evaluates a string that starts with `[` and ends with `]` as a template expression, in
/// values and in object keys (upstream's `customDetails` names its own keys). Rule text must stay
/// literal (and must not run as an expression), so such strings get ARM's escape: a second
/// leading `[`.
fn arm_literals(value: &mut Value) {
    match value {
        Value::String(text) => arm_literal(text),
        Value::Array(items) => items.iter_mut().for_each(arm_literals),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (mut key, mut value) in entries {
                arm_literal(&mut key);
                arm_literals(&mut value);
                map.insert(key, value);
            }
        }
        _ => {}
    }
}

fn arm_literal(text: &mut String) {
    if text.starts_with('[') && text.ends_with(']') {
        text.insert(0, '[');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_become_iso_8601() {
        let cases = [("1h", "PT1H"), ("14d", "P14D"), ("5M", "PT5M"), ("15m", "PT15M"), ("30s", "PT30S")];
        for (upstream, iso) in cases.into_iter().chain([("PT1H", "PT1H"), ("p2d", "P2D"), (" 2h ", "PT2H")]) {
            assert_eq!(iso_duration(upstream).as_deref(), Some(iso), "{upstream}");
        }
        for bad in ["", "h", "1", "1w", "PT1D", "1.5h", "-1h", "P1DT2H", "１h", "1hh", "1é", "é"] {
            assert_eq!(iso_duration(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn trigger_operators_tactics_and_techniques_take_the_api_spelling() {
        let upstream = |json: Value| json.as_object().cloned().unwrap();
        assert_eq!(trigger_operator(&upstream(json!({"triggerOperator": "gt"}))), Ok("GreaterThan"));
        assert_eq!(trigger_operator(&upstream(json!({"triggerOperator": "NotEqual"}))), Ok("NotEqual"));
        assert!(trigger_operator(&upstream(json!({"triggerOperator": "ge"}))).unwrap_err().contains("\"ge\""));
        assert_eq!(trigger_threshold(&upstream(json!({"triggerThreshold": "3"}))), Ok(3));
        assert!(trigger_threshold(&upstream(json!({"triggerThreshold": 1.5}))).is_err());
        let listed = json!(["CommandAndControl", "Command and Control", "privilege escalation"]);
        assert_eq!(tactics(Some(&listed)), Ok(vec!["CommandAndControl", "PrivilegeEscalation"]));
        assert!(tactics(Some(&json!("Lateral Moves"))).unwrap_err().starts_with("tactic \"Lateral Moves\""));
        let techniques_listed = json!(["T1090.003", "T1090", "T1008 "]);
        assert_eq!(techniques(Some(&techniques_listed)), Ok(vec!["T1090".to_string(), "T1008".to_string()]));
        assert!(techniques(Some(&json!(["Proxy"]))).is_err());
    }

    #[test]
    fn strings_that_read_as_arm_expressions_are_escaped() {
        let mut value = json!({"displayName": "[concat('a')]", "list": ["[x]", "[not closed", "x]"], "n": 1});
        arm_literals(&mut value);
        assert_eq!(value, json!({"displayName": "[[concat('a')]", "list": ["[[x]", "[not closed", "x]"], "n": 1}));
    }

    /// Issue 21: `customDetails` keys are written into the template as upstream names them.
    #[test]
    fn object_keys_that_read_as_arm_expressions_are_escaped() {
        let mut value = json!({"customDetails": {"[listKeys('x', '2020')]": "Col", "[open": "a", "ok]": "b"}});
        arm_literals(&mut value);
        let expected = json!({"customDetails": {"[[listKeys('x', '2020')]": "Col", "[open": "a", "ok]": "b"}});
        assert_eq!(value, expected);
    }

    #[test]
    fn each_kind_deploys_with_an_api_version_that_lists_it() {
        assert_eq!(api_version("Scheduled"), "2025-09-01");
        assert_eq!(api_version("NRT"), "2025-07-01-preview");
    }

    #[test]
    fn resource_names_are_the_rule_guid() {
        let guid = "90D3F6EC-80fb-48e0-9937-2c70c9df9bad";
        assert_eq!(resource_name(guid).ok(), Some(guid.to_ascii_lowercase()));
        for bad in ["", "x", "90d3f6ec-80fb-48e0-9937-2c70c9df9baz", "90d3f6ec80fb48e099372c70c9df9bad", "'); x('"] {
            assert!(matches!(resource_name(bad), Err(Unwritable::Refused(_))), "{bad:?}");
        }
    }
}

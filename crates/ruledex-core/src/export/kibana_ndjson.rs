//! Elastic detection rules as the NDJSON Kibana's rule import takes (Security → Rules → Import,
//! or `POST /api/detection_engine/rules/_import`): one rule object per line.
//!
//! Each object is the upstream TOML's `[rule]` table, field for field, so nothing Elastic ships is
//! lost, turned into what Kibana's API expects the way Elastic's own `detection-rules` tooling
//! does when it builds its packages:
//!
//! - `[rule.new_terms]` (`field = "new_terms_fields"`, `value`, and `history_window_start` as a
//!   nested `field`/`value` list) becomes the API's top-level `new_terms_fields` and
//!   `history_window_start`;
//! - the `[transform]` table's investigation-guide plugins (Osquery queries, Timeline
//!   investigations) are rendered into the `note` placeholders (`$osquery_0`) as Kibana's
//!   Markdown plugin syntax (`!{osquery{...}}`);
//! - every `threat` entry has a `technique` list, empty when upstream maps only a tactic;
//! - `enabled` is false, so imported rules run only once someone has reviewed them, and
//!   `version` is the rule's own, else `[metadata]`'s, else 1.
//!
//! `related_integrations` and `required_fields` are computed by Elastic's build from integration
//! manifests the rule files do not carry, so they appear only when a rule file has them.
//!
//! Hunting queries (`hunting/`) are queries to run by hand, not rules Kibana can import.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::bundle::{Unwritable, convert_each, native_text};
use super::{Export, ExportContext, ExportError, ExportFile, PlatformFormat, Writer};
use crate::model::{Detection, Format, RuleType};

pub struct KibanaNdjson;

impl Writer for KibanaNdjson {
    fn format(&self) -> PlatformFormat {
        PlatformFormat::KibanaNdjson
    }

    fn multi_file(&self) -> bool {
        false
    }

    fn accepts(&self, detection: &Detection) -> Result<(), String> {
        match (detection.format, detection.rule.rule_type) {
            (Format::Elastic, Some(RuleType::Hunt)) => {
                Err("an Elastic hunting query, not a detection rule: Kibana imports only rules".into())
            }
            (Format::Elastic, _) => Ok(()),
            (Format::ElasticEndpoint, _) => Err(
                "an Elastic Defend endpoint rule: the agent runs it on the host, and Kibana imports only SIEM rules"
                    .into(),
            ),
            (other, _) => Err(format!("not an Elastic rule (it is a {other} rule; Kibana imports only Elastic rules)")),
        }
    }

    fn write(&self, detections: &[&Detection], _context: &ExportContext) -> Result<Export, ExportError> {
        let converted = convert_each(self, detections, kibana_rule)?;
        let mut ndjson = String::new();
        for (_, rule) in &converted.rules {
            // serde_json escapes newlines and control characters, so each rule stays on its line.
            ndjson.push_str(&rule.to_string());
            ndjson.push('\n');
        }
        let file = ExportFile { path: "rules.ndjson".into(), bytes: ndjson.into_bytes() };
        Ok(converted.into_export(vec![file]))
    }
}

#[derive(Deserialize)]
struct RawFile {
    metadata: Option<toml::Table>,
    rule: Option<toml::Table>,
    transform: Option<toml::Table>,
}

/// The rule object Kibana imports for one Elastic rule file.
fn kibana_rule(detection: &Detection) -> Result<Value, Unwritable> {
    let unreadable =
        |message: String| Unwritable::Unreadable(ExportError::Rule { address: detection.address(), message });
    let raw: RawFile = toml::from_str(native_text(detection)?)
        .map_err(|e| unreadable(format!("its native rule is not valid TOML: {}", e.message())))?;
    let Some(rule) = raw.rule else {
        return Err(unreadable("its native rule has no [rule] table".into()));
    };
    let mut rule = json_table(rule);
    if let Some(transform) = raw.transform {
        render_note_plugins(&mut rule, &json_table(transform));
    }
    flatten_new_terms(&mut rule).map_err(Unwritable::Refused)?;
    give_threats_technique_lists(&mut rule);
    let metadata_version = raw.metadata.and_then(|m| m.get("version").cloned()).map(json);
    let version = [rule.get("version").cloned(), metadata_version].into_iter().flatten().find(is_positive_integer);
    rule.insert("version".into(), version.unwrap_or_else(|| Value::from(1)));
    rule.insert("enabled".into(), Value::Bool(false));
    Ok(Value::Object(rule))
}

fn is_positive_integer(value: &Value) -> bool {
    value.as_u64().is_some_and(|v| v > 0)
}

fn json_table(table: toml::Table) -> Map<String, Value> {
    table.into_iter().map(|(key, value)| (key, json(value))).collect()
}

/// TOML values as JSON. Dates become their TOML text; a float JSON cannot hold (NaN, infinity)
/// becomes null.
fn json(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.into_iter().map(json).collect()),
        toml::Value::Table(table) => Value::Object(json_table(table)),
    }
}

/// Replaces the note's `$osquery_0`-style placeholders with the `[transform]` plugins they name,
/// written `!{osquery{"label":...}}` as Kibana's investigation-guide Markdown reads them.
fn render_note_plugins(rule: &mut Map<String, Value>, transform: &Map<String, Value>) {
    let Some(Value::String(note)) = rule.get("note") else { return };
    let mut plugins = HashMap::new();
    for (plugin, entries) in transform {
        for (i, entry) in entries.as_array().into_iter().flatten().enumerate() {
            plugins.insert(format!("{plugin}_{i}"), format!("!{{{plugin}{entry}}}"));
        }
    }
    let rendered = substitute(note, &plugins);
    rule.insert("note".into(), Value::String(rendered));
}

/// Python's `string.Template.safe_substitute`, which Elastic's tooling renders notes with:
/// `$name` and `${name}` are replaced when `values` has the name and kept otherwise, and `$$`
/// is a literal `$`.
fn substitute(template: &str, values: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        if let Some(escaped) = after.strip_prefix('$') {
            out.push('$');
            rest = escaped;
            continue;
        }
        let braced = after
            .strip_prefix('{')
            .map(identifier)
            .filter(|name| !name.is_empty() && after[name.len() + 1..].starts_with('}'));
        // The name, and how many bytes after the `$` refer to it.
        let (name, span) = match braced {
            Some(name) => (name, name.len() + 2),
            None => (identifier(after), identifier(after).len()),
        };
        match values.get(name) {
            Some(value) => out.push_str(value),
            None => out.push_str(&rest[dollar..=dollar + span]),
        }
        rest = &after[span..];
    }
    out.push_str(rest);
    out
}

/// The Python identifier (ASCII letters, digits, `_`, not starting with a digit) `text` starts
/// with, possibly empty.
fn identifier(text: &str) -> &str {
    let starts_well = text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
    let len = if starts_well {
        text.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(text.len())
    } else {
        0
    };
    &text[..len]
}

/// Moves `[rule.new_terms]` to the top-level fields it names, as Kibana's API takes them.
fn flatten_new_terms(rule: &mut Map<String, Value>) -> Result<(), String> {
    let Some(new_terms) = rule.remove("new_terms") else { return Ok(()) };
    let (field, terms) = field_and_value(&new_terms)
        .ok_or("rule.new_terms has no `field` and `value` naming the new terms fields, as Elastic writes it")?;
    let window = new_terms
        .get("history_window_start")
        .and_then(Value::as_array)
        .and_then(|windows| windows.first())
        .and_then(field_and_value)
        .ok_or("rule.new_terms has no `history_window_start` entry with a `value`, as Elastic writes it")?;
    rule.insert(field.to_string(), terms.clone());
    rule.insert("history_window_start".into(), window.1.clone());
    Ok(())
}

fn field_and_value(pair: &Value) -> Option<(&str, &Value)> {
    Some((pair.get("field")?.as_str()?, pair.get("value")?))
}

/// Upstream maps some rules to a tactic alone; older Kibana releases require `technique` in
/// every `threat` entry, and Elastic's own packages always write it.
fn give_threats_technique_lists(rule: &mut Map<String, Value>) {
    let threats = rule.get_mut("threat").and_then(Value::as_array_mut).into_iter().flatten();
    for threat in threats.filter_map(Value::as_object_mut) {
        threat.entry("technique").or_insert_with(|| Value::Array(vec![]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn note_placeholders_render_like_python_templates() {
        let plugins = values(&[("osquery_0", "!{osquery{}}"), ("investigate_1", "!{investigate{}}")]);
        assert_eq!(substitute("- $osquery_0\n- ${investigate_1}.", &plugins), "- !{osquery{}}\n- !{investigate{}}.");
        assert_eq!(
            substitute("costs $$5, $unknown, ${unknown}, $1, $, ${", &plugins),
            "costs $5, $unknown, ${unknown}, $1, $, ${"
        );
        assert_eq!(substitute("$osquery_0x $osquery_0", &plugins), "$osquery_0x !{osquery{}}");
        assert_eq!(substitute("ünïcode $osquery_0 ✓", &plugins), "ünïcode !{osquery{}} ✓");
        assert_eq!(substitute("${osquery_0", &plugins), "${osquery_0");
    }

    #[test]
    fn transform_plugins_replace_their_placeholders() {
        let text = r#"
[rule]
note = "Run $osquery_0 then $investigate_0"
[[transform.osquery]]
label = "Open sockets"
query = "SELECT * FROM process_open_sockets"
[[transform.investigate]]
label = "Alerts"
providers = [[{ field = "host.id", excluded = false, queryType = "phrase", value = "{{host.id}}", valueType = "string" }]]
"#;
        let raw: RawFile = toml::from_str(text).unwrap();
        let mut rule = json_table(raw.rule.unwrap());
        render_note_plugins(&mut rule, &json_table(raw.transform.unwrap()));
        let note = rule["note"].as_str().unwrap();
        let osquery = r#"!{osquery{"label":"Open sockets","query":"SELECT * FROM process_open_sockets"}}"#;
        assert!(note.starts_with(&format!("Run {osquery} then !{{investigate{{")), "{note}");
        let investigate = note.split_once("!{investigate").unwrap().1.strip_suffix('}').unwrap();
        let parsed: Value = serde_json::from_str(investigate).unwrap();
        assert_eq!(parsed["providers"][0][0]["value"], "{{host.id}}");
    }

    #[test]
    fn new_terms_move_to_the_fields_kibana_takes() {
        let mut rule: Map<String, Value> = serde_json::from_str(
            r#"{"type": "new_terms", "new_terms": {"field": "new_terms_fields", "value": ["host.id"],
                "history_window_start": [{"field": "history_window_start", "value": "now-14d"}]}}"#,
        )
        .unwrap();
        flatten_new_terms(&mut rule).unwrap();
        assert_eq!(
            Value::Object(rule),
            serde_json::json!({
                "type": "new_terms", "new_terms_fields": ["host.id"], "history_window_start": "now-14d"
            })
        );
        let mut broken: Map<String, Value> = serde_json::from_str(r#"{"new_terms": {"value": ["host.id"]}}"#).unwrap();
        assert!(flatten_new_terms(&mut broken).unwrap_err().contains("no `field`"));
    }
}

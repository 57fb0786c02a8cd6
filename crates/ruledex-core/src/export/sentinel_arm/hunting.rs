//! Hunting queries as Log Analytics saved searches
//! (`Microsoft.OperationalInsights/workspaces/savedSearches`), as Microsoft's Solution packaging
//! deploys them: category `Hunting Queries` (what Sentinel's Hunting page lists), the query as
//! upstream ships it, and the tags Sentinel reads: `description`, `tactics` (the API's spelling,
//! comma-separated) and `techniques` (the IDs `relevantTechniques` lists, sub-techniques kept).
//! The resource is named by the query's own ID, so deploying again updates it, and `etag` `*`
//! lets the deployment replace a saved search of that name.

use serde_json::{Map, Value, json};

use super::{TACTICS, description, strings};
use crate::ids::TechniqueId;
use crate::model::Detection;

/// A GA API version of Log Analytics, long deployed; its saved search schema is the same from
/// 2020-08-01 to the newest, 2025-07-01.
const API_VERSION: &str = "2025-02-01";
/// The category Sentinel lists as hunting queries.
const CATEGORY: &str = "Hunting Queries";
/// The query language version of saved searches: 2 is KQL.
const QUERY_LANGUAGE: i64 = 2;

/// The saved search resource for the hunting query `detection`, named `name` (its GUID).
pub(super) fn saved_search(detection: &Detection, upstream: &Map<String, Value>, name: &str) -> Result<Value, String> {
    let rule = &detection.rule;
    let tactics = tactics(upstream.get("tactics")).join(",");
    let techniques = techniques(upstream.get("relevantTechniques"))?.join(",");
    let tags: Vec<Value> = [("description", description(upstream)), ("tactics", &tactics), ("techniques", &techniques)]
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(tag, value)| json!({ "name": tag, "value": value }))
        .collect();
    Ok(json!({
        "type": "Microsoft.OperationalInsights/workspaces/savedSearches",
        "apiVersion": API_VERSION,
        "name": format!("[concat(parameters('workspace'), '/{name}')]"),
        "etag": "*",
        "properties": {
            "category": CATEGORY,
            "displayName": rule.title,
            "query": rule.query,
            "version": QUERY_LANGUAGE,
            "tags": tags,
        },
    }))
}

/// The tactics in the API's spelling ("Command and control" → "CommandAndControl"), each once.
/// A tag is free text, so a tactic Sentinel does not know (Microsoft 365 Defender's queries name
/// categories such as "Vulnerability") is kept as written, spaces removed, as Microsoft's own
/// packaging keeps it.
fn tactics(value: Option<&Value>) -> Vec<String> {
    let mut tactics: Vec<String> = Vec::new();
    for tactic in strings(value) {
        let squeezed: String = tactic.chars().filter(|c| !c.is_whitespace()).collect();
        let spelled = TACTICS.iter().find(|t| t.eq_ignore_ascii_case(&squeezed)).map_or(squeezed, |t| t.to_string());
        if !spelled.is_empty() && !tactics.contains(&spelled) {
            tactics.push(spelled);
        }
    }
    tactics
}

/// The technique IDs `relevantTechniques` lists, canonical and each once; anything else there
/// (`1089`) is refused, as it would tag the query with something that is not a technique.
fn techniques(value: Option<&Value>) -> Result<Vec<String>, String> {
    let items = value.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    if let Some(number) = items.iter().find(|item| item.is_number()) {
        return Err(format!("relevantTechniques names {number}, not a technique"));
    }
    let mut techniques = Vec::new();
    for technique in strings(value) {
        let id: TechniqueId =
            technique.trim().parse().map_err(|_| format!("relevantTechniques names {technique:?}, not a technique"))?;
        if !techniques.contains(&id.to_string()) {
            techniques.push(id.to_string());
        }
    }
    Ok(techniques)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn techniques_keep_sub_techniques_once_and_refuse_the_rest() {
        let listed = json!(["T1090.003", "T1090", "t1090.003", "T1008 "]);
        assert_eq!(techniques(Some(&listed)), Ok(vec!["T1090.003".into(), "T1090".into(), "T1008".into()]));
        assert_eq!(techniques(None), Ok(vec![]));
        assert!(techniques(Some(&json!(["T1100", "1089"]))).unwrap_err().contains("\"1089\""));
        assert_eq!(
            techniques(Some(&json!(["T1100", 1089]))).unwrap_err(),
            "relevantTechniques names 1089, not a technique"
        );
    }

    #[test]
    fn tactics_take_the_api_spelling_and_keep_the_rest_as_written() {
        let listed = json!(["Command and control", "CommandAndControl", "Malware, component", " "]);
        assert_eq!(tactics(Some(&listed)), vec!["CommandAndControl", "Malware,component"]);
    }
}

//! The OpenAPI 3.1 document of the JSON API, generated from the wire types: the schemas are
//! the types' own (`schemars`), the paths and parameters are listed here, one line per
//! endpoint. Nothing is kept by hand beside the types it describes.

use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::{JsonSchema, Schema};
use serde_json::{Map, Value, json};

use ruledex_core::ids::ObjectKind;

use crate::wire::{
    AttackObjectJson, AttackObjectPageJson, ChangesJson, CoverageJson, DetectionJson, ErrorJson, SearchJson,
    SourceJson, StackCoverageJson, StatsJson, SyncPhase, TechniquePageJson, TechniqueSuggestionJson,
};

/// A query or path parameter.
#[derive(Clone)]
struct Param {
    name: &'static str,
    location: &'static str,
    description: &'static str,
    schema: fn() -> Value,
}

const fn query(name: &'static str, description: &'static str, schema: fn() -> Value) -> Param {
    Param { name, location: "query", description, schema }
}

fn text() -> Value {
    json!({ "type": "string" })
}

fn list() -> Value {
    json!({ "type": "array", "items": { "type": "string" } })
}

fn flag() -> Value {
    json!({ "type": "string", "description": "present, 1, on, true or yes mean yes" })
}

fn number() -> Value {
    json!({ "type": "integer", "minimum": 0 })
}

/// The filters the technique, search and coverage endpoints share; each list may repeat.
const FILTERS: &[Param] = &[
    query("source", "Only these sources (configured names).", list),
    query("vendor", "Only these vendors.", list),
    query("kind", "vendor or community.", list),
    query("language", "Only these query languages (yara-l, spl, eql, kql, esql, kusto, sigma...).", list),
    query("severity", "informational, low, medium, high or critical.", list),
    query("type", "Rule types (alert, hunt, ttp, anomaly, building_block...).", list),
    query("status", "production, experimental or deprecated.", list),
    query("data_source", "Only detections needing one of these data sources.", list),
    query("deprecated", "Include deprecated detections.", flag),
];
const COMMUNITY: Param = query("community", "Include community content (Sigma, community KQL).", flag);
const EXACT: Param = query("exact", "Only detections tagged with the technique itself.", flag);
const Q_SEARCH: Param = query("q", "Words, \"phrases\", AND/OR/NOT, prefix*, title:/description:/query:/tags:.", text);
const Q_TECHNIQUE: Param = query("q", "Part of a technique ID or name.", text);
const STACK: [Param; 3] = [
    query("have", "The sources the stack has (configured names); may repeat or hold commas.", list),
    query("community", "Count community content (Sigma, community KQL) as the stack's own.", flag),
    query("inferred", "Count detections listed only through ruledex's mapping of vendor labels.", flag),
];
const TACTIC: Param = query("tactic", "Only these tactics (ID, name or shortname).", list);
const DOMAIN: Param = query("domain", "enterprise (default), mobile or ics.", text);
const OFFSET: Param = query("offset", "Results to skip.", number);
const LIMIT: Param = query("limit", "Results per page (1-200).", number);

/// The parameters of `/api/v1/changes`.
const CHANGE_PARAMS: &[Param] = &[
    query("since", "A date (2026-11-01), a time (2026-11-01T08:00:00Z) or a sync number (changes after it).", text),
    query("technique", "Changes of detections under this technique or its sub-techniques (ID or name).", text),
    query("source", "Changes of this source only.", text),
    query("limit", "Changes at most (1-5000, default 200).", number),
];

/// The parameters of a stack's coverage, and of its layer.
fn coverage_params() -> Vec<Param> {
    [&STACK[..], &[TACTIC, DOMAIN]].concat()
}

fn path(name: &'static str, description: &'static str) -> Param {
    Param { name, location: "path", description, schema: text }
}

/// The whole document.
pub fn document() -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .for_serialize()
        .with(|s| s.definitions_path = "/components/schemas".into())
        .into_generator();
    let g = &mut generator;
    let technique_params = [&[path("id", "T1090, t1090.003 or T1090/003"), EXACT, COMMUNITY][..], FILTERS].concat();
    let mut paths = Map::new();
    let mut add = |route: &str, operation: Value| {
        paths.insert(route.to_string(), json!({ "get": operation }));
    };
    add(
        "/api/v1/techniques/{id}",
        operation::<TechniquePageJson>(g, "getTechnique", "A technique with its detections", &technique_params),
    );
    add(
        "/api/v1/techniques",
        operation::<Vec<TechniqueSuggestionJson>>(
            g,
            "suggestTechniques",
            "Techniques whose ID or name starts with what was typed",
            &[&[Q_TECHNIQUE, COMMUNITY][..], FILTERS].concat(),
        ),
    );
    add(
        "/api/v1/detections/{source}/{id}",
        operation::<DetectionJson>(
            g,
            "getDetection",
            "One detection with its native rule",
            &[path("source", "A configured source"), path("id", "The detection's ID, vendor ID or file name")],
        ),
    );
    add(
        "/api/v1/search",
        operation::<SearchJson>(g, "search", "Full-text search", &[&[Q_SEARCH, OFFSET, LIMIT][..], FILTERS].concat()),
    );
    add(
        "/api/v1/sources",
        operation::<Vec<SourceJson>>(g, "listSources", "Every source as the last sync left it", &[]),
    );
    add("/api/v1/stats", operation::<StatsJson>(g, "getStats", "The catalog and its sources", &[]));
    add(
        "/api/v1/coverage",
        operation::<CoverageJson>(
            g,
            "getCoverage",
            "Detection counts per technique",
            &[&[COMMUNITY][..], FILTERS].concat(),
        ),
    );
    add(
        "/api/v1/coverage/stack",
        operation::<StackCoverageJson>(
            g,
            "getStackCoverage",
            "Every technique's status for the sources a stack has (covered, elsewhere, community-only, none)",
            &coverage_params(),
        ),
    );
    add(
        "/api/v1/coverage/stack/layer",
        file_operation(
            g,
            "getStackCoverageLayer",
            "The same coverage as an ATT&CK Navigator layer (format 4.5) to download: every technique in its status's \
             colour, scored by the stack's own detections, linking to the server's public URL when it has one",
            coverage_params().iter().map(parameter).collect(),
            &["application/json"],
        ),
    );
    for kind in ObjectKind::ALL {
        let index = crate::links::attack_objects(*kind);
        let label = kind.label();
        let (list_id, get_id) = match kind {
            ObjectKind::Group => ("listGroups", "getGroup"),
            ObjectKind::Campaign => ("listCampaigns", "getCampaign"),
            ObjectKind::Software => ("listSoftware", "getSoftware"),
        };
        add(
            &format!("/api/v1{index}"),
            operation::<Vec<AttackObjectJson>>(g, list_id, &format!("Every current ATT&CK {label}"), &[]),
        );
        add(
            &format!("/api/v1{index}/{{id}}"),
            operation::<AttackObjectPageJson>(
                g,
                get_id,
                &format!("An ATT&CK {label} with the detections for each technique it uses"),
                &[&[path("id", "ATT&CK ID (G0016, C0024, S0154), name or alias")][..], &STACK[..]].concat(),
            ),
        );
    }
    add("/api/v1/sync", operation::<SyncPhase>(g, "getSync", "Where a background sync stands", &[]));
    add(
        "/api/v1/changes",
        operation::<ChangesJson>(g, "listChanges", "What syncs changed, newest first", CHANGE_PARAMS),
    );
    add("/api/v1/export", export_operation(g));
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "ruledex",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Vendor-native security detections cross-linked to MITRE ATT&CK. Every answer is \
                JSON; errors are `{\"error\": {...}}` with a status, a kind, a title and a message.",
        },
        "paths": paths,
        "components": { "schemas": generator.take_definitions(true) },
    })
}

fn operation<T: JsonSchema>(g: &mut SchemaGenerator, id: &str, summary: &str, params: &[Param]) -> Value {
    let error = response(g.subschema_for::<ErrorJson>());
    json!({
        "operationId": id,
        "summary": summary,
        "parameters": params.iter().map(parameter).collect::<Vec<Value>>(),
        "responses": {
            "200": response(g.subschema_for::<T>()),
            "400": error.clone(),
            "404": error.clone(),
            "503": error,
        },
    })
}

/// `/api/v1/export` answers with a file, not JSON.
fn export_operation(g: &mut SchemaGenerator) -> Value {
    let formats: Vec<&str> = crate::export::ExportFormat::all().iter().map(|f| f.as_str()).collect();
    let params = [
        &[
            Param { name: "format", location: "query", description: "The export format.", schema: text },
            query("detection", "One detection, by address (SOURCE/ID).", text),
            query("technique", "A technique's detections, filtered as its page filters them.", text),
            EXACT,
            COMMUNITY,
            query("q", "Every detection a search finds (used when neither detection nor technique is given).", text),
            query("archive", "zip (default) or tar.gz, for formats of several files.", text),
        ][..],
        FILTERS,
    ]
    .concat();
    let mut parameters: Vec<Value> = params.iter().map(parameter).collect();
    parameters[0]["required"] = json!(true);
    parameters[0]["schema"] = json!({ "type": "string", "enum": formats });
    file_operation(
        g,
        "export",
        "Detections in a platform's import format (or JSON/CSV rows), as a file to download; several files come as \
         an archive (a Splunk app as .tar.gz)",
        parameters,
        &["application/json", "application/x-ndjson", "text/csv", "text/plain", "application/zip", "application/gzip"],
    )
}

/// An operation answering with a file to download (named in Content-Disposition), not JSON of
/// a wire type.
fn file_operation(g: &mut SchemaGenerator, id: &str, summary: &str, parameters: Vec<Value>, media: &[&str]) -> Value {
    let error = response(g.subschema_for::<ErrorJson>());
    let content: Map<String, Value> = media
        .iter()
        .map(|media| (media.to_string(), json!({ "schema": { "type": "string", "contentMediaType": media } })))
        .collect();
    json!({
        "operationId": id,
        "summary": summary,
        "parameters": parameters,
        "responses": {
            "200": { "description": "The file, named in Content-Disposition", "content": content },
            "400": error.clone(),
            "404": error.clone(),
            "503": error,
        },
    })
}

fn response(schema: Schema) -> Value {
    json!({ "description": "JSON", "content": { "application/json": { "schema": schema } } })
}

fn parameter(p: &Param) -> Value {
    let mut value = json!({
        "name": p.name,
        "in": p.location,
        "description": p.description,
        "required": p.location == "path",
        "schema": (p.schema)(),
    });
    if (p.schema)()["type"] == "array" {
        value["explode"] = json!(true);
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_resolves_and_every_path_has_an_operation() {
        let doc = document();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for name in
            ["TechniquePage", "Detection", "SearchResults", "Stats", "Coverage", "SyncPhase", "Changes", "Error"]
        {
            assert!(schemas.contains_key(name), "missing schema {name}");
        }
        let text = doc.to_string();
        for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = reference.split('"').next().unwrap();
            assert!(schemas.contains_key(name), "dangling reference to {name}");
        }
        for (route, item) in doc["paths"].as_object().unwrap() {
            assert!(item["get"]["responses"]["200"].is_object(), "{route}");
        }
    }
}

//! The OpenAPI 3.1 document of the JSON API, generated: the schemas are the wire types' own
//! (`schemars`), the parameters are the request vocabulary's ([`crate::request::vocabulary`]),
//! and only the routes are listed here, one line per endpoint. Nothing is described twice, so
//! the document and the server cannot disagree.

use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::{JsonSchema, Schema};
use serde_json::{Map, Value, json};

use ruledex_core::ids::ObjectKind;

use crate::request::vocabulary::{
    ATTACK_OBJECT, CHANGES, DOWNLOAD, MATRIX, SEARCH, STACK_COVERAGE, SUGGEST, TECHNIQUE_LISTING,
};
use crate::request::{Operation, Param};
use crate::wire::{
    AttackObjectJson, AttackObjectPageJson, ChangesJson, CoverageJson, DetectionJson, ErrorJson, SearchJson,
    SourceJson, StackCoverageJson, StatsJson, SyncPhase, TechniquePageJson, TechniqueSuggestionJson,
};

/// A path segment of a route that is no parameter of the vocabulary (the two parts of an
/// address).
struct Segment {
    name: &'static str,
    description: &'static str,
}

/// The parameters of `operation` on a route: those the route's template names go in the path
/// (the subject, or `segments`), the others in the query string.
fn parameters(route: &str, operation: &Operation, segments: &[Segment]) -> Vec<Value> {
    let in_path = |name: &str| route.contains(&format!("{{{name}}}"));
    let path = segments.iter().map(|s| path_parameter(s.name, s.description));
    let subject = operation.subject.filter(|s| in_path(s.name)).map(|s| path_parameter(s.name, s.help));
    // The segments of an address stand for the subject.
    let replaced = |p: &Param| !segments.is_empty() && operation.subject.is_some_and(|s| std::ptr::eq(s, p));
    let named =
        operation.all().filter(|p| !in_path(p.name) && !replaced(p)).map(|p| query_parameter(p, operation.requires(p)));
    path.chain(subject).chain(named).collect()
}

fn path_parameter(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "path", "description": description, "required": true, "schema": { "type": "string" } })
}

fn query_parameter(param: &Param, required: bool) -> Value {
    let mut value = json!({
        "name": param.name,
        "in": "query",
        "description": param.help,
        "required": required,
        "schema": param.query_schema(),
    });
    if param.is_list() {
        value["explode"] = json!(true);
        value["style"] = json!("form");
    }
    value
}

/// The whole document.
pub fn document() -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .for_serialize()
        .with(|s| s.definitions_path = "/components/schemas".into())
        .into_generator();
    let g = &mut generator;
    let mut paths = Map::new();
    let mut add = |route: &str, operation: Value| {
        paths.insert(route.to_string(), json!({ "get": operation }));
    };
    let address = [
        Segment { name: "source", description: "A configured source" },
        Segment { name: "id", description: "The detection's ID, vendor ID or file name" },
    ];
    let technique = "/api/v1/techniques/{technique}";
    add(
        technique,
        operation::<TechniquePageJson>(
            g,
            "getTechnique",
            "A technique with a page of its detections",
            parameters(technique, &TECHNIQUE_LISTING, &[]),
        ),
    );
    add(
        "/api/v1/techniques",
        operation::<Vec<TechniqueSuggestionJson>>(
            g,
            "suggestTechniques",
            "Techniques whose ID or name starts with what was typed",
            parameters("", &SUGGEST, &[]),
        ),
    );
    let detection = "/api/v1/detections/{source}/{id}";
    add(
        detection,
        operation::<DetectionJson>(
            g,
            "getDetection",
            "One detection with its native rule",
            parameters(detection, &crate::request::vocabulary::SHOW, &address),
        ),
    );
    add("/api/v1/search", operation::<SearchJson>(g, "search", "Full-text search", parameters("", &SEARCH, &[])));
    add(
        "/api/v1/sources",
        operation::<Vec<SourceJson>>(g, "listSources", "Every source as the last sync left it", vec![]),
    );
    add("/api/v1/stats", operation::<StatsJson>(g, "getStats", "The catalog and its sources", vec![]));
    add(
        "/api/v1/coverage",
        operation::<CoverageJson>(g, "getCoverage", "Detection counts per technique", parameters("", &MATRIX, &[])),
    );
    add(
        "/api/v1/coverage/stack",
        operation::<StackCoverageJson>(
            g,
            "getStackCoverage",
            "Every technique's status for the sources a stack has (covered, elsewhere, community-only, none)",
            parameters("", &STACK_COVERAGE, &[]),
        ),
    );
    add(
        "/api/v1/coverage/stack/layer",
        file_operation(
            g,
            "getStackCoverageLayer",
            "The same coverage as an ATT&CK Navigator layer (format 4.5) to download: every technique in its status's \
             colour, scored by the stack's own detections, linking to the server's public URL when it has one",
            parameters("", &STACK_COVERAGE, &[]),
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
            operation::<Vec<AttackObjectJson>>(g, list_id, &format!("Every current ATT&CK {label}"), vec![]),
        );
        let route = format!("/api/v1{index}/{{name}}");
        add(
            &route,
            operation::<AttackObjectPageJson>(
                g,
                get_id,
                &format!("An ATT&CK {label} with the detections for each technique it uses"),
                parameters(&route, &ATTACK_OBJECT, &[]),
            ),
        );
    }
    add("/api/v1/sync", operation::<SyncPhase>(g, "getSync", "Where a background sync stands", vec![]));
    add(
        "/api/v1/changes",
        operation::<ChangesJson>(g, "listChanges", "What syncs changed, newest first", parameters("", &CHANGES, &[])),
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

fn operation<T: JsonSchema>(g: &mut SchemaGenerator, id: &str, summary: &str, parameters: Vec<Value>) -> Value {
    let mut responses = errors(g);
    responses.insert("200".into(), response(g.subschema_for::<T>()));
    json!({ "operationId": id, "summary": summary, "parameters": parameters, "responses": responses })
}

/// The error answers every operation may give, each an [`ErrorJson`]: an address naming several
/// detections (300), a bad request (400), nothing found (404), an address longer than the
/// server takes (414), no catalog or too busy right now (503).
fn errors(g: &mut SchemaGenerator) -> Map<String, Value> {
    let error = response(g.subschema_for::<ErrorJson>());
    ["300", "400", "404", "414", "503"].iter().map(|status| (status.to_string(), error.clone())).collect()
}

/// `/api/v1/export` answers with a file, not JSON.
fn export_operation(g: &mut SchemaGenerator) -> Value {
    file_operation(
        g,
        "export",
        "Detections in a platform's import format (or JSON/CSV rows), as a file to download; several files come as \
         an archive (a Splunk app as .tar.gz)",
        parameters("", &DOWNLOAD, &[]),
        &["application/json", "application/x-ndjson", "text/csv", "text/plain", "application/zip", "application/gzip"],
    )
}

/// An operation answering with a file to download (named in Content-Disposition), not JSON of
/// a wire type.
fn file_operation(g: &mut SchemaGenerator, id: &str, summary: &str, parameters: Vec<Value>, media: &[&str]) -> Value {
    let content: Map<String, Value> = media
        .iter()
        .map(|media| (media.to_string(), json!({ "schema": { "type": "string", "contentMediaType": media } })))
        .collect();
    let mut responses = errors(g);
    responses
        .insert("200".into(), json!({ "description": "The file, named in Content-Disposition", "content": content }));
    json!({ "operationId": id, "summary": summary, "parameters": parameters, "responses": responses })
}

fn response(schema: Schema) -> Value {
    json!({ "description": "JSON", "content": { "application/json": { "schema": schema } } })
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

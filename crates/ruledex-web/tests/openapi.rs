//! The OpenAPI document describes what the server really returns: each response is validated
//! against the schema the document gives for it.

use serde_json::{Value, json};

use crate::util::shared_server;

fn document() -> Value {
    shared_server().get("/api/v1/openapi.json").ok().json()
}

/// Validates `instance` against `#/components/schemas/{name}` of the document.
#[track_caller]
fn assert_matches(document: &Value, name: &str, instance: &Value, what: &str) {
    let schema = json!({ "$ref": format!("#/components/schemas/{name}"), "components": document["components"] });
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> =
        validator.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).take(5).collect();
    assert!(errors.is_empty(), "{what} does not match {name}: {errors:#?}");
}

#[test]
fn responses_match_their_documented_schemas() {
    let server = shared_server();
    let doc = document();
    let cases = [
        ("/api/v1/techniques/T1090?community=1&deprecated=1", "TechniquePage"),
        ("/api/v1/techniques/T1086", "TechniquePage"),
        ("/api/v1/detections/splunk/windows_proxy_via_netsh", "Detection"),
        ("/api/v1/detections/sublime/d00893ba-a65a-5b04-88d1-f35512eae291", "Detection"),
        ("/api/v1/search?q=tor&limit=50", "SearchResults"),
        ("/api/v1/stats", "Stats"),
        ("/api/v1/coverage?community=1", "Coverage"),
        ("/api/v1/sync", "SyncPhase"),
        ("/api/v1/changes?since=2000-01-01&technique=T1090", "Changes"),
        ("/api/v1/coverage/stack?have=splunk,sentinel&inferred=1", "StackCoverage"),
        ("/api/v1/groups/cozy%20bear?have=splunk", "AttackObjectPage"),
        ("/api/v1/campaigns/C0024", "AttackObjectPage"),
        ("/api/v1/software/S0154", "AttackObjectPage"),
        ("/api/v1/groups/Cozy%20Bare", "Error"),
        ("/api/v1/coverage/stack?have=qradar", "Error"),
        ("/api/v1/techniques/T1999", "Error"),
        ("/api/v1/search?q=%22", "Error"),
    ];
    for (path, schema) in cases {
        let response = server.get(path);
        assert!(response.status < 500, "{path}");
        assert_matches(&doc, schema, &response.json(), path);
    }
    for source in server.get("/api/v1/sources").ok().json().as_array().unwrap() {
        assert_matches(&doc, "SourceStatus", source, "a source");
    }
    for suggestion in server.get("/api/v1/techniques?q=proxy").ok().json().as_array().unwrap() {
        assert_matches(&doc, "TechniqueSuggestion", suggestion, "a suggestion");
    }
}

#[test]
fn every_documented_path_is_served() {
    let server = shared_server();
    let doc = document();
    for path in doc["paths"].as_object().unwrap().keys() {
        let id = match path.split('/').nth(3) {
            Some("groups") => "G0016",
            Some("campaigns") => "C0024",
            Some("software") => "S0154",
            _ => "T1090",
        };
        let concrete =
            path.replace("{technique}", id).replace("{name}", id).replace("{id}", id).replace("{source}", "chronicle");
        let concrete = if concrete.contains("/detections/") {
            "/api/v1/detections/chronicle/gcti_tor_exit_nodes".to_string()
        } else {
            concrete
        };
        let concrete = match concrete.as_str() {
            "/api/v1/search" | "/api/v1/techniques" => format!("{concrete}?q=proxy"),
            "/api/v1/export" => format!("{concrete}?format=json&technique=T1090"),
            _ => concrete,
        };
        assert_eq!(server.get(&concrete).status, 200, "{concrete}");
    }
}

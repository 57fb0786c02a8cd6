//! An OpenAPI-driven fuzzer, in the spirit of schemathesis: requests made from the served
//! document alone (each parameter's schema: its enum values, its range, free text where it takes
//! any), sent to the real server, and every answer checked against the document: a documented
//! status, never a 500, and a body that matches the schema documented for that status. Then the
//! values just outside what the document allows (a number past its range, a name of no enum):
//! each a documented 400.
//!
//! The generator is seeded, so a failure names a request that fails again.

use serde_json::{Value, json};

use crate::util::{Server, shared_server};

/// Requests per operation, besides its edges. Exports and searches cost more: fewer of them.
const CASES: usize = 60;
const COSTLY_CASES: usize = 20;

/// A small deterministic generator (xorshift64*): reproducible requests.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Free text as clients send it: real names and words, typos, syntax, and hostile characters.
const TEXTS: &[&str] = &[
    "T1090",
    "t1059.001",
    "T1090/003",
    "T9999",
    "T1O90",
    "Proxy",
    "Proxy: Multi-hop Proxy",
    "G0016",
    "APT29",
    "cozy bear",
    "C0024",
    "S0154",
    "chronicle",
    "splunk",
    "sigma",
    "Splunk",
    "Google SecOps",
    "tor",
    "powershell",
    "\"tor exit",
    "(",
    "a*",
    "title:proxy",
    "cve:CVE-2021-44228",
    "NOT",
    "2026-11-01",
    "7",
    "last week",
    "chronicle/gcti_tor_exit_nodes",
    "nosuch/x",
    "",
    " ",
    "%",
    "é日本",
    "<script>",
    "\u{1b}[2J",
    "a,b",
];

/// The served document.
fn document(server: &Server) -> Value {
    server.get("/api/v1/openapi.json").ok().json()
}

/// A value for `schema` (the schemas the document gives parameters), as text.
fn value_of(schema: &Value, random: &mut Random) -> Vec<String> {
    match schema["type"].as_str() {
        Some("array") => {
            let count = random.below(3) + usize::from(random.chance(50));
            (0..count).flat_map(|_| value_of(&schema["items"], random)).collect()
        }
        Some("integer") => {
            let (min, max) = (schema["minimum"].as_u64().unwrap_or(0), schema["maximum"].as_u64().unwrap_or(1_000));
            let n = match random.below(4) {
                0 => min,
                1 => max,
                _ => min + random.next() % (max - min + 1).min(200),
            };
            vec![n.to_string()]
        }
        _ => match schema["enum"].as_array() {
            Some(values) => vec![random.pick(values).as_str().unwrap_or_default().to_string()],
            None => vec![random.pick(TEXTS).to_string()],
        },
    }
}

/// A request the document allows for `operation` at `route`: every required parameter, each
/// optional one half the time.
fn request(route: &str, operation: &Value, random: &mut Random) -> String {
    let mut path = route.to_string();
    let mut query = Vec::new();
    for param in operation["parameters"].as_array().unwrap() {
        let name = param["name"].as_str().unwrap();
        let required = param["required"] == true;
        if !required && !random.chance(50) {
            continue;
        }
        let values = value_of(&param["schema"], random);
        match param["in"].as_str() {
            Some("path") => {
                let value = values.first().cloned().filter(|v| !v.trim().is_empty()).unwrap_or_else(|| "T1090".into());
                path = path.replace(&format!("{{{name}}}"), &ruledex_core::url::encode_component(&value));
            }
            _ => {
                query.extend(values.into_iter().map(|v| format!("{name}={}", ruledex_core::url::encode_component(&v))))
            }
        }
    }
    if query.is_empty() { path } else { format!("{path}?{}", query.join("&")) }
}

/// Checks an answer against what the document says of `operation`: a documented status, and
/// for JSON a body matching that status's schema.
fn check(document: &Value, operation: &Value, path: &str, response: &crate::util::Response) -> Result<(), String> {
    let documented = &operation["responses"][response.status.to_string()];
    if documented.is_null() || response.status >= 500 && response.status != 503 {
        return Err(format!("{path}: status {} is not documented: {:.300}", response.status, response.body));
    }
    let content_type = response.header("content-type").unwrap_or_default().split(';').next().unwrap_or_default();
    let content = &documented["content"];
    if content.get(content_type).is_none() {
        return Err(format!("{path}: {} answered as {content_type}, not documented", response.status));
    }
    if content_type != "application/json" || content[content_type]["schema"].get("contentMediaType").is_some() {
        return Ok(());
    }
    let schema = json!({ "allOf": [content[content_type]["schema"]], "components": document["components"] });
    let validator = jsonschema::validator_for(&schema).map_err(|e| format!("{path}: the schema: {e}"))?;
    let body: Value = serde_json::from_str(&response.body).map_err(|e| format!("{path}: not JSON ({e})"))?;
    let errors: Vec<String> =
        validator.iter_errors(&body).take(3).map(|e| format!("{e} at {}", e.instance_path())).collect();
    if errors.is_empty() { Ok(()) } else { Err(format!("{path}: {} does not match: {errors:?}", response.status)) }
}

/// Every operation of the document, with its route.
fn operations(document: &Value) -> Vec<(String, Value)> {
    let paths = document["paths"].as_object().unwrap();
    paths.iter().map(|(route, item)| (route.clone(), item["get"].clone())).collect()
}

#[test]
fn every_request_the_document_allows_gets_a_documented_answer() {
    let server = shared_server();
    let document = document(server);
    let mut random = Random(0x5eed_2000_0020);
    let (mut sent, mut failures) = (0, Vec::new());
    for (route, operation) in operations(&document) {
        let costly = route.contains("export") || route.contains("search") || route.contains("layer");
        for _ in 0..if costly { COSTLY_CASES } else { CASES } {
            let path = request(&route, &operation, &mut random);
            let response = server.get(&path);
            sent += 1;
            if let Err(failure) = check(&document, &operation, &path, &response) {
                failures.push(failure);
            }
        }
    }
    assert!(sent > 700, "{sent} requests");
    assert!(failures.is_empty(), "{} of {sent} requests failed:\n{}", failures.len(), failures.join("\n"));
}

/// Values just outside what the document allows are documented 400s saying what to give.
#[test]
fn values_outside_the_document_are_400s_naming_the_parameter() {
    let server = shared_server();
    let document = document(server);
    let mut random = Random(0x0bad_0000_0400);
    let mut failures = Vec::new();
    for (route, operation) in operations(&document) {
        for param in operation["parameters"].as_array().unwrap().iter().filter(|p| p["in"] == "query") {
            let name = param["name"].as_str().unwrap();
            let schema = &param["schema"];
            let items = if schema["type"] == "array" { &schema["items"] } else { schema };
            let mut outside: Vec<String> = Vec::new();
            if let Some(max) = items["maximum"].as_u64() {
                outside.push((max + 1).to_string());
                outside.push("lots".into());
            }
            if let Some(min) = items["minimum"].as_u64().filter(|min| *min > 0) {
                outside.push((min - 1).to_string());
            }
            if items["enum"].is_array() {
                outside.push("no-such-value".into());
            }
            for value in outside {
                let mut base = request(&route, &operation, &mut random);
                base = base.split('?').next().unwrap().to_string();
                let required: Vec<String> = operation["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|p| p["required"] == true && p["in"] == "query" && p["name"] != name)
                    .map(|p| format!("{}={}", p["name"].as_str().unwrap(), first_value(&p["schema"])))
                    .collect();
                let query = [required, vec![format!("{name}={value}")]].concat().join("&");
                let path = format!("{base}?{query}");
                let response = server.get(&path);
                let message = response.json()["error"]["message"].as_str().unwrap_or_default().to_string();
                if response.status != 400 || !message.contains(&format!("`{name}`")) {
                    failures.push(format!("{path}: {} {message}", response.status));
                }
                if let Err(failure) = check(&document, &operation, &path, &response) {
                    failures.push(failure);
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A value a required parameter takes: its first enum value, else a technique ID or a search.
fn first_value(schema: &Value) -> String {
    match schema["enum"].as_array() {
        Some(values) => values[0].as_str().unwrap_or_default().to_string(),
        None => "tor".to_string(),
    }
}

//! Issue 20's parity test: one request, spelled the way each front end takes it (the CLI's
//! flags with `--json`, `/api/v1`'s query string, the MCP tools' JSON arguments, each name taken
//! from the request vocabulary), gives the same detections in the same order with the same
//! counts everywhere, for every filter alone, their combinations, the community, deprecated,
//! inferred and exact switches, and pages.

use ruledex_app::request::vocabulary::{EXPORT, SEARCH, TECHNIQUE_LISTING};
use ruledex_app::request::{Kind, Operation, Spelling};
use serde_json::{Map, Value, json};

use crate::mcp::{Client, Session, call, connect, runtime, text};
use crate::serve::{Served, get, serve_with};
use crate::util::{Workspace, shared_catalog};

/// One request: a question, its subject, and its parameters as query-string pairs.
struct Request {
    operation: &'static Operation,
    subject: Option<&'static str>,
    pairs: Vec<(&'static str, String)>,
}

impl Request {
    fn new(operation: &'static Operation, subject: Option<&'static str>, pairs: &[(&'static str, &str)]) -> Request {
        Request { operation, subject, pairs: pairs.iter().map(|(n, v)| (*n, v.to_string())).collect() }
    }

    /// `ruledex technique T1090 --source splunk --json`.
    fn command_line(&self, command: &str) -> Vec<String> {
        let mut args = vec![command.to_string()];
        args.extend(self.subject.map(str::to_string));
        for (name, value) in &self.pairs {
            let param = self.operation.param(name, Spelling::Query).expect("a parameter of the question");
            args.push(format!("--{}", param.flag));
            if !matches!(param.kind, Kind::Flag) {
                args.push(value.clone());
            }
        }
        args.push("--json".into());
        args
    }

    /// `source=splunk&source=sigma&community=1`, values encoded.
    fn query_string(&self) -> String {
        let pairs: Vec<String> = self
            .pairs
            .iter()
            .map(|(name, value)| format!("{name}={}", ruledex_core::url::encode_component(value)))
            .collect();
        pairs.join("&")
    }

    /// `{"technique": "T1090", "sources": ["splunk"], "community": true}`.
    fn arguments(&self) -> Value {
        let mut arguments = Map::new();
        if let (Some(subject), Some(param)) = (self.subject, self.operation.subject) {
            arguments.insert(param.json.into(), json!(subject));
        }
        for (name, value) in &self.pairs {
            let param = self.operation.param(name, Spelling::Query).expect("a parameter of the question");
            let value = match param.kind {
                Kind::Flag => json!(true),
                Kind::Number { .. } => json!(value.parse::<u64>().unwrap()),
                Kind::List { .. } => {
                    let mut list = arguments.remove(param.json).unwrap_or_else(|| json!([]));
                    list.as_array_mut().unwrap().extend(value.split(',').map(|v| json!(v)));
                    list
                }
                Kind::Text | Kind::Choice { .. } => json!(value),
            };
            arguments.insert(param.json.into(), value);
        }
        Value::Object(arguments)
    }
}

/// `SOURCE/ID` of each listed detection, in order.
fn addresses(listing: &Value) -> Vec<String> {
    let detections = listing["detections"].as_array().unwrap_or_else(|| panic!("no listing: {listing}"));
    detections.iter().map(|d| format!("{}/{}", d["source"].as_str().unwrap(), d["id"].as_str().unwrap())).collect()
}

/// What must agree besides the addresses: counts and where the page stands.
fn counts(listing: &Value, keys: &[&str]) -> Value {
    keys.iter().map(|key| (key.to_string(), listing[*key].clone())).collect::<Map<String, Value>>().into()
}

const TECHNIQUE_COUNTS: &[&str] = &[
    "id",
    "shown",
    "total",
    "inferred",
    "hidden_deprecated",
    "hidden_community",
    "hidden_inferred",
    "offset",
    "limit",
    "more",
    "counts",
    "facets",
    "choices",
    "shown_facets",
    "subtechniques",
];
const SEARCH_COUNTS: &[&str] = &["total", "offset", "limit", "corrected_query", "facets"];

/// The three front ends over one catalog.
struct FrontEnds<'a> {
    workspace: &'a Workspace,
    server: Served,
    session: Session,
}

impl FrontEnds<'_> {
    fn cli(&self, args: &[String]) -> Value {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = self.workspace.run(&args);
        assert!(run.code == 0 || (args[0] == "search" && run.code == 1), "{args:?}: {}", run.stderr);
        run.json()
    }

    fn api(&self, path: &str) -> Value {
        let (status, body) = get(&self.server, path);
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    async fn mcp(&self, tool: &str, arguments: Value) -> Value {
        let result = call(&self.session, tool, arguments.clone()).await;
        assert_ne!(result.is_error, Some(true), "{tool} {arguments}: {}", text(&result));
        result.structured_content.unwrap_or_else(|| panic!("{tool} {arguments}: no structured content"))
    }

    /// The request through all three: the same addresses in the same order, the same counts.
    async fn agree(&self, request: &Request, keys: &[&str]) -> usize {
        let (command, path, tool) = match request.operation.name {
            "technique" => {
                let id = ruledex_core::url::encode_component(request.subject.unwrap_or_default());
                ("technique", format!("/api/v1/techniques/{id}"), "technique")
            }
            _ => ("search", "/api/v1/search".to_string(), "search"),
        };
        let cli = self.cli(&request.command_line(command));
        let subject = match (request.operation.name, request.subject) {
            ("search", Some(text)) => format!("q={}&", ruledex_core::url::encode_component(text)),
            _ => String::new(),
        };
        let api = self.api(&format!("{path}?{subject}{}", request.query_string()));
        let mcp = self.mcp(tool, request.arguments()).await;
        let what = request.command_line(command).join(" ");
        assert_eq!(addresses(&cli), addresses(&api), "{what}: CLI and API list the same, in the same order");
        assert_eq!(addresses(&api), addresses(&mcp), "{what}: API and MCP list the same, in the same order");
        assert_eq!(counts(&cli, keys), counts(&api, keys), "{what}: CLI and API count alike");
        assert_eq!(counts(&api, keys), counts(&mcp, keys), "{what}: API and MCP count alike");
        addresses(&api).len()
    }
}

#[test]
fn every_front_end_answers_a_request_alike() {
    let workspace = shared_catalog();
    let server = serve_with(workspace, &["--no-sync"]);
    runtime().block_on(async {
        let session = connect(workspace, Client::default()).await;
        let front_ends = FrontEnds { workspace, server, session };
        // A data source the T1059 family really has.
        let family = front_ends.api("/api/v1/techniques/T1059?community=1");
        let data_source = family["facets"]["data_sources"].as_object().unwrap().keys().next().unwrap().clone();
        let technique =
            |id: &'static str, pairs: &[(&'static str, &str)]| Request::new(&TECHNIQUE_LISTING, Some(id), pairs);
        let techniques = [
            technique("T1090", &[]),
            technique("T1090", &[("community", "1")]),
            technique("T1090", &[("deprecated", "1")]),
            technique("T1090", &[("exact", "1")]),
            technique("T1090", &[("status", "deprecated")]),
            technique("T1598", &[("inferred", "1")]),
            technique("T1566", &[("inferred", "1"), ("limit", "100")]),
            technique("T1059", &[("source", "splunk")]),
            technique("T1059", &[("source", "sigma")]),
            technique("T1059", &[("vendor", "Elastic")]),
            technique("T1059", &[("vendor", "Sigma")]),
            technique("T1059", &[("kind", "community")]),
            technique("T1059", &[("kind", "vendor"), ("kind", "community")]),
            technique("T1059", &[("language", "spl,eql")]),
            technique("T1059", &[("severity", "high")]),
            technique("T1059", &[("type", "hunt")]),
            technique("T1059", &[("status", "experimental")]),
            technique("T1059", &[("community", "1"), ("data_source", &data_source)]),
            technique("T1059", &[("community", "1"), ("language", "kusto"), ("severity", "high")]),
            technique("T1059", &[("source", "elastic"), ("type", "building_block"), ("deprecated", "1")]),
            technique("T1059", &[("community", "1"), ("offset", "20"), ("limit", "20")]),
            technique("T1059", &[("community", "1"), ("offset", "40"), ("limit", "7")]),
            technique("T1059", &[("community", "1"), ("offset", "100000")]),
            technique("T1059.001", &[("exact", "1"), ("community", "1"), ("inferred", "1")]),
            technique("Proxy: Multi-hop Proxy", &[("community", "1")]),
            technique("T1086", &[]),
        ];
        let mut listed = 0;
        for request in &techniques {
            listed += front_ends.agree(request, TECHNIQUE_COUNTS).await;
        }
        let search = |text: &'static str, pairs: &[(&'static str, &str)]| Request::new(&SEARCH, Some(text), pairs);
        let searches = [
            search("powershell", &[]),
            search("powershell", &[("source", "sigma")]),
            search("powershell", &[("kind", "vendor"), ("language", "spl")]),
            search("powershell", &[("deprecated", "1"), ("severity", "critical")]),
            search("powershell", &[("offset", "20"), ("limit", "15")]),
            search("tor exit node", &[("limit", "100")]),
            search("mimikats", &[("limit", "5")]),
            search("title:proxy", &[("vendor", "Splunk,Elastic")]),
        ];
        for request in &searches {
            listed += front_ends.agree(request, SEARCH_COUNTS).await;
        }
        assert!(listed > 500, "the requests list real detections, pages of them: {listed}");
        every_export_selects_alike(&front_ends).await;
        front_ends.session.cancel().await.unwrap();
    });
}

/// An export of "everything" the filters keep selects the same detections everywhere (issue
/// 20: 10,928 from the CLI, 6,353 over MCP): vendor-native unless community content is asked.
async fn every_export_selects_alike(front_ends: &FrontEnds<'_>) {
    for pairs in [
        &[("format", "json"), ("vendor", "Sublime Security"), ("severity", "critical")][..],
        &[
            ("format", "json"),
            ("kind", "community"),
            ("severity", "critical"),
            ("data_source", "process_creation"),
            ("status", "production"),
        ],
        &[("format", "json"), ("technique", "T1090"), ("community", "1"), ("language", "kusto")],
    ] {
        let request = Request::new(&EXPORT, None, pairs);
        let mut command = request.command_line("export");
        command.pop(); // exports print their own format, no --json
        let run = front_ends.workspace.run(&command.iter().map(String::as_str).collect::<Vec<_>>()).ok();
        let cli: Value = serde_json::from_str(&run.stdout).unwrap();
        let api = front_ends.api(&format!("/api/v1/export?{}", request.query_string()));
        let mcp = front_ends.mcp("export", request.arguments()).await;
        let mcp = serde_json::from_str::<Value>(mcp["files"][0]["text"].as_str().unwrap()).unwrap();
        assert!(!addresses(&cli).is_empty(), "{command:?} exports something");
        assert_eq!(addresses(&cli), addresses(&api), "{command:?}");
        assert_eq!(addresses(&api), addresses(&mcp), "{command:?}");
    }
}

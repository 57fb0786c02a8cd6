//! `ruledex mcp` as an AI assistant sees it: started as a child process and spoken to over
//! stdio with the official SDK's client (rmcp): the handshake, every tool (structured output
//! checked against the tool's output schema and against the CLI's `--json`), resources,
//! completions, prompts, bad arguments, a first run that builds the catalog, and a client that
//! goes away mid-call.
#![allow(deprecated)] // MCP logging (deprecated by SEP-2577) is how a build's progress is shown

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientInfo, CompletionContext, GetPromptRequestParams,
    LoggingMessageNotificationParam, ReadResourceRequestParams, ResourceContents,
};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};

use crate::history::{commit, git, git_workspace, sync};
use crate::util::{Workspace, copy_tree, detections, field, fixtures, shared_catalog, source};

/// A client that keeps the log messages the server sends.
#[derive(Clone, Default)]
pub(crate) struct Client {
    pub(crate) logs: Arc<Mutex<Vec<String>>>,
}

impl ClientHandler for Client {
    async fn on_logging_message(&self, params: LoggingMessageNotificationParam, _: NotificationContext<RoleClient>) {
        self.logs.lock().unwrap().push(params.data.as_str().unwrap_or_default().to_string());
    }

    fn get_info(&self) -> ClientInfo {
        ClientInfo::default()
    }
}

pub(crate) type Session = RunningService<RoleClient, Client>;

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

pub(crate) async fn connect(workspace: &Workspace, client: Client) -> Session {
    let mut command = tokio::process::Command::from(workspace.command());
    command.arg("mcp");
    let (transport, _) = TokioChildProcess::builder(command).stderr(Stdio::null()).spawn().unwrap();
    client.serve(transport).await.unwrap()
}

pub(crate) async fn call(session: &Session, tool: &str, arguments: Value) -> CallToolResult {
    let Value::Object(arguments) = arguments else { panic!("arguments are an object") };
    let request = CallToolRequestParams::new(tool.to_string()).with_arguments(arguments);
    tokio::time::timeout(Duration::from_secs(120), session.call_tool(request)).await.unwrap().unwrap()
}

pub(crate) fn text(result: &CallToolResult) -> String {
    result.content.iter().filter_map(|c| c.as_text()).map(|t| t.text.clone()).collect()
}

/// A successful call's structured content, checked against the tool's output schema.
fn structured(result: CallToolResult, schema: &Value) -> Value {
    assert_ne!(result.is_error, Some(true), "{}", text(&result));
    assert!(!text(&result).is_empty(), "a text summary for clients without structured output");
    let value = result.structured_content.expect("structured content");
    let validator = jsonschema::validator_for(schema).unwrap();
    let errors: Vec<String> =
        validator.iter_errors(&value).take(5).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "output does not match the output schema: {errors:?}");
    value
}

/// The address and JSON of the one resource a call's answer embeds.
fn embedded_json(result: &CallToolResult) -> (String, Value) {
    let embedded: Vec<&ResourceContents> =
        result.content.iter().filter_map(|c| c.as_resource()).map(|r| &r.resource).collect();
    let [ResourceContents::TextResourceContents { uri, mime_type, text, .. }] = embedded.as_slice() else {
        panic!("one embedded text resource: {embedded:?}")
    };
    assert_eq!(mime_type.as_deref(), Some("application/json"));
    (uri.clone(), serde_json::from_str(text).unwrap())
}

/// A failed call: a tool error (not a protocol error) whose text is returned.
fn failed(result: CallToolResult) -> String {
    assert_eq!(result.is_error, Some(true), "{}", text(&result));
    text(&result)
}

fn addresses(listing: &Value) -> Vec<String> {
    detections(listing).iter().map(|d| format!("{}/{}", field(d, "source"), field(d, "id"))).collect()
}

#[test]
fn an_assistant_uses_every_tool_resource_completion_and_prompt() {
    let workspace = shared_catalog();
    let cli = |args: &[&str]| workspace.run(args).ok().json();
    runtime().block_on(async {
        let session = connect(workspace, Client::default()).await;
        let info = session.peer_info().unwrap();
        assert_eq!(info.server_info.as_ref().map(|s| s.name.as_str()), Some("ruledex"));
        assert!(info.instructions.as_deref().unwrap_or_default().contains("ruledex://detections/"));

        let tools = session.list_all_tools().await.unwrap();
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        assert_eq!(
            names,
            ["technique", "search", "show", "stats", "coverage", "stack_coverage", "group", "export", "changes"]
        );
        let schema = |name: &str| -> Value {
            let tool = tools.iter().find(|t| t.name == name).unwrap();
            assert!(tool.description.as_deref().unwrap_or_default().contains("Example: {"), "{name} shows an example");
            assert_eq!(tool.annotations.as_ref().and_then(|a| a.read_only_hint), Some(true));
            Value::Object(tool.output_schema.as_deref().cloned().expect("an output schema"))
        };

        // technique: the CLI's JSON, paged, with the summary fields of each detection.
        let all = cli(&["technique", "T1090", "--all", "--json"]);
        let first = structured(
            call(&session, "technique", json!({"technique": "T1090", "limit": 5})).await,
            &schema("technique"),
        );
        let next = structured(
            call(&session, "technique", json!({"technique": "t1090", "offset": 5, "limit": 100})).await,
            &schema("technique"),
        );
        for key in
            ["id", "technique", "subtechniques", "shown", "total", "facets", "hidden_community", "hidden_deprecated"]
        {
            assert_eq!(first[key], all[key], "{key}");
        }
        let shown = all["shown"].as_u64().unwrap();
        assert!(shown > 5, "T1090 has more than a page of detections");
        assert_eq!(
            (first["offset"].as_u64(), first["limit"].as_u64(), first["more"].as_u64()),
            (Some(0), Some(5), Some(shown - 5))
        );
        let paged = [addresses(&first), addresses(&next)].concat();
        assert_eq!(paged, addresses(&all), "pages continue in the CLI's order");
        assert!(detections(&first).iter().all(|d| d.get("native_rule").is_none()), "listings leave the rule file out");
        let summary = text(&call(&session, "technique", json!({"technique": "T1090", "limit": 5})).await);
        assert!(summary.contains(&format!("{} more: call again with `offset: 5`", shown - 5)), "{summary}");
        assert!(summary.contains(&paged[0]), "{summary}");

        // search
        let searched = structured(
            call(&session, "search", json!({"query": "tor exit node", "limit": 3})).await,
            &schema("search"),
        );
        let cli_search = cli(&["search", "tor", "exit", "node", "--limit", "3", "--json"]);
        assert_eq!(searched["total"], cli_search["total"]);
        assert_eq!(addresses(&searched), addresses(&cli_search));
        // A misspelled search: the results are for the corrected one, as the CLI's, and both say so.
        let misspelled = call(&session, "search", json!({"query": "mimikats", "limit": 3})).await;
        assert!(text(&misspelled).starts_with("\"mimikats\" finds almost nothing; showing results for \"mimikatz\""));
        let corrected = structured(misspelled, &schema("search"));
        let cli_corrected = cli(&["search", "mimikats", "--limit", "3", "--json"]);
        assert_eq!((&corrected["query"], &corrected["corrected_query"]), (&json!("mimikats"), &json!("mimikatz")));
        assert_eq!(corrected["corrected_query"], cli_corrected["corrected_query"]);
        assert_eq!(addresses(&corrected), addresses(&cli_corrected));
        assert!(searched.get("corrected_query").is_none(), "a search that finds enough is not corrected");
        assert_eq!(searched["attack_version"], stats_release(&cli(&["stats", "--json"])), "the release it searched");

        // show: the whole detection, native rule and paste-ready query included, as the CLI has it.
        let shown = structured(
            call(&session, "show", json!({"address": "chronicle/gcti_tor_exit_nodes"})).await,
            &schema("show"),
        );
        assert_eq!(shown, cli(&["show", "chronicle/gcti_tor_exit_nodes", "--json"]));
        assert!(!field(&shown, "native_rule").is_empty() && !field(&shown, "paste_ready_query").is_empty());
        assert_eq!(shown["attack_version"], stats_release(&cli(&["stats", "--json"])), "the release it maps to");
        let splunk = call(&session, "show", json!({"address": "splunk/windows_proxy_via_netsh"})).await;
        assert!(text(&splunk).contains("Paste-ready query:\n```\n"), "{}", text(&splunk));
        // A hunt of several queries: each reaches MCP through the service, whole in `show` and
        // cut in listings like every long text, saying where the whole one is.
        let hunt = "elastic/persistence_via_loadable_kernel_modules";
        let whole = structured(call(&session, "show", json!({"address": hunt})).await, &schema("show"));
        assert_eq!(whole["queries"], cli(&["show", hunt, "--json"])["queries"]);
        assert_eq!(whole["queries"].as_array().unwrap().len(), 4);
        let listing = structured(
            call(&session, "technique", json!({"technique": "T1547.006", "limit": 100})).await,
            &schema("technique"),
        );
        let listed = detections(&listing).iter().find(|d| format!("{}/{}", field(d, "source"), field(d, "id")) == hunt);
        let queries = listed.expect("the hunt is listed under T1547.006")["queries"].as_array().unwrap();
        assert_eq!(queries.len(), 4);
        // Each query is listed whole when short, else cut saying where the whole one is.
        let marker = format!("more characters: `show` {hunt} has the whole text]");
        for (listed, whole) in queries.iter().zip(whole["queries"].as_array().unwrap()) {
            let (listed, whole) = (field(listed, "query"), field(whole, "query"));
            assert!(listed == whole || listed.ends_with(&marker), "{listed}");
        }
        assert!(queries.iter().any(|q| field(q, "query").ends_with(&marker)), "{queries:?}");

        // stats
        let stats = structured(call(&session, "stats", json!({})).await, &schema("stats"));
        let mut cli_stats = cli(&["stats", "--json"]);
        // The CLI says where the catalog is; MCP, which may answer anonymous clients, does not.
        assert!(cli_stats["catalog"].as_object_mut().unwrap().remove("path").is_some());
        assert_eq!(stats, cli_stats);

        // coverage: the matrix's counts, as the API has them.
        let coverage = structured(call(&session, "coverage", json!({})).await, &schema("coverage"));
        let t1090 = coverage["techniques"].as_array().unwrap().iter().find(|t| t["id"] == "T1090").unwrap();
        assert_eq!(t1090["detections"], all["shown"], "coverage counts what `technique` lists");

        // stack_coverage and group: the CLI's answers.
        let stack = structured(
            call(&session, "stack_coverage", json!({"have": ["splunk"], "tactics": ["TA0011"]})).await,
            &schema("stack_coverage"),
        );
        let from_cli = cli(&["coverage", "--have", "splunk", "--tactic", "TA0011", "--json"]);
        assert_eq!(stack["summary"], from_cli["summary"]);
        assert_eq!(stack["techniques"], from_cli["techniques"]);
        // With `layer`, the CLI's Navigator layer comes along as an embedded resource (without
        // links: an assistant has no ruledex pages to open).
        let with_layer = call(&session, "stack_coverage", json!({"have": ["splunk", "sentinel"], "layer": true})).await;
        let (uri, layer) = embedded_json(&with_layer);
        assert_eq!(uri, "ruledex://exports/ruledex-coverage-splunk-sentinel.json");
        let from_cli: Value =
            serde_json::from_str(&workspace.run(&["coverage", "--have", "splunk,sentinel", "--layer"]).ok().stdout)
                .unwrap();
        let unlinked = |layer: &Value| -> Vec<Value> {
            let entries = layer["techniques"].as_array().unwrap();
            entries.iter().map(|e| json!([e["techniqueID"], e["score"], e["color"], e["comment"]])).collect()
        };
        assert_eq!(unlinked(&layer), unlinked(&from_cli));
        assert!(layer["links"].as_array().unwrap().is_empty() && layer["techniques"][0]["links"] == json!([]));
        let coverage = structured(with_layer, &schema("stack_coverage"));
        assert_eq!(coverage["techniques"].as_array().unwrap().len(), layer["techniques"].as_array().unwrap().len());
        let group = structured(
            call(&session, "group", json!({"name": "Cozy Bear", "have": ["splunk"]})).await,
            &schema("group"),
        );
        let from_cli = cli(&["group", "G0016", "--have", "splunk", "--json"]);
        assert_eq!(group["summary"], from_cli["summary"]);
        assert_eq!(group["techniques"].as_array().unwrap().len(), from_cli["techniques"].as_array().unwrap().len());
        let message = failed(call(&session, "group", json!({"name": "Cozy Bare"})).await);
        assert!(message.contains("APT29"), "{message}");

        // export: files as text, and what went in.
        let exported = structured(
            call(&session, "export", json!({"format": "yaral", "technique": "T1090", "sources": ["chronicle"]})).await,
            &schema("export"),
        );
        let files = exported["files"].as_array().unwrap();
        assert!(!files.is_empty() && files.iter().all(|f| f["text"].as_str().unwrap().contains("rule ")), "{exported}");
        let chronicle: Vec<String> = addresses(&all).into_iter().filter(|a| a.starts_with("chronicle/")).collect();
        assert_eq!(exported["included"].as_array().unwrap().len(), chronicle.len());
        let message = failed(call(&session, "export", json!({"format": "json"})).await);
        assert!(message.contains("narrow the selection"), "{message}");

        // Resources: a detection's native rule file, a technique page.
        let templates = session.list_all_resource_templates().await.unwrap();
        let uris: Vec<&str> = templates.iter().map(|t| t.uri_template.as_str()).collect();
        assert_eq!(uris, ["ruledex://detections/{source}/{id}", "ruledex://techniques/{id}"]);
        let read = |uri: &str| {
            let request = ReadResourceRequestParams::new(uri);
            let session = &session;
            async move {
                let result = session.read_resource(request).await.unwrap();
                match result.contents.into_iter().next().unwrap() {
                    ResourceContents::TextResourceContents { text, .. } => text,
                    other => panic!("text expected: {other:?}"),
                }
            }
        };
        assert_eq!(read("ruledex://detections/chronicle/gcti_tor_exit_nodes").await, field(&shown, "native_rule"));
        let page = read("ruledex://techniques/T1090").await;
        assert!(page.starts_with("# T1090 Proxy\n"), "{page}");
        assert!(page.contains("`chronicle/gcti_tor_exit_nodes`"), "{page}");
        let listed = session.list_resources(None).await.unwrap();
        assert!(listed.resources.iter().any(|r| r.uri == "ruledex://techniques/T1090"));

        // Completions: technique IDs and names, sources, addresses.
        let peer = session.peer();
        let values = |ids: Vec<String>| ids;
        let ids = values(peer.complete_prompt_simple("technique_coverage", "technique", "T1090.").await.unwrap());
        assert!(ids.contains(&"T1090.003".to_string()), "{ids:?}");
        let names = peer.complete_prompt_simple("technique_coverage", "technique", "multi-hop").await.unwrap();
        assert_eq!(names, ["Proxy: Multi-hop Proxy"]);
        let sources =
            peer.complete_resource_simple("ruledex://detections/{source}/{id}", "source", "chr").await.unwrap();
        assert_eq!(sources, ["chronicle"]);
        let context = CompletionContext::with_arguments([("source".to_string(), "chronicle".to_string())].into());
        let in_source = peer
            .complete_resource_argument("ruledex://detections/{source}/{id}", "id", "gcti_tor", Some(context))
            .await
            .unwrap();
        assert!(in_source.values.contains(&"gcti_tor_exit_nodes".to_string()), "{:?}", in_source.values);
        let addresses =
            peer.complete_prompt_simple("explain_detection", "address", "chronicle/gcti_tor").await.unwrap();
        assert!(addresses.contains(&"chronicle/gcti_tor_exit_nodes".to_string()), "{addresses:?}");
        let technique_ids = peer.complete_resource_simple("ruledex://techniques/{id}", "id", "T1090").await.unwrap();
        assert_eq!(technique_ids.first().map(String::as_str), Some("T1090"));

        // Prompts
        let prompts = session.list_all_prompts().await.unwrap();
        assert_eq!(
            prompts.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            ["technique_coverage", "explain_detection"]
        );
        let arguments = json!({"technique": "T1090"}).as_object().cloned().unwrap();
        let prompt = session
            .get_prompt(GetPromptRequestParams::new("technique_coverage").with_arguments(arguments))
            .await
            .unwrap();
        assert!(format!("{:?}", prompt.messages).contains("T1090"));

        session.cancel().await.unwrap();
    });
}

#[test]
fn changes_tells_what_syncs_recorded_as_the_cli_does() {
    let upstream_dir = tempfile::tempdir().unwrap();
    let upstream = upstream_dir.path();
    copy_tree(&fixtures().join("chronicle"), upstream);
    git(upstream, &["init", "--quiet", "--initial-branch=main"]);
    commit(upstream, "rules");
    let attack = format!("[attack]\nenterprise = {:?}\n", fixtures().join("attack/mini-enterprise.json"));
    let workspace = git_workspace(&attack, "chronicle", "chronicle", upstream);
    sync(&workspace);
    git(upstream, &["rm", "--quiet", "rules/community/two_rules.yaral"]);
    let retired = commit(upstream, "two rules retired");
    let number = sync(&workspace)["sync"].as_i64().unwrap();
    let cli = workspace.run(&["changes", "--json", "--limit", "50"]).ok().json();
    runtime().block_on(async {
        let session = connect(&workspace, Client::default()).await;
        let tools = session.list_all_tools().await.unwrap();
        let tool = tools.iter().find(|t| t.name == "changes").expect("a changes tool");
        let schema = Value::Object(tool.output_schema.as_deref().cloned().expect("an output schema"));

        let result = call(&session, "changes", json!({})).await;
        let summary = text(&result);
        let answer = structured(result, &schema);
        assert_eq!(answer, cli, "the CLI's JSON");
        let changes = answer["changes"].as_array().unwrap();
        assert_eq!(changes.len(), 2, "{answer}");
        assert!(changes.iter().all(|c| c["change"] == "removed" && c["commit"] == retired.as_str()), "{answer}");
        assert!(summary.contains("removed chronicle/"), "{summary}");

        let filtered = json!({"source": "chronicle", "technique": "T1090", "since": number.to_string()});
        let later = structured(call(&session, "changes", filtered).await, &schema);
        assert_eq!(later["changes"], json!([]), "nothing after the latest sync");

        let message = failed(call(&session, "changes", json!({"since": "last week"})).await);
        assert!(message.contains("neither a date"), "{message}");
        let message = failed(call(&session, "changes", json!({"source": "splunk"})).await);
        assert!(message.contains("`source`: there is no source \"splunk\""), "{message}");
        let message = failed(call(&session, "changes", json!({"limit": 0})).await);
        assert!(message.contains("`limit`: give a whole number from 1 to 500, not \"0\""), "{message}");
        session.cancel().await.unwrap();
    });
}

#[test]
fn bad_arguments_get_errors_a_model_can_act_on_and_the_server_goes_on() {
    let workspace = shared_catalog();
    runtime().block_on(async {
        let session = connect(workspace, Client::default()).await;
        let message = failed(call(&session, "technique", json!({"technique": "T9999"})).await);
        assert!(message.contains("; did you mean T"), "{message}");
        let message = failed(call(&session, "technique", json!({"technique": "Proxxy"})).await);
        assert!(message.contains("did you mean T1090 Proxy"), "{message}");
        let message = failed(call(&session, "technique", json!({"technique": "T1090", "limit": 1_000_000})).await);
        assert!(message.contains("`limit`: give a whole number from 1 to 100, not \"1000000\""), "{message}");
        let message = failed(call(&session, "technique", json!({"technique": "T1090", "limit": "ten"})).await);
        assert!(message.contains("`limit`: give a whole number from 1 to 100, not \"ten\""), "{message}");
        let message = failed(call(&session, "technique", json!({"technique": "T1090", "languages": ["cobol"]})).await);
        assert!(message.contains("`languages`: \"cobol\" is not one of yara-l, spl"), "{message}");
        let message = failed(call(&session, "technique", json!({"technique": "T1090", "sources": ["splnk"]})).await);
        assert!(message.contains("`sources`: there is no source \"splnk\"; did you mean splunk?"), "{message}");
        let message = failed(call(&session, "technique", json!({"tecnique": "T1090"})).await);
        assert!(message.contains("there is no parameter `tecnique` (did you mean `technique`?)"), "{message}");
        let message = failed(call(&session, "show", json!({"address": "gcti_tor_exit_nodes"})).await);
        assert!(message.contains("expected SOURCE/ID"), "{message}");
        let message = failed(call(&session, "show", json!({"address": "nosuch/x"})).await);
        assert!(message.contains("`stats` lists the sources"), "{message}");
        let message = failed(call(&session, "show", json!({"address": 42})).await);
        assert!(message.contains("\"42\" is not an address; expected SOURCE/ID"), "{message}");
        let message = failed(call(&session, "search", json!({"query": "x".repeat(5000)})).await);
        assert!(message.contains("longer than 1000 characters"), "{message}");
        let unknown = session.call_tool(CallToolRequestParams::new("delete_everything")).await;
        assert!(
            format!("{unknown:?}").contains(
                "its tools are technique, search, show, stats, coverage, stack_coverage, group, export, changes"
            ),
            "{unknown:?}"
        );
        let missing =
            session.read_resource(ReadResourceRequestParams::new("ruledex://detections/chronicle/nope")).await;
        assert!(format!("{missing:?}").contains("has no detection"), "{missing:?}");
        // Still answering.
        assert_ne!(call(&session, "stats", json!({})).await.is_error, Some(true));
        session.cancel().await.unwrap();
    });
}

/// The same exchange without the SDK: every line on stdout is a JSON-RPC message, a cancelled
/// call leaves the server answering, and a client that closes stdin mid-call ends it cleanly.
#[test]
fn stdout_holds_only_protocol_messages_and_a_vanishing_client_ends_the_server() {
    let workspace = shared_catalog();
    let mut child = workspace
        .command()
        .arg("mcp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // Read on a thread of its own, as a client does: a server never blocks on a full pipe.
    let (lines, received) = std::sync::mpsc::channel::<String>();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let reader = std::thread::spawn(move || stdout.lines().map_while(Result::ok).for_each(|l| lines.send(l).unwrap()));
    fn send(stdin: &mut impl Write, message: Value) {
        writeln!(stdin, "{message}").unwrap();
    }
    fn message(line: &str) -> Value {
        let message: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON-RPC ({e}): {line}"));
        assert_eq!(message["jsonrpc"], "2.0", "{line}");
        message
    }
    let answer = |id: u64| loop {
        let line = received.recv_timeout(Duration::from_secs(60)).expect("an answer");
        let message = message(&line);
        if message["id"] == id {
            return message;
        }
    };
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}});
    send(&mut stdin, initialize);
    assert_eq!(answer(1)["result"]["serverInfo"]["name"], "ruledex");
    send(&mut stdin, json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    let search = json!({"name": "search", "arguments": {"query": "powershell", "limit": 100}});
    send(&mut stdin, json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": search}));
    let cancel = json!({"requestId": 2, "reason": "the user moved on"});
    send(&mut stdin, json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": cancel}));
    let technique = json!({"name": "technique", "arguments": {"technique": "T1090"}});
    send(&mut stdin, json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": technique}));
    let technique = answer(3);
    assert_eq!(technique["result"]["structuredContent"]["id"], "T1090", "{technique}");
    // A call in flight when the client goes away.
    let search = json!({"name": "search", "arguments": {"query": "proxy", "limit": 100}});
    send(&mut stdin, json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": search}));
    drop(stdin);
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "the server outlived its client");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    reader.join().unwrap();
    received.try_iter().for_each(|line| drop(message(&line)));
}

/// With no catalog, `ruledex mcp` builds one and says how it goes in log messages; calls made
/// meanwhile wait for it.
#[test]
fn a_first_run_builds_the_catalog_with_progress_as_log_messages() {
    let workspace = Workspace::new();
    workspace.write_config(&format!(
        "[attack]\nenterprise = {:?}\n{}",
        fixtures().join("attack/mini-enterprise.json"),
        source("chronicle", "chronicle", "vendor", &fixtures().join("chronicle"))
    ));
    let client = Client::default();
    let logs = Arc::clone(&client.logs);
    runtime().block_on(async {
        let session = connect(&workspace, client).await;
        let stats = call(&session, "stats", json!({})).await;
        assert_ne!(stats.is_error, Some(true), "{}", text(&stats));
        assert_eq!(stats.structured_content.unwrap()["sources"][0]["name"], "chronicle");
        // Log messages travel apart from answers: the last may arrive just after the answer.
        let started = std::time::Instant::now();
        while !logs.lock().unwrap().iter().any(|l| l.contains("catalog ready")) && started.elapsed().as_secs() < 10 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        session.cancel().await.unwrap();
    });
    let logs = logs.lock().unwrap().join("\n");
    assert!(logs.contains("no usable catalog"), "{logs}");
    assert!(logs.contains("reading chronicle"), "{logs}");
    assert!(logs.contains("catalog ready"), "{logs}");
    assert!(workspace.data_dir().join("catalog.sqlite").is_file());
}

/// The ATT&CK release `stats --json` names.
fn stats_release(stats: &Value) -> Value {
    let release = stats["catalog"]["attack_version"].clone();
    assert!(release.as_str().is_some_and(|r| !r.is_empty()), "{stats}");
    release
}

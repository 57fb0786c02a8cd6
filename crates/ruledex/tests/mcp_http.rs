//! `/mcp` on `ruledex serve`, mounted by the binary beside the web routes: off unless enabled,
//! then MCP over Streamable HTTP with the read-only tools, refusing foreign `Host` names, and
//! answering on after a client that hangs up mid-call.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{Value, json};

use crate::serve::{Served, fixture_config, get, serve_with};
use crate::util::{Workspace, fixtures};

/// A synced workspace of the fixtures' Chronicle rules, and `ruledex serve` on it with `args`.
fn server(args: &[&str]) -> (Workspace, Served) {
    let workspace = Workspace::new();
    fixture_config(&workspace, &fixtures().join("chronicle"));
    workspace.run(&["sync"]).ok();
    let served = serve_with(&workspace, args);
    (workspace, served)
}

fn address(served: &Served) -> String {
    served.base.trim_start_matches("http://").to_string()
}

/// POSTs one JSON-RPC message to /mcp with `host`; the status and the body.
fn post(server: &Served, host: &str, message: &Value) -> (u16, String) {
    let body = message.to_string();
    let mut stream = TcpStream::connect(address(server)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        stream,
        "POST /mcp HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2025-06-18\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

fn rpc(server: &Served, id: u64, method: &str, params: Value) -> Value {
    let (status, body) =
        post(server, "127.0.0.1", &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[test]
fn mcp_is_off_unless_enabled() {
    let (_workspace, server) = server(&[]);
    let (status, _) = post(&server, "127.0.0.1", &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}));
    assert_eq!(status, 405, "a server without MCP refuses POST as ever");
}

#[test]
fn mcp_answers_read_only_tools_to_allowed_hosts_and_survives_a_client_hanging_up() {
    let (_workspace, server) = server(&["--mcp", "--mcp-host", "ruledex.example.internal"]);
    let initialize = rpc(
        &server,
        1,
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}),
    );
    assert_eq!(initialize["result"]["serverInfo"]["name"], "ruledex", "{initialize}");
    assert!(initialize["result"]["capabilities"].get("logging").is_none(), "no log messages over HTTP");
    let tools = rpc(&server, 2, "tools/list", json!({}));
    let names: Vec<&str> =
        tools["result"]["tools"].as_array().unwrap().iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(
        names,
        ["technique", "search", "show", "stats", "coverage", "stack_coverage", "group", "export", "changes"]
    );
    assert!(tools["result"]["tools"].as_array().unwrap().iter().all(|t| t["annotations"]["readOnlyHint"] == true));

    // A client that sends a call and hangs up before the answer.
    let mut stream = TcpStream::connect(address(&server)).unwrap();
    let body = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "search", "arguments": {"query": "tor", "limit": 100}}})
    .to_string();
    write!(
        stream,
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    drop(stream);

    let call = rpc(&server, 4, "tools/call", json!({"name": "technique", "arguments": {"technique": "T1090.003"}}));
    let structured = &call["result"]["structuredContent"];
    assert_eq!(structured["id"], "T1090.003", "{call}");
    let (status, api) = get(&server, "/api/v1/techniques/T1090.003");
    assert_eq!(status, 200, "{api}");
    let api: Value = serde_json::from_str(&api).unwrap();
    for key in ["technique", "subtechniques", "shown", "total", "facets", "choices", "hidden_community"] {
        assert_eq!(structured[key], api[key], "{key}: the API's JSON");
    }
    let ids = |v: &Value| v["detections"].as_array().unwrap().iter().map(|d| d["id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(structured), ids(&api));
    let error = rpc(&server, 5, "tools/call", json!({"name": "technique", "arguments": {"technique": "T9999"}}));
    let typo = rpc(&server, 8, "tools/call", json!({"name": "technique", "arguments": {"technique": "T1O90"}}));
    assert!(typo["result"]["content"][0]["text"].as_str().unwrap().contains("did you mean T1090 Proxy"), "{typo}");
    assert_eq!(error["result"]["isError"], true, "{error}");

    let (status, body) =
        post(&server, "ruledex.example.internal:8080", &json!({"jsonrpc": "2.0", "id": 6, "method": "ping"}));
    assert_eq!(status, 200, "a configured host: {body}");
    let (status, _) = post(&server, "evil.example", &json!({"jsonrpc": "2.0", "id": 7, "method": "ping"}));
    assert_eq!(status, 403, "another host (DNS rebinding)");
}

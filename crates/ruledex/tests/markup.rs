//! Issue 21, item 9: a rule's title and description reach AI assistants as text, never as HTML
//! or Markdown images a client would load; anonymous clients are not told where the catalog is.

use rmcp::model::{ReadResourceRequestParams, ResourceContents};
use serde_json::json;

use crate::mcp::{Client, call, connect, runtime, text};
use crate::serve::{get, serve_with};
use crate::util::fixture_catalog;

/// The fixture's title holds `<img src=...>` and `![leak](...)`, its description `<script>`, a
/// Markdown image and a link, all pointing at exfil.example. Every MCP answer that shows them
/// (show, technique, search, the technique resource) keeps them as escaped text.
#[test]
fn html_and_markdown_images_in_a_rule_reach_an_assistant_as_text() {
    let workspace = fixture_catalog("markup");
    let answers = runtime().block_on(async {
        let session = connect(&workspace, Client::default()).await;
        let address = "chronicle/fixture_markup_in_title";
        let mut answers = vec![
            text(&call(&session, "show", json!({"address": address})).await),
            text(&call(&session, "technique", json!({"technique": "T1090"})).await),
            text(&call(&session, "search", json!({"query": "exfil"})).await),
        ];
        let page = session.read_resource(ReadResourceRequestParams::new("ruledex://techniques/T1090")).await.unwrap();
        match page.contents.into_iter().next().unwrap() {
            ResourceContents::TextResourceContents { text, .. } => answers.push(text),
            other => panic!("a Markdown page expected: {other:?}"),
        }
        session.cancel().await.unwrap();
        answers
    });
    for answer in &answers {
        assert!(answer.contains(r"Proxy use \<img src="), "the title is shown, escaped: {answer}");
        let prose = outside_code_fences(answer);
        let unescaped = |markup: &str| prose.match_indices(markup).any(|(at, _)| !prose[..at].ends_with('\\'));
        for markup in ["<img", "<script", "![", "[leak]"] {
            assert!(!unescaped(markup), "{markup} unescaped in: {answer}");
        }
    }
    assert!(answers[0].contains(r"Logs \<script\>alert(1)\</script\>"), "{}", answers[0]);
}

/// The Markdown outside fenced code blocks (inside them, nothing is rendered: the paste-ready
/// YARA-L query holds the whole rule, title included).
fn outside_code_fences(markdown: &str) -> String {
    let mut fence: Option<&str> = None;
    let mut prose = String::new();
    for line in markdown.lines() {
        let ticks = &line[..line.len() - line.trim_start_matches('`').len()];
        match fence {
            Some(open) if ticks.len() >= open.len() => fence = None,
            Some(_) => {}
            None if ticks.len() >= 3 => fence = Some(ticks),
            None => prose.push_str(line),
        }
        prose.push('\n');
    }
    prose
}

/// `/api/v1/stats` told anonymous clients the catalog's absolute path; the CLI still says it.
#[test]
fn the_api_keeps_the_catalog_path_to_the_command_line() {
    let workspace = fixture_catalog("markup");
    let data_dir = workspace.data_dir().canonicalize().unwrap();
    let cli = workspace.run(&["stats", "--json"]).ok().json();
    assert!(cli["catalog"]["path"].as_str().unwrap().ends_with("catalog.sqlite"), "{cli}");
    let served = serve_with(&workspace, &["--no-sync"]);
    let (status, body) = get(&served, "/api/v1/stats");
    assert_eq!(status, 200, "{body}");
    let api: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(api["catalog"]["detections"], 1);
    assert!(api["catalog"].get("path").is_none(), "{body}");
    let data_dir = data_dir.to_str().unwrap();
    assert!(!body.contains(data_dir) && !body.contains(workspace.path().to_str().unwrap()), "{body}");
}

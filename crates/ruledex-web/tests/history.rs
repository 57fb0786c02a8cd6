//! The change history on the web over real HTTP: the hostile fixture rule changes upstream
//! (its title gains a control character, its query a script tag), and the feeds, the pages and
//! the API carry the change with every rule string escaped.

use std::fs;
use std::path::Path;

use ruledex_app::config::Config;
use ruledex_web::{Limits, Setup};

use crate::util::{Server, build_catalog, repo_root, select, serving, shared_server, texts};

const HOSTILE: &str = "rules/community/hostile_strings.yaral";

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::write(&target, fs::read(entry.path()).unwrap()).unwrap();
        }
    }
}

/// A catalog of a copy of the fixture Google SecOps rules, synced, then synced again after the
/// hostile rule changed.
fn changed_catalog(dir: &Path) -> Server {
    changed_catalog_at(dir, None)
}

/// [`changed_catalog`], served as reached at `public_url`.
fn changed_catalog_at(dir: &Path, public_url: Option<&str>) -> Server {
    let fixtures = repo_root().join("tests/fixtures");
    let rules = dir.join("chronicle");
    copy_tree(&fixtures.join("chronicle"), &rules);
    let config = dir.join("ruledex.toml");
    fs::write(
        &config,
        format!(
            "[attack]\nenterprise = {:?}\n[history]\nbadge_days = 3\n[[sources]]\nname = \"chronicle\"\n\
             format = \"chronicle\"\nkind = \"vendor\"\npath = {rules:?}\n",
            fixtures.join("attack/mini-enterprise.json")
        ),
    )
    .unwrap();
    let config = Config::load(&config).unwrap();
    build_catalog(&config, &dir.join("data"));
    let hostile = rules.join(HOSTILE);
    let text = fs::read_to_string(&hostile).unwrap();
    let text = text
        .replace("Hostile\"", "Hostile \u{7}bell\"")
        .replace("condition:", "  $e.principal.hostname = \"<script>alert('diff')</script>\"\n  condition:");
    fs::write(&hostile, text).unwrap();
    let catalog = build_catalog(&config, &dir.join("data"));
    let setup = Setup {
        badge_days: config.history.badge_days,
        public_url: public_url.map(|url| url.parse().unwrap()),
        ..Setup::from("test catalog of a changed fixture")
    };
    Server::start(serving(catalog, setup, Limits::default()))
}

#[test]
fn feeds_pages_and_the_api_carry_a_change_with_rule_text_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let server = changed_catalog(dir.path());

    let feed = server.get("/feed.atom").ok();
    assert_eq!(feed.header("content-type"), Some("application/atom+xml; charset=utf-8"));
    let document = roxmltree::Document::parse(&feed.body).unwrap_or_else(|e| panic!("{e}\n{}", feed.body));
    let titles: Vec<&str> =
        document.descendants().filter(|n| n.has_tag_name("title")).filter_map(|n| n.text()).collect();
    let expected = "Updated: \"><img src=x onerror=alert(document.domain)> <script>alert('title')</script> Hostile \
                    \u{fffd}bell (chronicle)";
    assert_eq!(titles[1..], [expected], "the control character XML cannot carry is replaced");
    assert!(!feed.body.contains("<script>"), "{}", feed.body);

    let api = server.get("/api/v1/changes?source=chronicle").ok().json();
    let [change] = api["changes"].as_array().unwrap().as_slice() else { panic!("{api}") };
    assert_eq!(change["fields"], serde_json::json!(["query", "metadata"]));
    assert!(change["query_after"].as_str().unwrap().contains("<script>alert('diff')</script>"));

    let page = server.get("/detections/chronicle/fixture_hostile_strings").ok();
    assert!(!page.body.contains("<script>alert"), "the diff is escaped");
    let html = page.html();
    let added: Vec<String> = texts(&html, "#history .diff-add");
    assert!(added.iter().any(|l| l.contains("<script>alert('diff')</script>")), "{added:?}");
    assert_eq!(texts(&html, ".detection-head .badge.changed"), vec!["updated"], "its card says it changed");

    let technique = server.get("/techniques/T1090").ok().html();
    let whats_new = texts(&technique, "#whats-new li a");
    assert_eq!(whats_new.len(), 1, "{whats_new:?}");
    assert!(technique.select(&select("link[rel=alternate][href='/techniques/T1090/feed.atom']")).next().is_some());
    let badged = texts(&technique, "article.card .badge.changed");
    assert_eq!(badged, vec!["updated"]);
}

#[test]
fn an_unknown_technique_or_source_feed_is_a_404_and_a_bad_since_a_400() {
    let server = shared_server();
    assert_eq!(server.get("/techniques/T1999/feed.atom").status, 404);
    assert_eq!(server.get("/techniques/nonsense/feed.atom").status, 400);
    assert_eq!(server.get("/sources/nope/feed.atom").status, 404);
    let bad = server.get("/api/v1/changes?since=last%20week");
    assert_eq!(bad.status, 400);
    assert!(bad.json()["error"]["message"].as_str().unwrap().contains("neither a date"), "{}", bad.body);
    assert_eq!(server.get("/api/v1/changes?limit=0").status, 400);
    let empty = server.get("/feed.atom").ok();
    roxmltree::Document::parse(&empty.body).unwrap();
}

/// How feedparser reads a feed saved to a file: no address to resolve relative links against.
const READ_SAVED_FEED: &str = r#"
import json, sys
try:
    import feedparser
except ImportError:
    sys.exit(3)
feed = feedparser.parse(sys.stdin.read())
print(json.dumps({"bozo": bool(feed.bozo), "links": [feed.feed.get("link")] + [e.get("link") for e in feed.entries]}))
"#;

fn read_saved_feed(xml: &str) -> serde_json::Value {
    use std::io::Write;
    let install = "scripts/test.sh installs feedparser into the Python RULEDEX_PYTHON names";
    let python = std::env::var("RULEDEX_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut child = std::process::Command::new(python)
        .args(["-c", READ_SAVED_FEED])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("python3 is needed to read feeds with feedparser ({e}); {install}"));
    child.stdin.take().unwrap().write_all(xml.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_ne!(output.status.code(), Some(3), "the Python package feedparser is missing: {install}");
    assert!(output.status.success());
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Issue 23, item 6: a saved or forwarded feed could not resolve its relative links. Served with
/// a public URL, its links are absolute under it and the feed declares it as its `xml:base`
/// (feedparser reads them so); a `Host` header chosen by the client never becomes a link.
#[test]
fn a_saved_feed_resolves_its_links_at_the_public_url() {
    let dir = tempfile::tempdir().unwrap();
    let server = changed_catalog_at(dir.path(), Some("https://ruledex.example.org/"));
    let feed = server.get("/feed.atom").ok();
    assert!(
        feed.body.contains(r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://ruledex.example.org/">"#)
    );
    let read = read_saved_feed(&feed.body);
    assert_eq!(read["bozo"], false, "{}", feed.body);
    let links: Vec<&str> = read["links"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert_eq!(links[0], "https://ruledex.example.org/");
    assert!(
        links[1..].contains(&"https://ruledex.example.org/detections/chronicle/fixture_hostile_strings"),
        "{links:?}"
    );
    let spoofed = server.get_as_host("/techniques/T1090/feed.atom", "attacker.example");
    assert!(spoofed.starts_with("HTTP/1.1 200") && !spoofed.contains("attacker.example"), "{spoofed}");
    assert!(spoofed.contains(r#"href="https://ruledex.example.org/techniques/T1090/feed.atom""#), "{spoofed}");
    // Without a public URL the server does not know its address: links stay paths.
    let local = changed_catalog(&dir.path().join("local")).get("/feed.atom").ok();
    assert!(!local.body.contains("xml:base") && local.body.contains(r#"href="/feed.atom""#), "{}", local.body);
}

//! Issue 20, item 4: every answer is bounded. A hostile source of 28 rules with 1.9 MB titles
//! made every page and API answer listing them a 500 ("too large to buffer") and `/feed.atom`
//! 53 MB; its free text is now capped when it enters the catalog (the rule file stays whole,
//! at `/raw`), and listings read a page within a byte budget.

use std::fs;
use std::path::Path;

use ruledex_app::config::Config;
use ruledex_web::Limits;

use crate::util::{Server, build_catalog, fixture_config, serving};

/// The most bytes any answer below may have.
const BOUND: usize = 1024 * 1024;
const RULES: usize = 28;
const TITLE_CHARS: usize = 1_900_000;

/// A Splunk ESCU detection for T1090 named `title` (its query does not hold the title, so
/// only the free text is huge).
fn escu_rule(i: usize, title: &str) -> String {
    format!(
        "name: {title}\nid: 00000000-0000-4000-8000-{i:012}\nversion: 1\ndate: '2026-01-01'\nauthor: hostile\n\
         status: production\ntype: TTP\ndescription: proxy rule {i}\n\
         search: '`sysmon` EventCode=1 process_name=proxy{i}.exe'\ntags:\n  mitre_attack_id:\n  - T1090\n"
    )
}

fn write_rules(dir: &Path, title: impl Fn(usize) -> String) {
    for i in 0..RULES {
        fs::write(dir.join(format!("rule_{i}.yml")), escu_rule(i, &title(i))).unwrap();
    }
}

/// The fixtures and a hostile source, synced twice: the second time its 28 titles are 1.9 MB
/// each, so the change history (the feeds) carries them too.
fn hostile_catalog(dir: &Path) -> Server {
    let rules = dir.join("hostile/detections/endpoint");
    fs::create_dir_all(&rules).unwrap();
    write_rules(&rules, |i| format!("Proxy rule {i}"));
    let fixtures = fixture_config(dir);
    let config = dir.join("hostile.toml");
    let mut text = fs::read_to_string(dir.join("fixtures.toml")).unwrap();
    text.push_str(&format!(
        "[[sources]]\nname = \"hostile\"\nformat = \"splunk-escu\"\nkind = \"vendor\"\npath = {:?}\n",
        dir.join("hostile")
    ));
    fs::write(&config, text).unwrap();
    let config = Config::load(&config).unwrap();
    assert_eq!(config.sources.len(), fixtures.sources.len() + 1);
    build_catalog(&config, &dir.join("data"));
    write_rules(&rules, |i| format!("Proxy {i} {}", "x".repeat(TITLE_CHARS)));
    let catalog = build_catalog(&config, &dir.join("data"));
    Server::start(serving(catalog, "a hostile source", Limits::default()))
}

#[test]
fn a_hostile_source_never_makes_an_answer_fail_or_grow() {
    let dir = tempfile::tempdir().unwrap();
    let server = hostile_catalog(dir.path());
    for path in [
        "/techniques/T1090",
        "/api/v1/techniques/T1090",
        "/api/v1/techniques/T1090?limit=100",
        "/search?q=proxy",
        "/api/v1/search?q=proxy&limit=100",
        "/feed.atom",
        "/techniques/T1090/feed.atom",
        "/sources/hostile/feed.atom",
        "/api/v1/changes?limit=500",
        "/",
        "/sources",
        "/api/v1/stats",
        "/api/v1/export?format=json&source=chronicle",
    ] {
        let answer = server.get(path).ok();
        assert!(answer.body.len() < BOUND, "{path} is {} bytes", answer.body.len());
    }
    let listed = server.get("/api/v1/techniques/T1090?source=hostile&limit=100").ok().json();
    assert_eq!(listed["shown"], RULES, "every hostile rule is listed");
    let detection = &listed["detections"][0];
    let title = detection["title"].as_str().unwrap();
    assert!(title.contains("… [cut by ruledex at 500 of 19"), "{title}");
    assert!(title.ends_with("characters; the rule file has it whole]"), "{title}");
    let (source, id) = (detection["source"].as_str().unwrap(), detection["id"].as_str().unwrap());
    let raw = server.get(&format!("/detections/{source}/{id}/raw")).ok();
    assert!(raw.body.len() > TITLE_CHARS, "the rule file stays whole: {} bytes", raw.body.len());
    let export = server.get("/api/v1/export?format=json&source=hostile");
    assert_eq!(export.status, 400, "an export of 53 MB of rule files is refused, saying why");
    assert!(export.json()["error"]["message"].as_str().unwrap().contains("use `ruledex export`"));
    let changes = server.get("/api/v1/changes?source=hostile").ok().json();
    assert_eq!(changes["changes"].as_array().unwrap().len(), RULES, "the titles' change is recorded");
}

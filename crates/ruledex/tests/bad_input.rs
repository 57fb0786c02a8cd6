//! Broken rule files never stop a sync: each is reported with its path and reason, and the
//! rest of its source loads. Fixtures live in tests/fixtures; files that cannot be stored in
//! git sensibly (invalid UTF-8, oversized, symlinks out of the root) are made here.

use std::fs;

use serde_json::Value;

use crate::util::{Workspace, copy_tree, detections, field, fixture_catalog, fixtures, source};

/// The three fixture sources plus generated hostile files, with a 16 KiB file size limit.
fn hostile_workspace() -> Workspace {
    let workspace = Workspace::new();
    let sources = workspace.path().join("sources");
    for format in ["chronicle", "splunk-escu", "elastic"] {
        copy_tree(&fixtures().join(format), &sources.join(format));
    }
    let splunk = sources.join("splunk-escu/detections/endpoint");
    fs::write(splunk.join("invalid_utf8.yml"), b"name: Caf\xe9\nsearch: x\n").unwrap();
    fs::write(splunk.join("oversized.yml"), format!("name: Big\nsearch: '{}'\n", "x".repeat(20_000))).unwrap();
    let outside = workspace.path().join("outside-secret.yml");
    fs::write(&outside, "name: Secret\nsearch: secret\n").unwrap();
    std::os::unix::fs::symlink(&outside, splunk.join("escape.yml")).unwrap();

    let mut config = format!("[attack]\nenterprise = {:?}\n", fixtures().join("attack/mini-enterprise.json"));
    config += &source("chronicle", "chronicle", "vendor", &sources.join("chronicle"));
    config += &source("splunk", "splunk-escu", "vendor", &sources.join("splunk-escu"));
    config += "max_file_bytes = 16384\n";
    config += &source("elastic", "elastic", "vendor", &sources.join("elastic"));
    workspace.write_config(&config);
    workspace
}

fn failures(stats: &Value, source: &str) -> Vec<(String, String)> {
    let source = stats["sources"].as_array().unwrap().iter().find(|s| s["name"] == source).unwrap();
    source["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (field(f, "path").to_string(), field(f, "reason").to_string()))
        .collect()
}

#[track_caller]
fn assert_reported(failures: &[(String, String)], path: &str, reason: &str) {
    let found = failures.iter().find(|(p, _)| p == path);
    let (_, actual) = found.unwrap_or_else(|| panic!("{path} not reported; failures: {failures:?}"));
    assert!(actual.contains(reason), "{path}: expected {reason:?}, got {actual:?}");
}

#[test]
fn every_broken_file_is_reported_with_its_reason_and_the_rest_loads() {
    let workspace = hostile_workspace();
    let sync = workspace.run(&["sync"]);
    assert_eq!(sync.code, 0, "broken files are reported, not fatal: {}\n{}", sync.stdout, sync.stderr);
    assert!(sync.stdout.contains("could not be read; `ruledex stats` lists each with its reason"));
    let stats = workspace.run(&["stats", "--json"]).ok().json();

    let chronicle = failures(&stats, "chronicle");
    assert_reported(&chronicle, "rules/community/unbalanced.yaral", "rule fixture_unbalanced has unbalanced braces");
    assert_reported(&chronicle, "rules/community/no_meta.yaral", "rule fixture_no_meta has no meta: section");
    assert_eq!(chronicle.len(), 2, "{chronicle:?}");

    let splunk = failures(&stats, "splunk");
    assert_reported(&splunk, "detections/endpoint/truncated.yml", "invalid YAML");
    assert_reported(&splunk, "detections/endpoint/not_a_mapping.yml", "invalid YAML");
    assert_reported(&splunk, "detections/endpoint/alias_bomb.yml", "invalid YAML");
    assert_reported(&splunk, "detections/endpoint/deep_nesting.yml", "invalid YAML");
    assert_reported(&splunk, "detections/endpoint/invalid_utf8.yml", "not valid UTF-8 (invalid byte at offset 9)");
    assert_reported(&splunk, "detections/endpoint/oversized.yml", "over the 16384-byte limit");
    assert_reported(&splunk, "detections/endpoint/escape.yml", "outside the source root; not followed");
    assert_eq!(splunk.len(), 7, "{splunk:?}");

    let elastic = failures(&stats, "elastic");
    assert_reported(&elastic, "rules/windows/truncated.toml", "invalid TOML");
    assert_eq!(elastic.len(), 1, "{elastic:?}");

    let listing = workspace.run(&["technique", "T1090", "--deprecated", "--json"]).ok().json();
    let titles: Vec<&str> = detections(&listing).iter().map(|d| field(d, "title")).collect();
    for title in [
        "Fixture Tor Exit",
        "fixture_proxy_name_tag",
        "Fixture Proxy Via Netsh",
        "Fixture Newer Schema",
        "Fixture Old Detection",
        "Fixture SOCKS Traffic",
        "Fixture Building Block",
        "Fixture Proxy Hunt",
    ] {
        assert!(titles.contains(&title), "{title} missing from {titles:?}");
    }
    assert!(!titles.contains(&"Secret"), "the symlink out of the root was not followed");
}

#[test]
fn strict_sync_fails_ci_when_any_file_is_unreadable() {
    let workspace = hostile_workspace();
    let run = workspace.run(&["sync", "--strict"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(workspace.run(&["stats"]).ok().stdout.contains("escape.yml"), "the catalog is still written");
}

#[test]
fn repeated_upstream_ids_each_get_their_own_address() {
    let workspace = hostile_workspace();
    workspace.run(&["sync"]).ok();
    // A rule, a building block and a hunt share one rule_id in the elastic fixtures.
    let run = workspace.run(&["show", "elastic/aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", "--json"]);
    assert_eq!(run.code, 1);
    let candidates = run.json()["candidates"].as_array().unwrap().clone();
    assert_eq!(candidates.len(), 3);
    for candidate in &candidates {
        let address = format!("{}/{}", field(candidate, "source"), field(candidate, "id"));
        let shown = workspace.run(&["show", &address, "--json"]).ok().json();
        assert_eq!(shown["provenance"]["path"], candidate["path"]);
    }
}

#[test]
fn revoked_and_name_only_tags_resolve_against_attack() {
    let workspace = hostile_workspace();
    workspace.run(&["sync"]).ok();
    let revoked = workspace.run(&["show", "chronicle/fixture_revoked_tag", "--json"]).ok().json();
    let mapping = &revoked["techniques"][0];
    assert_eq!((mapping["id"].as_str(), mapping["status"].as_str()), (Some("T1059.001"), Some("revoked")));
    assert_eq!(mapping["tagged_id"], "T1086");
    assert_eq!(revoked["tactics"][0]["name"], "Execution");
    assert_eq!(revoked["deprecated"], true, "rules under _deprecated/ are deprecated");
    let by_name = workspace.run(&["show", "chronicle/fixture_proxy_name_tag", "--json"]).ok().json();
    let listed: Vec<&str> = by_name["techniques"].as_array().unwrap().iter().map(|m| field(m, "id")).collect();
    assert_eq!(listed, vec!["T1090.001"], "the URL and the name name one technique");
}

/// Issue 7, item 12: escape sequences in rule titles reached the terminal raw (screen clear,
/// window title change). They are shown as escapes instead.
#[test]
fn terminal_escapes_in_rule_text_are_shown_not_sent() {
    let workspace = fixture_catalog("terminal");
    for args in [&["technique", "T1090"][..], &["search", "screen"], &["show", "chronicle/fixture_terminal_escapes"]] {
        let out = workspace.run(args).ok().stdout;
        assert!(!out.contains('\u{1b}') && !out.contains('\u{7}') && !out.contains('\u{202e}'), "{args:?}: {out:?}");
        assert!(out.contains("\\u{1b}[2J"), "{args:?} shows what the title holds: {out}");
    }
}

//! Elastic Defend's endpoint rules and Sentinel's hunting queries on the pages of the catalog of
//! every corpus in ../shared (issues 25 and 29).

use std::collections::BTreeSet;

use scraper::ElementRef;

use crate::util::{select, shared, shared_server};

fn card<'a>(html: &'a scraper::Html, title: &str) -> ElementRef<'a> {
    html.select(&select("article.card"))
        .find(|c| c.select(&select("h3 a")).next().is_some_and(|a| a.text().collect::<String>() == title))
        .unwrap_or_else(|| panic!("no card titled {title:?}"))
}

fn text(card: &ElementRef, selector: &str) -> String {
    card.select(&select(selector)).map(|e| e.text().collect::<String>()).collect::<Vec<_>>().join(" | ")
}

/// The names of the Sentinel sample's hunting queries whose `relevantTechniques` name `technique`
/// or one of its sub-techniques, read from the files.
fn sentinel_hunts_tagged(technique: &str) -> BTreeSet<String> {
    let root = shared().join("corpus-extra/azure-sentinel-breadth");
    let hunting = |path: &std::path::Path| {
        let relative = path.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
        relative.starts_with("Hunting Queries/") || relative.split('/').nth(2) == Some("Hunting Queries")
    };
    let mut names = BTreeSet::new();
    for entry in walkdir::WalkDir::new(&root).into_iter().filter_map(Result::ok) {
        if !entry.file_type().is_file() || !hunting(entry.path()) {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap();
        let Ok(fields) = serde_saphyr::from_str::<serde_json::Value>(&text) else { continue };
        let tagged = fields["relevantTechniques"].as_array().into_iter().flatten().filter_map(|t| t.as_str());
        if fields["query"].is_string() && tagged.map(str::trim).any(|t| t.split('.').next() == Some(technique)) {
            names.insert(fields["name"].as_str().unwrap().trim().to_string());
        }
    }
    names
}

#[test]
fn t1090_lists_sentinel_hunting_queries_with_their_badge_and_filter() {
    let html = shared_server().get("/techniques/T1090?type=hunt&vendor=Microsoft").ok().html();
    let shown: BTreeSet<String> = html
        .select(&select("article.card:not([hidden])"))
        .filter(|c| c.value().attr("data-type") == Some("hunt"))
        .map(|c| text(&c, "h3 a"))
        .collect();
    let tagged = sentinel_hunts_tagged("T1090");
    assert!(!tagged.is_empty());
    assert_eq!(shown, tagged, "every hunting query tagged T1090 or a sub-technique upstream, and only those");
    let hunt = card(&html, "Establishing internal proxies");
    assert!(hunt.value().attr("hidden").is_none(), "the filter keeps it");
    assert_eq!(hunt.value().attr("data-type"), Some("hunt"));
    assert_eq!(text(&hunt, ".badge.type"), "hunt");
    assert!(text(&hunt, "details.query pre code").contains("SecurityEvent"), "the query to paste");
    let exports: Vec<&str> = hunt.select(&select("a.download")).filter_map(|a| a.value().attr("href")).collect();
    assert!(exports.iter().any(|href| href.contains("format=sentinel-arm")), "{exports:?}");
    let hunts_offered = html.select(&select("input[name=type][value=hunt]")).next();
    assert!(hunts_offered.is_some(), "`hunt` is a value of the type filter");
    let alerts = shared_server().get("/techniques/T1090?type=alert&vendor=Microsoft").ok().html();
    let titles: Vec<String> = alerts.select(&select("article.card h3 a")).map(|a| a.text().collect()).collect();
    assert!(titles.contains(&"Squid proxy events for ToR proxies".to_string()), "{titles:?}");
    assert!(!titles.contains(&"Establishing internal proxies".to_string()), "hunts are not alerts: {titles:?}");
}

#[test]
fn endpoint_cards_say_where_the_rule_runs_and_what_it_does() {
    let html = shared_server().get("/techniques/T1053.005").ok().html();
    let rule = card(&html, "Scheduled Task from a Removable or Mounted ISO Device");
    assert_eq!(rule.value().attr("data-type"), Some("endpoint"));
    assert_eq!(text(&rule, ".badge.type"), "endpoint");
    assert_eq!(text(&rule, "p.runs-on"), "runs on the host in Elastic Defend 8.4.0 or later · Windows");
    assert_eq!(
        text(&rule, "p.response"),
        "response: kill process on process.entity_id; rollback on process.entity_id (optional)"
    );
    let provenance = text(&rule, "p.prov");
    assert!(provenance.contains("version 1.0.22") && provenance.contains("Elastic License v2"), "{provenance}");
    let downloads: Vec<String> = rule.select(&select("a.download")).map(|a| a.text().collect()).collect();
    assert_eq!(downloads.len(), 1, "the native file only, no Kibana import: {downloads:?}");

    let address =
        "/api/v1/detections/elastic-endpoint/persistence_scheduled_task_from_a_removable_or_mounted_iso_device";
    let json = shared_server().get(address).ok().json();
    assert_eq!((json["product"].as_str(), json["rule_type"].as_str()), (Some("Elastic Defend"), Some("endpoint")));
    assert_eq!((json["version"].as_str(), json["min_agent_version"].as_str()), (Some("1.0.22"), Some("8.4.0")));
    assert_eq!(json["platforms"], serde_json::json!(["Windows"]));
    assert_eq!(
        json["response_actions"],
        serde_json::json!([
            { "action": "kill_process", "field": "process.entity_id", "event": 0, "tree": false, "optional": false },
            { "action": "rollback", "field": "process.entity_id", "event": 0, "tree": false, "optional": true },
        ])
    );
}

#[test]
fn coverage_counts_elastic_defend_like_any_source() {
    let coverage = shared_server().get("/api/v1/coverage/stack?have=elastic-endpoint").ok().json();
    assert_eq!(coverage["have"], serde_json::json!(["elastic-endpoint"]));
    let covered = coverage["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] == "covered")
        .map(|t| t["id"].as_str().unwrap())
        .collect::<Vec<_>>();
    assert!(covered.contains(&"T1053") && covered.len() > 90, "{} covered", covered.len());
    // The coverage page offers it among the sources a user ticks, as a vendor's.
    let page = shared_server().get("/coverage?have=elastic-endpoint").ok().html();
    let offered =
        page.select(&select("input[name=have]")).find(|i| i.value().attr("value") == Some("elastic-endpoint"));
    let offered = offered.expect("a checkbox for elastic-endpoint");
    assert!(offered.value().attr("checked").is_some());
    let label = offered.parent().and_then(ElementRef::wrap).map(|l| l.text().collect::<String>()).unwrap_or_default();
    assert!(label.contains("Vendor-native"), "{label:?}");
    assert_eq!(
        page.select(&select("tr.gap")).count(),
        coverage["techniques"].as_array().unwrap().len() - covered.len()
    );
}

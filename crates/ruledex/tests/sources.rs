//! The Sentinel, Sublime, Sigma and community KQL sources through the CLI, on the real data.

use std::collections::HashSet;

use serde_json::Value;

use crate::util::{detections, field, files_on_disk, shared, shared_catalog, technique_json};

fn sources_in(listing: &Value) -> HashSet<String> {
    detections(listing).iter().map(|d| field(d, "source").to_string()).collect()
}

#[test]
fn the_default_technique_view_is_vendor_native_with_community_one_flag_away() {
    let vendor = technique_json(&["T1090"]);
    let sources = sources_in(&vendor);
    assert!(sources.contains("sentinel"), "Sentinel analytics mapped to T1090 are vendor-native: {sources:?}");
    assert!(!sources.contains("sigma") && !sources.contains("kql"), "{sources:?}");
    assert!(detections(&vendor).iter().all(|d| d["source_kind"] == "vendor"));
    let hidden = vendor["hidden_community"].as_u64().unwrap();
    assert!(hidden > 0);

    let all = technique_json(&["T1090", "--community"]);
    let sources = sources_in(&all);
    assert!(sources.contains("sigma") && sources.contains("kql"), "{sources:?}");
    assert_eq!(detections(&all).len(), detections(&vendor).len() + hidden as usize);
    let community = technique_json(&["T1090", "--kind", "community"]);
    assert!(detections(&community).iter().all(|d| d["source_kind"] == "community"));
    let text = shared_catalog().run(&["technique", "T1090"]).ok().stdout;
    assert!(
        text.contains(&format!("+ {hidden} community detections (Sigma, community KQL): --community to show them"))
    );
}

#[test]
fn sentinel_analytics_for_t1090_are_kusto_with_their_connectors() {
    let sentinel = technique_json(&["T1090", "--source", "sentinel"]);
    let titles: HashSet<&str> = detections(&sentinel).iter().map(|d| field(d, "title")).collect();
    assert!(titles.iter().any(|t| t.contains("ToR")), "{titles:?}");
    for d in detections(&sentinel) {
        assert_eq!(field(d, "language"), "kusto");
        assert_eq!(field(d, "vendor"), "Microsoft");
        assert!(!field(d, "query").is_empty());
    }
    assert!(detections(&sentinel).iter().any(|d| !d["data_sources"].as_array().unwrap().is_empty()));
}

#[test]
fn sigma_and_community_kql_detections_carry_their_languages() {
    let sigma = technique_json(&["T1090", "--source", "sigma"]);
    assert!(!detections(&sigma).is_empty());
    assert!(detections(&sigma).iter().all(|d| field(d, "language") == "sigma" && d["source_kind"] == "community"));
    let kql = technique_json(&["T1090", "--source", "kql"]);
    assert!(
        detections(&kql)
            .iter()
            .any(|d| field(&d["provenance"], "path") == "Defender For Cloud Apps/AnonymousProxyEvents.md")
    );
    assert!(detections(&kql).iter().all(|d| field(d, "language") == "kusto"));
}

#[test]
fn sublime_techniques_are_marked_as_mapped_by_ruledex() {
    let search = shared_catalog().run(&["search", "brand impersonation", "--source", "sublime", "--json"]).ok().json();
    let first = &detections(&search)[0];
    assert_eq!(field(first, "language"), "mql");
    assert!(first["attack_tags"].as_array().unwrap().is_empty(), "Sublime tags no ATT&CK itself");
    let mappings = first["techniques"].as_array().unwrap();
    assert!(!mappings.is_empty());
    assert!(mappings.iter().all(|m| m["mapped_by"] == "ruledex"));
    let address = format!("sublime/{}", field(first, "id"));
    let text = shared_catalog().run(&["show", &address]).ok().stdout;
    assert!(text.contains("mapped by ruledex"), "{text}");
}

#[test]
fn stats_report_attack_coverage_and_counts_matching_disk_for_every_source() {
    let stats = shared_catalog().run(&["stats", "--json"]).ok().json();
    let shared = shared();
    let sentinel_root = shared.join("corpus-extra/azure-sentinel-breadth");
    let sentinel_files: usize = ["Detections", "Hunting Queries", "Solutions"]
        .iter()
        .flat_map(|dir| ["yaml", "yml", "YAML"].map(|extension| files_on_disk(&sentinel_root, dir, extension)))
        .sum();
    let sigma_root = shared.join("corpus/sigma");
    let sigma_files: usize = std::fs::read_dir(&sigma_root)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("rules") || name == "deprecated")
        .map(|dir| files_on_disk(&sigma_root, &dir, "yml"))
        .sum();
    let expected = [
        ("sentinel", sentinel_files),
        ("sublime", files_on_disk(&shared.join("corpus/sublime-rules"), "detection-rules", "yml")),
        ("sigma", sigma_files),
        ("elastic-endpoint", files_on_disk(&shared.join("corpus/elastic-protections-artifacts"), "behavior", "toml")),
    ];
    let sources = stats["sources"].as_array().unwrap();
    for (name, on_disk) in expected {
        let source = sources.iter().find(|s| s["name"] == name).unwrap();
        assert_eq!(source["files"].as_u64().unwrap() as usize, on_disk, "{name}");
    }
    for source in sources {
        let attack = &source["attack"];
        for key in ["mapped_detections", "techniques", "revoked_tags", "deprecated_tags", "unknown_tags"] {
            assert!(attack[key].is_u64(), "{}: {key}", source["name"]);
        }
        assert!(attack["mapped_detections"].as_u64().unwrap() > 0, "{}", source["name"]);
    }
    // Elastic Defend's 1,314 behavior rules, every one read (issue 25).
    let endpoint = sources.iter().find(|s| s["name"] == "elastic-endpoint").unwrap();
    assert_eq!((endpoint["detections"].as_u64(), endpoint["failures"].as_array().map(Vec::len)), (Some(1314), Some(0)));
    let sentinel = sources.iter().find(|s| s["name"] == "sentinel").unwrap();
    let failures: Vec<&str> = sentinel["failures"].as_array().unwrap().iter().map(|f| field(f, "reason")).collect();
    // Nine sample files are invalid YAML upstream, four are placeholders left where content
    // moved, and one holds a bare query.
    let kind = |start: &str| failures.iter().filter(|r| r.starts_with(start)).count();
    assert_eq!(
        (kind("invalid YAML"), kind("a placeholder, not a rule"), kind("not a Sentinel rule"), failures.len()),
        (9, 4, 1, 14),
        "{failures:?}"
    );
}

//! The CLI against a catalog of the real vendor corpora in ../shared.

use std::collections::HashSet;

use serde_json::Value;

use crate::util::{detections, field, files_on_disk, shared, shared_catalog, technique_json};

fn ids(listing: &Value) -> HashSet<String> {
    detections(listing).iter().map(|d| format!("{}/{}", field(d, "source"), field(d, "id"))).collect()
}

fn titles(listing: &Value) -> HashSet<String> {
    detections(listing).iter().map(|d| field(d, "title").to_string()).collect()
}

/// The detections of the T1090 page in ../shared/product/t1090-page.txt are all found.
#[test]
fn technique_t1090_lists_the_vendor_rules_of_the_t1090_page() {
    let listing = technique_json(&["T1090"]);
    let ids = ids(&listing);
    for rule in [
        "gcti_tor_exit_nodes",
        "gcti_benign_binaries_contacts_tor_exit_node",
        "google_safebrowsing_file_contacts_tor_exit_node",
        "vt_relationships_file_contacts_tor_ip",
        "aws_guardduty_tor_network_activity_detected",
        "port_proxy_forwarding_T1090_cisa_report",
    ] {
        assert!(ids.contains(&format!("chronicle/{rule}")), "missing chronicle/{rule}");
    }
    let titles = titles(&listing);
    for title in
        ["Windows Proxy Via Netsh", "Windows Proxy Via Registry", "FortiGate SOCKS Traffic from an Unusual Process"]
    {
        assert!(titles.contains(title), "missing {title}");
    }
    let fortigate = detections(&listing)
        .iter()
        .find(|d| field(d, "title") == "FortiGate SOCKS Traffic from an Unusual Process")
        .unwrap();
    assert_eq!(field(fortigate, "language"), "eql");
    assert!(field(fortigate, "query").starts_with("sequence by source.port, source.ip, destination.ip"));
    assert_eq!(listing["technique"]["name"], "Proxy");
    assert_eq!(listing["attack_version"], "18.1");
}

#[test]
fn json_listings_carry_the_documented_keys() {
    let listing = technique_json(&["T1090"]);
    assert!(!detections(&listing).is_empty());
    for detection in detections(&listing) {
        for key in ["source", "id", "title", "language", "techniques", "deprecated", "severity", "query"] {
            assert!(detection.get(key).is_some(), "missing {key} in {}", field(detection, "id"));
        }
    }
}

#[test]
fn exact_excludes_detections_tagged_only_with_sub_techniques() {
    let all = ids(&technique_json(&["T1090"]));
    let exact = ids(&technique_json(&["T1090", "--exact"]));
    assert!(exact.contains("chronicle/port_proxy_forwarding_T1090_cisa_report"));
    assert!(!exact.contains("chronicle/gcti_tor_exit_nodes"), "tagged T1090.003 only");
    assert!(exact.is_subset(&all) && exact.len() < all.len());
}

#[test]
fn sub_technique_ids_in_any_spelling_and_names_resolve() {
    let canonical = ids(&technique_json(&["T1090.003"]));
    assert!(canonical.contains("chronicle/gcti_tor_exit_nodes"));
    // Chronicle tags this rule only by name and URL ("Proxy: Multi-hop Proxy").
    assert!(canonical.contains("chronicle/aws_guardduty_tor_network_activity_detected"));
    assert_eq!(ids(&technique_json(&["t1090/003"])), canonical);
    assert_eq!(ids(&technique_json(&["Proxy: Multi-hop Proxy"])), canonical);
}

#[test]
fn filters_narrow_the_listing_and_facets_count_the_whole() {
    let listing = technique_json(&["T1090", "--source", "splunk"]);
    assert!(detections(&listing).iter().all(|d| field(d, "source") == "splunk"));
    assert!(titles(&listing).contains("Windows Proxy Via Netsh"));
    assert!(listing["facets"]["sources"]["chronicle"].as_u64().unwrap() >= 6, "facets ignore the filter");
    let eql = technique_json(&["T1090", "--language", "eql"]);
    assert!(detections(&eql).iter().all(|d| field(d, "language") == "eql"));
}

#[test]
fn deprecated_detections_are_hidden_unless_asked_for() {
    let default = technique_json(&["T1090"]);
    assert!(detections(&default).iter().all(|d| d["deprecated"] == false));
    let with = technique_json(&["T1090", "--deprecated"]);
    assert!(detections(&with).iter().any(|d| d["deprecated"] == true));
    let everything = technique_json(&["T1090", "--deprecated", "--community"]);
    assert_eq!(everything["shown"], everything["total"]);
    let hidden = default["hidden_deprecated"].as_u64().unwrap();
    assert_eq!(hidden as usize, detections(&with).len() - detections(&default).len());
}

#[test]
fn text_output_groups_by_vendor_and_explains_hidden_rules() {
    let run = shared_catalog().run(&["technique", "T1090"]).ok();
    assert!(run.stdout.starts_with("T1090 · Proxy · ATT&CK v18.1"), "{}", run.stdout);
    assert!(run.stdout.contains("Tactics: Command and Control (TA0011)"));
    assert!(run.stdout.contains("Sub-techniques: T1090.001 Internal Proxy"));
    for vendor in ["Google SecOps (6)", "Splunk (", "Elastic ("] {
        assert!(run.stdout.contains(vendor), "no {vendor} group");
    }
    assert!(run.stdout.contains("+ 3 deprecated detections: --deprecated to show them"), "{}", run.stdout);
}

#[test]
fn revoked_technique_ids_lead_to_their_replacement() {
    let listing = technique_json(&["T1086"]);
    assert_eq!(listing["id"], "T1059.001");
    assert_eq!(listing["revoked"], "T1086");
    let powershell = technique_json(&["T1059.001", "--deprecated"]);
    let tagged_revoked: Vec<&Value> = detections(&powershell)
        .iter()
        .filter(|d| {
            d["techniques"].as_array().unwrap().iter().any(|m| m["status"] == "revoked" && m["tagged_id"] == "T1086")
        })
        .collect();
    assert!(!tagged_revoked.is_empty(), "a detection tagged T1086 is listed under T1059.001");
    let text = shared_catalog().run(&["technique", "T1086"]).ok().stdout;
    assert!(text.starts_with("T1086 was revoked in ATT&CK and replaced by T1059.001"));
}

#[test]
fn unknown_and_malformed_techniques_are_clear_errors() {
    let unknown = shared_catalog().run(&["technique", "T1999"]);
    assert_eq!(unknown.code, 1);
    assert!(unknown.stderr.contains("T1999 is not an ATT&CK technique"), "{}", unknown.stderr);
    let malformed = shared_catalog().run(&["technique", "T10"]);
    assert_eq!(malformed.code, 1);
    assert!(malformed.stderr.contains("neither a technique ID"), "{}", malformed.stderr);
}

#[test]
fn show_prints_the_whole_rule_with_provenance() {
    let run = shared_catalog().run(&["show", "chronicle/gcti_tor_exit_nodes", "--json"]).ok();
    let d = run.json();
    assert!(field(&d, "native_rule").starts_with("rule gcti_tor_exit_nodes {"));
    assert_eq!(d["provenance"]["commit"], "19793ebdd29c896cc753afc5fe351ceba4d8d193");
    let url = field(&d["provenance"], "upstream_url");
    assert!(url.starts_with(
        "https://github.com/chronicle/detection-rules/blob/19793ebdd29c896cc753afc5fe351ceba4d8d193/rules/"
    ));
    assert_eq!(d["effective_license"], "Apache-2.0");
    let text = shared_catalog().run(&["show", "chronicle/gcti_tor_exit_nodes"]).ok().stdout;
    assert!(text.starts_with("GCTI Tor Exit Nodes\nchronicle/gcti_tor_exit_nodes\n"));
    assert!(text.contains("technique       T1090.003 Proxy: Multi-hop Proxy"));
}

#[test]
fn show_accepts_the_rule_file_name_and_lists_candidates_for_repeated_ids() {
    let by_stem = shared_catalog().run(&["show", "splunk/windows_proxy_via_netsh", "--json"]).ok().json();
    assert_eq!(by_stem["title"], "Windows Proxy Via Netsh");
    let requires: Vec<&str> = by_stem["requires"].as_array().unwrap().iter().map(|r| field(r, "name")).collect();
    assert!(requires.contains(&"process_netsh") && requires.contains(&"security_content_ctime(1)"));
    // Elastic reuses this rule_id for a rule and a hunting query.
    let ambiguous = shared_catalog().run(&["show", "elastic/0d3d2254-2b4a-11f0-a019-f661ea17fbcc"]);
    assert_eq!(ambiguous.code, 1);
    assert!(ambiguous.stdout.contains("names 2 detections"), "{}", ambiguous.stdout);
    let first = ambiguous.stdout.lines().nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    let resolved = shared_catalog().run(&["show", &first, "--json"]).ok().json();
    assert_eq!(resolved["native_id"], "0d3d2254-2b4a-11f0-a019-f661ea17fbcc");
    let missing = shared_catalog().run(&["show", "nosuch/x"]);
    assert!(missing.stderr.contains("no source named \"nosuch\""), "{}", missing.stderr);
    assert!(shared_catalog().run(&["show", "no-slash"]).stderr.contains("expected SOURCE/ID"));
}

#[test]
fn search_ranks_title_matches_first_and_rejects_broken_syntax() {
    let results = shared_catalog().run(&["search", "netsh", "portproxy", "--json"]).ok().json();
    assert!(results["total"].as_u64().unwrap() >= 2);
    let first_titles: Vec<&str> = detections(&results).iter().take(5).map(|d| field(d, "title")).collect();
    assert!(first_titles.contains(&"Windows Proxy Via Netsh"), "{first_titles:?}");
    assert_eq!(results["attack_version"], "18.1");
    let listing = shared_catalog().run(&["search", "netsh", "portproxy"]).ok();
    let header = listing.stdout.lines().next().unwrap_or_default();
    assert!(header.ends_with(" · ATT&CK v18.1"), "the listing names the release: {header}");
    let by_id = shared_catalog().run(&["search", "T1090.003", "--source", "chronicle", "--json"]).ok().json();
    assert!(detections(&by_id).iter().any(|d| field(d, "id") == "gcti_tor_exit_nodes"));
    let broken = shared_catalog().run(&["search", "\"unclosed"]);
    assert_eq!(broken.code, 1);
    assert!(broken.stderr.contains("invalid search: a double quote is not closed"), "{}", broken.stderr);
    let huge = shared_catalog().run(&["search", "tor", "--limit", "100000"]);
    assert_eq!(huge.code, 2, "a page out of range is a usage error");
    assert!(huge.stderr.contains("--limit: give a whole number from 1 to 100, not \"100000\""), "{}", huge.stderr);
    let unknown = shared_catalog().run(&["search", "tor", "--source", "splnk"]);
    assert_eq!(unknown.code, 2, "an unknown source is a usage error, not a search that found nothing");
    assert!(unknown.stderr.contains("--source: there is no source \"splnk\"; did you mean splunk?"));
    let misspelled = shared_catalog().run(&["search", "mimikats", "--limit", "3"]).ok().stdout;
    let mut lines = misspelled.lines();
    assert_eq!(lines.next(), Some("\"mimikats\" finds almost nothing; showing results for \"mimikatz\""));
    assert!(
        lines.next().unwrap().ends_with("detections match \"mimikatz\"; showing 1-3 · ATT&CK v18.1"),
        "{misspelled}"
    );
    let log4shell = shared_catalog().run(&["show", "splunk/9be30d80-3a39-4df9-9102-64a467b24eac"]).ok().stdout;
    assert!(log4shell.lines().any(|l| l == "cves            CVE-2021-44228"), "{log4shell}");
    // Issue 23: a name longer than the column ran into its value ("unresolved macrosget_asset(1)").
    // Issue 23: each query of a hunt that lists several is printed, and listed, on its own.
    let hunt = "elastic/persistence_via_loadable_kernel_modules";
    let text = shared_catalog().run(&["show", hunt]).ok().stdout;
    assert!(text.contains("\nQuery 1 of 4, ES|QL (run on its own):\nfrom "), "{text}");
    assert!(text.contains("\nQuery 3 of 4, SQL (run on its own):\nSELECT"), "{text}");
    let json = shared_catalog().run(&["show", hunt, "--json"]).ok().json();
    let queries = json["queries"].as_array().unwrap();
    assert_eq!(queries.len(), 4);
    assert_eq!((queries[0]["language"].as_str(), queries[2]["language"].as_str()), (Some("esql"), Some("sql")));
    assert_eq!(json["paste_ready_query"], queries[0]["query"]);
    let dns = shared_catalog().run(&["show", "splunk/excessive_dns_failures"]).ok().stdout;
    assert!(dns.lines().any(|l| l == "unresolved macros get_asset(1)"), "{dns}");
    let nothing = shared_catalog().run(&["search", "qqqqzzzzxxxx"]);
    assert_eq!(nothing.code, 1, "nothing found, nothing corrected");
    assert!(nothing.stdout.starts_with("no detection matches \"qqqqzzzzxxxx\""), "{}", nothing.stdout);
}

#[test]
fn stats_counts_agree_with_the_files_on_disk() {
    let stats = shared_catalog().run(&["stats", "--json"]).ok().json();
    let corpus = shared().join("corpus");
    let expected = [
        ("chronicle", files_on_disk(&corpus.join("chronicle-detection-rules"), "rules", "yaral")),
        ("splunk", files_on_disk(&corpus.join("splunk-security-content"), "detections", "yml")),
        (
            "elastic",
            ["rules", "rules_building_block", "hunting"]
                .iter()
                .map(|d| files_on_disk(&corpus.join("elastic-detection-rules"), d, "toml"))
                .sum(),
        ),
    ];
    let sources = stats["sources"].as_array().unwrap();
    for (name, on_disk) in expected {
        let source = sources.iter().find(|s| s["name"] == name).unwrap();
        let failures = source["failures"].as_array().unwrap();
        assert_eq!(source["files"].as_u64().unwrap() as usize, on_disk, "{name}");
        let parsed = source["files_parsed"].as_u64().unwrap() as usize;
        assert!(parsed * 1000 >= on_disk * 995, "{name}: {parsed} of {on_disk} parsed");
        assert!(source["detections"].as_u64().unwrap() as usize >= parsed);
        assert!(failures.iter().all(|f| f["path"].is_string() && f["reason"].is_string()));
    }
}

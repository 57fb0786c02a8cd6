//! `ruledex coverage`, `group`, `campaign`, `software` and `export --format navigator` on the
//! catalog of the real corpora: counts checked against what `technique` lists for the same
//! selection, layers read back by MITRE's own mitreattack-python.

use std::collections::{BTreeMap, HashSet};
use std::process::Command;

use serde_json::Value;

use crate::util::{detections, shared_catalog};

fn counts(technique: &Value) -> BTreeMap<String, u64> {
    technique["counts"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap())).collect()
}

/// Detections `technique ARGS --json` lists.
fn listed(args: &[&str]) -> usize {
    let mut all = vec!["technique"];
    all.extend_from_slice(args);
    all.push("--json");
    let run = shared_catalog().run(&all);
    if run.code != 0 {
        return 0;
    }
    detections(&run.json()).len()
}

#[test]
fn coverage_for_a_stack_names_each_techniques_status_and_where_content_exists() {
    let run = shared_catalog().run(&["coverage", "--have", "splunk,sentinel", "--json"]).ok().json();
    assert_eq!(run["have"], serde_json::json!(["splunk", "sentinel"]));
    let techniques = run["techniques"].as_array().unwrap();
    assert!(techniques.len() > 600, "every enterprise technique and sub-technique: {}", techniques.len());
    let mut per_status: BTreeMap<String, u64> = BTreeMap::new();
    for t in techniques {
        let counts = counts(t);
        let status = t["status"].as_str().unwrap();
        *per_status.entry(status.to_string()).or_default() += 1;
        let ours = counts.contains_key("splunk") || counts.contains_key("sentinel");
        let community = |s: &String| s == "sigma" || s == "kql";
        let expected = if ours {
            "covered"
        } else if counts.keys().any(|s| !community(s)) {
            "elsewhere"
        } else if counts.is_empty() {
            "none"
        } else {
            "community-only"
        };
        assert_eq!(status, expected, "{}: {counts:?}", t["id"]);
        assert!(t["name"].as_str().is_some_and(|n| !n.is_empty()) && !t["tactics"].as_array().unwrap().is_empty());
    }
    for status in ["covered", "elsewhere", "community-only", "none"] {
        assert!(per_status.get(status).copied().unwrap_or(0) > 0, "some {status}: {per_status:?}");
        assert_eq!(run["summary"][status].as_u64(), per_status.get(status).copied(), "{status}");
    }
    let ids: HashSet<&str> = techniques.iter().map(|t| t["id"].as_str().unwrap()).collect();
    // T1086 (PowerShell) was revoked for T1059.001; T1064 (Scripting) is deprecated.
    assert!(!ids.contains("T1086") && !ids.contains("T1064"), "retired techniques are never gaps");
    assert!(ids.contains("T1059.001"));

    // The counts are the catalog's own: a technique's family, a sub-technique's own.
    let by_id = |id: &str| techniques.iter().find(|t| t["id"] == id).unwrap();
    for (id, source) in [("T1059", "splunk"), ("T1059.001", "elastic"), ("T1090", "sigma"), ("T1021.007", "panther")] {
        let n = counts(by_id(id)).get(source).copied().unwrap_or(0) as usize;
        assert_eq!(n, listed(&[id, "--source", source]), "{id} {source}");
        assert!(n > 0, "{id} {source}");
    }
}

#[test]
fn coverage_narrows_to_tactics_and_community_content_counts_when_asked() {
    let c2 = shared_catalog()
        .run(&["coverage", "--have", "splunk", "--tactic", "command-and-control", "--json"])
        .ok()
        .json();
    let techniques = c2["techniques"].as_array().unwrap();
    assert!(techniques.iter().all(|t| t["tactics"].as_array().unwrap().contains(&"TA0011".into())));
    assert_eq!(c2["tactics"].as_array().unwrap().len(), 1);
    let with_community = shared_catalog()
        .run(&["coverage", "--have", "splunk", "--tactic", "TA0011", "--community", "--json"])
        .ok()
        .json();
    assert_eq!(with_community["summary"]["community-only"], 0);
    let ours_or_community = techniques
        .iter()
        .filter(|t| counts(t).keys().any(|source| ["splunk", "sigma", "kql"].contains(&source.as_str())))
        .count();
    assert_eq!(with_community["summary"]["covered"].as_u64().unwrap() as usize, ours_or_community);
    let text = shared_catalog().run(&["coverage", "--have", "splunk", "--tactic", "TA0011"]).ok().stdout;
    assert!(text.contains("Command and Control") && text.contains("Gaps ("), "{text}");
}

#[test]
fn coverage_refuses_unknown_sources_and_tactics() {
    let unknown = shared_catalog().run(&["coverage", "--have", "splunk,qradar"]);
    assert_eq!(unknown.code, 1);
    assert!(unknown.stderr.contains("\"qradar\"") && unknown.stderr.contains("sentinel"), "{}", unknown.stderr);
    let tactic = shared_catalog().run(&["coverage", "--tactic", "teleportation"]);
    assert_eq!(tactic.code, 1);
    assert!(tactic.stderr.contains("command-and-control"), "{}", tactic.stderr);
}

#[test]
fn groups_are_found_by_id_name_or_alias_with_their_techniques_detections() {
    let by_alias = shared_catalog().run(&["group", "cozy bear", "--json"]).ok().json();
    let by_id = shared_catalog().run(&["group", "G0016", "--json"]).ok().json();
    assert_eq!(by_alias, by_id);
    assert_eq!(by_id["group"]["name"], "APT29");
    assert!(by_id["group"]["aliases"].as_array().unwrap().contains(&"Cozy Bear".into()));
    let techniques = by_id["techniques"].as_array().unwrap();
    assert!(techniques.len() > 40, "{}", techniques.len());
    for t in techniques {
        assert_eq!(t["detections"].as_u64().unwrap(), counts(t).values().sum::<u64>(), "{}", t["id"]);
        assert!(t.get("status").is_none(), "no stack, no status");
    }
    let powershell = techniques.iter().find(|t| t["id"] == "T1059.001").expect("APT29 uses PowerShell");
    let vendor_listed = listed(&["T1059.001", "--community"]);
    assert_eq!(powershell["detections"].as_u64().unwrap() as usize, vendor_listed);

    let stack = shared_catalog().run(&["group", "APT29", "--have", "splunk", "--json"]).ok().json();
    let statuses: Vec<&str> =
        stack["techniques"].as_array().unwrap().iter().map(|t| t["status"].as_str().unwrap()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == "covered").count() as u64,
        stack["summary"]["covered"].as_u64().unwrap()
    );
    assert!(statuses.contains(&"covered") && statuses.len() == techniques.len());
}

#[test]
fn campaigns_and_software_have_pages_and_unknown_names_offer_close_ones() {
    let solarwinds = shared_catalog().run(&["campaign", "C0024", "--json"]).ok().json();
    assert_eq!(solarwinds["campaign"]["name"], "SolarWinds Compromise");
    assert!(solarwinds["related"].as_array().unwrap().iter().any(|g| g["id"] == "G0016"), "attributed to APT29");
    let cobalt = shared_catalog().run(&["software", "cobalt strike", "--json"]).ok().json();
    assert_eq!(cobalt["software"]["id"], "S0154");
    assert!(!cobalt["techniques"].as_array().unwrap().is_empty());

    let typo = shared_catalog().run(&["group", "Cozy Bare"]);
    assert_eq!(typo.code, 1);
    assert!(typo.stderr.contains("did you mean APT29 (G0016)"), "{}", typo.stderr);
    let json = shared_catalog().run(&["group", "APT-29", "--json"]);
    assert_eq!(json.code, 1);
    let error: Value = serde_json::from_str(json.stderr.trim()).unwrap();
    assert_eq!(error["error"]["kind"], "not_found");
    assert!(error["error"]["suggestions"].as_array().unwrap().contains(&"G0016 APT29".into()));
    // A software ID is not a group.
    assert_eq!(shared_catalog().run(&["group", "S0154"]).code, 1);
}

fn layer(args: &[&str]) -> Value {
    let mut all = vec!["export", "--format", "navigator"];
    all.extend_from_slice(args);
    serde_json::from_str(&shared_catalog().run(&all).ok().stdout).expect("a layer is JSON")
}

#[test]
fn a_layers_scores_are_what_technique_exact_lists_for_the_same_selection() {
    let splunk = layer(&["--source", "splunk"]);
    assert_eq!(splunk["domain"], "enterprise-attack");
    assert_eq!(splunk["versions"]["layer"], "4.5");
    assert_eq!(splunk["versions"]["attack"], "18");
    let techniques = splunk["techniques"].as_array().unwrap();
    assert!(techniques.len() > 200);
    for id in ["T1059.001", "T1059", "T1090", "T1003.001", "T1566"] {
        let entry = techniques.iter().find(|t| t["techniqueID"] == id).unwrap_or_else(|| panic!("{id}"));
        let score = entry["score"].as_u64().unwrap() as usize;
        assert_eq!(score, listed(&[id, "--exact", "--source", "splunk"]), "{id}");
        assert!(entry["comment"].as_str().unwrap().starts_with(&format!("{score} detection")));
        assert!(entry["links"][0]["url"].as_str().unwrap().ends_with(&format!("/techniques/{id}")));
    }
    let family = layer(&["--technique", "T1090"]);
    let proxy = family["techniques"].as_array().unwrap().iter().find(|t| t["techniqueID"] == "T1090.003").unwrap();
    assert_eq!(proxy["score"].as_u64().unwrap() as usize, listed(&["T1090.003", "--exact"]));
    // The corpora hold no ICS detections; Mobile's Phishing (T1660) has one.
    let mobile = layer(&["--technique", "T1660", "--community"]);
    assert_eq!(mobile["domain"], "mobile-attack", "mobile selections get their own domain");
    assert_eq!(mobile["techniques"][0]["techniqueID"], "T1660");
}

#[test]
fn layers_load_in_mitreattack_python() {
    let Some(python) = std::env::var_os("RULEDEX_PYTHON") else {
        eprintln!("skipped: RULEDEX_PYTHON is unset (a Python with mitreattack-python installed)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("splunk.json");
    shared_catalog()
        .run(&["export", "--format", "navigator", "--source", "splunk", "--out", path.to_str().unwrap()])
        .ok();
    let script = "import contextlib, io, sys\nfrom mitreattack.navlayers import Layer\nout = io.StringIO()\n\
        with contextlib.redirect_stdout(out):\n    layer = Layer()\n    layer.from_file(sys.argv[1])\n\
        print(len(layer.to_dict()['techniques']))\nprint(out.getvalue(), file=sys.stderr)";
    let output = Command::new(python).args(["-c", script]).arg(&path).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(stderr.trim(), "", "mitreattack-python warned");
    let written: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let read: usize = String::from_utf8_lossy(&output.stdout).trim().parse().unwrap();
    assert_eq!(read, written["techniques"].as_array().unwrap().len());
}

/// `technique` counts apart the detections listed only through ruledex's mapping of vendor
/// labels: `inferred` is exactly those of the listed detections whose every link to the
/// technique's family says `mapped_by: ruledex`, and the text says so.
#[test]
fn technique_counts_ruledex_mappings_apart_from_vendor_tags() {
    let page = shared_catalog().run(&["technique", "T1598", "--json"]).ok().json();
    let only_mapped = detections(&page)
        .iter()
        .filter(|d| {
            let links: Vec<&Value> = d["techniques"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|t| t["id"].as_str().unwrap().starts_with("T1598"))
                .collect();
            links.iter().all(|t| t["mapped_by"] == "ruledex")
        })
        .count();
    assert!(only_mapped > 500, "Sublime's attack types bring hundreds: {only_mapped}");
    assert_eq!(page["inferred"], only_mapped);
    let text = shared_catalog().run(&["technique", "T1598"]).ok().stdout;
    assert!(text.contains(&format!("of which {only_mapped} detections only through ruledex's mapping")), "{text}");
}

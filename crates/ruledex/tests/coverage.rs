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
    all.extend(["--all", "--json"]);
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
    assert_eq!(unknown.code, 2, "an unknown name is a usage error");
    assert!(unknown.stderr.contains("--have: there is no source \"qradar\""), "{}", unknown.stderr);
    assert!(unknown.stderr.contains("sentinel"), "{}", unknown.stderr);
    let typo = shared_catalog().run(&["coverage", "--have", "splnk"]);
    assert!(typo.stderr.contains("did you mean splunk?"), "{}", typo.stderr);
    let tactic = shared_catalog().run(&["coverage", "--tactic", "teleportation"]);
    assert_eq!(tactic.code, 2);
    assert!(tactic.stderr.contains("--tactic: \"teleportation\"") && tactic.stderr.contains("command-and-control"));
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

/// How many techniques MITRE's mitreattack-python read from a layer file, failing on any warning
/// it printed; `None` (skipped) without `RULEDEX_PYTHON`, a Python with it installed.
fn read_by_mitreattack(path: &std::path::Path) -> Option<usize> {
    let Some(python) = std::env::var_os("RULEDEX_PYTHON") else {
        eprintln!("skipped: RULEDEX_PYTHON is unset (a Python with mitreattack-python installed)");
        return None;
    };
    let script = "import contextlib, io, sys\nfrom mitreattack.navlayers import Layer\nout = io.StringIO()\n\
        with contextlib.redirect_stdout(out):\n    layer = Layer()\n    layer.from_file(sys.argv[1])\n\
        print(len(layer.to_dict()['techniques']))\nprint(out.getvalue(), file=sys.stderr)";
    let output = Command::new(python).args(["-c", script]).arg(path).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(stderr.trim(), "", "mitreattack-python warned");
    Some(String::from_utf8_lossy(&output.stdout).trim().parse().unwrap())
}

fn written_techniques(path: &std::path::Path) -> usize {
    let written: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    written["techniques"].as_array().unwrap().len()
}

#[test]
fn layers_load_in_mitreattack_python() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("splunk.json");
    shared_catalog()
        .run(&["export", "--format", "navigator", "--source", "splunk", "--out", export.to_str().unwrap()])
        .ok();
    let coverage = dir.path().join("coverage.json");
    let wrote = shared_catalog()
        .run(&["coverage", "--have", "splunk,sentinel", "--community", "--layer", "--out", coverage.to_str().unwrap()])
        .ok();
    assert!(wrote.stdout.is_empty() && wrote.stderr.contains("wrote ruledex-coverage-splunk-sentinel (navigator)"));
    for path in [export, coverage] {
        if let Some(read) = read_by_mitreattack(&path) {
            assert_eq!(read, written_techniques(&path), "{}", path.display());
        }
    }
}

fn coverage_layer(args: &[&str]) -> Value {
    let mut all = vec!["coverage", "--layer"];
    all.extend_from_slice(args);
    serde_json::from_str(&shared_catalog().run(&all).ok().stdout).expect("a layer is JSON")
}

/// Each status's colour, as the layer's legend names them ("covered by splunk" -> covered).
fn legend_colors(layer: &Value) -> BTreeMap<String, Value> {
    let items = layer["legendItems"].as_array().unwrap();
    items
        .iter()
        .map(|item| (item["label"].as_str().unwrap().split([' ', ':']).next().unwrap().into(), item["color"].clone()))
        .collect()
}

#[test]
fn a_stack_layer_colours_every_technique_by_the_status_coverage_gives_it() {
    let coverage = shared_catalog().run(&["coverage", "--have", "splunk", "--json"]).ok().json();
    let layer = coverage_layer(&["--have", "splunk", "--base-url", "https://ruledex.example.org/"]);
    assert_eq!(
        (layer["domain"].as_str(), layer["versions"]["attack"].as_str()),
        (Some("enterprise-attack"), Some("18"))
    );
    let colors = legend_colors(&layer);
    assert_eq!(colors.keys().collect::<Vec<_>>(), ["community-only", "covered", "elsewhere", "none"]);
    assert_eq!(colors.values().map(Value::to_string).collect::<HashSet<_>>().len(), 4, "four distinct colours");
    assert_eq!(layer["legendItems"][0]["label"], "covered by splunk", "the legend names the stack");
    let entries: BTreeMap<&str, &Value> =
        layer["techniques"].as_array().unwrap().iter().map(|e| (e["techniqueID"].as_str().unwrap(), e)).collect();
    let techniques = coverage["techniques"].as_array().unwrap();
    assert_eq!(entries.len(), techniques.len(), "every technique of the matrix, once");
    for t in techniques {
        let (id, status) = (t["id"].as_str().unwrap(), t["status"].as_str().unwrap());
        let entry = entries[id];
        assert_eq!(entry["color"], colors[status], "{id}");
        assert_eq!(entry["score"].as_u64(), Some(counts(t).get("splunk").copied().unwrap_or(0)), "{id}: splunk's own");
        assert!(entry["comment"].as_str().unwrap().starts_with(&format!("{status}: ")), "{id}");
        assert!(entry.get("tactic").is_none(), "{id}: under all its tactics");
    }
    let proxy = entries["T1090"];
    assert_eq!(proxy["color"], colors["covered"]);
    assert!(proxy["score"].as_u64().unwrap() > 0 && proxy["comment"].as_str().unwrap().contains("splunk "));
    assert_eq!(proxy["links"][0]["url"], "https://ruledex.example.org/techniques/T1090");
    // Gaps: nothing detects Scheduled Transfer (T1029); Panther has content for Remote Services:
    // Cloud Services (T1021.007), Sigma alone for Proxy: Domain Fronting (T1090.004).
    for (id, status) in [("T1029", "none"), ("T1021.007", "elsewhere"), ("T1090.004", "community-only")] {
        assert_eq!((&entries[id]["color"], &entries[id]["score"]), (&colors[status], &Value::from(0)), "{id}");
    }
    assert!(entries["T1021.007"]["comment"].as_str().unwrap().contains("panther "), "where content exists");
    // T1086 (PowerShell) was revoked for T1059.001; T1064 (Scripting) is deprecated.
    assert!(!entries.contains_key("T1086") && !entries.contains_key("T1064"), "retired techniques are left out");
}

#[test]
fn a_stack_layer_of_some_tactics_marks_techniques_under_those_only() {
    let layer = coverage_layer(&["--have", "sentinel", "--tactic", "command-and-control,TA0005"]);
    let entries = layer["techniques"].as_array().unwrap();
    let tactics: HashSet<&str> = entries.iter().map(|e| e["tactic"].as_str().unwrap()).collect();
    assert_eq!(tactics, HashSet::from(["command-and-control", "defense-evasion"]));
    let coverage = shared_catalog()
        .run(&["coverage", "--have", "sentinel", "--tactic", "command-and-control,TA0005", "--json"])
        .ok()
        .json();
    let under_both = coverage["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tactics"].as_array().unwrap().iter().filter(|id| *id == "TA0011" || *id == "TA0005").count())
        .sum::<usize>();
    assert_eq!(entries.len(), under_both, "a technique under both tactics is marked under each");
    assert!(layer["metadata"].as_array().unwrap().iter().any(|m| m["name"] == "tactics"));
    assert!(layer["techniques"][0]["links"][0]["url"].as_str().unwrap().starts_with("http://127.0.0.1:8080/"));

    let unknown = shared_catalog().run(&["coverage", "--have", "qradar", "--layer"]);
    assert_eq!(unknown.code, 2);
    assert!(unknown.stdout.is_empty() && unknown.stderr.contains("\"qradar\""), "{}", unknown.stderr);
    let url = shared_catalog().run(&["coverage", "--layer", "--base-url", "javascript:alert(1)"]);
    assert_eq!(url.code, 2, "a usage error: {}", url.stderr);
    assert!(url.stderr.contains("must start with http:// or https://"), "{}", url.stderr);
}

/// `technique` counts apart the detections listed only through ruledex's mapping of vendor
/// labels: `inferred` is exactly those of the listed detections whose every link to the
/// technique's family says `mapped_by: ruledex`, and the text says so.
#[test]
fn technique_counts_ruledex_mappings_apart_from_vendor_tags() {
    let page = shared_catalog().run(&["technique", "T1598", "--inferred", "--all", "--json"]).ok().json();
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
    let text = shared_catalog().run(&["technique", "T1598", "--inferred"]).ok().stdout;
    assert!(text.contains(&format!("of which {only_mapped} detections only through ruledex's mapping")), "{text}");
}

//! `ruledex export` and the paste-ready query of `show --json`, on the real corpora: every
//! export read back with its format's own parser, and bad selections refused with status 1
//! leaving nothing behind.

use std::fs;
use std::io::Read;

use serde_json::Value;

use crate::util::{detections, shared_catalog};

#[test]
fn show_json_has_the_paste_ready_query_its_unresolved_macros_and_lookups() {
    let netsh = shared_catalog().run(&["show", "splunk/windows_proxy_via_netsh", "--json"]).ok().json();
    let shipped = netsh["query"].as_str().unwrap();
    let paste_ready = netsh["paste_ready_query"].as_str().unwrap();
    assert!(shipped.contains("`process_netsh`") && shipped.contains("`windows_proxy_via_netsh_filter`"));
    assert!(!paste_ready.contains('`'), "every macro expanded: {paste_ready}");
    assert!(paste_ready.contains("| search *"), "the _filter macro is ESCU's `search *`");
    assert_eq!(netsh["unresolved_macros"], Value::Array(vec![]));
    assert!(netsh["lookups"].is_array());
    let yaral = shared_catalog().run(&["show", "chronicle/gcti_tor_exit_nodes", "--json"]).ok().json();
    assert_eq!(yaral["paste_ready_query"], yaral["query"], "nothing to expand: the query itself");
}

#[test]
fn json_exports_hold_each_detection_as_show_prints_it() {
    let catalog = shared_catalog();
    let exported: Value =
        serde_json::from_str(&catalog.run(&["export", "--format", "json", "--technique", "T1090"]).ok().stdout)
            .unwrap();
    let listed = catalog.run(&["technique", "T1090", "--all", "--json"]).ok().json();
    let addresses = |v: &Value| -> Vec<String> {
        detections(v)
            .iter()
            .map(|d| format!("{}/{}", d["source"].as_str().unwrap(), d["id"].as_str().unwrap()))
            .collect()
    };
    assert_eq!(addresses(&exported), addresses(&listed), "the technique's default view, in its order");
    let first = &detections(&exported)[0];
    let address = format!("{}/{}", first["source"].as_str().unwrap(), first["id"].as_str().unwrap());
    let mut shown = catalog.run(&["show", &address, "--json"]).ok().json();
    // `show` answers with the release it resolved against; the detection itself is the same.
    assert_eq!(shown.as_object_mut().unwrap().remove("attack_version"), Some(Value::from("18.1")));
    assert_eq!(first, &shown, "an exported detection is `show --json`");
}

#[test]
fn a_splunk_app_archive_and_a_directory_hold_the_same_app() {
    let catalog = shared_catalog();
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("proxy.tar.gz");
    let folder = dir.path().join("proxy");
    for out in [&archive, &folder] {
        let out = out.to_str().unwrap();
        catalog.run(&["export", "--format", "splunk-app", "--technique", "T1090", "--out", out]).ok();
    }
    let mut names: Vec<String> = Vec::new();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(fs::File::open(&archive).unwrap()));
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        assert_eq!(fs::read_to_string(folder.join(&name)).unwrap(), text, "{name}");
        names.push(name);
    }
    let app = names.iter().find(|n| n.ends_with("default/savedsearches.conf")).expect("savedsearches.conf");
    let searches = fs::read_to_string(folder.join(app)).unwrap();
    let splunk_t1090 =
        detections(&catalog.run(&["technique", "T1090", "--source", "splunk", "--all", "--json"]).ok().json())
            .iter()
            .map(|d| d["title"].as_str().unwrap().to_string())
            .collect::<Vec<_>>();
    for title in &splunk_t1090 {
        assert!(searches.contains(&format!("[{title}]")) || searches.contains(title), "{title} has a stanza");
    }
    assert!(names.iter().any(|n| n.ends_with("default/app.conf")));
}

#[test]
fn one_rule_goes_to_standard_output_in_its_own_format() {
    let out =
        shared_catalog().run(&["export", "--format", "yaral", "--detection", "chronicle/gcti_tor_exit_nodes"]).ok();
    assert!(out.stdout.starts_with("rule gcti_tor_exit_nodes"), "{}", out.stdout);
    let kibana = shared_catalog()
        .run(&["export", "--format", "kibana-ndjson", "--technique", "T1090", "--source", "elastic"])
        .ok();
    let lines: Vec<Value> = kibana.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.len() >= 20 && lines.iter().all(|rule| rule["rule_id"].is_string() && rule["query"].is_string()));
}

#[test]
fn csv_rows_keep_spreadsheet_formulas_inert() {
    let csv = shared_catalog().run(&["export", "--format", "csv", "--query", "netsh"]).ok().stdout;
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let headers = rows.headers().unwrap().clone();
    assert_eq!(&headers[0], "source");
    let records: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert!(records.len() > 5);
    assert!(records.iter().flat_map(|r| r.iter()).all(|cell| !cell.starts_with(['=', '+', '-', '@'])));
}

#[test]
fn bad_selections_fail_with_status_1_and_leave_nothing_behind() {
    let catalog = shared_catalog();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.zip");
    let out = out.to_str().unwrap();
    let usage = catalog.run(&["export", "--format", "splunk_app", "--technique", "T1090"]);
    assert_eq!(usage.code, 2, "an unknown format is a usage error: {}", usage.stderr);
    assert!(usage.stderr.contains("--format: \"splunk_app\" is not one of splunk-app,"), "{}", usage.stderr);
    assert!(usage.stderr.contains("did you mean splunk-app?"), "{}", usage.stderr);
    let cases: [(&[&str], &str); 4] = [
        (&["--format", "json", "--technique", "T9999"], "T9999 is not an ATT&CK technique"),
        (
            &["--format", "json", "--technique", "T1090", "--source", "kql", "--language", "yara-l"],
            "holds no detection",
        ),
        (&["--format", "kibana-ndjson", "--technique", "T1090", "--source", "splunk", "--out", out], "none of the"),
        (&["--format", "sigma", "--technique", "T1090", "--community"], "give --out a directory"),
    ];
    for (args, message) in cases {
        let mut all = vec!["export"];
        all.extend_from_slice(args);
        let run = catalog.run(&all);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: nothing on standard output");
    }
    let unwritable =
        catalog.run(&["export", "--format", "json", "--technique", "T1090", "--out", "/proc/ruledex/x.json"]);
    assert_eq!(unwritable.code, 1);
    assert!(unwritable.stderr.contains("cannot write /proc/ruledex/x.json"), "{}", unwritable.stderr);
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0, "no partial file is left");
}

//! A failed, interrupted or partial sync never damages the catalog.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::Instant;

use crate::util::{Workspace, copy_tree, fixtures, shared, shared_attack, source};

fn mini_attack() -> String {
    format!("[attack]\nenterprise = {:?}\n", fixtures().join("attack/mini-enterprise.json"))
}

fn detection_count(workspace: &Workspace) -> u64 {
    workspace.run(&["stats", "--json"]).ok().json()["catalog"]["detections"].as_u64().unwrap()
}

fn catalog_files(data_dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        fs::read_dir(data_dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn a_sync_that_cannot_load_attack_leaves_the_previous_catalog() {
    let workspace = Workspace::new();
    let chronicle = source("chronicle", "chronicle", "vendor", &fixtures().join("chronicle"));
    workspace.write_config(&format!("{}{chronicle}", mini_attack()));
    workspace.run(&["sync"]).ok();
    let before = detection_count(&workspace);

    workspace.write_config(&format!("[attack]\nenterprise = \"/nonexistent/enterprise.json\"\n{chronicle}"));
    let failed = workspace.run(&["sync"]);
    assert_eq!(failed.code, 1);
    assert!(failed.stderr.contains("ATT&CK bundle /nonexistent/enterprise.json does not exist"), "{}", failed.stderr);
    assert_eq!(detection_count(&workspace), before);
    assert_eq!(catalog_files(&workspace.data_dir()), vec!["catalog.sqlite", "sync.lock"], "no temporary file left");
}

#[test]
fn a_source_that_cannot_be_read_keeps_its_previous_detections() {
    let workspace = Workspace::new();
    let mirror = workspace.path().join("mirror");
    fs::create_dir_all(&mirror).unwrap();
    fs::create_dir_all(mirror.join("rules")).unwrap();
    fs::copy(fixtures().join("chronicle/rules/community/two_rules.yaral"), mirror.join("rules/two_rules.yaral"))
        .unwrap();
    let config = format!(
        "{}{}{}",
        mini_attack(),
        source("chronicle", "chronicle", "vendor", &mirror),
        source("splunk", "splunk-escu", "vendor", &fixtures().join("splunk-escu"))
    );
    workspace.write_config(&config);
    workspace.run(&["sync"]).ok();
    let before = detection_count(&workspace);

    fs::rename(&mirror, workspace.path().join("moved")).unwrap();
    let partial = workspace.run(&["sync"]);
    assert_eq!(partial.code, 3, "{}\n{}", partial.stdout, partial.stderr);
    assert!(partial.stdout.contains("warning: chronicle: local path"), "{}", partial.stdout);
    assert!(partial.stdout.contains("kept its 2 detections from the previous sync"), "{}", partial.stdout);
    assert_eq!(detection_count(&workspace), before);
    workspace.run(&["show", "chronicle/fixture_tor_exit"]).ok();
    let stats = workspace.run(&["stats"]).ok().stdout;
    assert!(stats.contains("last sync could not read it: local path"), "{stats}");
}

/// Kills syncs of the full corpora at different moments, each carrying one upstream edit:
/// whenever it dies, the catalog is a complete one and its history agrees with it (the edit
/// recorded exactly when it is shown); the next sync cleans up, shows it and records it once.
#[test]
fn a_killed_sync_leaves_the_previous_catalog_and_its_history_usable() {
    let workspace = Workspace::new();
    let corpus = shared().join("corpus");
    let splunk = workspace.path().join("splunk");
    copy_tree(&corpus.join("splunk-security-content"), &splunk);
    let mut config = shared_attack();
    config += &source("splunk", "splunk-escu", "vendor", &splunk);
    config += &source("elastic", "elastic", "vendor", &corpus.join("elastic-detection-rules"));
    workspace.write_config(&config);
    workspace.run(&["sync"]).ok();
    let before = detection_count(&workspace);
    let full_sync = {
        let started = Instant::now();
        workspace.run(&["sync", "--full"]).ok();
        started.elapsed()
    };
    let netsh = splunk.join("detections/endpoint/windows_proxy_via_netsh.yml");
    fs::write(&netsh, fs::read_to_string(&netsh).unwrap().replace("* portproxy *", "* portproxy add *")).unwrap();
    let query =
        |w: &Workspace| w.run(&["show", "splunk/windows_proxy_via_netsh", "--json"]).ok().json()["query"].clone();
    let history = |w: &Workspace| w.run(&["changes", "--json"]).ok().json()["changes"].as_array().unwrap().len();
    for fraction in [0.2, 0.5, 0.8] {
        let mut child =
            workspace.command().args(["sync", "--full"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        sleep(full_sync.mul_f64(fraction));
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(detection_count(&workspace), before, "killed at {fraction} of a sync");
        // On a busy machine a sync may finish before it is killed: either way, the edit is in
        // the history exactly when the catalog shows it.
        let shown = query(&workspace).as_str().unwrap().contains("portproxy add");
        assert_eq!(history(&workspace), usize::from(shown), "killed at {fraction}: the history disagrees");
    }
    workspace.run(&["sync"]).ok();
    assert!(query(&workspace).as_str().unwrap().contains("portproxy add"));
    assert_eq!(history(&workspace), 1);
    assert_eq!(catalog_files(&workspace.data_dir()), vec!["catalog.sqlite", "sync.lock"]);
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=ruledex tests", "-c", "user.email=tests@ruledex.invalid"])
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

#[test]
fn git_sources_are_fetched_and_every_detection_names_its_commit() {
    let workspace = Workspace::new();
    let upstream = workspace.path().join("upstream");
    fs::create_dir_all(upstream.join("rules")).unwrap();
    fs::copy(fixtures().join("chronicle/rules/community/two_rules.yaral"), upstream.join("rules/two_rules.yaral"))
        .unwrap();
    git(&upstream, &["init", "--quiet", "--initial-branch=main"]);
    git(&upstream, &["add", "."]);
    git(&upstream, &["commit", "--quiet", "-m", "first"]);
    let url = format!("file://{}", upstream.display());
    workspace.write_config(&format!(
        "{}\n[[sources]]\nname = \"chronicle\"\nformat = \"chronicle\"\nkind = \"vendor\"\ngit = {url:?}\nrev = \"main\"\n",
        mini_attack()
    ));
    workspace.run(&["sync"]).ok();
    let head = String::from_utf8(
        Command::new("git").arg("-C").arg(&upstream).args(["rev-parse", "HEAD"]).output().unwrap().stdout,
    )
    .unwrap()
    .trim()
    .to_string();
    let shown = workspace.run(&["show", "chronicle/fixture_tor_exit", "--json"]).ok().json();
    assert_eq!(shown["provenance"]["commit"], head.as_str());
    assert_eq!(shown["provenance"]["path"], "rules/two_rules.yaral");

    // A new upstream commit is picked up by the next sync.
    fs::write(
        upstream.join("rules/second.yaral"),
        "rule fixture_second {\n meta:\n  technique = \"T1090\"\n condition:\n  $e\n}\n",
    )
    .unwrap();
    git(&upstream, &["add", "."]);
    git(&upstream, &["commit", "--quiet", "-m", "second"]);
    workspace.run(&["sync"]).ok();
    workspace.run(&["show", "chronicle/fixture_second"]).ok();
}

//! `ruledex serve` as a real process: the first run builds the catalog in the background, an
//! offline first run still serves and says why, and a catalog rebuilt by `ruledex sync` is
//! picked up without a restart.

use std::fs;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{Workspace, fixtures, shared, shared_attack, source};

/// A running `ruledex serve`, killed when dropped.
pub(crate) struct Served {
    child: Child,
    pub base: String,
    /// What serve said on stderr before announcing its address.
    said_first: Vec<String>,
    /// What it said since.
    said_later: Arc<Mutex<Vec<String>>>,
}

impl Served {
    pub fn said_later(&self) -> Vec<String> {
        self.said_later.lock().unwrap().clone()
    }

    /// Sends SIGTERM; the exit status, if the process ended within `bound`.
    pub fn terminate(&mut self, bound: Duration) -> Option<std::process::ExitStatus> {
        let pid = self.child.id().to_string();
        assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        let started = Instant::now();
        while started.elapsed() < bound {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn serve(workspace: &Workspace) -> Served {
    serve_with(workspace, &[])
}

/// `ruledex serve` with more arguments.
pub(crate) fn serve_with(workspace: &Workspace, args: &[&str]) -> Served {
    let mut child = workspace
        .command()
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let mut said_first = vec![];
    let base = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| match line.strip_prefix("ruledex: serving ") {
            Some(rest) => Some(rest.split(' ').next().unwrap().to_string()),
            None => {
                said_first.push(line);
                None
            }
        })
        .expect("serve announces its address");
    // Keep draining stderr so the server never blocks on a full pipe.
    let said_later = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&said_later);
    std::thread::spawn(move || lines.map_while(Result::ok).for_each(|line| kept.lock().unwrap().push(line)));
    Served { child, base, said_first, said_later }
}

pub(crate) fn get(served: &Served, path: &str) -> (u16, String) {
    let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    let mut response = agent.get(&format!("{}{path}", served.base)).call().unwrap();
    (response.status().as_u16(), response.body_mut().read_to_string().unwrap())
}

/// Polls `path` until `done` holds for its JSON, for at most a minute.
pub(crate) fn wait_for(served: &Served, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let (_, body) = get(served, path);
        let value: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        if done(&value) {
            return value;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{path} never became ready: {body}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub(crate) fn fixture_config(workspace: &Workspace, chronicle_root: &std::path::Path) {
    workspace.write_config(&format!(
        "[attack]\nenterprise = {:?}\n{}",
        fixtures().join("attack/mini-enterprise.json"),
        source("chronicle", "chronicle", "vendor", chronicle_root)
    ));
}

#[test]
fn the_first_run_builds_the_catalog_while_serving() {
    let workspace = Workspace::new();
    fixture_config(&workspace, &fixtures().join("chronicle"));
    let served = serve(&workspace);
    let (status, _) = get(&served, "/healthz");
    assert_eq!(status, 200, "the server answers at once");
    let sync = wait_for(&served, "/api/v1/sync", |v| v["state"] == "finished" || v["state"] == "failed");
    assert_eq!(sync["state"], "finished", "{sync}");
    let technique = wait_for(&served, "/api/v1/techniques/T1090", |v| v["detections"].is_array());
    assert!(technique["detections"].as_array().unwrap().iter().any(|d| d["id"] == "fixture_tor_exit"));
}

#[test]
fn an_offline_first_run_still_serves_and_says_what_failed() {
    let workspace = Workspace::new();
    // Port 9 (discard) is closed on loopback: the download fails at once, as offline.
    workspace.write_config(&format!(
        "[attack]\nenterprise = \"https://127.0.0.1:9/enterprise-attack.json\"\n{}\n\
         [[sources]]\nname = \"upstream\"\nformat = \"sigma\"\nkind = \"community\"\ngit = \"https://127.0.0.1:9/sigma.git\"\n",
        source("chronicle", "chronicle", "vendor", &fixtures().join("chronicle"))
    ));
    let served = serve(&workspace);
    let sync = wait_for(&served, "/api/v1/sync", |v| v["state"] == "failed" || v["state"] == "finished");
    assert_eq!(sync["state"], "failed");
    let error = sync["error"].as_str().unwrap();
    assert!(error.contains("cannot download ATT&CK bundle https://127.0.0.1:9/"), "{error}");
    assert!(error.contains("upstream: cannot fetch"), "names every source that could not be fetched: {error}");
    assert!(!error.contains("chronicle:"), "a local source is not unreachable: {error}");
    let (status, home) = get(&served, "/");
    assert_eq!(status, 200);
    assert!(home.contains("The catalog could not be built"));
    assert!(
        home.contains("cargo run --release -- --config examples/local-mirrors.toml serve"),
        "the one command that works, as ruledex was started (from a checkout): {home}"
    );
    assert!(home.contains(&workspace.config().display().to_string()), "names the configuration it used");
    assert_eq!(get(&served, "/api/v1/techniques/T1090").0, 503);
}

#[test]
fn a_catalog_rebuilt_by_another_sync_is_picked_up_without_a_restart() {
    let workspace = Workspace::new();
    let mirror = workspace.path().join("mirror");
    fs::create_dir_all(mirror.join("rules")).unwrap();
    fs::copy(fixtures().join("chronicle/rules/community/two_rules.yaral"), mirror.join("rules/two.yaral")).unwrap();
    fixture_config(&workspace, &mirror);
    workspace.run(&["sync"]).ok();
    let served = serve(&workspace);
    assert_eq!(get(&served, "/api/v1/detections/chronicle/fixture_late").0, 404);

    fs::write(
        mirror.join("rules/late.yaral"),
        "rule fixture_late {\n meta:\n  technique = \"T1090\"\n condition:\n  $e\n}\n",
    )
    .unwrap();
    workspace.run(&["sync"]).ok();
    wait_for(&served, "/api/v1/detections/chronicle/fixture_late", |v| v["id"] == "fixture_late");
}

/// Every answer given while another process's sync swaps catalogs comes from exactly one of the
/// two: connections, in-memory facets and technique data of one generation never mix, and no
/// page rendered from the old catalog is served after the new one is in.
#[test]
fn answers_during_an_external_sync_come_from_exactly_one_catalog() {
    let workspace = Workspace::new();
    let corpus = shared().join("corpus");
    let config = |format: &str, dir: &str| {
        format!("{}{}", shared_attack(), source("rules", format, "vendor", &corpus.join(dir)))
    };
    workspace.write_config(&config("chronicle", "chronicle-detection-rules"));
    workspace.run(&["sync"]).ok();
    let served = serve(&workspace);
    let paths = [
        "/api/v1/stats",
        "/api/v1/techniques/T1059",
        "/api/v1/search?q=process&limit=50",
        "/api/v1/search?q=process&source=rules&language=spl&limit=20",
        "/api/v1/coverage",
        "/techniques/T1090",
    ];
    let before: Vec<String> = paths.iter().map(|p| stable_body(&served, p)).collect();

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|i| {
            let (stop, base) = (stop.clone(), served.base.clone());
            std::thread::spawn(move || {
                let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
                let mut seen = Vec::new();
                let mut n = i;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let path = paths[n % paths.len()];
                    let mut response = agent.get(&format!("{base}{path}")).call().unwrap();
                    seen.push((path, response.status().as_u16(), response.body_mut().read_to_string().unwrap()));
                    n += 1;
                }
                seen
            })
        })
        .collect();
    workspace.write_config(&config("splunk-escu", "splunk-security-content"));
    workspace.run(&["sync"]).ok();
    wait_for(&served, "/api/v1/stats", |v| v["sources"][0]["format"] == "splunk-escu");
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let after: Vec<String> = paths.iter().map(|p| stable_body(&served, p)).collect();

    let (mut old, mut new) = (0, 0);
    for (path, status, body) in clients.into_iter().flat_map(|c| c.join().unwrap()) {
        assert_eq!(status, 200, "{path}: {body:.300}");
        let i = paths.iter().position(|p| *p == path).unwrap();
        assert_ne!(before[i], after[i], "{path} differs between the two catalogs");
        match body {
            b if b == before[i] => old += 1,
            b if b == after[i] => new += 1,
            b => panic!("{path} answered from neither catalog: {b:.500}"),
        }
    }
    assert!(old > 0 && new > 0, "the requests spanned the swap ({old} old, {new} new)");
}

/// A path's body, read twice to be sure it is stable within one catalog.
fn stable_body(served: &Served, path: &str) -> String {
    let (status, first) = get(served, path);
    assert_eq!(status, 200, "{path}: {first:.300}");
    assert_eq!(get(served, path).1, first, "{path} is deterministic");
    first
}

/// Issue 7, item 5: a catalog overwritten in place (`cp` or `truncate` over it) killed the
/// server with SIGBUS. The server now answers 503 while the file is damaged and opens it again
/// once it is whole.
#[test]
fn a_catalog_overwritten_in_place_never_kills_the_server() {
    let workspace = Workspace::new();
    fixture_config(&workspace, &fixtures().join("chronicle"));
    workspace.run(&["sync"]).ok();
    let catalog = workspace.data_dir().join("catalog.sqlite");
    let good = fs::read(&catalog).unwrap();
    let served = serve(&workspace);
    assert_eq!(get(&served, "/api/v1/techniques/T1090").0, 200);

    fs::OpenOptions::new().write(true).open(&catalog).unwrap().set_len(0).unwrap();
    let (status, body) = get(&served, "/api/v1/techniques/T1090?language=yara-l");
    assert!(status == 503 || status == 200, "{status}: {body}");
    assert_eq!(get(&served, "/healthz").0, 200, "the server lives on");

    // Written back in place, as `cp` does: same file, new content.
    fs::write(&catalog, &good).unwrap();
    wait_for(&served, "/api/v1/techniques/T1090?vendor=Google%20SecOps", |v| v["detections"].is_array());
}

#[test]
fn serve_on_a_damaged_catalog_says_to_sync_and_rebuilds_it() {
    let workspace = Workspace::new();
    fixture_config(&workspace, &fixtures().join("chronicle"));
    fs::create_dir_all(workspace.data_dir()).unwrap();
    fs::write(workspace.data_dir().join("catalog.sqlite"), "this is not a catalog").unwrap();
    let served = serve(&workspace);
    let said = served.said_first.join("\n");
    assert!(said.contains("cannot be read") && said.contains("run `ruledex sync`"), "{said}");
    wait_for(&served, "/api/v1/techniques/T1090", |v| v["detections"].is_array());
}

/// Issue 20, item 5: one process syncs, any number of `serve --no-sync` replicas serve the same
/// data directory. After a sync both answer from the new generation, with one history and one
/// set of feed IDs (the writer's), and neither ever syncs.
#[test]
fn no_sync_replicas_follow_the_one_writer() {
    let workspace = Workspace::new();
    let upstream = workspace.path().join("upstream");
    crate::util::copy_tree(&fixtures().join("chronicle"), &upstream);
    fixture_config(&workspace, &upstream);
    workspace.run(&["sync"]).ok();
    let replicas = [serve_with(&workspace, &["--no-sync"]), serve_with(&workspace, &["--no-sync"])];
    let built_at = |served: &Served| {
        wait_for(served, "/api/v1/stats", |v| v["catalog"].is_object())["catalog"]["built_at"].clone()
    };
    let first = built_at(&replicas[0]);
    assert_eq!(built_at(&replicas[1]), first, "both serve the catalog there is");

    let rule = upstream.join("rules/community/two_rules.yaral");
    let text = fs::read_to_string(&rule).unwrap().replace("tor{1,2}\\.example", "tor{1,3}\\.example");
    fs::write(&rule, text).unwrap();
    std::thread::sleep(Duration::from_millis(1_100)); // a new built_at, to the second
    workspace.run(&["sync"]).ok();
    let changes = workspace.run(&["changes", "--json"]).ok().json();
    assert_eq!(changes["changes"].as_array().unwrap().len(), 1, "{changes}");
    for served in &replicas {
        let stats = wait_for(served, "/api/v1/stats", |v| v["catalog"]["built_at"] != first);
        assert_ne!(stats["catalog"]["built_at"], first);
        let (_, answer) = get(served, "/api/v1/changes");
        assert_eq!(serde_json::from_str::<Value>(&answer).unwrap(), changes, "the writer's one history");
        let (_, sync) = get(served, "/api/v1/sync");
        assert!(sync.contains("\"idle\""), "a replica never syncs: {sync}");
    }
    let feed_ids = |served: &Served| {
        let (_, feed) = get(served, "/feed.atom");
        let ids: Vec<String> =
            feed.split("<id>").skip(2).map(|s| s.split("</id>").next().unwrap().to_string()).collect();
        ids
    };
    let ids = feed_ids(&replicas[0]);
    assert!(ids.contains(&changes["changes"][0]["change_id"].as_str().unwrap().to_string()), "{ids:?}");
    assert_eq!(feed_ids(&replicas[1]), ids, "one set of feed IDs");
    let (_, detection) = get(&replicas[1], "/api/v1/detections/chronicle/fixture_tor_exit");
    assert!(detection.contains("tor{1,3}"), "the new generation's query: {detection:.300}");
}

//! A newcomer's first hour (issue 22): the catalogs one has are found whatever the CLI was
//! started with, one configuration file is one catalog whatever names it, and an offline sync
//! says what to run instead, as `serve` and `mcp` do.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use serde_json::json;

use crate::mcp::{Client, call, connect, runtime};
use crate::serve::fixture_config;
use crate::util::{Run, Workspace, fixtures, shared_catalog, source};

/// `ruledex` as a user runs it: no --config, no --data-dir, the user's data directory under
/// `data_home`, in the folder `cwd` (which holds no ruledex.toml).
fn as_a_user(data_home: &Path, cwd: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ruledex"));
    command
        .env("XDG_DATA_HOME", data_home)
        .env_remove("RULEDEX_CONFIG")
        .env_remove("RULEDEX_DATA_DIR")
        .current_dir(cwd);
    command
}

fn run(mut command: Command, args: &[&str]) -> Run {
    command.args(args).output().expect("run ruledex").into()
}

/// The line of `config show` naming the data directory.
fn data_directory(shown: &Run) -> String {
    shown.stdout.lines().find(|l| l.starts_with("# data directory: ")).expect("data directory").to_string()
}

/// Issue 22, items 2 and 3: the catalog was built from a configuration; the CLI started without
/// it looked at an empty catalog and said only "run `ruledex sync`". It names the catalog there
/// is and the options that select it, which work; and the configuration reached through `..` or
/// a symbolic link is the same configuration, with the same catalog.
#[test]
fn a_missing_catalog_names_the_catalogs_there_are_and_the_options_that_select_each() {
    let workspace = Workspace::new();
    fixture_config(&workspace, &fixtures().join("chronicle"));
    let (data_home, elsewhere) = (workspace.path().join("share"), workspace.path().join("elsewhere"));
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::os::unix::fs::symlink(workspace.path(), workspace.path().join("link")).unwrap();
    let config = std::fs::canonicalize(workspace.config()).unwrap();
    let through_dots = workspace.path().join("elsewhere/../ruledex.toml");
    let through_link = workspace.path().join("link/elsewhere/../ruledex.toml");
    let sync = run(as_a_user(&data_home, &elsewhere), &["--config", through_dots.to_str().unwrap(), "sync"]).ok();
    assert!(!sync.stdout.contains("/../"), "paths are shown normalised: {}", sync.stdout);
    let shown: Vec<String> = [&through_dots, &through_link, &config]
        .iter()
        .map(|name| {
            data_directory(
                &run(as_a_user(&data_home, &elsewhere), &["--config", name.to_str().unwrap(), "config", "show"]).ok(),
            )
        })
        .collect();
    assert!(shown.iter().all(|line| *line == shown[0]), "one file, one catalog: {shown:?}");

    let missing = run(as_a_user(&data_home, &elsewhere), &["technique", "T1090"]);
    assert_eq!(missing.code, 1, "{}", missing.stderr);
    let default = data_home.join("ruledex/default/catalog.sqlite");
    let config = config.display().to_string();
    for expected in [
        format!("no catalog at {}; run `ruledex sync` to build it", default.display()),
        format!("Other configurations have catalogs in {}; select one with:", data_home.join("ruledex").display()),
        format!("    --config {config} (or RULEDEX_CONFIG={config}): 4 detections"),
    ] {
        assert!(missing.stderr.contains(&expected), "{expected:?} in:\n{}", missing.stderr);
    }
    let mut selected = as_a_user(&data_home, &elsewhere);
    selected.env("RULEDEX_CONFIG", &config);
    let listing = run(selected, &["technique", "T1090", "--json"]).ok().json();
    assert!(listing["detections"].as_array().is_some_and(|d| !d.is_empty()), "{listing}");
    let detections = run(as_a_user(&data_home, &elsewhere), &["--config", &config, "stats", "--json"]).ok().json();
    assert_eq!(detections["catalog"]["detections"], 4, "the count named is the catalog's");
}

/// A configuration whose upstreams cannot be reached (port 9 on loopback is closed: the fetch
/// fails at once, as offline), with no catalog yet.
fn offline(workspace: &Workspace) -> PathBuf {
    workspace.write_config(&format!(
        "[attack]\nenterprise = \"https://127.0.0.1:9/enterprise-attack.json\"\n{}",
        source("chronicle", "chronicle", "vendor", &fixtures().join("chronicle"))
    ));
    workspace.config()
}

/// Issue 22, item 2: `serve` said what to run offline; `sync` and `mcp` did not.
#[test]
fn offline_sync_and_mcp_name_the_local_mirrors_as_serve_does() {
    let workspace = Workspace::new();
    offline(&workspace);
    let sync = workspace.run(&["sync"]);
    assert_eq!(sync.code, 1, "{}", sync.stderr);
    assert!(sync.stderr.contains("cannot download ATT&CK bundle https://127.0.0.1:9/"), "{}", sync.stderr);
    let hint = "offline, read the local mirrors instead (see examples/local-mirrors.toml):\n    \
                cargo run --release -- --config examples/local-mirrors.toml";
    assert!(sync.stderr.contains(&format!("{hint} sync")), "{}", sync.stderr);

    let client = Client::default();
    let logs = Arc::clone(&client.logs);
    runtime().block_on(async {
        let session = connect(&workspace, client).await;
        let stats = call(&session, "stats", json!({})).await;
        assert_eq!(stats.is_error, Some(true), "no catalog to answer from");
        let started = std::time::Instant::now();
        while !logs.lock().unwrap().iter().any(|l| l.contains("building the catalog failed"))
            && started.elapsed().as_secs() < 10
        {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        session.cancel().await.unwrap();
    });
    let logs = logs.lock().unwrap().join("\n");
    assert!(logs.contains(&format!("{hint} mcp")), "{logs}");

    // A configuration that reads local copies only has nothing to gain from the hint.
    let local = Workspace::new();
    local.write_config(&format!(
        "[attack]\nenterprise = {:?}\n{}",
        workspace.path().join("missing-enterprise.json"),
        source("chronicle", "chronicle", "vendor", &fixtures().join("chronicle"))
    ));
    let failed = local.run(&["sync"]);
    assert_eq!(failed.code, 1);
    assert!(failed.stderr.contains("does not exist") && !failed.stderr.contains("offline"), "{}", failed.stderr);
}

/// Issue 22, item 6: the README's splunk-app export printed a line per detection it skipped;
/// an archive in a missing folder was refused twice over without naming the folder.
#[test]
fn an_export_says_once_what_it_skipped_and_names_a_missing_folder() {
    let workspace = shared_catalog();
    let out = tempfile::tempdir().unwrap();
    let archive = out.path().join("t1090-splunk.tar.gz");
    let export = ["export", "--format", "splunk-app", "--technique", "T1090", "--out", archive.to_str().unwrap()];
    let run = workspace.run(&export).ok();
    let lines: Vec<&str> = run.stderr.lines().collect();
    let [wrote, skipped] = lines.as_slice() else { panic!("two lines: {}", run.stderr) };
    let count = |line: &str, before: &str| -> usize {
        let rest = line.strip_prefix(before).unwrap_or_else(|| panic!("{before:?} in {line:?}"));
        rest.split(' ').next().unwrap().parse().unwrap()
    };
    let (written, left_out) = (count(wrote, "ruledex: wrote "), count(skipped, "ruledex: skipped "));
    assert!(skipped.contains(" detections of the selection that splunk-app does not take (-v names each): "));
    assert!(skipped.contains(" not a Splunk ESCU detection (read as chronicle)"), "{skipped}");
    let listed = workspace.run(&["technique", "T1090", "--json"]).ok().json();
    assert_eq!(written + left_out, listed["shown"].as_u64().unwrap() as usize, "every detection accounted for once");
    let mut verbose = vec!["-v"];
    verbose.extend_from_slice(&export);
    let named = workspace.run(&verbose).ok();
    assert_eq!(named.stderr.lines().filter(|l| l.contains(" skipped ") && l.contains('/')).count(), left_out);

    let nowhere = out.path().join("nodir/t1090.tar.gz");
    let refused = workspace.run(&[
        "export",
        "--format",
        "splunk-app",
        "--technique",
        "T1090",
        "--out",
        nowhere.to_str().unwrap(),
    ]);
    assert_eq!(refused.code, 1);
    let expected = format!(
        "ruledex: cannot write {}: there is no folder {}; create it, or choose another --out\n",
        nowhere.display(),
        out.path().join("nodir").display()
    );
    assert_eq!(refused.stderr, expected);
}

/// Issue 22, item 6: a first sync said "no detection changed", its progress bar was drawn full
/// at "0/0 files" while fetching, "1 bundles" and "1 detections".
#[test]
fn a_first_sync_says_where_history_starts_and_counts_are_spelled_right() {
    let workspace = Workspace::new();
    fixture_config(&workspace, &fixtures().join("chronicle"));
    // `script` gives ruledex a terminal, where it draws its progress bar.
    let sync = format!(
        "{} --config {} --data-dir {} sync",
        env!("CARGO_BIN_EXE_ruledex"),
        workspace.config().display(),
        workspace.data_dir().display()
    );
    let output = Command::new("script").args(["-qefc", &sync, "/dev/null"]).env("TERM", "xterm").output().unwrap();
    let terminal = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{terminal}");
    assert!(terminal.contains("reading chronicle    ["), "the bar was drawn: {terminal}");
    assert!(!terminal.contains("] 0/0 files"), "no bar before there are files to count: {terminal}");
    assert!(terminal.contains("ATT&CK (version not configured): 8 techniques from 1 bundle ("), "{terminal}");
    assert!(terminal.contains("first sync: its detections are where the change history starts"), "{terminal}");
    assert!(!terminal.contains("no detection changed"), "{terminal}");

    let out = workspace.path().join("one.yaral");
    let one =
        ["export", "--format", "yaral", "--detection", "chronicle/fixture_tor_exit", "--out", out.to_str().unwrap()];
    let wrote = workspace.run(&one).ok();
    assert!(wrote.stderr.starts_with("ruledex: wrote 1 detection as yaral to "), "{}", wrote.stderr);
}

/// Issue 22, item 6: `--help` listed the options every command takes among the command's own.
#[test]
fn help_lists_the_global_options_apart_from_the_commands() {
    for command in ["technique", "export", "sync", "mcp"] {
        let help = Workspace::new().run(&[command, "--help"]).ok().stdout;
        let (own, global) = help.split_once("Global options (every command):").expect("a heading of their own");
        for option in ["--config <FILE>", "--data-dir <DIR>", "--verbose"] {
            assert!(global.contains(option) && !own.contains(option), "{command}: {option} in\n{help}");
        }
    }
}

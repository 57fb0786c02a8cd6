//! Every example in README.md runs (issue 22, item 5): the `ruledex` commands of its `sh` blocks
//! (and `cargo run --release --` standing for `ruledex`), read from the file itself so none can
//! drift, each run by the built binary on the local mirrors' catalog, as the README says to
//! select it (`RULEDEX_CONFIG`). Each must exit 0 and show something: its output, the file
//! `--out` names or the file `>` redirects to, never a "nothing matched". A comment starting
//! `[server]` marks a command that runs until stopped: the test talks to it (HTTP for `serve`,
//! MCP for `mcp`). `[network]` marks one that fetches the upstreams: only its command line is
//! checked, since tests never reach the internet. `changes` examples also run on a catalog with
//! recorded changes, where they must list some.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::util::{Run, Workspace, copy_tree, repo_root, shared, shared_attack, shared_catalog, source};

/// How an example is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// Run to its end.
    Run,
    /// Runs until stopped: spoken to, then stopped.
    Server,
    /// Fetches the upstreams: its command line is parsed, not run.
    Network,
}

/// One command of the README.
#[derive(Debug)]
struct Example {
    /// The README's line, for messages.
    line: String,
    /// The words after `ruledex`.
    args: Vec<String>,
    /// `> FILE`.
    redirect: Option<String>,
    check: Check,
}

/// The `ruledex` commands of the README's `sh` blocks, in order.
fn examples(readme: &str) -> Vec<Example> {
    let mut examples = Vec::new();
    let mut in_shell = false;
    for line in readme.lines() {
        match line.trim_start().strip_prefix("```") {
            Some(info) if !in_shell => in_shell = info.trim() == "sh",
            Some(_) => in_shell = false,
            None if in_shell => examples.extend(line.split(';').filter_map(|command| example(command.trim(), line))),
            None => {}
        }
    }
    examples
}

/// A command of a README line, when it runs ruledex.
fn example(command: &str, line: &str) -> Option<Example> {
    let (command, comment) = without_comment(command);
    let words = shlex::split(command).unwrap_or_else(|| panic!("the README's shell line {line:?} does not split"));
    let args = match words.as_slice() {
        [first, rest @ ..] if first == "ruledex" => rest,
        [cargo, run, release, dashes, rest @ ..]
            if (cargo.as_str(), run.as_str(), release.as_str(), dashes.as_str())
                == ("cargo", "run", "--release", "--") =>
        {
            rest
        }
        _ => return None,
    };
    let check = match comment.trim_start() {
        marked if marked.starts_with("[server]") => Check::Server,
        marked if marked.starts_with("[network]") => Check::Network,
        _ => Check::Run,
    };
    let (args, redirect) = match args {
        [args @ .., arrow, file] if arrow == ">" => (args, Some(file.clone())),
        args => (args, None),
    };
    Some(Example { line: line.trim().to_string(), args: args.to_vec(), redirect, check })
}

/// A shell command and its comment (what follows a `#` that starts a word outside quotes).
fn without_comment(command: &str) -> (&str, &str) {
    let mut quote = None;
    let mut previous = ' ';
    for (at, c) in command.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(open), _) if c == open => quote = None,
            (None, '#') if previous.is_whitespace() => return (&command[..at], &command[at + 1..]),
            _ => {}
        }
        previous = c;
    }
    (command, "")
}

/// Where the examples run: a folder of their own, whose `examples/` is the local mirrors
/// workspace's, with the configuration and catalog selected as the README says.
struct Place {
    cwd: tempfile::TempDir,
    config: PathBuf,
    data_dir: PathBuf,
}

impl Place {
    fn new(workspace: &Workspace, examples: Option<&Path>) -> Place {
        let cwd = tempfile::tempdir().unwrap();
        if let Some(examples) = examples {
            std::os::unix::fs::symlink(examples, cwd.path().join("examples")).unwrap();
        }
        Place { cwd, config: workspace.config(), data_dir: workspace.data_dir() }
    }

    fn command(&self, args: &[String]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ruledex"));
        command
            .args(args)
            .current_dir(self.cwd.path())
            .env("RULEDEX_CONFIG", &self.config)
            .env("RULEDEX_DATA_DIR", &self.data_dir)
            .env("RULEDEX_ADDR", "127.0.0.1:0");
        command
    }

    fn run(&self, example: &Example) -> Run {
        self.command(&example.args).output().expect("run ruledex").into()
    }
}

/// What an example showed: the file or folder `--out` names, else its standard output (which
/// `>` sends to a file).
fn shown(example: &Example, run: &Run, cwd: &Path) -> String {
    let Some(out) = example.args.iter().position(|a| a == "--out").map(|i| cwd.join(&example.args[i + 1])) else {
        return run.stdout.clone();
    };
    match fs::read_dir(&out) {
        Ok(entries) => entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned() + "\n").collect(),
        Err(_) => String::from_utf8_lossy(&fs::read(&out).unwrap_or_default()).into_owned(),
    }
}

/// Panics unless `shown` shows something: not blank, not a "nothing matched", and in JSON no
/// empty list where the answer's items go.
#[track_caller]
fn assert_shows_something(example: &Example, shown: &str) {
    let line = &example.line;
    assert!(!shown.trim().is_empty(), "{line}: shows nothing");
    for nothing in ["no detection matches", "no changes recorded"] {
        assert!(!shown.to_lowercase().contains(nothing), "{line}: {nothing:?}:\n{shown}");
    }
    assert!(!shown.lines().any(|l| l.starts_with("0 of ")), "{line}: lists nothing:\n{shown}");
    if let Ok(value) = serde_json::from_str::<Value>(shown) {
        for items in ["detections", "changes", "techniques", "sources"] {
            assert!(value[items].as_array().is_none_or(|list| !list.is_empty()), "{line}: no {items}:\n{shown}");
        }
    }
}

/// Runs one example to its end and checks what it showed.
fn check_run(place: &Place, example: &Example) {
    let run = place.run(example);
    assert_eq!(run.code, 0, "{}:\nstdout:\n{}\nstderr:\n{}", example.line, run.stdout, run.stderr);
    assert_shows_something(example, &shown(example, &run, place.cwd.path()));
}

/// Starts a `[server]` example, checks it answers, and stops it.
fn check_server(place: &Place, example: &Example) {
    let mut command = place.command(&example.args);
    let mut child =
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start ruledex");
    match example.args.last().map(String::as_str) {
        Some("serve") => {
            let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
            let address = stderr
                .by_ref()
                .map_while(Result::ok)
                .find_map(|line| Some(line.strip_prefix("ruledex: serving ")?.split(' ').next()?.to_string()))
                .unwrap_or_else(|| panic!("{}: never said where it serves", example.line));
            let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
            let mut home = agent.get(&format!("{address}/api/v1/stats")).call().unwrap_or_else(|e| {
                let _ = child.kill();
                let said: Vec<String> = stderr.map_while(Result::ok).collect();
                panic!("{}: {e}; the server said:\n{}", example.line, said.join("\n"))
            });
            assert_eq!(home.status().as_u16(), 200, "{}", example.line);
            let stats: Value = serde_json::from_str(&home.body_mut().read_to_string().unwrap()).unwrap();
            assert!(stats["catalog"]["detections"].as_u64().unwrap_or(0) > 10_000, "{}: {stats}", example.line);
        }
        Some("mcp") => {
            let mut stdin = child.stdin.take().unwrap();
            let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
            let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "readme", "version": "1"}}});
            let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
            let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
            for message in [initialize, initialized, list] {
                writeln!(stdin, "{message}").unwrap();
            }
            let tools = stdout
                .by_ref()
                .map_while(Result::ok)
                .filter_map(|line| serde_json::from_str::<Value>(&line).ok())
                .find(|message| message["id"] == 2)
                .unwrap_or_else(|| panic!("{}: no answer to tools/list", example.line));
            let names: Vec<&str> =
                tools["result"]["tools"].as_array().unwrap().iter().filter_map(|t| t["name"].as_str()).collect();
            assert!(names.contains(&"technique") && names.contains(&"search"), "{}: {names:?}", example.line);
        }
        other => panic!("{}: which server is {other:?}?", example.line),
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A `[network]` example's command line, parsed as ruledex would take it, without running it.
fn check_network(place: &Place, example: &Example) {
    let mut args = example.args.clone();
    args.push("--help".into());
    let parsed = place.command(&args).output().expect("run ruledex");
    assert!(parsed.status.success(), "{}: {}", example.line, String::from_utf8_lossy(&parsed.stderr));
}

/// A catalog with recorded changes: Splunk's T1090 detections, then the four an upstream update
/// adds (the update in ../shared/corpus-extra).
fn catalog_with_changes() -> Workspace {
    let workspace = Workspace::new();
    let upstream = workspace.path().join("splunk");
    let corpus = shared().join("corpus/splunk-security-content");
    fs::create_dir_all(upstream.join("detections/endpoint")).unwrap();
    copy_tree(&corpus.join("macros"), &upstream.join("macros"));
    let netsh = "detections/endpoint/windows_proxy_via_netsh.yml";
    fs::copy(corpus.join(netsh), upstream.join(netsh)).unwrap();
    workspace.write_config(&format!("{}{}", shared_attack(), source("splunk", "splunk-escu", "vendor", &upstream)));
    workspace.run(&["sync"]).ok();
    copy_tree(&shared().join("corpus-extra/splunk-security-content-update"), &upstream);
    let second = workspace.run(&["sync", "--json"]).ok().json();
    assert_eq!(second["changes"]["added"], 4, "{second}");
    workspace
}

#[test]
fn every_readme_example_runs_on_the_local_mirrors() {
    let readme = fs::read_to_string(repo_root().join("README.md")).unwrap();
    let examples = examples(&readme);
    let count = |check| examples.iter().filter(|e| e.check == check).count();
    assert!(examples.len() >= 20, "the README's examples were found: {examples:#?}");
    assert_eq!((count(Check::Server), count(Check::Network)), (2, 1), "{examples:#?}");
    let mirrors = shared_catalog();
    let place = Place::new(mirrors, mirrors.config().parent());
    let is_changes = |e: &&Example| e.args.first().is_some_and(|a| a == "changes");
    for example in examples.iter().filter(|e| !is_changes(e)) {
        match example.check {
            Check::Run => check_run(&place, example),
            Check::Server => check_server(&place, example),
            Check::Network => check_network(&place, example),
        }
    }
    let history = catalog_with_changes();
    let place = Place::new(&history, None);
    let changes: Vec<&Example> = examples.iter().filter(is_changes).collect();
    assert_eq!(changes.len(), 3, "the README's history examples");
    for example in changes {
        check_run(&place, example);
    }
}

/// The parser finds what a reader sees, and only that.
#[test]
fn readme_shell_lines_are_read_as_a_shell_would() {
    let readme = "text\n```sh\n# a comment line\nruledex technique \"Proxy: Multi-hop Proxy\" --exact   # note\n\
                  ruledex campaign C0024; ruledex software \"Cobalt Strike\"\n\
                  ruledex export --format kibana-ndjson > t.ndjson\ncargo run --release -- serve   # [network]\n\
                  ruledex mcp   # [server] stdio\nclaude mcp add ruledex -- ruledex mcp\n```\n\
                  ```json\nruledex stats\n```\nruledex stats\n";
    let found: Vec<(Vec<String>, Option<String>, Check)> =
        examples(readme).into_iter().map(|e| (e.args, e.redirect, e.check)).collect();
    let words = |text: &str| text.split(' ').map(String::from).collect::<Vec<_>>();
    assert_eq!(
        found,
        vec![
            (vec!["technique".into(), "Proxy: Multi-hop Proxy".into(), "--exact".into()], None, Check::Run),
            (words("campaign C0024"), None, Check::Run),
            (vec!["software".into(), "Cobalt Strike".into()], None, Check::Run),
            (words("export --format kibana-ndjson"), Some("t.ndjson".into()), Check::Run),
            (words("serve"), None, Check::Network),
            (words("mcp"), None, Check::Server),
        ]
    );
}

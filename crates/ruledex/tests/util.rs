//! Helpers: running the binary, temporary workspaces, and the catalog built from ../shared.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The upstream corpora and ATT&CK bundles: `RULEDEX_TEST_DATA` when set (scripts/test.sh sets it,
/// to its cache on a machine without ../shared), else ../shared beside the checkout (as in CI).
pub fn shared() -> PathBuf {
    std::env::var_os("RULEDEX_TEST_DATA")
        .filter(|dir| !dir.is_empty())
        .map_or_else(|| repo_root().join("../shared"), PathBuf::from)
}

pub fn fixtures() -> PathBuf {
    repo_root().join("tests/fixtures")
}

/// One finished run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }

    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// A configuration and data directory in a temporary folder.
pub struct Workspace {
    pub dir: tempfile::TempDir,
    config: PathBuf,
}

impl Workspace {
    pub fn new() -> Workspace {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("ruledex.toml");
        Workspace { dir, config }
    }

    /// A workspace configured by a verbatim copy of examples/local-mirrors.toml, placed so that
    /// the `../../shared` its paths start with is a link to the test data, wherever that lives.
    pub fn with_local_mirrors_example() -> Workspace {
        let workspace = Workspace::new();
        let examples = workspace.path().join("checkout/examples");
        fs::create_dir_all(&examples).expect("examples folder");
        let data = std::path::absolute(shared()).expect("test data path");
        std::os::unix::fs::symlink(data, workspace.path().join("shared")).expect("link to the test data");
        let config = examples.join("local-mirrors.toml");
        fs::copy(repo_root().join("examples/local-mirrors.toml"), &config).expect("copy of the example");
        Workspace { config, ..workspace }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn config(&self) -> PathBuf {
        self.config.clone()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.path().join("data")
    }

    pub fn write_config(&self, text: &str) {
        fs::write(self.config(), text).expect("write config");
    }

    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ruledex"));
        command.arg("--config").arg(self.config()).arg("--data-dir").arg(self.data_dir());
        command.env_remove("RULEDEX_CONFIG").env_remove("RULEDEX_DATA_DIR");
        command
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.command().args(args).output().expect("run ruledex").into()
    }
}

/// `[attack]` pointing at the real ATT&CK v18.1 bundles in ../shared.
pub fn shared_attack() -> String {
    let dir = shared().join("attack");
    format!(
        "[attack]\nenterprise = {:?}\nics = {:?}\nmobile = {:?}\nversion = \"18.1\"\n",
        dir.join("enterprise-attack.json"),
        dir.join("ics-attack.json"),
        dir.join("mobile-attack.json")
    )
}

/// A `[[sources]]` entry for a local path.
pub fn source(name: &str, format: &str, kind: &str, path: &Path) -> String {
    format!("\n[[sources]]\nname = {name:?}\nformat = {format:?}\nkind = {kind:?}\npath = {path:?}\n")
}

/// The catalog built once from every corpus in the test data, through the documented example
/// configuration for local mirrors (examples/local-mirrors.toml).
pub fn shared_catalog() -> &'static Workspace {
    static CATALOG: OnceLock<Workspace> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let workspace = Workspace::with_local_mirrors_example();
        let sync = workspace.run(&["sync"]);
        // The Sentinel sample holds three files that are invalid YAML upstream: status 0, listed.
        assert_eq!(sync.code, 0, "{}\n{}", sync.stdout, sync.stderr);
        workspace
    })
}

/// A catalog of one fixture folder's YARA-L rules, as the vendor source `chronicle`:
/// tests/fixtures/terminal (a title holding terminal escape sequences), tests/fixtures/markup
/// (HTML and Markdown images in a title and a description).
pub fn fixture_catalog(folder: &str) -> Workspace {
    let workspace = Workspace::new();
    workspace.write_config(&format!(
        "[attack]\nenterprise = {:?}\n{}",
        fixtures().join("attack/mini-enterprise.json"),
        source("chronicle", "chronicle", "vendor", &fixtures().join(folder))
    ));
    workspace.run(&["sync"]).ok();
    workspace
}

/// Copies the tree under `from` into `to` as writable files (the test data is read-only), for an
/// upstream a test then changes.
pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create the copy");
    for entry in fs::read_dir(from).expect("readable tree") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::write(&target, fs::read(entry.path()).expect("readable file")).expect("write the copy");
        }
    }
}

/// Rule files under `root/sub` with the given extension, counted independently of ruledex.
pub fn files_on_disk(root: &Path, sub: &str, extension: &str) -> usize {
    fn walk(dir: &Path, extension: &str) -> usize {
        let Ok(entries) = fs::read_dir(dir) else { return 0 };
        entries
            .filter_map(Result::ok)
            .map(|e| {
                let path = e.path();
                match e.file_type() {
                    Ok(t) if t.is_dir() => walk(&path, extension),
                    Ok(t) if t.is_file() => usize::from(path.extension().is_some_and(|x| x == extension)),
                    _ => 0,
                }
            })
            .sum()
    }
    walk(&root.join(sub), extension)
}

/// `ruledex technique ARGS... --all --json` on the shared catalog: every page, as one listing.
pub fn technique_json(args: &[&str]) -> Value {
    let mut all = vec!["technique"];
    all.extend_from_slice(args);
    all.extend(["--all", "--json"]);
    shared_catalog().run(&all).ok().json()
}

/// The `detections` array of a JSON listing.
pub fn detections(value: &Value) -> &Vec<Value> {
    value["detections"].as_array().expect("detections array")
}

pub fn field<'a>(detection: &'a Value, key: &str) -> &'a str {
    detection[key].as_str().unwrap_or_default()
}

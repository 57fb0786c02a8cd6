//! The platforms' own parsers as tests use them: the commands in scripts/oracles, each reading
//! `{"id", "text"}` JSON lines and answering one JSON line per input, in order.
//!
//! - [`Oracle::kusto`]: Microsoft's Kusto parser (npm `@kusto/language-service-next`, by node),
//!   answering `{"id", "diagnostics": [{"severity", "code", "message", "start", "end"}]}`.
//! - [`Oracle::eql`]: Elastic's `eql` package, answering `{"id", "errors", "parsed"}`.
//! - [`Oracle::sigma`]: pySigma and its Splunk, Lucene and Kusto backends, answering
//!   `{"id", "errors", "queries": {"splunk": [...] | {"error"}, ...}}`.
//!
//! scripts/test.sh installs them (node packages under target/tools/node, Python ones in
//! target/tools/oracles) and names them in `RULEDEX_NODE_TOOLS` and `RULEDEX_ORACLE_PYTHON`;
//! without those, the folders under the workspace's `target/tools` are used. A missing tool fails
//! the test, saying how to install it. Another crate's tests can use this module with
//! `#[path = "../../ruledex-core/tests/oracle/mod.rs"] mod oracle;`.
//!
//! An oracle answers the same text the same way, so its answers are kept (in cargo's scratch
//! folder for integration tests, `target/tmp/oracle-answers`) under a hash of the text, the
//! oracle's script, its pinned packages and the versions it reports: a later run asks it only
//! about texts it has not answered, and nothing it answered before another version or script.

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use xxhash_rust::xxh3::Xxh3;

/// One of the oracle commands: `program script args...`.
pub struct Oracle {
    name: &'static str,
    program: PathBuf,
    script: PathBuf,
    args: &'static [&'static str],
    /// The arguments with which the script names the versions it runs.
    version_args: &'static [&'static str],
    /// The file that pins its packages.
    pins: PathBuf,
    environment: Vec<(&'static str, PathBuf)>,
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tools(variable: &str, default: &str) -> PathBuf {
    std::env::var_os(variable).filter(|v| !v.is_empty()).map_or_else(|| workspace().join(default), PathBuf::from)
}

impl Oracle {
    /// Microsoft's Kusto parser: syntax diagnostics of each query.
    pub fn kusto() -> Oracle {
        let node_modules = tools("RULEDEX_NODE_TOOLS", "target/tools/node").join("node_modules");
        Oracle {
            name: "kusto",
            program: "node".into(),
            script: workspace().join("scripts/oracles/kusto.js"),
            args: &[],
            version_args: &["--version"],
            pins: workspace().join("scripts/oracles/package.json"),
            environment: vec![("NODE_PATH", node_modules)],
        }
    }

    /// Elastic's EQL parser.
    pub fn eql() -> Oracle {
        Oracle::python("eql", &["eql"])
    }

    /// pySigma, reading each rule and converting it with three backends.
    pub fn sigma() -> Oracle {
        Oracle::python("sigma", &["sigma"])
    }

    fn python(name: &'static str, args: &'static [&'static str]) -> Oracle {
        Oracle {
            name,
            program: tools("RULEDEX_ORACLE_PYTHON", "target/tools/oracles/bin/python"),
            script: workspace().join("scripts/oracles/queries.py"),
            args,
            version_args: &["versions"],
            pins: workspace().join("scripts/oracles/requirements.txt"),
            environment: vec![],
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.program);
        command.arg(&self.script).args(args).envs(self.environment.iter().map(|(k, v)| (k, v)));
        command
    }

    /// The oracle's answer to each text, by id (ids must be unique). A text given under several
    /// ids, or answered by the same oracle before, is not sent again.
    pub fn check<'a>(self, items: impl IntoIterator<Item = (String, &'a str)>) -> HashMap<String, Value> {
        let mut ids_of: HashMap<&str, Vec<String>> = HashMap::new();
        for (id, text) in items {
            ids_of.entry(text).or_default().push(id);
        }
        let mut kept = KeptAnswers::open(&self);
        let unanswered: Vec<(String, &str)> = ids_of
            .keys()
            .filter(|text| kept.get(text).is_none())
            .enumerate()
            .map(|(n, t)| (n.to_string(), *t))
            .collect();
        if !unanswered.is_empty() {
            let mut answers = self.run(&unanswered);
            for (n, text) in &unanswered {
                let mut answer = answers.remove(n).expect("an answer to each text");
                answer.as_object_mut().expect("a JSON object").remove("id");
                kept.insert(text, answer);
            }
        }
        let mut by_id = HashMap::new();
        for (text, ids) in &ids_of {
            let answer = kept.get(text).expect("every text answered");
            for id in ids {
                by_id.insert(id.clone(), answer.clone());
            }
        }
        kept.save(ids_of.keys().copied());
        by_id
    }

    fn cannot_run(&self, error: &std::io::Error) -> ! {
        let (program, script) = (self.program.display(), self.script.display());
        panic!(
            "{}: cannot run {program} {script} ({error}); scripts/test.sh installs node, Python and the packages",
            self.name
        )
    }

    fn run(&self, items: &[(String, &str)]) -> HashMap<String, Value> {
        let spawned = self.command(self.args).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn();
        let mut child = spawned.unwrap_or_else(|e| self.cannot_run(&e));
        let mut stdin = child.stdin.take().expect("piped stdin");
        let lines: Vec<String> = items.iter().map(|(id, text)| json!({"id": id, "text": text}).to_string()).collect();
        let writer = std::thread::spawn(move || {
            for line in lines {
                writeln!(stdin, "{line}").expect("the oracle reads its input");
            }
        });
        let mut answers = HashMap::new();
        for line in BufReader::new(child.stdout.take().expect("piped stdout")).lines() {
            let answer: Value = serde_json::from_str(&line.expect("the oracle's output")).expect("a JSON line");
            let id = answer["id"].as_str().expect("the id sent").to_string();
            answers.insert(id, answer);
        }
        writer.join().expect("input written");
        let status = child.wait().expect("the oracle ends");
        assert!(status.success(), "{} failed ({status}); see its message above", self.name);
        assert_eq!(answers.len(), items.len(), "{} answered {} of {}", self.name, answers.len(), items.len());
        answers
    }
}

/// The answers an oracle gave before, by the hash of what decides them.
struct KeptAnswers {
    path: PathBuf,
    /// The hash of the script, its pins and the versions it reports.
    oracle: Xxh3,
    answers: HashMap<u128, Value>,
}

impl KeptAnswers {
    fn open(oracle: &Oracle) -> KeptAnswers {
        let versions = oracle.command(oracle.version_args).output().unwrap_or_else(|e| oracle.cannot_run(&e));
        assert!(versions.status.success(), "{}: cannot name its versions: {versions:?}", oracle.name);
        let mut hasher = Xxh3::new();
        for part in
            [fs::read(&oracle.script).expect("the script"), fs::read(&oracle.pins).expect("its pins"), versions.stdout]
        {
            hasher.update(&part.len().to_le_bytes());
            hasher.update(&part);
        }
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("oracle-answers").join(format!("{}.jsonl", oracle.name));
        // A missing or unreadable file only means asking again.
        let answers = fs::read_to_string(&path)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str::<(String, Value)>(line).ok())
            .filter_map(|(key, answer)| Some((u128::from_str_radix(&key, 16).ok()?, answer)))
            .collect();
        KeptAnswers { path, oracle: hasher, answers }
    }

    fn key(&self, text: &str) -> u128 {
        let mut hasher = self.oracle.clone();
        hasher.update(text.as_bytes());
        hasher.digest128()
    }

    fn get(&self, text: &str) -> Option<&Value> {
        self.answers.get(&self.key(text))
    }

    fn insert(&mut self, text: &str, answer: Value) {
        let key = self.key(text);
        self.answers.insert(key, answer);
    }

    /// Keeps the answers to these texts (those of this check: the file does not grow with every
    /// change), written whole and then renamed, so a reader never sees half of it.
    fn save<'a>(&self, texts: impl Iterator<Item = &'a str>) {
        let mut lines = String::new();
        for text in texts {
            let key = self.key(text);
            lines += &json!([format!("{key:032x}"), self.answers[&key]]).to_string();
            lines.push('\n');
        }
        let folder = self.path.parent().expect("a folder");
        fs::create_dir_all(folder).expect("target/tmp is writable");
        let mut file = tempfile::NamedTempFile::new_in(folder).expect("a temporary file");
        file.write_all(lines.as_bytes()).expect("answers written");
        file.persist(&self.path).expect("answers kept");
    }
}

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

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

/// One of the oracle commands.
pub struct Oracle {
    name: &'static str,
    command: Command,
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
        let node_tools = tools("RULEDEX_NODE_TOOLS", "target/tools/node");
        let mut command = Command::new("node");
        command.arg(workspace().join("scripts/oracles/kusto.js")).env("NODE_PATH", node_tools.join("node_modules"));
        Oracle { name: "kusto (node scripts/oracles/kusto.js)", command }
    }

    /// Elastic's EQL parser.
    pub fn eql() -> Oracle {
        Oracle::python("eql")
    }

    /// pySigma, reading each rule and converting it with three backends.
    pub fn sigma() -> Oracle {
        Oracle::python("sigma")
    }

    fn python(check: &'static str) -> Oracle {
        let python = tools("RULEDEX_ORACLE_PYTHON", "target/tools/oracles/bin/python");
        let mut command = Command::new(python);
        command.arg(workspace().join("scripts/oracles/queries.py")).arg(check);
        Oracle { name: check, command }
    }

    /// The oracle's answer to each text, by id (ids must be unique). A text given under several
    /// ids is sent once: the oracles answer the same text the same way.
    pub fn check<'a>(self, items: impl IntoIterator<Item = (String, &'a str)>) -> HashMap<String, Value> {
        let mut ids_of: HashMap<&str, Vec<String>> = HashMap::new();
        for (id, text) in items {
            ids_of.entry(text).or_default().push(id);
        }
        let distinct: Vec<(String, &str)> = ids_of.keys().enumerate().map(|(n, text)| (n.to_string(), *text)).collect();
        let answers = self.run(&distinct);
        let mut by_id = HashMap::new();
        for (n, text) in &distinct {
            for id in &ids_of[text] {
                by_id.insert(id.clone(), answers[n].clone());
            }
        }
        by_id
    }

    fn run(mut self, items: &[(String, &str)]) -> HashMap<String, Value> {
        let mut child = self.command.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap_or_else(|e| {
            panic!("{}: cannot run it ({e}); scripts/test.sh installs node, Python and the packages", self.name)
        });
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

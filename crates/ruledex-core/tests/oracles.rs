//! The queries ruledex shows and exports, checked by the platforms' own parsers against the same
//! rules read straight from upstream (issue 23): Microsoft's Kusto parser, Elastic's `eql` and
//! pySigma with its Splunk, Lucene and Kusto backends (scripts/oracles; see tests/oracle). A rule
//! upstream already broke is upstream's; a test fails only where ruledex's text fares worse than
//! upstream's, which is damage ruledex caused. Each prints its pass rates.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use ruledex_core::export::{ExportContext, PlatformFormat};
use ruledex_core::ingest::{IngestedSource, ingest};
use ruledex_core::model::{Detection, Language, SourceKind};
use ruledex_core::sources::Format;
use serde_json::{Map, Value};

use crate::common::{enterprise_attack, shared, spec};
use crate::oracle::Oracle;

fn read(name: &str, format: Format, kind: SourceKind, path: &str) -> (PathBuf, IngestedSource) {
    let root = shared().join(path);
    let source =
        ingest(&spec(name, format, kind, &root), enterprise_attack(), &|_| {}).expect("the corpus in ../shared");
    assert!(!source.detections.is_empty(), "{name}: no detections");
    (root, source)
}

fn upstream_file(root: &Path, detection: &Detection) -> String {
    std::fs::read_to_string(root.join(&detection.rule.path)).expect("the upstream file")
}

/// What ruledex gives users to paste: the paste-ready query where there is one.
fn pasted(detection: &Detection) -> &str {
    detection.rule.paste_ready_query.as_deref().unwrap_or(&detection.rule.query)
}

/// Each query ruledex shows and copies on its own.
fn shown_queries(detection: &Detection) -> Vec<String> {
    detection.rule.runnable_queries().into_iter().map(|q| q.text).collect()
}

/// Pass rates of one check: how many of ruledex's texts the oracle accepts, how many fail as
/// upstream's own text does, and which fare worse than upstream's (ruledex's damage).
#[derive(Default)]
struct Tally {
    checked: usize,
    clean: usize,
    upstream_failures: usize,
    damaged: Vec<String>,
}

impl Tally {
    fn add(&mut self, what: String, ours_clean: bool, same_as_upstream: bool) {
        self.checked += 1;
        match (ours_clean, same_as_upstream) {
            (true, _) => self.clean += 1,
            (false, true) => self.upstream_failures += 1,
            (false, false) => self.damaged.push(what),
        }
    }

    #[track_caller]
    fn report(&self, check: &str) {
        let rate = |n: usize| 100.0 * n as f64 / self.checked.max(1) as f64;
        eprintln!(
            "{check}: {} checked, {} pass ({:.1}%), {} fail as upstream's own text does ({:.1}%), {} damaged by ruledex",
            self.checked,
            self.clean,
            rate(self.clean),
            self.upstream_failures,
            rate(self.upstream_failures),
            self.damaged.len()
        );
        assert!(self.checked > 0, "{check}: nothing checked");
        assert!(self.damaged.is_empty(), "{check}: ruledex damaged {:#?}", self.damaged);
    }
}

/// The error codes Kusto's parser reports for a query, in order: what two texts are compared by.
fn kusto_errors(answer: &Value) -> Vec<String> {
    answer["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["severity"] == "Error")
        .map(|d| d["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The fenced code blocks of a Markdown file, trimmed: where its queries are.
fn fenced_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, Vec<&str>)> = None;
    for line in markdown.lines() {
        let fence: String = line.trim_start().chars().take_while(|c| *c == '`' || *c == '~').collect();
        match &mut open {
            Some((opening, body)) if fence.len() >= opening.len() && line.trim() == fence => {
                blocks.push(body.join("\n").trim().to_string());
                open = None;
            }
            Some((_, body)) => body.push(line),
            None if fence.len() >= 3 => open = Some((fence, Vec::new())),
            None => {}
        }
    }
    blocks
}

/// The `query` of a Sentinel YAML file, read with a YAML parser of the test's own.
fn sentinel_query(text: &str) -> Option<String> {
    let rule: Map<String, Value> = serde_saphyr::from_str(text).ok()?;
    rule.get("query")?.as_str().map(|q| q.trim().to_string())
}

/// Every Kusto query ruledex shows (Sentinel analytic rules and hunting queries, community KQL)
/// and every one its Sentinel ARM export deploys parses as upstream's text of the same rule does.
#[test]
fn kusto_queries_parse_as_upstreams_do() {
    let sources = [
        read("sentinel", Format::Sentinel, SourceKind::Vendor, "corpus-extra/azure-sentinel"),
        read("breadth", Format::Sentinel, SourceKind::Vendor, "corpus-extra/azure-sentinel-breadth"),
        read("kql", Format::KqlMarkdown, SourceKind::Community, "corpus/kql-bertjanp"),
    ];
    // Each text once: ruledex's and upstream's are often the same string.
    let mut texts: BTreeMap<String, String> = BTreeMap::new();
    let mut id_of = |text: &str| -> String {
        let next = format!("q{}", texts.len());
        texts.entry(text.to_string()).or_insert(next).clone()
    };
    // (what, ruledex's text id, upstream's candidates' ids)
    let mut pairs: Vec<(String, String, Vec<String>)> = Vec::new();
    for (root, source) in &sources {
        for detection in source.detections.iter().filter(|d| d.rule.language == Some(Language::Kusto)) {
            let file = upstream_file(root, detection);
            let upstream: Vec<String> = match detection.format {
                Format::Sentinel => sentinel_query(&file).into_iter().collect(),
                _ => fenced_blocks(&file),
            };
            let candidates = upstream.iter().map(|q| id_of(q)).collect();
            pairs.push((detection.address(), id_of(pasted(detection)), candidates));
        }
        let accepted: Vec<&Detection> =
            source.detections.iter().filter(|d| PlatformFormat::SentinelArm.writer().accepts(d).is_ok()).collect();
        if accepted.is_empty() {
            continue;
        }
        let export =
            PlatformFormat::SentinelArm.writer().write(&accepted, &ExportContext::default()).expect("an export");
        let template: Value = serde_json::from_slice(&export.files[0].bytes).expect("a JSON template");
        let by_address: HashMap<String, &Detection> = accepted.iter().map(|d| (d.address(), *d)).collect();
        for (resource, address) in template["resources"].as_array().expect("resources").iter().zip(&export.included) {
            let deployed = resource["properties"]["query"].as_str().expect("a query");
            let upstream = sentinel_query(&upstream_file(root, by_address[address]));
            let candidates = upstream.iter().map(|q| id_of(q)).collect();
            pairs.push((format!("{address} (ARM export)"), id_of(deployed), candidates));
        }
    }
    let answers = Oracle::kusto().check(texts.iter().map(|(text, id)| (id.clone(), text.as_str())));
    let mut tally = Tally::default();
    let mut exported = Tally::default();
    for (what, ours, candidates) in &pairs {
        let errors = kusto_errors(&answers[ours]);
        // A query must be upstream's own text or parse as well as it; with several blocks in a
        // file, the one it came from.
        let as_upstream = candidates.iter().any(|c| c == ours || kusto_errors(&answers[c]) == errors);
        let tally = if what.ends_with("(ARM export)") { &mut exported } else { &mut tally };
        tally.add(what.clone(), errors.is_empty(), as_upstream && !candidates.is_empty());
    }
    tally.report("Kusto, queries shown (Sentinel, Sentinel breadth, community KQL)");
    exported.report("Kusto, Sentinel ARM export");
}

/// The queries of an upstream Elastic TOML file (`[rule] query`, or the list of `[hunt] query`),
/// read with a TOML parser of the test's own.
fn elastic_queries(text: &str) -> Vec<String> {
    let file: toml::Table = toml::from_str(text).expect("upstream TOML");
    let query = file.get("rule").or_else(|| file.get("hunt")).and_then(|table| table.get("query"));
    match query {
        Some(toml::Value::String(one)) => vec![one.trim().to_string()],
        Some(toml::Value::Array(list)) => {
            list.iter().filter_map(|q| q.as_str()).map(|q| q.trim().to_string()).collect()
        }
        _ => vec![],
    }
}

/// Every EQL query ruledex shows and writes into Kibana's rule import parses with Elastic's own
/// parser to what upstream's text of the same rule parses to.
#[test]
fn eql_queries_parse_as_upstreams_do() {
    let (root, source) = read("elastic", Format::Elastic, SourceKind::Vendor, "corpus/elastic-detection-rules");
    let eql: Vec<&Detection> = source.detections.iter().filter(|d| d.rule.language == Some(Language::Eql)).collect();
    let export = PlatformFormat::KibanaNdjson.writer().write(&eql, &ExportContext::default()).expect("an export");
    let ndjson = std::str::from_utf8(&export.files[0].bytes).expect("UTF-8");
    let exported: HashMap<&str, String> = export
        .included
        .iter()
        .map(String::as_str)
        .zip(ndjson.lines().map(|line| {
            let rule: Value = serde_json::from_str(line).expect("a JSON line");
            rule["query"].as_str().expect("a query").to_string()
        }))
        .collect();
    // (what, ruledex's text, upstream's text): each query of a rule on its own.
    let mut pairs: Vec<(String, String, String)> = Vec::new();
    for detection in &eql {
        let upstream = elastic_queries(&upstream_file(&root, detection));
        let shown = shown_queries(detection);
        assert_eq!(shown.len(), upstream.len(), "{}: one query shown per upstream query", detection.address());
        for (n, (ours, theirs)) in shown.iter().zip(&upstream).enumerate() {
            pairs.push((format!("{} query {} (shown)", detection.address(), n + 1), ours.clone(), theirs.clone()));
        }
        if let Some(written) = exported.get(detection.address().as_str()) {
            let [theirs] = upstream.as_slice() else { panic!("{}: a Kibana rule has one query", detection.address()) };
            pairs.push((format!("{} (exported)", detection.address()), written.clone(), theirs.clone()));
        }
    }
    let items = pairs.iter().enumerate().flat_map(|(i, (_, ours, theirs))| {
        [(format!("{i}/ours"), ours.as_str()), (format!("{i}/upstream"), theirs.as_str())]
    });
    let answers = Oracle::eql().check(items);
    let (mut shown, mut written) = (Tally::default(), Tally::default());
    for (i, (what, _, _)) in pairs.iter().enumerate() {
        let (ours, upstream) = (&answers[&format!("{i}/ours")], &answers[&format!("{i}/upstream")]);
        let clean = ours["errors"].as_array().is_some_and(Vec::is_empty);
        // Upstream's rule and ruledex's parse to the same query, or fail alike.
        let same = ours["parsed"] == upstream["parsed"] && ours["errors"] == upstream["errors"];
        let tally = if what.ends_with("(exported)") { &mut written } else { &mut shown };
        tally.add(what.clone(), clean && same, same);
    }
    shown.report("EQL, queries shown (Elastic)");
    written.report("EQL, Kibana NDJSON export");
}

/// Every Sigma rule ruledex shows and exports reads in pySigma and converts, with its Splunk,
/// Lucene and Kusto backends, to what upstream's file converts to.
#[test]
fn sigma_rules_convert_as_upstreams_do() {
    let (root, source) = read("sigma", Format::Sigma, SourceKind::Community, "corpus/sigma");
    let detections: Vec<&Detection> = source.detections.iter().collect();
    let export = PlatformFormat::Sigma.writer().write(&detections, &ExportContext::default()).expect("an export");
    let mut items: Vec<(String, &str)> = Vec::new();
    let upstream: Vec<String> = detections.iter().map(|d| upstream_file(&root, d)).collect();
    let by_address: HashMap<String, usize> = detections.iter().enumerate().map(|(i, d)| (d.address(), i)).collect();
    for (i, detection) in detections.iter().enumerate() {
        items.push((format!("{i}/upstream"), upstream[i].as_str()));
        items.push((format!("{i}/shown"), pasted(detection)));
    }
    for (file, address) in export.files.iter().zip(&export.included) {
        let text = std::str::from_utf8(&file.bytes).expect("UTF-8");
        items.push((format!("{}/exported", by_address[address]), text));
    }
    assert_eq!(export.included.len(), detections.len(), "every Sigma rule exported: {:?}", export.skipped);
    let answers = Oracle::sigma().check(items);
    let (mut shown, mut written) = (Tally::default(), Tally::default());
    for (i, detection) in detections.iter().enumerate() {
        let upstream = &answers[&format!("{i}/upstream")];
        for (kind, tally) in [("shown", &mut shown), ("exported", &mut written)] {
            let ours = &answers[&format!("{i}/{kind}")];
            let converted =
                ours["queries"].as_object().is_some_and(|q| !q.is_empty() && q.values().all(Value::is_array));
            let clean = converted && ours["errors"].as_array().is_some_and(Vec::is_empty);
            let same = ours["queries"] == upstream["queries"] && ours["errors"] == upstream["errors"];
            tally.add(format!("{} ({kind})", detection.address()), clean && same, same);
        }
    }
    for backend in ["splunk", "lucene", "kusto"] {
        let converted = (0..detections.len()).filter(|i| answers[&format!("{i}/shown")]["queries"][backend].is_array());
        eprintln!("Sigma, {backend} backend: {} of {} rules shown convert", converted.count(), detections.len());
    }
    shown.report("Sigma, rules shown (pySigma: Splunk, Lucene and Kusto backends all convert)");
    written.report("Sigma, Sigma export");
}

/// Issue 23, item 1: Elastic hunts list several queries, which ruledex joined into one text that
/// Kibana cannot run (a second `from` is invalid). Each is now a query of its own, in its own
/// language, as upstream lists them.
#[test]
fn elastic_hunts_carry_each_upstream_query_on_its_own() {
    let (root, source) = read("elastic", Format::Elastic, SourceKind::Vendor, "corpus/elastic-detection-rules");
    let hunts: Vec<&Detection> = source.detections.iter().filter(|d| d.rule.path.starts_with("hunting/")).collect();
    let mut several = 0;
    for hunt in &hunts {
        let upstream = elastic_queries(&upstream_file(&root, hunt));
        let queries = hunt.rule.runnable_queries();
        let texts: Vec<&str> = queries.iter().map(|q| q.text.as_str()).collect();
        assert_eq!(texts, upstream, "{}", hunt.address());
        several += usize::from(upstream.len() > 1);
        for query in &queries {
            // An ES|QL query has one source command, after at most a stray fence label line.
            let commands =
                query.text.lines().filter(|l| l.trim_start().to_ascii_lowercase().starts_with("from ")).count();
            match query.language {
                Some(Language::Esql) => assert_eq!(commands, 1, "{}: {}", hunt.address(), query.text),
                Some(Language::Sql) => {
                    assert!(query.text.to_ascii_uppercase().contains("SELECT"), "{}", hunt.address())
                }
                other => assert_eq!(other, hunt.rule.language, "{}", hunt.address()),
            }
        }
    }
    eprintln!("Elastic hunts: {} hunts, {several} with several queries, each now shown on its own", hunts.len());
    assert!(several >= 40, "{several}");
}

//! Elastic Defend's endpoint behavior rules, read from the real corpus in
//! ../shared/corpus/elastic-protections-artifacts (issue 25).
#![allow(clippy::unwrap_used)] // a test panics on data that is not what it expects, by design

use std::collections::BTreeSet;
use std::sync::OnceLock;

use ruledex_core::export::PlatformFormat;
use ruledex_core::ids::TechniqueId;
use ruledex_core::ingest::{IngestedSource, ingest};
use ruledex_core::model::{Detection, Language, RuleType, SourceKind, Status};
use ruledex_core::sources::Format;

use crate::common::{attack, revoked_techniques, shared, spec};

fn endpoint() -> &'static IngestedSource {
    static SOURCE: OnceLock<IngestedSource> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let root = shared().join("corpus/elastic-protections-artifacts");
        let spec = spec("elastic-endpoint", Format::ElasticEndpoint, SourceKind::Vendor, &root);
        ingest(&spec, attack(), &|_| {}).expect("corpus root exists")
    })
}

/// The rule files on disk, by their path below the corpus root.
fn rule_files() -> Vec<(String, String)> {
    let root = shared().join("corpus/elastic-protections-artifacts");
    let mut files: Vec<(String, String)> = walkdir::WalkDir::new(root.join("behavior/rules"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "toml"))
        .map(|e| {
            let path = e.path().strip_prefix(&root).unwrap().to_string_lossy().into_owned();
            (path, std::fs::read_to_string(e.path()).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_behavior_rule_is_read_as_an_endpoint_eql_detection() {
    let source = endpoint();
    assert_eq!(source.report.failures.len(), 0, "{:#?}", source.report.failures);
    assert_eq!((source.report.files, source.report.files_parsed), (1314, 1314));
    assert_eq!(source.detections.len(), 1314);
    assert_eq!(source.report.files, rule_files().len());
    for d in &source.detections {
        let r = &d.rule;
        assert_eq!((r.vendor.as_str(), r.product.as_str()), ("Elastic", "Elastic Defend"), "{}", d.address());
        assert_eq!((r.language, r.rule_type), (Some(Language::Eql), Some(RuleType::Endpoint)), "{}", d.address());
        assert_eq!(r.status, Some(Status::Production));
        assert!(r.min_agent_version.is_some() && r.version.is_some(), "{}", d.address());
        assert_eq!(d.effective_license.as_deref(), Some("Elastic License v2"), "{}", d.address());
        assert!(
            !r.platforms.is_empty() && r.platforms.iter().all(|p| ["Windows", "macOS", "Linux"].contains(&p.as_str()))
        );
    }
    let count = |os: &str| source.detections.iter().filter(|d| d.rule.platforms == [os]).count();
    assert_eq!((count("Windows"), count("macOS"), count("Linux")), (773, 277, 233));
    let responding = |d: &&Detection| d.rule.response_actions.iter().any(|a| !a.optional);
    assert_eq!(source.detections.iter().filter(responding).count(), 1304, "all but ten (`actions = []`)");
    assert!(source.detections.iter().all(|d| !d.rule.response_actions.is_empty()), "the ten offer a rollback");
    let kills_parent = source.detections.iter().flat_map(|d| &d.rule.response_actions);
    assert!(kills_parent.clone().any(|a| a.action == "kill_process" && a.field == "process.parent.entity_id"));
    assert!(kills_parent.clone().any(|a| a.action == "rollback" && a.optional));
    assert!(kills_parent.clone().any(|a| a.tree));
    // The agent runs them; Kibana imports only SIEM rules, and no other format takes them.
    assert!(PlatformFormat::for_source(Format::ElasticEndpoint).is_empty());
    let refusal = PlatformFormat::KibanaNdjson.writer().accepts(&source.detections[0]).unwrap_err();
    assert!(refusal.starts_with("an Elastic Defend endpoint rule"), "{refusal}");
}

/// The queries are the agent's EQL byte for byte: what the TOML string holds.
#[test]
fn queries_are_kept_exactly_as_shipped() {
    let source = endpoint();
    for (path, text) in rule_files() {
        let table: toml::Table = toml::from_str(&text).unwrap();
        let shipped = table["rule"]["query"].as_str().unwrap();
        let detection = source.detections.iter().find(|d| d.rule.path == path).unwrap();
        assert_eq!(detection.rule.query, shipped, "{path}");
    }
}

/// Each detection's techniques are those its file's `[[threat]]` blocks name, each technique at
/// its most specific (a sub-technique listed under its parent stands for it), revoked IDs
/// followed to their replacements (as the ATT&CK bundle's `revoked-by` relationships say).
/// Issue 25 asks for the disagreements to be counted: 0.
#[test]
fn technique_sets_equal_the_threat_blocks() {
    let source = endpoint();
    let mut disagreements = Vec::new();
    let (mut named, mut listed) = (BTreeSet::new(), BTreeSet::new());
    for (path, text) in rule_files() {
        let table: toml::Table = toml::from_str(&text).unwrap();
        let mut expected = BTreeSet::new();
        for threat in table.get("threat").and_then(|t| t.as_array()).into_iter().flatten() {
            for technique in threat.get("technique").and_then(|t| t.as_array()).into_iter().flatten() {
                let subs: Vec<&str> = technique
                    .get("subtechnique")
                    .and_then(|s| s.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s["id"].as_str())
                    .collect();
                let parent = technique["id"].as_str().unwrap();
                named.extend(subs.iter().chain([&parent]).map(|id| id.to_string()));
                for id in if subs.is_empty() { vec![parent] } else { subs } {
                    expected.insert(revoked_techniques().get(id).map_or(id, String::as_str).parse().unwrap());
                }
            }
        }
        let detection = source.detections.iter().find(|d| d.rule.path == path).unwrap();
        let found: BTreeSet<TechniqueId> = detection.techniques.iter().map(|m| m.id).collect();
        listed.extend(found.iter().flat_map(|id| [id.to_string(), id.parent().to_string()]));
        if found != expected {
            disagreements.push(format!("{path}: file {expected:?}, detection {found:?}"));
        }
    }
    assert_eq!(disagreements.len(), 0, "{disagreements:#?}");
    // Every one of the 241 techniques and sub-techniques the files name is listed, itself or
    // through a sub-technique (none is revoked in ATT&CK v18.1).
    assert_eq!((named.len(), listed), (241, named));
}

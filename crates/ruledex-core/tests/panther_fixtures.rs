//! Ingest of the hand-written Panther source in tests/fixtures/panther: what reads, and each
//! broken file reported with its path and reason while the rest loads.

use std::fs;
use std::path::{Path, PathBuf};

use ruledex_core::attack::{AttackCatalog, Domain};
use ruledex_core::ingest::{IngestedSource, ReadLimits, SourceSpec, ingest};
use ruledex_core::model::{Dependency, DependencyKind, Detection, Language, RuleType, SourceKind, Status};
use ruledex_core::sources::Format;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn load(root: &Path) -> IngestedSource {
    let mut attack = AttackCatalog::default();
    let bundle = fs::read(fixtures().join("attack/mini-enterprise.json")).expect("mini ATT&CK bundle");
    attack.add_bundle(Domain::Enterprise, &bundle).expect("valid bundle");
    let spec = SourceSpec {
        name: "panther".into(),
        format: Format::Panther,
        kind: SourceKind::Vendor,
        root: root.to_path_buf(),
        license: None,
        repository: None,
        commit: None,
        limits: ReadLimits::default(),
    };
    ingest(&spec, &attack, &|_| {}).expect("source root exists")
}

fn detection<'a>(source: &'a IngestedSource, native_id: &str) -> &'a Detection {
    source.detections.iter().find(|d| d.rule.native_id == native_id).unwrap_or_else(|| panic!("{native_id} loads"))
}

fn requires(detection: &Detection, kind: DependencyKind) -> Vec<&str> {
    detection.rule.requires.iter().filter(|d| d.kind == kind).map(|d| d.name.as_str()).collect()
}

#[test]
fn each_broken_file_is_reported_with_its_reason_and_the_rest_loads() {
    let source = load(&fixtures().join("panther"));
    let report = &source.report;
    let mut all: Vec<(&str, &str)> = report.failures.iter().map(|f| (f.path.as_str(), f.reason.as_str())).collect();
    all.sort();
    let invalid_yaml = all.iter().position(|(path, _)| *path == "rules/bad_rules/broken_yaml.yml").expect("reported");
    assert!(all.remove(invalid_yaml).1.starts_with("invalid YAML: "));
    assert_eq!(
        all,
        vec![
            (
                "queries/fixture_queries/no_sql_query.yml",
                "missing `Query` (or the older `SnowflakeQuery`, `AthenaQuery`)"
            ),
            (
                "queries/fixture_queries/unknown_query.yml",
                "scheduled query \"Fixture Query Nobody Wrote\" is not defined by any file under queries/"
            ),
            (
                "rules/bad_rules/absolute_path.yml",
                "`Filename` \"/etc/passwd\" is not a file in the rule's folder; only a file beside the rule is read"
            ),
            (
                "rules/bad_rules/broken_test.yml",
                "test \"Undecided\": `ExpectedResult` must be true or false, not \"maybe\""
            ),
            (
                "rules/bad_rules/escapes_folder.yml",
                "`Filename` \"../fixture_rules/tor_exit_node.py\" is not a file in the rule's folder; \
                 only a file beside the rule is read"
            ),
            (
                "rules/bad_rules/missing_python.yml",
                "`Filename` \"not_here.py\": no Python file rules/bad_rules/not_here.py beside the rule"
            ),
            (
                "rules/bad_rules/not_a_detection.yml",
                "`AnalysisType: policy` is not a detection (ruledex reads rule, scheduled_rule and correlation_rule)"
            ),
        ]
    );
    // Rule files are the YAML under rules/, queries/ and correlation_rules/; policies/ and the
    // helpers' YAML are outside the patterns.
    assert_eq!((report.files, report.files_parsed), (13, 5));
    let mut ids: Vec<&str> = source.detections.iter().map(|d| d.rule.native_id.as_str()).collect();
    ids.sort();
    assert_eq!(
        ids,
        vec![
            "Fixture.Broken.Test",
            "Fixture.Many.Tor.Connections",
            "Fixture.Old.Rule",
            "Fixture.Tor.ExitNode",
            "Fixture.Tor.Then.Old"
        ]
    );
    assert_eq!(detection(&source, "Fixture.Broken.Test").rule.tests.len(), 1, "the good test of a rule stays");
    let assets: Vec<&str> = source.assets.iter().map(|a| a.path.as_str()).collect();
    assert_eq!(
        assets,
        vec![
            "global_helpers/panther_base_helpers.py",
            "global_helpers/panther_fixture_helpers.py",
            "queries/fixture_queries/Many_Tor_Connections.yml",
            "queries/fixture_queries/many_tor_connections_query.yml",
            "queries/fixture_queries/no_sql_query.yml",
            "queries/fixture_queries/unknown_query.yml",
        ],
        "the helpers and the saved queries, which a panther export writes"
    );
}

#[test]
fn streaming_rules_carry_python_helpers_attack_and_tests() {
    let source = load(&fixtures().join("panther"));
    let tor = detection(&source, "Fixture.Tor.ExitNode");
    assert_eq!(tor.rule.language, Some(Language::Python));
    assert!(tor.rule.query.starts_with("from panther_base_helpers import deep_get\n"));
    assert_eq!(requires(tor, DependencyKind::Helper), vec!["panther_base_helpers", "panther_fixture_helpers"]);
    assert_eq!(tor.techniques.iter().map(|m| m.id.to_string()).collect::<Vec<_>>(), vec!["T1090.003"]);
    assert_eq!(tor.tactics.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), vec!["Command and Control"]);
    assert_eq!(tor.rule.tests.len(), 2);
    let allowed = &tor.rule.tests[1];
    assert_eq!((allowed.name.as_str(), allowed.expected), ("Allowed host", false));
    assert_eq!(allowed.input, "{\n  \"dst\": {\n    \"port\": 9030\n  }\n}");
    assert_eq!(allowed.mocks.get("IS_ALLOWED"), Some(&serde_json::Value::Bool(true)));
    let old = detection(&source, "Fixture.Old.Rule");
    assert!(old.deprecated);
    assert_eq!(old.rule.status_native.as_deref(), Some("disabled, listed in deprecated.txt"));
}

#[test]
fn scheduled_and_correlation_rules_carry_sql_and_what_they_correlate() {
    let source = load(&fixtures().join("panther"));
    let scheduled = detection(&source, "Fixture.Many.Tor.Connections");
    assert_eq!(scheduled.rule.language, Some(Language::Sql));
    assert!(scheduled.rule.query.starts_with("SELECT srcAddr, COUNT(*) AS connections\n"));
    assert!(scheduled.rule.query.ends_with("HAVING connections > 10"));
    assert_eq!(
        scheduled.rule.requires,
        vec![
            Dependency { kind: DependencyKind::Helper, name: "panther_base_helpers".into() },
            Dependency { kind: DependencyKind::Helper, name: "panther_fixture_helpers".into() },
            Dependency { kind: DependencyKind::Query, name: "Fixture Many Tor Connections".into() },
        ]
    );
    let notes = scheduled.rule.implementation.as_deref().expect("notes");
    assert!(notes.contains("every 60 minutes, timeout 5 minutes"), "{notes}");
    assert!(notes.contains("queries/fixture_queries/many_tor_connections.py:\n\nfrom panther_base_helpers"), "{notes}");

    let correlation = detection(&source, "Fixture.Tor.Then.Old");
    assert_eq!(
        (correlation.rule.language, correlation.rule.rule_type),
        (Some(Language::PantherYaml), Some(RuleType::Correlation))
    );
    assert_eq!(requires(correlation, DependencyKind::Rule), vec!["Fixture.Tor.ExitNode", "Fixture.Old.Rule"]);
    assert!(correlation.rule.query.starts_with("Detection:\n  - Sequence:\n"));
    assert!(correlation.rule.query.ends_with("TimeoutMinutes: 5"));
    assert_eq!(correlation.rule.status, Some(Status::Production));
    assert!(correlation.rule.tests[0].input.contains("\"2026-01-01T10:30:00Z\""));
}

#[test]
fn python_linked_from_outside_the_root_is_never_read() {
    let outside = tempfile::tempdir().expect("temp dir");
    fs::write(outside.path().join("secret.py"), "SECRET = 1\n").expect("write");
    let root = tempfile::tempdir().expect("temp dir");
    let rules = root.path().join("rules/leak_rules");
    fs::create_dir_all(&rules).expect("mkdir");
    fs::write(rules.join("leak.yml"), "AnalysisType: rule\nRuleID: Leak\nFilename: leak.py\nSeverity: Low\n")
        .expect("write");
    std::os::unix::fs::symlink(outside.path().join("secret.py"), rules.join("leak.py")).expect("symlink");

    let source = load(root.path());
    assert!(source.detections.is_empty());
    let mut failures: Vec<(&str, &str)> =
        source.report.failures.iter().map(|f| (f.path.as_str(), f.reason.as_str())).collect();
    failures.sort();
    assert_eq!(
        failures,
        vec![
            ("rules/leak_rules/leak.py", "symbolic link to a target outside the source root; not followed"),
            (
                "rules/leak_rules/leak.yml",
                "`Filename` \"leak.py\": no Python file rules/leak_rules/leak.py beside the rule"
            ),
        ]
    );
}

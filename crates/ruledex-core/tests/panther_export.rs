//! The `panther` export of the real panther-analysis corpus in ../shared, written to a directory
//! and read back with ruledex's own Panther adapter (the same rules come back: IDs, titles,
//! techniques, queries, tests), then checked by Panther's own tool: `panther_analysis_tool test`
//! validates every file of the directory and runs the unit tests the rules ship.
//!
//! panther_analysis_tool is `pip install panther_analysis_tool` (scripts/test.sh installs it);
//! the test runs the one `PANTHER_ANALYSIS_TOOL` names, else the one on PATH, and is skipped,
//! saying so, when there is none.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use ruledex_core::export::{Export, ExportContext, PlatformFormat};
use ruledex_core::ingest::{IngestedSource, ingest};
use ruledex_core::model::{Detection, SourceKind};
use ruledex_core::sources::Format;

use crate::common::{enterprise_attack, shared, spec};

fn read(root: &Path) -> IngestedSource {
    let spec = spec("panther", Format::Panther, SourceKind::Vendor, root);
    ingest(&spec, enterprise_attack(), &|_| {}).expect("source root exists")
}

fn upstream() -> &'static IngestedSource {
    static SOURCE: OnceLock<IngestedSource> = OnceLock::new();
    SOURCE.get_or_init(|| read(&shared().join("corpus/panther-analysis")))
}

/// The export of `detections`, written into a fresh directory.
fn export_to_dir(detections: &[&Detection]) -> (Export, tempfile::TempDir) {
    let context = ExportContext {
        name: "ruledex-panther".into(),
        assets: BTreeMap::from([("panther".to_string(), upstream().assets.clone())]),
        ..ExportContext::default()
    };
    let export = PlatformFormat::Panther.writer().write(detections, &context).expect("Panther rules to export");
    let dir = tempfile::tempdir().expect("temporary directory");
    for file in &export.files {
        let path = dir.path().join(&file.path);
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("folder");
        assert!(!path.exists(), "{} written twice", file.path);
        std::fs::write(&path, &file.bytes).expect("file written");
    }
    (export, dir)
}

/// What must survive the trip: the rule's identity, ATT&CK, logic and shipped tests.
fn essentials(detection: &Detection) -> String {
    let rule = &detection.rule;
    let techniques: Vec<String> = detection.techniques.iter().map(|t| t.id.to_string()).collect();
    let tests: Vec<String> = rule.tests.iter().map(|t| format!("{}={}:{}", t.name, t.expected, t.input)).collect();
    format!(
        "{} | {} | {} | {:?} | {} | {:?} | {}",
        rule.native_id,
        rule.title,
        techniques.join(","),
        rule.language,
        rule.query,
        rule.requires,
        tests.join(";")
    )
}

fn by_id<'d>(detections: impl IntoIterator<Item = &'d Detection>) -> BTreeMap<String, String> {
    detections.into_iter().map(|d| (d.rule.native_id.clone(), essentials(d))).collect()
}

fn t1090() -> Vec<&'static Detection> {
    let detections: Vec<&Detection> =
        upstream().detections.iter().filter(|d| d.techniques.iter().any(|t| t.id.to_string() == "T1090")).collect();
    let mut ids: Vec<&str> = detections.iter().map(|d| d.rule.native_id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, vec!["AWS.WAF.Managed.IPReputation", "AppOmni.Alert.Passthrough"]);
    detections
}

#[test]
fn t1090_rules_come_back_with_their_python_helpers_and_tests() {
    let detections = t1090();
    let (export, dir) = export_to_dir(&detections);
    assert_eq!(export.included.len(), 2, "skipped: {:?}", export.skipped);
    let mut paths: Vec<&str> = export.files.iter().map(|f| f.path.as_str()).collect();
    paths.sort();
    assert_eq!(
        paths,
        vec![
            "global_helpers/panther_aws_helpers.py",
            "global_helpers/panther_aws_helpers.yml",
            "global_helpers/panther_base_helpers.py",
            "global_helpers/panther_base_helpers.yml",
            "rules/AWS_WAF_Managed_IPReputation/aws_waf_managed_ip_reputation.py",
            "rules/AWS_WAF_Managed_IPReputation/aws_waf_managed_ip_reputation.yml",
            "rules/AppOmni_Alert_Passthrough/appomni_alert_passthrough.py",
            "rules/AppOmni_Alert_Passthrough/appomni_alert_passthrough.yml",
        ]
    );
    let root = shared().join("corpus/panther-analysis");
    for (written, upstream) in [
        (
            "rules/AppOmni_Alert_Passthrough/appomni_alert_passthrough.py",
            "rules/appomni_rules/appomni_alert_passthrough.py",
        ),
        ("global_helpers/panther_aws_helpers.py", "global_helpers/panther_aws_helpers.py"),
    ] {
        let upstream = std::fs::read_to_string(root.join(upstream)).expect("upstream file");
        assert_eq!(std::fs::read_to_string(dir.path().join(written)).expect("written"), upstream, "{written}");
    }
    let back = read(dir.path());
    assert!(back.report.failures.is_empty(), "{:?}", back.report.failures);
    assert!(detections.iter().all(|d| !d.rule.tests.is_empty()), "both rules ship tests");
    assert_eq!(by_id(&back.detections), by_id(detections));
}

#[test]
fn the_whole_source_comes_back_rule_for_rule() {
    let all: Vec<&Detection> = upstream().detections.iter().collect();
    let (export, dir) = export_to_dir(&all);
    assert_eq!(export.included.len(), all.len(), "skipped: {:?}", export.skipped);
    let back = read(dir.path());
    assert!(back.report.failures.is_empty(), "{:?}", &back.report.failures[..back.report.failures.len().min(5)]);
    let (before, after) = (by_id(all), by_id(&back.detections));
    let differing: Vec<&String> = before.keys().filter(|id| before.get(*id) != after.get(*id)).collect();
    assert!(differing.is_empty(), "{} rules differ, first {:?}", differing.len(), differing.first());
    assert_eq!(before.len(), after.len());
    let scheduled = back.detections.iter().filter(|d| d.rule.rule_type_native.as_deref() == Some("scheduled_rule"));
    assert!(scheduled.count() >= 7, "scheduled rules come back with their Python and saved queries");
    eprintln!("panther export: {} rules in {} files", export.included.len(), export.files.len());
}

#[test]
fn rules_of_other_formats_are_skipped_with_the_reason() {
    let mut other = upstream().detections[0].clone();
    other.format = Format::Sigma;
    let panther = t1090();
    let (export, _dir) = export_to_dir(&[panther[0], &other]);
    assert_eq!(export.included.len(), 1);
    assert_eq!(export.skipped[0].reason, "not a Panther rule (it is a sigma rule)");
}

/// Panther's own tool on the T1090 export: every file valid, every shipped test passing.
#[test]
fn panther_analysis_tool_validates_and_passes_the_t1090_export() {
    let program = std::env::var("PANTHER_ANALYSIS_TOOL").unwrap_or_else(|_| "panther_analysis_tool".into());
    if Command::new(&program).arg("--help").output().is_err() {
        eprintln!(
            "SKIPPED: {program} is not installed; run scripts/test.sh, or `pip install panther_analysis_tool`, or set \
             PANTHER_ANALYSIS_TOOL to its path"
        );
        return;
    }
    let (_, dir) = export_to_dir(&t1090());
    let output = Command::new(&program)
        .args(["--skip-version-check", "test", "--path"])
        .arg(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .expect("panther_analysis_tool runs");
    let report = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "panther_analysis_tool test failed:\n{report}");
    for line in ["Passed: 2", "Failed: 0", "Invalid: 0"] {
        assert!(report.contains(line), "no {line:?} in:\n{report}");
    }
}

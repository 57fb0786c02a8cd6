//! Ingest of the real upstream corpora in ../shared (beside the checkout, as in CI).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ruledex_core::attack::{AttackCatalog, Domain};
use ruledex_core::ingest::{DEFAULT_MAX_FILE_BYTES, IngestedSource, SourceSpec, ingest};
use ruledex_core::model::SourceKind;
use ruledex_core::sources::Format;

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

fn attack() -> &'static AttackCatalog {
    static CATALOG: OnceLock<AttackCatalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let dir = shared().join("attack");
        let bundles = [
            (Domain::Enterprise, dir.join("enterprise-attack.json")),
            (Domain::Ics, dir.join("ics-attack.json")),
            (Domain::Mobile, dir.join("mobile-attack.json")),
        ];
        let refs: Vec<(Domain, &Path)> = bundles.iter().map(|(d, p)| (*d, p.as_path())).collect();
        AttackCatalog::load(&refs).expect("ATT&CK bundles in ../shared/attack")
    })
}

fn spec(name: &str, format: Format, dir: &str) -> SourceSpec {
    SourceSpec {
        name: name.into(),
        format,
        kind: SourceKind::Vendor,
        root: shared().join("corpus").join(dir),
        license: None,
        repository: None,
        commit: None,
        max_file_bytes: DEFAULT_MAX_FILE_BYTES,
    }
}

fn load(name: &str, format: Format, dir: &str) -> IngestedSource {
    ingest(&spec(name, format, dir), attack(), &|_| {}).expect("source root exists")
}

fn files_on_disk(root: &Path, sub: &str, ext: &str) -> usize {
    walkdir::WalkDir::new(root.join(sub))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == ext))
        .count()
}

fn assert_parses_at_least_995_permille(source: &IngestedSource) {
    let report = &source.report;
    for failure in &report.failures {
        eprintln!("{}: {}: {}", report.name, failure.path, failure.reason);
    }
    assert!(report.files > 0);
    assert!(
        report.files_parsed * 1000 >= report.files * 995,
        "{}: only {} of {} files parsed",
        report.name,
        report.files_parsed,
        report.files
    );
    let failed_paths: std::collections::HashSet<_> = report.failures.iter().map(|f| &f.path).collect();
    assert_eq!(report.files_parsed + failed_paths.len(), report.files, "every file parsed or listed");
}

#[test]
fn chronicle_corpus_parses_and_counts_match_disk() {
    let source = load("chronicle", Format::Chronicle, "chronicle-detection-rules");
    assert_parses_at_least_995_permille(&source);
    let root = shared().join("corpus/chronicle-detection-rules");
    assert_eq!(source.report.files, files_on_disk(&root, "rules", "yaral"));
}

#[test]
fn splunk_corpus_parses_and_counts_match_disk() {
    let source = load("splunk", Format::SplunkEscu, "splunk-security-content");
    assert_parses_at_least_995_permille(&source);
    let root = shared().join("corpus/splunk-security-content");
    assert_eq!(source.report.files, files_on_disk(&root, "detections", "yml"));
}

#[test]
fn elastic_corpus_parses_and_counts_match_disk() {
    let source = load("elastic", Format::Elastic, "elastic-detection-rules");
    assert_parses_at_least_995_permille(&source);
    let root = shared().join("corpus/elastic-detection-rules");
    let on_disk =
        ["rules", "rules_building_block", "hunting"].iter().map(|d| files_on_disk(&root, d, "toml")).sum::<usize>();
    assert_eq!(source.report.files, on_disk);
}

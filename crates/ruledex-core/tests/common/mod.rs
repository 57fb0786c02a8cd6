//! What the integration tests share: where the real upstream corpora and ATT&CK bundles are.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use jsonschema::Validator;
use ruledex_core::attack::{AttackCatalog, Domain};
use ruledex_core::ingest::{ReadLimits, SourceSpec};
use ruledex_core::model::SourceKind;
use ruledex_core::sources::Format;

/// The upstream corpora and ATT&CK bundles: `RULEDEX_TEST_DATA` when set (scripts/test.sh sets it,
/// to its cache on a machine without ../shared), else ../shared beside the checkout (as in CI).
pub fn shared() -> PathBuf {
    std::env::var_os("RULEDEX_TEST_DATA")
        .filter(|dir| !dir.is_empty())
        .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"), PathBuf::from)
}

/// A local source read with the default limits and no provenance.
pub fn spec(name: &str, format: Format, kind: SourceKind, root: &Path) -> SourceSpec {
    SourceSpec {
        name: name.into(),
        format,
        kind,
        root: root.to_path_buf(),
        license: None,
        repository: None,
        commit: None,
        limits: ReadLimits::default(),
    }
}

/// The three ATT&CK v18.1 bundles of the test data, loaded once per test binary.
#[allow(dead_code)] // not every test binary resolves ATT&CK tags
pub fn attack() -> &'static AttackCatalog {
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

/// The validator of the resources Sentinel's ARM export writes, from Microsoft's published API
/// specs as written down for these tests (tests/fixtures/export/sentinel-arm.schema.json): each
/// resource type matched, then its API version, with the kinds that version lists and the
/// properties it takes (alert rules of the Scheduled and NRT kinds, saved searches); nothing else
/// allowed.
#[allow(dead_code)] // used by the export tests only
pub fn arm_validator() -> Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/export/sentinel-arm.schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let schema: serde_json::Value = serde_json::from_str(&text).expect("the schema is JSON");
    jsonschema::validator_for(&schema).expect("schema builds")
}

/// Asserts that `instance` is valid, listing every error with where it is.
#[allow(dead_code)] // used by the export tests only
#[track_caller]
pub fn assert_valid(validator: &Validator, instance: &serde_json::Value, what: &str) {
    let errors: Vec<String> =
        validator.iter_errors(instance).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}

//! What the integration tests share: where the real upstream corpora and ATT&CK bundles are, and
//! the ATT&CK catalogs read from them, once per test run.

use std::collections::BTreeMap;
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

pub const DOMAINS: [Domain; 3] = [Domain::Enterprise, Domain::Ics, Domain::Mobile];

/// The real ATT&CK v18.1 bundle of a domain.
pub fn bundle(domain: Domain) -> PathBuf {
    shared().join(format!("attack/{}.json", domain.attack_name()))
}

/// The catalog of all three ATT&CK domains.
pub fn attack() -> &'static AttackCatalog {
    static CATALOG: OnceLock<AttackCatalog> = OnceLock::new();
    CATALOG.get_or_init(|| load(&DOMAINS))
}

/// The catalog of ATT&CK Enterprise alone, the domain exports are written against.
pub fn enterprise_attack() -> &'static AttackCatalog {
    static CATALOG: OnceLock<AttackCatalog> = OnceLock::new();
    CATALOG.get_or_init(|| load(&[Domain::Enterprise]))
}

fn load(domains: &[Domain]) -> AttackCatalog {
    let paths: Vec<(Domain, PathBuf)> = domains.iter().map(|d| (*d, bundle(*d))).collect();
    let refs: Vec<(Domain, &Path)> = paths.iter().map(|(d, p)| (*d, p.as_path())).collect();
    AttackCatalog::load(&refs).expect("ATT&CK bundles in ../shared/attack")
}

/// Each revoked Enterprise technique with the technique that replaces it, read from the bundle's
/// `revoked-by` relationships here, apart from ruledex's loader, so that the tests comparing a
/// source's techniques with its files check the replacement too. Chains are followed.
pub fn revoked_techniques() -> &'static BTreeMap<String, String> {
    static REVOKED: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    REVOKED.get_or_init(|| {
        let path = shared().join("attack/enterprise-attack.json");
        let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let bundle: serde_json::Value = serde_json::from_slice(&text).expect("the bundle is JSON");
        let objects = bundle["objects"].as_array().expect("a STIX bundle's objects");
        let external_id = |object: &serde_json::Value| {
            let references = object["external_references"].as_array()?;
            let attack = references.iter().find(|r| r["source_name"] == "mitre-attack")?;
            Some((object["id"].as_str()?.to_string(), attack["external_id"].as_str()?.to_string()))
        };
        let ids: BTreeMap<String, String> =
            objects.iter().filter(|o| o["type"] == "attack-pattern").filter_map(external_id).collect();
        let by: BTreeMap<&str, &str> = objects
            .iter()
            .filter(|o| o["type"] == "relationship" && o["relationship_type"] == "revoked-by")
            .filter_map(|r| {
                Some((ids.get(r["source_ref"].as_str()?)?.as_str(), ids.get(r["target_ref"].as_str()?)?.as_str()))
            })
            .collect();
        // Bounded, in case upstream ever writes a cycle.
        let follow = |revoked: &str| {
            let mut current = revoked;
            for _ in 0..8 {
                match by.get(current) {
                    Some(next) => current = next,
                    None => break,
                }
            }
            current.to_string()
        };
        by.keys().map(|revoked| (revoked.to_string(), follow(revoked))).collect()
    })
}

/// The validator of the resources Sentinel's ARM export writes, from Microsoft's published API
/// specs as written down for these tests (tests/fixtures/export/sentinel-arm.schema.json): each
/// resource type matched, then its API version, with the kinds that version lists and the
/// properties it takes (alert rules of the Scheduled and NRT kinds, saved searches); nothing else
/// allowed.
pub fn arm_validator() -> Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/export/sentinel-arm.schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let schema: serde_json::Value = serde_json::from_str(&text).expect("the schema is JSON");
    jsonschema::validator_for(&schema).expect("schema builds")
}

/// Asserts that `instance` is valid, listing every error with where it is.
#[track_caller]
pub fn assert_valid(validator: &Validator, instance: &serde_json::Value, what: &str) {
    let errors: Vec<String> =
        validator.iter_errors(instance).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}

//! What the integration tests share: where the real upstream corpora and ATT&CK bundles are, and
//! the ATT&CK catalogs read from them, once per test run.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

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

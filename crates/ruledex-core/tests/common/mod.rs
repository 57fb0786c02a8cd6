//! What the integration tests share: where the real upstream corpora and ATT&CK bundles are.

use std::path::{Path, PathBuf};

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

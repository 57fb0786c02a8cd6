//! Cheap fingerprints of what a sync reads, compared with the ones the catalog stored, so a sync
//! reads again only what changed upstream.
//!
//! A git source is its commit (ruledex's own checkout holds exactly the commit's files). A local
//! directory may change without a commit, so it is the sorted list of the sizes and
//! modification times of every file its format reads, support files included, with its commit
//! when known; no file is opened. Both include the source's settings, the files its format reads
//! and ruledex's version, so changing any of them reads the source again. ATT&CK is the configured release and each bundle's
//! path, size and modification time (a downloaded bundle is rewritten only when it changed).

use std::path::Path;

use anyhow::{Context, Result};
use ruledex_core::attack::Domain;
use ruledex_core::ingest::digest;
use ruledex_core::walk::Walker;

use crate::config::{AttackConfig, SourceConfig};
use crate::fetch::Tree;

/// What `source` looks like upstream, as fetched into `tree`.
pub fn source(source: &SourceConfig, tree: &Tree) -> Result<String> {
    let settings = serde_json::to_string(source)?;
    let root = tree.root.to_string_lossy();
    let adapter = source.format.adapter();
    let patterns: Vec<&str> = adapter.patterns().iter().chain(adapter.support_patterns()).copied().collect();
    let mut parts: Vec<Vec<u8>> = vec![
        env!("CARGO_PKG_VERSION").into(),
        settings.into(),
        root.as_bytes().to_vec(),
        tree.commit.clone().unwrap_or_default().into(),
        patterns.join("\0").into(),
    ];
    if source.git.is_none() {
        let limits = source.limits();
        let mut walker = Walker::new(&tree.root, limits.max_file_bytes, limits.max_source_bytes)?;
        let listing = walker.listing(&patterns).with_context(|| format!("cannot list {root}"))?;
        parts.extend(listing.into_iter().map(|f| format!("{}\0{}\0{}", f.path, f.size, f.modified).into_bytes()));
    }
    Ok(digest(&parts.iter().map(Vec::as_slice).collect::<Vec<_>>()))
}

/// The ATT&CK a sync would load: the configured release and each bundle file used.
pub fn attack(config: &AttackConfig, bundles: &[(Domain, &Path)]) -> Result<String> {
    let mut parts = vec![config.version.clone().unwrap_or_default()];
    for (domain, path) in bundles {
        let metadata = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        let modified = metadata.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
        parts.push(format!("{}\0{}\0{}\0{:?}", domain.label(), path.display(), metadata.len(), modified));
    }
    Ok(digest(&parts.iter().map(String::as_bytes).collect::<Vec<_>>()))
}

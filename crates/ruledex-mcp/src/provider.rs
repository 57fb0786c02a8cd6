//! Where the server's catalog comes from: the web server's current generation, or the one
//! `ruledex mcp` opened (or is still building).

use std::sync::Arc;

use ruledex_app::Catalog;

/// Hands the server the catalog generation to answer a request from.
pub trait CatalogProvider: Send + Sync + 'static {
    /// The current generation, or why there is none. May block briefly (opening a catalog that
    /// changed on disk): it is called on a blocking thread.
    fn catalog(&self) -> Result<Arc<Catalog>, Unavailable>;
}

/// Why there is no catalog to answer from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unavailable {
    /// A catalog is being opened or built; it says how far along. Requests wait a while for it.
    Pending(String),
    /// There is none and none is coming; it says what to do.
    Missing(String),
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unavailable::Pending(progress) => write!(f, "the catalog is not ready yet: {progress}; try again shortly"),
            Unavailable::Missing(why) => write!(f, "there is no catalog to answer from: {why}"),
        }
    }
}

//! The parts every page shares: its title, the search box's text, and the version that makes
//! browsers fetch changed static files anew.

/// Site-wide parts of every page.
pub struct Layout {
    pub title: String,
    /// What the search box shows.
    pub search: String,
    /// Appended to asset URLs (see [`ASSET_VERSION`]).
    pub asset_version: String,
    /// The ATT&CK release the catalog was built from, named in the footer ("" when unknown).
    pub attack_version: String,
    /// Atom feeds of the page's changes, announced in its head.
    pub feeds: Vec<FeedLink>,
}

impl Layout {
    pub fn new(title: impl Into<String>) -> Layout {
        Layout {
            title: title.into(),
            search: String::new(),
            asset_version: format!("{ASSET_VERSION:x}"),
            attack_version: String::new(),
            feeds: vec![],
        }
    }

    /// The page of a catalog built from ATT&CK `version`, which its footer names.
    pub fn with_attack(mut self, version: Option<String>) -> Layout {
        self.attack_version = version.unwrap_or_default();
        self
    }
}

pub use crate::pages::FeedLink;
use ruledex_core::fingerprint::{FNV_OFFSET, fnv1a};

pub const STYLE: &str = include_str!("../static/style.css");
pub const SCRIPT: &str = include_str!("../static/app.js");
pub const FAVICON: &str = include_str!("../static/favicon.svg");

/// Fingerprint of the static files, appended to their URLs so browsers fetch them anew exactly
/// when they change (and may otherwise cache them for a long time).
pub const ASSET_VERSION: u64 = fnv1a(FAVICON.as_bytes(), fnv1a(STYLE.as_bytes(), fnv1a(SCRIPT.as_bytes(), FNV_OFFSET)));

//! Paths of the web catalog's pages. They are part of ruledex's interface: JSON answers and
//! error suggestions carry them, and the web serves them.

use ruledex_core::ids::{ObjectId, ObjectKind, TechniqueId};
use ruledex_core::url::encode_component;

pub fn technique(id: TechniqueId) -> String {
    format!("/techniques/{id}")
}

/// A technique's page filtered to some sources (the coverage page's link to a stack's own
/// detections), with detections only ruledex mapped from vendor labels when `inferred`.
pub fn technique_of_sources(id: TechniqueId, sources: &[String], inferred: bool) -> String {
    let mut pairs: Vec<String> = sources.iter().map(|s| format!("source={}", encode_component(s))).collect();
    if inferred {
        pairs.push("inferred=1".into());
    }
    if pairs.is_empty() { technique(id) } else { format!("{}?{}", technique(id), pairs.join("&")) }
}

/// Addresses are URL-safe by construction (see ingest), but are encoded anyway: a link must
/// never depend on what a rule file contained.
pub fn detection(source: &str, id: &str) -> String {
    format!("/detections/{}/{}", encode_component(source), encode_component(id))
}

pub fn search(text: &str) -> String {
    format!("/search?q={}", encode_component(text))
}

/// `/groups/G0016`, `/campaigns/C0024`, `/software/S0154`.
pub fn attack_object(id: ObjectId) -> String {
    format!("{}/{id}", attack_objects(id.kind()))
}

/// The index of a kind: `/groups`, `/campaigns`, `/software`.
pub fn attack_objects(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Group => "/groups",
        ObjectKind::Campaign => "/campaigns",
        ObjectKind::Software => "/software",
    }
}

pub const COVERAGE: &str = "/coverage";
pub const HOME: &str = "/";
pub const SOURCES: &str = "/sources";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_paths_encode_anything_unexpected() {
        assert_eq!(detection("chronicle", "gcti_tor~ab12"), "/detections/chronicle/gcti_tor~ab12");
        assert_eq!(detection("x", "a/b\"<c>"), "/detections/x/a%2Fb%22%3Cc%3E");
        assert_eq!(search("tor exit"), "/search?q=tor%20exit");
        let t1090: TechniqueId = "T1090".parse().unwrap();
        let stack = ["splunk".to_string(), "a b".to_string()];
        assert_eq!(
            technique_of_sources(t1090, &stack, true),
            "/techniques/T1090?source=splunk&source=a%20b&inferred=1"
        );
        assert_eq!(technique_of_sources(t1090, &[], false), "/techniques/T1090");
    }
}

//! The `ruledex://` addresses of resources, shared by the resources and the tools' answers that
//! point at them.

use ruledex_core::url::encode_component;

pub const DETECTION_TEMPLATE: &str = "ruledex://detections/{source}/{id}";
pub const TECHNIQUE_TEMPLATE: &str = "ruledex://techniques/{id}";
pub const DETECTIONS: &str = "ruledex://detections/";
pub const TECHNIQUES: &str = "ruledex://techniques/";

pub fn detection_uri(source: &str, id: &str) -> String {
    format!("{DETECTIONS}{}/{}", encode_component(source), encode_component(id))
}

pub fn technique_uri(id: &str) -> String {
    format!("{TECHNIQUES}{}", encode_component(id))
}

/// A file a tool's answer carries (a Navigator layer): it lives in that answer only, and is
/// neither listed nor readable as a resource.
pub fn export_uri(path: &str) -> String {
    format!("ruledex://exports/{}", encode_component(path))
}

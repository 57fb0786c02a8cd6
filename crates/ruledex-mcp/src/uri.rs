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

//! How a detection is stored: the model without its long texts (they have columns of their
//! own, see `schema.sql`) and without serde's `flatten`, which the model uses for its JSON shape
//! but which makes reading back about twice as slow (serde buffers flattened fields).

use ruledex_core::model::{AtlasRef, Detection, Format, Provenance, Rule, SourceKind, TacticRef, TechniqueMapping};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
pub(crate) struct DetectionRecord {
    source: String,
    source_kind: SourceKind,
    format: Format,
    id: String,
    rule: Rule,
    deprecated: bool,
    techniques: Vec<TechniqueMapping>,
    tactics: Vec<TacticRef>,
    unresolved_tags: Vec<String>,
    /// Absent from catalogs written before ruledex read ATLAS.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    atlas: Vec<AtlasRef>,
    provenance: Provenance,
    effective_license: Option<String>,
}

impl DetectionRecord {
    /// The record of a detection, its long texts left out.
    pub(crate) fn card(d: &Detection) -> DetectionRecord {
        let mut rule = d.rule.clone();
        rule.native_rule = String::new();
        rule.investigation = None;
        rule.implementation = None;
        DetectionRecord {
            source: d.source.clone(),
            source_kind: d.source_kind,
            format: d.format,
            id: d.id.clone(),
            rule,
            deprecated: d.deprecated,
            techniques: d.techniques.clone(),
            tactics: d.tactics.clone(),
            unresolved_tags: d.unresolved_tags.clone(),
            atlas: d.atlas.clone(),
            provenance: d.provenance.clone(),
            effective_license: d.effective_license.clone(),
        }
    }

    pub(crate) fn parse(json: &str) -> serde_json::Result<Detection> {
        serde_json::from_str::<DetectionRecord>(json).map(Detection::from)
    }
}

impl From<DetectionRecord> for Detection {
    fn from(r: DetectionRecord) -> Detection {
        Detection {
            source: r.source,
            source_kind: r.source_kind,
            format: r.format,
            id: r.id,
            rule: r.rule,
            deprecated: r.deprecated,
            techniques: r.techniques,
            tactics: r.tactics,
            unresolved_tags: r.unresolved_tags,
            atlas: r.atlas,
            provenance: r.provenance,
            effective_license: r.effective_license,
        }
    }
}

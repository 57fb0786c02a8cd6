//! The change history as JSON.

use ruledex_core::ids::TechniqueId;
use ruledex_core::model::{ChangeKind, ChangedField};
use ruledex_core::url::encode_component;
use ruledex_store::{RecordedAttackUpdate, RecordedChange};
use schemars::JsonSchema;
use serde::Serialize;

/// Changes to detections, newest first (`changes --json`, `/api/v1/changes`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Changes")]
pub struct ChangesJson {
    pub changes: Vec<ChangeJson>,
    /// Syncs that read new ATT&CK data (a new release), newest first: `since` applies, the
    /// source and technique filters do not (a release moves detections of every source).
    pub attack_updates: Vec<AttackUpdateJson>,
}

/// A sync that read other ATT&CK data than the catalog had.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "AttackUpdate")]
pub struct AttackUpdateJson {
    /// The release before and after (as the bundles declare it, else the configured label).
    pub release_before: Option<String>,
    pub release_after: Option<String>,
    /// Detections listed under other techniques since (revoked techniques followed to their
    /// replacements, say), though their own tags did not change.
    pub moved: usize,
    /// The above in a sentence ("ATT&CK 18.1 → 19.0: 12 detections moved to other techniques").
    pub summary: String,
    pub synced_at: String,
    pub sync: i64,
    /// A stable identifier of this update (feeds use it as the entry ID).
    pub update_id: String,
}

impl From<&RecordedAttackUpdate> for AttackUpdateJson {
    fn from(r: &RecordedAttackUpdate) -> AttackUpdateJson {
        AttackUpdateJson {
            release_before: r.update.before.clone(),
            release_after: r.update.after.clone(),
            moved: r.update.moved,
            summary: r.update.sentence(),
            synced_at: r.synced_at.clone(),
            sync: r.sync,
            update_id: format!("urn:ruledex:attack-update:{}", r.sync_uid),
        }
    }
}

/// What one sync found changed about one detection.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Change")]
pub struct ChangeJson {
    pub source: String,
    pub id: String,
    pub title: String,
    pub change: ChangeKind,
    /// What changed, for `changed` and `deprecated` (empty otherwise).
    pub fields: Vec<ChangedField>,
    /// The upstream commit the change was found at (for a removed detection, the first commit
    /// without it).
    pub commit: Option<String>,
    /// The upstream commit before the change.
    pub commit_before: Option<String>,
    /// When the sync that found it ran (UTC).
    pub synced_at: String,
    /// The sync's number, for `since`: later syncs have larger numbers.
    pub sync: i64,
    /// Unique to this change and stable: the Atom feeds' entry ID.
    pub change_id: String,
    /// The techniques the detection is listed under (before the change, for a removed one).
    pub techniques: Vec<TechniqueId>,
    /// The detection's page (gone for a removed detection).
    pub href: String,
    /// The query before and after, when it changed (the paste-ready query when only that did).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_after: Option<String>,
}

impl From<&RecordedChange> for ChangeJson {
    fn from(r: &RecordedChange) -> ChangeJson {
        let c = &r.change;
        ChangeJson {
            source: c.source.clone(),
            id: c.id.clone(),
            title: c.title.clone(),
            change: c.kind,
            fields: c.fields.clone(),
            commit: c.commit_after.clone(),
            commit_before: c.commit_before.clone(),
            synced_at: r.synced_at.clone(),
            sync: r.sync,
            change_id: format!(
                "urn:ruledex:change:{}:{}:{}",
                r.sync_uid,
                encode_component(&c.source),
                encode_component(&c.id)
            ),
            techniques: c.techniques.clone(),
            href: crate::links::detection(&c.source, &c.id),
            query_before: c.query_before.clone(),
            query_after: c.query_after.clone(),
        }
    }
}

/// Where a background sync stands (`/api/v1/sync`).
pub use crate::sync::SyncPhase;

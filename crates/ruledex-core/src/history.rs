//! Change history: what happened to a source's detections between two reads of it.
//!
//! Detections are compared by address (`SOURCE/ID`) within a source. Only what the vendor wrote
//! counts ([`Rule`]); what ruledex derives (ATT&CK names and revocations, provenance links, the
//! source's configured license) changes without the detection changing, and is never reported.
//! The paste-ready query does count: a Splunk macro redefined upstream changes what a user
//! pastes, so a detection whose paste-ready query changed only through its macros is `changed`
//! with the field `paste_ready_query` (and not `query`).

use std::collections::HashMap;

use crate::ids::TechniqueId;
use crate::model::{ChangeKind, ChangedField, Detection, Rule};

/// One detection's change between two reads of its source.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectionChange {
    pub source: String,
    pub id: String,
    /// The title after the change (before it, for a removed detection).
    pub title: String,
    pub kind: ChangeKind,
    /// What changed, for `changed` and `deprecated`; empty otherwise.
    pub fields: Vec<ChangedField>,
    pub commit_before: Option<String>,
    /// The upstream commit the change was read at (where a removed detection was found gone).
    pub commit_after: Option<String>,
    /// The techniques it is listed under (before the change, for a removed detection).
    pub techniques: Vec<TechniqueId>,
    /// The query before and after, when it changed: the vendor's query, or the paste-ready one
    /// when only that changed.
    pub query_before: Option<String>,
    pub query_after: Option<String>,
}

/// The ATT&CK data a sync resolved tags against changed (a new release, most often).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AttackUpdate {
    /// The release before and after, as the bundles declare it (or the configured label).
    pub before: Option<String>,
    pub after: Option<String>,
    /// Detections listed under other techniques since, their own tags unchanged (see [`moved`]).
    pub moved: usize,
}

impl AttackUpdate {
    /// "ATT&CK 18.1 → 19.0: 12 detections moved to other techniques".
    pub fn sentence(&self) -> String {
        let release = |r: &Option<String>| r.clone().unwrap_or_else(|| "(release unknown)".into());
        let releases = match self.before == self.after {
            true => format!("ATT&CK {} (its data changed)", release(&self.after)),
            false => format!("ATT&CK {} → {}", release(&self.before), release(&self.after)),
        };
        let detections = if self.moved == 1 { "detection" } else { "detections" };
        format!("{releases}: {} {detections} moved to other techniques", self.moved)
    }
}

/// Which changes to list, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeQuery {
    pub since: Option<Since>,
    /// Changes of detections listed under this technique (or, for a technique, one of its
    /// sub-techniques).
    pub technique: Option<TechniqueId>,
    pub source: Option<String>,
    /// One detection's history (with `source`).
    pub id: Option<String>,
    pub limit: usize,
}

impl Default for ChangeQuery {
    fn default() -> ChangeQuery {
        ChangeQuery { since: None, technique: None, source: None, id: None, limit: ChangeQuery::DEFAULT_LIMIT }
    }
}

impl ChangeQuery {
    pub const DEFAULT_LIMIT: usize = 200;
    pub const MAX_LIMIT: usize = 5000;
}

/// Where a list of changes starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Since {
    /// Changes of syncs at or after this time (UTC, `YYYY-MM-DDTHH:MM:SSZ`).
    Time(String),
    /// Changes of syncs after this one (the number a change lists as its `sync`).
    Sync(i64),
}

/// What happened to each detection of one source from `before` to `after`, read at upstream
/// commit `commit` (where removed detections were found gone): added and changed ones in
/// `after`'s order, then removed ones in `before`'s.
pub fn compare<'a>(
    before: impl IntoIterator<Item = &'a Detection>,
    after: &[Detection],
    commit: Option<&str>,
) -> Vec<DetectionChange> {
    let before: Vec<&Detection> = before.into_iter().collect();
    let earlier: HashMap<&str, &Detection> = before.iter().map(|d| (d.id.as_str(), *d)).collect();
    let later: HashMap<&str, &Detection> = after.iter().map(|d| (d.id.as_str(), d)).collect();
    let mut changes: Vec<DetectionChange> =
        after.iter().filter_map(|new| change(earlier.get(new.id.as_str()).copied(), new)).collect();
    let gone = before.into_iter().filter(|old| !later.contains_key(old.id.as_str()));
    changes.extend(gone.map(|old| removed(old, commit)));
    changes
}

/// How many detections in both reads are listed under other techniques though their ATT&CK
/// tags are the same: the ATT&CK data they are resolved against changed (a new release revoked
/// or deprecated what they name). Such moves are not changes of the detections; a sync records
/// their number with the release.
pub fn moved<'a>(before: impl IntoIterator<Item = &'a Detection>, after: &[Detection]) -> usize {
    let later: HashMap<&str, &Detection> = after.iter().map(|d| (d.id.as_str(), d)).collect();
    let same_tags = |a: &Detection, b: &Detection| {
        (&a.rule.attack_tags, &a.rule.inferred_attack_tags) == (&b.rule.attack_tags, &b.rule.inferred_attack_tags)
    };
    let listed = |d: &Detection| d.techniques.iter().map(|m| m.id).collect::<Vec<TechniqueId>>();
    before
        .into_iter()
        .filter(|old| later.get(old.id.as_str()).is_some_and(|new| same_tags(old, new) && listed(old) != listed(new)))
        .count()
}

/// The change from `old` (absent: added) to `new`, if any.
fn change(old: Option<&Detection>, new: &Detection) -> Option<DetectionChange> {
    let Some(old) = old else { return Some(DetectionChange::between(None, new, ChangeKind::Added, vec![])) };
    let fields = changed_fields(&old.rule, &new.rule);
    if fields.is_empty() {
        return None;
    }
    let kind = if new.deprecated && !old.deprecated { ChangeKind::Deprecated } else { ChangeKind::Changed };
    Some(DetectionChange::between(Some(old), new, kind, fields))
}

fn removed(old: &Detection, commit: Option<&str>) -> DetectionChange {
    DetectionChange {
        source: old.source.clone(),
        id: old.id.clone(),
        title: old.rule.title.clone(),
        kind: ChangeKind::Removed,
        fields: vec![],
        commit_before: old.provenance.commit.clone(),
        commit_after: commit.map(str::to_string),
        techniques: old.techniques.iter().map(|m| m.id).collect(),
        query_before: None,
        query_after: None,
    }
}

impl DetectionChange {
    fn between(old: Option<&Detection>, new: &Detection, kind: ChangeKind, fields: Vec<ChangedField>) -> Self {
        let texts = |pick: fn(&Rule) -> &str| old.map(|o| pick(&o.rule).to_string()).zip(Some(pick(&new.rule).into()));
        let (query_before, query_after) = if fields.contains(&ChangedField::Query) {
            texts(|r| &r.query)
        } else if fields.contains(&ChangedField::PasteReadyQuery) {
            texts(paste_ready)
        } else {
            None
        }
        .unzip();
        DetectionChange {
            source: new.source.clone(),
            id: new.id.clone(),
            title: new.rule.title.clone(),
            kind,
            fields,
            commit_before: old.and_then(|o| o.provenance.commit.clone()),
            commit_after: new.provenance.commit.clone(),
            techniques: new.techniques.iter().map(|m| m.id).collect(),
            query_before,
            query_after,
        }
    }
}

fn paste_ready(rule: &Rule) -> &str {
    rule.paste_ready_query.as_deref().unwrap_or(&rule.query)
}

/// What the vendor changed in a rule, in [`ChangedField`] order. The paste-ready query is named
/// only when the query itself did not change (a query edit changes both).
pub fn changed_fields(old: &Rule, new: &Rule) -> Vec<ChangedField> {
    if old == new {
        // Most detections of a re-read source: no need to take them apart.
        return vec![];
    }
    let query = old.query != new.query;
    let checks = [
        (ChangedField::Query, query),
        (ChangedField::PasteReadyQuery, !query && paste_ready(old) != paste_ready(new)),
        (
            ChangedField::Attack,
            (&old.attack_tags, &old.inferred_attack_tags) != (&new.attack_tags, &new.inferred_attack_tags),
        ),
        (
            ChangedField::Severity,
            (old.severity, &old.severity_native, old.risk_score)
                != (new.severity, &new.severity_native, new.risk_score),
        ),
        (ChangedField::Status, (old.status, &old.status_native) != (new.status, &new.status_native)),
        (ChangedField::Metadata, metadata(old) != metadata(new)),
    ];
    checks.into_iter().filter(|(_, changed)| *changed).map(|(field, _)| field).collect()
}

/// The rule without the parts other fields cover and without its native file text (a comment or
/// a reformatting upstream is not a change of the detection). Anything else the vendor writes,
/// fields added to the model later included, counts as metadata.
fn metadata(rule: &Rule) -> Rule {
    Rule {
        query: String::new(),
        paste_ready_query: None,
        unresolved_macros: vec![],
        native_rule: String::new(),
        attack_tags: vec![],
        inferred_attack_tags: vec![],
        severity: None,
        severity_native: None,
        risk_score: None,
        status: None,
        status_native: None,
        ..rule.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Format, Provenance, SourceKind, Status};

    fn detection(id: &str, query: &str) -> Detection {
        Detection {
            source: "s".into(),
            source_kind: SourceKind::Vendor,
            format: Format::SplunkEscu,
            id: id.into(),
            rule: Rule { title: format!("Title {id}"), query: query.into(), ..Rule::default() },
            deprecated: false,
            techniques: vec![],
            tactics: vec![],
            unresolved_tags: vec![],
            atlas: vec![],
            cves: vec![],
            provenance: Provenance { commit: Some("c1".into()), ..Provenance::default() },
            effective_license: None,
        }
    }

    #[test]
    fn detections_moved_by_new_attack_data_are_counted_apart_from_tag_edits() {
        use crate::model::{MappedBy, MappingStatus, MappingVia, TechniqueMapping};
        let listed = |mut d: Detection, tag: &str, id: &str| {
            d.rule.attack_tags = vec![tag.into()];
            d.techniques = vec![TechniqueMapping {
                id: id.parse().unwrap(),
                name: None,
                tagged: tag.into(),
                tagged_id: None,
                status: MappingStatus::Current,
                mapped_by: MappedBy::Vendor,
                via: MappingVia::Tag,
            }];
            d
        };
        let before = vec![
            listed(detection("revoked", "a"), "T1500", "T1500"),
            listed(detection("retagged", "b"), "T1090", "T1090"),
            listed(detection("same", "c"), "T1090", "T1090"),
        ];
        let after = vec![
            listed(detection("revoked", "a"), "T1500", "T1027.004"),
            listed(detection("retagged", "b"), "T1095", "T1095"),
            listed(detection("same", "c"), "T1090", "T1090"),
        ];
        assert_eq!(moved(&before, &after), 1, "only the detection whose own tags did not change moved");
    }

    fn kinds(changes: &[DetectionChange]) -> Vec<(&str, ChangeKind, Vec<ChangedField>)> {
        changes.iter().map(|c| (c.id.as_str(), c.kind, c.fields.clone())).collect()
    }

    #[test]
    fn additions_edits_deprecations_and_removals_are_told_apart() {
        let before =
            vec![detection("same", "a"), detection("edited", "b"), detection("gone", "c"), detection("old", "d")];
        let mut edited = detection("edited", "b | where x");
        edited.provenance.commit = Some("c2".into());
        let mut old = detection("old", "d");
        old.rule.status = Some(Status::Deprecated);
        old.deprecated = true;
        let mut same = detection("same", "a");
        same.provenance =
            Provenance { commit: Some("c2".into()), upstream_url: Some("https://x".into()), ..Provenance::default() };
        same.effective_license = Some("MIT".into());
        let after = vec![same, edited, old, detection("new", "e")];
        let changes = compare(&before, &after, Some("c2"));
        assert_eq!(
            kinds(&changes),
            vec![
                ("edited", ChangeKind::Changed, vec![ChangedField::Query]),
                ("old", ChangeKind::Deprecated, vec![ChangedField::Status]),
                ("new", ChangeKind::Added, vec![]),
                ("gone", ChangeKind::Removed, vec![]),
            ],
            "a new commit, link or configured license alone is no change"
        );
        let edit = &changes[0];
        assert_eq!((edit.commit_before.as_deref(), edit.commit_after.as_deref()), (Some("c1"), Some("c2")));
        assert_eq!((edit.query_before.as_deref(), edit.query_after.as_deref()), (Some("b"), Some("b | where x")));
        assert_eq!(changes[3].title, "Title gone");
        assert_eq!(changes[3].commit_after.as_deref(), Some("c2"), "removed at the new commit");
    }

    #[test]
    fn a_macro_redefined_upstream_changes_only_the_paste_ready_query() {
        let mut old = detection("x", "`m` | stats count");
        old.rule.paste_ready_query = Some("index=a | stats count".into());
        let mut new = old.clone();
        new.rule.paste_ready_query = Some("index=b | stats count".into());
        let [change] = compare(&[old], &[new], None).try_into().unwrap();
        assert_eq!(change.fields, vec![ChangedField::PasteReadyQuery]);
        assert_eq!(change.query_after.as_deref(), Some("index=b | stats count"));
    }

    #[test]
    fn every_other_vendor_field_is_metadata_but_the_native_file_text_is_not() {
        let old = detection("x", "q");
        let mut reformatted = old.clone();
        reformatted.rule.native_rule = "# a comment\nq".into();
        assert!(compare([&old], &[reformatted], None).is_empty());
        let mut described = old.clone();
        described.rule.references.push("https://example.org".into());
        described.rule.severity_native = Some("high".into());
        described.rule.attack_tags.push("T1090".into());
        assert_eq!(
            changed_fields(&old.rule, &described.rule),
            vec![ChangedField::Attack, ChangedField::Severity, ChangedField::Metadata]
        );
    }
}

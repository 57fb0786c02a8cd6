//! The change history on the web: Atom feeds (everything, one technique, one source), the
//! `/changes` page, the "what's new" lists of the home and technique pages, the "new" and "updated" badges on cards, and a
//! detection's own history with a diff of its query.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use ruledex_app::Catalog;
use ruledex_app::request::ChangesRequest;
use ruledex_app::request::vocabulary::MAX_CHANGES;
use ruledex_app::wire::{AttackUpdateJson, ChangeJson, DetectionJson};
use ruledex_core::ids::TechniqueId;
use ruledex_core::model::ChangeKind;
use similar::{ChangeTag, TextDiff};

use super::view::short_commit;
use super::{PageResult, render};
use crate::atom::{Entry, Feed};
use crate::error::WebError;
use crate::layout::Layout;
use crate::params::PathParams;
use crate::state::{AppState, Cost};

/// Entries a feed carries.
const FEED_ENTRIES: usize = 100;
/// Changes a "what's new" list shows.
const WHATS_NEW: usize = 10;
/// Changes the `/changes` page lists.
const CHANGES_PAGE: usize = 100;
/// Lines of unchanged query shown around each changed part of a diff.
const DIFF_CONTEXT: usize = 3;

#[derive(Template)]
#[template(path = "changes.html")]
struct ChangesView {
    layout: Layout,
    whats_new: Vec<ChangeItem>,
    feed_href: &'static str,
}

/// `/changes`: the latest changes of the catalog, newest first: detections new, updated,
/// deprecated or removed upstream, and new ATT&CK releases.
pub async fn changes_page(State(state): State<AppState>) -> PageResult {
    state
        .run(Cost::Ordinary, |catalog| {
            let mut layout = Layout::new("What changed · ruledex").with_attack(catalog.attack_version());
            layout.feeds.push(feed_link("ruledex · what changed", "/feed.atom"));
            let whats_new = latest_changes(catalog, None, CHANGES_PAGE)?;
            render(&ChangesView { layout, whats_new, feed_href: "/feed.atom" })
        })
        .await
}

/// `/feed.atom`: every change.
pub async fn feed(State(state): State<AppState>) -> Result<Response, WebError> {
    atom(&state, FeedScope::All).await
}

/// `/techniques/{id}/feed.atom`: changes of a technique's detections (its sub-techniques' too).
pub async fn technique_feed(
    State(state): State<AppState>,
    PathParams(raw, _): PathParams<String>,
) -> Result<Response, WebError> {
    let id = raw.parse().map_err(|e| WebError::bad_request(format!("{e}")))?;
    atom(&state, FeedScope::Technique(id)).await
}

/// `/sources/{name}/feed.atom`: changes of one source.
pub async fn source_feed(
    State(state): State<AppState>,
    PathParams(name, _): PathParams<String>,
) -> Result<Response, WebError> {
    atom(&state, FeedScope::Source(name)).await
}

enum FeedScope {
    All,
    Technique(TechniqueId),
    Source(String),
}

/// The feed link a page announces in its head (`<link rel="alternate">`).
pub struct FeedLink {
    pub title: String,
    pub href: String,
}

pub fn feed_link(title: impl Into<String>, href: impl Into<String>) -> FeedLink {
    FeedLink { title: title.into(), href: href.into() }
}

pub fn technique_feed_href(id: TechniqueId) -> String {
    format!("/techniques/{id}/feed.atom")
}

pub fn source_feed_href(source: &str) -> String {
    format!("/sources/{}/feed.atom", ruledex_core::url::encode_component(source))
}

async fn atom(state: &AppState, scope: FeedScope) -> Result<Response, WebError> {
    let base_url = state.public_url();
    let xml = state
        .run(Cost::Ordinary, move |catalog| {
            let (self_href, page_href, title) = match &scope {
                FeedScope::All => ("/feed.atom".to_string(), "/".to_string(), "ruledex · what changed".to_string()),
                FeedScope::Technique(id) => {
                    let name = catalog.technique_name(*id).unwrap_or_default();
                    let title = format!("ruledex · what changed for {id} {name}");
                    (technique_feed_href(*id), ruledex_app::links::technique(*id), title.trim_end().to_string())
                }
                FeedScope::Source(name) => {
                    (source_feed_href(name), format!("/sources#{name}"), format!("ruledex · what changed in {name}"))
                }
            };
            let technique = match &scope {
                FeedScope::Technique(id) => Some(id.to_string()),
                _ => None,
            };
            let source = match &scope {
                FeedScope::Source(name) => Some(name.clone()),
                _ => None,
            };
            let request = ChangesRequest { technique, source, limit: FEED_ENTRIES, ..ChangesRequest::default() };
            if let FeedScope::Source(name) = &scope
                && !catalog.sources().iter().any(|s| &s.name == name)
            {
                return Err(WebError::not_found(format!("there is no source named {name:?}"), vec![]));
            }
            let history = catalog.changes(&request)?;
            // A new ATT&CK release moves detections of every source: only the whole feed has it.
            let releases = match scope {
                FeedScope::All => history.attack_updates.iter().map(release_entry).collect(),
                _ => vec![],
            };
            let entries = newest_first(history.changes.iter().map(entry).chain(releases), |e| &e.updated, FEED_ENTRIES);
            let updated = entries
                .first()
                .map(|e| e.updated.clone())
                .or_else(|| catalog.catalog_info().built_at)
                .unwrap_or_else(|| "1970-01-01T00:00:00Z".into());
            let id = format!("urn:ruledex:feed:{self_href}");
            let feed = Feed { id, title, base_url, self_href, page_href, updated, entries };
            Ok(feed.render())
        })
        .await?;
    Ok(([(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")], xml).into_response())
}

fn entry(change: &ChangeJson) -> Entry {
    Entry {
        id: change.change_id.clone(),
        title: format!("{}: {} ({})", heading(change.change), change.title, change.source),
        updated: change.synced_at.clone(),
        href: change.href.clone(),
        categories: change.techniques.iter().map(ToString::to_string).collect(),
        summary: summary(change),
    }
}

fn release_entry(update: &AttackUpdateJson) -> Entry {
    Entry {
        id: update.update_id.clone(),
        title: update.summary.clone(),
        updated: update.synced_at.clone(),
        href: "/".into(),
        categories: vec![],
        summary: RELEASE_NOTE.into(),
    }
}

/// What a release's move means, for the feed and the "what's new" lists.
const RELEASE_NOTE: &str = "Detections tagged with techniques the new ATT&CK release revoked are listed under their \
                            replacements; their own tags did not change.";

/// At most `limit` of `items`, newest first by their fixed-width UTC time.
fn newest_first<T>(items: impl Iterator<Item = T>, time: impl Fn(&T) -> &String, limit: usize) -> Vec<T> {
    let mut items: Vec<T> = items.collect();
    items.sort_by(|a, b| time(b).cmp(time(a)));
    items.truncate(limit);
    items
}

fn heading(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Added => "New",
        ChangeKind::Changed => "Updated",
        ChangeKind::Deprecated => "Deprecated",
        ChangeKind::Removed => "Removed",
    }
}

/// `splunk/x · changed: query · commit 1837fae → 2a3b4c5 · T1090.003`
fn summary(change: &ChangeJson) -> String {
    let mut parts = vec![format!("{}/{}", change.source, change.id)];
    if !change.fields.is_empty() {
        parts.push(format!("changed: {}", fields(change)));
    }
    parts.push(commits(change));
    let techniques: Vec<String> = change.techniques.iter().map(ToString::to_string).collect();
    if !techniques.is_empty() {
        parts.push(techniques.join(", "));
    }
    parts.retain(|p| !p.is_empty());
    parts.join(" · ")
}

fn fields(change: &ChangeJson) -> String {
    change.fields.iter().map(|f| f.label()).collect::<Vec<_>>().join(", ")
}

fn commits(change: &ChangeJson) -> String {
    let short = |c: &Option<String>| c.as_deref().map(short_commit).map(str::to_string);
    match (short(&change.commit_before), short(&change.commit)) {
        (Some(before), Some(after)) if before != after => format!("commit {before} → {after}"),
        (_, Some(after)) => format!("commit {after}"),
        (Some(before), None) => format!("commit {before}"),
        (None, None) => String::new(),
    }
}

/// A change in a "what's new" list or a detection's history.
pub struct ChangeItem {
    /// `added`, `changed`, `deprecated` or `removed`, for styling; `attack` for a new ATT&CK
    /// release.
    pub kind_key: &'static str,
    /// "New", "Updated"...
    pub kind: &'static str,
    pub title: String,
    /// The detection's page; empty for a removed detection.
    pub href: String,
    pub address: String,
    pub fields: String,
    pub commits: String,
    /// "2026-11-29 10:00 UTC"
    pub when: String,
    /// The fixed-width UTC time, for ordering.
    synced_at: String,
}

impl From<&ChangeJson> for ChangeItem {
    fn from(c: &ChangeJson) -> ChangeItem {
        ChangeItem {
            kind_key: c.change.as_str(),
            kind: heading(c.change),
            title: c.title.clone(),
            href: if c.change == ChangeKind::Removed { String::new() } else { c.href.clone() },
            address: format!("{}/{}", c.source, c.id),
            fields: fields(c),
            commits: commits(c),
            when: short_time(&c.synced_at),
            synced_at: c.synced_at.clone(),
        }
    }
}

impl From<&AttackUpdateJson> for ChangeItem {
    fn from(update: &AttackUpdateJson) -> ChangeItem {
        ChangeItem {
            kind_key: "attack",
            kind: "ATT&CK",
            title: update.summary.clone(),
            href: String::new(),
            address: String::new(),
            fields: RELEASE_NOTE.into(),
            commits: String::new(),
            when: short_time(&update.synced_at),
            synced_at: update.synced_at.clone(),
        }
    }
}

/// "2026-11-28T08:56:44.16Z" as "2026-11-28 08:56 UTC".
pub fn short_time(timestamp: &str) -> String {
    match timestamp.get(..16) {
        Some(minutes) => format!("{} UTC", minutes.replace('T', " ")),
        None => timestamp.to_string(),
    }
}

/// A "what's new" list: the latest changes of one technique's detections (its sub-techniques'
/// too), or of all with the new ATT&CK releases.
pub fn whats_new(catalog: &Catalog, technique: Option<TechniqueId>) -> Result<Vec<ChangeItem>, WebError> {
    latest_changes(catalog, technique, WHATS_NEW)
}

fn latest_changes(
    catalog: &Catalog,
    technique: Option<TechniqueId>,
    limit: usize,
) -> Result<Vec<ChangeItem>, WebError> {
    let only = technique.map(|t| t.to_string());
    let request = ChangesRequest { technique: only, limit, ..ChangesRequest::default() };
    let history = catalog.changes(&request)?;
    let releases = history.attack_updates.iter().filter(|_| technique.is_none()).map(ChangeItem::from);
    let changes = history.changes.iter().map(ChangeItem::from);
    Ok(newest_first(changes.chain(releases), |item| &item.synced_at, limit))
}

/// One change in a detection's history, with a diff when its query changed.
pub struct HistoryEntry {
    pub item: ChangeItem,
    pub diff: Vec<DiffLine>,
}

/// A line of a query diff: `add`, `del`, `same`, or `gap` (unchanged lines left out).
pub struct DiffLine {
    pub kind: &'static str,
    pub text: String,
}

/// Everything the history holds of one detection, newest first.
pub fn detection_history(catalog: &Catalog, d: &DetectionJson) -> Result<Vec<HistoryEntry>, WebError> {
    let request = ChangesRequest {
        source: Some(d.source.clone()),
        id: Some(d.id.clone()),
        limit: usize::try_from(MAX_CHANGES).unwrap_or(usize::MAX),
        ..ChangesRequest::default()
    };
    let changes = catalog.changes(&request)?.changes;
    Ok(changes
        .iter()
        .map(|c| HistoryEntry {
            item: ChangeItem::from(c),
            diff: match (&c.query_before, &c.query_after) {
                (Some(before), Some(after)) => diff(before, after),
                _ => vec![],
            },
        })
        .collect())
}

/// A line diff of two queries, unchanged stretches cut to a few lines of context.
fn diff(before: &str, after: &str) -> Vec<DiffLine> {
    let diff = TextDiff::from_lines(before, after);
    let mut lines = Vec::new();
    for (i, group) in diff.grouped_ops(DIFF_CONTEXT).iter().enumerate() {
        if i > 0 {
            lines.push(DiffLine { kind: "gap", text: "…".into() });
        }
        for op in group {
            for change in diff.iter_changes(op) {
                let kind = match change.tag() {
                    ChangeTag::Insert => "add",
                    ChangeTag::Delete => "del",
                    ChangeTag::Equal => "same",
                };
                lines.push(DiffLine { kind, text: change.value().trim_end_matches(['\n', '\r']).to_string() });
            }
        }
    }
    lines
}

/// "new" or "updated" for a detection that changed recently (see `AppState::badge_days`).
pub fn badge(recent: &HashMap<(String, String), ChangeKind>, source: &str, id: &str) -> &'static str {
    match recent.get(&(source.to_string(), id.to_string())) {
        Some(ChangeKind::Added) => "new",
        Some(ChangeKind::Changed | ChangeKind::Deprecated) => "updated",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_diff_marks_lines_and_cuts_long_unchanged_stretches() {
        let before = (1..=20).map(|i| format!("line {i}\n")).collect::<String>();
        let after = before.replace("line 2\n", "line two\n").replace("line 19\n", "");
        let lines = diff(&before, &after);
        let kinds: Vec<&str> = lines.iter().map(|l| l.kind).collect();
        assert_eq!(kinds.iter().filter(|k| **k == "gap").count(), 1, "{kinds:?}");
        assert!(lines.iter().any(|l| l.kind == "del" && l.text == "line 2"));
        assert!(lines.iter().any(|l| l.kind == "add" && l.text == "line two"));
        assert!(lines.iter().any(|l| l.kind == "del" && l.text == "line 19"));
        assert!(!lines.iter().any(|l| l.text == "line 10"), "far from any change");
    }
}

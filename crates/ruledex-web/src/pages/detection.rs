//! `/detections/{source}/{id}`: one detection with everything the model holds, and
//! `/detections/{source}/{id}/raw`: its native rule file, to download.

use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use ruledex_app::links;
use ruledex_app::wire::DetectionJson;

use super::changes::{HistoryEntry, badge, detection_history};
use super::view::{Card, Chip, download_name};
use super::{PageResult, render};
use crate::error::WebError;
use crate::highlight::highlight;
use crate::layout::Layout;
use crate::params::PathParams;
use crate::state::{AppState, Cost};

#[derive(Template)]
#[template(path = "detection.html")]
struct DetectionView {
    layout: Layout,
    card: Card,
    native_rule_html: String,
    facts: Vec<(&'static str, String)>,
    tactics: Vec<String>,
    unresolved_tags: Vec<String>,
    /// The CVEs the rule is about, each with a search for the other detections about it.
    cves: Vec<(String, String)>,
    references: Vec<Reference>,
    false_positives: Vec<String>,
    implementation: String,
    /// The investigation guide's Markdown as safe HTML (core::markdown).
    investigation_html: String,
    requires: Vec<String>,
    tags: Vec<String>,
    repository: String,
    commit: String,
    commit_url: String,
    other_techniques_note: String,
    history: Vec<HistoryEntry>,
    atlas: Vec<Reference>,
    tests: Vec<TestView>,
}

/// A test the rule ships: its sample event and whether the rule must match it.
struct TestView {
    name: String,
    expected: &'static str,
    log_type: String,
    input: String,
}

/// A reference link; only http(s) URLs become links, anything else is shown as text.
struct Reference {
    href: String,
    text: String,
}

pub async fn detection(
    State(state): State<AppState>,
    PathParams((source, id), _): PathParams<(String, String)>,
) -> PageResult {
    let badge_days = state.badge_days();
    state
        .run(Cost::Ordinary, move |catalog| {
            let detection = catalog.detection(&source, &id)?;
            let mut view = DetectionView::new(&detection);
            view.layout.attack_version = catalog.attack_version().unwrap_or_default();
            view.history = detection_history(catalog, &detection)?;
            view.card.change_badge = badge(&catalog.recent_changes(badge_days)?, &detection.source, &detection.id);
            render(&view)
        })
        .await
}

/// The native rule as a download named like the upstream file.
pub async fn raw_rule(
    State(state): State<AppState>,
    PathParams((source, id), _): PathParams<(String, String)>,
) -> Result<Response, WebError> {
    let detection = state.run(Cost::Ordinary, move |catalog| Ok(catalog.detection(&source, &id)?)).await?;
    let disposition = format!("attachment; filename=\"{}\"", download_name(&detection.path));
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, disposition)],
        detection.native_rule.unwrap_or_default(),
    )
        .into_response())
}

impl DetectionView {
    fn new(d: &DetectionJson) -> DetectionView {
        let card = Card::new(0, d, None);
        let facts = [
            ("Product", d.product.clone()),
            (
                "Type",
                join([
                    d.rule_type.map(|t| t.label().to_string()),
                    d.rule_type_native.clone().map(|n| format!("native: {n}")),
                ]),
            ),
            (
                "Severity",
                join([
                    d.severity.map(|s| s.label().to_string()),
                    d.severity_native.clone().map(|n| format!("native: {n}")),
                ]),
            ),
            ("Risk score", d.risk_score.map(|s| s.to_string()).unwrap_or_default()),
            (
                "Status",
                join([
                    d.status.map(|s| s.as_str().to_string()),
                    d.status_native.clone().map(|n| format!("native: {n}")),
                ]),
            ),
            ("Source", format!("{} ({})", d.source, d.source_kind.label())),
            ("Vendor ID", d.native_id.clone()),
            ("Author", d.author.clone().unwrap_or_default()),
            ("Created", d.created.clone().unwrap_or_default()),
            ("Updated", d.updated.clone().unwrap_or_default()),
            ("Platforms", d.platforms.join(", ")),
            ("Version", d.version.clone().unwrap_or_default()),
            ("Runs on", card.runs_on.clone()),
            ("Response actions", card.actions.join("; ")),
            ("License", d.effective_license.clone().unwrap_or_default()),
        ];
        let native_rule = d.native_rule.as_deref().unwrap_or_default();
        DetectionView {
            layout: Layout::new(format!("{} · {}/{}", d.title, d.source, d.id)),
            native_rule_html: highlight(native_rule, native_language(d)),
            facts: facts.into_iter().filter(|(_, v)| !v.is_empty()).collect(),
            tactics: d.tactics.iter().map(|t| format!("{} ({})", t.name, t.id)).collect(),
            unresolved_tags: d.unresolved_tags.clone(),
            cves: d.cves.iter().map(|cve| (cve.clone(), links::search(&format!("cve:{cve}")))).collect(),
            references: d.references.iter().map(|x| reference(x)).collect(),
            false_positives: d.false_positives.clone(),
            implementation: d.implementation.clone().unwrap_or_default(),
            investigation_html: d.investigation.as_deref().map(ruledex_core::markdown::to_html).unwrap_or_default(),
            requires: d.still_needs().iter().map(|x| format!("{} {}", x.kind.label(), x.name)).collect(),
            tags: d.tags.clone(),
            repository: d.provenance.repository.clone().unwrap_or_default(),
            commit: d.provenance.commit.clone().unwrap_or_default(),
            commit_url: commit_url(d),
            other_techniques_note: other_techniques_note(&card.chips),
            history: vec![],
            atlas: d.atlas.iter().map(|a| Reference { href: a.url.clone(), text: a.id.clone() }).collect(),
            tests: d
                .tests
                .iter()
                .map(|t| TestView {
                    name: t.name.clone(),
                    expected: if t.expected { "match" } else { "no match" },
                    log_type: t.log_type.clone().unwrap_or_default(),
                    input: t.input.clone().unwrap_or_default(),
                })
                .collect(),
            card,
        }
    }
}

/// The native file is YAML or TOML for most formats; only YARA-L's rule text is its query.
fn native_language(d: &DetectionJson) -> Option<ruledex_core::model::Language> {
    (d.native_rule.as_deref() == Some(d.query.as_str())).then_some(d.language).flatten()
}

fn other_techniques_note(chips: &[Chip]) -> String {
    match chips.len() {
        0 => "This detection is not mapped to any ATT&CK technique.".into(),
        1 => String::new(),
        n => format!("Maps to {n} techniques."),
    }
}

fn join<const N: usize>(parts: [Option<String>; N]) -> String {
    parts.into_iter().flatten().collect::<Vec<_>>().join(" · ")
}

fn reference(text: &str) -> Reference {
    let is_web = text.starts_with("https://") || text.starts_with("http://");
    Reference { href: if is_web { text.to_string() } else { String::new() }, text: text.to_string() }
}

/// The commit on GitHub, when the repository is there.
fn commit_url(d: &DetectionJson) -> String {
    match (&d.provenance.repository, &d.provenance.commit) {
        (Some(repo), Some(commit)) if repo.starts_with("https://github.com/") => {
            format!("{}/commit/{commit}", repo.trim_end_matches('/').trim_end_matches(".git"))
        }
        _ => String::new(),
    }
}

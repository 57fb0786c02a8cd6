//! Coverage pages: a stack's coverage of the matrix (`/coverage`), and the groups, campaigns
//! and software of ATT&CK with the detections for the techniques they use.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{RawQuery, State};
use ruledex_app::coverage::{CoverageRequest, ObjectRequest};
use ruledex_app::request::vocabulary::{ATTACK_OBJECT, STACK_COVERAGE};
use ruledex_app::wire::{
    AttackObjectJson, AttackObjectPageJson, CoverageStatus, StackCoverageJson, StackTechniqueJson,
};
use ruledex_core::attack::Domain;
use ruledex_core::ids::ObjectKind;

use super::view::breakable_parts;
use super::{PageResult, render};
use crate::layout::Layout;
use crate::params::{PathParams, arguments};
use crate::state::{AppState, Cost};

/// A source to tick, and whether it is ticked.
struct SourceChoice {
    name: String,
    title: String,
    kind: String,
    ticked: bool,
}

/// The sources to tick, those of `have` ticked.
fn source_choices(catalog: &ruledex_app::Catalog, have: &[String]) -> Vec<SourceChoice> {
    catalog
        .sources()
        .into_iter()
        .map(|s| SourceChoice {
            ticked: have.contains(&s.name),
            name: s.name,
            title: s.title,
            kind: s.kind.label().into(),
        })
        .collect()
}

/// Detections per source as a reader reads them: "Elastic 1, Splunk 3", or "nothing".
fn found_in(counts: &BTreeMap<String, usize>, sources: &[SourceChoice]) -> String {
    let title = |name: &str| sources.iter().find(|s| s.name == name).map_or(name.to_string(), |s| s.title.clone());
    let parts: Vec<String> = counts.iter().map(|(source, n)| format!("{} {n}", title(source))).collect();
    if parts.is_empty() { "nothing".into() } else { parts.join(", ") }
}

struct StatusColumn {
    name: String,
    id: String,
    /// Covered, elsewhere, community-only, none.
    counts: [usize; 4],
    cells: Vec<StatusCell>,
}

struct StatusCell {
    id: String,
    /// The name in parts split after each `/`, where a line may break.
    name_parts: Vec<String>,
    name: String,
    href: String,
    status: &'static str,
    /// The stack's own detections (shown before `detections` when a stack is given).
    yours: usize,
    detections: usize,
    found: String,
}

struct Gap {
    id: String,
    name: String,
    href: String,
    status: &'static str,
    found: String,
}

#[derive(Template)]
#[template(path = "coverage.html")]
struct CoverageView {
    layout: Layout,
    sources: Vec<SourceChoice>,
    community: bool,
    inferred: bool,
    have: String,
    /// Whether a stack was given: cells then read "yours / all".
    has_stack: bool,
    summary: [usize; 4],
    columns: Vec<StatusColumn>,
    gaps: Vec<Gap>,
    attack_version: String,
    /// The Navigator layer of the coverage shown, the same choices ticked.
    layer_href: String,
    domain: &'static str,
    domains: Vec<Choice>,
    tactics: Vec<Choice>,
    /// Some tactics were asked for (the picker starts open).
    tactics_asked: bool,
}

/// An option of the matrix and tactic pickers.
struct Choice {
    value: String,
    label: String,
    chosen: bool,
}

fn counts_of(summary: &ruledex_app::wire::StatusSummaryJson) -> [usize; 4] {
    CoverageStatus::ALL.map(|status| summary.get(status))
}

pub async fn coverage(State(state): State<AppState>, query: RawQuery) -> PageResult {
    let request = CoverageRequest::from_arguments(&arguments(&STACK_COVERAGE, &query, None)?);
    let layer_href = format!("/api/v1/coverage/stack/layer?{}", request.query_string());
    let (coverage, sources, tactics) = state
        .run(Cost::Ordinary, move |catalog| {
            let sources = source_choices(catalog, &request.stack.have);
            let coverage = catalog.stack_coverage(&request)?;
            let tactics = tactic_choices(catalog, &coverage, !request.tactics.is_empty());
            Ok((coverage, sources, tactics))
        })
        .await?;
    render(&coverage_view(coverage, sources, tactics, layer_href))
}

/// The tactics of the matrix shown, those shown ticked when some were asked for.
fn tactic_choices(catalog: &ruledex_app::Catalog, coverage: &StackCoverageJson, asked: bool) -> Vec<Choice> {
    let shown: Vec<_> = coverage.tactics.iter().map(|t| t.tactic.id).collect();
    catalog
        .tactics(coverage.domain)
        .into_iter()
        .map(|t| Choice { chosen: asked && shown.contains(&t.id), value: t.shortname, label: t.name })
        .collect()
}

fn domain_choices(shown: Domain) -> Vec<Choice> {
    [Domain::Enterprise, Domain::Mobile, Domain::Ics]
        .into_iter()
        .map(|d| Choice { value: d.attack_name().into(), label: d.label().into(), chosen: d == shown })
        .collect()
}

fn coverage_view(
    coverage: StackCoverageJson,
    sources: Vec<SourceChoice>,
    tactics: Vec<Choice>,
    layer_href: String,
) -> CoverageView {
    let cell = |t: &StackTechniqueJson| StatusCell {
        id: t.id.to_string(),
        name_parts: breakable_parts(&t.name),
        name: t.name.clone(),
        href: t.href.clone(),
        status: t.status.as_str(),
        yours: t.yours,
        detections: t.detections(),
        found: found_in(&t.counts, &sources),
    };
    let mut parents: Vec<&StackTechniqueJson> =
        coverage.techniques.iter().filter(|t| !t.id.is_subtechnique()).collect();
    parents.sort_by(|a, b| a.name.cmp(&b.name));
    let columns = coverage
        .tactics
        .iter()
        .map(|tactic| StatusColumn {
            name: tactic.tactic.name.clone(),
            id: tactic.tactic.id.to_string(),
            counts: counts_of(&tactic.summary),
            cells: parents.iter().filter(|t| t.tactics.contains(&tactic.tactic.id)).map(|t| cell(t)).collect(),
        })
        .collect();
    let gaps = coverage
        .techniques
        .iter()
        .filter(|t| t.status != CoverageStatus::Covered)
        .map(|t| Gap {
            id: t.id.to_string(),
            name: t.name.clone(),
            href: t.href.clone(),
            status: t.status.as_str(),
            found: found_in(&t.counts, &sources),
        })
        .collect();
    let titles: Vec<&str> = sources.iter().filter(|s| s.ticked).map(|s| s.title.as_str()).collect();
    CoverageView {
        layout: Layout::new("Coverage · ruledex"),
        have: titles.join(", "),
        has_stack: !coverage.have.is_empty() || coverage.community,
        sources,
        community: coverage.community,
        inferred: coverage.inferred,
        summary: counts_of(&coverage.summary),
        columns,
        gaps,
        attack_version: coverage.attack_version.unwrap_or_default(),
        layer_href,
        domain: coverage.domain.label(),
        domains: domain_choices(coverage.domain),
        tactics_asked: tactics.iter().any(|t| t.chosen),
        tactics,
    }
}

#[derive(Template)]
#[template(path = "attack_objects.html")]
struct ObjectsView {
    layout: Layout,
    title: &'static str,
    objects: Vec<AttackObjectJson>,
}

pub async fn attack_objects(State(state): State<AppState>, kind: ObjectKind) -> PageResult {
    let objects = state.run(Cost::Ordinary, move |catalog| Ok(catalog.attack_objects(kind))).await?;
    let title = match kind {
        ObjectKind::Group => "Groups",
        ObjectKind::Campaign => "Campaigns",
        ObjectKind::Software => "Software",
    };
    render(&ObjectsView { layout: Layout::new(format!("{title} · ruledex")), title, objects })
}

#[derive(Template)]
#[template(path = "attack_object.html")]
struct ObjectView {
    layout: Layout,
    object: AttackObjectJson,
    page: AttackObjectPageJson,
    sources: Vec<SourceChoice>,
    summary: Option<[usize; 4]>,
    /// Each technique's detections per source, in the order of `page.techniques`.
    found: Vec<String>,
    /// ATT&CK's description (Markdown) as safe HTML, without its citation markers.
    description_html: String,
}

pub async fn attack_object(
    State(state): State<AppState>,
    kind: ObjectKind,
    PathParams(name, _): PathParams<String>,
    query: RawQuery,
) -> PageResult {
    let request = ObjectRequest::from_arguments(&arguments(&ATTACK_OBJECT, &query, Some(name))?);
    let (page, sources) = state
        .run(Cost::Ordinary, move |catalog| {
            let have = request.stack.as_ref().map(|s| s.have.clone()).unwrap_or_default();
            let sources = source_choices(catalog, &have);
            Ok((catalog.attack_object_page(kind, &request)?, sources))
        })
        .await?;
    let Some(object) = page.group.clone().or(page.campaign.clone()).or(page.software.clone()) else {
        return Err(crate::error::WebError::internal("an object page without its object"));
    };
    render(&ObjectView {
        layout: Layout::new(format!("{} {} · ruledex", object.id, object.name)),
        summary: page.summary.as_ref().map(counts_of),
        found: page.techniques.iter().map(|t| found_in(&t.counts, &sources)).collect(),
        description_html: ruledex_core::markdown::to_html(&page.description),
        object,
        page,
        sources,
    })
}

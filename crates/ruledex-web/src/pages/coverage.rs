//! Coverage pages: a stack's coverage of the matrix (`/coverage`), and the groups, campaigns
//! and software of ATT&CK with the detections for the techniques they use.

use askama::Template;
use axum::extract::{RawQuery, State};
use ruledex_app::coverage::{CoverageRequest, ObjectRequest};
use ruledex_app::links;
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
    kind: String,
    ticked: bool,
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
            let sources: Vec<SourceChoice> = catalog
                .sources()
                .into_iter()
                .map(|s| SourceChoice {
                    ticked: request.stack.have.contains(&s.name),
                    name: s.name,
                    kind: s.kind.label().into(),
                })
                .collect();
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
        href: links::technique(t.id),
        status: t.status.as_str(),
        detections: t.detections(),
        found: t.found(),
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
            href: links::technique(t.id),
            status: t.status.as_str(),
            found: t.found(),
        })
        .collect();
    CoverageView {
        layout: Layout::new("Coverage · ruledex"),
        sources,
        community: coverage.community,
        inferred: coverage.inferred,
        have: coverage.have.join(", "),
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
            let sources: Vec<SourceChoice> = catalog
                .sources()
                .into_iter()
                .map(|s| SourceChoice { ticked: have.contains(&s.name), name: s.name, kind: s.kind.label().into() })
                .collect();
            Ok((catalog.attack_object_page(kind, &request)?, sources))
        })
        .await?;
    let Some(object) = page.group.clone().or(page.campaign.clone()).or(page.software.clone()) else {
        return Err(crate::error::WebError::internal("an object page without its object"));
    };
    render(&ObjectView {
        layout: Layout::new(format!("{} {} · ruledex", object.id, object.name)),
        summary: page.summary.as_ref().map(counts_of),
        object,
        page,
        sources,
    })
}

//! Pages about the catalog as a whole: home (sources and the ATT&CK matrix), search, sources.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use ruledex_app::Catalog;
use ruledex_app::links::technique as technique_url;
use ruledex_app::request::vocabulary::{MATRIX, SEARCH_PAGE};
use ruledex_app::request::{Filters, SearchRequest};
use ruledex_app::sync::SyncPhase;
use ruledex_app::wire::{MatrixJson, SearchJson, SourceJson, TechniqueSuggestionJson, TextPieceJson};

use super::changes::{ChangeItem, badge, feed_link, short_time, source_feed_href, whats_new};
use super::view::{Card, ExportLink, FacetGroup, breakable_parts, export_menu, facet_groups, short_commit, with_param};
use super::{PageResult, render};
use crate::error::WebError;
use crate::highlight::escape_into;
use crate::layout::Layout;
use crate::params::arguments;
use crate::state::{AppState, Cost};

#[derive(Template)]
#[template(path = "home.html")]
struct HomeView {
    layout: Layout,
    sync: SyncView,
    config_origin: String,
    mirrors_command: String,
    notice: String,
    sources: Vec<SourceRow>,
    detections: usize,
    attack_version: String,
    built_at: String,
    matrix: Vec<TacticColumn>,
    legend: Vec<HeatBand>,
    community: bool,
    inferred: bool,
    /// Links that flip the community and inferred switches, keeping the other.
    community_switch: String,
    inferred_switch: String,
    whats_new: Vec<ChangeItem>,
    feed_href: &'static str,
}

#[derive(Default)]
struct SyncView {
    running: bool,
    step: String,
    files_read: usize,
    files_total: usize,
    failed: String,
    problems: Vec<String>,
    /// The last sync found nothing changed upstream.
    unchanged: bool,
}

struct SourceRow {
    name: String,
    title: String,
    product: String,
    kind: String,
    detections: usize,
    files: usize,
    failures: usize,
    commit: String,
    commit_short: String,
    repository: String,
    synced_at: String,
    license: String,
    error: String,
}

struct TacticColumn {
    name: String,
    id: String,
    cells: Vec<Cell>,
}

struct Cell {
    id: String,
    /// The name in parts split after each `/`, where a line may break.
    name_parts: Vec<String>,
    name: String,
    href: String,
    count: usize,
    /// Detections listed only through ruledex's mapping, when not in `count`.
    inferred: usize,
    heat: usize,
}

/// One shade of the matrix's colour scale, for its legend.
struct HeatBand {
    heat: usize,
    label: String,
}

/// What the home page shows of the catalog, when there is one.
#[derive(Default)]
struct CatalogSummary {
    sources: Vec<SourceRow>,
    matrix: Vec<TacticColumn>,
    detections: usize,
    attack_version: String,
    built_at: String,
    whats_new: Vec<ChangeItem>,
}

pub async fn home(State(state): State<AppState>, query: RawQuery) -> PageResult {
    let filters = Filters::from_arguments(&arguments(&MATRIX, &query, None)?);
    let (community, inferred) = (filters.community, filters.asked.include_inferred);
    let summary = match state.catalog() {
        Some(_) => state.run(Cost::Ordinary, move |catalog| catalog_summary(catalog, &filters)).await?,
        None => CatalogSummary::default(),
    };
    let mut layout = Layout::new("ruledex · vendor-native detections cross-linked to ATT&CK")
        .with_attack(Some(summary.attack_version.clone()).filter(|v| !v.is_empty()));
    layout.feeds.push(feed_link("ruledex · what changed", "/feed.atom"));
    render(&HomeView {
        layout,
        sync: sync_view(state.sync_phase()),
        config_origin: state.setup().config_origin.clone(),
        mirrors_command: state.setup().mirrors_command.clone(),
        notice: state.setup().notice.clone().unwrap_or_default(),
        sources: summary.sources,
        detections: summary.detections,
        attack_version: summary.attack_version,
        built_at: summary.built_at,
        matrix: summary.matrix,
        legend: heat_legend(),
        community,
        inferred,
        community_switch: switches(!community, inferred),
        inferred_switch: switches(community, !inferred),
        whats_new: summary.whats_new,
        feed_href: "/feed.atom",
    })
}

/// The home page's address with the matrix's two switches set.
fn switches(community: bool, inferred: bool) -> String {
    match (community, inferred) {
        (false, false) => "/".into(),
        (true, false) => "/?community=1".into(),
        (false, true) => "/?inferred=1".into(),
        (true, true) => "/?community=1&inferred=1".into(),
    }
}

fn catalog_summary(catalog: &Catalog, filters: &Filters) -> Result<CatalogSummary, WebError> {
    let info = catalog.catalog_info();
    Ok(CatalogSummary {
        sources: source_rows(&catalog.sources()),
        matrix: matrix(&catalog.matrix(filters)?),
        detections: info.detections,
        attack_version: info.attack_version.unwrap_or_default(),
        built_at: short_time(info.built_at.as_deref().unwrap_or_default()),
        whats_new: whats_new(catalog, None)?,
    })
}

fn sync_view(phase: SyncPhase) -> SyncView {
    match phase {
        SyncPhase::Idle => SyncView::default(),
        SyncPhase::Running { step, files_read, files_total } => {
            SyncView { running: true, step, files_read, files_total, ..SyncView::default() }
        }
        SyncPhase::Finished { problems, unchanged } => SyncView { problems, unchanged, ..SyncView::default() },
        SyncPhase::Failed { error } => SyncView { failed: error, ..SyncView::default() },
    }
}

fn source_rows(sources: &[SourceJson]) -> Vec<SourceRow> {
    sources
        .iter()
        .map(|s| {
            let commit = s.commit.clone().unwrap_or_default();
            SourceRow {
                name: s.name.clone(),
                title: s.title.clone(),
                product: s.product.clone(),
                kind: s.kind.label().to_string(),
                detections: s.detections,
                files: s.files,
                failures: s.failures.len(),
                commit_short: short_commit(&commit).to_string(),
                commit,
                repository: s.repository.clone().unwrap_or_default(),
                synced_at: short_time(&s.synced_at),
                license: s.license.clone().unwrap_or_default(),
                error: s.error.clone().unwrap_or_default(),
            }
        })
        .collect()
}

/// The matrix's tactics as columns, their techniques as cells.
fn matrix(matrix: &MatrixJson) -> Vec<TacticColumn> {
    matrix
        .tactics
        .iter()
        .map(|tactic| TacticColumn {
            name: tactic.name.clone(),
            id: tactic.id.to_string(),
            cells: tactic
                .techniques
                .iter()
                .map(|t| Cell {
                    id: t.id.to_string(),
                    name_parts: breakable_parts(&t.name),
                    name: t.name.clone(),
                    href: technique_url(t.id),
                    count: t.detections,
                    inferred: t.inferred,
                    heat: heat(t.detections),
                })
                .collect(),
        })
        .collect()
}

/// The lowest count of each shade after none: roughly thirds of a power of ten, so that 5, 50
/// and 500 detections look different (counts run from 1 to over a thousand).
const HEAT_FLOORS: [usize; 6] = [1, 3, 10, 30, 100, 300];

/// The shade of a count: 0 for none, else the last band whose floor it reaches.
fn heat(count: usize) -> usize {
    HEAT_FLOORS.iter().filter(|floor| count >= **floor).count()
}

fn heat_legend() -> Vec<HeatBand> {
    let none = HeatBand { heat: 0, label: "0".into() };
    let bands = HEAT_FLOORS.iter().enumerate().map(|(i, floor)| {
        let label = match HEAT_FLOORS.get(i + 1) {
            Some(next) if next - 1 == *floor => floor.to_string(),
            Some(next) => format!("{floor}–{}", next - 1),
            None => format!("{floor}+"),
        };
        HeatBand { heat: i + 1, label }
    });
    std::iter::once(none).chain(bands).collect()
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchView {
    layout: Layout,
    query: String,
    /// The search the results are for when the one typed was corrected; empty otherwise.
    corrected: String,
    total: usize,
    /// Matches of every word; fewer than `total` when matches of some words follow.
    total_every_word: usize,
    offset: usize,
    hits: Vec<Hit>,
    techniques: Vec<TechniqueMatch>,
    facets: Vec<FacetGroup>,
    show_deprecated: bool,
    previous: String,
    next: String,
    exports: Vec<ExportLink>,
}

struct Hit {
    card: Card,
    title_html: String,
    snippet_html: String,
    /// The first hit matching only some of the search's words: a heading goes before it.
    first_partial: bool,
}

struct TechniqueMatch {
    href: String,
    label: String,
}

/// Techniques offered above the results.
const TECHNIQUE_MATCHES: usize = 6;

pub async fn search(State(state): State<AppState>, query: RawQuery) -> Result<Response, WebError> {
    let request = SearchRequest::from_arguments(&arguments(&SEARCH_PAGE, &query, None)?)?;
    let raw_query = query.0.unwrap_or_default();
    let badge_days = state.badge_days();
    if request.text.trim().is_empty() {
        return Ok(render(&empty_search(&request))?.into_response());
    }
    state
        .run(Cost::Search, move |catalog| {
            if let Some(id) = catalog.technique_in_search(&request.text) {
                return Ok(Redirect::to(&technique_url(id)).into_response());
            }
            let techniques = catalog.suggest_techniques(&request.text, &request.filters, TECHNIQUE_MATCHES)?;
            let results = catalog.search(&request)?;
            let view = results_view(catalog, badge_days, &request, &results, &raw_query, techniques)?;
            Ok(render(&view)?.into_response())
        })
        .await
}

fn empty_search(request: &SearchRequest) -> SearchView {
    SearchView {
        layout: Layout::new("Search · ruledex"),
        query: String::new(),
        corrected: String::new(),
        total: 0,
        total_every_word: 0,
        offset: 0,
        hits: vec![],
        techniques: vec![],
        facets: vec![],
        show_deprecated: request.filters.asked.include_deprecated,
        previous: String::new(),
        next: String::new(),
        exports: vec![],
    }
}

fn results_view(
    catalog: &Catalog,
    badge_days: u32,
    request: &SearchRequest,
    results: &SearchJson,
    raw_query: &str,
    techniques: Vec<TechniqueSuggestionJson>,
) -> Result<SearchView, WebError> {
    let recent = catalog.recent_changes(badge_days)?;
    let hits = results
        .detections
        .iter()
        .enumerate()
        .map(|(i, hit)| Hit {
            card: Card {
                change_badge: badge(&recent, &hit.detection.source, &hit.detection.id),
                ..Card::new(i, &hit.detection, None)
            },
            title_html: marked(&hit.title_marked),
            snippet_html: marked(&hit.snippet_marked),
            first_partial: !hit.every_word && (i == 0 || results.detections[i - 1].every_word),
        })
        .collect();
    let page = |offset: usize| format!("/search?{}", with_param(raw_query, "offset", &offset.to_string()));
    let last = results.offset + results.detections.len();
    let mut layout = Layout::new(format!("{} · search", request.text)).with_attack(catalog.attack_version());
    layout.search = request.text.clone();
    let sources = &request.filters.asked.sources;
    Ok(SearchView {
        layout,
        query: request.text.clone(),
        corrected: results.corrected_query.clone().unwrap_or_default(),
        total: results.total,
        total_every_word: results.total_every_word,
        offset: results.offset,
        hits,
        techniques: techniques
            .into_iter()
            .map(|t| TechniqueMatch { href: technique_url(t.id), label: format!("{} {}", t.id, t.name) })
            .collect(),
        facets: facet_groups(&results.facets, &results.facets, &request.filters, &catalog.community_vendors()),
        show_deprecated: request.filters.asked.include_deprecated,
        previous: if results.offset > 0 { page(results.offset.saturating_sub(results.limit)) } else { String::new() },
        next: if last < results.total { page(last) } else { String::new() },
        exports: export_menu(
            results
                .facets
                .sources
                .keys()
                .filter(|source| sources.is_empty() || sources.contains(source))
                .filter_map(|source| catalog.source_format(source)),
            &with_param(&with_param(raw_query, "offset", ""), "limit", ""),
        ),
    })
}

/// Escapes each piece and wraps the matched ones in `<mark>`.
fn marked(pieces: &[TextPieceJson]) -> String {
    let mut html = String::new();
    for piece in pieces {
        if piece.matched {
            html.push_str("<mark>");
        }
        escape_into(&mut html, &piece.text);
        if piece.matched {
            html.push_str("</mark>");
        }
    }
    html
}

#[derive(Template)]
#[template(path = "sources.html")]
struct SourcesView {
    layout: Layout,
    sources: Vec<SourceDetail>,
    /// The ATT&CK release the catalog was built from.
    release: String,
}

/// A source's unknown tags, most used first, each marked when it is newer than the loaded
/// ATT&CK release (Sigma's `stealth` tactic, T1685 and up when ATT&CK 18.1 is loaded).
fn unknown_tags(source: &SourceJson) -> Vec<(String, usize, bool)> {
    let attack = &source.attack;
    let mut tags: Vec<(String, usize, bool)> =
        attack.unknown.iter().map(|(tag, n)| (tag.clone(), *n, attack.newer_than_release.contains(tag))).collect();
    tags.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    tags
}

struct SourceDetail {
    row: SourceRow,
    feed_href: String,
    format: String,
    files_parsed: usize,
    mapped: usize,
    techniques: usize,
    revoked: usize,
    deprecated: usize,
    unknown: usize,
    /// Each tag that names nothing in the loaded ATT&CK: the tag, how often, and whether it is
    /// newer than the loaded release.
    unknown_tags: Vec<(String, usize, bool)>,
    atlas_refs: usize,
    failures: Vec<(String, String)>,
}

pub async fn sources(State(state): State<AppState>) -> PageResult {
    state
        .run(Cost::Ordinary, |catalog| {
            let statuses = catalog.sources();
            let sources = statuses
                .iter()
                .zip(source_rows(&statuses))
                .map(|(s, row)| SourceDetail {
                    feed_href: source_feed_href(&s.name),
                    row,
                    format: s.format.to_string(),
                    files_parsed: s.files_parsed,
                    mapped: s.attack.mapped_detections,
                    techniques: s.attack.techniques,
                    revoked: s.attack.revoked_tags,
                    deprecated: s.attack.deprecated_tags,
                    unknown: s.attack.unknown_tags,
                    unknown_tags: unknown_tags(s),
                    atlas_refs: s.attack.atlas_refs,
                    failures: s.failures.iter().map(|f| (f.path.clone(), f.reason.clone())).collect(),
                })
                .collect();
            let release = catalog.attack_version().unwrap_or_else(|| "loaded".into());
            let mut layout = Layout::new("Sources · ruledex").with_attack(catalog.attack_version());
            for s in &statuses {
                layout
                    .feeds
                    .push(feed_link(format!("ruledex · what changed in {}", s.title), source_feed_href(&s.name)));
            }
            render(&SourcesView { layout, sources, release })
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_escaped_pieces() {
        let piece = |text: &str, matched| TextPieceJson { text: text.into(), matched };
        let text = [piece("a ", false), piece("<b>", true), piece("\u{2} c", false)];
        assert_eq!(marked(&text), "a <mark>&lt;b&gt;</mark>\u{2} c");
    }
}

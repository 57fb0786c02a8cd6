//! Pages about the catalog as a whole: home (sources and the ATT&CK matrix), search, sources.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use ruledex_app::Catalog;
use ruledex_app::links::technique as technique_url;
use ruledex_app::sync::SyncPhase;
use ruledex_core::attack::{Domain, Technique};
use ruledex_core::ids::TechniqueId;
use ruledex_core::query::SearchQuery;
use ruledex_store::{Marked, SourceStatus};

use super::changes::{ChangeItem, badge, feed_link, short_time, source_feed_href, whats_new};
use super::view::{
    Card, ExportLink, FacetGroup, FacetScope, breakable_parts, export_menu, facet_groups, short_commit, with_param,
};
use super::{PageResult, params, render};
use crate::error::WebError;
use crate::highlight::escape_into;
use crate::layout::Layout;
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
    let params = params(&query)?;
    let (community, inferred) = (params.community(), params.inferred());
    let summary = match state.catalog() {
        Some(_) => {
            let filter = params.technique_filter()?;
            state.run(Cost::Ordinary, move |catalog| catalog_summary(catalog, &filter, inferred)).await?
        }
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

fn catalog_summary(
    catalog: &Catalog,
    filter: &ruledex_core::query::Filter,
    with_inferred: bool,
) -> Result<CatalogSummary, WebError> {
    let store = catalog.store();
    let counts = store.technique_counts(filter).map_err(ruledex_app::ServiceError::from)?;
    let info = store.info();
    let count = |id| {
        let inferred = counts.inferred(id);
        if with_inferred { (counts.family(id), 0) } else { (counts.family(id) - inferred, inferred) }
    };
    Ok(CatalogSummary {
        sources: source_rows(store.sources()),
        matrix: matrix(catalog, count),
        detections: info.detections,
        attack_version: info.attack_version.clone().unwrap_or_default(),
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

fn source_rows(sources: &[SourceStatus]) -> Vec<SourceRow> {
    sources
        .iter()
        .map(|s| {
            let r = &s.report;
            let commit = r.commit.clone().unwrap_or_default();
            SourceRow {
                name: r.name.clone(),
                kind: r.kind.label().to_string(),
                detections: r.detections,
                files: r.files,
                failures: r.failures.len(),
                commit_short: short_commit(&commit).to_string(),
                commit,
                repository: r.repository.clone().unwrap_or_default(),
                synced_at: short_time(&s.synced_at),
                license: r.license.clone().unwrap_or_default(),
                error: s.error.clone().unwrap_or_default(),
            }
        })
        .collect()
}

/// Enterprise tactics as columns, their (parent) techniques as cells; `count` gives a
/// technique's detections counted and those left out for being only ruledex's mapping.
fn matrix(catalog: &Catalog, count: impl Fn(TechniqueId) -> (usize, usize)) -> Vec<TacticColumn> {
    let attack = catalog.store().attack();
    let mut techniques: Vec<&Technique> = attack
        .techniques()
        .filter(|t| t.domain == Domain::Enterprise && !t.id.is_subtechnique() && !t.revoked && !t.deprecated)
        .collect();
    techniques.sort_by(|a, b| a.name.cmp(&b.name));
    attack
        .tactics()
        .iter()
        .filter(|t| t.domain == Domain::Enterprise)
        .map(|tactic| TacticColumn {
            name: tactic.name.clone(),
            id: tactic.id.to_string(),
            cells: techniques
                .iter()
                .filter(|t| t.tactics.contains(&tactic.id))
                .map(|t| {
                    let (n, inferred) = count(t.id);
                    Cell {
                        id: t.id.to_string(),
                        name_parts: breakable_parts(&t.name),
                        name: t.name.clone(),
                        href: technique_url(t.id),
                        count: n,
                        inferred,
                        heat: heat(n),
                    }
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
}

struct TechniqueMatch {
    href: String,
    label: String,
}

/// The default page size of the search page.
const PAGE_SIZE: usize = 20;
/// Techniques offered above the results.
const TECHNIQUE_MATCHES: usize = 6;

pub async fn search(State(state): State<AppState>, query: RawQuery) -> Result<Response, WebError> {
    let params = params(&query)?;
    let search = params.search(PAGE_SIZE)?;
    let technique_filter = params.technique_filter()?;
    let raw_query = query.0.unwrap_or_default();
    let badge_days = state.badge_days();
    if search.text.trim().is_empty() {
        return Ok(render(&empty_search(&search))?.into_response());
    }
    state
        .run(Cost::Search, move |catalog| {
            if let Some(id) = catalog.technique_in_search(&search.text) {
                return Ok(Redirect::to(&technique_url(id)).into_response());
            }
            let techniques = catalog.suggest_techniques(&search.text, &technique_filter, TECHNIQUE_MATCHES)?;
            let view = results(catalog, badge_days, &search, &raw_query, techniques)?;
            Ok(render(&view)?.into_response())
        })
        .await
}

fn empty_search(search: &SearchQuery) -> SearchView {
    SearchView {
        layout: Layout::new("Search · ruledex"),
        query: String::new(),
        corrected: String::new(),
        total: 0,
        offset: 0,
        hits: vec![],
        techniques: vec![],
        facets: vec![],
        show_deprecated: search.filter.include_deprecated,
        previous: String::new(),
        next: String::new(),
        exports: vec![],
    }
}

fn results(
    catalog: &Catalog,
    badge_days: u32,
    search: &SearchQuery,
    raw_query: &str,
    techniques: Vec<ruledex_app::wire::TechniqueSuggestionJson>,
) -> Result<SearchView, WebError> {
    let results = catalog.search(search)?;
    let recent = catalog.recent_changes(badge_days)?;
    let hits = results
        .hits
        .iter()
        .enumerate()
        .map(|(i, hit)| Hit {
            card: Card {
                change_badge: badge(&recent, &hit.detection),
                ..Card::new(i, &hit.detection, None, &Default::default())
            },
            title_html: marked(&hit.title),
            snippet_html: marked(&hit.snippet),
        })
        .collect();
    let page = |offset: usize| format!("/search?{}", with_param(raw_query, "offset", &offset.to_string()));
    let last = results.offset + results.hits.len();
    let mut layout = Layout::new(format!("{} · search", search.text)).with_attack(catalog.attack_version());
    layout.search = search.text.clone();
    Ok(SearchView {
        layout,
        query: search.text.clone(),
        corrected: results.corrected_query.clone().unwrap_or_default(),
        total: results.total,
        offset: results.offset,
        hits,
        techniques: techniques
            .into_iter()
            .map(|t| TechniqueMatch { href: technique_url(t.id), label: format!("{} {}", t.id, t.name) })
            .collect(),
        facets: facet_groups(
            &results.facets,
            &results.facets,
            &search.filter,
            &FacetScope { community_vendors: &catalog.store().community_vendors(), vendor_native: None },
        ),
        show_deprecated: search.filter.include_deprecated,
        previous: if results.offset > 0 { page(results.offset.saturating_sub(results.limit)) } else { String::new() },
        next: if last < results.total { page(last) } else { String::new() },
        exports: export_menu(
            results
                .facets
                .sources
                .keys()
                .filter(|source| search.filter.sources.is_empty() || search.filter.sources.contains(source))
                .filter_map(|source| catalog.source_format(source)),
            &with_param(&with_param(raw_query, "offset", ""), "limit", ""),
        ),
    })
}

/// Escapes each piece and wraps the matched ones in `<mark>`.
fn marked(text: &Marked) -> String {
    let mut html = String::new();
    for (piece, matched) in &text.0 {
        if *matched {
            html.push_str("<mark>");
        }
        escape_into(&mut html, piece);
        if *matched {
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
fn unknown_tags(catalog: &Catalog, unknown: &std::collections::BTreeMap<String, usize>) -> Vec<(String, usize, bool)> {
    let attack = catalog.store().attack();
    let mut tags: Vec<(String, usize, bool)> =
        unknown.iter().map(|(tag, n)| (tag.clone(), *n, attack.is_newer_than_release(tag))).collect();
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
            let statuses = catalog.store().sources();
            let sources = statuses
                .iter()
                .zip(source_rows(statuses))
                .map(|(s, row)| {
                    let r = &s.report;
                    SourceDetail {
                        feed_href: source_feed_href(&r.name),
                        row,
                        format: r.format.to_string(),
                        files_parsed: r.files_parsed,
                        mapped: r.attack.mapped_detections,
                        techniques: r.attack.techniques,
                        revoked: r.attack.revoked_tags,
                        deprecated: r.attack.deprecated_tags,
                        unknown: r.attack.unknown_tags,
                        unknown_tags: unknown_tags(catalog, &r.attack.unknown),
                        atlas_refs: r.attack.atlas_refs,
                        failures: r.failures.iter().map(|f| (f.path.clone(), f.reason.clone())).collect(),
                    }
                })
                .collect();
            let release = catalog.attack_version().unwrap_or_else(|| "loaded".into());
            let mut layout = Layout::new("Sources · ruledex").with_attack(catalog.attack_version());
            for s in statuses {
                let name = &s.report.name;
                layout.feeds.push(feed_link(format!("ruledex · what changed in {name}"), source_feed_href(name)));
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
        let text = Marked(vec![("a ".into(), false), ("<b>".into(), true), ("\u{2} c".into(), false)]);
        assert_eq!(marked(&text), "a <mark>&lt;b&gt;</mark>\u{2} c");
    }
}

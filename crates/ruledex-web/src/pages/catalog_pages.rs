//! Pages about the catalog as a whole: home (sources and the ATT&CK matrix), search, sources.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use ruledex_core::attack::{Domain, Technique};
use ruledex_core::ids::TechniqueId;
use ruledex_core::query::SearchQuery;
use ruledex_store::{HIGHLIGHT_END, HIGHLIGHT_START, SourceStatus};

use super::view::{Card, FacetGroup, Layout, facet_groups, short_commit, technique_url};
use super::{PageResult, catalog, params, render};
use crate::error::WebError;
use crate::highlight::escape_into;
use crate::state::{AppState, Catalog, SyncPhase};

#[derive(Template)]
#[template(path = "home.html")]
struct HomeView {
    layout: Layout,
    sync: SyncView,
    config_origin: String,
    sources: Vec<SourceRow>,
    detections: usize,
    attack_version: String,
    built_at: String,
    matrix: Vec<TacticColumn>,
    community: bool,
}

struct SyncView {
    running: bool,
    step: String,
    files_read: usize,
    files_total: usize,
    failed: String,
    problems: Vec<String>,
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
    name: String,
    href: String,
    count: usize,
    heat: u8,
}

pub async fn home(State(state): State<AppState>, query: RawQuery) -> PageResult {
    let params = params(&query)?;
    let sync = sync_view(state.sync_phase());
    let catalog = state.catalog();
    let (sources, matrix, detections, attack_version, built_at) = match &catalog {
        Some(catalog) => {
            let filter = params.technique_filter()?;
            let counts = catalog.store.technique_counts(&filter)?;
            let matrix = matrix(catalog, |id| counts.family(id));
            let info = &catalog.info;
            let version = info.attack_version.clone().unwrap_or_default();
            (
                source_rows(&catalog.sources),
                matrix,
                info.detections,
                version,
                short_time(info.built_at.as_deref().unwrap_or_default()),
            )
        }
        None => Default::default(),
    };
    render(&HomeView {
        layout: Layout::new("ruledex · vendor-native detections cross-linked to ATT&CK"),
        sync,
        config_origin: state.config_origin().to_string(),
        sources,
        detections,
        attack_version,
        built_at,
        matrix,
        community: params.community(),
    })
}

fn sync_view(phase: SyncPhase) -> SyncView {
    let mut view = SyncView {
        running: false,
        step: String::new(),
        files_read: 0,
        files_total: 0,
        failed: String::new(),
        problems: vec![],
    };
    match phase {
        SyncPhase::Idle => {}
        SyncPhase::Running { step, files_read, files_total } => {
            (view.running, view.step, view.files_read, view.files_total) = (true, step, files_read, files_total);
        }
        SyncPhase::Finished { problems } => view.problems = problems,
        SyncPhase::Failed { error } => view.failed = error,
    }
    view
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

/// "2026-11-28T08:56:44.16Z" as "2026-11-28 08:56 UTC".
fn short_time(timestamp: &str) -> String {
    match timestamp.get(..16) {
        Some(minutes) => format!("{} UTC", minutes.replace('T', " ")),
        None => timestamp.to_string(),
    }
}

/// Enterprise tactics as columns, their (parent) techniques as cells.
fn matrix(catalog: &Catalog, count: impl Fn(TechniqueId) -> usize) -> Vec<TacticColumn> {
    let mut techniques: Vec<&Technique> = catalog
        .techniques
        .values()
        .filter(|t| t.domain == Domain::Enterprise && !t.id.is_subtechnique() && !t.revoked && !t.deprecated)
        .collect();
    techniques.sort_by(|a, b| a.name.cmp(&b.name));
    catalog
        .tactics
        .iter()
        .filter(|t| t.domain == Domain::Enterprise)
        .map(|tactic| TacticColumn {
            name: tactic.name.clone(),
            id: tactic.id.to_string(),
            cells: techniques
                .iter()
                .filter(|t| t.tactics.contains(&tactic.id))
                .map(|t| {
                    let n = count(t.id);
                    Cell {
                        id: t.id.to_string(),
                        name: t.name.clone(),
                        href: technique_url(t.id),
                        count: n,
                        heat: heat(n),
                    }
                })
                .collect(),
        })
        .collect()
}

/// Shade bands for the matrix: none, 1-2, 3-5, 6-10, 11-20, more.
fn heat(count: usize) -> u8 {
    match count {
        0 => 0,
        1..=2 => 1,
        3..=5 => 2,
        6..=10 => 3,
        11..=20 => 4,
        _ => 5,
    }
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchView {
    layout: Layout,
    query: String,
    total: usize,
    offset: usize,
    hits: Vec<Hit>,
    techniques: Vec<TechniqueMatch>,
    facets: Vec<FacetGroup>,
    show_deprecated: bool,
    previous: String,
    next: String,
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

pub async fn search(State(state): State<AppState>, query: RawQuery) -> Result<Response, WebError> {
    let catalog = catalog(&state)?;
    let params = params(&query)?;
    let search = params.search(PAGE_SIZE)?;
    if let Some(id) = technique_in(&catalog, &search.text) {
        return Ok(Redirect::to(&technique_url(id)).into_response());
    }
    let mut layout = Layout::new(format!("{} · search", search.text));
    layout.search = search.text.clone();
    let view = if search.text.trim().is_empty() {
        empty_search(layout, &search)
    } else {
        results(&catalog, layout, &search, query.0.as_deref().unwrap_or_default())?
    };
    Ok(render(&view)?.into_response())
}

/// "T1090", "t1090.003" or "T1090 · Proxy" (a suggestion picked in the search box) leads
/// straight to the technique.
fn technique_in(catalog: &Catalog, text: &str) -> Option<TechniqueId> {
    let first = text.split_whitespace().next()?;
    let id: TechniqueId = first.parse().ok()?;
    catalog.techniques.contains_key(&id).then_some(id)
}

fn empty_search(layout: Layout, search: &SearchQuery) -> SearchView {
    SearchView {
        layout,
        query: String::new(),
        total: 0,
        offset: 0,
        hits: vec![],
        techniques: vec![],
        facets: vec![],
        show_deprecated: search.filter.include_deprecated,
        previous: String::new(),
        next: String::new(),
    }
}

fn results(catalog: &Catalog, layout: Layout, search: &SearchQuery, raw_query: &str) -> Result<SearchView, WebError> {
    let results = catalog.store.search(search)?;
    let hits = results
        .hits
        .iter()
        .enumerate()
        .map(|(i, hit)| Hit {
            card: Card::new(i, &hit.detection, None, &Default::default()),
            title_html: marked(&hit.title),
            snippet_html: marked(&hit.snippet),
        })
        .collect();
    let page = |offset: usize| format!("/search?{}", with_offset(raw_query, offset));
    let last = results.offset + results.hits.len();
    Ok(SearchView {
        layout,
        query: search.text.clone(),
        total: results.total,
        offset: results.offset,
        hits,
        techniques: technique_matches(catalog, &search.text),
        facets: facet_groups(&results.facets, &results.facets, &search.filter),
        show_deprecated: search.filter.include_deprecated,
        previous: if results.offset > 0 { page(results.offset.saturating_sub(results.limit)) } else { String::new() },
        next: if last < results.total { page(last) } else { String::new() },
    })
}

/// Techniques whose name holds every word typed, so "proxy" offers T1090 Proxy in one click.
fn technique_matches(catalog: &Catalog, text: &str) -> Vec<TechniqueMatch> {
    let words: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
    if words.is_empty() || words.iter().any(|w| matches!(w.as_str(), "and" | "or" | "not")) {
        return vec![];
    }
    let mut matches: Vec<(TechniqueId, String)> = catalog
        .techniques
        .values()
        .filter(|t| !t.revoked && !t.deprecated)
        .filter_map(|t| {
            let name = catalog.full_name(t.id)?;
            let lower = name.to_lowercase();
            words.iter().all(|w| lower.contains(w.as_str())).then_some((t.id, name))
        })
        .collect();
    matches.sort_by_key(|(id, name)| (name.len(), *id));
    matches
        .into_iter()
        .take(6)
        .map(|(id, name)| TechniqueMatch { href: technique_url(id), label: format!("{id} {name}") })
        .collect()
}

/// Escapes text and turns the store's highlight markers into `<mark>`.
fn marked(text: &str) -> String {
    let mut html = String::with_capacity(text.len() + 16);
    escape_into(&mut html, text);
    html.replace(HIGHLIGHT_START, "<mark>").replace(HIGHLIGHT_END, "</mark>")
}

/// The query string with `offset` replaced.
fn with_offset(raw_query: &str, offset: usize) -> String {
    let mut pairs: Vec<&str> = raw_query.split('&').filter(|p| !p.is_empty() && !p.starts_with("offset=")).collect();
    let offset = format!("offset={offset}");
    pairs.push(&offset);
    pairs.join("&")
}

#[derive(Template)]
#[template(path = "sources.html")]
struct SourcesView {
    layout: Layout,
    sources: Vec<SourceDetail>,
}

struct SourceDetail {
    row: SourceRow,
    format: String,
    files_parsed: usize,
    mapped: usize,
    techniques: usize,
    revoked: usize,
    deprecated: usize,
    unknown: usize,
    failures: Vec<(String, String)>,
}

pub async fn sources(State(state): State<AppState>) -> PageResult {
    let catalog = catalog(&state)?;
    let sources = catalog
        .sources
        .iter()
        .zip(source_rows(&catalog.sources))
        .map(|(s, row)| {
            let r = &s.report;
            SourceDetail {
                row,
                format: r.format.to_string(),
                files_parsed: r.files_parsed,
                mapped: r.attack.mapped_detections,
                techniques: r.attack.techniques,
                revoked: r.attack.revoked_tags,
                deprecated: r.attack.deprecated_tags,
                unknown: r.attack.unknown_tags,
                failures: r.failures.iter().map(|f| (f.path.clone(), f.reason.clone())).collect(),
            }
        })
        .collect();
    render(&SourcesView { layout: Layout::new("Sources · ruledex"), sources })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_are_escaped_before_marking() {
        let text = format!("a {HIGHLIGHT_START}<b>{HIGHLIGHT_END} c");
        assert_eq!(marked(&text), "a <mark>&lt;b&gt;</mark> c");
    }

    #[test]
    fn paging_links_replace_the_offset() {
        assert_eq!(with_offset("q=tor&offset=20&limit=20", 40), "q=tor&limit=20&offset=40");
        assert_eq!(with_offset("", 0), "offset=0");
    }
}

//! The JSON API under `/api/v1/`: the same data as the pages, described by `openapi.json`.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use ruledex_core::model::Detection;
use ruledex_core::query::SearchQuery;
use ruledex_store::{CatalogInfo, SourceStatus, TechniquePage};
use serde::Serialize;
use serde_json::{Value, json};

use crate::error::{ApiError, WebError};
use crate::pages::catalog;
use crate::params::{FilterParams, PathParams, technique_id};
use crate::state::{AppState, SyncPhase};

type ApiResult<T> = Result<Json<T>, ApiError>;

#[derive(Serialize)]
pub struct TechniqueResponse {
    attack_version: Option<String>,
    #[serde(flatten)]
    page: TechniquePage,
}

/// A technique and its detections, filtered like the page (vendor-native unless asked).
pub async fn technique(
    State(state): State<AppState>,
    PathParams(raw, _): PathParams<String, ApiError>,
    query: RawQuery,
) -> ApiResult<TechniqueResponse> {
    let catalog = catalog(&state)?;
    let params = FilterParams::parse(query.0.as_deref())?;
    let id = technique_id(&raw)?;
    let page = catalog.store.technique_page(id, params.exact(), &params.technique_filter()?)?;
    let page = page.ok_or_else(|| {
        WebError::not_found(format!("{id} is not an ATT&CK technique, and no detection is tagged with it"))
    })?;
    Ok(Json(TechniqueResponse { attack_version: catalog.info.attack_version.clone(), page }))
}

#[derive(Serialize)]
pub struct TechniqueSuggestion {
    id: String,
    name: String,
    /// Vendor-native detections for the technique and its sub-techniques.
    detections: usize,
}

/// Techniques whose ID or name starts with or contains `q`, for search-box suggestions.
pub async fn technique_suggestions(
    State(state): State<AppState>,
    query: RawQuery,
) -> ApiResult<Vec<TechniqueSuggestion>> {
    let catalog = catalog(&state)?;
    let params = FilterParams::parse(query.0.as_deref())?;
    let wanted = params.q.as_deref().unwrap_or_default().trim().to_lowercase();
    if wanted.is_empty() {
        return Err(WebError::BadRequest("give `q`: part of a technique ID or name".into()).into());
    }
    let counts = catalog.store.technique_counts(&params.technique_filter()?)?;
    let mut found: Vec<(bool, TechniqueSuggestion)> = catalog
        .techniques
        .values()
        .filter(|t| !t.revoked)
        .filter_map(|t| {
            let name = catalog.full_name(t.id)?;
            let id = t.id.to_string();
            let starts = id.to_lowercase().starts_with(&wanted) || name.to_lowercase().starts_with(&wanted);
            let contains = starts || name.to_lowercase().contains(&wanted);
            contains.then(|| (starts, TechniqueSuggestion { detections: counts.family(t.id), id, name }))
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.detections.cmp(&a.1.detections)).then(a.1.id.cmp(&b.1.id)));
    Ok(Json(found.into_iter().take(10).map(|(_, s)| s).collect()))
}

/// One detection, long texts included.
pub async fn detection(
    State(state): State<AppState>,
    PathParams((source, id), _): PathParams<(String, String), ApiError>,
) -> ApiResult<Detection> {
    let catalog = catalog(&state)?;
    Ok(Json(crate::pages::find_detection(&catalog, &source, &id)?))
}

#[derive(Serialize)]
pub struct SearchResponse {
    query: String,
    total: usize,
    offset: usize,
    limit: usize,
    facets: ruledex_core::query::FacetCounts,
    detections: Vec<Value>,
}

pub async fn search(State(state): State<AppState>, query: RawQuery) -> ApiResult<SearchResponse> {
    let catalog = catalog(&state)?;
    let search: SearchQuery = FilterParams::parse(query.0.as_deref())?.search(SearchQuery::DEFAULT_LIMIT)?;
    let results = catalog.store.search(&search)?;
    let detections = results
        .hits
        .iter()
        .map(|hit| {
            let mut value = serde_json::to_value(&hit.detection).map_err(|e| WebError::Internal(e.to_string()))?;
            value["score"] = json!(hit.score);
            value["snippet"] = json!(ruledex_store::plain_text(&hit.snippet));
            Ok(value)
        })
        .collect::<Result<Vec<Value>, WebError>>()?;
    Ok(Json(SearchResponse {
        query: search.text,
        total: results.total,
        offset: results.offset,
        limit: results.limit,
        facets: results.facets,
        detections,
    }))
}

pub async fn sources(State(state): State<AppState>) -> ApiResult<Vec<SourceStatus>> {
    Ok(Json(catalog(&state)?.sources.clone()))
}

#[derive(Serialize)]
pub struct StatsResponse {
    catalog: CatalogInfo,
    sources: Vec<SourceStatus>,
}

pub async fn stats(State(state): State<AppState>) -> ApiResult<StatsResponse> {
    let catalog = catalog(&state)?;
    Ok(Json(StatsResponse { catalog: catalog.info.clone(), sources: catalog.sources.clone() }))
}

#[derive(Serialize)]
pub struct CoverageResponse {
    attack_version: Option<String>,
    tactics: Vec<ruledex_core::attack::Tactic>,
    /// Techniques with at least one detection passing the filter.
    techniques: Vec<CoveredTechnique>,
}

#[derive(Serialize)]
pub struct CoveredTechnique {
    id: String,
    name: String,
    tactics: Vec<String>,
    /// Detections tagged with the technique itself.
    exact: usize,
    /// With its sub-techniques, each detection once.
    detections: usize,
}

/// Detection counts per technique, as the home page's matrix shows them.
pub async fn coverage(State(state): State<AppState>, query: RawQuery) -> ApiResult<CoverageResponse> {
    let catalog = catalog(&state)?;
    let filter = FilterParams::parse(query.0.as_deref())?.technique_filter()?;
    let counts = catalog.store.technique_counts(&filter)?;
    let mut techniques: Vec<CoveredTechnique> = counts
        .family
        .iter()
        .map(|(id, family)| CoveredTechnique {
            id: id.to_string(),
            name: catalog.full_name(*id).unwrap_or_default(),
            tactics: catalog
                .techniques
                .get(id)
                .map(|t| t.tactics.iter().map(ToString::to_string).collect())
                .unwrap_or_default(),
            exact: counts.exact.get(id).copied().unwrap_or(0),
            detections: *family,
        })
        .collect();
    techniques.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Json(CoverageResponse {
        attack_version: catalog.info.attack_version.clone(),
        tactics: catalog.tactics.clone(),
        techniques,
    }))
}

/// Whether a sync is running, finished or failed (not cached: it changes while it runs).
pub async fn sync_status(State(state): State<AppState>) -> Json<SyncPhase> {
    Json(state.sync_phase())
}

/// The OpenAPI document describing this API.
pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], include_str!("../openapi.json")).into_response()
}

//! The JSON API under `/api/v1/`: the same answers as the pages, as the query service's wire
//! types, described by the OpenAPI document generated from those types and from the request
//! vocabulary each endpoint reads its parameters with.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use ruledex_app::coverage::{CoverageRequest, ObjectRequest};
use ruledex_app::request::vocabulary::{
    ATTACK_OBJECT, CHANGES, MATRIX, SEARCH, STACK_COVERAGE, SUGGEST, TECHNIQUE_LISTING,
};
use ruledex_app::request::{ChangesRequest, Filters, SearchRequest, SuggestRequest, TechniqueRequest};
use ruledex_app::service::MAX_SUGGESTIONS;
use ruledex_app::sync::SyncPhase;
use ruledex_app::wire::{
    AttackObjectJson, AttackObjectPageJson, ChangesJson, CoverageJson, DetectionJson, SearchJson, SourceJson,
    StackCoverageJson, StatsJson, TechniquePageJson, TechniqueSuggestionJson,
};
use ruledex_core::ids::ObjectKind;

use crate::error::ApiError;
use crate::params::{PathParams, arguments};
use crate::state::{AppState, Cost};

type ApiResult<T> = Result<Json<T>, ApiError>;

/// Runs catalog work for an endpoint and answers with its JSON.
async fn answer<T: Send + 'static>(
    state: &AppState,
    cost: Cost,
    work: impl FnOnce(&ruledex_app::Catalog) -> Result<T, crate::error::WebError> + Send + 'static,
) -> ApiResult<T> {
    Ok(Json(state.run(cost, work).await?))
}

/// A technique and a page of its detections, filtered like the page (vendor-native unless asked).
pub async fn technique(
    State(state): State<AppState>,
    PathParams(raw, _): PathParams<String, ApiError>,
    query: RawQuery,
) -> ApiResult<TechniquePageJson> {
    let request = TechniqueRequest::from_arguments(&arguments(&TECHNIQUE_LISTING, &query, Some(raw))?)?;
    answer(&state, Cost::Ordinary, move |catalog| Ok(catalog.technique(&request)?)).await
}

/// Techniques for what was typed, for search-box suggestions.
pub async fn technique_suggestions(
    State(state): State<AppState>,
    query: RawQuery,
) -> ApiResult<Vec<TechniqueSuggestionJson>> {
    let request = SuggestRequest::from_arguments(&arguments(&SUGGEST, &query, None)?);
    answer(&state, Cost::Ordinary, move |catalog| {
        Ok(catalog.suggest_techniques(&request.typed, &request.filters, MAX_SUGGESTIONS)?)
    })
    .await
}

/// One detection, long texts included.
pub async fn detection(
    State(state): State<AppState>,
    PathParams((source, id), _): PathParams<(String, String), ApiError>,
) -> ApiResult<DetectionJson> {
    answer(&state, Cost::Ordinary, move |catalog| Ok(catalog.detection(&source, &id)?)).await
}

pub async fn search(State(state): State<AppState>, query: RawQuery) -> ApiResult<SearchJson> {
    let request = SearchRequest::from_arguments(&arguments(&SEARCH, &query, None)?)?;
    answer(&state, Cost::Search, move |catalog| Ok(catalog.search(&request)?)).await
}

pub async fn sources(State(state): State<AppState>) -> ApiResult<Vec<SourceJson>> {
    answer(&state, Cost::Ordinary, |catalog| Ok(catalog.sources())).await
}

pub async fn stats(State(state): State<AppState>) -> ApiResult<StatsJson> {
    answer(&state, Cost::Ordinary, |catalog| Ok(catalog.stats().published())).await
}

/// Detection counts per technique, as the home page's matrix shows them.
pub async fn coverage(State(state): State<AppState>, query: RawQuery) -> ApiResult<CoverageJson> {
    let filters = Filters::from_arguments(&arguments(&MATRIX, &query, None)?);
    answer(&state, Cost::Ordinary, move |catalog| Ok(catalog.coverage(&filters)?)).await
}

/// What syncs changed, newest first.
pub async fn changes(State(state): State<AppState>, query: RawQuery) -> ApiResult<ChangesJson> {
    let request = ChangesRequest::from_arguments(&arguments(&CHANGES, &query, None)?);
    answer(&state, Cost::Ordinary, move |catalog| Ok(catalog.changes(&request)?)).await
}

/// Whether a sync is running, finished or failed (not cached: it changes while it runs).
pub async fn sync_status(State(state): State<AppState>) -> Json<SyncPhase> {
    Json(state.sync_phase())
}

/// The OpenAPI document describing this API, generated from its types.
pub async fn openapi() -> Response {
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let document = DOCUMENT.get_or_init(|| ruledex_app::openapi::document().to_string());
    ([(header::CONTENT_TYPE, "application/json")], document.as_str()).into_response()
}

/// A stack's coverage of a matrix (`have`, `community`, `inferred`, `tactic`, `domain`).
pub async fn stack_coverage(State(state): State<AppState>, query: RawQuery) -> ApiResult<StackCoverageJson> {
    let request = CoverageRequest::from_arguments(&arguments(&STACK_COVERAGE, &query, None)?);
    answer(&state, Cost::Ordinary, move |catalog| Ok(catalog.stack_coverage(&request)?)).await
}

/// Every current group, campaign or software.
pub async fn attack_objects(State(state): State<AppState>, kind: ObjectKind) -> ApiResult<Vec<AttackObjectJson>> {
    answer(&state, Cost::Ordinary, move |catalog| Ok(catalog.attack_objects(kind))).await
}

/// A group, campaign or software by ID, name or alias, with its techniques' detections.
pub async fn attack_object(
    State(state): State<AppState>,
    kind: ObjectKind,
    PathParams(name, _): PathParams<String, ApiError>,
    query: RawQuery,
) -> ApiResult<AttackObjectPageJson> {
    let request = ObjectRequest::from_arguments(&arguments(&ATTACK_OBJECT, &query, Some(name))?);
    answer(&state, Cost::Ordinary, move |catalog| Ok(catalog.attack_object_page(kind, &request)?)).await
}

//! The JSON API under `/api/v1/`: the same answers as the pages, as the query service's wire
//! types, described by the OpenAPI document generated from those types.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use ruledex_app::changes::ChangeRequest;
use ruledex_app::service::MAX_SUGGESTIONS;
use ruledex_app::sync::SyncPhase;
use ruledex_app::wire::{
    AttackObjectJson, AttackObjectPageJson, ChangesJson, CoverageJson, DetectionJson, SearchJson, SourceJson,
    StackCoverageJson, StatsJson, TechniquePageJson, TechniqueSuggestionJson,
};
use ruledex_core::ids::ObjectKind;
use ruledex_core::query::SearchQuery;

use crate::error::ApiError;
use crate::params::{FilterParams, PathParams, number, parse_query, technique_id};
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

fn filter_params(query: &RawQuery) -> Result<FilterParams, ApiError> {
    Ok(FilterParams::parse(query.0.as_deref())?)
}

/// A technique and its detections, filtered like the page (vendor-native unless asked).
pub async fn technique(
    State(state): State<AppState>,
    PathParams(raw, _): PathParams<String, ApiError>,
    query: RawQuery,
) -> ApiResult<TechniquePageJson> {
    let params = filter_params(&query)?;
    let id = technique_id(&raw)?;
    let (exact, filter) = (params.exact(), params.technique_filter()?);
    answer(&state, Cost::Ordinary, move |catalog| {
        let page = catalog.technique_page(&id.to_string(), exact, &filter)?;
        Ok(TechniquePageJson::new(&page, catalog.attack_version(), None))
    })
    .await
}

/// Techniques for what was typed, for search-box suggestions.
pub async fn technique_suggestions(
    State(state): State<AppState>,
    query: RawQuery,
) -> ApiResult<Vec<TechniqueSuggestionJson>> {
    let params = filter_params(&query)?;
    let (text, filter) = (params.q.clone().unwrap_or_default(), params.technique_filter()?);
    answer(&state, Cost::Ordinary, move |catalog| Ok(catalog.suggest_techniques(&text, &filter, MAX_SUGGESTIONS)?))
        .await
}

/// One detection, long texts included.
pub async fn detection(
    State(state): State<AppState>,
    PathParams((source, id), _): PathParams<(String, String), ApiError>,
) -> ApiResult<DetectionJson> {
    answer(&state, Cost::Ordinary, move |catalog| Ok(catalog.detection_json(&catalog.detection(&source, &id)?))).await
}

pub async fn search(State(state): State<AppState>, query: RawQuery) -> ApiResult<SearchJson> {
    let search: SearchQuery = filter_params(&query)?.search(SearchQuery::DEFAULT_LIMIT)?;
    answer(&state, Cost::Search, move |catalog| {
        let results = catalog.search(&search)?;
        Ok(catalog.search_json(&search.text, &results))
    })
    .await
}

pub async fn sources(State(state): State<AppState>) -> ApiResult<Vec<SourceJson>> {
    answer(&state, Cost::Ordinary, |catalog| Ok(catalog.sources())).await
}

pub async fn stats(State(state): State<AppState>) -> ApiResult<StatsJson> {
    answer(&state, Cost::Ordinary, |catalog| Ok(catalog.stats())).await
}

/// Detection counts per technique, as the home page's matrix shows them.
pub async fn coverage(State(state): State<AppState>, query: RawQuery) -> ApiResult<CoverageJson> {
    let filter = filter_params(&query)?.technique_filter()?;
    answer(&state, Cost::Ordinary, move |catalog| Ok(catalog.coverage(&filter)?)).await
}

/// `?since=&technique=&source=&limit=` of `/api/v1/changes`.
#[derive(Default, serde::Deserialize)]
#[serde(default)]
struct ChangeParams {
    since: Option<String>,
    technique: Option<String>,
    source: Option<String>,
    limit: Option<String>,
}

/// What syncs changed, newest first.
pub async fn changes(State(state): State<AppState>, query: RawQuery) -> ApiResult<ChangesJson> {
    let params: ChangeParams = parse_query(query.0.as_deref())?;
    let limit = number(params.limit.as_deref(), "limit")?;
    answer(&state, Cost::Ordinary, move |catalog| {
        let request = ChangeRequest {
            since: params.since.as_deref(),
            technique: params.technique.as_deref(),
            source: params.source.as_deref(),
            id: None,
            limit,
        };
        Ok(catalog.changes(&request)?)
    })
    .await
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
    let request = filter_params(&query)?.coverage_request()?;
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
    let stack = filter_params(&query)?.optional_stack();
    answer(&state, Cost::Ordinary, move |catalog| Ok(catalog.attack_object_page(kind, &name, stack.as_ref())?)).await
}

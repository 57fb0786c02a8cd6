//! ruledex-web: the web catalog and the JSON API, server-rendered from the read-only catalog.
//!
//! [`router`] builds every route, and mounts beside them what the binary adds (MCP at `/mcp`);
//! [`serve`] runs it on a listener until a shutdown signal, within [`ConnectionLimits`]. Pages work without JavaScript;
//! `static/app.js` adds copy buttons and filtering without reloads.
//! Every string from a rule is escaped by the templates, and a strict Content-Security-Policy
//! forbids inline scripts and styles. Handlers parse requests, call the query service of
//! `ruledex-app` on a blocking thread, and format its answers; catalog work never runs on the
//! async workers.

mod api;
mod atom;
mod cache;
mod connections;
mod download;
mod error;
mod highlight;
mod layout;
mod middleware;
mod pages;
mod params;
mod state;

use std::time::Duration;

use axum::Router;
use axum::extract::{RawQuery, State};
use ruledex_core::ids::ObjectKind;

use crate::error::ApiError;
use crate::params::PathParams;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::classify::ServerErrorsFailureClass;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use connections::{ConnectionLimits, raise_open_file_limit, serve};
pub use state::{AppState, Limits, Setup};

/// Scripts and styles come only from ruledex itself; nothing is framed, nothing is embedded.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The index and pages of groups, campaigns and software, and their API twins.
fn attack_object_routes() -> Router<AppState> {
    ObjectKind::ALL.iter().fold(Router::new(), |router, &kind| {
        let index = ruledex_app::links::attack_objects(kind);
        router
            .route(index, get(move |state: State<AppState>| pages::attack_objects(state, kind)))
            .route(
                &format!("{index}/{{id}}"),
                get(move |state: State<AppState>, path: PathParams<String>, query: RawQuery| {
                    pages::attack_object(state, kind, path, query)
                }),
            )
            .route(&format!("/api/v1{index}"), get(move |state: State<AppState>| api::attack_objects(state, kind)))
            .route(
                &format!("/api/v1{index}/{{id}}"),
                get(move |state: State<AppState>, path: PathParams<String, ApiError>, query: RawQuery| {
                    api::attack_object(state, kind, path, query)
                }),
            )
    })
}

/// A service answering beside the web routes at `path`, whatever the method (MCP, spoken with
/// POST): it gets the same limits and headers as the pages.
pub struct Mount {
    pub path: &'static str,
    /// A router answering at `path`.
    pub router: Router,
}

/// Every route, one line each, and the mounted services.
pub fn router(state: AppState, mounts: Vec<Mount>) -> Router {
    let cached = Router::new()
        .route("/", get(pages::home))
        .route("/feed.atom", get(pages::feed))
        .route("/changes", get(pages::changes_page))
        .route("/techniques/{id}/feed.atom", get(pages::technique_feed))
        .route("/sources/{name}/feed.atom", get(pages::source_feed))
        .route("/api/v1/changes", get(api::changes))
        .route("/techniques/{id}", get(pages::technique))
        .route("/techniques/{id}/{sub}", get(pages::technique_by_url_path))
        .route("/detections/{source}/{id}", get(pages::detection))
        .route("/detections/{source}/{id}/raw", get(pages::raw_rule))
        .route("/search", get(pages::search))
        .route("/sources", get(pages::sources))
        .route("/api/v1/coverage", get(api::coverage))
        .route("/api/v1/techniques", get(api::technique_suggestions))
        .route("/api/v1/techniques/{id}", get(api::technique))
        .route("/api/v1/detections/{source}/{id}", get(api::detection))
        .route("/api/v1/search", get(api::search))
        .route("/api/v1/sources", get(api::sources))
        .route("/api/v1/stats", get(api::stats))
        .route("/api/v1/export", get(download::export))
        .route("/coverage", get(pages::coverage))
        .route("/api/v1/coverage/stack", get(api::stack_coverage))
        .route("/api/v1/coverage/stack/layer", get(download::stack_layer))
        .merge(attack_object_routes())
        .route_layer(from_fn_with_state(state.clone(), middleware::cached));
    let guard = middleware::Guard {
        state: state.clone(),
        mounted: std::sync::Arc::new(mounts.iter().map(|m| m.path).collect()),
    };
    let mounted = mounts.into_iter().fold(Router::new(), |router, mount| router.merge(mount.router));
    Router::new()
        .merge(cached)
        .route("/api/v1/openapi.json", get(api::openapi))
        .route("/api/v1/sync", get(api::sync_status))
        .route("/static/{file}", get(pages::static_file))
        .route("/healthz", get(|| async { "ok" }))
        .fallback(pages::not_found)
        .with_state(state)
        .merge(mounted)
        .layer(from_fn_with_state(guard, middleware::guard))
        .layer(CatchPanicLayer::custom(pages::panic_response))
        // Pages are large and repetitive (the T1090 page: 385 KB, 48 KB gzipped). Cached
        // responses arrive already compressed; this compresses the rest.
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(30)))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("x-frame-options"),
            HeaderValue::from_static("DENY"),
        ))
        .layer(TraceLayer::new_for_http().on_failure(log_failure))
}

/// Logs a failed response: a 500 is an error in ruledex; a 503 while the first catalog is built,
/// or while the server is busy, is expected and only worth a debug line.
fn log_failure(class: ServerErrorsFailureClass, latency: Duration, _: &tracing::Span) {
    match class {
        ServerErrorsFailureClass::StatusCode(code) if code != axum::http::StatusCode::INTERNAL_SERVER_ERROR => {
            tracing::debug!(status = %code, ?latency, "response not served")
        }
        _ => tracing::error!(%class, ?latency, "response failed"),
    }
}

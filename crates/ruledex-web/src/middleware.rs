//! Middleware: requests refused before they cost anything (methods, over-long addresses,
//! oversized headers), and the response cache in front of the catalog pages and API.

use std::io::Write;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use flate2::Compression;
use flate2::write::GzEncoder;
use ruledex_app::sync::SyncPhase;
use ruledex_core::url::encode_component;

use ruledex_app::request::vocabulary::is_query_name;

use crate::cache::CachedResponse;
use crate::error::{ApiError, WebError};
use crate::state::AppState;

/// Bodies smaller than this are sent as they are: compressing them saves nothing.
const MIN_GZIP_BYTES: usize = 1024;
/// The largest response body buffered for the cache.
const MAX_BUFFERED_BYTES: usize = 64 * 1024 * 1024;

/// What the guard needs: the limits, and the paths of the services mounted beside the web
/// routes, which answer their own methods.
#[derive(Clone)]
pub struct Guard {
    pub state: AppState,
    pub mounted: std::sync::Arc<Vec<&'static str>>,
}

/// Refuses what a read-only catalog never answers, with a body saying why: methods other than
/// GET and HEAD outside the mounted services (405), request targets longer than `max_url_bytes`
/// (414), headers larger than `max_header_bytes` (431).
pub async fn guard(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    let limits = guard.state.limits();
    let target = request.uri().path_and_query().map_or(0, |p| p.as_str().len());
    let headers: usize = request.headers().iter().map(|(n, v)| n.as_str().len() + v.len() + 4).sum();
    // A mounted service (MCP, spoken with POST) answers other methods itself.
    let mounted = guard.mounted.contains(&request.uri().path());
    let error = if !mounted && !matches!(*request.method(), Method::GET | Method::HEAD) {
        Some(WebError::MethodNotAllowed)
    } else if target > limits.max_url_bytes {
        Some(WebError::UriTooLong { limit: limits.max_url_bytes })
    } else if headers > limits.max_header_bytes {
        Some(WebError::HeadersTooLarge { limit: limits.max_header_bytes })
    } else {
        None
    };
    match error {
        Some(error) if request.uri().path().starts_with("/api/") => ApiError(error).into_response(),
        Some(error) => error.into_response(),
        None => next.run(request).await,
    }
}

/// Answers repeated GETs from the cache and keeps successful responses, gzipped once for
/// clients that accept it. Nothing is cached while a sync is running (pages show its progress)
/// or before there is a catalog.
pub async fn cached(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (Some(_), Method::GET, false) =
        (state.catalog(), request.method().clone(), matches!(state.sync_phase(), SyncPhase::Running { .. }))
    else {
        return next.run(request).await;
    };
    // A new generation, or a sync's outcome, makes every kept response stale.
    let version = state.live().version();
    state.cache().keep_only(version);
    let gzip = accepts_gzip(request.headers());
    let key = cache_key(version, &request, gzip);
    if let Some(hit) = state.cache().get(&key) {
        return replay(&hit);
    }
    let mut turn = state.cache().turn(&key).await;
    if turn.waited {
        match state.cache().get(&key) {
            Some(hit) => return replay(&hit),
            None => turn.release(),
        }
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(body) = to_bytes(body, MAX_BUFFERED_BYTES).await else {
        return WebError::internal("a response was too large to buffer").into_response();
    };
    let mut headers: Vec<_> = parts.headers.iter().map(|(n, v)| (n.clone(), v.clone())).collect();
    let body = match gzip && body.len() >= MIN_GZIP_BYTES {
        true => match tokio::task::spawn_blocking(move || gzipped(&body)).await {
            Ok(Ok(compressed)) => {
                headers.push((header::CONTENT_ENCODING, HeaderValue::from_static("gzip")));
                headers.push((header::VARY, HeaderValue::from_static("accept-encoding")));
                compressed
            }
            _ => return WebError::internal("compressing a response failed").into_response(),
        },
        false => body,
    };
    let cached = CachedResponse { status: parts.status, headers, body };
    let response = replay(&cached);
    state.cache().put(key, cached);
    response
}

fn replay(cached: &CachedResponse) -> Response {
    let mut response = Response::new(Body::from(cached.body.clone()));
    *response.status_mut() = cached.status;
    let headers = response.headers_mut();
    for (name, value) in &cached.headers {
        headers.append(name.clone(), value.clone());
    }
    response
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).any(|v| {
        v.split(',').any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| p.trim().replace(' ', "") == "q=0");
            name.eq_ignore_ascii_case("gzip") && !refused
        })
    })
}

/// The catalog's version, the encoding, the path, and the parameters ruledex knows, sorted:
/// requests that mean the same share one entry, and parameters ruledex ignores cannot multiply
/// entries.
fn cache_key(version: u64, request: &Request, gzip: bool) -> String {
    let raw = request.uri().query().unwrap_or_default();
    let mut pairs: Vec<(String, String)> = serde_html_form::from_str(raw).unwrap_or_default();
    pairs.retain(|(name, _)| is_query_name(name));
    pairs.sort();
    let query: Vec<String> =
        pairs.iter().map(|(n, v)| format!("{}={}", encode_component(n), encode_component(v))).collect();
    let encoding = if gzip { "gzip" } else { "identity" };
    // "New" and "updated" badges depend on the day: a cached page lasts until midnight UTC.
    let day = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() / 86_400);
    format!("{version} {day} {encoding} {}?{}", request.uri().path(), query.join("&"))
}

fn gzipped(body: &Bytes) -> std::io::Result<Bytes> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(body.len() / 4), Compression::default());
    encoder.write_all(body)?;
    Ok(Bytes::from(encoder.finish()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(uri: &str) -> Request {
        Request::builder().uri(uri).body(Body::empty()).unwrap()
    }

    #[test]
    fn keys_are_canonical_and_drop_unknown_parameters() {
        let a = cache_key(1, &request("/techniques/T1090?vendor=Splunk&language=spl&junk=1"), false);
        let b = cache_key(1, &request("/techniques/T1090?language=spl&vendor=Splunk"), false);
        assert_eq!(a, b);
        assert_ne!(a, cache_key(2, &request("/techniques/T1090?language=spl&vendor=Splunk"), false));
        assert_ne!(a, cache_key(1, &request("/techniques/T1090?language=spl&vendor=Splunk"), true));
    }

    #[test]
    fn gzip_is_accepted_unless_refused() {
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
            accepts_gzip(&headers)
        };
        assert!(with("gzip, deflate, br"));
        assert!(with("br;q=1.0, gzip;q=0.8"));
        assert!(!with("gzip;q=0"));
        assert!(!with("identity"));
    }
}

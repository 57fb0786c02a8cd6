//! Rendered responses, kept until the catalog changes.
//!
//! The catalog is immutable between syncs, so a page rendered once is right until the next
//! one: the cache is cleared whenever a catalog is installed or a sync starts or ends. Its size
//! is bounded; on overflow it starts over, which is simple and, with pages rendered in a few
//! milliseconds, cheap.

use std::collections::HashMap;
use std::sync::RwLock;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::{AppState, SyncPhase};

/// Most bytes of rendered pages kept at once.
const CAPACITY_BYTES: usize = 64 * 1024 * 1024;
/// Responses larger than this are not kept.
const MAX_ENTRY_BYTES: usize = 8 * 1024 * 1024;

#[derive(Default)]
pub struct PageCache {
    entries: RwLock<Entries>,
}

#[derive(Default)]
struct Entries {
    pages: HashMap<String, Page>,
    bytes: usize,
}

#[derive(Clone)]
struct Page {
    content_type: HeaderValue,
    body: Bytes,
}

impl PageCache {
    fn get(&self, key: &str) -> Option<Page> {
        self.entries.read().unwrap_or_else(|p| p.into_inner()).pages.get(key).cloned()
    }

    fn put(&self, key: String, page: Page) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if entries.bytes + page.body.len() > CAPACITY_BYTES {
            *entries = Entries::default();
        }
        entries.bytes += page.body.len();
        entries.pages.insert(key, page);
    }

    pub fn clear(&self) {
        *self.entries.write().unwrap_or_else(|p| p.into_inner()) = Entries::default();
    }
}

/// Middleware: answers repeated GETs from the cache, and keeps successful responses.
/// Nothing is cached while a sync is running (the pages show its progress) or before there is
/// a catalog.
pub async fn cached(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let cacheable = request.method() == Method::GET
        && state.catalog().is_some()
        && !matches!(state.sync_phase(), SyncPhase::Running { .. });
    if !cacheable {
        return next.run(request).await;
    }
    let key = request.uri().to_string();
    if let Some(page) = state.cache().get(&key) {
        return ([(header::CONTENT_TYPE, page.content_type)], page.body).into_response();
    }
    let response = next.run(request).await;
    let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
    let (Some(content_type), StatusCode::OK) = (content_type, response.status()) else { return response };
    let (parts, body) = response.into_parts();
    // Handlers render into memory, so buffering the body costs nothing and cannot fail.
    let Ok(bytes) = to_bytes(body, usize::MAX).await else { return StatusCode::INTERNAL_SERVER_ERROR.into_response() };
    if bytes.len() <= MAX_ENTRY_BYTES {
        state.cache().put(key, Page { content_type, body: bytes.clone() });
    }
    Response::from_parts(parts, Body::from(bytes))
}

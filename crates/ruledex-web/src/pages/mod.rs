//! HTML pages: one handler per page family, each a template struct filled from the catalog.

mod catalog_pages;
mod detection;
mod technique;
pub mod view;

use std::any::Any;
use std::sync::Arc;

use askama::Template;
use axum::extract::RawQuery;
use axum::http::{StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};

pub use catalog_pages::{home, search, sources};
pub use detection::{detection, find as find_detection, raw_rule};
pub use technique::technique;
pub use view::detection_url;

use self::view::Layout;
use crate::error::{Suggestion, WebError};
use crate::params::PathParams;
use crate::state::{AppState, Catalog};

pub fn render(template: &impl Template) -> Result<Html<String>, WebError> {
    template.render().map(Html).map_err(|e| WebError::Internal(format!("template: {e}")))
}

/// The catalog, or a 503 page explaining it is being built.
pub fn catalog(state: &AppState) -> Result<Arc<Catalog>, WebError> {
    state.catalog().ok_or(WebError::NoCatalog)
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    status: u16,
    title: &'static str,
    message: String,
    suggestions: Vec<Suggestion>,
}

pub fn render_error_page(error: &WebError) -> Html<String> {
    let page = ErrorPage {
        layout: Layout::new(error.title()),
        status: error.status().as_u16(),
        title: error.title(),
        message: error.message(),
        suggestions: error.suggestions(),
    };
    // The error page has no fallible parts; if rendering still failed, say so plainly.
    page.render().map(Html).unwrap_or_else(|_| Html(format!("{} {}", page.status, page.title)))
}

pub async fn not_found(uri: Uri) -> WebError {
    let path: String = uri.path().chars().take(200).collect();
    WebError::NotFound {
        message: format!("There is no page at {path}."),
        suggestions: vec![
            Suggestion { href: "/".into(), label: "Home: the ATT&CK matrix".into() },
            Suggestion { href: "/search".into(), label: "Search detections".into() },
        ],
    }
}

/// A panic in a handler becomes an ordinary 500 page; the panic itself is logged.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let cause = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    WebError::Internal(format!("panic: {cause}")).into_response()
}

const STYLE: &str = include_str!("../../static/style.css");
const SCRIPT: &str = include_str!("../../static/app.js");

/// Fingerprint of the static files, appended to their URLs so browsers fetch them anew exactly
/// when they change (and may otherwise cache them for a long time).
pub const ASSET_VERSION: u64 = fnv1a(STYLE.as_bytes(), fnv1a(SCRIPT.as_bytes(), 0xcbf2_9ce4_8422_2325));

const fn fnv1a(bytes: &[u8], mut hash: u64) -> u64 {
    let mut i = 0;
    while i < bytes.len() {
        hash = (hash ^ bytes[i] as u64).wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

/// Styles and scripts, compiled into the binary so ruledex serves everything it needs itself.
pub async fn static_file(PathParams(file, _): PathParams<String>) -> Response {
    let (content_type, body) = match file.as_str() {
        "style.css" => ("text/css; charset=utf-8", STYLE),
        "app.js" => ("text/javascript; charset=utf-8", SCRIPT),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=604800")], body).into_response()
}

/// Parses the raw query string for a page; errors become 400 pages.
pub fn params(query: &RawQuery) -> Result<crate::params::FilterParams, WebError> {
    crate::params::FilterParams::parse(query.0.as_deref())
}

pub type PageResult = Result<Html<String>, WebError>;

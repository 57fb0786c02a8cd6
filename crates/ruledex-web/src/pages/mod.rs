//! HTML pages: one handler per page family, each a template struct filled from the query
//! service's answers.

mod catalog_pages;
mod changes;
mod coverage;
mod detection;
mod technique;
pub mod view;

use std::any::Any;

use askama::Template;
use axum::http::{StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};

pub use catalog_pages::{home, search, sources};
pub use changes::{FeedLink, changes_page, feed, source_feed, technique_feed};
pub use coverage::{attack_object, attack_objects, coverage};
pub use detection::{detection, raw_rule};
pub use technique::{technique, technique_by_url_path};

use crate::error::{Suggestion, WebError};
use crate::layout::{FAVICON, SCRIPT, STYLE};
use crate::params::PathParams;

pub fn render(template: &impl Template) -> Result<Html<String>, WebError> {
    template.render().map(Html).map_err(|e| WebError::internal(format!("template: {e}")))
}

pub async fn not_found(uri: Uri) -> WebError {
    let path: String = uri.path().chars().take(200).collect();
    WebError::not_found(
        format!("There is no page at {path}."),
        vec![
            Suggestion { href: "/".into(), label: "Home: the ATT&CK matrix".into() },
            Suggestion { href: "/search".into(), label: "Search detections".into() },
        ],
    )
}

/// A panic in a handler becomes an ordinary 500 page; the panic itself is logged.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let cause = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    WebError::internal(format!("panic: {cause}")).into_response()
}

/// Styles and scripts, compiled into the binary so ruledex serves everything it needs itself.
pub async fn static_file(PathParams(file, _): PathParams<String>) -> Response {
    let (content_type, body) = match file.as_str() {
        "style.css" => ("text/css; charset=utf-8", STYLE),
        "app.js" => ("text/javascript; charset=utf-8", SCRIPT),
        "favicon.svg" => ("image/svg+xml", FAVICON),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=604800")], body).into_response()
}

pub type PageResult = Result<Html<String>, WebError>;

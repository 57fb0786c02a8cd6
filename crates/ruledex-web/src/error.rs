//! One error type for the web layer, rendered as an HTML page or as JSON.
//!
//! Internal causes are logged and never shown: users get a fixed message.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ruledex_store::{Candidate, StoreError};
use serde::Serialize;

use crate::pages::render_error_page;

/// A link offered on an error: a close match, or where to go instead.
#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    pub href: String,
    pub label: String,
}

#[derive(Debug)]
pub enum WebError {
    /// The request itself is wrong: a malformed ID, a search that does not parse, a page size
    /// out of range. The message says what to fix.
    BadRequest(String),
    NotFound {
        message: String,
        suggestions: Vec<Suggestion>,
    },
    /// An address names several detections.
    Ambiguous {
        address: String,
        candidates: Vec<Candidate>,
    },
    /// No catalog has been built yet.
    NoCatalog,
    /// Something broke inside ruledex; the cause is logged.
    Internal(String),
}

impl WebError {
    pub fn not_found(message: impl Into<String>) -> WebError {
        WebError::NotFound { message: message.into(), suggestions: vec![] }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::NotFound { .. } => StatusCode::NOT_FOUND,
            WebError::Ambiguous { .. } => StatusCode::MULTIPLE_CHOICES,
            WebError::NoCatalog => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn title(&self) -> &'static str {
        match self {
            WebError::BadRequest(_) => "Bad request",
            WebError::NotFound { .. } => "Not found",
            WebError::Ambiguous { .. } => "Several detections match",
            WebError::NoCatalog => "The catalog is not built yet",
            WebError::Internal(_) => "Something went wrong",
        }
    }

    pub fn message(&self) -> String {
        match self {
            WebError::BadRequest(message) | WebError::NotFound { message, .. } => message.clone(),
            WebError::Ambiguous { address, candidates } => {
                format!("{address} names {} detections; pick one.", candidates.len())
            }
            WebError::NoCatalog => {
                "ruledex has no catalog yet. The home page shows the sync in progress or why it failed.".into()
            }
            WebError::Internal(_) => "ruledex could not answer this request. The cause is in the server log.".into(),
        }
    }

    pub fn suggestions(&self) -> Vec<Suggestion> {
        match self {
            WebError::NotFound { suggestions, .. } => suggestions.clone(),
            WebError::Ambiguous { candidates, .. } => candidates
                .iter()
                .map(|c| Suggestion {
                    href: crate::pages::detection_url(&c.source, &c.id),
                    label: format!("{}/{} · {} ({})", c.source, c.id, c.title, c.path),
                })
                .collect(),
            WebError::NoCatalog => vec![Suggestion { href: "/".into(), label: "Home".into() }],
            _ => vec![],
        }
    }

    fn log(&self) {
        if let WebError::Internal(cause) = self {
            tracing::error!("internal error: {cause}");
        }
    }
}

impl From<StoreError> for WebError {
    fn from(error: StoreError) -> WebError {
        match error {
            StoreError::BadQuery(message) => WebError::BadRequest(format!("invalid search: {message}")),
            StoreError::Missing(_) => WebError::NoCatalog,
            other => WebError::Internal(other.to_string()),
        }
    }
}

/// A [`WebError`] rendered as an HTML page.
impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        self.log();
        (self.status(), render_error_page(&self)).into_response()
    }
}

/// A [`WebError`] rendered as JSON, for the API.
pub struct ApiError(pub WebError);

impl From<WebError> for ApiError {
    fn from(error: WebError) -> ApiError {
        ApiError(error)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        ApiError(error.into())
    }
}

#[derive(Serialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Serialize)]
struct ErrorDetail {
    status: u16,
    title: &'static str,
    message: String,
    suggestions: Vec<Suggestion>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = self.0;
        error.log();
        let body = ErrorBody {
            error: ErrorDetail {
                status: error.status().as_u16(),
                title: error.title(),
                message: error.message(),
                suggestions: error.suggestions(),
            },
        };
        (error.status(), axum::Json(body)).into_response()
    }
}

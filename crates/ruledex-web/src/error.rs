//! One error type for the web layer, rendered as an HTML page or as JSON.
//!
//! Internal causes are logged and never shown: users get a fixed message.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use ruledex_app::ServiceError;
use ruledex_app::request::RequestError;
use ruledex_app::wire::{ErrorDetailJson, ErrorJson, SuggestionJson};

use crate::layout::Layout;

/// A link offered on an error: a close match, or where to go instead.
#[derive(Debug, Clone)]
pub struct Suggestion {
    pub href: String,
    pub label: String,
}

#[derive(Debug)]
pub enum WebError {
    /// What the query service answered: a bad request, nothing found, several matches, no
    /// catalog right now, or an internal failure.
    Service(ServiceError),
    /// The request line is longer than the server accepts.
    UriTooLong {
        limit: usize,
    },
    /// The request's headers are larger than the server accepts.
    HeadersTooLarge {
        limit: usize,
    },
    MethodNotAllowed,
    /// No catalog has been built yet.
    NoCatalog,
    /// Too many requests are waiting for the catalog.
    Busy,
}

impl WebError {
    pub fn bad_request(message: impl Into<String>) -> WebError {
        WebError::Service(ServiceError::BadRequest(message.into()))
    }

    pub fn internal(cause: impl Into<String>) -> WebError {
        WebError::Service(ServiceError::Internal(cause.into()))
    }

    pub fn not_found(message: impl Into<String>, suggestions: Vec<Suggestion>) -> WebError {
        let suggestions =
            suggestions.into_iter().map(|s| ruledex_app::Suggestion { label: s.label, href: s.href }).collect();
        WebError::Service(ServiceError::NotFound { message: message.into(), suggestions })
    }

    pub fn status(&self) -> StatusCode {
        match self {
            WebError::Service(ServiceError::BadRequest(_) | ServiceError::Invalid(_)) => StatusCode::BAD_REQUEST,
            WebError::Service(ServiceError::NotFound { .. }) => StatusCode::NOT_FOUND,
            WebError::Service(ServiceError::Ambiguous { .. }) => StatusCode::MULTIPLE_CHOICES,
            WebError::Service(ServiceError::Unavailable(_)) | WebError::NoCatalog | WebError::Busy => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            WebError::Service(ServiceError::Internal(_)) => StatusCode::INTERNAL_SERVER_ERROR,
            WebError::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
            WebError::HeadersTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            WebError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            WebError::Service(error) => error.kind(),
            WebError::NoCatalog | WebError::Busy => "unavailable",
            WebError::UriTooLong { .. } | WebError::HeadersTooLarge { .. } | WebError::MethodNotAllowed => {
                "bad_request"
            }
        }
    }

    pub fn title(&self) -> &'static str {
        match self {
            WebError::Service(ServiceError::BadRequest(_) | ServiceError::Invalid(_)) => "Bad request",
            WebError::Service(ServiceError::NotFound { .. }) => "Not found",
            WebError::Service(ServiceError::Ambiguous { .. }) => "Several detections match",
            WebError::Service(ServiceError::Unavailable(_)) => "The catalog is not available",
            WebError::Service(ServiceError::Internal(_)) => "Something went wrong",
            WebError::NoCatalog => "The catalog is not built yet",
            WebError::Busy => "Busy",
            WebError::UriTooLong { .. } => "Address too long",
            WebError::HeadersTooLarge { .. } => "Request headers too large",
            WebError::MethodNotAllowed => "Method not allowed",
        }
    }

    pub fn message(&self) -> String {
        match self {
            WebError::Service(ServiceError::Internal(_)) => {
                "ruledex could not answer this request. The cause is in the server log.".into()
            }
            WebError::Service(error) => error.to_string(),
            WebError::NoCatalog => {
                "ruledex has no catalog yet. The home page shows the sync in progress or why it failed.".into()
            }
            WebError::Busy => "ruledex is answering many requests right now; try again in a moment.".into(),
            WebError::UriTooLong { limit } => {
                format!("The address is longer than {limit} bytes (the server's max_url_bytes); shorten the query.")
            }
            WebError::HeadersTooLarge { limit } => {
                format!("The request's headers are larger than {limit} bytes; send fewer or smaller headers.")
            }
            WebError::MethodNotAllowed => "ruledex is read-only: only GET and HEAD requests are answered.".into(),
        }
    }

    pub fn suggestions(&self) -> Vec<Suggestion> {
        match self {
            WebError::Service(error) => {
                error.suggestions().into_iter().map(|s| Suggestion { href: s.href, label: s.label }).collect()
            }
            WebError::NoCatalog => vec![Suggestion { href: "/".into(), label: "Home".into() }],
            _ => vec![],
        }
    }

    fn log(&self) {
        match self {
            WebError::Service(ServiceError::Internal(cause)) => tracing::error!("internal error: {cause}"),
            // Expected while the first catalog is built: worth a note, not an error.
            WebError::NoCatalog => tracing::info!("a request arrived before the catalog was built"),
            _ => {}
        }
    }

    fn json(&self) -> ErrorJson {
        ErrorJson {
            error: ErrorDetailJson {
                kind: self.kind().into(),
                status: self.status().as_u16(),
                title: self.title().into(),
                message: self.message(),
                suggestions: self
                    .suggestions()
                    .into_iter()
                    .map(|s| SuggestionJson { href: s.href, label: s.label })
                    .collect(),
            },
        }
    }
}

impl From<ServiceError> for WebError {
    fn from(error: ServiceError) -> WebError {
        WebError::Service(error)
    }
}

impl From<RequestError> for WebError {
    fn from(error: RequestError) -> WebError {
        WebError::Service(error.into())
    }
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

/// A [`WebError`] rendered as an HTML page.
impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        self.log();
        let page = ErrorPage {
            layout: Layout::new(self.title()),
            status: self.status().as_u16(),
            title: self.title(),
            message: self.message(),
            suggestions: self.suggestions(),
        };
        // The error page has no fallible parts; if rendering still failed, say so plainly.
        let html = page.render().unwrap_or_else(|_| format!("{} {}", page.status, page.title));
        (self.status(), Html(html)).into_response()
    }
}

/// A [`WebError`] rendered as JSON, for the API.
pub struct ApiError(pub WebError);

impl From<WebError> for ApiError {
    fn from(error: WebError) -> ApiError {
        ApiError(error)
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> ApiError {
        ApiError(error.into())
    }
}

impl From<RequestError> for ApiError {
    fn from(error: RequestError) -> ApiError {
        ApiError(error.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = self.0;
        error.log();
        (error.status(), axum::Json(error.json())).into_response()
    }
}

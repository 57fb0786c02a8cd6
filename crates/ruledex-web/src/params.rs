//! Reading what a request asks for: its query string (and the subject in its path) checked
//! against the request vocabulary (`ruledex_app::request`), which every front end shares, so a
//! parameter means the same here as on the command line and over MCP. Anything malformed is a
//! 400 naming the parameter and what it takes; parameters no question takes are ignored.

use std::marker::PhantomData;

use axum::extract::{FromRequestParts, Path, RawQuery};
use axum::http::request::Parts;
use axum::response::IntoResponse;

use ruledex_app::request::{Arguments, Operation, Spelling, Unknown};
use serde::de::DeserializeOwned;

use crate::error::WebError;

/// The query string's parameters, with `subject` (from the path) as the operation's subject.
pub fn arguments(
    operation: &'static Operation,
    query: &RawQuery,
    subject: Option<String>,
) -> Result<Arguments, WebError> {
    let mut pairs = query_pairs(query.0.as_deref())?;
    if let (Some(param), Some(value)) = (operation.subject, subject) {
        pairs.retain(|(name, _)| name != param.name);
        pairs.push((param.name.to_string(), value));
    }
    Ok(Arguments::check(operation, pairs, Spelling::Query, Unknown::Ignore)?)
}

/// The name and value pairs of a raw query string, decoded.
pub fn query_pairs(raw: Option<&str>) -> Result<Vec<(String, String)>, WebError> {
    serde_html_form::from_str(raw.unwrap_or_default())
        .map_err(|e| WebError::bad_request(format!("invalid query string: {e}")))
}

/// Path parameters, whose rejection (a segment that is not UTF-8, say) is a 400 in the error
/// format of the route: `E` is [`WebError`] for pages, [`crate::error::ApiError`] for the API.
pub struct PathParams<T, E = WebError>(pub T, pub PhantomData<E>);

impl<S, T, E> FromRequestParts<S> for PathParams<T, E>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
    E: From<WebError> + IntoResponse,
{
    type Rejection = E;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(PathParams(value, PhantomData)),
            Err(rejection) => Err(WebError::bad_request(format!("invalid path: {}", rejection.body_text())).into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruledex_app::request::vocabulary::{SEARCH_PAGE, TECHNIQUE_LISTING};
    use ruledex_app::request::{SearchRequest, TechniqueRequest};
    use ruledex_core::model::{Language, Severity, SourceKind};

    fn query(raw: &str) -> RawQuery {
        RawQuery(Some(raw.to_string()))
    }

    #[test]
    fn repeated_parameters_and_switches_become_a_request() {
        let raw = query("language=spl&language=eql&severity=high&deprecated=1&vendor=Splunk&technique=ignored");
        let args = arguments(&TECHNIQUE_LISTING, &raw, Some("T1090".into())).unwrap();
        let request = TechniqueRequest::from_arguments(&args).unwrap();
        assert_eq!(request.technique, "T1090", "the path's subject");
        let filter = request.filter();
        assert_eq!(filter.languages, vec![Language::Spl, Language::Eql]);
        assert_eq!(filter.severities, vec![Severity::High]);
        assert!(filter.include_deprecated);
        assert!(filter.kinds.is_empty(), "naming a vendor asks for it, community or not");
        let plain = arguments(&TECHNIQUE_LISTING, &query("language=spl"), Some("T1090".into())).unwrap();
        assert_eq!(TechniqueRequest::from_arguments(&plain).unwrap().filter().kinds, vec![SourceKind::Vendor]);
    }

    #[test]
    fn bad_values_are_400s_naming_the_parameter() {
        let error = arguments(&SEARCH_PAGE, &query("language=cobol"), None).unwrap_err();
        assert_eq!(error.status(), axum::http::StatusCode::BAD_REQUEST);
        assert!(error.message().starts_with("`language`: \"cobol\" is not one of yara-l"), "{}", error.message());
        let error = arguments(&SEARCH_PAGE, &query("limit=lots"), None).unwrap_err();
        assert!(error.message().contains("`limit`: give a whole number from 1 to 100"), "{}", error.message());
        let args = arguments(&SEARCH_PAGE, &query("nosuch=1&q=tor"), None).unwrap();
        assert_eq!(SearchRequest::from_arguments(&args).unwrap().text, "tor", "unknown parameters are ignored");
    }
}

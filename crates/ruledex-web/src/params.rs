//! Reading what a request asks for: query strings into filters, IDs from paths. Anything
//! malformed becomes a 400 with a message that names the parameter and what it accepts.

use std::marker::PhantomData;
use std::str::FromStr;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::response::IntoResponse;

use ruledex_app::coverage::{CoverageRequest, Stack};
use ruledex_app::export::{ExportFormat, Selection};
use ruledex_core::attack::Domain;
use ruledex_core::ids::TechniqueId;
use ruledex_core::model::{Language, RuleType, Severity, Status};
use ruledex_core::query::{Filter, SearchQuery};
use ruledex_core::url::encode_component;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::WebError;

/// Every query parameter a page or endpoint reads; others are ignored (and left out of cache
/// keys).
pub const KNOWN_PARAMETERS: &[&str] = &[
    "source",
    "vendor",
    "kind",
    "language",
    "severity",
    "type",
    "status",
    "data_source",
    "deprecated",
    "community",
    "exact",
    "q",
    "offset",
    "limit",
    "since",
    "format",
    "technique",
    "detection",
    "archive",
    "page",
    "have",
    "tactic",
    "domain",
    "inferred",
];

/// The query parameters the technique, search and home pages (and their API twins) share.
/// Each list parameter may repeat (`?language=spl&language=eql`). Parameters ruledex does not
/// know are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FilterParams {
    pub source: Vec<String>,
    pub vendor: Vec<String>,
    pub kind: Vec<String>,
    pub language: Vec<String>,
    pub severity: Vec<String>,
    #[serde(rename = "type")]
    pub rule_type: Vec<String>,
    pub status: Vec<String>,
    pub data_source: Vec<String>,
    /// Include deprecated detections.
    pub deprecated: Option<String>,
    /// Include community content where vendor-native is the default.
    pub community: Option<String>,
    /// Technique pages: only detections tagged with the technique itself.
    pub exact: Option<String>,
    /// Search: the words.
    pub q: Option<String>,
    /// Search: paging.
    pub offset: Option<String>,
    pub limit: Option<String>,
    /// Export: the format, and what to export (else the search `q`, else every detection the
    /// filters keep), and for several files the archive (`zip` or `tar.gz`).
    pub format: Option<String>,
    pub technique: Option<String>,
    pub detection: Option<String>,
    pub archive: Option<String>,
    /// Technique pages: which page of cards, from 1.
    pub page: Option<String>,
    /// Coverage: the sources the stack has, the tactics shown, the matrix, and whether
    /// detections listed only through ruledex's own mapping count.
    pub have: Vec<String>,
    pub tactic: Vec<String>,
    pub domain: Option<String>,
    pub inferred: Option<String>,
}

impl FilterParams {
    /// Parses a raw query string.
    pub fn parse(raw: Option<&str>) -> Result<FilterParams, WebError> {
        parse_query(raw)
    }

    pub fn filter(&self) -> Result<Filter, WebError> {
        Ok(Filter {
            sources: self.source.clone(),
            vendors: self.vendor.clone(),
            kinds: parse_all(&self.kind, "kind")?,
            languages: parse_all::<Language>(&self.language, "language")?,
            rule_types: parse_all::<RuleType>(&self.rule_type, "type")?,
            severities: parse_all::<Severity>(&self.severity, "severity")?,
            statuses: parse_all::<Status>(&self.status, "status")?,
            data_sources: self.data_source.clone(),
            include_deprecated: flag(&self.deprecated),
        })
    }

    /// The filter for a technique's default view: vendor-native unless asked otherwise.
    pub fn technique_filter(&self) -> Result<Filter, WebError> {
        Ok(self.filter()?.vendor_native_unless_asked(flag(&self.community)))
    }

    /// The page of a long list asked for, from 1.
    pub fn page(&self) -> Result<usize, WebError> {
        match number(self.page.as_deref(), "page")? {
            Some(0) => Err(WebError::bad_request("`page` counts from 1")),
            page => Ok(page.unwrap_or(1)),
        }
    }

    pub fn exact(&self) -> bool {
        flag(&self.exact)
    }

    pub fn community(&self) -> bool {
        flag(&self.community)
    }

    /// Detections listed only through ruledex's own mapping of vendor labels count too.
    pub fn inferred(&self) -> bool {
        flag(&self.inferred)
    }

    pub fn search(&self, default_limit: usize) -> Result<SearchQuery, WebError> {
        Ok(SearchQuery {
            text: self.q.clone().unwrap_or_default(),
            filter: self.filter()?,
            offset: number(self.offset.as_deref(), "offset")?.unwrap_or(0),
            limit: number(self.limit.as_deref(), "limit")?.unwrap_or(default_limit),
        })
    }
}

impl FilterParams {
    /// The stack a coverage page or endpoint is for (`have` may repeat or hold commas).
    pub fn stack(&self) -> Stack {
        Stack {
            have: self
                .have
                .iter()
                .flat_map(|h| h.split(','))
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .map(String::from)
                .collect(),
            community: flag(&self.community),
            inferred: self.inferred(),
        }
    }

    /// The stack of an object page: none unless sources are ticked or community content asked.
    pub fn optional_stack(&self) -> Option<Stack> {
        let stack = self.stack();
        (!stack.have.is_empty() || stack.community).then_some(stack)
    }

    pub fn coverage_request(&self) -> Result<CoverageRequest, WebError> {
        let domain = match self.domain.as_deref().unwrap_or("enterprise") {
            "enterprise" | "enterprise-attack" => Domain::Enterprise,
            "mobile" | "mobile-attack" => Domain::Mobile,
            "ics" | "ics-attack" => Domain::Ics,
            other => {
                return Err(WebError::bad_request(format!(
                    "parameter `domain`: {other:?} is not an ATT&CK matrix (expected enterprise, mobile or ics)"
                )));
            }
        };
        Ok(CoverageRequest { stack: self.stack(), domain, tactics: self.tactic.clone() })
    }

    /// The query string asking for `request` again: what a link carries to show the same
    /// coverage (or its layer) as the page it is on.
    pub fn coverage_query(request: &CoverageRequest) -> String {
        let mut pairs: Vec<(&str, &str)> = request.stack.have.iter().map(|have| ("have", have.as_str())).collect();
        let flags = [("community", request.stack.community), ("inferred", request.stack.inferred)];
        pairs.extend(flags.into_iter().filter(|(_, on)| *on).map(|(name, _)| (name, "1")));
        pairs.extend(request.tactics.iter().map(|tactic| ("tactic", tactic.as_str())));
        if request.domain != Domain::Enterprise {
            pairs.push(("domain", request.domain.attack_name()));
        }
        let encoded: Vec<String> =
            pairs.iter().map(|(name, value)| format!("{name}={}", encode_component(value))).collect();
        encoded.join("&")
    }

    /// The export format asked for.
    pub fn export_format(&self) -> Result<ExportFormat, WebError> {
        let format = self.format.as_deref().filter(|f| !f.is_empty()).ok_or_else(|| {
            WebError::bad_request(
                "give `format`: splunk-app, kibana-ndjson, yaral, sentinel-arm, sentinel-yaml, sigma, panther, json or csv",
            )
        })?;
        format.parse().map_err(|e: String| WebError::bad_request(format!("parameter `format`: {e}")))
    }

    /// What to export: one detection, a technique as its page filters it, a search, or every
    /// detection the filters keep.
    pub fn export_selection(&self) -> Result<Selection, WebError> {
        let given = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
        Ok(match (given(&self.detection), given(&self.technique), given(&self.q)) {
            (Some(address), _, _) => Selection::Detection(address),
            (_, Some(technique), _) => {
                Selection::Technique { technique, exact: self.exact(), filter: self.technique_filter()? }
            }
            (_, _, Some(text)) => Selection::Search { text, filter: self.filter()? },
            _ => Selection::Catalog { filter: self.filter()? },
        })
    }
}

/// `?x=1`, `?x=on`, `?x=true` and `?x` mean yes.
fn flag(value: &Option<String>) -> bool {
    matches!(value.as_deref(), Some("" | "1" | "on" | "true" | "yes"))
}

pub fn number(value: Option<&str>, name: &str) -> Result<Option<usize>, WebError> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| v.parse().map_err(|_| WebError::bad_request(format!("`{name}` must be a whole number, not {v:?}"))))
        .transpose()
}

fn parse_all<T: FromStr>(values: &[String], name: &str) -> Result<Vec<T>, WebError>
where
    T::Err: std::fmt::Display,
{
    values
        .iter()
        .filter(|v| !v.is_empty())
        .map(|v| v.parse().map_err(|e| WebError::bad_request(format!("parameter `{name}`: {e}"))))
        .collect()
}

pub fn parse_query<T: DeserializeOwned>(raw: Option<&str>) -> Result<T, WebError> {
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

/// A technique ID from a path, in any spelling rules use.
pub fn technique_id(text: &str) -> Result<TechniqueId, WebError> {
    text.parse().map_err(|e| WebError::bad_request(format!("{e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruledex_core::model::SourceKind;

    #[test]
    fn repeated_parameters_and_flags_become_a_filter() {
        let params =
            FilterParams::parse(Some("language=spl&language=eql&severity=high&deprecated=1&vendor=Splunk")).unwrap();
        let filter = params.filter().unwrap();
        assert_eq!(filter.languages, vec![Language::Spl, Language::Eql]);
        assert_eq!(filter.severities, vec![Severity::High]);
        assert!(filter.include_deprecated);
        assert!(params.technique_filter().unwrap().kinds.is_empty(), "naming a vendor asks for it, community or not");
        let plain = FilterParams::parse(Some("language=spl")).unwrap();
        assert_eq!(plain.technique_filter().unwrap().kinds, vec![SourceKind::Vendor]);
    }

    #[test]
    fn a_coverage_request_reads_back_from_its_query_string() {
        let raw = "have=splunk,sentinel&have=a%26b&community=on&tactic=Command%20and%20Control&domain=mobile";
        let request = FilterParams::parse(Some(raw)).unwrap().coverage_request().unwrap();
        let query = FilterParams::coverage_query(&request);
        assert_eq!(
            query,
            "have=splunk&have=sentinel&have=a%26b&community=1&tactic=Command%20and%20Control&domain=mobile-attack"
        );
        assert_eq!(FilterParams::parse(Some(&query)).unwrap().coverage_request().unwrap(), request);
        let plain = FilterParams::parse(None).unwrap().coverage_request().unwrap();
        assert_eq!(FilterParams::coverage_query(&plain), "");
    }

    #[test]
    fn bad_values_are_400s_naming_the_parameter() {
        let error = FilterParams::parse(Some("language=cobol")).unwrap().filter().unwrap_err();
        assert_eq!(error.status(), axum::http::StatusCode::BAD_REQUEST);
        assert!(error.message().contains("parameter `language`") && error.message().contains("yara-l"));
        let error = FilterParams::parse(Some("limit=lots")).unwrap().search(20).unwrap_err();
        assert!(error.message().contains("`limit` must be a whole number"), "{}", error.message());
        assert!(FilterParams::parse(Some("nosuch=1")).is_ok(), "unknown parameters are ignored");
        assert!(technique_id("T10").is_err());
    }
}

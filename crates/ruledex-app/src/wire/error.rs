//! Errors as JSON, and the candidates of an address naming several detections.

use ruledex_store::Candidate;
use schemars::JsonSchema;
use serde::Serialize;

/// Detections an address names when it names several (`show --json`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Candidates")]
pub struct CandidatesJson {
    pub candidates: Vec<CandidateJson>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Candidate")]
pub struct CandidateJson {
    pub source: String,
    pub id: String,
    pub title: String,
    pub path: String,
}

impl From<&Candidate> for CandidateJson {
    fn from(c: &Candidate) -> CandidateJson {
        CandidateJson { source: c.source.clone(), id: c.id.clone(), title: c.title.clone(), path: c.path.clone() }
    }
}

/// An error, in every front end's JSON: `{"error": {...}}`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Error")]
pub struct ErrorJson {
    pub error: ErrorDetailJson,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "ErrorDetail")]
pub struct ErrorDetailJson {
    /// `bad_request`, `not_found`, `ambiguous`, `unavailable` or `internal`.
    pub kind: String,
    /// The HTTP status (the API) that goes with the kind.
    pub status: u16,
    pub title: String,
    /// What went wrong and what to do about it.
    pub message: String,
    /// Close matches, or where to go instead.
    pub suggestions: Vec<SuggestionJson>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Suggestion")]
pub struct SuggestionJson {
    /// A path on the web catalog.
    pub href: String,
    pub label: String,
}

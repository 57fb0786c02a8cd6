//! Search results as JSON.

use ruledex_store::{Hit, Marked};
use schemars::JsonSchema;
use serde::Serialize;

use super::{DetectionJson, FacetsJson};

/// Search results (`search --json`, `/api/v1/search`, the `search` tool, the search page).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "SearchResults")]
pub struct SearchJson {
    pub query: String,
    /// The search the results are for, present when it is not `query`: the search as typed
    /// found (almost) nothing, and its misspelled words were corrected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrected_query: Option<String>,
    /// The ATT&CK release the catalog was built from.
    pub attack_version: Option<String>,
    /// Matches passing the filter.
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
    /// Counts over all matches, before the filter.
    pub facets: FacetsJson,
    pub detections: Vec<SearchHitJson>,
}

/// A detection found by a search.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "SearchHit")]
pub struct SearchHitJson {
    #[serde(flatten)]
    pub detection: DetectionJson,
    /// BM25 relevance (higher is better).
    pub score: f64,
    /// A passage of the field that matched, as the rule states it.
    pub snippet: String,
    /// The most telling field the search matched: title, description, query or tags.
    pub matched_field: String,
    /// The title in pieces, the words the search matched marked.
    pub title_marked: Vec<TextPieceJson>,
    /// The snippet in pieces, the words the search matched marked.
    pub snippet_marked: Vec<TextPieceJson>,
}

/// A piece of a text, and whether the search matched it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[schemars(rename = "TextPiece")]
pub struct TextPieceJson {
    pub text: String,
    pub matched: bool,
}

impl From<&Hit> for SearchHitJson {
    fn from(hit: &Hit) -> SearchHitJson {
        SearchHitJson {
            detection: (&hit.detection).into(),
            score: hit.score,
            snippet: hit.snippet.plain(),
            matched_field: hit.matched_field.as_str().into(),
            title_marked: pieces(&hit.title),
            snippet_marked: pieces(&hit.snippet),
        }
    }
}

fn pieces(marked: &Marked) -> Vec<TextPieceJson> {
    marked.0.iter().map(|(text, matched)| TextPieceJson { text: text.clone(), matched: *matched }).collect()
}

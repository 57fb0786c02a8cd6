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
    /// Those of them matching every word of the search: fewer than `total` when a search of
    /// several words that few detections match with all of them lists the matches of some after.
    pub total_every_word: usize,
    pub offset: usize,
    pub limit: usize,
    /// Counts over all matches before the filter, but the deprecated ones it hides.
    pub facets: FacetsJson,
    pub detections: Vec<SearchHitJson>,
}

impl SearchJson {
    /// " (8 match every word, the 112 after them some of the words)" where partial matches
    /// follow the full ones; empty otherwise. For front ends to print after the total.
    pub fn partial_note(&self) -> String {
        if self.total_every_word == self.total {
            return String::new();
        }
        let some = self.total - self.total_every_word;
        format!(" ({} match every word, the {some} after them some of the words)", self.total_every_word)
    }
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
    /// Whether it matched every word of the search. A search of several words that few
    /// detections match with all of them lists those matching some of them after, with false.
    pub every_word: bool,
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
            every_word: hit.every_word,
        }
    }
}

fn pieces(marked: &Marked) -> Vec<TextPieceJson> {
    marked.0.iter().map(|(text, matched)| TextPieceJson { text: text.clone(), matched: *matched }).collect()
}

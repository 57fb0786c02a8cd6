//! Full-text search over title, description, query and tags, ranked by FTS5's BM25.

use ruledex_core::model::Detection;
use ruledex_core::query::{FacetCounts, SearchQuery};
use serde::Serialize;

use crate::{Result, Store, StoreError};

/// Marks the start of a matched term in [`Hit::title`] and [`Hit::snippet`]. Control
/// characters never occur in rule text, so front ends can escape the text and then turn the
/// markers into `<mark>` (HTML) or bold (terminal) safely.
pub const HIGHLIGHT_START: char = '\u{2}';
pub const HIGHLIGHT_END: char = '\u{3}';

/// The text without highlight markers.
pub fn plain_text(highlighted: &str) -> String {
    highlighted.replace([HIGHLIGHT_START, HIGHLIGHT_END], "")
}

/// Columns a search may be restricted to with `column:word`.
const COLUMNS: &[&str] = &["title", "description", "query", "tags"];

/// BM25 weight per column: a word in the title says most about a rule, one deep in its query
/// least.
const RANK: &str = "bm25(detections_fts, 10.0, 3.0, 1.0, 5.0)";

#[derive(Debug, Clone, Serialize)]
pub struct SearchResults {
    /// Matches passing the filter.
    pub total: usize,
    /// Counts over all matches, before the filter.
    pub facets: FacetCounts,
    pub offset: usize,
    pub limit: usize,
    pub hits: Vec<Hit>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub detection: Detection,
    /// BM25 relevance (higher is better).
    pub score: f64,
    /// The title with matches between [`HIGHLIGHT_START`] and [`HIGHLIGHT_END`].
    pub title: String,
    /// The best-matching passage, marked the same way.
    pub snippet: String,
}

impl Store {
    pub fn search(&self, query: &SearchQuery) -> Result<SearchResults> {
        if !(1..=SearchQuery::MAX_LIMIT).contains(&query.limit) {
            return Err(StoreError::BadQuery(format!(
                "page size {} is out of range; ask for 1 to {}",
                query.limit,
                SearchQuery::MAX_LIMIT
            )));
        }
        let expression = fts_expression(&query.text)?;
        let ranked = self.rank(&expression)?;
        let facets = FacetCounts::count(ranked.iter().filter_map(|(pk, _)| self.facets_of(*pk)));
        let matching: Vec<(i64, f64)> =
            ranked.into_iter().filter(|(pk, _)| self.facets_of(*pk).is_some_and(|f| query.filter.matches(f))).collect();
        let page: Vec<(i64, f64)> = matching.iter().skip(query.offset).take(query.limit).copied().collect();
        let pks: Vec<i64> = page.iter().map(|(pk, _)| *pk).collect();
        let detections = self.detections_by_pk(&pks)?;
        let hits = page
            .iter()
            .zip(detections)
            .map(|((pk, score), detection)| {
                let (title, snippet) = self.highlight(&expression, *pk)?;
                Ok(Hit { detection, score: *score, title, snippet })
            })
            .collect::<Result<Vec<Hit>>>()?;
        Ok(SearchResults { total: matching.len(), facets, offset: query.offset, limit: query.limit, hits })
    }

    /// Every match, best first.
    fn rank(&self, expression: &str) -> Result<Vec<(i64, f64)>> {
        self.with_conn(|conn| {
            let sql = format!("SELECT rowid, {RANK} FROM detections_fts WHERE detections_fts MATCH ?1 ORDER BY 2");
            let mut statement = conn.prepare_cached(&sql)?;
            let rows = statement.query_map([expression], |r| Ok((r.get::<_, i64>(0)?, -r.get::<_, f64>(1)?)));
            rows.and_then(Iterator::collect).map_err(bad_query)
        })
    }

    fn highlight(&self, expression: &str, pk: i64) -> Result<(String, String)> {
        self.with_conn(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT highlight(detections_fts, 0, ?2, ?3), snippet(detections_fts, -1, ?2, ?3, '…', 24)
                 FROM detections_fts WHERE detections_fts MATCH ?1 AND rowid = ?4",
            )?;
            let (start, end) = (HIGHLIGHT_START.to_string(), HIGHLIGHT_END.to_string());
            Ok(statement.query_row(rusqlite::params![expression, start, end, pk], |r| Ok((r.get(0)?, r.get(1)?)))?)
        })
    }
}

/// SQLite reports a malformed MATCH expression as a plain failure; it is the user's query.
fn bad_query(error: rusqlite::Error) -> StoreError {
    match error {
        rusqlite::Error::SqliteFailure(_, Some(message)) => StoreError::BadQuery(message),
        other => StoreError::Sqlite(other),
    }
}

/// Turns what a user types into an FTS5 expression. Words and IDs like `T1090.003` or
/// `cmd.exe` become quoted phrases (FTS5 would reject their punctuation); `AND`, `OR`, `NOT`,
/// parentheses, "quoted phrases", `prefix*` and `column:word` keep their FTS5 meaning.
pub fn fts_expression(text: &str) -> Result<String> {
    let mut parts = Vec::new();
    for token in tokens(text)? {
        parts.push(match token.as_str() {
            "AND" | "OR" | "NOT" | "(" | ")" => token,
            _ => match token.split_once(':') {
                Some((column, rest)) if COLUMNS.contains(&column) && !rest.is_empty() => {
                    format!("{column} : {}", term(rest))
                }
                _ => term(&token),
            },
        });
    }
    if parts.is_empty() {
        return Err(StoreError::BadQuery("the search is empty; type some words".into()));
    }
    Ok(parts.join(" "))
}

fn term(token: &str) -> String {
    if token.starts_with('"') {
        return token.to_string();
    }
    match token.strip_suffix('*') {
        Some(stem) if !stem.is_empty() && !stem.contains('*') => format!("{}*", quote(stem)),
        _ => quote(token),
    }
}

fn quote(word: &str) -> String {
    format!("\"{}\"", word.replace('"', "\"\""))
}

/// Splits on whitespace, keeping "quoted phrases" and parentheses as tokens of their own.
fn tokens(text: &str) -> Result<Vec<String>> {
    if text.matches('"').count() % 2 == 1 {
        return Err(StoreError::BadQuery("a double quote is not closed".into()));
    }
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let phrase: String = chars.by_ref().take_while(|&c| c != '"').collect();
                current.push('"');
                current.push_str(&phrase);
                current.push('"');
            }
            '(' | ')' => {
                flush(&mut tokens, &mut current);
                tokens.push(c.to_string());
            }
            c if c.is_whitespace() => flush(&mut tokens, &mut current),
            c => current.push(c),
        }
    }
    flush(&mut tokens, &mut current);
    Ok(tokens)
}

fn flush(tokens: &mut Vec<String>, current: &mut String) {
    if !current.is_empty() {
        tokens.push(std::mem::take(current));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punctuated_words_become_phrases_and_operators_survive() {
        assert_eq!(fts_expression("T1090.003").unwrap(), "\"T1090.003\"");
        assert_eq!(fts_expression("tor OR proxy").unwrap(), "\"tor\" OR \"proxy\"");
        assert_eq!(fts_expression("netsh*  (a AND b)").unwrap(), "\"netsh\"* ( \"a\" AND \"b\" )");
        assert_eq!(fts_expression("\"port proxy\" title:netsh").unwrap(), "\"port proxy\" title : \"netsh\"");
        assert_eq!(fts_expression("cmd.exe /c").unwrap(), "\"cmd.exe\" \"/c\"");
        assert_eq!(fts_expression("say\"hi").unwrap_err().to_string(), "invalid search: a double quote is not closed");
        assert_eq!(fts_expression("nocol:x").unwrap(), "\"nocol:x\"");
    }

    #[test]
    fn empty_and_unbalanced_searches_are_refused() {
        assert!(matches!(fts_expression("   "), Err(StoreError::BadQuery(_))));
        assert!(matches!(fts_expression("\"open"), Err(StoreError::BadQuery(_))));
    }
}

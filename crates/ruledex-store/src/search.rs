//! Full-text search: FTS5 finds and ranks, filters run in memory, and matched words are marked
//! in Rust in one pass over each shown field (never by re-running the match per hit).

use std::collections::HashSet;

use ruledex_core::model::Detection;
use ruledex_core::query::{FacetCounts, Filter, SearchQuery};

use crate::{Result, Store, StoreError};

/// Columns a search may be restricted to with `column:word`.
const COLUMNS: &[&str] = &["title", "description", "query", "tags"];

/// BM25 weight per column: a word in the title says most about a rule, one deep in its query
/// least.
const RANK: &str = "bm25(detections_fts, 10.0, 3.0, 1.0, 5.0)";

/// The longest search accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 1_000;
/// The most words and operators one search may hold.
const MAX_TERMS: usize = 128;
/// Shortest stem of a `prefix*` search: a one-letter prefix matches most of the index.
const MIN_PREFIX_CHARS: usize = 2;
/// Words around the first match that a snippet shows.
const SNIPPET_WORDS: usize = 24;

#[derive(Debug, Clone)]
pub struct SearchResults {
    /// Matches passing the filter.
    pub total: usize,
    /// Counts over all matches, before the filter.
    pub facets: FacetCounts,
    pub offset: usize,
    pub limit: usize,
    pub hits: Vec<Hit>,
}

#[derive(Debug, Clone)]
pub struct Hit {
    pub detection: Detection,
    /// BM25 relevance (higher is better).
    pub score: f64,
    /// The title with its matched words marked.
    pub title: Marked,
    /// A passage of the description or the query, as the rule states it, matched words marked.
    pub snippet: Marked,
    /// The most telling field the search matched in.
    pub matched_field: Field,
}

/// The fields a search looks in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Title,
    Description,
    Query,
    /// ATT&CK names and IDs, vendor labels, data sources: matched, but never shown as a snippet.
    Tags,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Description => "description",
            Field::Query => "query",
            Field::Tags => "tags",
        }
    }
}

/// Text in pieces, each marked as matching the search or not. Rule text is kept apart from the
/// marking, so nothing a rule contains can pass for a mark.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Marked(pub Vec<(String, bool)>);

impl Marked {
    pub fn plain(&self) -> String {
        self.0.iter().map(|(text, _)| text.as_str()).collect()
    }

    pub fn has_match(&self) -> bool {
        self.0.iter().any(|(_, marked)| *marked)
    }
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
        let parsed = parse(&query.text)?;
        let ranked = self.rank(&parsed.expression)?;
        let facets = FacetCounts::count(ranked.iter().filter_map(|(pk, _)| self.facets_of(*pk)));
        let matching: Vec<(i64, f64)> =
            ranked.into_iter().filter(|(pk, _)| self.facets_of(*pk).is_some_and(|f| query.filter.matches(f))).collect();
        let page: Vec<(i64, f64)> = matching.iter().skip(query.offset).take(query.limit).copied().collect();
        let pks: Vec<i64> = page.iter().map(|(pk, _)| *pk).collect();
        let detections = self.detections_by_pk(&pks)?;
        let hits = page.iter().zip(detections).map(|((_, score), d)| parsed.terms.hit(d, *score)).collect();
        Ok(SearchResults { total: matching.len(), facets, offset: query.offset, limit: query.limit, hits })
    }

    /// Every detection matching `text` that `filter` keeps, best first, without their long
    /// texts: a whole result list, for exports.
    pub fn search_all(&self, text: &str, filter: &Filter) -> Result<Vec<Detection>> {
        let ranked = self.rank(&parse(text)?.expression)?;
        let pks: Vec<i64> = ranked
            .into_iter()
            .map(|(pk, _)| pk)
            .filter(|pk| self.facets_of(*pk).is_some_and(|f| filter.matches(f)))
            .collect();
        self.detections_by_pk(&pks)
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
}

/// SQLite reports a malformed MATCH expression as a plain failure; it is the user's query.
/// An interrupted query stays an interruption (the pool names the budget it ran out of).
fn bad_query(error: rusqlite::Error) -> StoreError {
    match error {
        rusqlite::Error::SqliteFailure(failure, Some(message))
            if failure.code != rusqlite::ErrorCode::OperationInterrupted =>
        {
            StoreError::BadQuery(message)
        }
        other => StoreError::Sqlite(other),
    }
}

/// A search as FTS5 runs it, and the words to mark in results.
struct ParsedSearch {
    expression: String,
    terms: Terms,
}

/// Turns what a user types into an FTS5 expression. Words and IDs like `T1090.003` or
/// `cmd.exe` become quoted phrases (FTS5 would reject their punctuation); `AND`, `OR`, `NOT`,
/// parentheses, "quoted phrases", `prefix*` and `column:word` keep their FTS5 meaning.
fn parse(text: &str) -> Result<ParsedSearch> {
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(StoreError::BadQuery(format!(
            "the search is longer than {MAX_QUERY_CHARS} characters; shorten it"
        )));
    }
    let tokens = tokens(text)?;
    if tokens.len() > MAX_TERMS {
        return Err(StoreError::BadQuery(format!("the search has more than {MAX_TERMS} words and operators")));
    }
    let mut parts = Vec::new();
    let mut terms = Terms::default();
    for token in tokens {
        parts.push(match token.as_str() {
            "AND" | "OR" | "NOT" | "(" | ")" => token,
            _ => match token.split_once(':') {
                Some((column, rest)) if COLUMNS.contains(&column) && !rest.is_empty() => {
                    format!("{column} : {}", terms.add(rest)?)
                }
                _ => terms.add(&token)?,
            },
        });
    }
    if parts.is_empty() {
        return Err(StoreError::BadQuery("the search is empty; type some words".into()));
    }
    Ok(ParsedSearch { expression: parts.join(" "), terms })
}

/// The words a search looks for, lowercased, to mark in results.
#[derive(Default)]
struct Terms {
    words: HashSet<String>,
    prefixes: Vec<String>,
}

impl Terms {
    /// Records the words of one search term and returns it as FTS5 syntax.
    fn add(&mut self, token: &str) -> Result<String> {
        if let Some(phrase) = token.strip_prefix('"') {
            self.words.extend(words(phrase.trim_end_matches('"')).map(str::to_lowercase));
            return Ok(token.to_string());
        }
        match token.strip_suffix('*') {
            Some(stem) if !stem.is_empty() && !stem.contains('*') => {
                if stem.chars().filter(|c| c.is_alphanumeric()).count() < MIN_PREFIX_CHARS {
                    return Err(StoreError::BadQuery(format!(
                        "{token:?}: a prefix search needs at least {MIN_PREFIX_CHARS} letters before the *"
                    )));
                }
                self.prefixes.extend(words(stem).map(str::to_lowercase));
                Ok(format!("{}*", quote(stem)))
            }
            _ => {
                self.words.extend(words(token).map(str::to_lowercase));
                Ok(quote(token))
            }
        }
    }

    fn matches(&self, word: &str) -> bool {
        let lower = word.to_lowercase();
        self.words.contains(&lower) || self.prefixes.iter().any(|p| lower.starts_with(p.as_str()))
    }

    /// Marks every word of `text` the search looks for.
    fn mark(&self, text: &str) -> Marked {
        let mut pieces: Vec<(String, bool)> = Vec::new();
        for (piece, is_word) in split_words(text) {
            let marked = is_word && self.matches(piece);
            match pieces.last_mut() {
                Some((last, last_marked)) if *last_marked == marked => last.push_str(piece),
                _ => pieces.push((piece.to_string(), marked)),
            }
        }
        Marked(pieces)
    }

    fn hit(&self, detection: Detection, score: f64) -> Hit {
        let rule = &detection.rule;
        let title = self.mark(&rule.title);
        let description = self.passage(&rule.description);
        let query = self.passage(&rule.query);
        let (matched_field, snippet) = if title.has_match() {
            (Field::Title, if query.has_match() && !description.has_match() { query } else { description })
        } else if description.has_match() {
            (Field::Description, description)
        } else if query.has_match() {
            (Field::Query, query)
        } else {
            (Field::Tags, description)
        };
        Hit { detection, score, title, snippet, matched_field }
    }

    /// The words of `text` around its first match (or its beginning), marked.
    fn passage(&self, text: &str) -> Marked {
        let pieces: Vec<(&str, bool)> = split_words(text).collect();
        let first = pieces.iter().position(|(piece, is_word)| *is_word && self.matches(piece));
        let word_positions: Vec<usize> = pieces.iter().enumerate().filter(|(_, p)| p.1).map(|(i, _)| i).collect();
        let anchor = first.and_then(|f| word_positions.iter().position(|&i| i == f)).unwrap_or(0);
        let start_word = anchor.saturating_sub(SNIPPET_WORDS / 3);
        let end_word = (start_word + SNIPPET_WORDS).min(word_positions.len());
        let (Some(&start), Some(&end)) =
            (word_positions.get(start_word), word_positions.get(end_word.saturating_sub(1)))
        else {
            return Marked::default();
        };
        let mut excerpt: String = pieces[start..=end].iter().map(|(p, _)| *p).collect();
        excerpt = excerpt.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut marked = self.mark(&excerpt);
        if start > 0 {
            marked.0.insert(0, ("… ".into(), false));
        }
        if end + 1 < pieces.len() {
            marked.0.push((" …".into(), false));
        }
        marked
    }
}

/// Splits text into alternating runs of word characters and the rest, as FTS5's unicode61
/// tokenizer sees words.
fn split_words(text: &str) -> impl Iterator<Item = (&str, bool)> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let is_word = first.is_alphanumeric();
        let end = rest.find(|c: char| c.is_alphanumeric() != is_word).unwrap_or(rest.len());
        let (piece, tail) = rest.split_at(end);
        rest = tail;
        Some((piece, is_word))
    })
}

fn words(text: &str) -> impl Iterator<Item = &str> {
    split_words(text).filter(|(_, is_word)| *is_word).map(|(w, _)| w)
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
            c if c.is_whitespace() || c.is_control() => flush(&mut tokens, &mut current),
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

    fn fts_expression(text: &str) -> Result<String> {
        parse(text).map(|p| p.expression)
    }

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
    fn empty_unbalanced_oversized_and_one_letter_prefix_searches_are_refused() {
        for bad in ["   ".to_string(), "\"open".into(), "x ".repeat(129), "y".repeat(1001), "a* OR b*".into()] {
            assert!(matches!(fts_expression(&bad), Err(StoreError::BadQuery(_))), "{bad:.40}");
        }
        assert!(fts_expression("ne* OR ps*").is_ok());
    }

    #[test]
    fn marks_cover_matched_words_only_and_rule_text_cannot_forge_them() {
        let terms = parse("tor exit*").unwrap().terms;
        let marked = terms.mark("Tor exits\u{2}<b>\u{3} toronto");
        assert_eq!(
            marked.0,
            vec![
                ("Tor".to_string(), true),
                (" ".into(), false),
                ("exits".into(), true),
                ("\u{2}<b>\u{3} toronto".into(), false),
            ]
        );
        assert_eq!(marked.plain(), "Tor exits\u{2}<b>\u{3} toronto");
    }

    #[test]
    fn passages_center_on_the_first_match() {
        let terms = parse("needle").unwrap().terms;
        let text = (0..100).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ") + " needle tail";
        let passage = terms.passage(&text);
        let plain = passage.plain();
        assert!(plain.starts_with("… w92"), "{plain}");
        assert!(plain.ends_with("tail"), "{plain}");
        assert!(passage.has_match());
    }
}

//! Full-text search: FTS5 finds, the ranking below orders, filters run in memory, and matched
//! words are marked in Rust ([`mark`]). A search that finds almost nothing is retried with its
//! misspelled words corrected against the catalog's vocabulary ([`spelling`]). A search of
//! several plain words that few detections match with every word is widened: the detections
//! matching its first word, what people type first being what they look for, follow those
//! matching all ("tor exit node" finds Splunk's "TOR Traffic" after the exit-node rules;
//! "rundll32 no command line arguments" other rundll32 rules, not every rule without arguments).
//!
//! The ranking, in order: where the whole search matched (in the title; else in the title,
//! description and tags; else it needed the query text; partial matches last), vendor-native
//! before community,
//! current before deprecated; among title matches, shorter titles first (the search is more of
//! what the rule is about); then BM25 over the columns weighted below.

mod mark;
mod parse;
mod spelling;
mod word_counts;

use std::collections::{HashMap, HashSet};

use ruledex_core::model::{Detection, SourceKind};
use ruledex_core::query::{FacetCounts, Facets, Filter, SearchQuery};
use rusqlite::{Connection, params};

pub use mark::Marked;
use mark::{Indexed, Terms};
pub use parse::MAX_QUERY_CHARS;
use parse::{PROSE_TIER, ParsedSearch, TITLE_TIER, Token};
pub(crate) use spelling::Vocabulary;
pub(crate) use word_counts::{RowChange, SpellingUpdate, record_changed_row, record_changes, update_spelling};

use crate::{MAX_PAGE_BYTES, Result, Store, StoreError};

/// BM25 weight per column (title, description, query, tags, cves, and the stems of title,
/// description and tags): a word in the title says most about a rule, one deep in its query
/// least.
const RANK: &str = "bm25(detections_fts, 10.0, 3.0, 1.0, 5.0, 5.0, 10.0, 3.0, 5.0)";

/// A search matching fewer detections than this is retried with misspelled words corrected.
const FEW_MATCHES: usize = 3;

/// A search of several words matching fewer detections than this with all its words (a page's
/// worth) lists those matching some of its words after them.
const FEW_WITH_EVERY_WORD: usize = 20;

#[derive(Debug, Clone)]
pub struct SearchResults {
    /// Matches passing the filter.
    pub total: usize,
    /// Those of them matching every word of the search (fewer than `total` when matches of
    /// some of the words follow them).
    pub total_every_word: usize,
    /// Counts over all matches before the filter, but those it hides as deprecated (a count
    /// never includes rules the page cannot show).
    pub facets: FacetCounts,
    pub offset: usize,
    pub limit: usize,
    pub hits: Vec<Hit>,
    /// The search these results are for when it is not the one typed: its misspelled words
    /// corrected, because the search as typed found (almost) nothing.
    pub corrected_query: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Hit {
    pub detection: Detection,
    /// BM25 relevance (higher is better).
    pub score: f64,
    /// The title with its matched words marked.
    pub title: Marked,
    /// A passage of the description or the query logic, as the rule states it, matched words
    /// marked.
    pub snippet: Marked,
    /// The most telling field the search matched in.
    pub matched_field: Field,
    /// Whether it matched every word of the search; partial matches come after those that do.
    pub every_word: bool,
}

/// The fields a search looks in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Title,
    Description,
    Query,
    /// ATT&CK names and IDs, vendor labels, data sources, CVEs: matched, but never shown as a
    /// snippet.
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

/// Where a search matched a detection as a whole, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tier {
    Title,
    Prose,
    Query,
    /// Some of the search's words, not all: listed after every full match.
    Partial,
}

/// What ranks a match before its BM25 score: tier, community, deprecated, words in the title
/// (title matches only), each lower first.
type RankKey = (Tier, bool, bool, usize);

/// A detection a search matched, and where.
#[derive(Debug, Clone, Copy)]
struct Match {
    pk: i64,
    tier: Tier,
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
        let found = self.found(&query.text)?;
        self.results(found, query)
    }

    /// Every detection matching `text` that `filter` keeps, best first, without their long
    /// texts: a whole result list, for exports (the same list, corrected or not, that
    /// [`Store::search`] pages through).
    pub fn search_all(&self, text: &str, filter: &Filter) -> Result<Vec<Detection>> {
        let found = self.found(text)?;
        let mut ranked = self.ranked(found.matches, filter);
        self.order_by_score(&mut ranked, 0..usize::MAX, &found.scoring)?;
        self.detections_by_pk(&ranked.iter().map(|r| r.1).collect::<Vec<_>>())
    }

    /// What the search matches, or, when that is almost nothing, what it matches with its
    /// misspelled words corrected; then, when few match every word, those matching some.
    fn found(&self, text: &str) -> Result<Found> {
        let tokens = parse::tokens(text)?;
        let mut found = self.found_as_typed(tokens, None)?;
        if found.matches.len() < FEW_MATCHES
            && let Some(corrected) = self.corrected(&found.tokens)?
            && corrected.matches.len() > found.matches.len()
        {
            found = corrected;
        }
        self.with_partial_matches(found)
    }

    fn found_as_typed(&self, tokens: Vec<Token>, corrected_query: Option<String>) -> Result<Found> {
        let parsed = parse::parse_tokens(&tokens)?;
        let matches = self.find(&parsed.expression)?;
        Ok(Found { matches, scoring: parsed.expression.clone(), parsed, tokens, corrected_query })
    }

    /// Adds the detections matching the first word of a search that few match with all of its
    /// words (people type what they look for first: "tor exit node", "rundll32 no command line
    /// arguments"), as [`Tier::Partial`]; BM25 then scores every match over any of the words.
    fn with_partial_matches(&self, mut found: Found) -> Result<Found> {
        if found.matches.len() >= FEW_WITH_EVERY_WORD {
            return Ok(found);
        }
        let Some(words) = parse::each_word(&found.tokens)? else { return Ok(found) };
        let subject: Vec<i64> = self.with_conn(|conn| rowids(conn, &words[0]))?;
        let whole: HashSet<i64> = found.matches.iter().map(|m| m.pk).collect();
        let partial = subject.into_iter().filter(|pk| !whole.contains(pk));
        found.matches.extend(partial.map(|pk| Match { pk, tier: Tier::Partial }));
        found.scoring = words.join(" OR ");
        Ok(found)
    }

    /// Every detection the expression matches, with its tier.
    fn find(&self, expression: &str) -> Result<Vec<Match>> {
        self.with_conn(|conn| {
            let in_title: HashSet<i64> = rowids(conn, &format!("{TITLE_TIER} : ( {expression} )"))?;
            let in_prose: HashSet<i64> = rowids(conn, &format!("{PROSE_TIER} : ( {expression} )"))?;
            Ok(rowids::<Vec<i64>>(conn, expression)?
                .into_iter()
                .map(|pk| {
                    let tier = if in_title.contains(&pk) {
                        Tier::Title
                    } else if in_prose.contains(&pk) {
                        Tier::Prose
                    } else {
                        Tier::Query
                    };
                    Match { pk, tier }
                })
                .collect())
        })
    }

    /// BM25 scores (higher is better) of some of the expression's matches: computing them is
    /// most of a search's cost, so only the rows that compete for the page are scored.
    fn scores(&self, expression: &str, pks: &[i64]) -> Result<HashMap<i64, f64>> {
        // `+rowid`: FTS5 would otherwise run the whole MATCH again for each rowid of the list.
        let sql = format!(
            "SELECT rowid, {RANK} FROM detections_fts
             WHERE detections_fts MATCH ?1 AND +rowid IN (SELECT value FROM json_each(?2))"
        );
        let pks = format!("[{}]", pks.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
        self.with_conn(|conn| {
            let mut statement = conn.prepare_cached(&sql)?;
            let rows = statement.query_map(params![expression, pks], |r| Ok((r.get(0)?, -r.get::<_, f64>(1)?)));
            rows.and_then(Iterator::collect).map_err(bad_query)
        })
    }

    /// The search with its misspelled words corrected, and what it matches; `None` when no word
    /// needed correcting.
    fn corrected(&self, tokens: &[Token]) -> Result<Option<Found>> {
        let Some(corrected) = self.vocabulary()?.correct(tokens) else { return Ok(None) };
        let text = spelling::text_of(&corrected);
        self.found_as_typed(corrected, Some(text)).map(Some)
    }

    fn vocabulary(&self) -> Result<&Vocabulary> {
        if let Some(vocabulary) = self.vocabulary.get() {
            return Ok(vocabulary);
        }
        let loaded = self.with_conn(Vocabulary::load)?;
        Ok(self.vocabulary.get_or_init(|| loaded))
    }

    /// Filters, ranks and pages the matches, and marks the page's hits.
    fn results(&self, found: Found, query: &SearchQuery) -> Result<SearchResults> {
        let shown = |f: &&Facets| query.filter.include_deprecated || !f.deprecated;
        let facets = FacetCounts::count(found.matches.iter().filter_map(|m| self.facets_of(m.pk)).filter(shown));
        let mut ranked = self.ranked(found.matches, &query.filter);
        let page = query.offset.min(ranked.len())..query.offset.saturating_add(query.limit).min(ranked.len());
        let scores = self.order_by_score(&mut ranked, page.clone(), &found.scoring)?;
        let pks: Vec<i64> = ranked[page.clone()].iter().map(|r| r.1).collect();
        let detections = self.detections_within(&pks, MAX_PAGE_BYTES)?;
        let hits = ranked[page]
            .iter()
            .zip(detections)
            .map(|(&((tier, ..), pk), d)| {
                let mut hit = hit(&found.parsed.terms, d, scores.get(&pk).copied().unwrap_or_default());
                hit.every_word = tier != Tier::Partial;
                hit
            })
            .collect();
        Ok(SearchResults {
            total: ranked.len(),
            total_every_word: ranked.partition_point(|((tier, ..), _)| *tier != Tier::Partial),
            facets,
            offset: query.offset,
            limit: query.limit,
            hits,
            corrected_query: found.corrected_query,
        })
    }

    /// The matches `filter` keeps, sorted by rank key.
    fn ranked(&self, matches: Vec<Match>, filter: &Filter) -> Vec<(RankKey, i64)> {
        let mut ranked: Vec<(RankKey, i64)> = matches
            .into_iter()
            .filter_map(|m| {
                let f = self.facets_of(m.pk).filter(|f| filter.matches(f))?;
                let title_words = if m.tier == Tier::Title { self.title_words(m.pk) } else { 0 };
                Some(((m.tier, f.kind != SourceKind::Vendor, f.deprecated, title_words), m.pk))
            })
            .collect();
        ranked.sort_unstable();
        ranked
    }

    /// Orders by BM25 the rows of `ranked` (sorted by rank key) that compete for `page`: the
    /// page's rows and every row of equal rank key that BM25 could put on it. Returns their
    /// scores.
    fn order_by_score(
        &self,
        ranked: &mut [(RankKey, i64)],
        page: std::ops::Range<usize>,
        expression: &str,
    ) -> Result<HashMap<i64, f64>> {
        let page = page.start.min(ranked.len())..page.end.min(ranked.len());
        let (Some(&(first, _)), Some(&(last, _))) = (ranked.get(page.start), ranked.get(page.end.wrapping_sub(1)))
        else {
            return Ok(HashMap::new());
        };
        let competing = ranked.partition_point(|r| r.0 < first)..ranked.partition_point(|r| r.0 <= last);
        let pks: Vec<i64> = ranked[competing.clone()].iter().map(|r| r.1).collect();
        let scores = self.scores(expression, &pks)?;
        let score = |pk: &i64| scores.get(pk).copied().unwrap_or(f64::MIN);
        ranked[competing].sort_by(|a, b| a.0.cmp(&b.0).then(score(&b.1).total_cmp(&score(&a.1))).then(a.1.cmp(&b.1)));
        Ok(scores)
    }
}

/// What a search matched, as parsed, and the corrected search when the matches are for one.
struct Found {
    matches: Vec<Match>,
    parsed: ParsedSearch,
    tokens: Vec<Token>,
    /// The expression BM25 scores matches by: the search's, or any of its words when partial
    /// matches were added.
    scoring: String,
    corrected_query: Option<String>,
}

fn rowids<C: FromIterator<i64>>(conn: &Connection, expression: &str) -> Result<C> {
    let mut statement = conn.prepare_cached("SELECT rowid FROM detections_fts WHERE detections_fts MATCH ?1")?;
    let rows = statement.query_map([expression], |r| r.get::<_, i64>(0));
    rows.and_then(Iterator::collect).map_err(bad_query)
}

/// A detection as a search shows it: its title marked, and a passage of the field that matched,
/// as the rule states it (the description, or the query's logic), never the index's own text.
fn hit(terms: &Terms, detection: Detection, score: f64) -> Hit {
    let rule = &detection.rule;
    let title = terms.mark(&rule.title, Indexed::WithStems);
    let description = terms.passage(&rule.description, Indexed::WithStems);
    let query = terms.passage(detection.format.adapter().query_logic(&rule.query), Indexed::AsWritten);
    let (matched_field, snippet) = if title.has_match() {
        (Field::Title, if query.has_match() && !description.has_match() { query } else { description })
    } else if description.has_match() {
        (Field::Description, description)
    } else if query.has_match() {
        (Field::Query, query)
    } else {
        (Field::Tags, description)
    };
    Hit { detection, score, title, snippet, matched_field, every_word: true }
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

//! What a user types, as an FTS5 expression over the catalog's index (see `schema.sql`).
//!
//! Prose words (`exits`, `Multi-hop`) are looked up by their English stem in the stemmed prose
//! columns, and as typed in the query text. Identifiers (`cmd.exe`, `T1090.003`, `4688`) and
//! `prefix*` searches match the columns as written, exactly. `AND`, `OR`, `NOT`, parentheses,
//! "quoted phrases", `column:word` and `cve:CVE-2021-44228` keep their meaning; the structure is
//! checked here so a malformed search gets a sentence saying what to fix, never SQLite's parser
//! error.

use ruledex_core::words::{self, is_prose, stem};

use super::mark::Terms;
use crate::{Result, StoreError};

/// The longest search accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 1_000;
/// The most words and operators one search may hold.
const MAX_TERMS: usize = 128;
/// Shortest stem of a `prefix*` search: a one-letter prefix matches most of the index.
const MIN_PREFIX_CHARS: usize = 2;

/// Where a term is looked for: the columns as written, the stemmed prose columns, and whether
/// prose is also looked for as typed in the query text (which is code, and not stemmed).
struct Columns {
    exact: &'static str,
    stems: Option<&'static str>,
    query_too: bool,
}

const EVERYWHERE: Columns = Columns {
    exact: "{title description query tags cves}",
    stems: Some("{title_stems description_stems tags_stems}"),
    query_too: true,
};

/// `column:word` restrictions users may write, and where each looks.
fn restricted(column: &str) -> Option<Columns> {
    Some(match column {
        "title" => Columns { exact: "{title}", stems: Some("{title_stems}"), query_too: false },
        "description" => Columns { exact: "{description}", stems: Some("{description_stems}"), query_too: false },
        "query" => Columns { exact: "{query}", stems: None, query_too: false },
        "tags" => Columns { exact: "{tags cves}", stems: Some("{tags_stems}"), query_too: false },
        _ => return None,
    })
}

/// Columns of the ranking tiers: a search matched wholly in the title ranks first, then one
/// matched in the title, description and tags; one that needs the query text ranks last.
pub(super) const TITLE_TIER: &str = "{title title_stems}";
pub(super) const PROSE_TIER: &str = "{title description tags cves title_stems description_stems tags_stems}";

/// A search as FTS5 runs it, and the words to mark in results.
pub(super) struct ParsedSearch {
    pub expression: String,
    pub terms: Terms,
}

/// One piece of a search as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Token {
    Operator(&'static str),
    Open,
    Close,
    Term(String),
}

impl Token {
    pub(super) fn text(&self) -> &str {
        match self {
            Token::Operator(op) => op,
            Token::Open => "(",
            Token::Close => ")",
            Token::Term(term) => term,
        }
    }

    /// A term, or a parenthesized group: what an operator joins.
    fn starts_operand(&self) -> bool {
        matches!(self, Token::Term(_) | Token::Open)
    }

    fn ends_operand(&self) -> bool {
        matches!(self, Token::Term(_) | Token::Close)
    }
}

/// [`parse_tokens`] of [`tokens`].
#[cfg(test)]
pub(super) fn parse(text: &str) -> Result<ParsedSearch> {
    parse_tokens(&tokens(text)?)
}

pub(super) fn parse_tokens(tokens: &[Token]) -> Result<ParsedSearch> {
    if tokens.is_empty() {
        return Err(bad("the search is empty; type some words"));
    }
    check_structure(tokens)?;
    let mut parts: Vec<String> = Vec::new();
    let mut terms = Terms::default();
    let mut previous: Option<&Token> = None;
    for token in tokens {
        // FTS5 joins two terms side by side, but not a term and a parenthesis: say AND outright.
        if previous.is_some_and(Token::ends_operand) && token.starts_operand() {
            parts.push("AND".into());
        }
        parts.push(match token {
            Token::Term(term) => expression(term, &mut terms)?,
            other => other.text().to_string(),
        });
        previous = Some(token);
    }
    Ok(ParsedSearch { expression: parts.join(" "), terms })
}

/// Each word of a search of several plain words (no operators or parentheses) as an expression
/// of its own; `None` for other searches.
pub(super) fn each_word(tokens: &[Token]) -> Result<Option<Vec<String>>> {
    if tokens.len() < 2 || !tokens.iter().all(|t| matches!(t, Token::Term(_))) {
        return Ok(None);
    }
    let mut terms = Terms::default();
    tokens.iter().map(|t| expression(t.text(), &mut terms)).collect::<Result<Vec<_>>>().map(Some)
}

/// Splits on whitespace and control characters, keeping "quoted phrases" and parentheses as
/// tokens of their own; `AND`, `OR` and `NOT` in capitals are operators.
pub(super) fn tokens(text: &str) -> Result<Vec<Token>> {
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(bad(format!("the search is longer than {MAX_QUERY_CHARS} characters; shorten it")));
    }
    if text.matches('"').count() % 2 == 1 {
        return Err(bad("a double quote is not closed"));
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
                tokens.push(if c == '(' { Token::Open } else { Token::Close });
            }
            c if c.is_whitespace() || c.is_control() => flush(&mut tokens, &mut current),
            c => current.push(c),
        }
    }
    flush(&mut tokens, &mut current);
    if tokens.len() > MAX_TERMS {
        return Err(bad(format!("the search has more than {MAX_TERMS} words and operators")));
    }
    Ok(tokens)
}

fn flush(tokens: &mut Vec<Token>, current: &mut String) {
    if current.is_empty() {
        return;
    }
    let text = std::mem::take(current);
    // Punctuation alone (`tor + exit`, `-`, `""`) is no word the index holds: as a term it would
    // match nothing and empty the whole search.
    if words::words(&text).next().is_none() {
        return;
    }
    tokens.push(match text.as_str() {
        "AND" => Token::Operator("AND"),
        "OR" => Token::Operator("OR"),
        "NOT" => Token::Operator("NOT"),
        _ => Token::Term(text),
    });
}

/// Parentheses balance, and each operator has something on both sides.
fn check_structure(tokens: &[Token]) -> Result<()> {
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate() {
        let before = i.checked_sub(1).map(|j| &tokens[j]);
        let after = tokens.get(i + 1);
        match token {
            Token::Open => {
                depth += 1;
                if after == Some(&Token::Close) {
                    return Err(bad("empty parentheses; put words between them"));
                }
            }
            Token::Close => {
                depth = depth.checked_sub(1).ok_or_else(|| bad("a closing parenthesis has no opening one"))?;
            }
            Token::Operator(op) => {
                let joins = before.is_some_and(Token::ends_operand) && after.is_some_and(Token::starts_operand);
                if !joins {
                    return Err(bad(format!(
                        "{op} needs words on both sides, like `proxy {op} tor` (lowercase {} is searched as a word)",
                        op.to_lowercase()
                    )));
                }
            }
            Token::Term(_) => {}
        }
    }
    if depth > 0 {
        return Err(bad("a parenthesis is not closed"));
    }
    Ok(())
}

/// One search term as FTS5 syntax, its words recorded for marking.
fn expression(token: &str, terms: &mut Terms) -> Result<String> {
    let (columns, text) = match token.split_once(':') {
        Some(("cve", cve)) => return cve_expression(cve, terms),
        Some((column, rest)) if !rest.is_empty() => match restricted(column) {
            Some(columns) => (columns, rest),
            None => (EVERYWHERE, token),
        },
        _ => (EVERYWHERE, token),
    };
    if let Some(phrase) = text.strip_prefix('"') {
        return Ok(words_expression(&columns, phrase.trim_end_matches('"'), terms));
    }
    match text.strip_suffix('*') {
        Some(prefix) if !prefix.is_empty() && !prefix.contains('*') => {
            if prefix.chars().filter(|c| c.is_alphanumeric()).count() < MIN_PREFIX_CHARS {
                return Err(bad(format!(
                    "{token:?}: a prefix search needs at least {MIN_PREFIX_CHARS} letters before the *"
                )));
            }
            terms.add_prefix(prefix);
            Ok(format!("{} : {}*", columns.exact, quote(prefix)))
        }
        _ => Ok(words_expression(&columns, text, terms)),
    }
}

/// Prose is matched by its stems in the prose columns and as typed in the query text; anything
/// else (an identifier, a path, a number) as typed everywhere.
fn words_expression(columns: &Columns, text: &str, terms: &mut Terms) -> String {
    let exact = format!("{} : {}", columns.exact, quote(text));
    match columns.stems {
        Some(stems) if reads_as_prose(text) => {
            terms.add_prose(text);
            let stemmed: Vec<String> = words::words(text).map(stem).collect();
            let in_stems = format!("{stems} : {}", quote(&stemmed.join(" ")));
            if columns.query_too { format!("({in_stems} OR {{query}} : {})", quote(text)) } else { in_stems }
        }
        _ => {
            terms.add_exact(text);
            exact
        }
    }
}

/// Words of letters, joined at most by spaces, hyphens and apostrophes (`exit nodes`,
/// `multi-hop`, `adversary's`): not `cmd.exe`, `T1090` or `C:\Windows`.
fn reads_as_prose(text: &str) -> bool {
    let mut any_word = false;
    for (piece, is_word) in words::split(text) {
        if is_word {
            any_word = true;
            if !is_prose(piece) {
                return false;
            }
        } else if !piece.chars().all(|c| c.is_whitespace() || matches!(c, '-' | '\'' | '’')) {
            return false;
        }
    }
    any_word
}

fn cve_expression(text: &str, terms: &mut Terms) -> Result<String> {
    let text = text.trim_matches('"');
    let cve = ruledex_core::cve::parse(text)
        .ok_or_else(|| bad(format!("cve:{text} is not a CVE ID; write it like cve:CVE-2021-44228")))?;
    terms.add_exact(&cve);
    // The CVEs of a rule are those its title, tags and references name, so looking in the title
    // and tags too finds the same rules, and ranks those naming the CVE in their title first.
    Ok(format!("{{title tags cves}} : {}", quote(&cve)))
}

fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

fn bad(message: impl Into<String>) -> StoreError {
    StoreError::BadQuery(message.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fts(text: &str) -> Result<String> {
        parse(text).map(|p| p.expression)
    }

    #[test]
    fn prose_is_stemmed_and_identifiers_match_as_typed() {
        assert_eq!(
            fts("exits").unwrap(),
            "({title_stems description_stems tags_stems} : \"exit\" OR {query} : \"exits\")"
        );
        assert_eq!(fts("T1090.003").unwrap(), "{title description query tags cves} : \"T1090.003\"");
        assert_eq!(fts("cmd.exe").unwrap(), "{title description query tags cves} : \"cmd.exe\"");
        assert_eq!(
            fts("\"Exit Nodes\"").unwrap(),
            "({title_stems description_stems tags_stems} : \"exit node\" OR {query} : \"Exit Nodes\")"
        );
        assert_eq!(
            fts("multi-hop").unwrap(),
            "({title_stems description_stems tags_stems} : \"multi hop\" OR {query} : \"multi-hop\")"
        );
    }

    #[test]
    fn operators_columns_prefixes_and_cves_keep_their_meaning() {
        assert_eq!(
            fts("netsh* (4688 OR 4624)").unwrap(),
            "{title description query tags cves} : \"netsh\"* AND ( {title description query tags cves} : \"4688\" OR {title description query tags cves} : \"4624\" )"
        );
        assert_eq!(fts("title:nodes").unwrap(), "{title_stems} : \"node\"");
        assert_eq!(fts("query:encoded").unwrap(), "{query} : \"encoded\"");
        assert_eq!(fts("cve:cve-2021-44228").unwrap(), "{title tags cves} : \"CVE-2021-44228\"");
        assert_eq!(fts("nocol:x").unwrap(), "{title description query tags cves} : \"nocol:x\"");
    }

    #[test]
    fn malformed_searches_are_refused_with_what_to_fix() {
        let message = |text: &str| fts(text).unwrap_err().to_string();
        assert_eq!(message("say\"hi"), "invalid search: a double quote is not closed");
        assert_eq!(message("(tor"), "invalid search: a parenthesis is not closed");
        assert_eq!(message("tor)"), "invalid search: a closing parenthesis has no opening one");
        assert!(message("OR").contains("OR needs words on both sides"));
        assert!(message("NOT tor").contains("NOT needs words on both sides"));
        assert!(message("tor AND").contains("AND needs words on both sides"));
        assert!(message("tor ( )").contains("empty parentheses"));
        assert!(message("cve:log4shell").contains("not a CVE ID"));
        for bad in ["   ".to_string(), "x ".repeat(129), "y".repeat(1001), "a* OR b*".into()] {
            assert!(matches!(fts(&bad), Err(StoreError::BadQuery(_))), "{bad:.40}");
        }
        assert!(fts("ne* OR ps*").is_ok());
        assert!(fts("tor\u{0}exit\u{1b}[31m").is_ok(), "control characters separate words");
        assert_eq!(fts("tor + exit - node").unwrap(), fts("tor exit node").unwrap(), "punctuation alone is no word");
        assert!(message("- * \"\"").contains("the search is empty"));
    }

    #[test]
    fn only_searches_of_several_plain_words_are_split_into_words() {
        let any = |text: &str| each_word(&tokens(text).unwrap()).unwrap();
        let tor = "({title_stems description_stems tags_stems} : \"tor\" OR {query} : \"tor\")";
        let id = "{title description query tags cves} : \"T1090\"";
        assert_eq!(any("tor T1090"), Some(vec![tor.to_string(), id.to_string()]));
        assert_eq!(any("tor"), None);
        assert_eq!(any("tor OR proxy"), None);
        assert_eq!(any("tor (exit node)"), None);
    }
}

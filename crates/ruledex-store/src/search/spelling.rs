//! Correcting a misspelled search against the catalog's own vocabulary: the words of its titles,
//! descriptions and tags (the `spelling` table, kept by the sync in step with the full-text
//! index, see [`super::word_counts`]), each with how often it is used.
//!
//! A word is corrected only when the catalog does not use it, to its closest well-used word by
//! edit distance (a letter added, dropped, changed, or two swapped); the search decides whether
//! the corrected search is worth showing (see `Store::search`).

use std::cmp::Reverse;
use std::collections::HashMap;

use rusqlite::Connection;

use super::parse::Token;
use crate::Result;

/// Words shorter than this are never corrected: one edit turns them into too many others.
const MIN_CORRECTED_CHARS: usize = 4;
/// Edits allowed from this length on; one below it.
const TWO_EDITS_FROM_CHARS: usize = 6;

/// The catalog's vocabulary, loaded once per generation on the first search that needs it.
pub(crate) struct Vocabulary {
    uses: HashMap<String, u32>,
    /// Terms by length in characters, for looking only at lengths an edit can reach, each with
    /// its use count and its [`letters`].
    by_length: Vec<Vec<(String, u32, u64)>>,
}

impl Vocabulary {
    pub(crate) fn load(conn: &Connection) -> Result<Vocabulary> {
        let mut statement = conn.prepare("SELECT term, uses FROM spelling")?;
        let rows = statement.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?)))?;
        let mut vocabulary = Vocabulary { uses: HashMap::new(), by_length: Vec::new() };
        for row in rows {
            let (term, uses) = row?;
            let length = term.chars().count();
            if vocabulary.by_length.len() <= length {
                vocabulary.by_length.resize_with(length + 1, Vec::new);
            }
            vocabulary.by_length[length].push((term.clone(), uses, letters(&term)));
            vocabulary.uses.insert(term, uses);
        }
        Ok(vocabulary)
    }

    /// The search with each word the catalog does not use replaced by its closest used word;
    /// `None` when no word needed it or none could be corrected.
    pub(super) fn correct(&self, tokens: &[Token]) -> Option<Vec<Token>> {
        let mut changed = false;
        let corrected = tokens
            .iter()
            .map(|token| match token {
                Token::Term(term) => match self.correct_term(term) {
                    Some(better) => {
                        changed = true;
                        Token::Term(better)
                    }
                    None => token.clone(),
                },
                other => other.clone(),
            })
            .collect();
        changed.then_some(corrected)
    }

    /// A plain word (or `column:word`) corrected; quoted phrases, prefixes and identifiers are
    /// left as typed.
    fn correct_term(&self, term: &str) -> Option<String> {
        let (column, word) = match term.split_once(':') {
            Some((column, word)) if ["title", "description", "query", "tags"].contains(&column) => (Some(column), word),
            _ => (None, term),
        };
        let lower = word.to_lowercase();
        let letters = lower.chars().filter(|c| c.is_alphabetic()).count();
        let correctable = lower.chars().all(char::is_alphanumeric) && letters >= MIN_CORRECTED_CHARS - 1;
        if !correctable || lower.chars().count() < MIN_CORRECTED_CHARS || self.uses.contains_key(&lower) {
            return None;
        }
        let better = self.closest(&lower)?;
        Some(column.map_or_else(|| better.to_string(), |c| format!("{c}:{better}")))
    }

    /// The used word fewest edits away, the most used among equals.
    fn closest(&self, word: &str) -> Option<&str> {
        let length = word.chars().count();
        let edits = if length >= TWO_EDITS_FROM_CHARS { 2 } else { 1 };
        let longest = (length + edits).min(self.by_length.len().saturating_sub(1));
        let mine = letters(word);
        // Each edit brings in or takes out at most one letter: a cheap test that spares most
        // terms the distance computation.
        let apart = |a: u64, b: u64| (a & !b).count_ones() as usize;
        let reachable = |theirs: u64| apart(mine, theirs) <= edits && apart(theirs, mine) <= edits;
        self.by_length
            .get(length.saturating_sub(edits)..=longest)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|(_, _, theirs)| reachable(*theirs))
            .filter_map(|(term, uses, _)| {
                let distance = strsim::osa_distance(word, term);
                (distance <= edits).then_some((distance, Reverse(*uses), term.as_str()))
            })
            .min()
            .map(|(_, _, term)| term)
    }
}

/// Which letters and digits a word has, one bit each (any other character shares one of the
/// remaining bits, which can only make two words look closer than they are).
fn letters(word: &str) -> u64 {
    word.chars().fold(0, |set, c| {
        let bit = match c {
            'a'..='z' => c as u32 - 'a' as u32,
            '0'..='9' => 26 + c as u32 - '0' as u32,
            other => 36 + other as u32 % 28,
        };
        set | 1 << bit
    })
}

/// Tokens back as text, the way a user would write them.
pub(super) fn text_of(tokens: &[Token]) -> String {
    let mut text = String::new();
    for (i, token) in tokens.iter().enumerate() {
        let after_open = i > 0 && tokens[i - 1] == Token::Open;
        if i > 0 && !after_open && *token != Token::Close {
            text.push(' ');
        }
        text.push_str(token.text());
    }
    text
}

#[cfg(test)]
mod tests {
    use super::super::parse::tokens;
    use super::*;

    fn vocabulary(terms: &[(&str, u32)]) -> Vocabulary {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE spelling (term TEXT PRIMARY KEY, uses INTEGER NOT NULL)").unwrap();
        for (term, uses) in terms {
            conn.execute("INSERT INTO spelling VALUES (?1, ?2)", rusqlite::params![term, uses]).unwrap();
        }
        Vocabulary::load(&conn).unwrap()
    }

    fn corrected(vocabulary: &Vocabulary, text: &str) -> Option<String> {
        vocabulary.correct(&tokens(text).unwrap()).map(|t| text_of(&t))
    }

    #[test]
    fn unknown_words_become_the_closest_most_used_word() {
        let v = vocabulary(&[("powershell", 900), ("encoded", 120), ("encode", 30), ("mimikatz", 40), ("tor", 50)]);
        assert_eq!(corrected(&v, "powershel encoded").as_deref(), Some("powershell encoded"));
        assert_eq!(corrected(&v, "Powrehsell encodd").as_deref(), Some("powershell encoded"));
        assert_eq!(corrected(&v, "title:mimikats (tor OR x)").as_deref(), Some("title:mimikatz (tor OR x)"));
    }

    #[test]
    fn known_words_short_words_phrases_and_identifiers_stay() {
        let v = vocabulary(&[("powershell", 900), ("tor", 50), ("cmd", 10)]);
        for text in ["powershell", "tro", "\"powershel\"", "powershel*", "cmd.ex", "T1059", "cve:CVE-2021-4422"] {
            assert_eq!(corrected(&v, text), None, "{text}");
        }
    }
}

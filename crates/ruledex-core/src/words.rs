//! Words as search sees them: text split the way SQLite's `unicode61` tokenizer splits it, and
//! the English stems that let `exits` find "exit" and `nodes` find "Node".
//!
//! The catalog's full-text index stores these stems beside the words as written, the search
//! stems what a user types with the same function, and results are marked with it too, so what
//! matches and what is highlighted never disagree.

use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};
use rustc_hash::FxHashMap;

static ENGLISH: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));

/// Splits text into alternating runs of word characters (letters and digits) and the rest.
pub fn split(text: &str) -> impl Iterator<Item = (&str, bool)> {
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

/// The words of `text`, as written.
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    split(text).filter(|(_, is_word)| *is_word).map(|(w, _)| w)
}

/// Whether a word is English prose, which is stemmed, rather than an identifier (`t1090`,
/// `4688`, `rundll32`), which is matched as written.
pub fn is_prose(word: &str) -> bool {
    word.chars().all(char::is_alphabetic)
}

/// A word's search form: lowercased, and stemmed when it is prose.
pub fn stem(word: &str) -> String {
    let lower = word.to_lowercase();
    if is_prose(&lower) { ENGLISH.stem(&lower).into_owned() } else { lower }
}

/// Search forms of whole texts, each distinct word stemmed once: the texts a catalog indexes
/// repeat the same few tens of thousands of words millions of times, and stemming each occurrence
/// afresh was over a quarter of what writing the catalog cost.
#[derive(Debug, Default)]
pub struct Stems {
    /// Search form by word as written.
    known: FxHashMap<String, String>,
}

impl Stems {
    /// The search forms of every word of `text`, one per word and in order (so phrases still
    /// match word for word), separated by spaces.
    pub fn stemmed(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for word in words(text) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(self.stem(word));
        }
        out
    }

    /// [`stem`], remembered.
    fn stem(&mut self, word: &str) -> &str {
        if !self.known.contains_key(word) {
            self.known.insert(word.to_string(), stem(word));
        }
        &self.known[word]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_forms_share_a_stem_and_identifiers_keep_their_form() {
        assert_eq!(stem("Nodes"), stem("node"));
        assert_eq!(stem("exits"), stem("Exit"));
        assert_eq!(stem("encoded"), stem("encoding"));
        assert_eq!(stem("T1090"), "t1090");
        assert_eq!(stem("rundll32"), "rundll32");
        assert_eq!(stem("lsass"), "lsass");
    }

    #[test]
    fn a_stem_starts_with_the_first_letter_of_its_word() {
        // Search marking relies on it to stem only words that can match.
        let words = "dying lying tying ugly early only skies news yelling Yvonne eyes Ärger ideas ies";
        for word in words.split(' ') {
            assert_eq!(stem(word).chars().next(), word.to_lowercase().chars().next(), "{word}");
        }
    }

    #[test]
    fn text_splits_into_words_and_the_rest_and_stems_word_for_word() {
        let pieces: Vec<(&str, bool)> = split("cmd.exe /c Tor's").collect();
        assert_eq!(
            pieces,
            vec![
                ("cmd", true),
                (".", false),
                ("exe", true),
                (" /", false),
                ("c", true),
                (" ", false),
                ("Tor", true),
                ("'", false),
                ("s", true)
            ]
        );
        let mut stems = Stems::default();
        assert_eq!(stems.stemmed("GCTI Tor Exit Nodes, T1090.003"), "gcti tor exit node t1090 003");
        assert_eq!(stems.stemmed(" \n"), "");
        assert_eq!(stems.stemmed("exit nodes: Nodes"), "exit node node", "remembered stems are the same");
    }
}

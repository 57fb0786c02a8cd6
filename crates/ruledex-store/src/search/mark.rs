//! Marking the words a search matched, in Rust, in one pass over each shown field (never by
//! re-running the match per hit), with the stems the index uses: a word is marked exactly when
//! it is what made the detection match.

use std::collections::HashSet;

use ruledex_core::words::{self, is_prose, stem};

/// Words around the first match that a snippet shows.
const SNIPPET_WORDS: usize = 24;

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

/// How a field was indexed: prose fields by stems too, the query text only as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Indexed {
    WithStems,
    AsWritten,
}

/// The words a search looks for, lowercased, to mark in results.
#[derive(Default)]
pub(super) struct Terms {
    /// Words matched as written (identifiers, and prose words as typed).
    exact: HashSet<String>,
    /// Stems of prose words, matched in prose fields.
    stems: HashSet<String>,
    /// The first letters of `stems`. A stem starts with its word's first letter (English
    /// stemming only rewrites endings), so a word starting otherwise is not stemmed to check:
    /// stemming every word of every shown field was most of the cost of marking.
    stem_initials: HashSet<char>,
    prefixes: Vec<String>,
}

impl Terms {
    pub(super) fn add_exact(&mut self, text: &str) {
        self.exact.extend(words::words(text).map(str::to_lowercase));
    }

    pub(super) fn add_prose(&mut self, text: &str) {
        self.add_exact(text);
        for stem in words::words(text).map(stem) {
            self.stem_initials.extend(stem.chars().next());
            self.stems.insert(stem);
        }
    }

    pub(super) fn add_prefix(&mut self, text: &str) {
        self.prefixes.extend(words::words(text).map(str::to_lowercase));
    }

    fn matches(&self, word: &str, indexed: Indexed) -> bool {
        let lower = word.to_lowercase();
        let may_stem_alike = lower.chars().next().is_some_and(|c| self.stem_initials.contains(&c));
        self.exact.contains(&lower)
            || self.prefixes.iter().any(|p| lower.starts_with(p.as_str()))
            || (indexed == Indexed::WithStems
                && may_stem_alike
                && is_prose(&lower)
                && self.stems.contains(&stem(&lower)))
    }

    /// Marks every word of `text` the search looks for.
    pub(super) fn mark(&self, text: &str, indexed: Indexed) -> Marked {
        let mut pieces: Vec<(String, bool)> = Vec::new();
        for (piece, is_word) in words::split(text) {
            let marked = is_word && self.matches(piece, indexed);
            match pieces.last_mut() {
                Some((last, last_marked)) if *last_marked == marked => last.push_str(piece),
                _ => pieces.push((piece.to_string(), marked)),
            }
        }
        Marked(pieces)
    }

    /// The words of `text` around its first match (or its beginning), marked, whitespace
    /// collapsed.
    pub(super) fn passage(&self, text: &str, indexed: Indexed) -> Marked {
        let pieces: Vec<(&str, bool)> = words::split(text).collect();
        let word_positions: Vec<usize> = pieces.iter().enumerate().filter(|(_, p)| p.1).map(|(i, _)| i).collect();
        let anchor = word_positions.iter().position(|&i| self.matches(pieces[i].0, indexed)).unwrap_or(0);
        let start_word = anchor.saturating_sub(SNIPPET_WORDS / 3);
        let end_word = (start_word + SNIPPET_WORDS).min(word_positions.len());
        let (Some(&start), Some(&end)) =
            (word_positions.get(start_word), word_positions.get(end_word.saturating_sub(1)))
        else {
            return Marked::default();
        };
        let excerpt: String = pieces[start..=end].iter().map(|(p, _)| *p).collect();
        let excerpt = excerpt.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut marked = self.mark(&excerpt, indexed);
        if start > 0 {
            marked.0.insert(0, ("… ".into(), false));
        }
        if end + 1 < pieces.len() {
            marked.0.push((" …".into(), false));
        }
        marked
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse::parse;
    use super::*;

    #[test]
    fn word_forms_are_marked_in_prose_and_only_typed_words_in_queries() {
        let terms = parse("tor exit* nodes").unwrap().terms;
        let marked = terms.mark("Tor exits\u{2}<b>\u{3} Node toronto", Indexed::WithStems);
        assert_eq!(
            marked.0,
            vec![
                ("Tor".to_string(), true),
                (" ".into(), false),
                ("exits".into(), true),
                ("\u{2}<b>\u{3} ".into(), false),
                ("Node".into(), true),
                (" toronto".into(), false),
            ]
        );
        assert_eq!(marked.plain(), "Tor exits\u{2}<b>\u{3} Node toronto");
        let in_query = terms.mark("node nodes", Indexed::AsWritten);
        assert_eq!(in_query.0, vec![("node ".to_string(), false), ("nodes".into(), true)]);
    }

    #[test]
    fn identifiers_are_marked_as_typed() {
        let terms = parse("cmd.exe T1090.003").unwrap().terms;
        let marked = terms.mark("cmd.exe launched; T1090.003 commands", Indexed::WithStems);
        let hits: Vec<&str> = marked.0.iter().filter(|p| p.1).map(|p| p.0.as_str()).collect();
        assert_eq!(hits, vec!["cmd", "exe", "T1090", "003"]);
    }

    #[test]
    fn passages_center_on_the_first_match() {
        let terms = parse("needle").unwrap().terms;
        let text = (0..100).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ") + " needles tail";
        let passage = terms.passage(&text, Indexed::WithStems);
        let plain = passage.plain();
        assert!(plain.starts_with("… w92"), "{plain}");
        assert!(plain.ends_with("tail"), "{plain}");
        assert!(passage.has_match());
    }
}

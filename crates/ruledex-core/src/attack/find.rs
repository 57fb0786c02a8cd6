//! Finding a technique the way people name it: an ID in any spelling, or a name ("Proxy",
//! "Proxy: Multi-hop Proxy"), with the closest techniques when nothing matches.

use super::{AttackCatalog, Technique};
use crate::ids::TechniqueId;

/// What a technique reference names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TechniqueLookup {
    /// An ID (in ATT&CK or not: detections may be tagged with IDs ATT&CK lacks), or the one
    /// technique bearing the name.
    Found(TechniqueId),
    /// Several current techniques bear the name.
    Ambiguous(Vec<TechniqueId>),
    /// Nothing bears it; the closest techniques by ID or name, best first.
    NotFound(Vec<TechniqueId>),
}

/// How many close matches a failed lookup offers.
const CLOSEST: usize = 8;

impl AttackCatalog {
    pub fn find_technique(&self, text: &str) -> TechniqueLookup {
        if let Ok(id) = text.parse() {
            return TechniqueLookup::Found(id);
        }
        let wanted = text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
        let mut named: Vec<TechniqueId> = self
            .techniques()
            .filter(|t| !t.revoked)
            .filter(|t| t.name.to_lowercase() == wanted || self.full_name_lower(t) == wanted)
            .map(|t| t.id)
            .collect();
        named.sort();
        match named.as_slice() {
            [one] => TechniqueLookup::Found(*one),
            [] => TechniqueLookup::NotFound(self.closest_techniques(text)),
            _ => TechniqueLookup::Ambiguous(named),
        }
    }

    /// Techniques whose ID is within two edits of `text` (for mistyped IDs: `T109`, `T1090.3`,
    /// `T1O90`), or whose name is closest to it, best first.
    pub fn closest_techniques(&self, text: &str) -> Vec<TechniqueId> {
        let wanted = text.trim().to_lowercase();
        // Mostly digits after a `t`: an ID, a letter O for a zero or a short sub-technique aside.
        let digits = wanted.chars().skip(1).filter(char::is_ascii_digit).count();
        let looks_like_id = wanted.starts_with('t') && digits * 2 >= wanted.chars().count().saturating_sub(1).max(1);
        let mut scored: Vec<(usize, TechniqueId)> = self
            .techniques()
            .filter(|t| !t.revoked)
            .filter_map(|t| {
                let distance = if looks_like_id {
                    strsim::levenshtein(&t.id.to_string().to_lowercase(), &wanted)
                } else {
                    strsim::levenshtein(&t.name.to_lowercase(), &wanted)
                };
                let limit = if looks_like_id { 2 } else { (wanted.chars().count() / 3).max(2) };
                (distance <= limit).then_some((distance, t.id))
            })
            .collect();
        scored.sort();
        scored.into_iter().take(CLOSEST).map(|(_, id)| id).collect()
    }

    fn full_name_lower(&self, technique: &Technique) -> String {
        self.full_name(technique.id).unwrap_or_default().to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::mini_catalog;
    use super::*;

    fn id(s: &str) -> TechniqueId {
        s.parse().unwrap()
    }

    #[test]
    fn ids_and_names_in_any_spelling_are_found() {
        let catalog = mini_catalog();
        assert_eq!(catalog.find_technique("t1090/003"), TechniqueLookup::Found(id("T1090.003")));
        assert_eq!(catalog.find_technique("Proxy:  Multi-hop proxy"), TechniqueLookup::Found(id("T1090.003")));
        assert_eq!(catalog.find_technique("multi-hop proxy"), TechniqueLookup::Found(id("T1090.003")));
        assert_eq!(catalog.find_technique("T1999"), TechniqueLookup::Found(id("T1999")), "IDs ATT&CK lacks");
    }

    #[test]
    fn unknown_names_offer_the_closest_techniques() {
        let catalog = mini_catalog();
        let TechniqueLookup::NotFound(close) = catalog.find_technique("Multi-hop Proxi") else { panic!() };
        assert_eq!(close.first(), Some(&id("T1090.003")));
        assert_eq!(catalog.closest_techniques("T1091").first(), Some(&id("T1090")));
        assert!(
            matches!(catalog.find_technique("nothing like it at all"), TechniqueLookup::NotFound(c) if c.is_empty())
        );
    }
}

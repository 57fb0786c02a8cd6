//! Finding techniques by what a user types: on word boundaries of the ID, the name and the
//! sub-technique name (`proxy`, `multi ho`, `T1090`), and by the words of ATT&CK's description
//! (`tor` offers T1090.003 Multi-hop Proxy, which ATT&CK describes with Tor). Name matches come
//! first, then description matches ATT&CK's software of the name typed corroborates (the Tor
//! software uses T1090.003; T1133 only mentions Tor hidden services); a word inside another word
//! (`tor` in "Stores") never matches.

use std::collections::{HashMap, HashSet};

use ruledex_core::attack::AttackCatalog;
use ruledex_core::ids::TechniqueId;
use ruledex_core::words::{stem, words};

/// How well a technique matches, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NameMatch {
    /// The first word typed starts the ID or the name.
    Leading,
    /// Every word typed starts a word of the ID or name.
    Name,
    /// Some word typed is only in the description, and ATT&CK's software named as typed uses
    /// the technique.
    UsedBySoftware,
    /// Some word typed is only in the description.
    Description,
}

/// The words of every current technique, gathered once per catalog generation.
pub struct TechniqueWords {
    techniques: Vec<Entry>,
    /// The techniques each current ATT&CK software uses, by its lowercased names and aliases.
    software_uses: HashMap<String, HashSet<TechniqueId>>,
}

struct Entry {
    id: TechniqueId,
    /// The ID and the full name ("Proxy: Multi-hop Proxy"), lowercased, in words.
    name_words: Vec<String>,
    /// Stems of the description's words, citations and link targets left out.
    description: HashSet<String>,
}

impl TechniqueWords {
    pub fn new(attack: &AttackCatalog) -> TechniqueWords {
        let techniques = attack
            .techniques()
            .filter(|t| !t.revoked && !t.deprecated)
            .map(|t| {
                let name = attack.full_name(t.id).unwrap_or_else(|| t.name.clone());
                Entry {
                    id: t.id,
                    name_words: name_words(&format!("{} {name}", t.id)),
                    description: words(&prose(&t.description)).map(stem).collect(),
                }
            })
            .collect();
        TechniqueWords { techniques, software_uses: software_uses(attack) }
    }

    /// Techniques matching every word of `text`, each with how well; `None` for a text without
    /// words.
    pub fn find(&self, text: &str) -> Option<Vec<(TechniqueId, NameMatch)>> {
        let typed = name_words(text);
        let first = typed.first()?;
        let stems: Vec<String> = typed.iter().map(|w| stem(w)).collect();
        let used = self.software_uses.get(&typed.join(" "));
        let found = self.techniques.iter().filter_map(|t| {
            let in_name = |w: &String| t.name_words.iter().any(|n| n.starts_with(w.as_str()));
            let all_in_name = typed.iter().all(in_name);
            let matched = if all_in_name && t.name_words.iter().take(2).any(|n| n.starts_with(first.as_str())) {
                NameMatch::Leading
            } else if all_in_name {
                NameMatch::Name
            } else if typed.iter().zip(&stems).all(|(w, s)| in_name(w) || t.description.contains(s)) {
                if used.is_some_and(|u| u.contains(&t.id)) { NameMatch::UsedBySoftware } else { NameMatch::Description }
            } else {
                return None;
            };
            Some((t.id, matched))
        });
        Some(found.collect())
    }
}

/// Each current software's techniques, under its name and aliases as typed words joined by
/// spaces ("tor", "cobalt strike").
fn software_uses(attack: &AttackCatalog) -> HashMap<String, HashSet<TechniqueId>> {
    let mut uses: HashMap<String, HashSet<TechniqueId>> = HashMap::new();
    for software in attack.objects().filter(|o| o.is_current() && o.software_kind.is_some()) {
        for name in std::iter::once(&software.name).chain(&software.aliases) {
            uses.entry(name_words(name).join(" ")).or_default().extend(software.techniques.iter().map(|t| t.id));
        }
    }
    uses
}

/// Lowercased words, split on anything but letters, digits and the dot of sub-technique IDs.
fn name_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '.')
        .map(|w| w.trim_matches('.').to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

/// ATT&CK's description without its `(Citation: ...)` markers and the `(https://...)` targets
/// of its links, whose words say nothing about the technique.
fn prose(description: &str) -> String {
    let mut out = String::with_capacity(description.len());
    let mut rest = description;
    while let Some(open) = rest.find('(') {
        out.push_str(&rest[..open]);
        let inside = &rest[open + 1..];
        let skipped = inside.starts_with("Citation:") || inside.starts_with("http");
        match inside.find(')') {
            Some(close) if skipped => rest = &inside[close + 1..],
            _ => {
                out.push('(');
                rest = inside;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use ruledex_core::attack::Domain;

    use super::*;
    use crate::testing::MINI_BUNDLE;

    fn words() -> TechniqueWords {
        let mut attack = AttackCatalog::default();
        attack.add_bundle(Domain::Enterprise, MINI_BUNDLE.as_bytes()).unwrap();
        TechniqueWords::new(&attack)
    }

    fn found(text: &str) -> Vec<(String, NameMatch)> {
        let mut found: Vec<(String, NameMatch)> =
            words().find(text).unwrap().into_iter().map(|(id, m)| (id.to_string(), m)).collect();
        found.sort();
        found
    }

    #[test]
    fn names_match_where_words_start_and_descriptions_by_whole_words() {
        let leading = |id: &str| (id.to_string(), NameMatch::Leading);
        assert_eq!(
            found("proxy"),
            vec![leading("T1090"), leading("T1090.001"), leading("T1090.002"), leading("T1090.003")]
        );
        assert_eq!(found("t1090.00").len(), 3);
        assert_eq!(found("multi ho"), vec![("T1090.003".to_string(), NameMatch::Name)]);
        assert_eq!(found("chains"), vec![("T1090.003".to_string(), NameMatch::Description)]);
        assert_eq!(found("shell"), vec![("T1059".to_string(), NameMatch::Description)], "not inside PowerShell");
        let revoked_left_out = vec![("T1059".to_string(), NameMatch::Name), ("T1059.001".to_string(), NameMatch::Name)];
        assert_eq!(found("scripting"), revoked_left_out, "T1064 Scripting is revoked");
        assert!(words().find(" -. ").is_none());
    }

    #[test]
    fn descriptions_lose_citations_and_link_targets() {
        let text = "the [Tor](https://attack.mitre.org/software/S0183) network (C2).(Citation: Onion Routing) Done";
        assert_eq!(prose(text), "the [Tor] network (C2). Done");
    }

    #[test]
    fn typed_words_split_like_names() {
        assert_eq!(name_words("Multi-hop T1090.003."), vec!["multi", "hop", "t1090.003"]);
    }
}

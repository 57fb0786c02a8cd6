//! Reading ATT&CK tags the way rule authors write them.
//!
//! A tag may hold technique IDs in any spelling (`t1090.003`, `T1090/003`), an attack.mitre.org
//! URL, a technique name ("Proxy: Multi-hop Proxy"), tactic IDs or names ("TA0011",
//! "command_and_control"), or several of these separated by commas ("Execution, t1204, t1059").
//! MITRE ATLAS IDs (`AML.T0051.000`) are recognised first, so their `T` numbers are never read
//! as ATT&CK techniques.

use std::sync::LazyLock;

use regex::Regex;

use super::{AttackCatalog, Domain, Technique};
use crate::ids::{AtlasId, TacticId, TechniqueId};

/// What a piece of an ATT&CK tag refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagMeaning {
    Technique(TechniqueId),
    Tactic(TacticId),
    /// A MITRE ATLAS technique or tactic: not ATT&CK.
    Atlas(AtlasId),
    /// Text that names nothing in ATT&CK (or more than one thing), kept verbatim.
    Unresolved(String),
}

static TECHNIQUE_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)(?:^|[^a-z0-9])(t\d{4}(?:[./]\d{3})?)(?:$|[^0-9])").expect("valid regex"));
static TACTIC_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)(?:^|[^a-z0-9])(ta\d{4})(?:$|[^0-9])").expect("valid regex"));
static ATLAS_ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:^|[^a-z0-9])(aml\.(?:ta\d{4}|t\d{4}(?:\.\d{3})?))(?:$|[^0-9])").expect("valid regex")
});

pub(super) fn resolve(catalog: &AttackCatalog, tag: &str) -> Vec<TagMeaning> {
    let tag = tag.trim();
    if tag.is_empty() {
        return Vec::new();
    }
    if let Some(meaning) = by_name(catalog, tag) {
        return vec![meaning];
    }
    let mut meanings = Vec::new();
    for piece in tag.split([',', ';', '|', '\n']).map(str::trim).filter(|p| !p.is_empty()) {
        let (atlas, rest) = atlas_ids_in(piece);
        let mut ids = atlas;
        ids.extend(ids_in(&rest));
        if ids.is_empty() {
            meanings.push(by_name(catalog, piece).unwrap_or_else(|| TagMeaning::Unresolved(piece.to_string())));
        } else {
            meanings.extend(ids);
        }
    }
    meanings
}

/// Technique and tactic IDs written anywhere in the text, URLs included.
fn ids_in(text: &str) -> Vec<TagMeaning> {
    // The patterns share a boundary character, so scan overlapping matches one start at a time.
    let techniques = captures(&TECHNIQUE_ID, text).filter_map(|m| m.as_str().parse().ok()).map(TagMeaning::Technique);
    let tactics = captures(&TACTIC_ID, text).filter_map(|m| m.as_str().parse().ok()).map(TagMeaning::Tactic);
    techniques.chain(tactics).collect()
}

/// ATLAS IDs written anywhere in the text, and the text with them blanked out.
fn atlas_ids_in(text: &str) -> (Vec<TagMeaning>, String) {
    let mut rest = text.to_string();
    let mut ids = Vec::new();
    for found in captures(&ATLAS_ID, text) {
        if let Ok(id) = found.as_str().parse() {
            ids.push(TagMeaning::Atlas(id));
        }
        rest.replace_range(found.range(), &" ".repeat(found.len()));
    }
    (ids, rest)
}

fn captures<'t>(re: &'t Regex, text: &'t str) -> impl Iterator<Item = regex::Match<'t>> + 't {
    let mut start = 0;
    std::iter::from_fn(move || {
        let caps = re.captures_at(text, start)?;
        let m = caps.get(1)?;
        start = m.end();
        Some(m)
    })
}

/// A technique or tactic name. Of techniques sharing a name, current ones win over revoked or
/// deprecated namesakes, then enterprise over mobile and ICS ("Valid Accounts" is T1078 and
/// ICS T0859); two left ("Cloud Account" in enterprise) is ambiguous.
fn by_name(catalog: &AttackCatalog, text: &str) -> Option<TagMeaning> {
    let named = catalog.techniques_named(&normalize_technique_name(text));
    fn current(t: &Technique) -> bool {
        !t.revoked && !t.deprecated
    }
    fn current_enterprise(t: &Technique) -> bool {
        current(t) && t.domain == Domain::Enterprise
    }
    fn any(_: &Technique) -> bool {
        true
    }
    for preferred in [current_enterprise, current, any] {
        let matching: Vec<TechniqueId> =
            named.iter().copied().filter(|id| catalog.technique(*id).is_some_and(preferred)).collect();
        match matching.as_slice() {
            [only] => return Some(TagMeaning::Technique(*only)),
            [] => continue,
            _ => break,
        }
    }
    catalog.tactic_named(&normalize_tactic_name(text)).map(TagMeaning::Tactic)
}

pub(super) fn normalize_technique_name(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// "Command and Control", "command-and-control" and "command_and_control" are one tactic.
pub(super) fn normalize_tactic_name(name: &str) -> String {
    name.replace(['-', '_'], " ").split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::super::testing::mini_catalog;
    use super::*;

    fn t(s: &str) -> TagMeaning {
        TagMeaning::Technique(s.parse().unwrap())
    }
    fn ta(s: &str) -> TagMeaning {
        TagMeaning::Tactic(s.parse().unwrap())
    }

    #[test]
    fn ids_in_any_spelling_resolve() {
        let catalog = mini_catalog();
        for tag in [
            "T1090.003",
            "t1090.003",
            "T1090/003",
            "https://attack.mitre.org/techniques/T1090/003/",
            "attack.t1090.003",
        ] {
            assert_eq!(catalog.resolve_tag(tag), vec![t("T1090.003")], "{tag}");
        }
        assert_eq!(catalog.resolve_tag("https://attack.mitre.org/techniques/T1090/"), vec![t("T1090")]);
    }

    #[test]
    fn names_resolve_with_or_without_parent() {
        let catalog = mini_catalog();
        assert_eq!(catalog.resolve_tag("Proxy: Multi-hop Proxy"), vec![t("T1090.003")]);
        assert_eq!(catalog.resolve_tag("multi-hop  proxy"), vec![t("T1090.003")]);
        assert_eq!(catalog.resolve_tag("Proxy"), vec![t("T1090")]);
    }

    #[test]
    fn a_current_technique_wins_over_a_revoked_namesake() {
        // "PowerShell" names both the revoked T1086 and T1059.001.
        let catalog = mini_catalog();
        assert_eq!(catalog.resolve_tag("PowerShell"), vec![t("T1059.001")]);
    }

    #[test]
    fn mixed_values_yield_every_technique_and_tactic() {
        let catalog = mini_catalog();
        assert_eq!(catalog.resolve_tag("Execution, t1204, t1059"), vec![ta("TA0002"), t("T1204"), t("T1059")]);
        assert_eq!(catalog.resolve_tag("command_and_control"), vec![ta("TA0011")]);
        assert_eq!(catalog.resolve_tag("TA0011"), vec![ta("TA0011")]);
        assert_eq!(catalog.resolve_tag("T1090 T1059.001"), vec![t("T1090"), t("T1059.001")]);
        assert_eq!(
            catalog.resolve_tag("Proxy, Made Up Thing"),
            vec![t("T1090"), TagMeaning::Unresolved("Made Up Thing".into())]
        );
        assert!(catalog.resolve_tag("  ").is_empty());
    }

    fn atlas(s: &str) -> TagMeaning {
        TagMeaning::Atlas(s.parse().unwrap())
    }

    #[test]
    fn atlas_ids_are_never_read_as_attack_techniques() {
        let catalog = mini_catalog();
        assert_eq!(catalog.resolve_tag("AML.T0051.000"), vec![atlas("AML.T0051.000")]);
        assert_eq!(catalog.resolve_tag("aml.t0051"), vec![atlas("AML.T0051")]);
        assert_eq!(catalog.resolve_tag("AML.TA0002"), vec![atlas("AML.TA0002")]);
        assert_eq!(
            catalog.resolve_tag("https://atlas.mitre.org/techniques/AML.T0024.000"),
            vec![atlas("AML.T0024.000")]
        );
        assert_eq!(catalog.resolve_tag("AML.T0051, T1090"), vec![atlas("AML.T0051"), t("T1090")]);
        assert_eq!(catalog.resolve_tag("AML.T0051 T1090.003"), vec![atlas("AML.T0051"), t("T1090.003")]);
        assert_eq!(catalog.resolve_tag("XAML.T0051"), vec![t("T0051")], "not ATLAS without its own prefix");
    }
}

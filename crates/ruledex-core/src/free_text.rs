//! The free text a rule brings (titles, descriptions, notes, labels), capped when it enters the
//! catalog, each cut saying so: every page, listing, feed and search that shows it then stays
//! bounded whatever a hostile source writes (28 rules with 1.9 MB titles made every technique
//! page of theirs too large to answer). The rule file itself stays whole, served with the one
//! detection (`native_rule`, `/raw`); the query is never cut (it is what users paste), bounded
//! by the source's `max_query_bytes` instead.
//!
//! The caps are well above anything the real sources write (titles of 235 characters at most,
//! descriptions of 2,180, labels of 1,000): only hostile or broken rules reach them.

use crate::model::Detection;

/// Characters of a title, a name or a label of one value (author, product, native words).
pub const NAME_CHARS: usize = 500;
/// Characters of a description.
pub const DESCRIPTION_CHARS: usize = 8_000;
/// Characters of a note only a single detection shows (implementation, investigation, a
/// test's input).
pub const NOTE_CHARS: usize = 64_000;
/// Characters of each item of a list (references, false positives, tags, data sources).
pub const ITEM_CHARS: usize = 2_000;
/// Items of a list.
pub const LIST_ITEMS: usize = 200;

/// Caps every free text of `detection` (see the module documentation).
pub fn cap(detection: &mut Detection) {
    let rule = &mut detection.rule;
    for name in [&mut rule.title, &mut rule.vendor, &mut rule.product] {
        cut(name, NAME_CHARS);
    }
    let optional = [
        &mut rule.author,
        &mut rule.rule_type_native,
        &mut rule.severity_native,
        &mut rule.status_native,
        &mut rule.license,
    ];
    for name in optional.into_iter().flatten() {
        cut(name, NAME_CHARS);
    }
    cut(&mut rule.description, DESCRIPTION_CHARS);
    for note in [&mut rule.implementation, &mut rule.investigation].into_iter().flatten() {
        cut(note, NOTE_CHARS);
    }
    let lists = [
        &mut rule.references,
        &mut rule.false_positives,
        &mut rule.tags,
        &mut rule.data_sources,
        &mut rule.platforms,
        &mut rule.attack_tags,
        &mut rule.inferred_attack_tags,
        &mut rule.unresolved_macros,
        &mut detection.unresolved_tags,
        &mut detection.cves,
    ];
    for list in lists {
        cut_list(list);
    }
    rule.tests.truncate(LIST_ITEMS);
    for test in &mut rule.tests {
        cut(&mut test.name, NAME_CHARS);
        cut(&mut test.input, NOTE_CHARS);
    }
}

/// Cuts `text` to `max` characters, saying so.
fn cut(text: &mut String, max: usize) {
    let Some((end, _)) = text.char_indices().nth(max) else { return };
    let whole = text.chars().count();
    text.truncate(end);
    text.push_str(&format!("… [cut by ruledex at {max} of {whole} characters; the rule file has it whole]"));
}

fn cut_list(list: &mut Vec<String>) {
    if list.len() > LIST_ITEMS {
        let whole = list.len();
        list.truncate(LIST_ITEMS);
        list.push(format!("… [cut by ruledex at {LIST_ITEMS} of {whole}; the rule file has them all]"));
    }
    for item in list.iter_mut() {
        cut(item, ITEM_CHARS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Rule;

    fn detection(rule: Rule) -> Detection {
        Detection {
            source: "s".into(),
            source_kind: crate::model::SourceKind::Vendor,
            format: crate::model::Format::Sigma,
            id: "x".into(),
            rule,
            deprecated: false,
            techniques: vec![],
            tactics: vec![],
            unresolved_tags: vec![],
            cves: vec![],
            atlas: vec![],
            provenance: crate::model::Provenance::default(),
            effective_license: None,
        }
    }

    #[test]
    fn long_free_text_is_cut_saying_so_and_the_query_is_not() {
        let huge = "é".repeat(1_900_000);
        let rule = Rule {
            title: huge.clone(),
            description: "short".into(),
            query: huge.clone(),
            tags: vec!["t".into(); 1_000],
            references: vec![huge.clone()],
            ..Rule::default()
        };
        let mut capped = detection(rule);
        cap(&mut capped);
        let rule = &capped.rule;
        assert!(rule.title.starts_with(&"é".repeat(NAME_CHARS)));
        assert!(rule.title.ends_with("[cut by ruledex at 500 of 1900000 characters; the rule file has it whole]"));
        assert!(rule.title.chars().count() < NAME_CHARS + 100);
        assert_eq!(rule.description, "short", "what is under the cap stays as it is");
        assert_eq!(rule.query, huge, "the query is what users paste: never cut");
        assert_eq!(rule.tags.len(), LIST_ITEMS + 1);
        assert!(rule.tags[LIST_ITEMS].contains("cut by ruledex at 200 of 1000"));
        assert!(rule.references[0].chars().count() < ITEM_CHARS + 100);
    }
}

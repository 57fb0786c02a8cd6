//! Sizing answers for a model's context: long texts cut with a note saying where the whole
//! text is. And making a rule's texts inert in Markdown: clients render tool text and resources
//! as Markdown, where a title holding `<img src=...>` or `![](https://...)` would load an address
//! the rule's author chose (and could carry the conversation in it).

use ruledex_app::wire::DetectionJson;

/// Characters of a long text (description, query) a listing keeps per detection.
pub const LISTING_TEXT_CHARS: usize = 300;
/// Characters of any one text a single detection keeps (the native rule, the query, a test's
/// input). Larger rules are rare; the detection's resource has them whole.
pub const DETECTION_TEXT_CHARS: usize = 60_000;

pub use ruledex_app::changes::cut;

/// A detection as listings carry it: long texts cut, each saying where the whole one is.
pub fn listed(mut d: DetectionJson) -> DetectionJson {
    let whole = format!("`show` {}/{} has the whole text", d.source, d.id);
    let queries = d.queries.iter_mut().map(|q| &mut q.query);
    for text in [&mut d.description, &mut d.query, &mut d.paste_ready_query].into_iter().chain(queries) {
        cut(text, LISTING_TEXT_CHARS, &whole);
    }
    for text in d.false_positives.iter_mut().chain(d.implementation.iter_mut()).chain(d.investigation.iter_mut()) {
        cut(text, LISTING_TEXT_CHARS, &whole);
    }
    d
}

/// A single detection with every text, each cut only when it is huge.
pub fn whole(mut d: DetectionJson) -> DetectionJson {
    let resource = format!("read the resource {} for the whole rule", crate::uri::detection_uri(&d.source, &d.id));
    let queries = d.queries.iter_mut().map(|q| &mut q.query);
    for text in [&mut d.description, &mut d.query, &mut d.paste_ready_query].into_iter().chain(queries) {
        cut(text, DETECTION_TEXT_CHARS, &resource);
    }
    let optional = d.native_rule.iter_mut().chain(d.implementation.iter_mut()).chain(d.investigation.iter_mut());
    for text in optional.chain(d.tests.iter_mut().filter_map(|t| t.input.as_mut())) {
        cut(text, DETECTION_TEXT_CHARS, &resource);
    }
    d
}

/// `text` on one line, at most `max` characters.
pub fn line(text: &str, max: usize) -> String {
    let mut flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some((end, _)) = flat.char_indices().nth(max) {
        flat.truncate(end);
        flat.push('…');
    }
    flat
}

/// `text` shown as written in Markdown: the characters that open HTML, links and images (and
/// the backslash that would undo the escaping) are backslash-escaped.
pub fn inert(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '<' | '>' | '[' | ']' | '!' | '&') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `code` in a fenced block that nothing inside can close: the fence is longer than any run of
/// backticks in it.
pub fn fenced(code: &str) -> String {
    let longest = code.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}\n{code}\n{fence}")
}

/// One line per detection in summaries: address, vendor, language, severity, title.
pub fn detection_line(d: &DetectionJson) -> String {
    let mut parts = vec![format!("{}/{}", d.source, d.id), d.vendor.clone()];
    parts.extend(d.language.map(|l| l.label().to_string()));
    parts.extend(d.severity.map(|s| s.as_str().to_string()));
    if d.deprecated {
        parts.push("deprecated".into());
    }
    format!("- {} · {}", parts.join(" · "), inert(&line(&d.title, 160)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutting_keeps_whole_characters_and_says_what_is_left() {
        let mut text = "ééééé".to_string();
        cut(&mut text, 2, "see X");
        assert_eq!(text, "éé… [3 more characters: see X]");
        let mut short = "abc".to_string();
        cut(&mut short, 3, "see X");
        assert_eq!(short, "abc");
    }

    #[test]
    fn markdown_and_html_in_a_rule_stay_text() {
        assert_eq!(
            inert(r"![x](https://e.example/?q=1) <img src=x> \<b>"),
            r"\!\[x\](https://e.example/?q=1) \<img src=x\> \\\<b\>"
        );
        assert_eq!(fenced("a ``` b"), "````\na ``` b\n````");
        assert_eq!(fenced("plain"), "```\nplain\n```");
    }

    #[test]
    fn lines_are_flat_and_bounded() {
        assert_eq!(line("a\n  b\tc", 10), "a b c");
        assert_eq!(line("abcdef", 3), "abc…");
    }
}

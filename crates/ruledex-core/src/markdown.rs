//! The Markdown that rules and ATT&CK bring (ATT&CK descriptions with `(Citation: ...)`
//! markers, Elastic investigation guides) read as CommonMark once, for pages (`to_html`) and
//! the terminal (`to_plain`).
//!
//! The text is untrusted: raw HTML is never passed through (its tags are dropped, the text
//! between them kept, so ATT&CK's `<code>Start-Process</code>` reads "Start-Process"), links
//! keep their target only when it is `http`, `https` or a page path, images become their
//! description, and headings start at `h3` so they never outrank the page's own.

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

/// Markdown as HTML safe to put in a page.
pub fn to_html(markdown: &str) -> String {
    let mut html = String::with_capacity(markdown.len() * 5 / 4);
    pulldown_cmark::html::push_html(&mut html, safe_events(&without_citations(markdown)).into_iter());
    // A code block scrolls sideways: keyboard users must be able to focus it to scroll. The
    // text is escaped, so every "<pre>" left is the renderer's own.
    html.replace("<pre>", "<pre tabindex=\"0\">")
}

/// Markdown as plain text: its blocks (paragraphs, headings, list items, code) apart, in order,
/// each without markup.
pub fn to_plain(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current = String::new();
    let mut lists: Vec<Option<u64>> = Vec::new();
    for event in safe_events(&without_citations(markdown)) {
        match event {
            Event::Text(text) | Event::Code(text) => current.push_str(&text),
            Event::SoftBreak => current.push(' '),
            Event::HardBreak => current.push('\n'),
            Event::Start(Tag::List(first)) => lists.push(first),
            Event::End(TagEnd::List(_)) => {
                lists.pop();
            }
            Event::Start(Tag::Item) => {
                push_block(&mut blocks, &mut current);
                let indent = "  ".repeat(lists.len().saturating_sub(1));
                match lists.last_mut() {
                    Some(Some(n)) => {
                        current.push_str(&format!("{indent}{n}. "));
                        *n += 1;
                    }
                    _ => current.push_str(&format!("{indent}- ")),
                }
            }
            Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item | TagEnd::CodeBlock) => {
                push_block(&mut blocks, &mut current);
            }
            _ => {}
        }
    }
    push_block(&mut blocks, &mut current);
    blocks
}

fn push_block(blocks: &mut Vec<String>, current: &mut String) {
    let block = current.trim_end();
    // A list item's marker alone ("- ") is not a block: its paragraph follows.
    if !block.is_empty() && !block.trim_start().chars().all(|c| c == '-' || c == '.' || c.is_ascii_digit()) {
        blocks.push(block.to_string());
        current.clear();
    } else if block.is_empty() {
        current.clear();
    }
}

/// The parsed events with raw HTML dropped, unsafe link targets removed and headings lowered.
fn safe_events(markdown: &str) -> Vec<Event<'_>> {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut events = Vec::new();
    // Inside a link or image whose target is unsafe: its end is dropped with its start.
    let mut dropped_ends = Vec::new();
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::InlineHtml(_) => {}
            Event::Html(block) => events.push(Event::Text(CowStr::from(without_tags(&block)))),
            Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
                let safe = safe_target(&dest_url);
                dropped_ends.push(!safe);
                if safe {
                    events.push(Event::Start(Tag::Link { link_type, dest_url, title, id }));
                }
            }
            Event::End(TagEnd::Link) => {
                if !dropped_ends.pop().unwrap_or(true) {
                    events.push(Event::End(TagEnd::Link));
                }
            }
            // An image's description is the text between its start and end: kept as text.
            Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => {}
            Event::Start(Tag::Heading { level, id, classes, attrs }) => {
                events.push(Event::Start(Tag::Heading { level: lowered(level), id, classes, attrs }));
            }
            Event::End(TagEnd::Heading(level)) => events.push(Event::End(TagEnd::Heading(lowered(level)))),
            other => events.push(other),
        }
    }
    events
}

/// `h1` and `h2` become `h3`, the rest one lower, at most `h6`.
fn lowered(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 | HeadingLevel::H2 => HeadingLevel::H3,
        HeadingLevel::H3 => HeadingLevel::H4,
        HeadingLevel::H4 => HeadingLevel::H5,
        HeadingLevel::H5 | HeadingLevel::H6 => HeadingLevel::H6,
    }
}

fn safe_target(target: &str) -> bool {
    let lower = target.trim().to_ascii_lowercase();
    lower.starts_with("https://")
        || lower.starts_with("http://")
        || (lower.starts_with('/') && !lower.starts_with("//"))
}

/// A block of raw HTML as its text: every `<...>` tag left out.
fn without_tags(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

/// ATT&CK's `(Citation: Source Name)` markers left out, with the space before them.
pub fn without_citations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("(Citation:") {
        out.push_str(rest[..start].trim_end_matches([' ', '\t']));
        rest = rest[start..].find(')').map_or("", |end| &rest[start + end + 1..]);
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const APT29: &str = "[APT29](https://attack.mitre.org/groups/G0016) is a threat group attributed to \
        Russia's [Foreign Intelligence Service](https://example.org/svr).(Citation: White House)(Citation: UK Gov)\n\n\
        It uses <code>Start-Process</code> and **PowerShell**.";

    #[test]
    fn attack_text_reads_without_markup_or_citations() {
        assert_eq!(
            to_plain(APT29),
            vec![
                "APT29 is a threat group attributed to Russia's Foreign Intelligence Service.",
                "It uses Start-Process and PowerShell."
            ]
        );
        let html = to_html(APT29);
        assert!(html.contains(r#"<a href="https://attack.mitre.org/groups/G0016">APT29</a>"#), "{html}");
        assert!(html.contains("It uses Start-Process and <strong>PowerShell</strong>."), "{html}");
        assert!(!html.contains("Citation") && !html.contains("<code>"), "{html}");
    }

    #[test]
    fn investigation_guides_keep_their_structure() {
        let guide = "## Triage and analysis\n\n### Possible investigation steps\n\n- Check the `process.name`.\n- Then:\n  1. one\n  2. two\n";
        assert_eq!(
            to_plain(guide),
            vec![
                "Triage and analysis",
                "Possible investigation steps",
                "- Check the process.name.",
                "- Then:",
                "  1. one",
                "  2. two"
            ]
        );
        let html = to_html(guide);
        assert!(
            html.starts_with("<h3>Triage and analysis</h3>\n<h4>Possible investigation steps</h4>\n<ul>"),
            "{html}"
        );
        assert!(html.contains("<code>process.name</code>"), "{html}");
        assert_eq!(to_html("    wide code\n"), "<pre tabindex=\"0\"><code>wide code\n</code></pre>\n");
    }

    #[test]
    fn hostile_markdown_runs_nothing() {
        let hostile = "<script>alert(1)</script>\n\n<img src=x onerror=alert(2)> [click](javascript:alert(3)) \
            ![x](https://e.x/a.png \"t\") [ok](/techniques/T1090) <b onclick=\"alert(4)\">bold</b> &lt;i&gt;";
        let html = to_html(hostile);
        for bad in ["<script", "<img", "javascript:", "onclick", "onerror", "<b ", "<i>"] {
            assert!(!html.contains(bad), "{bad} in {html}");
        }
        assert!(html.contains(r#"<a href="/techniques/T1090">ok</a>"#), "{html}");
        assert!(html.contains("click") && html.contains("&lt;i&gt;"), "{html}");
        assert_eq!(to_plain("[a](//evil.example/x)"), vec!["a"]);
        assert_eq!(to_html("[a](//evil.example/x)"), "<p>a</p>\n");
    }
}

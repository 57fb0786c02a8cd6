//! Atom 1.0 documents (RFC 4287), written by hand: a feed is a handful of elements, and every
//! string in one may come from a rule file, so all text goes through [`text`], which escapes
//! markup and drops what XML 1.0 cannot carry at all (control characters, unpaired surrogates
//! cannot occur in Rust strings).

use std::fmt::Write;

/// A feed: its identity and its entries, newest first.
pub struct Feed {
    /// Stable for the feed's life (a URN made from its path).
    pub id: String,
    pub title: String,
    /// Where the server is reached (`--public-url`), when known: links are written as absolute
    /// URLs under it and the feed declares it as its `xml:base`, so a saved or forwarded feed
    /// resolves them. Without it links stay paths, which readers resolve against the feed's own
    /// address: the request's `Host` is the client's choice and never becomes a link.
    pub base_url: Option<String>,
    /// The feed's own path (`rel="self"`) and the page it describes (`rel="alternate"`).
    pub self_href: String,
    pub page_href: String,
    /// RFC 3339; the newest entry's time, or the catalog's.
    pub updated: String,
    pub entries: Vec<Entry>,
}

pub struct Entry {
    /// Stable and unique to the change it describes.
    pub id: String,
    pub title: String,
    pub updated: String,
    pub href: String,
    /// ATT&CK techniques, as categories.
    pub categories: Vec<String>,
    pub summary: String,
}

impl Feed {
    /// The document.
    pub fn render(&self) -> String {
        let base = self.base_url.as_deref().map(|url| url.trim_end_matches('/'));
        let href = |path: &str| base.map_or_else(|| path.to_string(), |base| format!("{base}{path}"));
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        match base {
            Some(base) => {
                let _ = writeln!(xml, "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:base=\"{}/\">", text(base));
            }
            None => xml.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n"),
        }
        element(&mut xml, 1, "id", &self.id);
        element(&mut xml, 1, "title", &self.title);
        element(&mut xml, 1, "updated", &self.updated);
        link(&mut xml, 1, "self", "application/atom+xml", &href(&self.self_href));
        link(&mut xml, 1, "alternate", "text/html", &href(&self.page_href));
        xml.push_str("  <author><name>ruledex</name></author>\n");
        xml.push_str("  <generator>ruledex</generator>\n");
        for entry in &self.entries {
            xml.push_str("  <entry>\n");
            element(&mut xml, 2, "id", &entry.id);
            element(&mut xml, 2, "title", &entry.title);
            element(&mut xml, 2, "updated", &entry.updated);
            link(&mut xml, 2, "alternate", "text/html", &href(&entry.href));
            for category in &entry.categories {
                let _ = writeln!(xml, "    <category term=\"{}\"/>", text(category));
            }
            let _ = writeln!(xml, "    <summary type=\"text\">{}</summary>", text(&entry.summary));
            xml.push_str("  </entry>\n");
        }
        xml.push_str("</feed>\n");
        xml
    }
}

fn element(xml: &mut String, depth: usize, name: &str, value: &str) {
    let _ = writeln!(xml, "{}<{name}>{}</{name}>", "  ".repeat(depth), text(value));
}

fn link(xml: &mut String, depth: usize, rel: &str, kind: &str, href: &str) {
    let _ = writeln!(xml, "{}<link rel=\"{rel}\" type=\"{kind}\" href=\"{}\"/>", "  ".repeat(depth), text(href));
}

/// Text safe as XML character data and as an attribute value: `&<>"'` escaped, characters XML
/// 1.0 forbids (C0 controls but tab and newlines, U+FFFE, U+FFFF) replaced by U+FFFD.
pub fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped_and_forbidden_characters_replaced() {
        assert_eq!(text("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(text("bell\u{7} esc\u{1b}[2J nul\0 ok\ttab"), "bell\u{fffd} esc\u{fffd}[2J nul\u{fffd} ok\ttab");
        assert_eq!(text("\u{ffff}é"), "\u{fffd}é");
    }

    #[test]
    fn a_feed_holds_its_entries_with_their_links_and_categories() {
        let feed = Feed {
            id: "urn:ruledex:feed:/feed.atom".into(),
            title: "changes".into(),
            base_url: None,
            self_href: "/feed.atom".into(),
            page_href: "/".into(),
            updated: "2026-11-29T10:00:00Z".into(),
            entries: vec![Entry {
                id: "urn:ruledex:change:1:s:x".into(),
                title: "Added: <script>".into(),
                updated: "2026-11-29T10:00:00Z".into(),
                href: "/detections/s/x".into(),
                categories: vec!["T1090".into()],
                summary: "s".into(),
            }],
        };
        let xml = feed.render();
        assert!(xml.contains("<title>Added: &lt;script&gt;</title>"), "{xml}");
        assert!(xml.contains("<link rel=\"alternate\" type=\"text/html\" href=\"/detections/s/x\"/>"), "{xml}");
        assert!(xml.contains("<category term=\"T1090\"/>"), "{xml}");
        assert!(xml.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n"), "no base without a public URL");
        let public = Feed { base_url: Some("https://ruledex.example.org/".into()), ..feed };
        let xml = public.render();
        assert!(xml.contains("xml:base=\"https://ruledex.example.org/\">"), "{xml}");
        assert!(xml.contains("href=\"https://ruledex.example.org/detections/s/x\"/>"), "{xml}");
        assert!(
            xml.contains("rel=\"self\" type=\"application/atom+xml\" href=\"https://ruledex.example.org/feed.atom\"")
        );
    }
}

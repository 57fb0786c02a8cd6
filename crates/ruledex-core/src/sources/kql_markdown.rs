//! Community KQL queries written as Markdown, one file per query, in folders by product area
//! (Bert-Jan Pals' Hunting-Queries-Detection-Rules and repositories laid out like it).
//!
//! A file has a title (`#`), then usually a "MITRE ATT&CK Technique(s)" table and Description,
//! Risk, Author and References sections, then one section per product ("Defender XDR",
//! "Sentinel") holding the query in a fenced block. Each such block is one detection. About a
//! third of the files leave the fence unlabelled instead of writing ```KQL. Code elsewhere (an
//! example in a description, files that teach KQL) is not a detection, so a block counts only
//! under a heading that names a product. A file without one is not a rule file: it is read and
//! yields nothing. Files at the repository root (README, contribution template, links to other
//! repositories) are not queries and are not read.

use std::collections::{HashMap, HashSet};

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

use super::util::{file_stem, non_empty};
use super::{Adapter, ParseError, Parsed, SourceFile};
use crate::model::{Format, Language, Rule, Status};

/// Products and the heading words that name them. A heading may name both
/// ("Defender XDR & Sentinel"): its query runs in either.
const PRODUCTS: &[(&str, &[&str])] = &[
    ("Microsoft Defender XDR", &["defender", "xdr", "advanced hunting"]),
    ("Microsoft Sentinel", &["sentinel", "log analytics"]),
];

/// Every detection keeps the whole file as its native rule, so reading a file costs its size
/// times its number of queries. Real files stay under 150 KB that way (14 queries in 9 KB at
/// most); a crafted file of many tiny queries could otherwise multiply a 4 MB file thousands of
/// times.
const MAX_COPIED_BYTES: usize = 16 * 1024 * 1024;

pub struct KqlMarkdown;

impl Adapter for KqlMarkdown {
    fn patterns(&self) -> &'static [&'static str] {
        &["*/**/*.md"]
    }

    fn parse(&self, file: SourceFile<'_>) -> Parsed {
        let sections = sections(file.text);
        let queries = queries(&sections);
        if queries.is_empty() {
            // Not a rule file (a README, notes, a page teaching KQL): nothing to read, nothing wrong.
            return Parsed::default();
        }
        if queries.len().saturating_mul(file.text.len()) > MAX_COPIED_BYTES {
            let message = format!(
                "{} queries in a {}-byte file: keeping the file with each would pass the {MAX_COPIED_BYTES}-byte limit",
                queries.len(),
                file.text.len()
            );
            return Parsed { rules: vec![], errors: vec![ParseError::new(message)] };
        }
        let page = Page::read(&sections, file.path);
        let ids = native_ids(file_stem(file.path), &queries);
        let several = queries.len() > 1;
        let rules = queries.iter().zip(ids).map(|(query, id)| page.rule(query, id, several, file)).collect();
        Parsed { rules, errors: vec![] }
    }
}

/// The part of a file under one heading, down to the next heading of any level.
#[derive(Default)]
struct Section {
    /// 1 to 6 for `#` to `######`; 0 for what comes before the first heading.
    level: usize,
    heading: String,
    /// Paragraphs and list items, as plain text.
    text: Vec<String>,
    /// Link targets and bare URLs (which pulldown-cmark, lacking GFM autolinks, leaves as text),
    /// in the order they appear.
    links: Vec<String>,
    code: Vec<CodeBlock>,
    /// Each table's rows of cells, the header row first.
    tables: Vec<Vec<Vec<String>>>,
}

struct CodeBlock {
    /// The fence's language (`KQL`); empty for an unlabelled fence, `None` for an indented block.
    language: Option<String>,
    text: String,
}

/// Reads Markdown into sections, keeping the text of inline markup and dropping the markup.
fn sections(markdown: &str) -> Vec<Section> {
    let mut reader = Reader::default();
    for event in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
        reader.read(event);
    }
    reader.flush_text();
    reader.done.push(reader.current);
    reader.done
}

#[derive(Default)]
struct Reader {
    done: Vec<Section>,
    current: Section,
    /// The text of the element being read: a heading, paragraph, list item, cell or code block.
    buffer: String,
}

impl Reader {
    fn read(&mut self, event: Event<'_>) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                self.flush_text();
                let next = Section { level: level as usize, ..Section::default() };
                self.done.push(std::mem::replace(&mut self.current, next));
            }
            Event::End(TagEnd::Heading(_)) => self.current.heading = self.take(),
            Event::Start(Tag::CodeBlock(kind)) => {
                self.flush_text();
                let language = match kind {
                    CodeBlockKind::Fenced(info) => Some(info.split_whitespace().next().unwrap_or_default().to_string()),
                    CodeBlockKind::Indented => None,
                };
                self.current.code.push(CodeBlock { language, text: String::new() });
            }
            Event::End(TagEnd::CodeBlock) => {
                let text = self.take();
                if let Some(block) = self.current.code.last_mut() {
                    block.text = text;
                }
            }
            Event::Start(Tag::Table(_)) => {
                self.flush_text();
                self.current.tables.push(Vec::new());
            }
            Event::Start(Tag::TableHead | Tag::TableRow) => {
                if let Some(table) = self.current.tables.last_mut() {
                    table.push(Vec::new());
                }
            }
            Event::End(TagEnd::TableCell) => {
                let cell = self.take();
                if let Some(row) = self.current.tables.last_mut().and_then(|t| t.last_mut()) {
                    row.push(cell);
                }
            }
            Event::Start(Tag::Link { dest_url, .. }) => self.current.links.push(dest_url.to_string()),
            Event::Start(Tag::Paragraph | Tag::Item | Tag::List(_)) | Event::End(TagEnd::Paragraph | TagEnd::Item) => {
                self.flush_text();
            }
            Event::Text(text) | Event::Code(text) => self.buffer.push_str(&text),
            Event::SoftBreak => self.buffer.push(' '),
            Event::HardBreak => self.buffer.push('\n'),
            _ => {}
        }
    }

    fn take(&mut self) -> String {
        std::mem::take(&mut self.buffer).trim().to_string()
    }

    fn flush_text(&mut self) {
        let text = self.take();
        let bare_urls = text.split_whitespace().filter(|w| w.starts_with("https://") || w.starts_with("http://"));
        self.current.links.extend(bare_urls.map(|url| url.trim_end_matches([')', ',', '.', ';']).to_string()));
        if !text.is_empty() {
            self.current.text.push(text);
        }
    }
}

/// One query block and the product section it sits in.
struct Query<'a> {
    product: String,
    /// The heading right above the block ("Sentinel", "Common Rubeus command lines").
    heading: &'a str,
    text: &'a str,
}

fn queries(sections: &[Section]) -> Vec<Query<'_>> {
    let mut queries = Vec::new();
    for (section, product) in sections.iter().zip(section_products(sections)) {
        let Some(product) = product else { continue };
        let blocks = section.code.iter().filter(|b| is_kusto(b) && !b.text.is_empty());
        let heading = section.heading.as_str();
        queries.extend(blocks.map(|b| Query { product: product.clone(), heading, text: &b.text }));
    }
    queries
}

/// A fence labelled KQL or Kusto, or not labelled at all.
fn is_kusto(block: &CodeBlock) -> bool {
    block
        .language
        .as_deref()
        .is_some_and(|l| l.is_empty() || l.eq_ignore_ascii_case("kql") || l.eq_ignore_ascii_case("kusto"))
}

/// The product of each section: the one its heading names or, failing that, the one named by the
/// nearest heading it sits under (`## Advanced Hunting` above `### Common Rubeus command lines`).
/// The title (`#`) and what precedes it belong to no product. One pass, keeping the headings
/// that enclose the current section, so a hostile file of many sections stays linear.
fn section_products(sections: &[Section]) -> Vec<Option<String>> {
    let mut enclosing: Vec<(usize, Option<String>)> = Vec::new();
    let mut products = Vec::with_capacity(sections.len());
    for section in sections {
        enclosing.retain(|(level, _)| *level < section.level);
        if section.level >= 2 {
            enclosing.push((section.level, product_named(&section.heading)));
        }
        products.push(enclosing.iter().rev().find_map(|(_, product)| product.clone()));
    }
    products
}

fn product_named(heading: &str) -> Option<String> {
    let heading = heading.to_lowercase();
    let named: Vec<&str> =
        PRODUCTS.iter().filter(|(_, words)| words.iter().any(|w| heading.contains(w))).map(|(p, _)| *p).collect();
    (!named.is_empty()).then(|| named.join(", "))
}

/// The file stem, with the block's heading as a suffix when the file holds several queries.
/// Headings repeated in one file are numbered, so each query keeps its own ID.
fn native_ids(stem: &str, queries: &[Query<'_>]) -> Vec<String> {
    if let [_] = queries {
        return vec![stem.to_string()];
    }
    let mut taken: HashSet<String> = HashSet::new();
    let mut last_number: HashMap<String, usize> = HashMap::new();
    let mut ids = Vec::with_capacity(queries.len());
    for query in queries {
        let base = format!("{stem}-{}", slug(query.heading));
        let number = last_number.entry(base.clone()).or_insert(1);
        let mut id = base.clone();
        while taken.contains(&id) {
            *number += 1;
            id = format!("{base}-{number}");
        }
        taken.insert(id.clone());
        ids.push(id);
    }
    ids
}

/// The heading's first words, lowercased and joined by `-`: headings can be whole sentences.
fn slug(text: &str) -> String {
    let words = text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty());
    words.take(6).map(str::to_lowercase).collect::<Vec<_>>().join("-")
}

/// What a file says about all of its queries.
struct Page {
    title: String,
    description: String,
    attack_tags: Vec<String>,
    references: Vec<String>,
    author: Option<String>,
    deprecated: bool,
}

impl Page {
    fn read(sections: &[Section], path: &str) -> Page {
        let title_section = sections.iter().find(|s| s.level == 1 && !s.heading.is_empty());
        let described = sections
            .iter()
            .find(|s| s.level >= 2 && !s.text.is_empty() && s.heading.to_lowercase().contains("description"));
        Page {
            title: title_section.map_or_else(|| file_stem(path).to_string(), |s| s.heading.clone()),
            description: described.or(title_section).map(|s| s.text.join("\n\n")).unwrap_or_default(),
            attack_tags: sections.iter().flat_map(|s| &s.tables).flat_map(|t| technique_column(t)).collect(),
            references: references(sections),
            author: sections
                .iter()
                .filter(|s| s.heading.to_lowercase().starts_with("author"))
                .flat_map(|s| &s.text)
                .find_map(|t| non_empty(t.strip_prefix("Name:").map(String::from))),
            deprecated: path.split('/').any(|c| c.to_lowercase().contains("deprecated")),
        }
    }

    fn rule(&self, query: &Query<'_>, native_id: String, several: bool, file: SourceFile<'_>) -> Rule {
        Rule {
            native_id,
            title: if several { format!("{} ({})", self.title, query.heading) } else { self.title.clone() },
            description: self.description.clone(),
            vendor: Format::KqlMarkdown.vendor().into(),
            product: query.product.clone(),
            language: Some(Language::Kusto),
            query: query.text.to_string(),
            native_rule: file.text.to_string(),
            status: Some(if self.deprecated { Status::Deprecated } else { Status::Production }),
            attack_tags: self.attack_tags.clone(),
            author: self.author.clone(),
            references: self.references.clone(),
            path: file.path.to_string(),
            ..Rule::default()
        }
    }
}

/// The values of a table's "Technique ID" column, when it has one.
fn technique_column(table: &[Vec<String>]) -> Vec<String> {
    let Some((header, rows)) = table.split_first() else { return vec![] };
    let Some(column) = header.iter().position(|h| h.to_lowercase().contains("technique id")) else { return vec![] };
    rows.iter().filter_map(|row| non_empty(row.get(column).cloned())).collect()
}

/// The web links in the References (or "Source") sections, each once.
fn references(sections: &[Section]) -> Vec<String> {
    let mut seen: HashSet<&str> = HashSet::new();
    let cited = sections.iter().filter(|s| {
        let heading = s.heading.to_lowercase();
        heading.contains("reference") || heading.starts_with("source")
    });
    cited
        .flat_map(|s| &s.links)
        .filter(|url| (url.starts_with("https://") || url.starts_with("http://")) && seen.insert(url))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(path: &str, text: &str) -> Parsed {
        KqlMarkdown.parse(SourceFile { path, text })
    }

    const TWO_PRODUCTS: &str = r#"# Hunt for *Anonymous* Proxy Events

## Query Information

#### MITRE ATT&CK Technique(s)

| Technique ID | Title    | Link    |
| ---  | --- | --- |
| T1090 | Proxy | https://attack.mitre.org/techniques/T1090 |
| T1090.003 | Multi-hop Proxy | https://attack.mitre.org/techniques/T1090/003 |

#### Description
Lists activities performed while connected to an
anonymous proxy.

Common false positive is iCloud Private Relay.

If you only want the count:
```KQL
CloudAppEvents | count
```

#### Author
- **Name:** Jane Doe
- **Github:** [https://github.com/jane](https://github.com/jane)

#### References
- https://support.apple.com/en-us/HT212614
- [Proxy docs](https://learn.microsoft.com/proxy).

## Defender XDR
```
CloudAppEvents
| where IsAnonymousProxy == 1
```
## Sentinel
```KQL
CloudAppEvents
| where IsAnonymousProxy == 1
| project TimeGenerated
```
"#;

    #[test]
    fn each_product_block_is_a_detection_sharing_the_file_metadata() {
        let parsed = parse("Defender For Cloud Apps/AnonymousProxyEvents.md", TWO_PRODUCTS);
        assert!(parsed.errors.is_empty());
        let [xdr, sentinel] = parsed.rules.as_slice() else { panic!("expected two rules: {:?}", parsed.rules) };
        assert_eq!(xdr.native_id, "AnonymousProxyEvents-defender-xdr");
        assert_eq!(sentinel.native_id, "AnonymousProxyEvents-sentinel");
        assert_eq!(xdr.title, "Hunt for Anonymous Proxy Events (Defender XDR)");
        assert_eq!(sentinel.title, "Hunt for Anonymous Proxy Events (Sentinel)");
        assert_eq!(xdr.product, "Microsoft Defender XDR");
        assert_eq!(sentinel.product, "Microsoft Sentinel");
        assert_eq!(xdr.query, "CloudAppEvents\n| where IsAnonymousProxy == 1", "an unlabelled fence counts");
        assert!(sentinel.query.ends_with("| project TimeGenerated"));
        assert_eq!(
            xdr.description,
            "Lists activities performed while connected to an anonymous proxy.\n\n\
             Common false positive is iCloud Private Relay.\n\nIf you only want the count:"
        );
        assert_eq!(xdr.attack_tags, vec!["T1090", "T1090.003"]);
        assert_eq!(
            xdr.references,
            vec!["https://support.apple.com/en-us/HT212614", "https://learn.microsoft.com/proxy"]
        );
        assert_eq!(xdr.author.as_deref(), Some("Jane Doe"));
        assert_eq!((xdr.vendor.as_str(), xdr.language), ("Community KQL", Some(Language::Kusto)));
        assert_eq!(xdr.status, Some(Status::Production));
        assert_eq!(
            (xdr.native_rule.as_str(), xdr.path.as_str()),
            (TWO_PRODUCTS, "Defender For Cloud Apps/AnonymousProxyEvents.md")
        );
    }

    #[test]
    fn a_single_query_keeps_the_file_title_and_stem() {
        let text = "# Rare Browsers\n\nBrowsers seen once.\n\n## Log Analytics (Sentinel)\n```kusto\nSigninLogs\n```\n";
        let parsed = parse("Threat Hunting/Deprecated Feeds/RareBrowsers.md", text);
        let rule = &parsed.rules[0];
        assert_eq!((rule.native_id.as_str(), rule.title.as_str()), ("RareBrowsers", "Rare Browsers"));
        assert_eq!((rule.product.as_str(), rule.query.as_str()), ("Microsoft Sentinel", "SigninLogs"));
        assert_eq!(rule.description, "Browsers seen once.");
        assert_eq!(rule.status, Some(Status::Deprecated));
    }

    #[test]
    fn blocks_under_subheadings_take_the_product_of_their_section() {
        let text = "# Kerberos attacks\n## Advanced Hunting\n### Common Mimikatz command lines\n```KQL\nDeviceProcessEvents\n```\n\
                    ### Common Mimikatz command lines\n```KQL\nDeviceEvents\n```\n## Defender XDR & Sentinel\n```KQL\nAlertInfo\n```\n";
        let rules = parse("Defender For Endpoint/kerberos.md", text).rules;
        let summary: Vec<(&str, &str)> = rules.iter().map(|r| (r.native_id.as_str(), r.product.as_str())).collect();
        assert_eq!(
            summary,
            vec![
                ("kerberos-common-mimikatz-command-lines", "Microsoft Defender XDR"),
                ("kerberos-common-mimikatz-command-lines-2", "Microsoft Defender XDR"),
                ("kerberos-defender-xdr-sentinel", "Microsoft Defender XDR, Microsoft Sentinel"),
            ]
        );
        assert_eq!(rules[0].title, "Kerberos attacks (Common Mimikatz command lines)");
    }

    #[test]
    fn long_headings_make_short_ids() {
        assert_eq!(
            slug("The following alerts might also indicate activity: these alerts"),
            "the-following-alerts-might-also-indicate"
        );
        assert_eq!(slug("Defender XDR & Sentinel"), "defender-xdr-sentinel");
    }

    fn repeated_queries(count: usize) -> String {
        let mut text = String::from("# Many\n## Advanced Hunting\n");
        for _ in 0..count {
            text.push_str("### Sentinel\n```KQL\nT\n```\n#### note\n");
        }
        text
    }

    #[test]
    fn queries_under_repeated_headings_get_distinct_ids() {
        let rules = parse("Sentinel/many.md", &repeated_queries(500)).rules;
        assert_eq!(rules.iter().map(|r| &r.native_id).collect::<HashSet<_>>().len(), 500);
        assert_eq!(rules[499].native_id, "many-sentinel-500");
        assert_eq!(rules[0].product, "Microsoft Sentinel");
    }

    #[test]
    fn files_of_many_tiny_queries_are_refused_not_copied_per_query() {
        let parsed = parse("Sentinel/many.md", &repeated_queries(20_000));
        assert!(parsed.rules.is_empty());
        assert_eq!(
            parsed.errors[0].message,
            "20000 queries in a 720027-byte file: keeping the file with each would pass the 16777216-byte limit"
        );
    }

    #[test]
    fn files_without_a_product_query_hold_no_detection() {
        let no_code = "# MITRE ATT&CK Mapping\n| Technique ID | Title | Query |\n| --- | --- | --- |\n| T1090 | Proxy | [x](x.md) |\n";
        let outside_products = "# Regex\n## IP\n```KQL\nprint 1\n```\n# What about Sentinel?\n```\nprint 2\n```\n";
        let other_languages =
            "# Setup\n## Sentinel\n```PowerShell\nGet-Thing\n```\n    indented code\n## Defender XDR\n```KQL\n```\n";
        for text in ["", no_code, outside_products, other_languages, "just text", "```KQL\nunclosed"] {
            let parsed = parse("Learning/x.md", text);
            assert!(parsed.rules.is_empty() && parsed.errors.is_empty(), "{text:?}: {:?}", parsed.rules);
        }
    }

    #[test]
    fn a_file_without_a_title_is_named_by_its_stem() {
        let rule = &parse("Sentinel/No Title.md", "Intro.\n## Sentinel\n```KQL\nSecurityEvent\n```\n").rules[0];
        assert_eq!((rule.title.as_str(), rule.description.as_str()), ("No Title", ""));
    }

    #[test]
    fn root_files_are_not_read() {
        let globs =
            globset::GlobSet::builder().add(globset::Glob::new(KqlMarkdown.patterns()[0]).unwrap()).build().unwrap();
        assert!(globs.is_match("Sentinel/x.md") && globs.is_match("Threat Hunting/Deprecated Feeds/x.md"));
        assert!(!globs.is_match("README.md") && !globs.is_match("DetectionTemplate.md"));
    }

    #[test]
    fn never_panics_on_truncations() {
        for end in 0..TWO_PRODUCTS.len() {
            if TWO_PRODUCTS.is_char_boundary(end) {
                let _ = parse("Sentinel/t.md", &TWO_PRODUCTS[..end]);
            }
        }
    }
}

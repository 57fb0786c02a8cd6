//! Google SecOps (Chronicle) YARA-L 2.0 rules (`rules/**/*.yaral`).
//!
//! No crate reads YARA-L, so this module carries a small scanner: it finds each
//! `rule NAME { ... }` block (a file may hold several), skipping comments, strings and regex
//! literals so braces inside them do not count, then reads the block's `meta:` section.
//! The whole rule block is the paste-ready query.

use super::util::{comma_list, iso_date, non_empty};
use super::{Adapter, ParseError, Parsed, SourceFile};
use crate::model::{Dependency, DependencyKind, Format, Language, Rule, RuleType, Severity, Status};

pub struct Chronicle;

impl Adapter for Chronicle {
    fn patterns(&self) -> &'static [&'static str] {
        &["rules/**/*.yaral"]
    }

    fn parse(&self, file: SourceFile<'_>) -> Parsed {
        match scan_rules(file.text) {
            Err(error) => Parsed { rules: vec![], errors: vec![error] },
            Ok(blocks) if blocks.is_empty() => ParseError::new("no `rule NAME { ... }` block found").into_parsed(),
            Ok(blocks) => blocks.into_iter().map(|block| block.into_rule(file.path)).collect(),
        }
    }

    /// From the `events:` section on: the `meta:` section before it repeats the title,
    /// description, IDs and labels.
    fn query_logic<'q>(&self, query: &'q str) -> &'q str {
        let mut offset = 0;
        for line in query.split_inclusive('\n') {
            if line.trim_start().starts_with("events:") {
                return &query[offset..];
            }
            offset += line.len();
        }
        query
    }
}

impl ParseError {
    fn into_parsed(self) -> Parsed {
        Parsed { rules: vec![], errors: vec![self] }
    }
}

/// One `rule NAME { ... }` block as found in the text.
struct RuleBlock<'a> {
    name: &'a str,
    /// From `rule` to the closing brace.
    text: &'a str,
    /// Inside the braces.
    body: &'a str,
    line: usize,
}

/// Finds rule blocks at the top level of a file.
fn scan_rules(text: &str) -> Result<Vec<RuleBlock<'_>>, ParseError> {
    let mut scanner = Scanner { text, pos: 0, line: 1, counted: 0 };
    let mut blocks = Vec::new();
    while let Some(start) = scanner.next_code_char() {
        if !text[start..].starts_with("rule") || !is_word_boundary(text, start + 4) {
            let line = scanner.line_of(start);
            return Err(ParseError::at_line(line, format!("expected `rule`, found {:?}", snippet(&text[start..]))));
        }
        blocks.push(scanner.rule_block(start)?);
    }
    Ok(blocks)
}

struct Scanner<'a> {
    text: &'a str,
    pos: usize,
    /// The line of `counted`: line numbers are counted on from the previous rule's, never from
    /// the start of the file, so a file of many rules is read in linear time.
    line: usize,
    counted: usize,
}

impl<'a> Scanner<'a> {
    /// The 1-based line of `pos`. Rules are met in order, so `pos` only moves forward.
    fn line_of(&mut self, pos: usize) -> usize {
        if pos < self.counted {
            (self.line, self.counted) = (1, 0);
        }
        let newlines =
            self.text.as_bytes().get(self.counted..pos).map_or(0, |b| b.iter().filter(|&&b| b == b'\n').count());
        self.line += newlines;
        self.counted = pos;
        self.line
    }

    /// Skips whitespace and comments; returns the position of the next code character.
    fn next_code_char(&mut self) -> Option<usize> {
        loop {
            let rest = &self.text[self.pos..];
            let trimmed = rest.trim_start();
            self.pos += rest.len() - trimmed.len();
            if trimmed.starts_with("//") {
                self.pos += trimmed.find('\n').unwrap_or(trimmed.len());
            } else if trimmed.starts_with("/*") {
                self.pos += trimmed.find("*/").map_or(trimmed.len(), |i| i + 2);
            } else {
                return (!trimmed.is_empty()).then_some(self.pos);
            }
        }
    }

    /// Reads `rule NAME {` ... `}` starting at `start`, leaving `pos` after the closing brace.
    fn rule_block(&mut self, start: usize) -> Result<RuleBlock<'a>, ParseError> {
        let line = self.line_of(start);
        let after_keyword = &self.text[start + 4..];
        let name_start = start + 4 + (after_keyword.len() - after_keyword.trim_start().len());
        let name_len = self.text[name_start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(self.text.len() - name_start);
        let name = &self.text[name_start..name_start + name_len];
        if name.is_empty() {
            return Err(ParseError::at_line(line, "`rule` is not followed by a rule name"));
        }
        self.pos = name_start + name_len;
        match self.next_code_char() {
            Some(open) if self.text[open..].starts_with('{') => {
                let close = self.matching_brace(open).ok_or_else(|| {
                    ParseError::at_line(line, format!("rule {name} has unbalanced braces (no closing `}}`)"))
                })?;
                self.pos = close + 1;
                Ok(RuleBlock { name, text: &self.text[start..=close], body: &self.text[open + 1..close], line })
            }
            _ => Err(ParseError::at_line(line, format!("rule {name} is not followed by `{{`"))),
        }
    }

    /// The position of the `}` closing the `{` at `open`, skipping strings, comments and regexes.
    fn matching_brace(&self, open: usize) -> Option<usize> {
        let bytes = self.text.as_bytes();
        let mut depth = 0usize;
        let mut i = open;
        let mut previous_code = b'{';
        while i < bytes.len() {
            let b = bytes[i];
            match b {
                b'"' | b'`' => i = skip_quoted(bytes, i, b)?,
                b'/' if bytes.get(i + 1) == Some(&b'/') => i = find_from(bytes, i, b"\n").unwrap_or(bytes.len()),
                b'/' if bytes.get(i + 1) == Some(&b'*') => i = find_from(bytes, i + 2, b"*/")? + 1,
                b'/' if starts_regex(previous_code) => i = skip_quoted(bytes, i, b'/')?,
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            }
            if let Some(&b) = bytes.get(i).filter(|b| !b.is_ascii_whitespace()) {
                previous_code = b;
            }
            i += 1;
        }
        None
    }
}

/// A `/` after one of these starts a regex literal (`field = /a{2}/`), not a division.
fn starts_regex(previous: u8) -> bool {
    matches!(previous, b'=' | b'(' | b',' | b'[' | b'!' | b'{')
}

/// The index of the closing `quote`, honouring backslash escapes.
fn skip_quoted(bytes: &[u8], open: usize, quote: u8) -> Option<usize> {
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'\n' if quote == b'/' => return None,
            b if b == quote => return Some(i),
            _ => i += 1,
        }
    }
    None
}

fn find_from(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

fn is_word_boundary(text: &str, at: usize) -> bool {
    text[at..].chars().next().is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
}

fn snippet(text: &str) -> String {
    text.chars().take(30).take_while(|c| *c != '\n').collect()
}

const SECTIONS: &[&str] = &["meta", "strings", "events", "match", "outcome", "condition", "options"];

impl<'a> RuleBlock<'a> {
    /// The text of a section (`meta`, `outcome`, ...), up to the next section header.
    fn section(&self, name: &str) -> Option<&'a str> {
        let headers = section_headers(self.body);
        let i = headers.iter().position(|h| h.name == name)?;
        let end = headers.get(i + 1).map_or(self.body.len(), |next| next.line_start);
        Some(&self.body[headers[i].content_start..end])
    }

    fn into_rule(self, path: &str) -> Result<Rule, ParseError> {
        let meta_text = self
            .section("meta")
            .ok_or_else(|| ParseError::at_line(self.line, format!("rule {} has no meta: section", self.name)))?;
        let meta = Meta::parse(meta_text);
        let deprecated = path.split('/').any(|c| c == "_deprecated");
        let severity_native = meta.get("severity").map(String::from);
        Ok(Rule {
            native_id: self.name.to_string(),
            title: meta.get("rule_name").unwrap_or(self.name).to_string(),
            description: meta.get("description").unwrap_or_default().to_string(),
            vendor: Format::Chronicle.vendor().into(),
            product: Format::Chronicle.product().into(),
            language: Some(Language::YaraL),
            query: self.text.to_string(),
            native_rule: self.text.to_string(),
            rule_type: meta.get("type").and_then(rule_type),
            rule_type_native: meta.get("type").map(String::from),
            severity: severity_native.as_deref().and_then(Severity::from_native),
            severity_native,
            risk_score: self.section("outcome").and_then(literal_risk_score),
            status: Some(if deprecated { Status::Deprecated } else { Status::Production }),
            status_native: deprecated.then(|| "_deprecated".to_string()),
            attack_tags: meta.attack_tags(),
            data_sources: meta.all("data_source").flat_map(comma_list).collect(),
            platforms: meta.all("platform").flat_map(comma_list).collect(),
            author: meta.get("author").map(String::from),
            created: meta.get("created").and_then(iso_date),
            updated: meta.get("updated").and_then(iso_date),
            references: meta.references(),
            false_positives: meta.all("false_positives").chain(meta.all("falsepositives")).map(String::from).collect(),
            license: non_empty(meta.get("license").map(String::from)),
            tags: meta.all("tags").flat_map(comma_list).collect(),
            requires: reference_lists(self.body),
            implementation: non_empty(meta.get("assumption").or(meta.get("assumptions")).map(String::from)),
            path: path.to_string(),
            ..Rule::default()
        })
    }
}

struct SectionHeader {
    name: &'static str,
    /// Where the header's line begins.
    line_start: usize,
    /// Just after the header's colon.
    content_start: usize,
}

/// Section headers (`meta:`) at the start of a line.
fn section_headers(body: &str) -> Vec<SectionHeader> {
    let mut headers = Vec::new();
    let mut line_start = 0;
    for line in body.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let header =
            SECTIONS.iter().find(|s| trimmed.strip_prefix(**s).is_some_and(|rest| rest.trim_start().starts_with(':')));
        if let (Some(&name), Some(colon)) = (header, trimmed.find(':')) {
            let content_start = line_start + (line.len() - trimmed.len()) + colon + 1;
            headers.push(SectionHeader { name, line_start, content_start });
        }
        line_start += line.len();
    }
    headers
}

/// The `key = "value"` pairs of a meta section, in order; keys may repeat.
struct Meta {
    pairs: Vec<(String, String)>,
}

impl Meta {
    fn parse(section: &str) -> Meta {
        let pairs = section
            .lines()
            .filter_map(|line| {
                let (key, value) = line.split_once('=')?;
                let key = key.trim();
                key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_').then_some(())?;
                Some((key.to_ascii_lowercase(), meta_value(value.trim())))
            })
            .filter(|(key, _)| !key.is_empty())
            .collect();
        Meta { pairs }
    }

    fn all<'s>(&'s self, key: &'s str) -> impl Iterator<Item = &'s str> + 's {
        self.pairs.iter().filter(move |(k, _)| k == key).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, v)| k == key && !v.is_empty()).map(|(_, v)| v.as_str())
    }

    /// ATT&CK references in every spelling the corpus uses. A `mitre_attack_url` names the same
    /// technique as its sibling `mitre_attack_technique` (a name), so the URL, being exact, wins.
    fn attack_tags(&self) -> Vec<String> {
        let mut tags: Vec<String> = ["technique", "tactic", "mitre", "mitre_attack_tactic"]
            .iter()
            .flat_map(|key| self.all(key))
            .map(String::from)
            .collect();
        let urls: Vec<String> = self.all("mitre_attack_url").map(String::from).collect();
        if urls.is_empty() {
            tags.extend(self.all("mitre_attack_technique").map(String::from));
        }
        tags.extend(urls);
        tags
    }

    fn references(&self) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, _)| k.starts_with("reference"))
            .flat_map(|(_, v)| v.split_whitespace().map(String::from).collect::<Vec<_>>())
            .collect()
    }
}

/// A meta value: a double-quoted string (with escapes) followed by an optional comment, or a
/// bare word.
fn meta_value(raw: &str) -> String {
    let Some(inner) = raw.strip_prefix('"') else {
        return raw.split("//").next().unwrap_or_default().trim().to_string();
    };
    let mut value = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => value.push('\n'),
                Some('t') => value.push('\t'),
                Some(other) => value.push(other),
                None => break,
            },
            '"' => break,
            other => value.push(other),
        }
    }
    value.trim().to_string()
}

fn rule_type(native: &str) -> Option<RuleType> {
    match native.trim().to_ascii_lowercase().as_str() {
        "alert" | "detection" => Some(RuleType::Alert),
        "hunt" | "hunting" => Some(RuleType::Hunt),
        _ => None,
    }
}

/// `$risk_score = 35` or `$risk_score = max(35)`: a constant score the rule always assigns.
fn literal_risk_score(outcome: &str) -> Option<f64> {
    let line = outcome.lines().find(|l| l.trim_start().starts_with("$risk_score"))?;
    let value = line.split_once('=')?.1.trim();
    let value = value.strip_prefix("max(").and_then(|v| v.strip_suffix(')')).unwrap_or(value);
    value.trim().parse().ok()
}

/// Reference lists used as `in %name` (also `in regex %name`, `in cidr %name`).
fn reference_lists(body: &str) -> Vec<Dependency> {
    let mut names: Vec<String> = body
        .split(" in ")
        .skip(1)
        .filter_map(|rest| {
            let rest = rest.trim_start();
            let rest = rest.strip_prefix("regex ").or(rest.strip_prefix("cidr ")).unwrap_or(rest).trim_start();
            let name: String =
                rest.strip_prefix('%')?.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            (!name.is_empty()).then_some(name)
        })
        .collect();
    names.sort();
    names.dedup();
    names.into_iter().map(|name| Dependency { kind: DependencyKind::ReferenceList, name }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(path: &str, text: &str) -> Parsed {
        Chronicle.parse(SourceFile { path, text })
    }

    const TWO_RULES: &str = r#"/*
 * Licensed under the Apache License, Version 2.0 { not a brace that counts
 */
rule first_rule {
  // a comment with a brace }
  meta:
    author = "Google Cloud Security"
    description = "Detects \"quoted\" things"
    rule_name = "First Rule"
    technique = "T1090.003"
    tactic = "TA0011"
    mitre = "Execution, t1204, t1059"
    data_source = "crowdstrike, microsoft sysmon"
    severity = "High"
    type = "alert"
    reference = "https://example.com/a"
    created = "2023/05/01"
  events:
    $e.target.process.file.full_path = /C:\\Windows\\{2}\.exe/ nocase
    $e.principal.hostname in %allowed_hosts
    $e.target.hostname = "}"
  outcome:
    $risk_score = max(35)
  condition:
    $e
}

rule second_rule {
  meta:
    description = "No rule_name: the identifier is the title"
    mitre_attack_technique = "Proxy: Multi-hop Proxy"
    mitre_attack_url = "https://attack.mitre.org/techniques/T1090/003/"
  events:
    $e.metadata.event_type = "NETWORK_CONNECTION"
  condition:
    $e
}
"#;

    #[test]
    fn the_query_logic_starts_at_the_events_section() {
        let parsed = parse("rules/community/two.yaral", TWO_RULES);
        let logic = Chronicle.query_logic(&parsed.rules[0].query);
        assert!(logic.trim_start().starts_with("events:\n    $e.target.process"), "{logic}");
        assert!(logic.ends_with("$e\n}") && !logic.contains("Google Cloud Security"), "{logic}");
        assert_eq!(Chronicle.query_logic("rule x { }"), "rule x { }");
    }

    #[test]
    fn files_with_several_rules_yield_each_rule_whole() {
        let parsed = parse("rules/community/two.yaral", TWO_RULES);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let [first, second] = parsed.rules.as_slice() else { panic!("expected two rules") };
        assert_eq!(first.native_id, "first_rule");
        assert_eq!(first.title, "First Rule");
        assert_eq!(first.description, "Detects \"quoted\" things");
        assert!(first.query.starts_with("rule first_rule {") && first.query.ends_with('}'));
        assert!(first.query.contains("$e.target.hostname = \"}\""), "brace in a string is not the end");
        assert_eq!(first.attack_tags, vec!["T1090.003", "TA0011", "Execution, t1204, t1059"]);
        assert_eq!(first.data_sources, vec!["crowdstrike", "microsoft sysmon"]);
        assert_eq!(first.severity, Some(Severity::High));
        assert_eq!(first.rule_type, Some(RuleType::Alert));
        assert_eq!(first.risk_score, Some(35.0));
        assert_eq!(first.created.as_deref(), Some("2023-05-01"));
        assert_eq!(
            first.requires,
            vec![Dependency { kind: DependencyKind::ReferenceList, name: "allowed_hosts".into() }]
        );
        assert_eq!(first.status, Some(Status::Production));
        assert_eq!(second.title, "second_rule");
        assert_eq!(second.attack_tags, vec!["https://attack.mitre.org/techniques/T1090/003/"]);
    }

    #[test]
    fn rules_under_deprecated_are_deprecated() {
        let parsed = parse("rules/_deprecated/old/two.yaral", TWO_RULES);
        assert!(parsed.rules.iter().all(|r| r.status == Some(Status::Deprecated)));
    }

    #[test]
    fn unbalanced_braces_are_reported_with_the_rule_and_line() {
        let text = "// header\nrule broken {\n meta:\n  author = \"x\"\n events:\n  $e.x = 1\n";
        let parsed = parse("rules/broken.yaral", text);
        assert!(parsed.rules.is_empty());
        assert_eq!(parsed.errors[0].to_string(), "line 2: rule broken has unbalanced braces (no closing `}`)");
    }

    #[test]
    fn a_rule_without_meta_is_reported_and_its_neighbours_still_load() {
        let text = "rule no_meta {\n events:\n  $e.x = 1\n condition:\n  $e\n}\nrule ok {\n meta:\n  author = \"a\"\n condition:\n  $e\n}\n";
        let parsed = parse("rules/mixed.yaral", text);
        assert_eq!(parsed.rules.len(), 1);
        assert_eq!(parsed.rules[0].native_id, "ok");
        assert_eq!(parsed.errors[0].to_string(), "line 1: rule no_meta has no meta: section");
    }

    #[test]
    fn text_that_is_not_a_rule_is_reported() {
        assert_eq!(parse("rules/e.yaral", "").errors[0].message, "no `rule NAME { ... }` block found");
        assert_eq!(parse("rules/e.yaral", "/* only a comment */").errors.len(), 1);
        let stray = parse("rules/e.yaral", "rule a { meta: \n x = \"1\"\n}\ngarbage here");
        assert_eq!(stray.errors[0].to_string(), "line 4: expected `rule`, found \"garbage here\"");
        assert!(parse("rules/e.yaral", "rule {").errors[0].message.contains("not followed by a rule name"));
        assert!(parse("rules/e.yaral", "rule x").errors[0].message.contains("not followed by `{`"));
    }

    /// A file of many rules parses in time linear in its size (the line numbers of the rules were
    /// once recounted from the file's start for every rule: 50 s for this file).
    #[test]
    fn a_file_of_75000_rules_yields_75000_rules() {
        let mut text: String = (0..75_000)
            .map(|i| format!("rule r{i} {{\n meta:\n  technique = \"T1090\"\n condition:\n  $e\n}}\n// {i}\n"))
            .collect();
        text.push_str("rule no_meta {\n condition:\n  $e\n}\n");
        let parsed = parse("rules/many.yaral", &text);
        let errors: Vec<String> = parsed.errors.iter().map(ToString::to_string).collect();
        assert_eq!(errors, ["line 525001: rule no_meta has no meta: section"], "7 lines a rule");
        assert_eq!(parsed.rules.len(), 75_000);
        assert_eq!(parsed.rules[74_999].native_id, "r74999");
        assert_eq!(parsed.rules[74_999].query, "rule r74999 {\n meta:\n  technique = \"T1090\"\n condition:\n  $e\n}");
    }

    #[test]
    fn never_panics_on_truncations_of_a_real_rule() {
        for end in 0..TWO_RULES.len() {
            if TWO_RULES.is_char_boundary(end) {
                let _ = parse("rules/t.yaral", &TWO_RULES[..end]);
            }
        }
    }
}

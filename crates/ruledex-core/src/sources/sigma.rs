//! Sigma rules (`rules*/**/*.yml`, `deprecated/**/*.yml`): generic detections that tooling
//! (sigma-cli, pySigma) converts into each SIEM's query language.
//!
//! The query is the whole rule text. Converters need the log source along with the detection, so
//! the `detection:` block alone converts to nothing; the rule as a whole is what users paste into
//! a converter.
//!
//! Parser choice. The maintained `rsigma-parser` crate (0.23.0, the last release building on Rust
//! 1.95) was measured against serde structs read through [`yaml`] on SigmaHQ/sigma at 8eaafff
//! (3,952 files in `rules*/` and `deprecated/`), in release mode, single-threaded, best of three
//! runs of a scratch program kept outside the repository (`cargo run --release --
//! ../shared/corpus/sigma`):
//!
//! | parser | files read | time | panics on every prefix of 40 rules (48,344 inputs) |
//! | --- | --- | --- | --- |
//! | `rsigma-parser` 0.23.0, default features off | 3,951 | 246 ms | 0 |
//! | serde structs + [`yaml`] | 3,952 | 260 ms | 0 |
//!
//! `rsigma-parser` rejects `deprecated/other/generic_brute_force.yml`, whose condition uses the
//! retired Sigma 1 aggregation syntax (`selection | count(category) by dst_ip > 30`). It builds a
//! full detection AST (condition grammar, modifiers) that ruledex has no use for, since the rule
//! text is the query, and it brings a second YAML parser, a PEG parser generator and a dependency
//! tree of about 40 crates, while declaring Rust 1.95 against this workspace's 1.89. Serde structs read every file
//! at the same speed and share the alias and depth limits of the other YAML adapters, so they
//! are used.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::util::{OneOrMany, Scalar, iso_date, non_empty, required, yaml};
use super::{Adapter, ParseError, Parsed, SourceFile};
use crate::ids::TechniqueId;
use crate::model::{Format, Language, Rule, RuleType, Severity, Status};

pub struct Sigma;

impl Adapter for Sigma {
    fn patterns(&self) -> &'static [&'static str] {
        &["rules*/**/*.yml", "deprecated/**/*.yml"]
    }

    fn parse(&self, file: SourceFile<'_>) -> Parsed {
        yaml::<RawRule>(file.text).and_then(|raw| raw.into_rule(file)).into()
    }

    /// The `logsource:` and `detection:` blocks: the rest of the rule is its metadata (title,
    /// author, references, tags), indexed apart.
    fn query_logic<'q>(&self, query: &'q str) -> &'q str {
        let mut span: Option<(usize, usize)> = None;
        let mut offset = 0;
        let mut in_logic = false;
        for line in query.split_inclusive('\n') {
            let top_level_key = line.starts_with(|c: char| c.is_alphanumeric() || c == '_');
            if top_level_key {
                in_logic = line.starts_with("logsource:") || line.starts_with("detection:");
            }
            offset += line.len();
            if in_logic {
                let start = span.map_or(offset - line.len(), |(start, _)| start);
                span = Some((start, offset));
            }
        }
        span.map_or(query, |(start, end)| query[start..end].trim_end())
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawRule {
    title: Option<String>,
    id: Option<Scalar>,
    status: Option<String>,
    description: Option<String>,
    author: OneOrMany,
    license: Option<String>,
    date: Option<Scalar>,
    modified: Option<Scalar>,
    level: Option<String>,
    logsource: RawLogSource,
    /// Only checked for a `condition`: the whole rule is the query.
    detection: Option<BTreeMap<String, IgnoredAny>>,
    tags: OneOrMany,
    references: OneOrMany,
    falsepositives: OneOrMany,
    related: Option<Vec<RawRelated>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawLogSource {
    product: Option<String>,
    category: Option<String>,
    service: Option<String>,
    /// What the log source needs to be set up ("Requirements: Script Block Logging must be
    /// enabled").
    definition: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawRelated {
    id: Option<Scalar>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

impl RawRule {
    fn into_rule(self, file: SourceFile<'_>) -> Result<Rule, ParseError> {
        let title = required(self.title, "title")?;
        check_detection(self.detection.as_ref())?;
        let (attack_tags, mut tags) = split_tags(self.tags.0);
        tags.extend(self.related.iter().flatten().filter_map(RawRelated::label));
        let severity_native = non_empty(self.level);
        let logsource = self.logsource;
        let product = logsource.text();
        Ok(Rule {
            native_id: self.id.map(|s| s.0).unwrap_or_default(),
            title,
            description: self.description.unwrap_or_default().trim().to_string(),
            vendor: Format::Sigma.vendor().into(),
            product,
            language: Some(Language::Sigma),
            query: file.text.trim().to_string(),
            native_rule: file.text.to_string(),
            rule_type: Some(rule_type(file.path)),
            severity: severity_native.as_deref().and_then(Severity::from_native),
            severity_native,
            status: Some(status(self.status.as_deref(), file.path)),
            status_native: non_empty(self.status),
            attack_tags,
            data_sources: [logsource.category, logsource.service].into_iter().filter_map(non_empty).collect(),
            platforms: non_empty(logsource.product).into_iter().collect(),
            author: Some(self.author.0.join(", ")).filter(|a| !a.trim().is_empty()),
            created: self.date.and_then(|d| iso_date(&d.0)),
            updated: self.modified.and_then(|d| iso_date(&d.0)),
            references: self.references.0,
            false_positives: self.falsepositives.0,
            license: non_empty(self.license),
            tags,
            implementation: non_empty(logsource.definition),
            path: file.path.to_string(),
            ..Rule::default()
        })
    }
}

/// The detection is only checked for what every Sigma rule needs: a `condition` over its
/// selections.
fn check_detection(detection: Option<&BTreeMap<String, IgnoredAny>>) -> Result<(), ParseError> {
    match detection {
        None => Err(ParseError::new("missing `detection`")),
        Some(detection) if !detection.contains_key("condition") => {
            Err(ParseError::new("`detection` has no `condition`"))
        }
        Some(_) => Ok(()),
    }
}

/// SigmaHQ keeps hunting rules, broader and noisier than alerting ones, in `rules-threat-hunting/`.
fn rule_type(path: &str) -> RuleType {
    if path.starts_with("rules-threat-hunting/") { RuleType::Hunt } else { RuleType::Alert }
}

impl RawLogSource {
    /// "windows / process_creation": where the rule applies, in Sigma's own words.
    fn text(&self) -> String {
        let parts: Vec<&str> = [&self.product, &self.service, &self.category]
            .into_iter()
            .flatten()
            .map(|p| p.trim())
            .filter(|p| !p.is_empty())
            .collect();
        if parts.is_empty() { "any log source".to_string() } else { parts.join(" / ") }
    }
}

impl RawRelated {
    /// `Related: <id> (<type>)`, `type` being derived, obsolete, merged, renamed or similar.
    fn label(&self) -> Option<String> {
        let id = non_empty(self.id.as_ref().map(|s| s.0.clone()))?;
        Some(match non_empty(self.kind.clone()) {
            Some(kind) => format!("Related: {id} ({kind})"),
            None => format!("Related: {id}"),
        })
    }
}

/// Sigma namespaces its tags. `attack.t1090.003` and `attack.command-and-control` are ATT&CK
/// techniques and tactics and go to the ATT&CK tags without the namespace; `attack.s0029`
/// (software) and `attack.g0010` (groups) are ATT&CK objects ruledex does not map, and other
/// namespaces (`cve.`, `detection.`, `car.`) are labels, so they stay tags as written.
fn split_tags(tags: Vec<String>) -> (Vec<String>, Vec<String>) {
    let mut attack = Vec::new();
    let mut labels = Vec::new();
    for tag in tags {
        match tag.trim().strip_prefix("attack.") {
            Some(name) if name.parse::<TechniqueId>().is_ok() || !name.contains(|c: char| c.is_ascii_digit()) => {
                attack.push(name.to_string());
            }
            _ => labels.push(tag),
        }
    }
    (attack, labels)
}

/// Sigma's `stable` is production; `test` and `experimental` are still being tried. Files under
/// `deprecated/` are deprecated whatever they say.
fn status(native: Option<&str>, path: &str) -> Status {
    match native.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        _ if path.starts_with("deprecated/") => Status::Deprecated,
        Some("deprecated" | "unsupported") => Status::Deprecated,
        Some("stable") => Status::Production,
        _ => Status::Experimental,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(path: &str, text: &str) -> Parsed {
        Sigma.parse(SourceFile { path, text })
    }

    const TOR: &str = r#"title: Tor Client/Browser Execution
id: 62f7c9bf-9135-49b2-8aeb-1e54a6ecc13c
related:
    - id: 1ec2b1d3-4a5c-4b8e-8f9a-2f7e6f0b1c2d
      type: similar
    - id: 0bcd
status: test
description: Detects the use of Tor or Tor-Browser to connect to onion routing networks
references:
    - https://www.logpoint.com/en/blog/detecting-tor-use-with-logpoint/
author: frack113
date: 2022-02-20
modified: 2023/02/13
tags:
    - attack.command-and-control
    - attack.t1090.003
    - attack.s0183
    - cve.2021-1234
    - detection.threat-hunting
logsource:
    category: process_creation
    product: windows
    definition: 'Requirements: Sysmon'
detection:
    selection:
        Image|endswith:
            - '\tor.exe'
            - '\Tor Browser\Browser\firefox.exe'
    condition: selection
falsepositives:
    - Unknown
level: high
"#;

    #[test]
    fn rules_split_attack_tags_from_labels_and_keep_the_whole_rule_as_query() {
        let parsed = parse("rules/windows/process_creation/proc_creation_win_browsers_tor_execution.yml", TOR);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let rule = &parsed.rules[0];
        assert_eq!(rule.native_id, "62f7c9bf-9135-49b2-8aeb-1e54a6ecc13c");
        assert_eq!(rule.title, "Tor Client/Browser Execution");
        assert_eq!((rule.vendor.as_str(), rule.product.as_str()), ("Sigma", "windows / process_creation"));
        assert_eq!(rule.language, Some(Language::Sigma));
        assert_eq!(rule.query, TOR.trim());
        assert_eq!(rule.native_rule, TOR);
        assert_eq!(rule.attack_tags, vec!["command-and-control", "t1090.003"]);
        assert_eq!(
            rule.tags,
            vec![
                "attack.s0183",
                "cve.2021-1234",
                "detection.threat-hunting",
                "Related: 1ec2b1d3-4a5c-4b8e-8f9a-2f7e6f0b1c2d (similar)",
                "Related: 0bcd",
            ]
        );
        assert_eq!(rule.data_sources, vec!["process_creation"]);
        assert_eq!(rule.platforms, vec!["windows"]);
        assert_eq!(rule.implementation.as_deref(), Some("Requirements: Sysmon"));
        assert_eq!((rule.severity, rule.severity_native.as_deref()), (Some(Severity::High), Some("high")));
        assert_eq!((rule.status, rule.status_native.as_deref()), (Some(Status::Experimental), Some("test")));
        assert_eq!(rule.rule_type, Some(RuleType::Alert));
        assert_eq!((rule.created.as_deref(), rule.updated.as_deref()), (Some("2022-02-20"), Some("2023-02-13")));
        assert_eq!(rule.author.as_deref(), Some("frack113"));
        assert_eq!(rule.false_positives, vec!["Unknown"]);
    }

    #[test]
    fn the_query_logic_is_the_log_source_and_detection_blocks() {
        let logic = Sigma.query_logic(TOR.trim());
        assert!(logic.starts_with("logsource:\n    category: process_creation"), "{logic}");
        assert!(logic.ends_with("condition: selection"), "{logic}");
        assert!(!logic.contains("author") && !logic.contains("falsepositives"), "{logic}");
        assert_eq!(Sigma.query_logic("title: no logic"), "title: no logic");
    }

    #[test]
    fn status_follows_sigma_words_and_the_deprecated_folder() {
        let with_status = |status: &str, path: &str| {
            let text = TOR.replace("status: test", &format!("status: {status}"));
            let rule = &parse(path, &text).rules[0];
            (rule.status, rule.status_native.clone())
        };
        assert_eq!(with_status("stable", "rules/x.yml").0, Some(Status::Production));
        assert_eq!(with_status("experimental", "rules/x.yml").0, Some(Status::Experimental));
        assert_eq!(with_status("unsupported", "rules/x.yml").0, Some(Status::Deprecated));
        assert_eq!(with_status("deprecated", "rules/x.yml").0, Some(Status::Deprecated));
        let moved = with_status("stable", "deprecated/windows/x.yml");
        assert_eq!(moved, (Some(Status::Deprecated), Some("stable".to_string())));
    }

    #[test]
    fn threat_hunting_rules_are_hunts_and_log_sources_read_in_order() {
        let rule = &parse("rules-threat-hunting/windows/x.yml", TOR).rules[0];
        assert_eq!(rule.rule_type, Some(RuleType::Hunt));
        let cloud =
            "title: t\nlogsource:\n  service: cloudtrail\n  product: aws\ndetection:\n  s: {a: 1}\n  condition: s\n";
        let rule = &parse("rules/cloud/x.yml", cloud).rules[0];
        assert_eq!(rule.product, "aws / cloudtrail");
        assert_eq!(
            (rule.data_sources.clone(), rule.platforms.clone()),
            (vec!["cloudtrail".into()], vec!["aws".into()])
        );
        let bare = "title: t\ndetection:\n  s: {a: 1}\n  condition: s\n";
        assert_eq!(parse("rules/x.yml", bare).rules[0].product, "any log source");
    }

    #[test]
    fn broken_files_are_reported_not_panicked_on() {
        let message = |text: &str| parse("rules/x.yml", text).errors[0].message.clone();
        assert_eq!(message("detection:\n  condition: x\n"), "missing `title`");
        assert_eq!(message("title: t\n"), "missing `detection`");
        assert_eq!(message("title: t\ndetection:\n  selection: {a: 1}\n"), "`detection` has no `condition`");
        assert!(message("title: t\ndetection: just text\n").starts_with("invalid YAML"));
        assert!(message("title: [t\n").starts_with("invalid YAML"));
        for end in 0..TOR.len() {
            let _ = parse("rules/t.yml", &TOR[..end]);
        }
    }
}

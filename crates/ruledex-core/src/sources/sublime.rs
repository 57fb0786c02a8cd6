//! Sublime Security email rules (`detection-rules/**/*.yml`, YAML + MQL).
//!
//! Sublime labels its rules in its own vocabulary (attack types, tactics and techniques,
//! detection methods), not in ATT&CK. The labels are kept as tags. [`ATTACK_MAPPING`] translates
//! the ones that have an ATT&CK equivalent, and the result goes only to
//! [`Rule::inferred_attack_tags`], so it is shown as mapped by ruledex and never passed off as
//! Sublime's own mapping. docs/sublime-attack-mapping.md gives the reasoning for each row, and a
//! test keeps the two in step.

use serde::Deserialize;

use super::util::{OneOrMany, Scalar, non_empty, required, yaml};
use super::{Adapter, ParseError, Parsed, SourceFile};
use crate::model::{Format, Language, Rule, RuleType, Severity, Status};

/// Sublime attack-type and tactic/technique labels, and the ATT&CK techniques each one is
/// evidence of. Labels with no honest ATT&CK equivalent map to nothing. Detection-method labels
/// ("URL analysis") describe Sublime's analysis, not the adversary, so they are not listed.
const ATTACK_MAPPING: &[(&str, &[&str])] = &[
    ("BEC/Fraud", &["T1657"]),
    ("Callback Phishing", &["T1566.004"]),
    ("Credential Phishing", &["T1566", "T1598"]),
    ("Encryption", &["T1027.013"]),
    ("Evasion", &[]),
    ("Exploit", &["T1203"]),
    ("Extortion", &["T1657"]),
    ("Free email provider", &["T1585.002"]),
    ("Free file host", &["T1608.005"]),
    ("Free subdomain host", &["T1608.005"]),
    ("HTML injection", &[]),
    ("HTML smuggling", &["T1027.006"]),
    ("ICS Phishing", &["T1566"]),
    ("IPFS", &["T1608.005"]),
    ("ISO", &["T1553.005", "T1204.002"]),
    ("Image as content", &[]),
    ("Impersonation: Brand", &["T1656"]),
    ("Impersonation: Domain", &["T1656"]),
    ("Impersonation: Email address", &["T1656"]),
    ("Impersonation: Employee", &["T1656"]),
    ("Impersonation: VIP", &["T1656"]),
    ("LNK", &["T1204.002"]),
    ("Lookalike domain", &["T1583.001"]),
    ("Macros", &["T1204.002"]),
    ("Malware/Ransomware", &["T1566"]),
    ("OneNote", &["T1204.002"]),
    ("Open redirect", &["T1608.005"]),
    ("Out of band pivot", &[]),
    ("PDF", &[]),
    ("Punycode", &["T1583.001"]),
    ("QR code", &["T1566.002"]),
    ("Reconnaissance", &["T1589.002"]),
    ("Scripting", &["T1059"]),
    ("Service abuse", &["T1583.006"]),
    ("Social engineering", &[]),
    ("Spam", &[]),
    ("Spoofing", &["T1672"]),
];

pub struct Sublime;

impl Adapter for Sublime {
    fn patterns(&self) -> &'static [&'static str] {
        &["detection-rules/**/*.yml", "detection-rules/**/*.yaml"]
    }

    fn parse(&self, file: SourceFile<'_>) -> Parsed {
        yaml::<RawRule>(file.text).and_then(|raw| raw.into_rule(file)).into()
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawRule {
    id: Option<Scalar>,
    name: Option<String>,
    description: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    severity: Option<String>,
    source: Option<String>,
    tags: OneOrMany,
    attack_types: OneOrMany,
    tactics_and_techniques: OneOrMany,
    detection_methods: OneOrMany,
    references: OneOrMany,
    false_positives: OneOrMany,
    authors: Option<Vec<RawAuthor>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawAuthor {
    name: Option<String>,
    twitter: Option<String>,
    linkedin: Option<String>,
}

impl RawRule {
    fn into_rule(self, file: SourceFile<'_>) -> Result<Rule, ParseError> {
        let title = required(self.name, "name")?;
        let source = required(self.source, "source")?;
        let inferred_attack_tags =
            inferred_techniques(self.attack_types.0.iter().chain(&self.tactics_and_techniques.0));
        let mut tags = self.tags.0;
        tags.extend(self.attack_types.0.iter().map(|l| format!("Attack Type: {l}")));
        tags.extend(self.tactics_and_techniques.0.iter().map(|l| format!("Tactic/Technique: {l}")));
        tags.extend(self.detection_methods.0.iter().map(|l| format!("Detection Method: {l}")));
        let authors: Vec<String> = self.authors.iter().flatten().filter_map(RawAuthor::display).collect();
        let severity_native = non_empty(self.severity);
        Ok(Rule {
            native_id: self.id.map(|s| s.0).unwrap_or_default(),
            title,
            description: self.description.unwrap_or_default().trim().to_string(),
            vendor: Format::Sublime.vendor().into(),
            product: Format::Sublime.product().into(),
            language: Some(Language::Mql),
            query: source,
            native_rule: file.text.to_string(),
            rule_type: self.kind.as_deref().and_then(rule_type),
            rule_type_native: non_empty(self.kind),
            severity: severity_native.as_deref().and_then(Severity::from_native),
            severity_native,
            // The repository holds the rules Sublime ships; retired rules are removed from it.
            status: Some(Status::Production),
            inferred_attack_tags,
            author: (!authors.is_empty()).then(|| authors.join(", ")),
            references: self.references.0,
            false_positives: self.false_positives.0,
            tags,
            path: file.path.to_string(),
            ..Rule::default()
        })
    }
}

impl RawAuthor {
    /// The name when given, else the handle the author chose to be credited by.
    fn display(&self) -> Option<String> {
        non_empty(self.name.clone())
            .or_else(|| non_empty(self.twitter.clone()).map(|t| format!("@{}", t.trim_start_matches('@'))))
            .or_else(|| non_empty(self.linkedin.clone()))
    }
}

/// The ATT&CK techniques the labels map to, each once, in label order.
fn inferred_techniques<'a>(labels: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut techniques: Vec<String> = Vec::new();
    for label in labels {
        let row = ATTACK_MAPPING.iter().find(|(known, _)| known.eq_ignore_ascii_case(label.trim()));
        for id in row.map_or(&[][..], |(_, ids)| ids) {
            if !techniques.iter().any(|t| t == id) {
                techniques.push(id.to_string());
            }
        }
    }
    techniques
}

fn rule_type(native: &str) -> Option<RuleType> {
    native.trim().eq_ignore_ascii_case("rule").then_some(RuleType::Alert)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TechniqueId;

    fn parse(path: &str, text: &str) -> Parsed {
        Sublime.parse(SourceFile { path, text })
    }

    const BRAND: &str = r#"name: "Brand impersonation: DocuSign"
description: |
  Detects DocuSign lures sent from outside DocuSign.
type: "rule"
severity: "high"
source: |
  type.inbound
  and strings.ilike(sender.display_name, '*docusign*')
  and sender.email.domain.root_domain != 'docusign.net'
tags:
 - "Attack surface reduction"
attack_types:
  - "Credential Phishing"
tactics_and_techniques:
  - "Impersonation: Brand"
  - "Social engineering"
  - "Unlisted label"
detection_methods:
  - "Header analysis"
  - "Sender analysis"
references:
  - "https://example.com/docusign"
false_positives:
  - "Resellers"
authors:
  - twitter: "ajpc500"
  - name: "Kyle Parrish"
    twitter: "Kyle_Parrish_"
id: "d00893ba-a65a-5b04-88d1-f35512eae291"
"#;

    #[test]
    fn rules_keep_mql_labels_and_map_labels_to_attack_as_inferred_only() {
        let parsed = parse("detection-rules/impersonation_docusign.yml", BRAND);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let rule = &parsed.rules[0];
        assert_eq!(rule.native_id, "d00893ba-a65a-5b04-88d1-f35512eae291");
        assert_eq!(rule.title, "Brand impersonation: DocuSign");
        assert_eq!(rule.language, Some(Language::Mql));
        assert!(rule.query.starts_with("type.inbound\n") && rule.query.ends_with("!= 'docusign.net'"));
        assert!(rule.attack_tags.is_empty(), "Sublime labels are not ATT&CK tags");
        assert_eq!(rule.inferred_attack_tags, vec!["T1566", "T1598", "T1656"]);
        assert_eq!(
            rule.tags,
            vec![
                "Attack surface reduction",
                "Attack Type: Credential Phishing",
                "Tactic/Technique: Impersonation: Brand",
                "Tactic/Technique: Social engineering",
                "Tactic/Technique: Unlisted label",
                "Detection Method: Header analysis",
                "Detection Method: Sender analysis",
            ]
        );
        assert_eq!((rule.severity, rule.severity_native.as_deref()), (Some(Severity::High), Some("high")));
        assert_eq!((rule.rule_type, rule.rule_type_native.as_deref()), (Some(RuleType::Alert), Some("rule")));
        assert_eq!(rule.author.as_deref(), Some("@ajpc500, Kyle Parrish"));
        assert_eq!(rule.references, vec!["https://example.com/docusign"]);
        assert_eq!(rule.false_positives, vec!["Resellers"]);
        assert_eq!(rule.status, Some(Status::Production));
        assert_eq!(rule.native_rule, BRAND);
    }

    #[test]
    fn techniques_named_by_several_labels_are_listed_once() {
        let labels: Vec<String> =
            ["Impersonation: VIP", "impersonation: employee", "BEC/Fraud", "Spam"].map(String::from).to_vec();
        assert_eq!(inferred_techniques(labels.iter()), vec!["T1656", "T1657"]);
    }

    #[test]
    fn the_mapping_table_is_well_formed() {
        for (i, (label, ids)) in ATTACK_MAPPING.iter().enumerate() {
            assert!(ids.iter().all(|id| id.parse::<TechniqueId>().is_ok()), "{label}: {ids:?}");
            assert!(!ATTACK_MAPPING[..i].iter().any(|(l, _)| l.eq_ignore_ascii_case(label)), "{label} twice");
        }
    }

    /// docs/sublime-attack-mapping.md explains every row; its table must say what the code does.
    #[test]
    fn the_documented_table_matches_the_code() {
        let doc = include_str!("../../../../docs/sublime-attack-mapping.md");
        let documented: Vec<(String, Vec<String>)> = doc
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line.strip_prefix('|')?.split('|').map(str::trim).collect();
                let label = cells.first()?.strip_prefix('`')?.strip_suffix('`')?;
                let ids = cells
                    .get(1)?
                    .split([' ', ','])
                    .filter(|w| w.parse::<TechniqueId>().is_ok())
                    .map(String::from)
                    .collect();
                Some((label.to_string(), ids))
            })
            .collect();
        let in_code: Vec<(String, Vec<String>)> = ATTACK_MAPPING
            .iter()
            .map(|(label, ids)| (label.to_string(), ids.iter().map(|id| id.to_string()).collect()))
            .collect();
        assert_eq!(documented, in_code);
    }

    #[test]
    fn broken_files_are_reported_not_panicked_on() {
        assert_eq!(parse("detection-rules/x.yml", "source: type.inbound\n").errors[0].message, "missing `name`");
        assert_eq!(parse("detection-rules/x.yml", "name: x\n").errors[0].message, "missing `source`");
        assert!(parse("detection-rules/x.yml", "name: [x\n").errors[0].message.starts_with("invalid YAML"));
        let bad_authors = "name: x\nsource: type.inbound\nauthors: just a string\n";
        assert!(parse("detection-rules/x.yml", bad_authors).errors[0].message.starts_with("invalid YAML"));
        let empty_lists = "name: x\nsource: type.inbound\nattack_types: ~\nauthors: ~\n";
        let rule = &parse("detection-rules/x.yml", empty_lists).rules[0];
        assert!(rule.inferred_attack_tags.is_empty() && rule.author.is_none());
        for end in 0..BRAND.len() {
            let _ = parse("detection-rules/t.yml", &BRAND[..end]);
        }
    }
}

//! Elastic detection-rules: detection rules and building blocks (`rules/`,
//! `rules_building_block/`, TOML with `[metadata]` and `[rule]`) and hunting queries
//! (`hunting/`, TOML with `[hunt]`).

use serde::Deserialize;

use super::util::{ElasticThreat, OneOrMany, iso_date, non_empty, toml};
use super::{Adapter, ParseError, Parsed, SourceFile};
use crate::model::{Dependency, DependencyKind, Format, Language, Query, Rule, RuleType, Severity, Status};

pub struct Elastic;

impl Adapter for Elastic {
    fn patterns(&self) -> &'static [&'static str] {
        &["rules/**/*.toml", "rules_building_block/**/*.toml", "hunting/**/*.toml"]
    }

    fn parse(&self, file: SourceFile<'_>) -> Parsed {
        let parsed = toml::<RawFile>(file.text).and_then(|raw| match raw {
            RawFile { rule: Some(rule), metadata, .. } => rule.into_rule(metadata.unwrap_or_default(), file),
            RawFile { hunt: Some(hunt), .. } => hunt.into_rule(file),
            _ => Err(ParseError::new("neither a [rule] nor a [hunt] table")),
        });
        parsed.into()
    }
}

#[derive(Deserialize)]
struct RawFile {
    metadata: Option<RawMetadata>,
    rule: Option<RawRule>,
    hunt: Option<RawHunt>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawMetadata {
    creation_date: Option<String>,
    updated_date: Option<String>,
    maturity: Option<String>,
    integration: OneOrMany,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawRule {
    rule_id: Option<String>,
    name: Option<String>,
    description: Option<String>,
    author: OneOrMany,
    license: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    language: Option<String>,
    query: Option<String>,
    index: Vec<String>,
    machine_learning_job_id: OneOrMany,
    building_block_type: Option<String>,
    severity: Option<String>,
    risk_score: Option<f64>,
    references: Vec<String>,
    false_positives: Vec<String>,
    tags: Vec<String>,
    threat: Vec<ElasticThreat>,
    note: Option<String>,
    setup: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawHunt {
    uuid: Option<String>,
    name: Option<String>,
    description: Option<String>,
    author: OneOrMany,
    license: Option<String>,
    language: OneOrMany,
    query: OneOrMany,
    integration: OneOrMany,
    mitre: OneOrMany,
    notes: Vec<String>,
    references: Vec<String>,
}

impl RawRule {
    fn into_rule(self, metadata: RawMetadata, file: SourceFile<'_>) -> Result<Rule, ParseError> {
        let title = self.name.filter(|n| !n.trim().is_empty()).ok_or_else(|| ParseError::new("missing rule.name"))?;
        let native_type = self.kind.unwrap_or_default();
        let building_block = self.building_block_type.is_some();
        let language = rule_language(&native_type, self.language.as_deref())?;
        let query = match language {
            Language::MachineLearning => self.machine_learning_job_id.0.join("\n"),
            _ => self.query.unwrap_or_default().trim().to_string(),
        };
        if query.is_empty() {
            return Err(ParseError::new("rule has neither a query nor a machine_learning_job_id"));
        }
        let severity_native = self.severity;
        Ok(Rule {
            native_id: self.rule_id.unwrap_or_default(),
            title,
            description: self.description.unwrap_or_default().trim().to_string(),
            vendor: Format::Elastic.vendor().into(),
            product: Format::Elastic.product().into(),
            language: Some(language),
            query,
            native_rule: file.text.to_string(),
            rule_type: if building_block { Some(RuleType::BuildingBlock) } else { rule_type(&native_type) },
            rule_type_native: Some(if building_block {
                format!("{native_type} (building block)")
            } else {
                native_type
            }),
            severity: severity_native.as_deref().and_then(Severity::from_native),
            severity_native,
            risk_score: self.risk_score,
            status: Some(status(metadata.maturity.as_deref(), file.path)),
            status_native: metadata.maturity,
            attack_tags: ElasticThreat::attack_tags(&self.threat),
            data_sources: metadata.integration.0,
            platforms: prefixed(&self.tags, "OS: "),
            author: Some(self.author.0.join(", ")).filter(|a| !a.is_empty()),
            created: metadata.creation_date.as_deref().and_then(iso_date),
            updated: metadata.updated_date.as_deref().and_then(iso_date),
            references: self.references,
            false_positives: self.false_positives,
            license: self.license,
            tags: self.tags,
            requires: self.index.into_iter().map(|name| Dependency { kind: DependencyKind::Index, name }).collect(),
            implementation: non_empty(self.setup),
            investigation: non_empty(self.note),
            path: file.path.to_string(),
            ..Rule::default()
        })
    }
}

impl RawHunt {
    fn into_rule(self, file: SourceFile<'_>) -> Result<Rule, ParseError> {
        let title = self.name.filter(|n| !n.trim().is_empty()).ok_or_else(|| ParseError::new("missing hunt.name"))?;
        let queries: Vec<String> =
            self.query.0.iter().map(|q| q.trim().to_string()).filter(|q| !q.is_empty()).collect();
        if queries.is_empty() {
            return Err(ParseError::new("hunt has no query"));
        }
        let languages = self.language.0.iter().map(|native| hunt_language(native)).collect::<Result<Vec<_>, _>>()?;
        let Some(&listed_first) = languages.first() else { return Err(ParseError::new("hunt has no language")) };
        let each: Vec<Query> = queries
            .iter()
            .map(|text| Query { language: Some(query_language(text, &languages)), text: text.clone() })
            .collect();
        let notes: Vec<String> = self.notes.iter().map(|n| format!("- {}", n.trim())).collect();
        Ok(Rule {
            native_id: self.uuid.unwrap_or_default(),
            title,
            description: self.description.unwrap_or_default().trim().to_string(),
            vendor: Format::Elastic.vendor().into(),
            product: Format::Elastic.product().into(),
            language: each.first().and_then(|q| q.language).or(Some(listed_first)),
            // Hunts ship several alternative queries, each run on its own; `query` keeps them
            // together, in order, for reading and search.
            query: queries.join("\n\n"),
            queries: if each.len() > 1 { each } else { vec![] },
            native_rule: file.text.to_string(),
            rule_type: Some(RuleType::Hunt),
            rule_type_native: Some("hunt".into()),
            status: Some(Status::Production),
            attack_tags: self.mitre.0,
            data_sources: self.integration.0,
            author: Some(self.author.0.join(", ")).filter(|a| !a.is_empty()),
            references: self.references,
            license: self.license,
            investigation: (!notes.is_empty()).then(|| notes.join("\n")),
            path: file.path.to_string(),
            ..Rule::default()
        })
    }
}

fn rule_language(native_type: &str, language: Option<&str>) -> Result<Language, ParseError> {
    if native_type == "machine_learning" {
        return Ok(Language::MachineLearning);
    }
    match language.map(str::to_ascii_lowercase).as_deref() {
        Some("kuery") => Ok(Language::Kql),
        Some("eql") => Ok(Language::Eql),
        Some("esql") => Ok(Language::Esql),
        Some("lucene") => Ok(Language::Lucene),
        Some(other) => Err(ParseError::new(format!("unknown rule.language {other:?}"))),
        None => Err(ParseError::new("missing rule.language")),
    }
}

fn hunt_language(native: &str) -> Result<Language, ParseError> {
    match native.to_ascii_uppercase().as_str() {
        "ES|QL" | "ESQL" => Ok(Language::Esql),
        "EQL" => Ok(Language::Eql),
        "KQL" | "KUERY" => Ok(Language::Kql),
        "SQL" | "OSQUERY" => Ok(Language::Sql),
        _ => Err(ParseError::new(format!("unknown hunt language {native:?}"))),
    }
}

/// The language of one of a hunt's queries. A hunt lists its languages, not which query is in
/// which: ES|QL starts with a source command (`from`...), osquery SQL with `SELECT` or `WITH`.
/// Lines before the first keyword (upstream sometimes leaves a `sql` fence label) are skipped;
/// a query neither starts like is in the first language listed.
fn query_language(text: &str, listed: &[Language]) -> Language {
    let keyword = text.split_whitespace().map(str::to_ascii_lowercase).find_map(|word| match word.as_str() {
        "from" | "row" | "show" | "metrics" | "ts" => Some(Language::Esql),
        "select" | "with" => Some(Language::Sql),
        _ => None,
    });
    match keyword {
        Some(language) if listed.contains(&language) => language,
        _ => listed[0],
    }
}

fn rule_type(native: &str) -> Option<RuleType> {
    match native {
        "query" | "eql" | "esql" => Some(RuleType::Alert),
        "threshold" => Some(RuleType::Threshold),
        "new_terms" => Some(RuleType::NewTerms),
        "machine_learning" => Some(RuleType::MachineLearning),
        "threat_match" => Some(RuleType::IndicatorMatch),
        _ => None,
    }
}

fn status(maturity: Option<&str>, path: &str) -> Status {
    match maturity {
        _ if path.split('/').any(|c| c == "_deprecated") => Status::Deprecated,
        Some("deprecated") => Status::Deprecated,
        Some("development" | "experimental") => Status::Experimental,
        _ => Status::Production,
    }
}

/// The values of `Key: value` tags with the given prefix ("OS: Windows" -> "Windows").
fn prefixed(tags: &[String], prefix: &str) -> Vec<String> {
    tags.iter().filter_map(|t| t.strip_prefix(prefix)).map(|t| t.trim().to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(path: &str, text: &str) -> Parsed {
        Elastic.parse(SourceFile { path, text })
    }

    const EQL_RULE: &str = r###"[metadata]
creation_date = "2025/11/17"
integration = ["endpoint", "fortinet_fortigate"]
maturity = "production"
updated_date = "2026/04/10"

[rule]
author = ["Elastic"]
description = "Correlates SOCKS events."
language = "eql"
license = "Elastic License v2"
name = "FortiGate SOCKS Traffic from an Unusual Process"
risk_score = 47
rule_id = "6926b708-7964-425f-bed8-6e006379df08"
severity = "medium"
tags = ["OS: Linux", "OS: Windows", "Tactic: Command and Control"]
type = "eql"
index = ["logs-endpoint.events.network-*", "logs-fortinet_fortigate.log-*"]
query = '''
sequence by source.port with maxspan=1m
 [network where network.application in ("SOCKS4", "SOCKS5")]
'''
note = "## Triage and analysis"

[[rule.threat]]
framework = "MITRE ATT&CK"

[[rule.threat.technique]]
id = "T1090"
name = "Proxy"

[[rule.threat.technique]]
id = "T1055"
name = "Process Injection"

[[rule.threat.technique.subtechnique]]
id = "T1055.012"
name = "Process Hollowing"

[rule.threat.tactic]
id = "TA0011"
name = "Command and Control"
"###;

    #[test]
    fn eql_rules_keep_query_threat_mapping_and_metadata() {
        let parsed = parse("rules/cross-platform/socks.toml", EQL_RULE);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let rule = &parsed.rules[0];
        assert_eq!(rule.language, Some(Language::Eql));
        assert!(rule.query.starts_with("sequence by source.port"));
        assert_eq!(rule.attack_tags, vec!["TA0011", "T1090", "T1055.012"]);
        assert_eq!(rule.data_sources, vec!["endpoint", "fortinet_fortigate"]);
        assert_eq!(rule.platforms, vec!["Linux", "Windows"]);
        let indices: Vec<&str> = rule.requires.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(indices, vec!["logs-endpoint.events.network-*", "logs-fortinet_fortigate.log-*"]);
        assert_eq!(rule.severity, Some(Severity::Medium));
        assert_eq!(rule.risk_score, Some(47.0));
        assert_eq!(rule.created.as_deref(), Some("2025-11-17"));
        assert_eq!(rule.updated.as_deref(), Some("2026-04-10"));
        assert_eq!(rule.status, Some(Status::Production));
        assert_eq!(rule.rule_type, Some(RuleType::Alert));
        assert_eq!(rule.license.as_deref(), Some("Elastic License v2"));
        assert_eq!(rule.investigation.as_deref(), Some("## Triage and analysis"));
    }

    #[test]
    fn every_rule_language_and_type_is_recognized() {
        let cases = [
            ("query", "kuery", Language::Kql, RuleType::Alert),
            ("esql", "esql", Language::Esql, RuleType::Alert),
            ("query", "lucene", Language::Lucene, RuleType::Alert),
            ("threshold", "kuery", Language::Kql, RuleType::Threshold),
            ("new_terms", "kuery", Language::Kql, RuleType::NewTerms),
            ("threat_match", "kuery", Language::Kql, RuleType::IndicatorMatch),
        ];
        for (kind, language, want_language, want_type) in cases {
            let text = format!("[rule]\nname = \"r\"\ntype = \"{kind}\"\nlanguage = \"{language}\"\nquery = \"x\"\n");
            let rule = &parse("rules/r.toml", &text).rules[0];
            assert_eq!((rule.language, rule.rule_type), (Some(want_language), Some(want_type)), "{kind}/{language}");
        }
        let ml = "[rule]\nname = \"ml\"\ntype = \"machine_learning\"\nmachine_learning_job_id = [\"v3_a\", \"v3_b\"]\n";
        let rule = &parse("rules/ml.toml", ml).rules[0];
        assert_eq!(rule.language, Some(Language::MachineLearning));
        assert_eq!(rule.query, "v3_a\nv3_b");
        let bb = "[rule]\nname = \"b\"\ntype = \"eql\"\nlanguage = \"eql\"\nquery = \"x\"\nbuilding_block_type = \"default\"\n";
        let rule = &parse("rules_building_block/b.toml", bb).rules[0];
        assert_eq!(rule.rule_type, Some(RuleType::BuildingBlock));
        assert_eq!(rule.rule_type_native.as_deref(), Some("eql (building block)"));
    }

    #[test]
    fn hunting_queries_are_hunts_with_all_their_queries() {
        let text = r#"[hunt]
author = "Elastic"
description = "Finds DescribeInstances bursts."
integration = ["aws.cloudtrail"]
uuid = "e6e78858-6482-11ef-93bd-f661ea17fbcc"
name = "High Frequency of EC2 Multi-Region DescribeInstances API Calls"
language = ["ES|QL", "SQL"]
license = "Elastic License v2"
notes = ["Check the ARN"]
mitre = ['T1580']
query = ['from logs-aws.cloudtrail-* | limit 1', 'SELECT 1']
"#;
        let parsed = parse("hunting/aws/queries/x.toml", text);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let rule = &parsed.rules[0];
        assert_eq!(rule.rule_type, Some(RuleType::Hunt));
        assert_eq!(rule.language, Some(Language::Esql));
        assert_eq!(rule.query, "from logs-aws.cloudtrail-* | limit 1\n\nSELECT 1");
        // Issue 23: each query is run on its own, in its own language.
        let esql = Query { language: Some(Language::Esql), text: "from logs-aws.cloudtrail-* | limit 1".into() };
        let sql = Query { language: Some(Language::Sql), text: "SELECT 1".into() };
        assert_eq!(rule.queries, vec![esql, sql.clone()]);
        assert_eq!(rule.runnable_queries().len(), 2);
        let one =
            parse("hunting/x.toml", &text.replace("query = ['from logs-aws.cloudtrail-* | limit 1', ", "query = ["));
        assert_eq!(one.rules[0].queries, vec![], "one query is the rule's query");
        assert_eq!(one.rules[0].runnable_queries(), vec![sql]);
        let listed = [Language::Esql, Language::Sql];
        assert_eq!(query_language("sql\nfrom logs-* | limit 1", &listed), Language::Esql);
        assert_eq!(query_language("-- note\nWITH x AS (SELECT 1) SELECT * FROM x", &listed), Language::Sql);
        assert_eq!(query_language("process where true", &[Language::Eql]), Language::Eql);
        assert_eq!(rule.attack_tags, vec!["T1580"]);
        assert_eq!(rule.investigation.as_deref(), Some("- Check the ARN"));
    }

    #[test]
    fn deprecated_maturity_or_folder_means_deprecated() {
        let text = "[metadata]\nmaturity = \"deprecated\"\n[rule]\nname = \"r\"\ntype = \"query\"\nlanguage = \"kuery\"\nquery = \"x\"\n";
        assert_eq!(parse("rules/x.toml", text).rules[0].status, Some(Status::Deprecated));
        let text = text.replace("deprecated", "production");
        assert_eq!(parse("rules/_deprecated/x.toml", &text).rules[0].status, Some(Status::Deprecated));
    }

    #[test]
    fn broken_files_are_reported_with_a_line() {
        let error = &parse("rules/x.toml", "[rule]\nname = \"unterminated\n").errors[0];
        assert!(error.message.starts_with("invalid TOML"), "{error}");
        assert_eq!(error.line, Some(2));
        assert_eq!(parse("rules/x.toml", "[other]\n").errors[0].message, "neither a [rule] nor a [hunt] table");
        assert_eq!(parse("rules/x.toml", "[rule]\nname = \"r\"\n").errors[0].message, "missing rule.language");
        for end in 0..EQL_RULE.len() {
            let _ = parse("rules/t.toml", &EQL_RULE[..end]);
        }
    }
}

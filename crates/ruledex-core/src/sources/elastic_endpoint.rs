//! Elastic Defend's endpoint behavior rules (`behavior/rules/**` of elastic/protections-artifacts,
//! TOML + EQL): the rules Elastic's agent runs on the host to stop an attack as it happens, apart
//! from Elastic Security's SIEM rules.
//!
//! A file holds `[rule]` (name, description, the operating systems it runs on, its version, the
//! EQL query and the oldest agent that runs it), the response actions the agent takes when the
//! rule matches (`[[actions]]`; `[[optional_actions]]` run only where the policy turns them on),
//! ATT&CK as `[[threat]]` blocks, and `[internal]`. The query is kept exactly as shipped.

use serde::Deserialize;

use super::util::{ElasticThreat, OneOrMany, non_empty, required, toml};
use super::{Adapter, ParseError, Parsed, SourceFile};
use crate::model::{Format, Language, ResponseAction, Rule, RuleType, Status};

pub struct ElasticEndpoint;

impl Adapter for ElasticEndpoint {
    fn patterns(&self) -> &'static [&'static str] {
        &["behavior/rules/**/*.toml"]
    }

    fn parse(&self, file: SourceFile<'_>) -> Parsed {
        toml::<RawFile>(file.text).and_then(|raw| raw.into_rule(file)).into()
    }
}

#[derive(Deserialize)]
struct RawFile {
    rule: Option<RawRule>,
    #[serde(default)]
    actions: Vec<RawAction>,
    #[serde(default)]
    optional_actions: Vec<RawAction>,
    #[serde(default)]
    threat: Vec<ElasticThreat>,
    #[serde(default)]
    internal: RawInternal,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawRule {
    id: Option<String>,
    name: Option<String>,
    description: Option<String>,
    license: Option<String>,
    os_list: OneOrMany,
    reference: OneOrMany,
    version: Option<String>,
    query: Option<String>,
    min_endpoint_version: Option<String>,
    max_endpoint_version: Option<String>,
    reputation: bool,
    /// Some files write the actions inside `[rule]` (`actions = []`), most as `[[actions]]`.
    actions: Vec<RawAction>,
    optional_actions: Vec<RawAction>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawInternal {
    min_endpoint_version: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawAction {
    action: String,
    field: String,
    state: u32,
    tree: bool,
}

impl RawFile {
    fn into_rule(self, file: SourceFile<'_>) -> Result<Rule, ParseError> {
        let rule = self.rule.ok_or_else(|| ParseError::new("no [rule] table"))?;
        let title = required(rule.name, "rule.name")?;
        // Required but kept as shipped, blank lines and all: it is what the agent runs.
        let query =
            rule.query.filter(|q| !q.trim().is_empty()).ok_or_else(|| ParseError::new("missing `rule.query`"))?;
        let response_actions = responses(rule.actions.into_iter().chain(self.actions), false)
            .chain(responses(rule.optional_actions.into_iter().chain(self.optional_actions), true))
            .collect::<Vec<_>>();
        let min_agent_version = non_empty(rule.min_endpoint_version).or(non_empty(self.internal.min_endpoint_version));
        let max_agent_version = non_empty(rule.max_endpoint_version);
        let implementation =
            implementation(min_agent_version.as_deref(), max_agent_version.as_deref(), rule.reputation);
        Ok(Rule {
            native_id: rule.id.unwrap_or_default(),
            title,
            description: rule.description.unwrap_or_default().trim().to_string(),
            vendor: Format::ElasticEndpoint.vendor().into(),
            product: Format::ElasticEndpoint.product().into(),
            language: Some(Language::Eql),
            query,
            native_rule: file.text.to_string(),
            rule_type: Some(RuleType::Endpoint),
            rule_type_native: Some("behavior".into()),
            // The repository holds the rules Elastic ships in its production artifacts.
            status: Some(Status::Production),
            attack_tags: ElasticThreat::attack_tags(&self.threat),
            // The events the agent itself records, which Elastic's integration calls `endpoint`.
            data_sources: vec!["endpoint".into()],
            platforms: rule.os_list.0.iter().map(|os| operating_system(os)).collect(),
            references: rule.reference.0,
            license: non_empty(rule.license),
            version: non_empty(rule.version),
            min_agent_version,
            response_actions,
            implementation: Some(implementation),
            path: file.path.to_string(),
            ..Rule::default()
        })
    }
}

fn responses(actions: impl Iterator<Item = RawAction>, optional: bool) -> impl Iterator<Item = ResponseAction> {
    actions.filter(|a| !a.action.trim().is_empty()).map(move |a| ResponseAction {
        action: a.action.trim().to_string(),
        field: a.field.trim().to_string(),
        event: a.state,
        tree: a.tree,
        optional,
    })
}

/// Where and from which agent version the rule runs, for whoever deploys it.
fn implementation(min: Option<&str>, max: Option<&str>, reputation: bool) -> String {
    let versions = match (min, max) {
        (Some(min), Some(max)) => format!(", agent {min} to {max}"),
        (Some(min), None) => format!(", agent {min} or later"),
        (None, Some(max)) => format!(", agent up to {max}"),
        (None, None) => String::new(),
    };
    let mut lines = vec![format!("Runs on the host: Elastic Defend's malicious behavior protection{versions}.")];
    if reputation {
        lines.push("Uses reputation lookups (`reputation = true`).".into());
    }
    lines.join("\n")
}

/// `windows` -> `Windows`, as Elastic's SIEM rules name operating systems (`OS: macOS`).
fn operating_system(os: &str) -> String {
    match os.trim().to_ascii_lowercase().as_str() {
        "windows" => "Windows".into(),
        "macos" => "macOS".into(),
        "linux" => "Linux".into(),
        _ => os.trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Parsed {
        ElasticEndpoint.parse(SourceFile { path: "behavior/rules/windows/x.toml", text })
    }

    const SEQUENCE: &str = r#"[rule]
description = """
Identifies a process running from a mounted ISO creating a scheduled task.
"""
id = "3c12c648-e29f-4bff-9157-b07f2cbddf1a"
license = "Elastic License v2"
name = "Scheduled Task from a Removable or Mounted ISO Device"
os_list = ["windows", "macos"]
reference = ["https://docs.microsoft.com/en-us/windows/win32/taskschd/daily-trigger-example--xml-"]
version = "1.0.22"
reputation = true

query = '''
sequence with maxspan=5m
 [process where event.action == "start"] by process.entity_id
[file where event.action : "creation"] by Effective_process.entity_id
'''

min_endpoint_version = "8.4.0"
optional_actions = []
[[actions]]
action = "kill_process"
field = "process.entity_id"
state = 0
tree = true

[[actions]]
action = "kill_process"
field = "Effective_process.entity_id"
state = 1

[[optional_actions]]
action = "rollback"
field = "process.entity_id"
state = 0

[[threat]]
framework = "MITRE ATT&CK"
[[threat.technique]]
id = "T1091"
name = "Replication Through Removable Media"

[threat.tactic]
id = "TA0001"
name = "Initial Access"
[[threat]]
framework = "MITRE ATT&CK"
[[threat.technique]]
id = "T1053"
name = "Scheduled Task/Job"
[[threat.technique.subtechnique]]
id = "T1053.005"
name = "Scheduled Task"

[threat.tactic]
id = "TA0003"
name = "Persistence"

[internal]
min_endpoint_version = "8.4.0"
"#;

    #[test]
    fn behavior_rules_keep_query_systems_actions_versions_and_attack() {
        let parsed = parse(SEQUENCE);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let rule = &parsed.rules[0];
        assert_eq!(rule.native_id, "3c12c648-e29f-4bff-9157-b07f2cbddf1a");
        assert_eq!((rule.vendor.as_str(), rule.product.as_str()), ("Elastic", "Elastic Defend"));
        assert_eq!((rule.language, rule.rule_type), (Some(Language::Eql), Some(RuleType::Endpoint)));
        assert!(rule.query.starts_with("sequence with maxspan=5m\n [process") && rule.query.ends_with("entity_id\n"));
        assert_eq!(rule.description, "Identifies a process running from a mounted ISO creating a scheduled task.");
        assert_eq!(rule.platforms, vec!["Windows", "macOS"]);
        assert_eq!(rule.attack_tags, vec!["TA0001", "T1091", "TA0003", "T1053.005"]);
        assert_eq!((rule.version.as_deref(), rule.min_agent_version.as_deref()), (Some("1.0.22"), Some("8.4.0")));
        assert_eq!(rule.license.as_deref(), Some("Elastic License v2"));
        assert_eq!(rule.references.len(), 1);
        let kill = |field: &str, event, tree| ResponseAction {
            action: "kill_process".into(),
            field: field.into(),
            event,
            tree,
            optional: false,
        };
        assert_eq!(
            rule.response_actions,
            vec![
                kill("process.entity_id", 0, true),
                kill("Effective_process.entity_id", 1, false),
                ResponseAction { action: "rollback".into(), optional: true, ..kill("process.entity_id", 0, false) },
            ]
        );
        assert_eq!(
            rule.implementation.as_deref(),
            Some(
                "Runs on the host: Elastic Defend's malicious behavior protection, agent 8.4.0 or later.\n\
                 Uses reputation lookups (`reputation = true`)."
            )
        );
        assert_eq!(rule.native_rule, SEQUENCE);
    }

    #[test]
    fn actions_inside_the_rule_table_and_version_bounds_are_read() {
        let text = "[rule]\nname = \"n\"\nquery = \"file where true\"\nmax_endpoint_version = \"8.14.1\"\n\
                    actions = [{ action = \"kill_process\", field = \"process.entity_id\", state = 0 }]\n\
                    [internal]\nmin_endpoint_version = \"8.10.0\"\n";
        let rule = &parse(text).rules[0];
        assert_eq!(rule.response_actions.len(), 1);
        assert_eq!(rule.min_agent_version.as_deref(), Some("8.10.0"), "[internal] when [rule] names none");
        assert!(rule.implementation.as_deref().unwrap().contains("agent 8.10.0 to 8.14.1"));
        let detect_only = &parse("[rule]\nname = \"n\"\nquery = \"x\"\nactions = []\n").rules[0];
        assert!(detect_only.response_actions.is_empty());
        assert_eq!(detect_only.version, None);
    }

    #[test]
    fn broken_files_are_reported_not_panicked_on() {
        assert_eq!(parse("[other]\n").errors[0].message, "no [rule] table");
        assert_eq!(parse("[rule]\nquery = \"x\"\n").errors[0].message, "missing `rule.name`");
        assert_eq!(parse("[rule]\nname = \"n\"\nquery = \" \\n\"\n").errors[0].message, "missing `rule.query`");
        let wrong_type = parse("[rule]\nname = 3\nquery = \"x\"\n");
        assert!(wrong_type.errors[0].message.starts_with("invalid TOML"), "{:?}", wrong_type.errors);
        for end in 0..SEQUENCE.len() {
            let _ = parse(&SEQUENCE[..end]);
        }
    }
}

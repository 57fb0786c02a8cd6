//! Two prompts a user can pick in an assistant, each a starting message that uses the tools,
//! with completion for their arguments.

use rmcp::model::{GetPromptResult, Prompt, PromptArgument, PromptMessage, Role};

pub fn list() -> Vec<Prompt> {
    vec![
        Prompt::new(
            "technique_coverage",
            Some("Which vendor-native detections cover an ATT&CK technique, and which to deploy"),
            Some(vec![
                PromptArgument::new("technique")
                    .with_description("Technique ID or name, e.g. T1090 or \"Proxy: Multi-hop Proxy\"")
                    .with_required(true),
                PromptArgument::new("source")
                    .with_description("Only this source (a configured name, e.g. splunk)")
                    .with_required(false),
            ]),
        )
        .with_title("Technique coverage"),
        Prompt::new(
            "explain_detection",
            Some("Explain one detection: what it catches, what it needs, and how it could be evaded"),
            Some(vec![
                PromptArgument::new("address")
                    .with_description("The detection's address SOURCE/ID, e.g. chronicle/gcti_tor_exit_nodes")
                    .with_required(true),
            ]),
        )
        .with_title("Explain a detection"),
    ]
}

/// The prompt's message, or what is wrong with the request.
pub fn get(
    name: &str,
    arguments: Option<&serde_json::Map<String, serde_json::Value>>,
) -> Result<GetPromptResult, String> {
    let argument = |key: &str| -> Option<String> {
        arguments?.get(key)?.as_str().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
    };
    let text = match name {
        "technique_coverage" => {
            let technique = argument("technique").ok_or("`technique_coverage` needs `technique`, e.g. T1090")?;
            let scope = argument("source").map(|s| format!(" from the source {s:?}")).unwrap_or_default();
            format!(
                "Using the ruledex tools, find the vendor-native detections{scope} for the ATT&CK technique \
                 {technique:?} (the `technique` tool). Summarize how it is covered per vendor and per \
                 sub-technique, point out gaps, and for the two or three most useful detections `show` them and \
                 give their paste-ready queries with what each needs (data sources, macros, lookups)."
            )
        }
        "explain_detection" => {
            let address =
                argument("address").ok_or("`explain_detection` needs `address`, e.g. chronicle/gcti_tor_exit_nodes")?;
            format!(
                "Using the ruledex `show` tool, read the detection {address:?}. Explain what it detects and how, \
                 the data it needs, its ATT&CK mapping, likely false positives, and how an attacker could evade \
                 it; then suggest improvements."
            )
        }
        other => {
            return Err(format!(
                "ruledex has no prompt {other:?}; its prompts are technique_coverage and explain_detection"
            ));
        }
    };
    Ok(GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)]))
}

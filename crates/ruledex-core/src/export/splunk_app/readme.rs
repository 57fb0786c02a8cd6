//! The exported app's README.txt: what it holds, how to turn it on, and what it could not carry.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::conf::one_line;
use super::{App, Provision, escu_schedule};
use crate::sources::splunk::published::is_enterprise_security_macro;

/// The README of `app`.
pub(super) fn render(app: &App<'_>) -> String {
    let mut text = String::new();
    let title = format!("{} ({})", app.label, app.id);
    let _ = writeln!(text, "{title}\n{}\n\n{}\n", "=".repeat(title.chars().count()), app.description());
    text.push_str(USAGE);
    let hourly = escu_schedule(None);
    let baseline = escu_schedule(Some("baseline"));
    let _ = writeln!(
        text,
        "Schedules are ESCU's published defaults for the detection type:\n\
         - TTP, Anomaly, Hunting, Correlation: cron \"{}\", from {} to {}, schedule window {}\n\
         - Baseline: cron \"{}\", from {} to {}, schedule window {}\n",
        hourly.cron,
        hourly.earliest,
        hourly.latest,
        hourly.window,
        baseline.cron,
        baseline.earliest,
        baseline.latest,
        baseline.window
    );
    detections(app, &mut text);
    enterprise_security(app, &mut text);
    unresolved_macros(app, &mut text);
    missing_lookups(app, &mut text);
    if !app.problems.is_empty() {
        let _ = writeln!(text, "Support files of the source that could not be read:");
        for problem in &app.problems {
            let _ = writeln!(text, "- {problem}");
        }
        text.push('\n');
    }
    if let Some(version) = &app.context.attack_version {
        let _ = writeln!(text, "ATT&CK IDs resolved against MITRE ATT&CK {version}.");
    }
    text
}

const USAGE: &str = "\
Install: Apps > Manage Apps > Install app from file (the .tgz), or copy this folder into
$SPLUNK_HOME/etc/apps/ and restart Splunk.

Every saved search is disabled: enable the ones you want under Settings > Searches, reports,
and alerts (in Enterprise Security they are correlation searches, under Content Management).
The searches are Splunk ESCU's, with the macros of ESCU and the Common Information Model
expanded, so they run without those apps. Each still ends with its detection's `<name>_filter`
macro, defined in default/macros.conf as `search *`: edit it to filter out false positives.

";

fn detections(app: &App<'_>, text: &mut String) {
    let _ = writeln!(text, "Detections ({}):", app.searches.len());
    for search in app.searches {
        let detection = search.detection;
        let techniques: Vec<String> = detection.techniques.iter().map(|t| t.id.to_string()).collect();
        let kind = search.annotations.kind.as_deref().unwrap_or("unknown type");
        let _ = writeln!(
            text,
            "- {} ({}; {kind}; ATT&CK: {})",
            one_line(&detection.rule.title),
            detection.address(),
            list(&techniques)
        );
        let provenance = &detection.provenance;
        let origin = provenance.upstream_url.clone().unwrap_or_else(|| {
            let at = provenance.commit.as_deref().map(|c| format!(" at {c}")).unwrap_or_default();
            format!("{}{at}", provenance.repository.as_deref().unwrap_or(&detection.rule.path))
        });
        let license = detection.effective_license.as_deref().unwrap_or("license not stated");
        let _ = writeln!(text, "  {origin} ({license})");
    }
    text.push('\n');
}

fn enterprise_security(app: &App<'_>, text: &mut String) {
    let needing: Vec<(String, Vec<&str>)> = app
        .searches
        .iter()
        .map(|search| (one_line(&search.detection.rule.title), search.enterprise_security_macros()))
        .filter(|(_, macros)| !macros.is_empty())
        .collect();
    let _ = writeln!(text, "Searches that need Splunk Enterprise Security ({}):", needing.len());
    if needing.is_empty() {
        let _ = writeln!(text, "- none: no search calls a macro only Enterprise Security defines.");
    }
    for (title, macros) in &needing {
        let calls: Vec<String> = macros.iter().map(|key| format!("`{key}`")).collect();
        let _ = writeln!(text, "- {title}: calls {}, which Enterprise Security defines.", calls.join(", "));
    }
    text.push('\n');
}

fn unresolved_macros(app: &App<'_>, text: &mut String) {
    let mut callers: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for search in app.searches {
        for key in &search.expansion.unresolved {
            callers.entry(key).or_default().push(one_line(&search.detection.rule.title));
        }
    }
    let _ = writeln!(text, "Macros this app cannot define ({}):", callers.len());
    if callers.is_empty() {
        let _ = writeln!(text, "- none: every macro the searches call is expanded or defined here.");
    }
    for (key, titles) in &callers {
        let app = if is_enterprise_security_macro(key) {
            "Splunk Enterprise Security defines it"
        } else {
            "it comes from another app"
        };
        let _ = writeln!(
            text,
            "- `{key}`, called by: {}. Nothing in the source defines it; {app}, which must be installed \
             for these searches to run.",
            titles.join("; ")
        );
    }
    text.push('\n');
}

fn missing_lookups(app: &App<'_>, text: &mut String) {
    let missing: Vec<(&String, &String)> = app
        .lookups
        .iter()
        .filter_map(|(name, provision)| match provision {
            Provision::Missing(reason) => Some((name, reason)),
            _ => None,
        })
        .collect();
    let _ = writeln!(text, "Lookups the searches use that this app does not ship ({}):", missing.len());
    if missing.is_empty() {
        let _ = writeln!(text, "- none: every lookup the searches use is in lookups/ or a KV store collection.");
    }
    for (name, reason) in missing {
        let users: Vec<String> = app
            .searches
            .iter()
            .filter(|s| s.lookups.contains(name))
            .map(|s| one_line(&s.detection.rule.title))
            .collect();
        let _ = writeln!(text, "- {name}: {reason}. Used by: {}.", users.join("; "));
    }
    text.push('\n');
}

fn list(items: &[String]) -> String {
    if items.is_empty() { "none".to_string() } else { items.join(", ") }
}

//! `ruledex changes`

use anyhow::Result;
use ruledex_app::request::ChangesRequest;
use ruledex_app::wire::ChangeJson;

use super::Env;
use crate::cli::ChangesArgs;
use crate::exit;
use crate::output;
use crate::output::outln;

pub fn run(env: &Env, args: &ChangesArgs) -> Result<u8> {
    let request = ChangesRequest::from_arguments(&args.given.arguments()?);
    let catalog = env.open_catalog()?;
    let changes = catalog.changes(&request)?;
    if args.output.json {
        output::json(&changes)?;
        return Ok(exit::OK);
    }
    for update in &changes.attack_updates {
        outln!("sync {} · {} · {}", update.sync, update.synced_at, update.summary)?;
    }
    if changes.changes.is_empty() {
        outln!("no changes recorded{}", if request.since.is_some() { " since then" } else { "" })?;
        return Ok(exit::OK);
    }
    let mut sync = None;
    for change in &changes.changes {
        if sync != Some(change.sync) {
            sync = Some(change.sync);
            outln!("\nsync {} · {}", change.sync, change.synced_at)?;
        }
        outln!("{}", line(change))?;
    }
    Ok(exit::OK)
}

/// `  changed  splunk/x  Title (query, metadata) · T1090.003 · at 1837fae99c98`
fn line(change: &ChangeJson) -> String {
    let fields: Vec<&str> = change.fields.iter().map(|f| f.label()).collect();
    let mut parts = vec![format!("  {:<10} {}/{}  {}", change.change.as_str(), change.source, change.id, change.title)];
    if !fields.is_empty() {
        parts[0].push_str(&format!(" ({})", fields.join(", ")));
    }
    let techniques: Vec<String> = change.techniques.iter().map(ToString::to_string).collect();
    if !techniques.is_empty() {
        parts.push(techniques.join(", "));
    }
    if let Some(commit) = &change.commit {
        parts.push(format!("at {}", commit.get(..12).unwrap_or(commit)));
    }
    parts.join(" · ")
}

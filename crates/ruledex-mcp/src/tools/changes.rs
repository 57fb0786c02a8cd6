//! `changes`: what the catalog's syncs found changed upstream.

use std::fmt::Write as _;

use ruledex_app::Catalog;
use ruledex_app::request::{Arguments, ChangesRequest, vocabulary};
use ruledex_app::wire::ChangesJson;

use super::{Answer, Definition, ToolError, answer, tool};
use crate::text;

pub const CHANGES: Definition = Definition {
    name: "changes",
    read_only: true,
    operation: &vocabulary::CHANGES,
    tool: || {
        tool::<ChangesJson>(
            "changes",
            &vocabulary::CHANGES,
            "What changed upstream",
            "What the catalog's syncs found changed upstream, newest first: detections added, changed (with \
             the fields: query, paste-ready query, ATT&CK tags, severity, status, metadata, and the query before \
             and after, cut to a few thousand characters), deprecated and removed, each with its source, upstream \
             commit and sync time; and each new ATT&CK release a sync brought, with how many detections it moved \
             to other techniques. Use it for \"what is new for T1090\", \"what changed in Splunk this week\". \
             A source's first sync is its starting point, not news. \
             Example: {\"technique\": \"T1090\", \"since\": \"2026-11-01\"}.",
        )
    },
    run: changes,
};

fn changes(catalog: &Catalog, args: &Arguments) -> Result<Answer, ToolError> {
    let json = catalog.changes(&ChangesRequest::from_arguments(args))?;
    let mut summary = String::new();
    for update in &json.attack_updates {
        let _ = writeln!(summary, "Sync {} at {}: {}.", update.sync, update.synced_at, update.summary);
    }
    let _ = writeln!(summary, "{} detection changes, newest first.", json.changes.len());
    for c in &json.changes {
        let fields: Vec<&str> = c.fields.iter().map(|f| f.label()).collect();
        let what = if fields.is_empty() { String::new() } else { format!(" ({})", fields.join(", ")) };
        let commit = c.commit.as_deref().map_or("unknown", |c| c.get(..12).unwrap_or(c));
        let _ = writeln!(
            summary,
            "- {} {}/{} {}{what} · commit {commit} · sync {} at {}",
            c.change.as_str(),
            c.source,
            c.id,
            text::inert(&text::line(&c.title, 160)),
            c.sync,
            c.synced_at
        );
    }
    answer(&json, summary)
}

//! Printing for people and for scripts.

use std::io::{IsTerminal, Write};

use anyhow::Result;
use ruledex_core::model::{Detection, MappingStatus};
use ruledex_store::{HIGHLIGHT_END, HIGHLIGHT_START};
use serde::Serialize;

/// `println!` that returns an error instead of panicking when stdout is closed early
/// (`ruledex technique T1059 | head`); `main` treats that error as a normal end.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}
pub(crate) use outln;

/// Prints pretty JSON and a final newline to stdout.
pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value).map_err(std::io::Error::from)?;
    writeln!(out)?;
    Ok(())
}

/// Turns search highlight markers into bold on a terminal, and drops them elsewhere.
pub fn highlighted(text: &str) -> String {
    let (start, end) = if std::io::stdout().is_terminal() { ("\x1b[1m", "\x1b[0m") } else { ("", "") };
    text.replace(HIGHLIGHT_START, start).replace(HIGHLIGHT_END, end)
}

/// The techniques a detection maps to, with revoked and unknown tags marked.
pub fn technique_list(detection: &Detection) -> String {
    detection
        .techniques
        .iter()
        .map(|m| match (m.status, m.tagged_id) {
            (MappingStatus::Revoked, Some(old)) => format!("{} (tagged {old}, revoked)", m.id),
            (MappingStatus::Current, _) => m.id.to_string(),
            (status, _) => format!("{} ({})", m.id, status.as_str()),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Two lines per detection: its title, then address and badges.
pub fn detection_line(detection: &Detection, title: &str) -> String {
    let r = &detection.rule;
    let mut badges = vec![detection.address()];
    badges.extend(r.language.map(|l| l.label().to_string()));
    badges.extend(r.rule_type.map(|t| t.label().to_string()));
    badges.extend(r.severity.map(|s| s.as_str().to_string()));
    if detection.deprecated {
        badges.push("DEPRECATED".into());
    }
    let techniques = technique_list(detection);
    if !techniques.is_empty() {
        badges.push(techniques);
    }
    format!("  {title}\n    {}", badges.join(" · "))
}

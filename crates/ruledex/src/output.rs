//! Printing for people and for scripts.
//!
//! Rule text is untrusted: a title or file name may carry terminal escape sequences (clearing
//! the screen, retitling the window) or bidirectional overrides. Everything printed for people
//! goes through [`safe`], which shows such characters instead of sending them.

use std::borrow::Cow;
use std::io::{IsTerminal, Write};

use anyhow::Result;
use ruledex_app::wire::{DetectionJson, TextPieceJson};
use ruledex_core::model::MappingStatus;
use serde::Serialize;
use serde_json::Value;

/// `println!` of text made safe for a terminal (see [`safe`]) that returns an error instead of
/// panicking when stdout is closed early (`ruledex technique T1059 | head`); `main` treats that
/// error as a normal end.
macro_rules! outln {
    () => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock())
    }};
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), "{}", $crate::output::safe(&format!($($arg)*)))
    }};
}
pub(crate) use outln;

/// Text with control characters (but newlines and tabs) and bidirectional overrides shown as
/// visible escapes, so nothing in it can steer the terminal.
pub fn safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars().map(|c| if is_unsafe(c) { c.escape_unicode().to_string() } else { c.to_string() }).collect(),
    )
}

fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// "1 detection", "2 detections".
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

/// Prints pretty JSON and a final newline to stdout.
pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value).map_err(std::io::Error::from)?;
    writeln!(out)?;
    Ok(())
}

/// A listing's JSON: `first` (a page) as it is, or, with `all`, the whole listing: the page's
/// fields, then the detections of every page, each page written as it comes, and `limit`, how
/// many were listed (`offset` and `more` are 0).
pub fn json_listing<T: Serialize, D: Serialize>(
    first: &T,
    all: bool,
    rest: impl Iterator<Item = Result<Vec<D>>>,
) -> Result<()> {
    if !all {
        return json(first);
    }
    let Value::Object(mut head) = serde_json::to_value(first)? else { return json(first) };
    let Some(Value::Array(listed)) = head.remove("detections") else { return json(first) };
    head.remove("limit");
    head.insert("offset".into(), Value::from(0));
    head.insert("more".into(), Value::from(0));
    let mut out = std::io::stdout().lock();
    writeln!(out, "{{")?;
    for (name, value) in &head {
        writeln!(out, "  {}: {},", Value::from(name.as_str()), indented(&serde_json::to_string_pretty(value)?))?;
    }
    write!(out, "  \"detections\": [")?;
    let mut count = 0;
    let first_page = listed.into_iter().map(Ok).collect::<Vec<Result<Value>>>();
    let rest = rest.flat_map(|page| match page {
        Ok(page) => page.into_iter().map(|d| Ok(serde_json::to_value(d)?)).collect::<Vec<Result<Value>>>(),
        Err(error) => vec![Err(error)],
    });
    for detection in first_page.into_iter().chain(rest) {
        let separator = if count == 0 { "" } else { "," };
        write!(out, "{separator}\n    {}", indented(&indented(&serde_json::to_string_pretty(&detection?)?)))?;
        count += 1;
    }
    writeln!(out, "\n  ],\n  \"limit\": {count}\n}}")?;
    Ok(())
}

/// Pretty JSON one level deeper: every line but the first indented by two spaces.
fn indented(text: &str) -> String {
    text.replace('\n', "\n  ")
}

/// Search matches in bold on a terminal, plain elsewhere. The bold markers are added after the
/// text is made safe; print the result with [`styled`].
pub fn highlighted(pieces: &[TextPieceJson]) -> String {
    let bold = std::io::stdout().is_terminal();
    pieces
        .iter()
        .map(|piece| match (bold && piece.matched, safe(&piece.text)) {
            (true, text) => format!("\x1b[1m{text}\x1b[0m"),
            (false, text) => text.into_owned(),
        })
        .collect()
}

/// Prints a line whose parts were made safe already (it may hold ruledex's own styling).
pub fn styled(line: &str) -> std::io::Result<()> {
    writeln!(std::io::stdout().lock(), "{line}")
}

/// The techniques a detection maps to, with revoked and unknown tags marked.
pub fn technique_list(detection: &DetectionJson) -> String {
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

/// Two lines per detection: its title (already made safe, possibly styled), then address and
/// badges.
pub fn detection_line(detection: &DetectionJson, title: &str) -> String {
    let mut badges = vec![format!("{}/{}", detection.source, detection.id)];
    badges.extend(detection.language.map(|l| l.label().to_string()));
    badges.extend(detection.rule_type.map(|t| t.label().to_string()));
    badges.extend(detection.severity.map(|s| s.as_str().to_string()));
    if detection.deprecated {
        badges.push("DEPRECATED".into());
    }
    let techniques = technique_list(detection);
    if !techniques.is_empty() {
        badges.push(techniques);
    }
    format!("  {title}\n    {}", safe(&badges.join(" · ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_controls_are_shown_not_sent() {
        assert_eq!(safe("plain\ttext\n"), "plain\ttext\n");
        assert_eq!(safe("clear\x1b[2J\x07"), "clear\\u{1b}[2J\\u{7}");
        assert_eq!(safe("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(safe("title\x1b]0;pwned\x07"), "title\\u{1b}]0;pwned\\u{7}");
    }
}

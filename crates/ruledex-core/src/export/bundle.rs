//! What every writer shares: safe, unique file names inside a bundle, the native rule text a
//! detection must carry, and turning accepted detections one by one into platform objects while
//! collecting what had to be skipped.

use std::collections::HashSet;

use super::{Export, ExportError, ExportFile, Skipped, Writer, accepted};
use crate::model::Detection;

/// Longest file stem written: room for the longest upstream names (104 characters in Google
/// SecOps), well inside the 255 bytes file systems allow, while rule text can be any length.
const MAX_STEM_CHARS: usize = 150;

/// Names Windows refuses as file names whatever their extension.
const WINDOWS_RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "LPT1", "LPT2",
    "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// File names handed out in one bundle. Names come from rule text (rule names, upstream file
/// names), so each is reduced to ASCII letters, digits, `-` and `_` before its extension: no
/// directories, no `..`, no control characters, nothing a shell or an archive tool reads
/// specially. Uniqueness ignores case, as macOS and Windows file systems do.
#[derive(Debug, Default)]
pub(crate) struct FileNames {
    taken: HashSet<String>,
}

impl FileNames {
    /// A safe name for `stem` with `extension`, made unique with `-2`, `-3`... when taken.
    pub(crate) fn claim(&mut self, stem: &str, extension: &str) -> String {
        let stem = safe_stem(stem);
        let extension: String = extension.chars().filter(char::is_ascii_alphanumeric).take(16).collect();
        let join = |stem: &str| if extension.is_empty() { stem.to_string() } else { format!("{stem}.{extension}") };
        let mut name = join(&stem);
        let mut n = 2;
        while !self.taken.insert(name.to_ascii_lowercase()) {
            name = join(&format!("{stem}-{n}"));
            n += 1;
        }
        name
    }
}

fn safe_stem(text: &str) -> String {
    let mut stem = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            stem.push(c);
        } else if !stem.ends_with('_') {
            // Runs of replaced characters collapse into one separator.
            stem.push('_');
        }
        if stem.len() >= MAX_STEM_CHARS {
            break;
        }
    }
    // A leading `-` reads as an option to command-line tools.
    let stem = stem.trim_matches(['_', '-']);
    match stem {
        "" => "rule".to_string(),
        reserved if WINDOWS_RESERVED.iter().any(|r| r.eq_ignore_ascii_case(reserved)) => format!("{reserved}_"),
        stem => stem.to_string(),
    }
}

/// The whole upstream rule text, which every writer works from. Listings leave it out, so a
/// detection without it cannot be exported.
pub(crate) fn native_text(detection: &Detection) -> Result<&str, ExportError> {
    match detection.rule.native_rule.as_str() {
        "" => Err(ExportError::Rule {
            address: detection.address(),
            message: "the detection carries no native rule text (listings leave it out; look the detection up \
                      by its address to export it)"
                .into(),
        }),
        text => Ok(text),
    }
}

/// Why one accepted detection could not be written.
#[derive(Debug)]
pub(crate) enum Unwritable {
    /// Its stored native rule does not read back: the catalog is broken, so the export fails.
    Unreadable(ExportError),
    /// It holds something the platform refuses; it is skipped with this reason.
    Refused(String),
}

impl From<ExportError> for Unwritable {
    fn from(error: ExportError) -> Unwritable {
        Unwritable::Unreadable(error)
    }
}

/// Accepted detections with what each became, and every detection left out with its reason.
pub(crate) struct Converted<'d, T> {
    pub(crate) rules: Vec<(&'d Detection, T)>,
    pub(crate) skipped: Vec<Skipped>,
}

impl<T> Converted<'_, T> {
    /// The export of `files`, listing the converted rules as included.
    pub(crate) fn into_export(self, files: Vec<ExportFile>) -> Export {
        Export { files, included: self.rules.iter().map(|(d, _)| d.address()).collect(), skipped: self.skipped }
    }
}

/// Runs `convert` over the detections `writer` accepts. Fails on the first unreadable rule, and
/// with [`ExportError::Nothing`] when no detection is left to write.
pub(crate) fn convert_each<'d, T>(
    writer: &dyn Writer,
    detections: &[&'d Detection],
    mut convert: impl FnMut(&'d Detection) -> Result<T, Unwritable>,
) -> Result<Converted<'d, T>, ExportError> {
    let (accepted, mut skipped) = accepted(writer, detections)?;
    let mut rules = Vec::with_capacity(accepted.len());
    for detection in accepted {
        match convert(detection) {
            Ok(converted) => rules.push((detection, converted)),
            Err(Unwritable::Refused(reason)) => skipped.push(Skipped { address: detection.address(), reason }),
            Err(Unwritable::Unreadable(error)) => return Err(error),
        }
    }
    if rules.is_empty() {
        return Err(ExportError::Nothing { format: writer.format(), selected: detections.len(), skipped });
    }
    Ok(Converted { rules, skipped })
}

/// One file per detection holding its native rule text as upstream ships it, named by
/// `file_name` (a stem and an extension); the Sigma and Sentinel YAML exports.
pub(crate) fn upstream_files(
    writer: &dyn Writer,
    detections: &[&Detection],
    file_name: impl Fn(&Detection) -> (&str, &str),
) -> Result<Export, ExportError> {
    let converted = convert_each(writer, detections, |d| Ok(native_text(d)?))?;
    let mut names = FileNames::default();
    let files = converted
        .rules
        .iter()
        .map(|(detection, text)| {
            let (stem, extension) = file_name(detection);
            ExportFile { path: names.claim(stem, extension), bytes: text.as_bytes().to_vec() }
        })
        .collect();
    Ok(converted.into_export(files))
}

/// The stem and extension of the rule's upstream file name, with `default_extension` when it
/// has none.
pub(crate) fn upstream_file_name<'a>(detection: &'a Detection, default_extension: &'a str) -> (&'a str, &'a str) {
    let name = detection.rule.path.rsplit('/').next().unwrap_or_default();
    match name.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() => (stem, extension),
        _ => (name, default_extension),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_rule_text_are_safe_file_names() {
        let mut names = FileNames::default();
        assert_eq!(names.claim("gcti_tor_exit_nodes", "yaral"), "gcti_tor_exit_nodes.yaral");
        assert_eq!(names.claim("../../etc/passwd", "yml"), "etc_passwd.yml");
        assert_eq!(names.claim("a\u{0}b\nc\u{202e}d", "yml"), "a_b_c_d.yml");
        assert_eq!(names.claim("--rm -rf", "yml"), "rm_-rf.yml");
        assert_eq!(names.claim("..", "yml"), "rule.yml");
        assert_eq!(names.claim("Tor \"exit\" nodes", "../x"), "Tor_exit_nodes.x");
        assert_eq!(names.claim("nul", "yml"), "nul_.yml");
        assert_eq!(names.claim("Élan vital", ""), "lan_vital");
        assert_eq!(names.claim("c2__command___control", "yaral"), "c2__command___control.yaral");
        assert_eq!(names.claim(&"x".repeat(10_000), "yml").len(), MAX_STEM_CHARS + ".yml".len());
    }

    #[test]
    fn names_are_unique_ignoring_case() {
        let mut names = FileNames::default();
        assert_eq!(names.claim("rule", "yml"), "rule.yml");
        assert_eq!(names.claim("RULE", "yml"), "RULE-2.yml");
        assert_eq!(names.claim("rule-2", "yml"), "rule-2-2.yml");
        assert_eq!(names.claim("rule", "yaml"), "rule.yaml");
        assert_eq!(names.claim("rule", "yml"), "rule-3.yml");
    }
}

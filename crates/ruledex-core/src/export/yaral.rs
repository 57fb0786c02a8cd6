//! Google SecOps rules: one `.yaral` file per rule, named after the rule, holding the rule's
//! upstream text. SecOps uploads one rule per file, while an upstream file may hold several; the
//! Chronicle adapter keeps each rule's own `rule NAME { ... }` block as its native text, so each
//! file holds exactly one rule.
//!
//! A rule that reads reference lists or data tables fails to save in SecOps until they exist, so
//! an export naming any carries a `README.md` listing them per rule.

use std::fmt::Write as _;

use super::bundle::{FileNames, convert_each, native_text};
use super::{Export, ExportContext, ExportError, ExportFile, PlatformFormat, Writer};
use crate::model::{Dependency, Detection, Format};

pub struct Yaral;

impl Writer for Yaral {
    fn format(&self) -> PlatformFormat {
        PlatformFormat::Yaral
    }

    fn multi_file(&self) -> bool {
        true
    }

    fn accepts(&self, detection: &Detection) -> Result<(), String> {
        match detection.format {
            Format::Chronicle => Ok(()),
            other => Err(format!("not a Google SecOps YARA-L rule (it is a {other} rule)")),
        }
    }

    fn write(&self, detections: &[&Detection], context: &ExportContext) -> Result<Export, ExportError> {
        let converted = convert_each(self, detections, |d| Ok(native_text(d)?))?;
        let mut names = FileNames::default();
        let rule_files: Vec<(&Detection, ExportFile)> = converted
            .rules
            .iter()
            .map(|(detection, text)| {
                let path = names.claim(&detection.rule.native_id, "yaral");
                (*detection, ExportFile { path, bytes: with_final_newline(text).into_bytes() })
            })
            .collect();
        let readme = requirements_readme(&rule_files, context)
            .map(|text| ExportFile { path: names.claim("README", "md"), bytes: text.into_bytes() });
        let files = rule_files.into_iter().map(|(_, file)| file).chain(readme).collect();
        Ok(converted.into_export(files))
    }
}

fn with_final_newline(text: &str) -> String {
    if text.ends_with('\n') { text.to_string() } else { format!("{text}\n") }
}

/// The README naming, per rule file, the reference lists and data tables to create first;
/// `None` when no rule needs any.
fn requirements_readme(rule_files: &[(&Detection, ExportFile)], context: &ExportContext) -> Option<String> {
    let needing: Vec<_> = rule_files.iter().filter(|(d, _)| !d.rule.requires.is_empty()).collect();
    if needing.is_empty() {
        return None;
    }
    let mut readme = String::from("# Google SecOps rules");
    if !context.name.is_empty() {
        let _ = write!(readme, ": {}", context.name);
    }
    readme.push_str("\n\n");
    if !context.description.is_empty() {
        let _ = writeln!(readme, "{}\n", context.description);
    }
    readme.push_str(
        "Create these reference lists and data tables in Google SecOps before uploading the rules that use \
         them: a rule naming a missing one does not save.\n\n",
    );
    for (detection, file) in needing {
        let _ =
            writeln!(readme, "- `{}` ({}): {}", file.path, detection.address(), requirements(&detection.rule.requires));
    }
    Some(readme)
}

/// "reference list `tor_exit_nodes`, data table `known_hosts`".
fn requirements(requires: &[Dependency]) -> String {
    let items: Vec<String> = requires.iter().map(|d| format!("{} `{}`", d.kind.label(), d.name)).collect();
    items.join(", ")
}

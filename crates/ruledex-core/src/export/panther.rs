//! Panther analysis items laid out as `panther_analysis_tool upload` (and `test`) reads them:
//!
//! - `rules/<RuleID>/`: each rule's YAML as upstream ships it (its unit tests included) and, for
//!   a Python rule, the Python file its `Filename` names, beside it. Streaming, scheduled and
//!   correlation rules and simple detections all live here: Panther tells them apart by their
//!   `AnalysisType`, not by folder.
//! - `queries/`: the saved queries scheduled rules run on, and the templates their SQL imports.
//! - `global_helpers/`: the helper modules the Python imports, directly or through other
//!   helpers, each with the small YAML that declares it to Panther.
//!
//! What the catalog keeps is enough: the YAML is the native rule, a streaming rule's Python is
//! its query, a scheduled rule's Python is the last of its implementation notes, and the helpers
//! and saved queries are the source's assets. A rule whose Python or helpers cannot be found
//! there is skipped with the reason, never written half.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::bundle::{FileNames, Unwritable, convert_each, native_text, upstream_file_name};
use super::{Export, ExportContext, ExportError, ExportFile, PlatformFormat, Writer};
use crate::ingest::Asset;
use crate::model::{DependencyKind, Detection, Format, Language};
use crate::sources::panther::{python_filename, row_function, saved_queries};

pub struct Panther;

impl Writer for Panther {
    fn format(&self) -> PlatformFormat {
        PlatformFormat::Panther
    }

    fn multi_file(&self) -> bool {
        true
    }

    fn accepts(&self, detection: &Detection) -> Result<(), String> {
        match detection.format {
            Format::Panther => Ok(()),
            other => Err(format!("not a Panther rule (it is a {other} rule)")),
        }
    }

    fn write(&self, detections: &[&Detection], context: &ExportContext) -> Result<Export, ExportError> {
        let assets: BTreeMap<&str, SourceAssets> =
            context.assets.iter().map(|(source, assets)| (source.as_str(), SourceAssets::index(assets))).collect();
        let no_assets = SourceAssets::default();
        let converted = convert_each(self, detections, |detection| {
            RuleFiles::of(detection, assets.get(detection.source.as_str()).unwrap_or(&no_assets))
        })?;
        let mut layout = Layout::default();
        for (detection, files) in &converted.rules {
            layout.add(detection, files);
        }
        Ok(converted.into_export(layout.files))
    }
}

/// A source's helper modules and saved queries, by name.
#[derive(Default)]
struct SourceAssets<'a> {
    helpers: HashMap<&'a str, &'a Asset>,
    queries: HashMap<String, &'a Asset>,
}

impl<'a> SourceAssets<'a> {
    fn index(assets: &'a [Asset]) -> SourceAssets<'a> {
        let by_path: HashMap<&str, &Asset> = assets.iter().map(|a| (a.path.as_str(), a)).collect();
        let helpers = assets
            .iter()
            .filter_map(|a| Some((a.path.strip_prefix("global_helpers/")?.strip_suffix(".py")?, a)))
            .collect();
        let queries = saved_queries(assets.iter().map(|a| (a.path.as_str(), a.text.as_str())))
            .into_iter()
            .filter_map(|(name, query)| Some((name, *by_path.get(query.path.as_str())?)))
            .collect();
        SourceAssets { helpers, queries }
    }
}

/// What one rule needs written: its YAML, its Python, and the helpers and queries it uses.
struct RuleFiles<'a> {
    yaml: &'a str,
    python: Option<(String, &'a str)>,
    helpers: Vec<(&'a str, &'a Asset)>,
    queries: Vec<&'a Asset>,
}

impl<'a> RuleFiles<'a> {
    fn of(detection: &'a Detection, assets: &SourceAssets<'a>) -> Result<RuleFiles<'a>, Unwritable> {
        let yaml = native_text(detection)?;
        let python = match python_filename(yaml) {
            Some(filename) => Some((plain_file_name(&filename, "py")?, python_text(detection)?)),
            None => None,
        };
        let mut helpers = Vec::new();
        let mut queries = Vec::new();
        for dependency in &detection.rule.requires {
            let name = dependency.name.as_str();
            match dependency.kind {
                DependencyKind::Helper => {
                    let helper = assets.helpers.get_key_value(name).ok_or_else(|| missing("global helper", name))?;
                    plain_file_name(&format!("{name}.py"), "py")?;
                    helpers.push((*helper.0, *helper.1));
                }
                DependencyKind::Query => {
                    queries.push(*assets.queries.get(name).ok_or_else(|| missing("saved query", name))?)
                }
                _ => {}
            }
        }
        Ok(RuleFiles { yaml, python, helpers, queries })
    }
}

/// The rule's Python: a streaming rule's query, or the function a scheduled rule's rows go
/// through.
fn python_text(detection: &Detection) -> Result<&str, Unwritable> {
    let rule = &detection.rule;
    let python = match rule.language {
        Some(Language::Python) => Some(rule.query.as_str()),
        _ => rule.implementation.as_deref().and_then(row_function),
    };
    python.filter(|p| !p.is_empty()).ok_or_else(|| {
        Unwritable::Refused("its YAML names a Python file (`Filename`) the catalog does not hold".into())
    })
}

fn missing(what: &str, name: &str) -> Unwritable {
    Unwritable::Refused(format!("the {what} {name:?} it needs is not among the source's files in the catalog"))
}

/// `name` when it is a plain file name with `extension` (letters, digits, `-`, `_`): the YAML
/// names the file, so it is written under that exact name or not at all.
fn plain_file_name(name: &str, extension: &str) -> Result<String, Unwritable> {
    let plain = name.strip_suffix(extension).and_then(|stem| stem.strip_suffix('.')).is_some_and(|stem| {
        !stem.is_empty()
            && !stem.starts_with('-')
            && stem.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    });
    match plain {
        true => Ok(name.to_string()),
        false => Err(Unwritable::Refused(format!(
            "{name:?} is not a plain .{extension} file name, so it cannot be written under the name the rule gives it"
        ))),
    }
}

/// The files of the export, each helper and saved query written once.
#[derive(Default)]
struct Layout {
    files: Vec<ExportFile>,
    rule_folders: FileNames,
    query_names: FileNames,
    queries_written: HashSet<(String, String)>,
    helpers_written: HashSet<String>,
}

impl Layout {
    fn add(&mut self, detection: &Detection, rule: &RuleFiles<'_>) {
        let folder = format!("rules/{}", self.rule_folders.claim(&detection.rule.native_id, ""));
        let (stem, extension) = upstream_file_name(detection, "yml");
        let yaml_name = FileNames::default().claim(stem, extension);
        self.push(format!("{folder}/{yaml_name}"), rule.yaml);
        if let Some((filename, python)) = &rule.python {
            self.push(format!("{folder}/{filename}"), python);
        }
        for query in &rule.queries {
            if self.queries_written.insert((detection.source.clone(), query.path.clone())) {
                let (stem, extension) =
                    query.path.rsplit('/').next().unwrap_or_default().rsplit_once('.').unwrap_or(("query", "yml"));
                let name = self.query_names.claim(stem, extension);
                self.push(format!("queries/{name}"), &query.text);
            }
        }
        for (name, helper) in &rule.helpers {
            if self.helpers_written.insert(name.to_string()) {
                self.push(format!("global_helpers/{name}.py"), &helper.text);
                self.push(format!("global_helpers/{name}.yml"), &helper_declaration(name));
            }
        }
    }

    /// Adds a file, ending it with a newline (the catalog keeps queries without their last).
    fn push(&mut self, path: String, text: &str) {
        let mut bytes = text.as_bytes().to_vec();
        if !bytes.ends_with(b"\n") {
            bytes.push(b'\n');
        }
        self.files.push(ExportFile { path, bytes });
    }
}

/// The YAML declaring a global helper module to Panther (upstream's says no more).
fn helper_declaration(name: &str) -> String {
    format!(
        "AnalysisType: global\nFilename: {name}.py\nGlobalID: \"{name}\"\nDescription: >\n  Panther's global helper \
         {name}, exported by ruledex with the rules that import it.\n"
    )
}

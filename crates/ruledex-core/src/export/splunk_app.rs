//! The `splunk-app` export: Splunk ESCU detections as a Splunk app that installs on its own.
//!
//! The app has one saved search per detection, scheduled with ESCU's published defaults for its
//! detection type and annotated as ESCU's build annotates it. Each search is expanded with its
//! source's macros (see [`crate::sources::splunk::macros`]) except the detection's `_filter`
//! macro, which macros.conf defines as `search *` so users can still tune it. The lookup tables
//! the searches use are copied from the source with their transforms.conf definitions. What the
//! app cannot carry (macros nothing defines, lookups other apps provide) is listed in its
//! README.txt. docs/splunk-app-export.md describes the layout and the defaults.

mod conf;
mod readme;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Value, json};

use self::conf::{ConfFile, one_line, stanza_name};
use super::{Export, ExportContext, ExportError, ExportFile, PlatformFormat, Skipped, Writer, accepted};
use crate::ingest::Asset;
use crate::model::{Detection, Format};
use crate::sources::splunk::lookups::{LookupDefinition, LookupTable, read_lookup};
use crate::sources::splunk::macros::{Expansion, FILTER_DEFINITION, MacroTable, expand, is_filter_macro};
use crate::sources::splunk::published::is_enterprise_security_macro;
use crate::sources::splunk::{Annotations, is_macro_file, lookups_used, read_annotations};

pub struct SplunkApp;

/// The version every exported app carries: each export is a new, self-contained app.
const APP_VERSION: &str = "1.0.0";

/// When and over what window a saved search runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub cron: &'static str,
    pub earliest: &'static str,
    pub latest: &'static str,
    pub window: &'static str,
}

/// ESCU's published deployment defaults (`deployments/escu_default_configuration_*.yml` in
/// splunk/security_content): TTP, Anomaly, Hunting and Correlation detections run hourly over
/// the hour ending ten minutes ago; baselines run daily over the day before.
pub fn escu_schedule(kind: Option<&str>) -> Schedule {
    match kind.map(str::to_ascii_lowercase).as_deref() {
        Some("baseline") => Schedule { cron: "10 0 * * *", earliest: "-1450m@m", latest: "-10m@m", window: "auto" },
        _ => Schedule { cron: "0 * * * *", earliest: "-70m@m", latest: "-10m@m", window: "auto" },
    }
}

impl Writer for SplunkApp {
    fn format(&self) -> PlatformFormat {
        PlatformFormat::SplunkApp
    }

    fn multi_file(&self) -> bool {
        true
    }

    fn accepts(&self, detection: &Detection) -> Result<(), String> {
        match detection.format {
            Format::SplunkEscu => Ok(()),
            other => Err(format!("not a Splunk ESCU detection (read as {other})")),
        }
    }

    fn write(&self, detections: &[&Detection], context: &ExportContext) -> Result<Export, ExportError> {
        let (accepted, mut skipped) = accepted(self, detections)?;
        let mut kits: HashMap<&str, SourceKit<'_>> = HashMap::new();
        let mut searches = Vec::new();
        for detection in accepted {
            let kit = kits
                .entry(detection.source.as_str())
                .or_insert_with(|| SourceKit::read(context.assets.get(&detection.source).map_or(&[], Vec::as_slice)));
            match SavedSearch::build(detection, kit)? {
                Ok(search) => searches.push(search),
                Err(reason) => skipped.push(Skipped { address: detection.address(), reason }),
            }
        }
        if searches.is_empty() {
            return Err(ExportError::Nothing { format: self.format(), selected: detections.len(), skipped });
        }
        let app = App::new(context, &searches, &kits);
        Ok(Export { files: app.files(), included: searches.iter().map(|s| s.detection.address()).collect(), skipped })
    }
}

/// What a source provides the app: its macros, lookup definitions and lookup files.
struct SourceKit<'a> {
    macros: MacroTable,
    lookups: HashMap<String, LookupDefinition>,
    /// Files under `lookups/`, by file name.
    files: HashMap<&'a str, &'a str>,
    /// Asset files that could not be read, with the reason.
    problems: Vec<String>,
}

impl<'a> SourceKit<'a> {
    fn read(assets: &'a [Asset]) -> SourceKit<'a> {
        let macro_files = assets.iter().filter(|a| is_macro_file(&a.path)).map(|a| (a.path.as_str(), a.text.as_str()));
        let (macros, macro_failures) = MacroTable::read_escu(macro_files);
        let mut problems: Vec<String> = macro_failures.into_iter().map(|(path, e)| format!("{path}: {e}")).collect();
        let mut lookups = HashMap::new();
        let mut files = HashMap::new();
        for asset in assets {
            let Some(file) = asset.path.strip_prefix("lookups/").filter(|f| !f.contains('/')) else { continue };
            if file.ends_with(".yml") {
                match read_lookup(&asset.text) {
                    Ok(lookup) => {
                        lookups.insert(lookup.name.clone(), lookup);
                    }
                    Err(e) => problems.push(format!("{}: {e}", asset.path)),
                }
            } else {
                files.insert(file, asset.text.as_str());
            }
        }
        SourceKit { macros, lookups, files, problems }
    }

    /// How the app can provide the lookup `name`.
    fn provide(&self, name: &str) -> Provision<'a> {
        let Some(definition) = self.lookups.get(name) else {
            // `| inputlookup table.csv` names the file itself.
            return match self.files.get_key_value(name) {
                Some((file, text)) if name.ends_with(".csv") => Provision::Table { definition: None, file, text },
                _ => Provision::Missing(
                    "the source's lookups/ does not define it: another app (Enterprise Security, CIM, URL Toolbox...) \
                     or a baseline search provides it"
                        .into(),
                ),
            };
        };
        match &definition.table {
            LookupTable::File(file) if !file.ends_with(".csv") => {
                Provision::Missing(format!("its file {file} is not a CSV lookup table"))
            }
            LookupTable::File(file) => match self.files.get_key_value(file.as_str()) {
                Some((file, text)) => Provision::Table { definition: Some(definition.clone()), file, text },
                None => Provision::Missing(format!("its table {file} is not in the source")),
            },
            LookupTable::KvStore { .. } => Provision::KvStore(definition.clone()),
        }
    }
}

/// How the app provides a lookup a search uses.
#[derive(Debug, Clone)]
enum Provision<'a> {
    /// A CSV file shipped in `lookups/`, with its transforms.conf definition unless the search
    /// names the file itself.
    Table { definition: Option<LookupDefinition>, file: &'a str, text: &'a str },
    /// A KV store collection, defined empty.
    KvStore(LookupDefinition),
    /// Not shipped, and why.
    Missing(String),
}

/// One detection as a saved search.
struct SavedSearch<'d> {
    detection: &'d Detection,
    annotations: Annotations,
    /// The paste-ready search, `_filter` calls kept.
    expansion: Expansion,
    lookups: Vec<String>,
}

impl<'d> SavedSearch<'d> {
    /// The saved search, or why the detection is skipped. Fails when the native rule cannot be
    /// read back.
    fn build(detection: &'d Detection, kit: &SourceKit<'_>) -> Result<Result<SavedSearch<'d>, String>, ExportError> {
        let rule_error = |message: String| ExportError::Rule { address: detection.address(), message };
        if detection.rule.native_rule.is_empty() {
            return Err(rule_error("the native ESCU file is not loaded; export whole detections".into()));
        }
        let annotations = read_annotations(&detection.rule.native_rule)
            .map_err(|e| rule_error(format!("the native ESCU file cannot be read back: {e}")))?;
        let expansion = match expand(&detection.rule.query, &kit.macros, &is_filter_macro) {
            Ok(expansion) => expansion,
            Err(e) => return Ok(Err(format!("its search macros cannot be expanded: {e}"))),
        };
        let lookups = lookups_used(&expansion.text);
        Ok(Ok(SavedSearch { detection, annotations, expansion, lookups }))
    }

    fn name(&self, app: &str) -> String {
        stanza_name(&format!("{app} - {} - Rule", self.detection.rule.title))
    }

    fn description(&self) -> String {
        let mut description = one_line(&self.detection.rule.description);
        if self.detection.deprecated {
            description = format!("WARNING: deprecated upstream and no longer maintained. {description}");
        }
        let needs = self.enterprise_security_macros();
        if !needs.is_empty() {
            let calls: Vec<String> = needs.iter().map(|key| format!("`{key}`")).collect();
            description.push_str(&format!(
                " Needs Splunk Enterprise Security: it calls {}, which Enterprise Security defines.",
                calls.join(", ")
            ));
        }
        description
    }

    /// The macros the search still calls that Splunk Enterprise Security defines.
    fn enterprise_security_macros(&self) -> Vec<&str> {
        self.expansion.unresolved.iter().map(String::as_str).filter(|key| is_enterprise_security_macro(key)).collect()
    }

    /// `action.correlationsearch.annotations` as ESCU's build writes it: a JSON object with
    /// sorted keys, NIST category from the detection type (DE.CM for TTPs, DE.AE otherwise).
    fn annotations_json(&self) -> String {
        let a = &self.annotations;
        let mut object = serde_json::Map::new();
        object.insert("analytic_story".into(), json!(a.analytic_story));
        object.extend(a.confidence.map(|c| ("confidence".to_string(), number(c))));
        if !a.cve.is_empty() {
            object.insert("cve".into(), json!(a.cve));
        }
        object.extend(a.impact.map(|i| ("impact".to_string(), number(i))));
        if !a.mitre_attack.is_empty() {
            object.insert("mitre_attack".into(), json!(a.mitre_attack));
        }
        let ttp = a.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case("ttp"));
        object.insert("nist".into(), json!([if ttp { "DE.CM" } else { "DE.AE" }]));
        Value::Object(object).to_string()
    }
}

/// A whole number as an integer (`70`, not `70.0`), as ESCU writes scores.
fn number(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 1e15 { json!(value as i64) } else { json!(value) }
}

/// The app being written.
struct App<'a> {
    id: String,
    label: String,
    context: &'a ExportContext,
    searches: &'a [SavedSearch<'a>],
    /// Every lookup the searches use, by name, with how the app provides it.
    lookups: BTreeMap<String, Provision<'a>>,
    /// Asset problems of the sources used, for the README.
    problems: Vec<String>,
}

impl<'a> App<'a> {
    fn new(
        context: &'a ExportContext,
        searches: &'a [SavedSearch<'a>],
        kits: &HashMap<&str, SourceKit<'a>>,
    ) -> App<'a> {
        let mut lookups = BTreeMap::new();
        for search in searches {
            let kit = &kits[search.detection.source.as_str()];
            for name in &search.lookups {
                lookups.entry(name.clone()).or_insert_with(|| kit.provide(name));
            }
        }
        let problems = kits.values().flat_map(|kit| kit.problems.iter().cloned()).collect();
        App { id: app_id(&context.name), label: app_label(&context.name), context, searches, lookups, problems }
    }

    fn files(&self) -> Vec<ExportFile> {
        let mut files = vec![
            self.file("default/app.conf", self.app_conf()),
            self.file("default/savedsearches.conf", self.savedsearches_conf()),
        ];
        let optional = [
            ("default/macros.conf", self.macros_conf()),
            ("default/transforms.conf", self.transforms_conf()),
            ("default/collections.conf", self.collections_conf()),
        ];
        files.extend(optional.into_iter().filter_map(|(path, conf)| Some(self.file(path, conf?))));
        // Two lookup definitions may read the same table; it ships once.
        let tables: BTreeMap<&str, &str> = self
            .lookups
            .values()
            .filter_map(|provision| match provision {
                Provision::Table { file, text, .. } => Some((*file, *text)),
                _ => None,
            })
            .collect();
        for (file, text) in tables {
            files.push(self.file(&format!("lookups/{file}"), text.as_bytes().to_vec()));
        }
        files.push(self.file("metadata/default.meta", self.default_meta()));
        files.push(self.file("README.txt", self.readme().into_bytes()));
        files
    }

    fn file(&self, path: &str, bytes: Vec<u8>) -> ExportFile {
        ExportFile { path: format!("{}/{path}", self.id), bytes }
    }

    fn app_conf(&self) -> Vec<u8> {
        let mut conf = ConfFile::new("Written by ruledex: Splunk ESCU detections, paste-ready.");
        conf.stanza("install").set("is_configured", "false").set("state", "enabled").set("build", "1");
        conf.stanza("launcher")
            .set("author", "ruledex")
            .set("version", APP_VERSION)
            .set("description", &one_line(&self.description()));
        conf.stanza("ui").set("is_visible", "false").set("label", &self.label);
        conf.stanza("package").set("id", &self.id).set("check_for_updates", "false");
        conf.stanza("id").set("name", &self.id).set("version", APP_VERSION);
        conf.into_bytes()
    }

    fn description(&self) -> String {
        let selection = one_line(&self.context.description);
        let count = self.searches.len();
        if selection.is_empty() {
            format!("{count} Splunk ESCU detections exported by ruledex.")
        } else {
            format!("{selection} ({count} Splunk ESCU detections)")
        }
    }

    fn savedsearches_conf(&self) -> Vec<u8> {
        let mut conf = ConfFile::new(
            "One saved search per detection, disabled: enable those you want. Schedules are ESCU's\n\
             defaults for the detection type. Tune false positives in each `<name>_filter` macro.",
        );
        for search in self.searches {
            let name = search.name(&self.id);
            let schedule = escu_schedule(search.annotations.kind.as_deref());
            conf.stanza(&name)
                .set("description", &search.description())
                .set("action.correlationsearch.enabled", "1")
                .set("action.correlationsearch.label", &name)
                .set("action.correlationsearch.annotations", &search.annotations_json())
                .set("cron_schedule", schedule.cron)
                .set("dispatch.earliest_time", schedule.earliest)
                .set("dispatch.latest_time", schedule.latest)
                .set("schedule_window", schedule.window)
                .set("enableSched", "1")
                .set("disabled", "true")
                .set("alert.digest_mode", "1")
                .set("counttype", "number of events")
                .set("relation", "greater than")
                .set("quantity", "0")
                .set("search", &search.expansion.text);
        }
        conf.into_bytes()
    }

    /// The `_filter` macros the saved searches still call, as `search *`.
    fn macros_conf(&self) -> Option<Vec<u8>> {
        let kept: BTreeSet<&str> =
            self.searches.iter().flat_map(|s| s.expansion.kept.iter().map(String::as_str)).collect();
        if kept.is_empty() {
            return None;
        }
        let mut conf = ConfFile::new("Each detection's tuning macro: edit it to filter out false positives.");
        for name in kept {
            conf.stanza(name)
                .set("definition", FILTER_DEFINITION)
                .set("description", "Update this macro to limit the output results to filter out false positives.")
                .set("iseval", "0");
        }
        Some(conf.into_bytes())
    }

    fn transforms_conf(&self) -> Option<Vec<u8>> {
        let mut conf = ConfFile::new("The lookups the saved searches use, as their source defines them.");
        let mut any = false;
        for (name, provision) in &self.lookups {
            let definition = match provision {
                Provision::Table { definition: Some(definition), file, .. } => {
                    conf.stanza(name).set("filename", file);
                    definition
                }
                Provision::KvStore(definition) => {
                    let LookupTable::KvStore { collection, fields_list } = &definition.table else { continue };
                    conf.stanza(name).set("external_type", "kvstore").set("collection", collection);
                    if let Some(fields) = fields_list {
                        conf.set("fields_list", fields);
                    }
                    definition
                }
                _ => continue,
            };
            for (key, value) in &definition.options {
                conf.set(key, value);
            }
            any = true;
        }
        any.then(|| conf.into_bytes())
    }

    fn collections_conf(&self) -> Option<Vec<u8>> {
        let mut conf = ConfFile::new("KV store collections the lookups read, created empty.");
        let mut any = false;
        for provision in self.lookups.values() {
            if let Provision::KvStore(LookupDefinition { table: LookupTable::KvStore { collection, .. }, .. }) =
                provision
            {
                conf.stanza(collection).set("enforceTypes", "false").set("replicate", "false");
                any = true;
            }
        }
        any.then(|| conf.into_bytes())
    }

    fn default_meta(&self) -> Vec<u8> {
        let mut conf = ConfFile::new("Shared with every app, so Enterprise Security sees the correlation searches.");
        conf.stanza("").set("access", "read : [ * ], write : [ admin, sc_admin ]").set("export", "system");
        conf.into_bytes()
    }

    fn readme(&self) -> String {
        readme::render(self)
    }
}

/// A valid Splunk app ID from the export's name: `ruledex_` and the name's letters, digits and
/// underscores (anything else becomes `_`).
pub fn app_id(name: &str) -> String {
    let cleaned: String =
        selection_name(name).chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    let cleaned = cleaned.trim_matches('_');
    if cleaned.is_empty() { "ruledex_export".to_string() } else { format!("ruledex_{cleaned}") }
}

/// The export's name without what the app's ID and label say anyway: ruledex's exports are
/// named `ruledex-T1090-splunk-app`, and the app is `ruledex_T1090`, "ruledex: T1090".
fn selection_name(name: &str) -> &str {
    let name = name.strip_prefix("ruledex-").unwrap_or(name);
    name.strip_suffix(PlatformFormat::SplunkApp.as_str()).and_then(|n| n.strip_suffix('-')).unwrap_or(name)
}

/// The app's label in Splunk's app list.
fn app_label(name: &str) -> String {
    let name: String = one_line(selection_name(name)).chars().take(60).collect();
    if name.is_empty() { "ruledex export".to_string() } else { format!("ruledex: {name}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Provenance, SourceKind};
    use crate::sources::SourceFile;

    const HOSTILE: &str = r#"name: "Evil ]\n[evil]\nsearch = | delete"
id: 11111111-2222-3333-4444-555555555555
type: TTP
description: "first line\n[injected]\nkey = value"
search: "| tstats `security_content_summariesonly` count from datamodel=Endpoint.Processes\n| `drop_dm_object_name(Processes)`\n| lookup local=true my_table x OUTPUT y\n| `evil_filter`"
tags:
  analytic_story: [Story]
  confidence: 70
  impact: 80.5
  cve: [CVE-2024-0001]
  mitre_attack_id: [T1090]
"#;

    fn detection(format: Format, native: &str) -> Detection {
        let mut rule = Format::SplunkEscu
            .adapter()
            .parse(SourceFile { path: "detections/x/evil.yml", text: native })
            .rules
            .remove(0);
        rule.native_rule = native.to_string();
        Detection {
            source: "splunk".into(),
            source_kind: SourceKind::Vendor,
            format,
            id: "evil".into(),
            rule,
            deprecated: false,
            techniques: vec![],
            tactics: vec![],
            unresolved_tags: vec![],
            cves: vec![],
            atlas: vec![],
            provenance: Provenance::default(),
            effective_license: None,
        }
    }

    fn context() -> ExportContext {
        let asset = |path: &str, text: &str| Asset { path: path.into(), text: text.into() };
        let assets = vec![
            asset(
                "macros/security_content_summariesonly.yml",
                "name: security_content_summariesonly\ndefinition: summariesonly=true\n",
            ),
            asset("macros/broken.yml", "name: broken\n"),
            asset("lookups/my_table.yml", "name: my_table\nfilename: my_table.csv\ndefault_match: 'False'\n"),
            asset("lookups/my_table.csv", "x,y\n1,2\n"),
            asset("lookups/unused.yml", "name: unused\nfilename: unused.csv\n"),
            asset("lookups/unused.csv", "a\n"),
        ];
        ExportContext {
            name: "T1090 / evil".into(),
            assets: BTreeMap::from([("splunk".into(), assets)]),
            ..Default::default()
        }
    }

    fn file<'e>(export: &'e Export, path: &str) -> &'e str {
        let file = export.files.iter().find(|f| f.path == path).unwrap_or_else(|| panic!("no {path}"));
        std::str::from_utf8(&file.bytes).unwrap()
    }

    #[test]
    fn hostile_text_cannot_add_stanzas_or_settings() {
        let escu = detection(Format::SplunkEscu, HOSTILE);
        let export = SplunkApp.write(&[&escu], &context()).unwrap();
        let saved = file(&export, "ruledex_T1090___evil/default/savedsearches.conf");
        let headers: Vec<&str> = saved.lines().filter(|l| l.starts_with('[')).collect();
        assert_eq!(headers, vec!["[ruledex_T1090___evil - Evil evil search = | delete - Rule]"]);
        assert!(saved.contains("\ndescription = first line [injected] key = value\n"), "{saved}");
        assert!(saved.contains(
            "search = | tstats summariesonly=true count from datamodel=Endpoint.Processes\\\n| rename Processes.* as *\\\n\
             | lookup local=true my_table x OUTPUT y\\\n| `evil_filter`\n"
        ), "{saved}");
        assert!(saved.contains(
            r#"action.correlationsearch.annotations = {"analytic_story":["Story"],"confidence":70,"cve":["CVE-2024-0001"],"impact":80.5,"mitre_attack":["T1090"],"nist":["DE.CM"]}"#
        ), "{saved}");
    }

    #[test]
    fn the_app_ships_the_lookups_used_and_reports_what_it_cannot_read() {
        let escu = detection(Format::SplunkEscu, HOSTILE);
        let export = SplunkApp.write(&[&escu], &context()).unwrap();
        let paths: Vec<&str> = export.files.iter().map(|f| f.path.as_str()).collect();
        assert!(paths.contains(&"ruledex_T1090___evil/lookups/my_table.csv"));
        assert!(!paths.iter().any(|p| p.contains("unused")), "{paths:?}");
        let transforms = file(&export, "ruledex_T1090___evil/default/transforms.conf");
        assert!(transforms.contains("[my_table]\nfilename = my_table.csv\ndefault_match = false\n"), "{transforms}");
        let macros = file(&export, "ruledex_T1090___evil/default/macros.conf");
        assert!(macros.contains("[evil_filter]\ndefinition = search *\n"), "{macros}");
        let readme = file(&export, "ruledex_T1090___evil/README.txt");
        assert!(readme.contains("- macros/broken.yml: missing `definition`"), "{readme}");
    }

    /// Issue 23: `get_asset` is listed as unresolved, and the app says Enterprise Security is needed.
    #[test]
    fn searches_calling_enterprise_security_macros_say_they_need_it() {
        let native = HOSTILE.replace("| `evil_filter`", "| `get_asset(src)` | `other_app(x)` | `evil_filter`");
        let escu = detection(Format::SplunkEscu, &native);
        let export = SplunkApp.write(&[&escu], &context()).unwrap();
        let saved = file(&export, "ruledex_T1090___evil/default/savedsearches.conf");
        let needs = "Needs Splunk Enterprise Security: it calls `get_asset(1)`, which Enterprise Security defines.";
        assert!(saved.contains(&format!("key = value {needs}\n")), "{saved}");
        let readme = file(&export, "ruledex_T1090___evil/README.txt");
        assert!(readme.contains(
            "Searches that need Splunk Enterprise Security (1):\n- Evil ] [evil] search = | delete: calls `get_asset(1)`, \
             which Enterprise Security defines.\n"
        ), "{readme}");
        assert!(readme.contains("- `get_asset(1)`, called by: "), "{readme}");
        assert!(readme.contains("Splunk Enterprise Security defines it"), "{readme}");
        assert!(readme.contains("- `other_app(1)`, called by: "), "{readme}");
        let plain = SplunkApp.write(&[&detection(Format::SplunkEscu, HOSTILE)], &context()).unwrap();
        let readme = file(&plain, "ruledex_T1090___evil/README.txt");
        assert!(readme.contains("Searches that need Splunk Enterprise Security (0):\n- none"), "{readme}");
    }

    #[test]
    fn other_formats_are_skipped_with_the_reason_and_nothing_is_an_error() {
        let escu = detection(Format::SplunkEscu, HOSTILE);
        let sigma = detection(Format::Sigma, HOSTILE);
        let export = SplunkApp.write(&[&sigma, &escu], &context()).unwrap();
        assert_eq!(export.included, vec!["splunk/evil"]);
        assert_eq!(export.skipped[0].reason, "not a Splunk ESCU detection (read as sigma)");
        let error = SplunkApp.write(&[&sigma], &context()).unwrap_err();
        assert!(matches!(error, ExportError::Nothing { selected: 1, .. }), "{error}");
    }

    #[test]
    fn a_detection_without_its_native_file_is_an_error_naming_it() {
        let mut escu = detection(Format::SplunkEscu, HOSTILE);
        escu.rule.native_rule.clear();
        let error = SplunkApp.write(&[&escu], &context()).unwrap_err();
        assert_eq!(error.to_string(), "splunk/evil: the native ESCU file is not loaded; export whole detections");
    }

    #[test]
    fn app_ids_are_valid_splunk_ids() {
        assert_eq!(app_id("T1090"), "ruledex_T1090");
        assert_eq!(app_id("ruledex-T1090-splunk-app"), "ruledex_T1090", "no stutter");
        assert_eq!(app_label("ruledex-T1090-splunk-app"), "ruledex: T1090");
        assert_eq!(app_id("search-tor exit"), "ruledex_search_tor_exit");
        assert_eq!(app_id("../é"), "ruledex_export");
        assert_eq!(escu_schedule(Some("Baseline")).cron, "10 0 * * *");
        assert_eq!(escu_schedule(Some("TTP")).earliest, "-70m@m");
    }
}

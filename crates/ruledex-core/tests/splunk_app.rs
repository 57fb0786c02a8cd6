//! The `splunk-app` export of the real ESCU corpus in ../shared: the app's files parse back and
//! hang together, and Splunk AppInspect passes the packaged app with no failure and no error.
//!
//! AppInspect is `pip install splunk-appinspect` (scripts/test.sh installs it); the test runs
//! the `splunk-appinspect` on PATH, or the one `SPLUNK_APPINSPECT` names. With
//! `RULEDEX_KEEP_APPS=DIR`, the packaged apps and AppInspect's reports are copied into DIR.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use ruledex_core::export::{Export, ExportContext, PlatformFormat};
use ruledex_core::ids::TechniqueId;
use ruledex_core::ingest::{IngestedSource, SourceSpec, ingest};
use ruledex_core::model::{Detection, SourceKind};
use ruledex_core::sources::Format;
use ruledex_core::sources::splunk::lookups_used;
use ruledex_core::sources::splunk::spl::{Piece, pieces};

use crate::common::{enterprise_attack, shared, spec};

fn splunk() -> &'static IngestedSource {
    static SOURCE: OnceLock<IngestedSource> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let spec = SourceSpec {
            license: Some("Apache-2.0".into()),
            repository: Some("https://github.com/splunk/security_content".into()),
            commit: Some("b13b314aed0e1778335a55620474e7d27289a20a".into()),
            ..spec("splunk", Format::SplunkEscu, SourceKind::Vendor, &shared().join("corpus/splunk-security-content"))
        };
        ingest(&spec, enterprise_attack(), &|_| {}).expect("the ESCU corpus in ../shared")
    })
}

fn export(name: &str, detections: &[&Detection]) -> Export {
    let context = ExportContext {
        name: name.into(),
        description: format!("ruledex selection {name}"),
        assets: BTreeMap::from([("splunk".to_string(), splunk().assets.clone())]),
        attack_version: Some("18.1".into()),
    };
    let writer = PlatformFormat::SplunkApp.writer();
    writer.write(detections, &context).expect("an app")
}

fn t1090_family() -> Vec<&'static Detection> {
    let proxy: TechniqueId = "T1090".parse().expect("valid ID");
    splunk().detections.iter().filter(|d| d.techniques.iter().any(|t| t.id.parent() == proxy)).collect()
}

/// A `.conf` file: stanzas with their settings, in order. Lines ending in a backslash go on on
/// the next line (the newline is kept), `#` lines are comments.
type Conf = Vec<(String, BTreeMap<String, String>)>;

fn parse_conf(text: &str) -> Conf {
    let mut conf: Conf = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            conf.push((name.to_string(), BTreeMap::new()));
            continue;
        }
        let (key, value) = line.split_once('=').unwrap_or_else(|| panic!("not a setting: {line:?}"));
        let mut value = value.trim_start().to_string();
        while value.ends_with('\\') {
            value.pop();
            value.push('\n');
            value.push_str(lines.next().expect("a continuation line"));
        }
        let (_, settings) = conf.last_mut().unwrap_or_else(|| panic!("{key} outside a stanza"));
        settings.insert(key.trim().to_string(), value.trim_end().to_string());
    }
    conf
}

/// The app's files by path inside the app folder; the folder is the app's ID.
fn app_files(export: &Export) -> (String, BTreeMap<String, String>) {
    let id = export.files[0].path.split('/').next().expect("a folder").to_string();
    let files = export
        .files
        .iter()
        .map(|f| {
            let path = f.path.strip_prefix(&format!("{id}/")).expect("every file in the app folder");
            (path.to_string(), String::from_utf8(f.bytes.clone()).expect("text files"))
        })
        .collect();
    (id, files)
}

fn conf(files: &BTreeMap<String, String>, path: &str) -> Conf {
    files.get(path).map(|text| parse_conf(text)).unwrap_or_default()
}

fn setting<'a>(conf: &'a Conf, stanza: &str, key: &str) -> Option<&'a str> {
    conf.iter().find(|(name, _)| name == stanza).and_then(|(_, settings)| settings.get(key)).map(String::as_str)
}

/// The README section listing `heading`'s items (`- item...` lines up to a blank line).
fn readme_items<'a>(readme: &'a str, heading: &str) -> Vec<&'a str> {
    let start = readme.find(heading).unwrap_or_else(|| panic!("README has no {heading:?}"));
    readme[start..].lines().skip(1).take_while(|l| !l.is_empty()).filter_map(|l| l.strip_prefix("- ")).collect()
}

fn assert_app_hangs_together(export: &Export, detections: &[&Detection]) {
    let (id, files) = app_files(export);
    assert_eq!(setting(&conf(&files, "default/app.conf"), "package", "id"), Some(id.as_str()));
    assert_eq!(setting(&conf(&files, "default/app.conf"), "id", "name"), Some(id.as_str()));
    let saved = conf(&files, "default/savedsearches.conf");
    assert_eq!(saved.len(), export.included.len(), "one stanza per detection written");
    assert_eq!(export.included.len() + export.skipped.len(), detections.len());
    let macros = conf(&files, "default/macros.conf");
    let transforms = conf(&files, "default/transforms.conf");
    let collections = conf(&files, "default/collections.conf");
    let readme = &files["README.txt"];
    let unresolved = readme_items(readme, "Macros this app cannot define");
    let not_shipped = readme_items(readme, "Lookups the searches use that this app does not ship");
    let by_address: BTreeMap<String, &Detection> = detections.iter().map(|d| (d.address(), *d)).collect();
    for ((name, settings), address) in saved.iter().zip(&export.included) {
        let detection = by_address[address];
        let title = detection.rule.title.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(name.contains(&title), "{name} for {address}");
        for key in ["cron_schedule", "dispatch.earliest_time", "dispatch.latest_time", "description"] {
            assert!(settings.contains_key(key), "{name}: no {key}");
        }
        let annotations: serde_json::Value =
            serde_json::from_str(&settings["action.correlationsearch.annotations"]).expect("JSON annotations");
        // ESCU's build leaves the key out when there is nothing to list.
        let mitre_attack = annotations.get("mitre_attack").cloned().unwrap_or_else(|| serde_json::json!([]));
        assert_eq!(mitre_attack, serde_json::json!(detection.rule.attack_tags), "{name}");
        let search = &settings["search"];
        // Every macro still called is defined in macros.conf or listed as unresolved.
        let mut called_filters = BTreeSet::new();
        for piece in pieces(search) {
            if let Piece::Call(call) = piece {
                let key = call.key();
                let defined = macros.iter().any(|(stanza, _)| *stanza == key);
                let listed = unresolved.iter().any(|item| item.starts_with(&format!("`{key}`")));
                assert!(defined || listed, "{name}: `{key}` neither defined nor listed");
                if defined {
                    assert_eq!(setting(&macros, &key, "definition"), Some("search *"));
                    called_filters.insert(call.text.to_string());
                }
            }
        }
        // With its `_filter` macros expanded, the search is the detection's paste-ready search.
        let expanded = called_filters.iter().fold(search.clone(), |s, call| s.replace(call, "search *"));
        let paste_ready = detection.rule.paste_ready_query.as_deref().unwrap_or(&detection.rule.query);
        assert_eq!(expanded, paste_ready.trim(), "{name}");
        // Every lookup used is shipped with its definition, or listed as not shipped.
        for lookup in lookups_used(search) {
            let listed = not_shipped.iter().any(|item| item.starts_with(&format!("{lookup}: ")));
            let kv_store = setting(&transforms, &lookup, "external_type") == Some("kvstore");
            let table = setting(&transforms, &lookup, "filename").map(|f| f.to_string()).or_else(|| {
                lookup.ends_with(".csv").then(|| lookup.clone()).filter(|f| files.contains_key(&format!("lookups/{f}")))
            });
            if kv_store {
                let collection = setting(&transforms, &lookup, "collection").expect("a collection");
                assert!(collections.iter().any(|(stanza, _)| stanza == collection), "{lookup}: no collection");
            } else if let Some(table) = table {
                assert!(files.contains_key(&format!("lookups/{table}")), "{lookup}: lookups/{table} not shipped");
            } else {
                assert!(listed, "{name}: lookup {lookup} neither shipped nor listed");
            }
        }
    }
    // Only what is used ships.
    for path in files.keys().filter(|p| p.starts_with("lookups/")) {
        let file = &path["lookups/".len()..];
        let referenced = transforms.iter().any(|(_, s)| s.get("filename").map(String::as_str) == Some(file))
            || saved.iter().any(|(_, s)| lookups_used(&s["search"]).iter().any(|l| l == file));
        assert!(referenced, "{path} ships but no search uses it");
    }
}

/// Packs the app as Splunk apps are packaged: a gzipped tar with the app folder at its root.
fn package(export: &Export, dir: &Path) -> PathBuf {
    for file in &export.files {
        let path = dir.join(&file.path);
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("folder");
        std::fs::write(&path, &file.bytes).expect("file");
    }
    let (id, _) = app_files(export);
    let tgz = dir.join(format!("{id}.tgz"));
    let status = Command::new("tar").arg("-czf").arg(&tgz).arg("-C").arg(dir).arg(&id).status().expect("tar runs");
    assert!(status.success(), "tar failed");
    tgz
}

fn appinspect() -> String {
    let program = std::env::var("SPLUNK_APPINSPECT").unwrap_or_else(|_| "splunk-appinspect".into());
    match Command::new(&program).arg("--help").output() {
        Ok(output) if output.status.success() => program,
        _ => panic!(
            "{program} is not installed: run scripts/test.sh, or `pip install splunk-appinspect` (it needs \
             libmagic: `apt-get install libmagic1`), or set SPLUNK_APPINSPECT to its path"
        ),
    }
}

/// Runs AppInspect offline on the packaged app and returns its JSON report.
fn inspect(tgz: &Path) -> serde_json::Value {
    let report = tgz.with_extension("json");
    let output = Command::new(appinspect())
        .arg("inspect")
        .arg(tgz)
        .arg("--output-file")
        .arg(&report)
        .arg("--data-format")
        .arg("json")
        // The trusted-libraries list is for Python code (the app has none); updating it would fetch.
        .arg("--skip-trusted-libraries-update")
        .output()
        .expect("splunk-appinspect runs");
    let text = std::fs::read_to_string(&report).unwrap_or_else(|_| {
        panic!(
            "no AppInspect report; it said:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    serde_json::from_str(&text).expect("AppInspect's JSON report")
}

fn assert_appinspect_passes(export: &Export) {
    let dir = tempfile::tempdir().expect("temp dir");
    let tgz = package(export, dir.path());
    let report = inspect(&tgz);
    if let Some(keep) = std::env::var_os("RULEDEX_KEEP_APPS") {
        for file in [tgz.clone(), tgz.with_extension("json")] {
            let name = file.file_name().expect("a file name");
            std::fs::copy(&file, Path::new(&keep).join(name)).expect("copy into RULEDEX_KEEP_APPS");
        }
    }
    let summary = &report["summary"];
    let mut problems = Vec::new();
    for check in report["reports"][0]["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["checks"].as_array().into_iter().flatten())
    {
        let result = check["result"].as_str().unwrap_or_default();
        if matches!(result, "failure" | "error" | "warning") {
            let messages: Vec<&str> = check["messages"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|m| m["message"].as_str())
                .take(3)
                .collect();
            problems.push(format!("{result} {}: {messages:?}", check["name"]));
        }
    }
    eprintln!("AppInspect summary: {summary}\n{}", problems.join("\n"));
    assert_eq!(summary["failure"], 0, "{problems:#?}");
    assert_eq!(summary["error"], 0, "{problems:#?}");
    assert!(summary["success"].as_u64().unwrap_or_default() > 0, "AppInspect ran no check: {summary}");
}

#[test]
fn the_t1090_family_exports_as_an_app_that_passes_appinspect() {
    let detections = t1090_family();
    assert!(detections.len() >= 5, "only {} T1090 detections", detections.len());
    let export = export("T1090", &detections);
    assert!(export.skipped.is_empty(), "{:?}", export.skipped);
    assert_app_hangs_together(&export, &detections);
    assert_appinspect_passes(&export);
}

#[test]
fn every_splunk_detection_exports_as_an_app_that_passes_appinspect() {
    let detections: Vec<&Detection> = splunk().detections.iter().collect();
    let export = export("all splunk", &detections);
    assert_eq!(export.included.len(), detections.len(), "{:?}", export.skipped);
    let (id, files) = app_files(&export);
    assert_eq!(id, "ruledex_all_splunk");
    let csvs = files.keys().filter(|p| p.ends_with(".csv")).count();
    eprintln!("{} saved searches, {} files, {csvs} lookup tables", export.included.len(), export.files.len());
    assert_app_hangs_together(&export, &detections);
    assert_appinspect_passes(&export);
}

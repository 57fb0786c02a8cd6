//! Exports of the real corpora in ../shared, read back with each format's own parser: TOML,
//! YAML and JSON parsers, the ARM schemas Azure publishes, and ruledex's own adapters.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use jsonschema::Validator;
use regex::Regex;
use ruledex_core::export::{Export, ExportContext, ExportError, ExportFile, PlatformFormat};
use ruledex_core::ingest::{IngestedSource, ingest};
use ruledex_core::model::{Detection, Provenance, Rule, RuleType, SourceKind};
use ruledex_core::sources::{Format, SourceFile};
use serde_json::{Map, Value, json};

use crate::common::{enterprise_attack, shared, spec};

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A corpus, ingested once per test run.
struct Corpus {
    root: PathBuf,
    source: IngestedSource,
}

impl Corpus {
    fn load(name: &str, format: Format, kind: SourceKind, root: PathBuf) -> Corpus {
        let spec = spec(name, format, kind, &root);
        let source = ingest(&spec, enterprise_attack(), &|_| {}).expect("corpus root exists");
        assert!(!source.detections.is_empty(), "{name}: no detections");
        Corpus { root, source }
    }

    fn detections(&self) -> Vec<&Detection> {
        self.source.detections.iter().collect()
    }

    fn upstream_text(&self, detection: &Detection) -> String {
        std::fs::read_to_string(self.root.join(&detection.rule.path)).expect("upstream file")
    }

    fn detection(&self, address: &str) -> &Detection {
        self.source.detections.iter().find(|d| d.address() == address).expect("included detection")
    }
}

macro_rules! corpus {
    ($fn:ident, $name:literal, $format:expr, $kind:expr, $path:literal) => {
        fn $fn() -> &'static Corpus {
            static CORPUS: OnceLock<Corpus> = OnceLock::new();
            CORPUS.get_or_init(|| Corpus::load($name, $format, $kind, shared().join($path)))
        }
    };
}

corpus!(elastic, "elastic", Format::Elastic, SourceKind::Vendor, "corpus/elastic-detection-rules");
corpus!(sentinel, "sentinel", Format::Sentinel, SourceKind::Vendor, "corpus-extra/azure-sentinel");
corpus!(chronicle, "chronicle", Format::Chronicle, SourceKind::Vendor, "corpus/chronicle-detection-rules");
corpus!(sigma, "sigma", Format::Sigma, SourceKind::Community, "corpus/sigma");

fn export(format: PlatformFormat, detections: &[&Detection]) -> Result<Export, ExportError> {
    let context =
        ExportContext { name: "T1090".into(), description: "Detections of T1090".into(), ..Default::default() };
    format.writer().write(detections, &context)
}

fn text(file: &ExportFile) -> &str {
    std::str::from_utf8(&file.bytes).expect("UTF-8 export")
}

/// File names a bundle may hold: no directories, dots only before the extension, nothing
/// outside ASCII letters, digits, `-` and `_`.
fn assert_safe_names(export: &Export) {
    let safe = Regex::new(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,160}(\.[A-Za-z0-9]{1,16})?$").expect("valid regex");
    let mut seen = BTreeSet::new();
    for file in &export.files {
        assert!(safe.is_match(&file.path), "unsafe file name {:?}", file.path);
        assert!(seen.insert(file.path.to_ascii_lowercase()), "{} written twice", file.path);
    }
}

/// `[rule]` of an upstream Elastic file as JSON, converted by serde rather than by the writer.
fn upstream_rule(toml_text: &str) -> (Map<String, Value>, Option<Value>) {
    let file: toml::Table = toml::from_str(toml_text).expect("upstream TOML");
    let as_json = |key: &str| file.get(key).map(|v| serde_json::to_value(v).expect("TOML as JSON"));
    let rule = as_json("rule").and_then(|r| r.as_object().cloned()).expect("[rule]");
    (rule, as_json("transform"))
}

#[test]
fn kibana_ndjson_carries_every_elastic_rule_field_and_skips_hunts() {
    let corpus = elastic();
    let export = export(PlatformFormat::KibanaNdjson, &corpus.detections()).expect("rules to export");
    let [file] = export.files.as_slice() else { panic!("one file, got {}", export.files.len()) };
    assert_eq!(file.path, "rules.ndjson");
    let hunts: BTreeSet<String> = corpus
        .source
        .detections
        .iter()
        .filter(|d| d.rule.rule_type == Some(RuleType::Hunt))
        .map(Detection::address)
        .collect();
    let skipped: BTreeSet<String> = export.skipped.iter().map(|s| s.address.clone()).collect();
    assert_eq!(skipped, hunts, "exactly the hunts are skipped");
    assert!(export.skipped.iter().all(|s| s.reason.contains("hunting query")), "{:?}", export.skipped[0]);

    let lines: Vec<&str> = text(file).lines().collect();
    assert_eq!(lines.len(), export.included.len());
    let (mut transformed, mut new_terms) = (0, 0);
    for (line, address) in lines.iter().zip(&export.included) {
        let detection = corpus.detection(address);
        let object: Map<String, Value> = serde_json::from_str(line).expect("each line is a JSON object");
        let (mut upstream, transform) = upstream_rule(&corpus.upstream_text(detection));
        assert_eq!(object["rule_id"].as_str(), Some(detection.rule.native_id.as_str()));
        assert_eq!(object["enabled"], false);
        assert_eq!(object["version"], upstream.get("version").cloned().unwrap_or(json!(1)));
        if let Some(terms) = upstream.remove("new_terms") {
            new_terms += 1;
            assert_eq!(object["new_terms_fields"], terms["value"]);
            assert_eq!(object["history_window_start"], terms["history_window_start"][0]["value"]);
        }
        if let Some(transform) = transform {
            transformed += 1;
            let note = upstream.remove("note").expect("transforms render into the note");
            assert_eq!(object["note"], rendered_note(note.as_str().expect("note"), &transform), "{address}");
        }
        for threat in upstream.get_mut("threat").and_then(Value::as_array_mut).into_iter().flatten() {
            threat.as_object_mut().expect("threat entry").entry("technique").or_insert(json!([]));
        }
        for (key, value) in &upstream {
            if key != "enabled" && key != "version" {
                assert_eq!(object.get(key), Some(value), "{address}: field {key}");
            }
        }
        let added = ["enabled", "version", "new_terms_fields", "history_window_start", "note"];
        let extra: Vec<&String> =
            object.keys().filter(|k| !upstream.contains_key(*k) && !added.contains(&k.as_str())).collect();
        assert!(extra.is_empty(), "{address}: fields not upstream: {extra:?}");
    }
    assert!(transformed > 200 && new_terms > 200, "{transformed} transforms, {new_terms} new terms rules");
    eprintln!(
        "kibana-ndjson: {} rules on {} lines, {} hunts skipped, {transformed} notes with rendered plugins, \
         {new_terms} new terms rules",
        export.included.len(),
        lines.len(),
        export.skipped.len()
    );
}

/// The note with each `$plugin_N` (or `${plugin_N}`) placeholder of the `[transform]` plugins
/// replaced by Kibana's Markdown plugin, `!{plugin{...}}`, holding the entry. Placeholders naming
/// no entry (upstream has `$osquery_6` beside five queries) stay as written, as Elastic's own
/// tooling leaves them.
fn rendered_note(upstream: &str, transform: &Value) -> String {
    let mut note = upstream.to_string();
    for (plugin, entries) in transform.as_object().expect("[transform] table") {
        for (i, entry) in entries.as_array().expect("plugin list").iter().enumerate() {
            let placeholder = Regex::new(&format!(r"\$\{{{plugin}_{i}\}}|\${plugin}_{i}\b")).expect("valid regex");
            let rendered = format!("!{{{plugin}{}}}", serde_json::to_string(entry).expect("JSON"));
            note = placeholder.replace_all(&note, regex::NoExpand(&rendered)).into_owned();
        }
    }
    note
}

/// The validator of an alert rule resource, from Microsoft's published API spec as written down
/// for these tests (tests/fixtures/export/sentinel-alert-rules.schema.json): the kinds each API
/// version lists, and a Scheduled or NRT rule's properties with their types and value sets;
/// nothing else allowed.
fn arm_validator() -> Validator {
    let schema: Value = serde_json::from_str(&fixture("export/sentinel-alert-rules.schema.json")).expect("schema");
    jsonschema::validator_for(&schema).expect("schema builds")
}

#[track_caller]
fn assert_valid(validator: &Validator, instance: &Value, what: &str) {
    let errors: Vec<String> =
        validator.iter_errors(instance).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}

/// The ISO 8601 spelling of each duration the Sentinel sample uses.
fn iso(upstream: &Value) -> Value {
    let iso = match upstream.as_str().expect("duration text") {
        "5m" | "5M" => "PT5M",
        "15m" => "PT15M",
        "30m" => "PT30M",
        "1h" => "PT1H",
        "2h" => "PT2H",
        "24h" => "PT24H",
        "5h" => "PT5H",
        "6h" => "PT6H",
        "1d" => "P1D",
        "2d" => "P2D",
        "3d" => "P3D",
        "7d" => "P7D",
        "8d" => "P8D",
        "14d" => "P14D",
        other => panic!("add the ISO spelling of {other:?}"),
    };
    json!(iso)
}

fn yaml(text: &str) -> Map<String, Value> {
    serde_saphyr::from_str(text).expect("upstream YAML")
}

#[test]
fn sentinel_arm_template_deploys_each_accepted_rule_as_upstream_wrote_it() {
    let corpus = sentinel();
    assert_eq!(corpus.source.detections.len(), 58, "the sample's readable rules");
    let export = export(PlatformFormat::SentinelArm, &corpus.detections()).expect("rules to export");
    let [file] = export.files.as_slice() else { panic!("one file") };
    assert_eq!(file.path, "azuredeploy.json");
    let template: Value = serde_json::from_str(text(file)).expect("the template is JSON");
    assert_eq!(template["$schema"], "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#");
    assert_eq!(template["contentVersion"], "1.0.0.0");
    assert_eq!(
        template["parameters"].as_object().map(|p| p.keys().map(String::as_str).collect::<Vec<_>>()),
        Some(vec!["workspace"])
    );
    assert_eq!(template["parameters"]["workspace"]["type"], "string");

    // Upstream ships a rule with an invalid severity, one with a `//` comment inside its query
    // period, and two Cyfirma rules sharing one ID; each would fail the whole deployment, so
    // they are left out with the reason.
    let mut reasons: Vec<(&str, &str)> = export
        .skipped
        .iter()
        .map(|s| (corpus.detection(&s.address).rule.path.rsplit('/').next().unwrap_or_default(), s.reason.as_str()))
        .collect();
    reasons.sort();
    assert_eq!(reasons.len(), 3, "{reasons:#?}");
    assert_eq!(
        reasons[0],
        (
            "AccountCreatedandDeletedinShortTimeframe.yaml",
            "queryPeriod \"7d // Increased queryperiod to 7 days to mitigate timing-based bypasses\" is not a duration \
             Sentinel reads (like 5m, 1h or 14d)"
        )
    );
    assert_eq!(reasons[1].0, "TORNodeNetworkIndicatorsMonitorMediumSeverityRule.yaml");
    assert!(reasons[1].1.contains("same ID 66590b75-d0bd-45b0-aede-65eac7d9da4e"), "{}", reasons[1].1);
    assert_eq!(
        reasons[2],
        (
            "imAuthBruteForce.yaml",
            "severity \"Mediumasdf\" is not one Sentinel has (Informational, Low, Medium or High)"
        )
    );

    let resources = template["resources"].as_array().expect("resources");
    assert_eq!(resources.len(), export.included.len());
    assert_eq!(resources.len(), 55);
    let resource_schema = arm_validator();
    let mut kinds = HashMap::new();
    for (resource, address) in resources.iter().zip(&export.included) {
        let detection = corpus.detection(address);
        let upstream = yaml(&corpus.upstream_text(detection));
        let properties = &resource["properties"];
        let kind = resource["kind"].as_str().expect("kind");
        *kinds.entry(kind).or_insert(0) += 1;
        assert_eq!(resource["type"], "Microsoft.OperationalInsights/workspaces/providers/alertRules");
        let api_version = if kind == "NRT" { "2025-07-01-preview" } else { "2025-09-01" };
        assert_eq!(resource["apiVersion"], api_version, "{address}");
        let guid = upstream["id"].as_str().expect("id").to_ascii_lowercase();
        assert_eq!(
            resource["name"],
            format!("[concat(parameters('workspace'), '/Microsoft.SecurityInsights/', '{guid}')]")
        );
        assert!(["Scheduled", "NRT"].contains(&kind), "{address}: kind {kind}");
        assert_valid(&resource_schema, resource, address);
        assert_properties_match_upstream(properties, &upstream, kind, address);
        // Issue 23: the stable API lists no NRT kind, so an NRT rule cannot deploy with it.
        let mut stable = resource.clone();
        stable["apiVersion"] = json!("2025-09-01");
        assert_eq!(resource_schema.is_valid(&stable), kind == "Scheduled", "{address}");
    }
    assert_eq!((kinds.get("Scheduled"), kinds.get("NRT")), (Some(&49), Some(&6)), "{kinds:?}");
    eprintln!(
        "sentinel-arm: {} resources ({kinds:?}), {} skipped: {:#?}",
        resources.len(),
        export.skipped.len(),
        export.skipped
    );
}

fn assert_properties_match_upstream(properties: &Value, upstream: &Map<String, Value>, kind: &str, address: &str) {
    let field = |name: &str| upstream.get(name).cloned().unwrap_or(Value::Null);
    let trimmed = |name: &str| json!(field(name).as_str().expect("text").trim());
    assert_eq!(properties["displayName"], trimmed("name"), "{address}");
    assert_eq!(properties["query"], trimmed("query"), "{address}");
    assert_eq!(properties["severity"], field("severity"), "{address}");
    assert_eq!(properties["enabled"], false, "{address}");
    let description = properties["description"].as_str().expect("description");
    assert!(
        !description.is_empty() && field("description").as_str().expect("description").contains(description),
        "{address}"
    );
    let expected_kind =
        if field("kind").as_str().is_some_and(|k| k.eq_ignore_ascii_case("nrt")) { "NRT" } else { "Scheduled" };
    assert_eq!(kind, expected_kind, "{address}");
    if kind == "Scheduled" {
        assert_eq!(properties["queryFrequency"], iso(&field("queryFrequency")), "{address}");
        assert_eq!(properties["queryPeriod"], iso(&field("queryPeriod")), "{address}");
        let operator = match field("triggerOperator").as_str() {
            Some("gt" | "GreaterThan") => "GreaterThan",
            other => panic!("{address}: add the API spelling of {other:?}"),
        };
        assert_eq!(properties["triggerOperator"], operator, "{address}");
        assert_eq!(properties["triggerThreshold"], field("triggerThreshold"), "{address}");
    } else {
        for schedule in ["queryFrequency", "queryPeriod", "triggerOperator", "triggerThreshold"] {
            assert!(properties.get(schedule).is_none(), "{address}: an NRT rule has no {schedule}");
        }
    }
    let suppression = upstream.get("suppressionDuration").map_or(json!("PT1H"), iso);
    assert_eq!(properties["suppressionDuration"], suppression, "{address}");
    assert_eq!(properties["suppressionEnabled"], field("suppressionEnabled").as_bool().unwrap_or(false), "{address}");
    let tactics: Vec<String> = strings(&field("tactics")).iter().map(|t| t.replace(' ', "")).collect();
    assert_eq!(properties["tactics"], json!(tactics), "{address}");
    let relevant = field("relevantTechniques");
    let mut techniques: Vec<&str> = vec![];
    for technique in strings(&relevant) {
        let parent = technique.trim().split('.').next().unwrap_or_default();
        if !techniques.contains(&parent) {
            techniques.push(parent);
        }
    }
    assert_eq!(properties["techniques"], json!(techniques), "{address}");
    for same in ["entityMappings", "customDetails", "alertDetailsOverride", "eventGroupingSettings"] {
        assert_eq!(properties.get(same), upstream.get(same), "{address}: {same}");
    }
    let mut incidents = field("incidentConfiguration");
    if let Some(lookback) = incidents.pointer_mut("/groupingConfiguration/lookbackDuration") {
        *lookback = iso(lookback);
    }
    assert_eq!(properties.get("incidentConfiguration").cloned().unwrap_or(Value::Null), incidents, "{address}");
}

fn strings(value: &Value) -> Vec<&str> {
    value.as_array().map(|items| items.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

/// Reads `text` through the adapter of `format` as the file at `path`.
fn reparse(format: Format, path: &str, text: &str) -> Vec<Rule> {
    let parsed = format.adapter().parse(SourceFile { path, text });
    assert!(parsed.errors.is_empty(), "{path}: {:?}", parsed.errors);
    parsed.rules
}

#[test]
fn yaral_files_read_back_as_one_rule_each_with_its_requirements_named() {
    let corpus = chronicle();
    let export = export(PlatformFormat::Yaral, &corpus.detections()).expect("rules to export");
    assert!(export.skipped.is_empty(), "{:?}", export.skipped);
    assert_safe_names(&export);
    let (rule_files, other): (Vec<&ExportFile>, Vec<&ExportFile>) =
        export.files.iter().partition(|f| f.path.ends_with(".yaral"));
    assert_eq!(rule_files.len(), corpus.source.detections.len());
    let mut renamed = 0;
    for (file, address) in rule_files.iter().zip(&export.included) {
        let detection = corpus.detection(address);
        let [rule] =
            reparse(Format::Chronicle, &format!("rules/{}", file.path), text(file)).try_into().expect("one rule");
        assert_eq!((&rule.native_id, &rule.query), (&detection.rule.native_id, &detection.rule.query), "{}", file.path);
        if file.path != format!("{}.yaral", detection.rule.native_id) {
            renamed += 1;
            assert!(file.path.starts_with(&format!("{}-", detection.rule.native_id)), "{}", file.path);
        }
    }
    let needing: Vec<&Detection> = corpus.source.detections.iter().filter(|d| !d.rule.requires.is_empty()).collect();
    let [readme] = other.as_slice() else { panic!("one README besides the rules, got {other:?}") };
    assert_eq!(readme.path, "README.md");
    let readme = text(readme);
    assert_eq!(readme.lines().filter(|l| l.starts_with("- `")).count(), needing.len());
    for detection in &needing {
        let line = readme.lines().find(|l| l.contains(&format!("({})", detection.address()))).expect("listed");
        assert!(detection.rule.requires.iter().all(|r| line.contains(&format!("`{}`", r.name))), "{line}");
    }
    eprintln!(
        "yaral: {} rule files ({renamed} renamed for repeated rule names), README naming {} rules' lists",
        rule_files.len(),
        needing.len()
    );
}

/// Every exported file is the upstream file, byte for byte, and reads back as the same rule.
fn assert_upstream_files(corpus: &Corpus, format: PlatformFormat, adapter: Format) -> usize {
    let export = export(format, &corpus.detections()).expect("rules to export");
    assert!(export.skipped.is_empty(), "{:?}", export.skipped);
    assert_safe_names(&export);
    assert_eq!(export.files.len(), corpus.source.detections.len());
    for (file, address) in export.files.iter().zip(&export.included) {
        let detection = corpus.detection(address);
        assert_eq!(text(file), corpus.upstream_text(detection), "{address}");
        let [rule] = reparse(adapter, &detection.rule.path, text(file)).try_into().expect("one rule");
        assert_eq!(
            (&rule.native_id, &rule.title, &rule.query),
            (&detection.rule.native_id, &detection.rule.title, &detection.rule.query)
        );
    }
    let kept = export
        .files
        .iter()
        .zip(&export.included)
        .filter(|(f, a)| corpus.detection(a).rule.path.ends_with(&format!("/{}", f.path)));
    kept.count()
}

#[test]
fn sentinel_yaml_files_equal_upstream_and_read_back() {
    let kept_names = assert_upstream_files(sentinel(), PlatformFormat::SentinelYaml, Format::Sentinel);
    assert_eq!(kept_names, 58, "every sample file keeps its upstream name");
    eprintln!("sentinel-yaml: {kept_names} files");
}

#[test]
fn sigma_files_equal_upstream_and_read_back() {
    let corpus = sigma();
    let kept_names = assert_upstream_files(corpus, PlatformFormat::Sigma, Format::Sigma);
    assert!(kept_names * 100 >= corpus.source.detections.len() * 99, "{kept_names} kept their upstream name");
    eprintln!("sigma: {} files, {kept_names} under their upstream name", corpus.source.detections.len());
}

#[test]
fn writers_skip_other_formats_with_reasons_and_refuse_empty_exports() {
    let hunt = elastic().source.detections.iter().find(|d| d.rule.rule_type == Some(RuleType::Hunt)).expect("a hunt");
    let mut selection: Vec<&Detection> = vec![hunt];
    // Rules with a severity: the Sentinel sample's first rule has one Sentinel refuses.
    let writable = |d: &&Detection| d.rule.rule_type != Some(RuleType::Hunt) && d.rule.severity.is_some();
    for corpus in [elastic(), sentinel(), chronicle(), sigma()] {
        selection.extend(corpus.source.detections.iter().filter(writable).take(3));
    }
    let writers = [
        (PlatformFormat::KibanaNdjson, Format::Elastic),
        (PlatformFormat::SentinelArm, Format::Sentinel),
        (PlatformFormat::SentinelYaml, Format::Sentinel),
        (PlatformFormat::Yaral, Format::Chronicle),
        (PlatformFormat::Sigma, Format::Sigma),
    ];
    for (platform, format) in writers {
        let export = export(platform, &selection).expect("three of its own");
        let included: Vec<&str> = export.included.iter().map(String::as_str).collect();
        let own: Vec<String> =
            selection.iter().filter(|d| d.format == format && writable(d)).map(|d| d.address()).collect();
        assert_eq!(included, own, "{platform}");
        assert_eq!(export.skipped.len(), selection.len() - 3, "{platform}");
        for skipped in &export.skipped {
            let detection = selection.iter().find(|d| d.address() == skipped.address).expect("selected");
            let expected = if detection.format == format { "hunting query" } else { "not " };
            assert!(skipped.reason.contains(expected), "{platform}: {}: {}", skipped.address, skipped.reason);
        }
    }
    let elastic_only: Vec<&Detection> = selection.iter().copied().filter(|d| d.format == Format::Elastic).collect();
    match export(PlatformFormat::Sigma, &elastic_only) {
        Err(error @ ExportError::Nothing { selected: 4, .. }) => {
            assert!(
                error.to_string().starts_with("none of the 4 selected detections can be exported as sigma ("),
                "{error}"
            );
        }
        other => panic!("expected nothing to export, got {other:?}"),
    }
    assert!(matches!(export(PlatformFormat::KibanaNdjson, &[hunt]), Err(ExportError::Nothing { selected: 1, .. })));
}

#[test]
fn detections_without_native_text_are_an_error_naming_them() {
    let mut listed = sigma().source.detections[0].clone();
    listed.rule.native_rule.clear();
    match export(PlatformFormat::Sigma, &[&listed]) {
        Err(ExportError::Rule { address, message }) => {
            assert_eq!(address, listed.address());
            assert!(message.contains("no native rule text"), "{message}");
        }
        other => panic!("expected a rule error, got {other:?}"),
    }
}

/// A detection read by `format`'s adapter from `text` at a `path` that may itself be hostile.
fn hostile(format: Format, path: &str, text: &str) -> Vec<Detection> {
    let parsed = format.adapter().parse(SourceFile { path, text });
    assert!(parsed.errors.is_empty(), "{path}: {:?}", parsed.errors);
    parsed
        .rules
        .into_iter()
        .enumerate()
        .map(|(i, rule)| Detection {
            source: "hostile".into(),
            source_kind: SourceKind::Vendor,
            format,
            id: format!("../{i}\u{7}"),
            rule,
            deprecated: false,
            techniques: vec![],
            tactics: vec![],
            unresolved_tags: vec![],
            cves: vec![],
            atlas: vec![],
            provenance: Provenance::default(),
            effective_license: None,
        })
        .collect()
}

fn only_file(export: &Export) -> &str {
    let [file] = export.files.as_slice() else { panic!("one file, got {:?}", export.files) };
    text(file)
}

#[test]
fn hostile_elastic_rules_become_one_valid_ndjson_line() {
    let detections = hostile(Format::Elastic, "rules/../../\u{0}evil.toml", &fixture("export/hostile.toml"));
    let export = export(PlatformFormat::KibanaNdjson, &detections.iter().collect::<Vec<_>>()).expect("exported");
    let ndjson = only_file(&export);
    assert_eq!(ndjson.lines().count(), 1, "{ndjson}");
    let rule: Value = serde_json::from_str(ndjson.trim_end()).expect("JSON");
    assert_eq!(rule["name"], "../../etc/passwd \" ; rm -rf / \u{1b}[31m");
    assert!(rule["description"].as_str().unwrap().contains("\u{7} bell, a \u{0} NUL, a \u{2028} separator"));
    assert_eq!(rule["version"], 7, "from [metadata]");
    assert_eq!(rule["new_terms_fields"], json!(["host.id", "user.name"]));
    assert_eq!(rule["threat"][0]["technique"], json!([]));
    let osquery = r#"!{osquery{"label":"Quote \" and newline\n and ünïcode ✓","query":"SELECT * FROM users WHERE username = {{user.name}}"}}"#;
    assert_eq!(rule["note"], format!("Costs $5. Run {osquery}, keep $unknown, ${{osquery_9}} and $osquery_0x."));
}

#[test]
fn hostile_sentinel_rules_stay_literal_in_the_arm_template() {
    let upstream = fixture("export/hostile.yaml");
    let mut detections = hostile(Format::Sentinel, "Detections/../\"evil\".yaml", &upstream);
    let refusals = [
        ("id: 0F0E0D0C-0B0A-4909-8807-060504030201", "id: \"../../evil'); x('\"", "is not a GUID"),
        ("kind: scheduled", "kind: Fusion", "a Fusion rule"),
        ("queryFrequency: 5M", "queryFrequency: 5 minutes", "queryFrequency \"5 minutes\""),
        ("triggerOperator: ne", "triggerOperator: ge", "triggerOperator \"ge\""),
        ("  - privilegeescalation", "  - Lateral Moves", "tactic \"Lateral Moves\""),
        ("severity: High", "severity: Critical", "severity \"Critical\""),
    ];
    for (from, to, _) in refusals {
        assert!(upstream.contains(from), "{from}");
        detections.extend(hostile(Format::Sentinel, "Detections/x.yaml", &upstream.replace(from, to)));
    }
    let export = export(PlatformFormat::SentinelArm, &detections.iter().collect::<Vec<_>>()).expect("one rule");
    let reasons: Vec<&str> = export.skipped.iter().map(|s| s.reason.as_str()).collect();
    assert_eq!(reasons.len(), refusals.len(), "{reasons:#?}");
    for (_, _, reason) in refusals {
        assert!(reasons.iter().any(|got| got.contains(reason)), "no reason mentions {reason:?}: {reasons:#?}");
    }
    let template: Value = serde_json::from_str(only_file(&export)).expect("JSON");
    let [resource] = template["resources"].as_array().unwrap().as_slice() else { panic!("one resource") };
    assert_eq!(
        resource["name"],
        "[concat(parameters('workspace'), '/Microsoft.SecurityInsights/', '0f0e0d0c-0b0a-4909-8807-060504030201')]"
    );
    let validator = arm_validator();
    assert_valid(&validator, resource, "hostile rule");
    let mut critical = resource.clone();
    critical["properties"]["severity"] = json!("Critical");
    assert!(!validator.is_valid(&critical), "the schema checks values");
    let properties = &resource["properties"];
    assert_eq!(properties["displayName"], "[[concat(parameters('workspace'), '../../x')]");
    assert_eq!(properties["description"], "Quotes \" and a bell \u{7}, a NUL \u{0} and ünïcode ✓");
    assert_eq!(properties["customDetails"]["Evil"], "[[parameters('workspace')]");
    // Issue 21: ARM evaluates keys too; an upstream key that reads as an expression is escaped.
    let keys: Vec<&String> = properties["customDetails"].as_object().unwrap().keys().collect();
    assert!(
        keys.contains(&&"[[listKeys(parameters('workspace'), '2020-08-01').primarySharedKey]".to_string()),
        "{keys:?}"
    );
    assert!(!keys.iter().any(|k| k.starts_with('[') && !k.starts_with("[[")), "{keys:?}");
    assert_eq!(properties["entityMappings"][0]["fieldMappings"][0]["columnName"], "[[x]");
    assert!(properties["query"].as_str().unwrap().contains("\"[a]\""), "a query is not one string in brackets");
    assert_eq!(properties["tactics"], json!(["CommandAndControl", "PrivilegeEscalation"]));
    assert_eq!(properties["techniques"], json!(["T1090", "T1008"]));
    let schedule: Vec<&Value> =
        ["queryFrequency", "queryPeriod", "suppressionDuration", "triggerOperator", "triggerThreshold"]
            .iter()
            .map(|k| &properties[*k])
            .collect();
    assert_eq!(schedule, [&json!("PT5M"), &json!("P14D"), &json!("PT2H"), &json!("NotEqual"), &json!(2)]);
    assert_eq!(properties["incidentConfiguration"]["groupingConfiguration"]["lookbackDuration"], "PT5H");
}

#[test]
fn hostile_yaral_files_get_safe_unique_names_and_read_back() {
    let mut detections = hostile(Format::Chronicle, "rules/../evil.yaral", &fixture("export/hostile.yaral"));
    assert_eq!(detections.len(), 2);
    let mut renamed = detections[0].clone();
    renamed.rule.native_id = "../../\u{1}etc/passwd\u{202e}".into();
    detections.push(renamed);
    let export = export(PlatformFormat::Yaral, &detections.iter().collect::<Vec<_>>()).expect("exported");
    assert_safe_names(&export);
    let names: Vec<&str> = export.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(names, ["evil_rule.yaral", "evil_rule-2.yaral", "etc_passwd.yaral", "README.md"]);
    for (file, detection) in export.files.iter().zip(&detections) {
        let [rule] = reparse(Format::Chronicle, "rules/x.yaral", text(file)).try_into().expect("one rule");
        assert_eq!(rule.query, detection.rule.query);
    }
    let readme = text(&export.files[3]);
    assert!(readme.starts_with("# Google SecOps rules: T1090\n\nDetections of T1090\n"), "{readme}");
    assert!(readme.contains("- `evil_rule.yaral` (hostile/../0\u{7}): reference list `evil_list`"), "{readme}");
    assert!(readme.contains("- `evil_rule-2.yaral` (hostile/../1\u{7}): reference list `other_list`"), "{readme}");
}

#[test]
fn hostile_and_huge_sigma_rules_keep_their_text_under_safe_names() {
    let upstream = fixture("export/hostile.yml");
    let huge_title = format!("title: {}\n", "A".repeat(1 << 20));
    let huge = upstream.replacen("title:", &format!("{huge_title}x-title:"), 1);
    let huge_path = format!("rules/{}{}.yml", "\u{202e}../".repeat(2_000), "x".repeat(5_000));
    let mut detections = hostile(Format::Sigma, "rules/../../\u{7}ev il\"name.yml", &upstream);
    detections.extend(hostile(Format::Sigma, &huge_path, &huge));
    detections.extend(hostile(Format::Sigma, "rules/CON.yml", &upstream));
    detections.extend(hostile(Format::Sigma, "rules/-.yml", &upstream));
    let export = export(PlatformFormat::Sigma, &detections.iter().collect::<Vec<_>>()).expect("exported");
    assert_safe_names(&export);
    let names: Vec<&str> = export.files.iter().map(|f| f.path.as_str()).collect();
    let capped = format!("{}.yml", "x".repeat(150));
    assert_eq!(names, ["ev_il_name.yml", &capped, "CON_.yml", "rule.yml"]);
    for (file, detection) in export.files.iter().zip(&detections) {
        assert_eq!(text(file), detection.rule.native_rule);
        let [rule] = reparse(Format::Sigma, "rules/x.yml", text(file)).try_into().expect("one rule");
        assert_eq!(rule.title, detection.rule.title);
    }
    assert_eq!(detections[1].rule.title.len(), 1 << 20);
}

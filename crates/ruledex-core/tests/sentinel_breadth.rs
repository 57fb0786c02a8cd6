//! Microsoft Sentinel's content in every layout the broader sample shows
//! (../shared/corpus-extra/azure-sentinel-breadth: analytic rules and hunting queries from
//! Detections/, Hunting Queries/ and the Solutions, taken file by file upstream; issue 29).
#![allow(clippy::unwrap_used)] // a test panics on data that is not what it expects, by design

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::OnceLock;

use ruledex_core::export::{ExportContext, PlatformFormat};
use ruledex_core::ids::TechniqueId;
use ruledex_core::ingest::{IngestedSource, ingest};
use ruledex_core::model::{Detection, Language, RuleType, SourceKind};
use ruledex_core::sources::Format;
use serde_json::{Value, json};

use crate::common::{arm_validator, assert_valid, attack, revoked_techniques, shared, spec};

fn root() -> PathBuf {
    shared().join("corpus-extra/azure-sentinel-breadth")
}

fn sentinel() -> &'static IngestedSource {
    static SOURCE: OnceLock<IngestedSource> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let spec = spec("sentinel", Format::Sentinel, SourceKind::Vendor, &root());
        ingest(&spec, attack(), &|_| {}).expect("corpus root exists")
    })
}

/// Every file of the sample (SOURCE.txt aside) with its text, by path.
fn sample_files() -> BTreeMap<String, String> {
    walkdir::WalkDir::new(root())
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.file_name() != "SOURCE.txt")
        .map(|e| {
            let path = e.path().strip_prefix(root()).unwrap().to_string_lossy().into_owned();
            (path, std::fs::read_to_string(e.path()).unwrap())
        })
        .collect()
}

fn is_hunting(path: &str) -> bool {
    path.starts_with("Hunting Queries/") || path.split('/').nth(2) == Some("Hunting Queries")
}

/// The files upstream ships broken or without a rule, each with the start of its reason.
const NOT_RULES: &[(&str, &str)] = &[
    ("Detections/ASimProcess/imProcess_PotentialBuildProcessCompromise.yaml", "invalid YAML"),
    ("Detections/AuditLogs/Suspicious Service Principal creation activity.yaml", "invalid YAML"),
    ("Detections/CommonSecurityLog/Fortinet-NetworkBeaconingWithJitter.yaml", "invalid YAML"),
    ("Detections/MultipleDataSources/MailBoxPermissionTampering.yaml", "invalid YAML"),
    ("Detections/OfficeActivity/UnifiedAuditLogDisabled.yaml", "invalid YAML"),
    ("Detections/SecurityEvent/CredentialDumpingServiceExecution.yaml", "invalid YAML"),
    ("Detections/ThreatIntelligenceIndicator/IPEntity_ApacheHTTPServer.yaml", "invalid YAML"),
    ("Detections/ThreatIntelligenceIndicator/URLEntitity_PaloAlto.yaml", "invalid YAML"),
    ("Hunting Queries/CommonSecurityLog/Palo Alto - potential beaconing detected.yaml", "a placeholder, not a rule"),
    ("Hunting Queries/Microsoft 365 Defender/Impact/VolumeShadowCopiesDeleted.yaml", "invalid YAML"),
    (
        "Hunting Queries/Microsoft 365 Defender/Initial access/File Archiver in the browser URL click.yaml",
        "not a Sentinel rule: the file holds only text",
    ),
    ("Hunting Queries/SecurityEvent/PotentialImpacketExecution.yaml", "a placeholder, not a rule"),
    ("Hunting Queries/SecurityEvent/SignedBinaryProxyExecutionRundll32.yaml", "a placeholder, not a rule"),
    ("Hunting Queries/SigninLogs/Signins-from-NordVPN-Providers.yaml", "a placeholder, not a rule"),
];

#[test]
fn every_file_with_a_query_is_a_detection_or_a_named_failure() {
    let source = sentinel();
    let files = sample_files();
    assert_eq!(files.len(), 296);
    assert_eq!(source.report.files, files.len(), "every layout and extension is read (.yaml, .yml, .YAML)");
    let detected: BTreeSet<&str> = source.detections.iter().map(|d| d.rule.path.as_str()).collect();
    let failed: BTreeMap<&str, &str> =
        source.report.failures.iter().map(|f| (f.path.as_str(), f.reason.as_str())).collect();
    for (path, text) in &files {
        let query = text.lines().any(|l| l.starts_with("query:"));
        match (detected.contains(path.as_str()), failed.get(path.as_str())) {
            (true, None) => assert!(query, "{path}: a detection without a query"),
            (false, Some(reason)) => {
                let named = NOT_RULES.iter().find(|(p, _)| p == path).unwrap_or_else(|| panic!("{path}: {reason}"));
                assert!(reason.starts_with(named.1), "{path}: {reason}");
            }
            other => panic!("{path}: {other:?}"),
        }
    }
    assert_eq!(failed.len(), NOT_RULES.len(), "{failed:#?}");
    assert_eq!(source.detections.len(), 296 - NOT_RULES.len());
    let hunts: Vec<_> = source.detections.iter().filter(|d| is_hunting(&d.rule.path)).collect();
    assert_eq!(hunts.len(), 146 - 6, "the hunting queries but the broken six");
    assert!(hunts.iter().all(|d| d.rule.rule_type == Some(RuleType::Hunt)));
    let analytics = source.detections.iter().filter(|d| !is_hunting(&d.rule.path));
    assert!(analytics.clone().all(|d| d.rule.rule_type == Some(RuleType::Alert)), "Scheduled and NRT rules");
    assert!(source.detections.iter().all(|d| d.rule.language == Some(Language::Kusto) && !d.rule.query.is_empty()));
}

/// The upstream file's fields, parsed here apart from the adapter.
fn fields(text: &str) -> serde_json::Map<String, Value> {
    serde_saphyr::from_str(text).expect("valid YAML")
}

fn list(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(scalar_text).collect(),
        Some(other) => scalar_text(other).into_iter().collect(),
        None => vec![],
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Each detection's techniques are what its file's `relevantTechniques` names (one hunting query
/// spells the key `technique`, read alike), revoked IDs followed to their replacements (as the
/// ATT&CK bundle's `revoked-by` relationships say, read apart from ruledex); what
/// names no technique there (`T1A0007`, `1089`) is kept among the unresolved tags. Counted over
/// every detection of the sample: no disagreement.
#[test]
fn technique_sets_equal_relevant_techniques() {
    let files = sample_files();
    let mut disagreements = Vec::new();
    let mut revoked = 0;
    for detection in &sentinel().detections {
        let upstream = fields(&files[&detection.rule.path]);
        let mut listed = list(upstream.get("relevantTechniques"));
        listed.extend(list(upstream.get("technique")));
        listed.extend(list(upstream.get("tags")).into_iter().filter(|t| t.parse::<TechniqueId>().is_ok()));
        let (ids, others): (Vec<_>, Vec<_>) = listed.iter().partition(|t| t.parse::<TechniqueId>().is_ok());
        let canonical = ids.iter().map(|t| t.parse::<TechniqueId>().unwrap().to_string());
        let replaced = canonical.inspect(|id| revoked += usize::from(revoked_techniques().contains_key(id)));
        let expected: BTreeSet<TechniqueId> =
            replaced.map(|id| revoked_techniques().get(&id).unwrap_or(&id).parse().unwrap()).collect();
        let found: BTreeSet<TechniqueId> = detection.techniques.iter().map(|m| m.id).collect();
        let unresolved_kept = others.iter().all(|t| detection.unresolved_tags.contains(t));
        if found != expected || !unresolved_kept {
            disagreements.push(format!("{}: upstream {listed:?}, detection {found:?}", detection.rule.path));
        }
    }
    assert_eq!(disagreements, Vec::<String>::new());
    // Seven hunting queries name a technique ATT&CK v18.1 revoked (`T1188` is now T1090.003,
    // `T1574.002` T1574.001...): each is listed under its replacement.
    assert_eq!(revoked, 7);
}

#[test]
fn hunting_queries_tagged_t1090_are_listed_under_it() {
    let proxy: TechniqueId = "T1090".parse().unwrap();
    let hunts: Vec<&str> = sentinel()
        .detections
        .iter()
        .filter(|d| d.rule.rule_type == Some(RuleType::Hunt) && d.techniques.iter().any(|m| m.id.parent() == proxy))
        .map(|d| d.rule.title.as_str())
        .collect();
    assert_eq!(hunts, vec!["Establishing internal proxies"]);
}

/// Field variants the sample shows, each where it must land.
#[test]
fn every_field_variant_is_read() {
    let by_path = |path: &str| sentinel().detections.iter().find(|d| d.rule.path == path).expect(path);
    let nrt = sentinel().detections.iter().filter(|d| d.rule.rule_type_native.as_deref() == Some("NRT")).count();
    assert_eq!(nrt, 2);
    let detailed =
        by_path("Solutions/Web Shells Threat Protection/Hunting Queries/exchange-iis-worker-dropping-webshell.yaml");
    assert!(detailed.rule.description.contains("CVE-2021-26855"), "description_detailed");
    let grouped = by_path("Detections/AzureActivity/Azure_CIS_521.yaml");
    assert!(grouped.rule.implementation.as_deref().unwrap().contains("Incident configuration: createIncident: true"));
    let custom = by_path("Detections/ASimWebSession/PossibleDGAContacts.yaml");
    let notes = custom.rule.implementation.as_deref().unwrap();
    assert!(notes.contains("Custom details: DGAPattern: DGADomain") && notes.contains("Alert details override: "));
    let community = by_path("Detections/ASimAuthentication/imAuthPasswordSpray.yaml");
    assert_eq!(community.rule.author.as_deref(), Some("Ofer Shezaf"));
    assert!(community.rule.tags.contains(&"Support: Community".to_string()));
    let versioned = sentinel().detections.iter().filter(|d| d.rule.version.is_some()).count();
    assert!(versioned > 150, "{versioned}");
    let yml = sentinel().detections.iter().filter(|d| !d.rule.path.ends_with(".yaml")).count();
    assert_eq!(yml, 7, ".yml and .YAML files");
}

fn hunting_queries() -> Vec<&'static Detection> {
    sentinel().detections.iter().filter(|d| d.rule.rule_type == Some(RuleType::Hunt)).collect()
}

#[test]
fn hunting_queries_deploy_as_saved_searches_microsoft_specifies() {
    let hunts = hunting_queries();
    let export = PlatformFormat::SentinelArm.writer().write(&hunts, &ExportContext::default()).expect("hunts export");
    let template: Value = serde_json::from_slice(&export.files[0].bytes).expect("the template is JSON");
    let skipped: Vec<(&str, &str)> = export.skipped.iter().map(|s| (s.address.as_str(), s.reason.as_str())).collect();
    // Hunting queries upstream that a deployment would refuse, each left out with the reason:
    // four IDs that are not GUIDs (one is missing), two IDs another query of the sample uses too,
    // and one query naming `1089` among its techniques.
    let count = |said: &str| skipped.iter().filter(|(_, reason)| reason.contains(said)).count();
    assert_eq!(
        (count("is not a GUID"), count("has the same ID"), count("relevantTechniques names 1089")),
        (4, 2, 1),
        "{skipped:#?}"
    );
    let resources = template["resources"].as_array().unwrap();
    assert_eq!(resources.len(), hunts.len() - skipped.len());
    let validator = arm_validator();
    let files = sample_files();
    for (resource, address) in resources.iter().zip(&export.included) {
        let detection = hunts.iter().find(|d| d.address() == *address).unwrap();
        let upstream = fields(&files[&detection.rule.path]);
        let guid = upstream["id"].as_str().unwrap().trim().to_ascii_lowercase();
        assert_eq!(resource["type"], "Microsoft.OperationalInsights/workspaces/savedSearches");
        assert_eq!(resource["apiVersion"], "2025-02-01");
        assert_eq!(resource["name"], format!("[concat(parameters('workspace'), '/{guid}')]"));
        assert_valid(&validator, resource, address);
        // The schema matches by API version: the alert rules' version declares no saved search.
        let mut elsewhere = resource.clone();
        elsewhere["apiVersion"] = json!("2025-09-01");
        assert!(!validator.is_valid(&elsewhere), "{address}");
        // Nor does a saved search take an alert rule's `description`: tags carry it.
        let mut undeclared = resource.clone();
        undeclared["properties"]["description"] = json!("text");
        assert!(!validator.is_valid(&undeclared), "{address}");
        let properties = &resource["properties"];
        assert_eq!(resource["etag"], "*");
        assert_eq!(properties["category"], "Hunting Queries");
        assert_eq!(properties["displayName"], upstream["name"].as_str().unwrap().trim(), "{address}");
        // What Log Analytics runs is the query as upstream ships it.
        assert_eq!(properties["query"], upstream["query"].as_str().unwrap().trim(), "{address}");
        assert_eq!(properties["version"], 2);
        let tags: BTreeMap<&str, &str> = properties["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["name"].as_str().unwrap(), t["value"].as_str().unwrap()))
            .collect();
        // Upstream quotes most descriptions whole ('...'), the quotes not being part of the text.
        let description = upstream["description"].as_str().unwrap().trim();
        let description =
            description.strip_prefix('\'').and_then(|d| d.strip_suffix('\'')).map_or(description, str::trim);
        assert_eq!(tags.get("description").copied(), Some(description).filter(|d| !d.is_empty()), "{address}");
        let mut tactics: Vec<String> = list(upstream.get("tactics")).iter().map(|t| t.replace(' ', "")).collect();
        tactics.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        assert!(tags.get("tactics").copied().unwrap_or_default().eq_ignore_ascii_case(&tactics.join(",")), "{address}");
        let techniques = list(upstream.get("relevantTechniques")).join(",");
        assert_eq!(tags.get("techniques").copied().unwrap_or_default(), techniques, "{address}");
    }
}

/// Analytic rules and hunting queries of the whole sample in one template: every resource is one
/// Microsoft's specs allow for its type and API version, and what is left out says why.
#[test]
fn the_whole_sample_deploys_as_resources_microsoft_specifies() {
    let all: Vec<&Detection> = sentinel().detections.iter().collect();
    let export = PlatformFormat::SentinelArm.writer().write(&all, &ExportContext::default()).expect("an export");
    let template: Value = serde_json::from_slice(&export.files[0].bytes).expect("the template is JSON");
    let resources = template["resources"].as_array().unwrap();
    assert_eq!(resources.len() + export.skipped.len(), all.len());
    let validator = arm_validator();
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for (resource, address) in resources.iter().zip(&export.included) {
        assert_valid(&validator, resource, address);
        let kind = format!("{} {}", resource["type"].as_str().unwrap(), resource["kind"].as_str().unwrap_or_default());
        *kinds.entry(kind).or_default() += 1;
    }
    let kinds: Vec<(&str, usize)> = kinds.iter().map(|(kind, n)| (kind.as_str(), *n)).collect();
    assert_eq!(
        kinds,
        [
            ("Microsoft.OperationalInsights/workspaces/providers/alertRules NRT", 2),
            ("Microsoft.OperationalInsights/workspaces/providers/alertRules Scheduled", 129),
            ("Microsoft.OperationalInsights/workspaces/savedSearches ", 133),
        ]
    );
    // What upstream wrote that a deployment would refuse: IDs that are not GUIDs or that another
    // file of the sample uses too, scheduled rules without a schedule, tactics Sentinel does not
    // have ("InitalAccess", "DataDestruction") and techniques that are none (`T1A0007`, `1089`).
    let count = |said: &str| export.skipped.iter().filter(|s| s.reason.contains(said)).count();
    let reasons =
        ["is not a GUID", "has the same ID", "needs `queryFrequency`", "is not one Sentinel has", "not a technique"];
    assert_eq!(reasons.map(count), [4, 7, 3, 2, 2], "{:#?}", export.skipped);
    assert_eq!(export.skipped.len(), 18);
}

#[test]
fn hunting_queries_export_as_their_upstream_yaml() {
    let hunts = hunting_queries();
    let export = PlatformFormat::SentinelYaml.writer().write(&hunts, &ExportContext::default()).expect("hunts export");
    assert_eq!((export.files.len(), export.skipped.len()), (hunts.len(), 0));
    let files = sample_files();
    for (file, address) in export.files.iter().zip(&export.included) {
        let detection = hunts.iter().find(|d| d.address() == *address).unwrap();
        assert_eq!(file.bytes, files[&detection.rule.path].as_bytes(), "{address}");
    }
}

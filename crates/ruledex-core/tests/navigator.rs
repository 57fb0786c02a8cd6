//! ATT&CK Navigator layers from the real corpora load in MITRE's own tooling: the
//! `mitreattack-python` package (`pip install mitreattack-python`; scripts/test.sh installs it)
//! reads them without a warning. Without Python or the package the test fails, saying so.

use std::path::Path;
use std::process::Command;

use ruledex_core::attack::{AttackCatalog, Domain};
use ruledex_core::export::navigator::{Layer, LayerOptions, LayerTechnique, navigator_layer, techniques_of};
use ruledex_core::ids::TechniqueId;
use ruledex_core::ingest::ingest;
use ruledex_core::model::{Detection, SourceKind};
use ruledex_core::sources::Format;
use serde_json::Value;

use crate::common::{enterprise_attack, shared, spec};

fn attack() -> AttackCatalog {
    let mut catalog = enterprise_attack().clone();
    catalog.version = Some("18.1".into());
    catalog
}

fn vendor_detections(attack: &AttackCatalog, sources: &[(&str, Format, &str)]) -> Vec<Detection> {
    sources
        .iter()
        .flat_map(|(name, format, path)| {
            let spec = spec(name, *format, SourceKind::Vendor, &shared().join(path));
            ingest(&spec, attack, &|_| {}).expect("source root exists").detections
        })
        .collect()
}

/// Loads a layer file with `mitreattack.navlayers.Layer().from_file`, returning what it printed
/// (its warnings) and the layer as it read it.
const LOAD_WITH_MITREATTACK: &str = r#"
import contextlib, io, json, sys
try:
    from mitreattack.navlayers import Layer
except ImportError:
    sys.exit(3)
printed = io.StringIO()
with contextlib.redirect_stdout(printed):
    layer = Layer()
    layer.from_file(sys.argv[1])
print(json.dumps({"printed": printed.getvalue(), "layer": layer.to_dict()}))
"#;

fn load_with_mitreattack(path: &Path) -> (String, Value) {
    let install = "install it with `pip install mitreattack-python` (scripts/test.sh does)";
    // scripts/test.sh names the Python that has mitreattack-python installed.
    let python = std::env::var("RULEDEX_PYTHON").unwrap_or_else(|_| "python3".into());
    let output = Command::new(python).args(["-c", LOAD_WITH_MITREATTACK]).arg(path).output().unwrap_or_else(|e| {
        panic!("python3 is needed to check layers with MITRE's mitreattack-python ({e}); {install}")
    });
    assert_ne!(output.status.code(), Some(3), "the Python package mitreattack-python is missing: {install}");
    // Its loader reports problems on standard output (returned here); standard error holds
    // only Python's own failures.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "mitreattack-python failed on {}: {stderr}", path.display());
    let result: Value = serde_json::from_slice(&output.stdout).expect("the script prints JSON");
    (result["printed"].as_str().unwrap_or_default().to_string(), result["layer"].clone())
}

fn check_layer_loads(name: &str, layer: &Layer) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_vec_pretty(layer).expect("JSON")).expect("write the layer");
    let (printed, read) = load_with_mitreattack(&path);
    assert_eq!(printed, "", "{name}: mitreattack-python warned");
    assert!(read.is_object(), "{name}: mitreattack-python did not load the layer");
    let read_scores: Vec<(String, u64)> = read["techniques"]
        .as_array()
        .expect("techniques")
        .iter()
        .map(|t| (t["techniqueID"].as_str().unwrap_or_default().to_string(), t["score"].as_u64().unwrap_or_default()))
        .collect();
    let written: Vec<(String, u64)> =
        layer.techniques.iter().map(|t| (t.technique_id.clone(), t.score as u64)).collect();
    assert_eq!(read_scores, written, "{name}");
    assert_eq!(read["versions"]["attack"], "18");
    assert_eq!(read["gradient"]["maxValue"].as_u64(), Some(layer.gradient.max_value as u64));
}

fn options<'a>(name: &'a str, description: &'a str) -> LayerOptions<'a> {
    LayerOptions {
        name,
        description,
        domain: Domain::Enterprise,
        attack_release: Some("18.1"),
        base_url: Some("http://127.0.0.1:8080"),
    }
}

#[test]
fn layers_of_real_selections_load_in_mitreattack_python_without_warnings() {
    let attack = attack();
    let vendors = vendor_detections(
        &attack,
        &[
            ("chronicle", Format::Chronicle, "corpus/chronicle-detection-rules"),
            ("splunk", Format::SplunkEscu, "corpus/splunk-security-content"),
            ("elastic", Format::Elastic, "corpus/elastic-detection-rules"),
        ],
    );

    let proxy: TechniqueId = "T1090".parse().expect("technique ID");
    let family: Vec<LayerTechnique<'_>> =
        techniques_of(&vendors).into_iter().filter(|t| t.id.parent() == proxy).collect();
    let expected_family = vendors.iter().filter(|d| d.techniques.iter().any(|m| m.id.parent() == proxy)).count();
    let listed: usize = family.iter().map(|t| t.detections.len()).sum();
    assert!(family.len() >= 3 && listed >= expected_family, "{} techniques, {listed} listings", family.len());
    let layer = navigator_layer(&family, &options("T1090 family", "Vendor detections for Proxy (T1090)"));
    check_layer_loads("t1090", &layer);

    let splunk: Vec<&Detection> = vendors.iter().filter(|d| d.source == "splunk").collect();
    let all_splunk = techniques_of(splunk.iter().copied());
    assert!(all_splunk.len() > 200, "{}", all_splunk.len());
    let layer = navigator_layer(&all_splunk, &options("Splunk ESCU", "Every Splunk ESCU detection"));
    assert_eq!(layer.techniques.len(), all_splunk.len());
    check_layer_loads("splunk", &layer);
}

/// Issue 23: the layer of every source listed Panther's rules tagged T1108, a technique ATT&CK
/// deprecated, which Navigator hides; a layer holds only techniques of the matrix.
#[test]
fn layers_leave_out_techniques_attack_deprecated() {
    let attack = attack();
    let vendors = vendor_detections(
        &attack,
        &[
            ("panther", Format::Panther, "corpus/panther-analysis"),
            ("splunk", Format::SplunkEscu, "corpus/splunk-security-content"),
        ],
    );
    let t1108: TechniqueId = "T1108".parse().expect("technique ID");
    let tagged = vendors.iter().filter(|d| d.techniques.iter().any(|m| m.id == t1108)).count();
    assert!(tagged > 0, "the corpus tags the deprecated T1108");
    let techniques = techniques_of(&vendors);
    for technique in &techniques {
        let known = attack.technique(technique.id).unwrap_or_else(|| panic!("{} is not in ATT&CK", technique.id));
        assert!(!known.revoked && !known.deprecated, "{} is revoked or deprecated", technique.id);
    }
    let layer = navigator_layer(&techniques, &options("All sources", "Every vendor detection"));
    assert!(!layer.techniques.iter().any(|t| t.technique_id == "T1108"));
    check_layer_loads("all", &layer);
}

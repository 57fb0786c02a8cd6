//! Carrying rules across ATT&CK releases: a "next release" is built here from the real 18.1
//! enterprise bundle the way ATT&CK expresses changes (a tactic revoked and split in two by
//! `revoked-by` relationships, techniques revoked by new IDs, a brand-new technique), and the
//! real Sigma and Elastic corpora are ingested against both releases. Every rule must land
//! where the relationships say, with its note, and no rule or tag may be lost.

use std::collections::{BTreeMap, BTreeSet};

use ruledex_core::attack::{AttackCatalog, Domain};
use ruledex_core::ids::{TacticId, TechniqueId};
use ruledex_core::ingest::{IngestedSource, ingest};
use ruledex_core::model::{Detection, MappingStatus, SourceKind};
use ruledex_core::sources::Format;
use serde_json::{Value, json};

use crate::common::{shared, spec};

fn tactic(id: &str) -> TacticId {
    id.parse().expect("tactic ID")
}

fn technique(id: &str) -> TechniqueId {
    id.parse().expect("technique ID")
}

/// What the constructed release changes.
const SPLIT_TACTIC: &str = "TA0005"; // Defense Evasion
const NEW_TACTICS: [(&str, &str, &str); 2] =
    [("TA0112", "Defense Impairment", "defense-impairment"), ("TA0113", "Stealth", "stealth")];
/// Revoked technique -> the new technique replacing it, with the new one's name.
const REVOKED_TECHNIQUES: [(&str, &str, &str); 2] =
    [("T1562.001", "T1685", "Disable or Modify Tools"), ("T1562.004", "T1686", "Disable or Modify System Firewall")];
const BRAND_NEW_TECHNIQUE: (&str, &str) = ("T1690", "Brand New Technique");

fn stix_object(kind: &str, attack_id: &str, name: &str, fields: Value) -> Value {
    let section = if kind == "x-mitre-tactic" { "tactics" } else { "techniques" };
    let mut object = json!({
        "type": kind,
        "id": format!("{kind}--next-{attack_id}"),
        "name": name,
        "description": format!("{name}, new in the next release."),
        "external_references": [{
            "source_name": "mitre-attack",
            "external_id": attack_id,
            "url": format!("https://attack.mitre.org/{section}/{}", attack_id.replace('.', "/")),
        }],
    });
    object.as_object_mut().expect("object").extend(fields.as_object().expect("fields").clone());
    object
}

fn revoked_by(source: &Value, target: &Value) -> Value {
    json!({
        "type": "relationship",
        "id": format!("relationship--next-{}-{}", source["id"], target["id"]),
        "relationship_type": "revoked-by",
        "source_ref": source["id"],
        "target_ref": target["id"],
    })
}

fn external_id(object: &Value) -> Option<&str> {
    object["external_references"].as_array()?.iter().find_map(|r| r["external_id"].as_str())
}

/// The 18.1 enterprise bundle as the next release would publish it.
fn next_release(bundle: &[u8]) -> Vec<u8> {
    let mut bundle: Value = serde_json::from_slice(bundle).expect("JSON");
    let objects = bundle["objects"].as_array_mut().expect("objects");
    let find = |objects: &[Value], kind: &str, id: &str| {
        objects.iter().find(|o| o["type"] == kind && external_id(o) == Some(id)).expect("in 18.1").clone()
    };
    let mut added = Vec::new();

    let split = find(objects, "x-mitre-tactic", SPLIT_TACTIC);
    let new_tactics: Vec<Value> = NEW_TACTICS
        .iter()
        .map(|(id, name, short)| stix_object("x-mitre-tactic", id, name, json!({ "x_mitre_shortname": short })))
        .collect();
    for new in &new_tactics {
        added.push(revoked_by(&split, new));
    }
    for matrix in objects.iter_mut().filter(|o| o["type"] == "x-mitre-matrix") {
        let refs = matrix["tactic_refs"].as_array_mut().expect("tactic_refs");
        let at = refs.iter().position(|r| *r == split["id"]).expect("the split tactic is in the matrix");
        refs.splice(at..=at, new_tactics.iter().map(|t| t["id"].clone()));
    }
    added.extend(new_tactics);

    let phase =
        |short: &str| json!({ "kill_chain_phases": [{ "kill_chain_name": "mitre-attack", "phase_name": short }] });
    for (old, new, name) in REVOKED_TECHNIQUES {
        let replacement = stix_object("attack-pattern", new, name, phase("defense-impairment"));
        added.push(revoked_by(&find(objects, "attack-pattern", old), &replacement));
        added.push(replacement);
    }
    added.push(stix_object("attack-pattern", BRAND_NEW_TECHNIQUE.0, BRAND_NEW_TECHNIQUE.1, phase("stealth")));

    let revoked: BTreeSet<&str> = REVOKED_TECHNIQUES.iter().map(|(old, _, _)| *old).chain([SPLIT_TACTIC]).collect();
    for object in objects.iter_mut() {
        if external_id(object).is_some_and(|id| revoked.contains(id)) {
            object["revoked"] = true.into();
        }
    }
    objects.extend(added);
    serde_json::to_vec(&bundle).expect("JSON")
}

fn catalogs() -> (AttackCatalog, AttackCatalog) {
    let bundle = std::fs::read(shared().join("attack/enterprise-attack.json")).expect("the 18.1 bundle");
    let mut current = AttackCatalog::default();
    current.add_bundle(Domain::Enterprise, &bundle).expect("18.1");
    let mut next = AttackCatalog::default();
    next.add_bundle(Domain::Enterprise, &next_release(&bundle)).expect("the constructed next release");
    (current, next)
}

fn ingest_with(attack: &AttackCatalog, name: &str, format: Format, kind: SourceKind, path: &str) -> IngestedSource {
    let spec = spec(name, format, kind, &shared().join(path));
    ingest(&spec, attack, &|_| {}).expect("source root exists")
}

/// Where each technique a detection was listed under in 18.1 must be listed in the next release.
fn expected_technique(id: TechniqueId) -> TechniqueId {
    REVOKED_TECHNIQUES.iter().find(|(old, _, _)| technique(old) == id).map_or(id, |(_, new, _)| technique(new))
}

/// Compares one detection as ingested against both releases; returns how many tags moved.
fn check_detection(before: &Detection, after: &Detection, next: &AttackCatalog) -> usize {
    let address = before.address();
    let mut moved = 0;

    // Techniques: revoked ones move to their replacements with a note, unknown IDs the next
    // release adds become current, everything else stays as it was.
    let expected: BTreeSet<TechniqueId> = before.techniques.iter().map(|m| expected_technique(m.id)).collect();
    let listed: BTreeSet<TechniqueId> = after.techniques.iter().map(|m| m.id).collect();
    assert_eq!(listed, expected, "{address}");
    for mapping in &after.techniques {
        let was = before
            .techniques
            .iter()
            .find(|m| m.tagged == mapping.tagged && expected_technique(m.id) == mapping.id)
            .expect("listed from the same tag");
        if was.id != mapping.id {
            assert_eq!((mapping.tagged_id, mapping.status), (Some(was.id), MappingStatus::Revoked), "{address}");
            moved += 1;
        } else if was.status == MappingStatus::Unknown && next.technique(mapping.id).is_some() {
            assert_eq!(mapping.status, MappingStatus::Current, "{address}");
            moved += 1;
        } else {
            assert_eq!(mapping, was, "{address}");
        }
    }

    // Tactics: the split tactic leads to both new ones, noted; words naming the new tactics,
    // unknown in 18.1, now resolve; the others stay.
    let new_tactic_named =
        |word: &str| NEW_TACTICS.iter().find(|(_, _, short)| *short == word).map(|(id, _, _)| tactic(id));
    let mut expected: BTreeSet<TacticId> = before.tactics.iter().map(|t| t.id).collect();
    if expected.remove(&tactic(SPLIT_TACTIC)) {
        expected.extend(NEW_TACTICS.iter().map(|(id, _, _)| tactic(id)));
        let noted = after.tactics.iter().filter(|t| t.tagged_id == Some(tactic(SPLIT_TACTIC)));
        assert!(noted.clone().all(|t| t.status == MappingStatus::Revoked), "{address}");
        assert!(noted.count() >= 1, "{address}: the split is noted");
        moved += 1;
    }
    let resolved_words: Vec<&String> =
        before.unresolved_tags.iter().filter(|w| new_tactic_named(w).is_some()).collect();
    expected.extend(resolved_words.iter().filter_map(|w| new_tactic_named(w)));
    moved += resolved_words.len();
    let listed: BTreeSet<TacticId> = after.tactics.iter().map(|t| t.id).collect();
    assert_eq!(listed, expected, "{address}");

    let still_unresolved: Vec<&String> =
        before.unresolved_tags.iter().filter(|w| new_tactic_named(w).is_none()).collect();
    assert_eq!(after.unresolved_tags.iter().collect::<Vec<_>>(), still_unresolved, "{address}");
    assert_eq!(after.atlas, before.atlas, "{address}");
    moved
}

fn check_source(name: &str, format: Format, kind: SourceKind, path: &str, releases: &(AttackCatalog, AttackCatalog)) {
    let (current, next) = releases;
    let before = ingest_with(current, name, format, kind, path);
    let after = ingest_with(next, name, format, kind, path);
    assert_eq!(after.detections.len(), before.detections.len(), "{name}: no detection dropped");
    assert_eq!(after.report.failures, before.report.failures, "{name}");
    let after_by_address: BTreeMap<String, &Detection> = after.detections.iter().map(|d| (d.address(), d)).collect();
    let moved: usize = before
        .detections
        .iter()
        .map(|d| check_detection(d, after_by_address.get(&d.address()).expect("same address"), next))
        .sum();
    assert!(moved > 100, "{name}: only {moved} tags moved");

    let (old, new) = (&before.report.attack, &after.report.attack);
    assert!(new.revoked_tags > old.revoked_tags, "{name}: {} -> {}", old.revoked_tags, new.revoked_tags);
    assert!(new.unknown_tags <= old.unknown_tags, "{name}");
    for (tag, count) in &new.unknown {
        assert_eq!(old.unknown.get(tag), Some(count), "{name}: {tag} was not unknown before");
    }
}

#[test]
fn rules_land_where_the_next_release_says_with_nothing_dropped() {
    let releases = catalogs();
    let (current, next) = &releases;
    assert_eq!(current.techniques().count() + 3, next.techniques().count());
    assert!(next.tactics().iter().all(|t| t.id != tactic(SPLIT_TACTIC)), "revoked tactics leave the matrix");
    check_source("sigma", Format::Sigma, SourceKind::Community, "corpus/sigma", &releases);
    check_source("elastic", Format::Elastic, SourceKind::Vendor, "corpus/elastic-detection-rules", &releases);
}

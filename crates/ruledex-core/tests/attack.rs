//! The ATT&CK catalog read from the real bundles in ../shared/attack (release 18.1): groups,
//! campaigns and software checked against the bundles' JSON read independently here.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use ruledex_core::attack::{AttackCatalog, Domain};
use ruledex_core::ids::{ObjectKind, TacticId, TechniqueId};
use ruledex_core::model::MappingStatus;
use serde_json::Value;

use crate::common::{DOMAINS, attack, bundle};

/// The bundles as plain JSON, for counting what they hold without ruledex's reader.
fn raw_bundles() -> &'static [(Domain, Value)] {
    static RAW: OnceLock<Vec<(Domain, Value)>> = OnceLock::new();
    RAW.get_or_init(|| {
        DOMAINS
            .iter()
            .map(|d| (*d, serde_json::from_slice(&std::fs::read(bundle(*d)).expect("bundle")).expect("JSON")))
            .collect()
    })
}

fn raw_objects(domain: Domain) -> &'static [Value] {
    let (_, bundle) = raw_bundles().iter().find(|(d, _)| *d == domain).expect("loaded domain");
    bundle["objects"].as_array().expect("objects")
}

/// The ATT&CK ID: older ICS and mobile objects cite their domain's own source name.
fn external_id(object: &Value) -> Option<&str> {
    const SOURCES: [&str; 3] = ["mitre-attack", "mitre-ics-attack", "mitre-mobile-attack"];
    object["external_references"]
        .as_array()?
        .iter()
        .find(|r| SOURCES.iter().any(|s| r["source_name"] == *s))
        .and_then(|r| r["external_id"].as_str())
}

fn flag(object: &Value, name: &str) -> bool {
    object[name].as_bool().unwrap_or(false)
}

/// The ATT&CK IDs of the objects one STIX object `uses` in the raw bundle, by target type.
fn raw_uses(domain: Domain, source: &str, target_type: &str) -> BTreeSet<String> {
    let objects = raw_objects(domain);
    let by_stix_id: BTreeMap<&str, &Value> =
        objects.iter().map(|o| (o["id"].as_str().unwrap_or_default(), o)).collect();
    objects
        .iter()
        .filter(|r| r["type"] == "relationship" && r["relationship_type"] == "uses" && r["source_ref"] == source)
        .filter_map(|r| by_stix_id.get(r["target_ref"].as_str()?))
        .filter(|target| target["type"] == target_type)
        .filter_map(|target| external_id(target).map(String::from))
        .collect()
}

fn raw_named(domain: Domain, kind: &str, name: &str) -> &'static Value {
    raw_objects(domain).iter().find(|o| o["type"] == kind && o["name"] == name).expect("object in the bundle")
}

fn technique(id: &str) -> TechniqueId {
    id.parse().expect("technique ID")
}

#[test]
fn groups_campaigns_and_software_are_every_unrevoked_object_of_the_bundles() {
    for (kind, stix_types) in [
        (ObjectKind::Group, &["intrusion-set"][..]),
        (ObjectKind::Campaign, &["campaign"][..]),
        (ObjectKind::Software, &["malware", "tool"][..]),
    ] {
        // The same object appears in several domains' bundles (Sandworm Team in all three).
        let in_bundles: BTreeSet<&str> = DOMAINS
            .iter()
            .flat_map(|d| raw_objects(*d))
            .filter(|o| stix_types.iter().any(|t| o["type"] == *t) && !flag(o, "revoked"))
            .filter_map(external_id)
            .collect();
        let in_catalog: BTreeSet<String> =
            attack().objects().filter(|o| o.id.kind() == kind && !o.revoked).map(|o| o.id.to_string()).collect();
        let in_bundles: BTreeSet<String> = in_bundles.into_iter().map(String::from).collect();
        assert_eq!(in_catalog, in_bundles, "{kind:?}");
        assert!(in_catalog.len() > 50, "{kind:?}: {}", in_catalog.len());
    }
    let sandworm = attack().find_objects("Sandworm Team");
    assert_eq!(sandworm[0].domains, vec![Domain::Enterprise, Domain::Mobile, Domain::Ics]);
}

#[test]
fn apt29_is_found_by_name_alias_and_id_with_the_techniques_the_bundle_gives_it() {
    let found: Vec<String> = ["APT29", "Cozy Bear", "cozy bear", "  COZY   BEAR ", "NOBELIUM", "g0016"]
        .iter()
        .map(|q| attack().find_objects(q).iter().map(|o| o.id.to_string()).collect::<Vec<_>>().join(","))
        .collect();
    assert_eq!(found, vec!["G0016"; 6], "NOBELIUM is also an alias of the revoked UNC2452: the current group wins");

    let apt29 = attack().find_objects("APT29")[0];
    let raw = raw_named(Domain::Enterprise, "intrusion-set", "APT29");
    let stix_id = raw["id"].as_str().expect("STIX id");
    let used: BTreeSet<String> = apt29.techniques.iter().map(|u| u.id.to_string()).collect();
    assert_eq!(used, raw_uses(Domain::Enterprise, stix_id, "attack-pattern"));
    let software: BTreeSet<String> = apt29.software.iter().map(ToString::to_string).collect();
    let raw_software: BTreeSet<String> =
        ["malware", "tool"].iter().flat_map(|t| raw_uses(Domain::Enterprise, stix_id, t)).collect();
    assert_eq!(software, raw_software);

    // Checked by hand in enterprise-attack.json.
    assert!(apt29.aliases.iter().any(|a| a == "Midnight Blizzard"));
    assert_eq!(apt29.url, "https://attack.mitre.org/groups/G0016/");
    let cloud_accounts = apt29.techniques.iter().find(|u| u.id == technique("T1078.004")).expect("T1078.004");
    assert!(cloud_accounts.description.contains("global administrator account in Azure AD"));
    assert_eq!(cloud_accounts.status, MappingStatus::Current);
    assert!(used.contains("T1090.003") && used.contains("T1003.002"), "{used:?}");
    let campaigns: Vec<String> = attack().campaigns_of(apt29.id).map(|c| c.id.to_string()).collect();
    assert_eq!(campaigns, vec!["C0023", "C0024"]);
    assert_eq!(attack().find_objects("SolarWinds Compromise")[0].attributed_to, vec![apt29.id]);
    assert_eq!(attack().find_objects("Cobalt Strike")[0].id.to_string(), "S0154");
}

#[test]
fn unknown_names_get_close_suggestions() {
    assert!(attack().find_objects("Cozy Bare").is_empty());
    assert_eq!(attack().closest_objects("Cozy Bare", 3)[0].name, "APT29");
    assert_eq!(attack().closest_objects("Lazarus Grup", 3)[0].name, "Lazarus Group");
    assert_eq!(attack().closest_objects("cobalt strik", 3)[0].name, "Cobalt Strike");
    assert!(attack().closest_objects("xyzzy plugh", 3).is_empty());
}

#[test]
fn a_technique_knows_who_uses_it() {
    let id = technique("T1090.001");
    let raw = raw_objects(Domain::Enterprise);
    let target =
        raw.iter().find(|o| o["type"] == "attack-pattern" && external_id(o) == Some("T1090.001")).expect("T1090.001");
    let by_stix_id: BTreeMap<&str, &Value> = raw.iter().map(|o| (o["id"].as_str().unwrap_or_default(), o)).collect();
    let raw_users: BTreeSet<String> = raw
        .iter()
        .filter(|r| r["type"] == "relationship" && r["relationship_type"] == "uses" && r["target_ref"] == target["id"])
        .filter_map(|r| by_stix_id.get(r["source_ref"].as_str()?))
        .filter(|user| !flag(user, "revoked") && !flag(user, "x_mitre_deprecated"))
        .filter_map(|user| external_id(user).map(String::from))
        .collect();
    let users: Vec<String> = attack().users_of(id).map(|o| o.id.to_string()).collect();
    assert_eq!(users.iter().cloned().collect::<BTreeSet<_>>(), raw_users);
    assert!(users.first().is_some_and(|u| u.starts_with('G')), "groups first: {users:?}");
}

#[test]
fn a_use_of_a_revoked_technique_lands_on_its_replacement() {
    // 18.1 has no such relationship (MITRE moves them when revoking), so one is made: APT29's
    // use of T1078.004 now names a revoked technique replaced by T1001, which APT29 does not use.
    let mut bundle = raw_bundles().iter().find(|(d, _)| *d == Domain::Enterprise).expect("enterprise").1.clone();
    let objects = bundle["objects"].as_array_mut().expect("objects");
    let stix_id_of = |objects: &[Value], id: &str| {
        objects.iter().find(|o| o["type"] == "attack-pattern" && external_id(o) == Some(id)).expect("technique")["id"]
            .clone()
    };
    let (revoked, replacement) = (stix_id_of(objects, "T1078.004"), stix_id_of(objects, "T1001"));
    let apt29 = attack().find_objects("APT29")[0];
    assert!(!apt29.techniques.iter().any(|u| u.id == technique("T1001")), "precondition");
    for object in objects.iter_mut().filter(|o| o["id"] == revoked) {
        object["revoked"] = true.into();
    }
    objects.push(serde_json::json!({
        "type": "relationship", "id": "relationship--test-revoked-by", "relationship_type": "revoked-by",
        "source_ref": revoked, "target_ref": replacement,
    }));
    let mut catalog = AttackCatalog::default();
    catalog.add_bundle(Domain::Enterprise, &serde_json::to_vec(&bundle).expect("JSON")).expect("bundle");

    let apt29 = catalog.find_objects("APT29")[0];
    let moved = apt29.techniques.iter().find(|u| u.id == technique("T1001")).expect("listed under the replacement");
    assert_eq!((moved.named_id, moved.status), (Some(technique("T1078.004")), MappingStatus::Revoked));
    assert!(moved.description.contains("global administrator account in Azure AD"));
    assert!(!apt29.techniques.iter().any(|u| u.id == technique("T1078.004")));
    assert!(catalog.users_of(technique("T1001")).any(|o| o.id == apt29.id));
}

#[test]
fn the_bundles_declare_no_release_so_the_configured_one_applies() {
    // mitre/cti bundles carry no x-mitre-collection object (MITRE's attack-stix-data ones do).
    for domain in DOMAINS {
        assert!(!raw_objects(domain).iter().any(|o| o["type"] == "x-mitre-collection"), "{domain:?}");
        assert_eq!(attack().release(domain), None);
    }
    let mut configured = attack().clone();
    configured.version = Some("18.1".into());
    assert_eq!(configured.release(Domain::Ics), Some("18.1"));
}

#[test]
fn retired_tactics_and_deprecated_techniques_keep_what_the_bundle_says_of_them() {
    let retired: Vec<(String, bool)> =
        attack().retired_tactics().iter().map(|t| (t.name.clone(), t.deprecated)).collect();
    let raw_retired: Vec<(String, bool)> = raw_objects(Domain::Mobile)
        .iter()
        .filter(|o| o["type"] == "x-mitre-tactic" && (flag(o, "revoked") || flag(o, "x_mitre_deprecated")))
        .map(|o| (o["name"].as_str().unwrap_or_default().to_string(), true))
        .collect();
    assert_eq!(retired, raw_retired);
    let network_effects: TacticId = "TA0038".parse().expect("tactic ID");
    assert_eq!(attack().map_tactic(network_effects)[0].status, MappingStatus::Deprecated);
    // "This technique has been deprecated. Please use [Command and Scripting Interpreter](...T1059)"
    assert_eq!(attack().technique(technique("T1064")).expect("T1064").successors, vec![technique("T1059")]);
    let redundant_access = &attack().technique(technique("T1108")).expect("T1108").successors;
    assert_eq!(redundant_access, &["T1136", "T1505.003", "T1133"].map(technique));
}

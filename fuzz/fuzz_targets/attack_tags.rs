//! Tag resolution, ID parsing and name lookups must never panic, whatever a rule's author (or
//! a user typing a group's name) wrote.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use ruledex_core::attack::{AttackCatalog, Domain, TagMeaning};
use ruledex_core::ids::{AtlasId, ObjectId, TacticId, TechniqueId};
use ruledex_core::model::MappedBy;

static CATALOG: LazyLock<AttackCatalog> = LazyLock::new(|| {
    let mut catalog = AttackCatalog::default();
    let bundle = include_str!("../../tests/fixtures/attack/mini-enterprise.json");
    catalog.add_bundle(Domain::Enterprise, bundle.as_bytes()).expect("fixture bundle");
    catalog
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(id) = text.parse::<TechniqueId>() {
        assert_eq!(id.to_string().parse::<TechniqueId>(), Ok(id), "canonical form round-trips");
    }
    if let Ok(id) = text.parse::<AtlasId>() {
        assert_eq!(id.to_string().parse::<AtlasId>(), Ok(id), "canonical form round-trips");
    }
    if let Ok(id) = text.parse::<ObjectId>() {
        assert_eq!(id.to_string().parse::<ObjectId>(), Ok(id), "canonical form round-trips");
    }
    let _ = text.parse::<TacticId>();
    for meaning in CATALOG.resolve_tag(text) {
        match meaning {
            TagMeaning::Technique(id) => drop(CATALOG.map_technique(id, text, MappedBy::Vendor)),
            TagMeaning::Tactic(id) => drop(CATALOG.map_tactic(id)),
            TagMeaning::Atlas(_) | TagMeaning::Unresolved(_) => {}
        }
    }
    let _ = CATALOG.is_newer_than_release(text);
    let _ = CATALOG.find_objects(text);
    let _ = CATALOG.closest_objects(text, 5);
});

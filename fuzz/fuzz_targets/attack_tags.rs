//! Tag resolution and ID parsing must never panic, whatever a rule's author wrote.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use ruledex_core::attack::{AttackCatalog, Domain, TagMeaning};
use ruledex_core::ids::{TacticId, TechniqueId};
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
    let _ = text.parse::<TacticId>();
    for meaning in CATALOG.resolve_tag(text) {
        if let TagMeaning::Technique(id) = meaning {
            let _ = CATALOG.map_technique(id, text, MappedBy::Vendor);
        }
    }
});

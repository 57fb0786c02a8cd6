//! Splunk macro expansion must never panic or hang, whatever the search and the macro set.
//! The input is a search, then macro definitions, separated by NUL bytes. Each definition is an
//! ESCU macro file (YAML) or, when it is not one, `name|arg1,arg2|definition`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ruledex_core::sources::splunk::macros::{MAX_EXPANDED_BYTES, Macro, MacroTable, expand, is_filter_macro, keep_none, read_macro};

fn definition(part: &str) -> Option<Macro> {
    read_macro(part).ok().or_else(|| {
        let mut fields = part.splitn(3, '|');
        let name = fields.next()?.to_string();
        let arguments = fields.next()?.split(',').filter(|a| !a.is_empty()).map(String::from).collect();
        Some(Macro { name, arguments, definition: fields.next()?.to_string(), description: String::new() })
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut parts = text.split('\0');
    let search = parts.next().unwrap_or_default();
    let mut table = MacroTable::published();
    for part in parts {
        if let Some(definition) = definition(part) {
            table.insert(definition);
        }
    }
    for keep in [&keep_none as &dyn Fn(&str) -> bool, &is_filter_macro] {
        if let Ok(expansion) = expand(search, &table, keep) {
            assert!(expansion.text.len() <= MAX_EXPANDED_BYTES);
        }
    }
});

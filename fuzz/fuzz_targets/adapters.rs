//! Every format adapter must return rules or errors, never panic, on any text.
//! The first byte picks the adapter and the path's folder (deprecated or not); the rest is the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ruledex_core::sources::{Format, SourceFile};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let format = Format::ALL[usize::from(selector) % Format::ALL.len()];
    let path = if selector & 0x80 == 0 { "rules/x/fuzz.yml" } else { "deprecated/_deprecated/fuzz.yml" };
    let parsed = format.adapter().parse(SourceFile { path, text });
    for rule in parsed.rules {
        assert_eq!(rule.path, path);
    }
});

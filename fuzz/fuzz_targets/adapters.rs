//! Every format adapter must return rules or errors, never panic, on any text.
//! The first byte picks the adapter (its low four bits) and the path's folder (its high bits:
//! a rules folder, a deprecated one, or Sentinel's hunting queries); the rest is the file. It is
//! also every support file a format reads beside its rules (Panther's Python next to the rule, a
//! helper, a saved query, `deprecated.txt`), so those readers are fuzzed too, next to a fixed
//! saved query and helper that fuzzed rules can name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ruledex_core::sources::{Format, SourceFile, Support};

const SAVED_QUERY: &str = "AnalysisType: scheduled_query\nQueryName: Q\nQuery: SELECT 1\nSchedule:\n  RateMinutes: 60\n";
const HELPER: &str = "import fuzz\n";

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let format = Format::ALL[usize::from(selector & 0x0f) % Format::ALL.len()];
    let folder = match selector & 0xc0 {
        0x00 => "rules/x",
        0x40 => "Hunting Queries/x",
        _ => "deprecated/_deprecated",
    };
    let path = format!("{folder}/fuzz.yml");
    let support = Support::new([
        (format!("{folder}/fuzz.py"), text.to_string()),
        ("global_helpers/fuzz.py".to_string(), text.to_string()),
        ("global_helpers/panther_base_helpers.py".to_string(), HELPER.to_string()),
        ("queries/fuzz.yml".to_string(), text.to_string()),
        ("queries/q.yml".to_string(), SAVED_QUERY.to_string()),
        ("deprecated.txt".to_string(), text.to_string()),
    ]);
    let parsed = format.adapter().prepare(&support).parse(SourceFile { path: &path, text });
    for rule in parsed.rules {
        assert_eq!(rule.path, path);
    }
});

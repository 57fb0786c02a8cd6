//! ESCU lookup definitions (`lookups/*.yml`): which table a lookup name reads, a CSV file beside
//! the definition or a KV store collection, and the match options Splunk's transforms.conf takes.

use serde::Deserialize;

use crate::sources::ParseError;
use crate::sources::util::{Scalar, yaml};

/// One lookup definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupDefinition {
    /// The name searches use (`| lookup is_windows_system_file ...`).
    pub name: String,
    pub table: LookupTable,
    pub description: String,
    /// transforms.conf match settings (`default_match`, `match_type`...), in a fixed order.
    pub options: Vec<(&'static str, String)>,
}

/// Where a lookup's rows live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupTable {
    /// A file in the source's `lookups/` folder: a CSV table, or a binary model (`.mlmodel`)
    /// that no `lookup` command reads.
    File(String),
    /// A KV store collection the app defines empty (baselines searches fill in).
    KvStore { collection: String, fields_list: Option<String> },
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawLookup {
    name: Option<String>,
    filename: Option<String>,
    collection: Option<String>,
    fields_list: Option<Scalar>,
    description: Option<String>,
    default_match: Option<Scalar>,
    case_sensitive_match: Option<Scalar>,
    match_type: Option<Scalar>,
    min_matches: Option<Scalar>,
    max_matches: Option<Scalar>,
}

/// Reads one lookup definition. Names and file names become paths and stanza names in an
/// exported app, so only plain names are accepted.
pub fn read_lookup(text: &str) -> Result<LookupDefinition, ParseError> {
    let raw: RawLookup = yaml(text)?;
    let name = plain(raw.name.as_deref(), "name")?.ok_or_else(|| ParseError::new("missing `name`"))?;
    let table = match (plain(raw.filename.as_deref(), "filename")?, plain(raw.collection.as_deref(), "collection")?) {
        (Some(filename), _) => LookupTable::File(filename),
        (None, Some(collection)) => {
            let fields_list = one_line(raw.fields_list.map(|f| f.0), "fields_list")?;
            LookupTable::KvStore { collection, fields_list }
        }
        (None, None) => return Err(ParseError::new("lookup has neither `filename` nor `collection`")),
    };
    // Splunk reads these booleans lowercase; ESCU writes them as 'false' or False.
    let lowercase = |value: Option<Scalar>| value.map(|v| Scalar(v.0.to_ascii_lowercase()));
    let settings = [
        ("default_match", lowercase(raw.default_match)),
        ("case_sensitive_match", lowercase(raw.case_sensitive_match)),
        ("match_type", raw.match_type),
        ("max_matches", raw.max_matches),
        ("min_matches", raw.min_matches),
    ];
    let mut options = Vec::new();
    for (key, value) in settings {
        if let Some(value) = one_line(value.map(|v| v.0), key)? {
            options.push((key, value));
        }
    }
    Ok(LookupDefinition { name, table, description: raw.description.unwrap_or_default().trim().to_string(), options })
}

/// A trimmed name made of letters, digits, `_`, `-` and `.` (not only dots); blank is `None`.
fn plain(value: Option<&str>, field: &str) -> Result<Option<String>, ParseError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else { return Ok(None) };
    let safe = value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !value.chars().all(|c| c == '.');
    if safe { Ok(Some(value.to_string())) } else { Err(ParseError::new(format!("unsafe `{field}` {value:?}"))) }
}

/// A trimmed single-line setting; blank is `None`.
fn one_line(value: Option<String>, field: &str) -> Result<Option<String>, ParseError> {
    let Some(value) = value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) else { return Ok(None) };
    if value.contains(['\n', '\r']) {
        return Err(ParseError::new(format!("`{field}` spans several lines")));
    }
    Ok(Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lookups_keep_their_file_and_match_options() {
        let text = "default_match: 'false'\ndescription: Windows files.\nfilename: is_windows_system_file20231221.csv\nmin_matches: 1\nname: is_windows_system_file\ncase_sensitive_match: False\nmatch_type: WILDCARD(domain)\n";
        let lookup = read_lookup(text).unwrap();
        assert_eq!(lookup.name, "is_windows_system_file");
        assert_eq!(lookup.table, LookupTable::File("is_windows_system_file20231221.csv".into()));
        let options: Vec<(&str, &str)> = lookup.options.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            options,
            vec![
                ("default_match", "false"),
                ("case_sensitive_match", "false"),
                ("match_type", "WILDCARD(domain)"),
                ("min_matches", "1")
            ]
        );
    }

    #[test]
    fn kv_store_lookups_name_their_collection() {
        let text = "collection: seen\nname: seen\nfields_list: _key, asset, software\n";
        let lookup = read_lookup(text).unwrap();
        assert_eq!(
            lookup.table,
            LookupTable::KvStore { collection: "seen".into(), fields_list: Some("_key, asset, software".into()) }
        );
    }

    #[test]
    fn broken_or_unsafe_definitions_are_refused_with_the_reason() {
        for (text, reason) in [
            ("filename: x.csv\n", "missing `name`"),
            ("name: x\n", "lookup has neither `filename` nor `collection`"),
            ("name: x\nfilename: ../../etc/passwd\n", "unsafe `filename` \"../../etc/passwd\""),
            ("name: x\nfilename: '..'\n", "unsafe `filename` \"..\""),
            ("name: 'a]b'\nfilename: x.csv\n", "unsafe `name` \"a]b\""),
            ("name: x\nfilename: x.csv\nmatch_type: \"a\\nb\"\n", "`match_type` spans several lines"),
        ] {
            assert_eq!(read_lookup(text).unwrap_err().message, reason, "{text}");
        }
        assert!(read_lookup("- not a mapping\n").unwrap_err().message.starts_with("invalid YAML"));
    }
}

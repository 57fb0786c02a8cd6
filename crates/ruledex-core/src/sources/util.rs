//! Parsing helpers several adapters share: hardened YAML, dates, lists and text clean-up.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use super::ParseError;

/// Deepest YAML nesting accepted. Real rules nest a handful of levels (Sigma detections about
/// ten); anything deeper is hostile or broken.
const MAX_YAML_DEPTH: usize = 64;
/// Most alias expansions accepted in one file: real rules use none, an alias bomb billions.
const MAX_YAML_ALIAS_EVENTS: usize = 10_000;

/// Reads untrusted YAML with limits on nesting and alias expansion, so a hostile file yields
/// an error instead of exhausting memory or stack.
pub fn yaml<T: DeserializeOwned>(text: &str) -> Result<T, ParseError> {
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_YAML_DEPTH,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_YAML_ALIAS_EVENTS,
        },
    };
    serde_saphyr::from_str_with_options(text, options).map_err(|e| yaml_error(&e))
}

fn yaml_error(error: &serde_saphyr::Error) -> ParseError {
    let message = error.to_string();
    // serde-saphyr renders a multi-line report; its first line says what went wrong and where.
    let first = message.lines().find(|l| !l.trim().is_empty()).unwrap_or("invalid YAML").trim();
    ParseError::new(format!("invalid YAML: {first}"))
}

/// Normalizes the date spellings rules use (`2024-09-30`, `2025/11/17`, `2021-03-09T10:00:00Z`)
/// to ISO `YYYY-MM-DD`. Anything else is not a date.
pub fn iso_date(text: &str) -> Option<String> {
    let text = text.trim();
    let date = text.get(..10)?;
    let parts: Vec<&str> = date.split(['-', '/']).collect();
    let [year, month, day] = parts.as_slice() else { return None };
    let valid = year.len() == 4
        && month.len() == 2
        && day.len() == 2
        && [year, month, day].iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
        && (1..=12).contains(&month.parse::<u8>().ok()?)
        && (1..=31).contains(&day.parse::<u8>().ok()?);
    let rest_ok = text.len() == 10 || text[10..].starts_with(['T', ' ']);
    (valid && rest_ok).then(|| format!("{year}-{month}-{day}"))
}

/// Splits a comma-separated value ("crowdstrike, microsoft sysmon") into trimmed, non-empty items.
pub fn comma_list(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

/// `Some` only for text with something other than whitespace in it, trimmed.
pub fn non_empty(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

/// The trimmed text of a field a format requires; a missing or blank field is the error.
pub fn required(value: Option<String>, field: &str) -> Result<String, ParseError> {
    non_empty(value).ok_or_else(|| ParseError::new(format!("missing `{field}`")))
}

/// The file name without directories and extension, used when a rule carries no ID.
pub fn file_stem(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.rsplit_once('.').map_or(name, |(stem, _)| stem)
}

/// A YAML/TOML value that is sometimes one string and sometimes a list of strings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OneOrMany(pub Vec<String>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(Scalar),
            Many(Vec<Scalar>),
            Nothing(()),
        }
        Ok(OneOrMany(match Raw::deserialize(d)? {
            Raw::One(s) => vec![s.0],
            Raw::Many(v) => v.into_iter().map(|s| s.0).collect(),
            Raw::Nothing(()) => vec![],
        }))
    }
}

/// A scalar read as text, whatever its YAML type (`version: 3`, `id: 1234`, `date: 2024-01-01`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scalar(pub String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Int(i64),
            Float(f64),
            Bool(bool),
        }
        Ok(Scalar(match Raw::deserialize(d)? {
            Raw::Text(s) => s,
            Raw::Int(i) => i.to_string(),
            Raw::Float(f) => f.to_string(),
            Raw::Bool(b) => b.to_string(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn dates_in_vendor_spellings_become_iso() {
        assert_eq!(iso_date("2024-09-30").as_deref(), Some("2024-09-30"));
        assert_eq!(iso_date("2025/11/17").as_deref(), Some("2025-11-17"));
        assert_eq!(iso_date("2021-03-09T10:00:00Z").as_deref(), Some("2021-03-09"));
        for bad in ["", "2024-13-01", "24-01-01", "yesterday", "2024-01-01x", "2024-1-1", "2024-01-0é"] {
            assert_eq!(iso_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn comma_lists_drop_blanks() {
        assert_eq!(comma_list(" a, b ,, c "), vec!["a", "b", "c"]);
        assert!(comma_list(" , ").is_empty());
    }

    #[test]
    fn required_fields_must_hold_text() {
        assert_eq!(required(Some(" x ".into()), "name"), Ok("x".to_string()));
        for missing in [None, Some(" \n".to_string())] {
            assert_eq!(required(missing, "name").unwrap_err().message, "missing `name`");
        }
    }

    #[test]
    fn file_stems() {
        assert_eq!(file_stem("rules/x/gcti_tor.yaral"), "gcti_tor");
        assert_eq!(file_stem("noext"), "noext");
    }

    #[test]
    fn one_or_many_accepts_both_shapes_and_any_scalar() {
        #[derive(Deserialize)]
        struct Doc {
            a: OneOrMany,
            b: OneOrMany,
            c: OneOrMany,
        }
        let doc: Doc = yaml("a: one\nb: [x, 2]\nc: ~\n").unwrap();
        assert_eq!(doc.a.0, vec!["one"]);
        assert_eq!(doc.b.0, vec!["x", "2"]);
        assert!(doc.c.0.is_empty());
    }

    #[test]
    fn yaml_alias_bombs_are_refused() {
        let mut bomb =
            String::from("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (prev, next) in
            ["a", "b", "c", "d", "e", "f", "g", "h"].iter().zip(["b", "c", "d", "e", "f", "g", "h", "i"])
        {
            let list = vec![format!("*{prev}"); 9].join(",");
            bomb.push_str(&format!("{next}: &{next} [{list}]\n"));
        }
        let error = yaml::<BTreeMap<String, serde_json::Value>>(&bomb).unwrap_err();
        assert!(error.message.starts_with("invalid YAML"), "{error}");
    }

    #[test]
    fn deeply_nested_yaml_is_refused() {
        let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
        let error = yaml::<serde_json::Value>(&deep).unwrap_err();
        assert!(error.message.starts_with("invalid YAML"), "{error}");
    }
}

//! Parsing helpers several adapters share: hardened YAML and TOML, dates, lists and text
//! clean-up.

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

/// Deepest TOML nesting accepted: table headers' keys, dotted keys, arrays and inline tables
/// together. Real Elastic rules nest four levels (`rule.threat[].technique[].subtechnique[]`).
const MAX_TOML_DEPTH: usize = 64;

/// Reads untrusted TOML, refusing nesting deeper than `MAX_TOML_DEPTH` before parsing: the
/// parser's memory grows with depth times size (a 3 MB file of dotted keys took 350 MB).
pub fn toml<T: DeserializeOwned>(text: &str) -> Result<T, ParseError> {
    if let Some(line) = toml_too_deep(text, MAX_TOML_DEPTH) {
        let message = format!("TOML nested deeper than {MAX_TOML_DEPTH} levels (tables, arrays and dotted keys)");
        return Err(ParseError::at_line(line, message));
    }
    ::toml::from_str(text).map_err(|e| toml_error(text, &e))
}

fn toml_error(text: &str, error: &::toml::de::Error) -> ParseError {
    let message = format!("invalid TOML: {}", error.message());
    match error.span() {
        Some(span) => ParseError::at_line(text[..span.start.min(text.len())].matches('\n').count() + 1, message),
        None => ParseError::new(message),
    }
}

/// The line where a TOML text first nests deeper than `max_depth`, found by a scan that skips
/// strings and comments and counts levels without building anything. It may overcount odd but
/// valid documents slightly; it never undercounts.
fn toml_too_deep(text: &str, max_depth: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut scan = TomlDepth { line: 1, segments: 1, ..TomlDepth::default() };
    let mut i = 0;
    while i < bytes.len() {
        let end = match bytes[i] {
            b'#' => bytes[i..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |n| i + n),
            b'"' | b'\'' => skip_toml_string(bytes, i),
            b => {
                scan.byte(b);
                i + 1
            }
        };
        scan.line += bytes[i..end].iter().filter(|&&b| b == b'\n').count();
        if scan.depth() > max_depth {
            return Some(scan.line);
        }
        i = end;
    }
    None
}

/// Where a TOML scan is: in a key, a `[table]` header or a value.
#[derive(Default, PartialEq, Eq)]
enum TomlPlace {
    #[default]
    Key,
    Header,
    Value,
}

#[derive(Default)]
struct TomlDepth {
    line: usize,
    place: TomlPlace,
    /// Depth of the current `[table]`: its key's segments, plus one for an array of tables.
    table: usize,
    /// Open arrays and inline tables (`[` or `{`) in values, each with its depth.
    open: Vec<(u8, usize)>,
    /// Segments of the key or header being read.
    segments: usize,
    /// Whether the key being read has begun (a `[` before it starts a header).
    key_started: bool,
    /// Depth of the value being read.
    value: usize,
}

impl TomlDepth {
    fn depth(&self) -> usize {
        match self.place {
            TomlPlace::Key => self.base() + self.segments,
            TomlPlace::Header => self.table + self.segments,
            TomlPlace::Value => self.value,
        }
    }

    /// The depth keys are read at: the current table's, or the innermost inline table's.
    fn base(&self) -> usize {
        self.open.last().map_or(self.table, |&(_, depth)| depth)
    }

    fn start_key(&mut self) {
        (self.place, self.segments, self.key_started) = (TomlPlace::Key, 1, false);
    }

    fn byte(&mut self, b: u8) {
        match (&self.place, b) {
            // A newline ends a key or value, except inside brackets, which may span lines.
            (_, b'\n') if self.open.is_empty() => self.start_key(),
            (TomlPlace::Key, b'[') if self.open.is_empty() && !self.key_started => {
                (self.place, self.segments, self.table) = (TomlPlace::Header, 1, 0);
            }
            (TomlPlace::Header, b'[') => self.table = 1,
            (TomlPlace::Header, b']') => {
                self.table += self.segments;
                self.start_key();
                self.key_started = true;
            }
            (TomlPlace::Key | TomlPlace::Header, b'.') => self.segments += 1,
            (TomlPlace::Key, b'=') => (self.place, self.value) = (TomlPlace::Value, self.base() + self.segments),
            (TomlPlace::Value, b'[' | b'{') => {
                self.open.push((b, self.value));
                if b == b'{' {
                    self.start_key();
                }
                self.value += 1;
            }
            (TomlPlace::Value, b',') => match self.open.last() {
                Some(&(b'{', _)) => self.start_key(),
                Some(&(_, depth)) => self.value = depth + 1,
                None => {}
            },
            (TomlPlace::Key | TomlPlace::Value, b']' | b'}') if !self.open.is_empty() => {
                self.open.pop();
                self.place = TomlPlace::Value;
            }
            (TomlPlace::Key, b) if !b.is_ascii_whitespace() => self.key_started = true,
            _ => {}
        }
    }
}

/// The index just after the TOML string opening at `open` (basic or literal, single-line or
/// multi-line); an unterminated single-line string ends at its line's end.
fn skip_toml_string(bytes: &[u8], open: usize) -> usize {
    let quote = bytes[open];
    let width = if bytes[open..].starts_with(&[quote; 3]) { 3 } else { 1 };
    let mut i = open + width;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 2,
            b'\n' if width == 1 => return i,
            b if b == quote && bytes.get(i..i + width).is_some_and(|d| d.iter().all(|&b| b == quote)) => {
                // A multi-line string may end in up to two quotes of its own: `"""a"""""`.
                let after = bytes.get(i + width..).unwrap_or_default();
                let extra = if width == 3 { after.iter().take(2).take_while(|&&b| b == quote).count() } else { 0 };
                return i + width + extra;
            }
            _ => i += 1,
        }
    }
    bytes.len()
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

/// One `[[threat]]` block as Elastic writes ATT&CK in TOML, in its SIEM rules
/// (`[[rule.threat]]`) and its endpoint rules (`[[threat]]`) alike.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ElasticThreat {
    framework: String,
    tactic: Option<ElasticAttackObject>,
    technique: Vec<ElasticTechnique>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct ElasticTechnique {
    id: String,
    subtechnique: Vec<ElasticAttackObject>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct ElasticAttackObject {
    id: String,
}

impl ElasticThreat {
    /// The ATT&CK tags of a rule's blocks: each block's tactic, then each technique at its most
    /// specific (its sub-techniques when listed, Elastic nesting them under their parent; the
    /// technique itself otherwise). Blocks of other frameworks are not ATT&CK.
    pub fn attack_tags(threats: &[ElasticThreat]) -> Vec<String> {
        threats.iter().filter(|t| t.framework.contains("ATT&CK")).flat_map(ElasticThreat::tags).collect()
    }

    fn tags(&self) -> Vec<String> {
        let mut tags: Vec<String> = self.tactic.iter().map(|t| t.id.clone()).collect();
        for technique in &self.technique {
            if technique.subtechnique.is_empty() {
                tags.push(technique.id.clone());
            } else {
                tags.extend(technique.subtechnique.iter().map(|s| s.id.clone()));
            }
        }
        tags.retain(|t| !t.trim().is_empty());
        tags
    }
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
    fn toml_depth_counts_headers_dotted_keys_arrays_and_inline_tables() {
        let depth = |text: &str| (0..20).find(|&max| toml_too_deep(text, max).is_none()).unwrap();
        assert_eq!(depth("a = 1"), 1);
        assert_eq!(depth("[rule]\nname = \"x\"\n"), 2);
        assert_eq!(depth("[[rule.threat]]\nframework = \"MITRE ATT&CK\"\n[[rule.threat.technique]]\nid = \"T1\"\n"), 5);
        assert_eq!(depth("[[rule.threat.technique.subtechnique]]\nid = \"T1.001\"\n"), 6);
        assert_eq!(depth("a.b.c = 1"), 3);
        assert_eq!(depth("x = [[1, 2], [3]]"), 3);
        assert_eq!(depth("x = [\n  [1],\n  [2],\n]\nnext = 1\n"), 3, "arrays may span lines");
        assert_eq!(depth("x = { a = { b.c = 1 } }"), 4);
        assert_eq!(depth("x = [{ a = 1 }, { b = [1] }]"), 4);
        // Strings and comments hold no structure, whatever they contain.
        assert_eq!(depth("q = \"[[[{{{a.b.c\"\n# [[[[ a.b.c.d\nr = 'x.y[[' \n"), 1);
        assert_eq!(depth("q = \"\"\"\n[[[\n\"\"\"\nr = '''\n{{{'''\ns = \"\\\"[[\"\nt = \"\"\"a\"\"\"\"\"\n"), 1);
        assert_eq!(depth("\"a.b\".'c.d' = 1"), 2, "quoted keys");
    }

    #[test]
    fn toml_depth_never_panics_on_truncated_strings() {
        let text =
            concat!("a = \"\"\"x\\\"\"\"\"\"\n", "b = '''y'''\n", "c = \"z\\\\\"\n", "d = 'w'\n[e]\nf = [{g = 1}]");
        for end in 0..=text.len() {
            let _ = toml_too_deep(&text[..end], 2);
        }
    }

    #[test]
    fn toml_depth_reports_the_line_nesting_passes_the_limit() {
        assert_eq!(toml_too_deep("a = 1\n\"\"\"\n\n\"\"\"\nb.c.d = 2\n", 2), Some(5));
        assert_eq!(toml_too_deep("a = 1\n\n[x.y.z]\n", 2), Some(3));
    }

    /// The attack: 3 MB of nesting cost about 350 MB per parsing thread. Each shape is refused
    /// before parsing, naming the line and the limit.
    #[test]
    fn deeply_nested_toml_is_refused_before_parsing() {
        let n = 1_000_000;
        let hostile = [
            format!("[rule]\n{} = 1\n", vec!["a"; n].join(".")),
            format!("[{}]\n", vec!["a"; n].join(".")),
            format!("x = {}{}\n", "[".repeat(n), "]".repeat(n)),
            format!("x = {}1{}\n", "{a=".repeat(n), "}".repeat(n)),
        ];
        for text in &hostile {
            let error = toml::<serde_json::Value>(text).unwrap_err();
            assert_eq!(error.message, "TOML nested deeper than 64 levels (tables, arrays and dotted keys)");
            assert!(error.line.is_some());
        }
    }

    #[test]
    fn deeply_nested_yaml_is_refused() {
        let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
        let error = yaml::<serde_json::Value>(&deep).unwrap_err();
        assert!(error.message.starts_with("invalid YAML"), "{error}");
    }
}

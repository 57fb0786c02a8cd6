//! Format adapters: one module per native rule format, each turning one file into [`Rule`]s.
//!
//! Adapters see only a file's path (relative to its source root) and text. They know nothing of
//! the catalog, the ATT&CK bundles or each other; helpers they share live in [`util`].

mod chronicle;
mod elastic;
mod elastic_endpoint;
mod kql_markdown;
pub(crate) mod panther;
pub(crate) mod sentinel;
mod sigma;
pub mod splunk;
mod sublime;
pub mod util;

use std::collections::BTreeMap;
use std::fmt;

pub use crate::model::Format;
use crate::model::Rule;

impl Format {
    /// The adapter that reads this format.
    pub fn adapter(self) -> &'static dyn Adapter {
        match self {
            Format::Chronicle => &chronicle::Chronicle,
            Format::SplunkEscu => &splunk::SplunkEscu,
            Format::Elastic => &elastic::Elastic,
            Format::Sentinel => &sentinel::Sentinel,
            Format::Sublime => &sublime::Sublime,
            Format::Sigma => &sigma::Sigma,
            Format::KqlMarkdown => &kql_markdown::KqlMarkdown,
            Format::Panther => &panther::Panther,
            Format::ElasticEndpoint => &elastic_endpoint::ElasticEndpoint,
        }
    }
}

/// One file handed to an adapter.
#[derive(Debug, Clone, Copy)]
pub struct SourceFile<'a> {
    /// Path relative to the source root, `/`-separated.
    pub path: &'a str,
    pub text: &'a str,
}

/// Why a rule, or a whole file, could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line, when known.
    pub line: Option<usize>,
    pub message: String,
}

impl ParseError {
    pub fn new(message: impl Into<String>) -> ParseError {
        ParseError { line: None, message: message.into() }
    }

    pub fn at_line(line: usize, message: impl Into<String>) -> ParseError {
        ParseError { line: Some(line), message: message.into() }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// What an adapter got out of one file: the rules it could read and why others failed.
/// A file holding several rules keeps its good rules when one of them is broken.
#[derive(Debug, Default)]
pub struct Parsed {
    pub rules: Vec<Rule>,
    pub errors: Vec<ParseError>,
}

impl From<Result<Rule, ParseError>> for Parsed {
    fn from(result: Result<Rule, ParseError>) -> Parsed {
        match result {
            Ok(rule) => Parsed { rules: vec![rule], errors: vec![] },
            Err(error) => Parsed { rules: vec![], errors: vec![error] },
        }
    }
}

impl FromIterator<Result<Rule, ParseError>> for Parsed {
    fn from_iter<I: IntoIterator<Item = Result<Rule, ParseError>>>(iter: I) -> Parsed {
        let mut parsed = Parsed::default();
        for result in iter {
            match result {
                Ok(rule) => parsed.rules.push(rule),
                Err(error) => parsed.errors.push(error),
            }
        }
        parsed
    }
}

/// A native rule format.
pub trait Adapter: Sync {
    /// Globs, relative to the source root, naming the files this format reads
    /// (for example `rules/**/*.yaral`). Everything else in the source is ignored.
    fn patterns(&self) -> &'static [&'static str];

    /// Globs naming files the format reads besides its rules: definitions the rules refer to
    /// (Splunk's macros and lookups, Panther's shared helpers). They are read once per source,
    /// before the rules, and handed to [`Adapter::prepare`].
    fn support_patterns(&self) -> &'static [&'static str] {
        &[]
    }

    /// Of the support files, those the catalog keeps for exports (lookup tables an exported
    /// Splunk app ships, say).
    fn asset_patterns(&self) -> &'static [&'static str] {
        &[]
    }

    /// Reads the support files and returns what parses the rule files. Formats without support
    /// files parse each file with [`Adapter::parse`] alone.
    fn prepare<'a>(&'a self, _support: &'a Support) -> Prepared<'a> {
        Prepared::new(move |file| self.parse(file))
    }

    /// Reads one file, without support files. Must not panic on any input.
    fn parse(&self, file: SourceFile<'_>) -> Parsed;

    /// The part of a rule's query that is its detection logic: what full-text search indexes as
    /// query text and quotes in snippets. The whole query, except in formats whose query is the
    /// whole rule, metadata included (Sigma, YARA-L), where the metadata is already indexed as
    /// title, description and tags.
    fn query_logic<'q>(&self, query: &'q str) -> &'q str {
        query
    }
}

/// A source's support files (see [`Adapter::support_patterns`]), by path relative to the root.
#[derive(Debug, Clone, Default)]
pub struct Support {
    files: BTreeMap<String, String>,
}

impl Support {
    pub fn new(files: impl IntoIterator<Item = (String, String)>) -> Support {
        Support { files: files.into_iter().collect() }
    }

    /// The text of one support file.
    pub fn get(&self, path: &str) -> Option<&str> {
        self.files.get(path).map(String::as_str)
    }

    /// Every support file, in path order.
    pub fn files(&self) -> impl Iterator<Item = (&str, &str)> {
        self.files.iter().map(|(path, text)| (path.as_str(), text.as_str()))
    }
}

/// The rule parser of one source, ready to run on its rule files in parallel.
pub struct Prepared<'a> {
    parse: Box<dyn Fn(SourceFile<'_>) -> Parsed + Sync + 'a>,
    /// Support files that could not be read, by path.
    pub failures: Vec<(String, ParseError)>,
}

impl<'a> Prepared<'a> {
    pub fn new(parse: impl Fn(SourceFile<'_>) -> Parsed + Sync + 'a) -> Prepared<'a> {
        Prepared { parse: Box::new(parse), failures: vec![] }
    }

    pub fn with_failures(mut self, failures: Vec<(String, ParseError)>) -> Prepared<'a> {
        self.failures = failures;
        self
    }

    pub fn parse(&self, file: SourceFile<'_>) -> Parsed {
        (self.parse)(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip_through_serde_and_fromstr() {
        for format in Format::ALL {
            assert_eq!(serde_json::to_string(format).unwrap(), format!("\"{}\"", format.as_str()));
            assert_eq!(format.as_str().parse::<Format>(), Ok(*format));
        }
        assert!("sentinal".parse::<Format>().unwrap_err().contains("kql-markdown"));
    }
}

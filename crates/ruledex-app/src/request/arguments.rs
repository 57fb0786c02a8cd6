//! A request's parameters as a front end received them (name and value pairs, all text),
//! checked against the operation's description: every value in its range or set, switches
//! spelled as switches, nothing given twice that is given once, every required parameter
//! present. What is wrong is said the same way whatever the front end, in its own spelling.

use std::collections::HashMap;
use std::str::FromStr;

use super::param::{FLAG_NO, FLAG_YES, Kind, Operation, Param, Spelling};

/// A request ruledex does not take: the parameter at fault (when one is), and what is wrong.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.spelled(Spelling::Query))]
pub struct RequestError {
    pub param: Option<&'static Param>,
    /// What is wrong and what would do, said after the parameter's name (`0 is out of range;
    /// give 1 to 100`).
    pub problem: String,
}

impl RequestError {
    pub fn new(param: &'static Param, problem: impl Into<String>) -> RequestError {
        RequestError { param: Some(param), problem: problem.into() }
    }

    /// The message as a front end says it: `` `limit`: 0 is ... ``, `--limit: 0 is ...`.
    pub fn spelled(&self, spelling: Spelling) -> String {
        match self.param {
            Some(param) => format!("{}: {}", param.spelled(spelling), self.problem),
            None => self.problem.clone(),
        }
    }
}

/// What happens to parameters the operation does not take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unknown {
    /// Ignored: query strings carry whatever a page or a link adds besides (tracking tags, a
    /// cache buster).
    Ignore,
    /// Refused, naming what the operation takes: JSON arguments are written for the tool.
    Refuse,
}

/// A parameter's value once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Given {
    Text(String),
    List(Vec<String>),
    Flag(bool),
    Number(u64),
}

/// The parameters of one request, each checked against its description.
#[derive(Debug, Clone)]
pub struct Arguments {
    operation: &'static Operation,
    given: HashMap<&'static str, Given>,
}

impl Arguments {
    /// Checks `pairs` (names as `spelling` writes them, values as text) against `operation`.
    /// An empty value counts as not given, but for a switch (`?deprecated` means yes).
    pub fn check(
        operation: &'static Operation,
        pairs: impl IntoIterator<Item = (String, String)>,
        spelling: Spelling,
        unknown: Unknown,
    ) -> Result<Arguments, RequestError> {
        let mut given: HashMap<&'static str, Given> = HashMap::new();
        for (name, value) in pairs {
            let Some(param) = operation.param(&name, spelling) else {
                match unknown {
                    Unknown::Ignore => continue,
                    Unknown::Refuse => return Err(unknown_parameter(operation, &name, spelling)),
                }
            };
            if let Kind::List { values, commas } = param.kind {
                let entry = given.entry(param.name).or_insert_with(|| Given::List(vec![]));
                if let Given::List(list) = entry {
                    add_to_list(param, list, &value, values, commas)?;
                }
                continue;
            }
            if value.is_empty() && !matches!(param.kind, Kind::Flag) {
                continue;
            }
            if given.contains_key(param.name) {
                return Err(RequestError::new(param, "is given twice; give it once"));
            }
            given.insert(param.name, checked(param, value)?);
        }
        if let Some(missing) = operation.all().find(|p| operation.requires(p) && !given.contains_key(p.name)) {
            let what = match missing.values() {
                Some(values) => format!("one of {}", values.join(", ")),
                None => missing.help.to_string(),
            };
            return Err(RequestError::new(missing, format!("is required ({what})")));
        }
        Ok(Arguments { operation, given })
    }

    /// The operation the arguments are for.
    pub fn operation(&self) -> &'static Operation {
        self.operation
    }

    /// Whether the request gave `param` (an empty list counts as not given).
    pub fn has(&self, param: &Param) -> bool {
        match self.given.get(param.name) {
            Some(Given::List(values)) => !values.is_empty(),
            Some(_) => true,
            None => false,
        }
    }

    /// A text (or chosen name) as given; a choice's default when not given.
    pub fn text(&self, param: &Param) -> Option<&str> {
        match (self.given.get(param.name), param.kind) {
            (Some(Given::Text(text)), _) => Some(text),
            (None, Kind::Choice { default, .. }) => default,
            _ => None,
        }
    }

    /// A text as given, owned.
    pub fn owned(&self, param: &Param) -> Option<String> {
        self.text(param).map(str::to_string)
    }

    /// A list's values (none when not given).
    pub fn list(&self, param: &Param) -> Vec<String> {
        match self.given.get(param.name) {
            Some(Given::List(values)) => values.clone(),
            _ => vec![],
        }
    }

    /// A list of names read as `T` (they were checked against its names).
    pub fn names<T: FromStr>(&self, param: &Param) -> Vec<T> {
        self.list(param).iter().filter_map(|value| value.parse().ok()).collect()
    }

    /// A switch: off unless given so.
    pub fn flag(&self, param: &Param) -> bool {
        matches!(self.given.get(param.name), Some(Given::Flag(true)))
    }

    /// A number as given, else its default.
    pub fn number(&self, param: &Param) -> usize {
        let value = match (self.given.get(param.name), param.kind) {
            (Some(Given::Number(n)), _) => *n,
            (_, Kind::Number { default, .. }) => default,
            _ => 0,
        };
        usize::try_from(value).unwrap_or(usize::MAX)
    }
}

/// The value of a parameter taken once, checked against its kind.
fn checked(param: &'static Param, value: String) -> Result<Given, RequestError> {
    Ok(match param.kind {
        Kind::Text => Given::Text(value),
        Kind::Choice { values, .. } => Given::Text(known_name(param, &value, &values())?.to_string()),
        Kind::Flag => Given::Flag(switch(param, &value)?),
        Kind::Number { min, max, .. } => Given::Number(number(param, &value, min, max)?),
        Kind::List { .. } => Given::List(vec![value]),
    })
}

fn add_to_list(
    param: &'static Param,
    list: &mut Vec<String>,
    value: &str,
    values: Option<fn() -> Vec<&'static str>>,
    commas: bool,
) -> Result<(), RequestError> {
    let parts: Vec<&str> = if commas { value.split(',').collect() } else { vec![value] };
    for part in parts.into_iter().map(str::trim).filter(|p| !p.is_empty()) {
        let part = match values {
            Some(values) => known_name(param, part, &values())?,
            None => part,
        };
        list.push(part.to_string());
    }
    Ok(())
}

/// The name of `known` that `typed` is (ignoring letter case), or an error offering the closest.
fn known_name<'a>(param: &'static Param, typed: &str, known: &[&'a str]) -> Result<&'a str, RequestError> {
    if let Some(name) = known.iter().find(|name| name.eq_ignore_ascii_case(typed)) {
        return Ok(name);
    }
    let hint = closest(typed, known.iter().copied()).map(|c| format!("; did you mean {c}?")).unwrap_or_default();
    Err(RequestError::new(param, format!("{typed:?} is not one of {}{hint}", known.join(", "))))
}

fn switch(param: &'static Param, value: &str) -> Result<bool, RequestError> {
    let is = |words: &[&str]| words.iter().any(|w| w.eq_ignore_ascii_case(value));
    match value {
        "" => Ok(true),
        _ if is(FLAG_YES) => Ok(true),
        _ if is(FLAG_NO) => Ok(false),
        _ => Err(RequestError::new(
            param,
            format!("{value:?} is not a switch's value; give {} (or {})", FLAG_YES.join(", "), FLAG_NO.join(", ")),
        )),
    }
}

fn number(param: &'static Param, value: &str, min: u64, max: u64) -> Result<u64, RequestError> {
    match value.trim().parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(RequestError::new(param, format!("give a whole number from {min} to {max}, not {value:?}"))),
    }
}

fn unknown_parameter(operation: &Operation, name: &str, spelling: Spelling) -> RequestError {
    let names: Vec<&str> = operation.all().map(|p| p.name_in(spelling)).collect();
    let hint = closest(name, names.iter().copied()).map(|c| format!(" (did you mean `{c}`?)")).unwrap_or_default();
    RequestError {
        param: None,
        problem: format!("there is no parameter `{name}`{hint}; `{}` takes: {}", operation.name, names.join(", ")),
    }
}

/// The closest of `candidates` to `typed`, when one is close enough to be what was meant:
/// letter case and the separators `-`, `_`, `.` and space aside, within a third of its length
/// in edits (at least one), or starting with it (`Sublime` for `Sublime Security`).
pub fn closest<'a>(typed: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let squash = |s: &str| s.to_lowercase().replace(['-', '_', ' ', '.'], "");
    let wanted = squash(typed);
    let allowed = (wanted.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter_map(|candidate| {
            let squashed = squash(candidate);
            let prefix = wanted.chars().count() >= 3 && squashed.starts_with(&wanted);
            let distance = if prefix { 0 } else { strsim::levenshtein(&squashed, &wanted) };
            (distance <= allowed).then_some((distance, candidate.len(), candidate))
        })
        .min()
        .map(|(_, _, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::vocabulary::{SEARCH, TECHNIQUE_LISTING};

    fn pairs(query: &[(&str, &str)]) -> Vec<(String, String)> {
        query.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    fn check(operation: &'static Operation, query: &[(&str, &str)]) -> Result<Arguments, String> {
        Arguments::check(operation, pairs(query), Spelling::Query, Unknown::Ignore).map_err(|e| e.to_string())
    }

    #[test]
    fn values_are_checked_against_their_description() {
        let args = check(&SEARCH, &[("q", "tor"), ("language", "SPL,eql"), ("limit", "5"), ("junk", "1")]).unwrap();
        assert_eq!(args.list(crate::request::vocabulary::LANGUAGE), ["spl", "eql"], "canonical names, commas split");
        assert_eq!(args.number(crate::request::vocabulary::LIMIT), 5);
        assert_eq!(args.number(crate::request::vocabulary::OFFSET), 0, "the default");
        let error = check(&SEARCH, &[("q", "tor"), ("limit", "0")]).unwrap_err();
        assert_eq!(error, "`limit`: give a whole number from 1 to 100, not \"0\"");
        let error = check(&SEARCH, &[("q", "tor"), ("offset", "1000000000000000000000")]).unwrap_err();
        assert!(error.starts_with("`offset`: give a whole number from 0 to"), "{error}");
        let error = check(&SEARCH, &[("q", "tor"), ("language", "splk")]).unwrap_err();
        assert!(error.starts_with("`language`: \"splk\" is not one of yara-l, spl,"), "{error}");
        assert!(error.ends_with("did you mean spl?"), "{error}");
        let error = check(&TECHNIQUE_LISTING, &[("technique", "T1090"), ("deprecated", "maybe")]).unwrap_err();
        assert!(error.contains("not a switch's value"), "{error}");
        let deprecated = |value| {
            let args = check(&TECHNIQUE_LISTING, &[("technique", "T1090"), ("deprecated", value)]).unwrap();
            args.flag(crate::request::vocabulary::DEPRECATED)
        };
        assert!(deprecated("") && deprecated("YES") && !deprecated("off"));
        assert!(check(&SEARCH, &[("q", "tor"), ("limit", "5"), ("limit", "6")]).unwrap_err().contains("given twice"));
        let error = check(&TECHNIQUE_LISTING, &[("exact", "1")]).unwrap_err();
        assert!(error.starts_with("`technique`: is required (The ATT&CK technique"), "{error}");
    }

    #[test]
    fn unknown_parameters_are_ignored_or_refused_with_the_closest() {
        let refused = Arguments::check(&SEARCH, pairs(&[("languages", "spl")]), Spelling::Query, Unknown::Refuse);
        let message = refused.unwrap_err().to_string();
        assert!(message.starts_with("there is no parameter `languages` (did you mean `language`?)"), "{message}");
        let given = pairs(&[("query", "tor"), ("languages", "spl")]);
        let json = Arguments::check(&SEARCH, given, Spelling::Json, Unknown::Refuse).unwrap();
        assert_eq!(json.list(crate::request::vocabulary::LANGUAGE), ["spl"], "JSON arguments have plural lists");
    }

    #[test]
    fn the_closest_name_ignores_case_and_separators() {
        assert_eq!(closest("splunk_app", ["splunk-app", "sigma"]), Some("splunk-app"));
        assert_eq!(closest("splnk", ["splunk", "sentinel"]), Some("splunk"));
        assert_eq!(closest("qradar", ["splunk", "sentinel"]), None);
        assert_eq!(closest("sublime", ["Sigma", "Sublime Security"]), Some("Sublime Security"));
    }
}

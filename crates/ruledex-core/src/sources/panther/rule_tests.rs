//! The unit tests Panther ships with each rule (`Tests:`): a sample log event, or for a
//! correlation rule the matches of the rules it correlates, and whether the rule must fire.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::model::RuleTest;
use crate::sources::ParseError;
use crate::sources::util::{Scalar, non_empty};

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
pub(super) struct RawTest {
    name: Option<Scalar>,
    expected_result: Option<Scalar>,
    log: Option<Value>,
    rule_outputs: Option<Value>,
    log_type: Option<String>,
    mocks: Option<Vec<RawMock>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RawMock {
    object_name: Option<String>,
    return_value: Value,
}

/// The tests that read, and why the others did not. A broken test does not cost the rule.
pub(super) fn read_tests(raw: Vec<RawTest>) -> (Vec<RuleTest>, Vec<ParseError>) {
    let mut tests = Vec::with_capacity(raw.len());
    let mut errors = Vec::new();
    for (index, test) in raw.into_iter().enumerate() {
        match test.into_test(index) {
            Ok(test) => tests.push(test),
            Err(error) => errors.push(error),
        }
    }
    (tests, errors)
}

impl RawTest {
    fn into_test(self, index: usize) -> Result<RuleTest, ParseError> {
        let name = non_empty(self.name.map(|n| n.0)).unwrap_or_else(|| format!("test {}", index + 1));
        let fail = |reason: &str| ParseError::new(format!("test {name:?}: {reason}"));
        let expected = match self.expected_result.map(|e| e.0.trim().to_ascii_lowercase()).as_deref() {
            Some("true") => true,
            Some("false") => false,
            Some(other) => return Err(fail(&format!("`ExpectedResult` must be true or false, not {other:?}"))),
            None => return Err(fail("missing `ExpectedResult`")),
        };
        let input = self.log.or(self.rule_outputs).ok_or_else(|| fail("has neither `Log` nor `RuleOutputs`"))?;
        let mocks: BTreeMap<String, Value> = self
            .mocks
            .into_iter()
            .flatten()
            .filter_map(|m| Some((non_empty(m.object_name)?, m.return_value)))
            .collect();
        Ok(RuleTest { input: format!("{input:#}"), name, expected, log_type: non_empty(self.log_type), mocks })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::util::yaml;

    fn read(text: &str) -> (Vec<RuleTest>, Vec<String>) {
        let raw: Vec<RawTest> = yaml(text).expect("valid YAML");
        let (tests, errors) = read_tests(raw);
        (tests, errors.into_iter().map(|e| e.message).collect())
    }

    #[test]
    fn events_become_pretty_json_with_their_mocks_and_log_type() {
        let (tests, errors) = read(
            r#"
- Name: Doc shared publicly
  ExpectedResult: true
  LogType: GSuite.ActivityEvent
  Mocks:
    - objectName: ALLOWED_DOMAINS
      returnValue: "[\"example.com\"]"
    - objectName: is_enabled
      returnValue: true
  Log:
    { "actor": { "email": "a@example.com" }, "count": 3 }
- ExpectedResult: False
  Log:
    user: bob
"#,
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(tests[0].name, "Doc shared publicly");
        assert!(tests[0].expected);
        assert_eq!(tests[0].input, "{\n  \"actor\": {\n    \"email\": \"a@example.com\"\n  },\n  \"count\": 3\n}");
        assert_eq!(tests[0].log_type.as_deref(), Some("GSuite.ActivityEvent"));
        assert_eq!(tests[0].mocks["ALLOWED_DOMAINS"], Value::String("[\"example.com\"]".into()));
        assert_eq!(tests[0].mocks["is_enabled"], Value::Bool(true));
        assert_eq!((tests[1].name.as_str(), tests[1].expected), ("test 2", false));
        assert_eq!(tests[1].input, "{\n  \"user\": \"bob\"\n}");
    }

    #[test]
    fn correlation_tests_carry_the_rule_outputs() {
        let (tests, _) = read("- Name: seq\n  ExpectedResult: true\n  RuleOutputs:\n    - ID: A\n      Matches: {}\n");
        assert_eq!(tests[0].input, "[\n  {\n    \"ID\": \"A\",\n    \"Matches\": {}\n  }\n]");
    }

    #[test]
    fn broken_tests_are_named_in_the_errors_and_the_rest_read() {
        let (tests, errors) = read(
            "- Name: maybe\n  ExpectedResult: sometimes\n  Log: {}\n\
             - Name: no answer\n  Log: {}\n\
             - Name: no input\n  ExpectedResult: true\n\
             - Name: fine\n  ExpectedResult: true\n  Log: {}\n",
        );
        assert_eq!(tests.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), vec!["fine"]);
        assert_eq!(
            errors,
            vec![
                "test \"maybe\": `ExpectedResult` must be true or false, not \"sometimes\"",
                "test \"no answer\": missing `ExpectedResult`",
                "test \"no input\": has neither `Log` nor `RuleOutputs`",
            ]
        );
    }
}

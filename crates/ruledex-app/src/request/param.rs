//! What a parameter is: its names, its values and its help, and the JSON Schemas front ends
//! describe it with.

use serde_json::{Value, json};

/// The words a switch takes for yes; nothing but the name (`?deprecated`) means yes too.
pub const FLAG_YES: &[&str] = &["1", "true", "on", "yes"];
/// The words a switch takes for no.
pub const FLAG_NO: &[&str] = &["0", "false", "off", "no"];

/// What values a parameter takes.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// Free text (a technique, a search, an address, a date).
    Text,
    /// One name of a fixed set; `default` when not given, else the parameter is required.
    Choice { values: fn() -> Vec<&'static str>, default: Option<&'static str> },
    /// Any number of values, each given on its own (`?source=a&source=b`, `--source a --source
    /// b`) or several at once separated by commas where `commas` (values never hold one); a
    /// fixed set of names when `values` is given.
    List { values: Option<fn() -> Vec<&'static str>>, commas: bool },
    /// A switch, off unless given.
    Flag,
    /// A whole number from `min` to `max`; `default` when not given.
    Number { min: u64, max: u64, default: u64 },
}

/// One parameter, described once for every front end.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// The name in query strings (`?data_source=`).
    pub name: &'static str,
    /// The name in JSON arguments (MCP tools): lists are plural there (`data_sources`).
    pub json: &'static str,
    /// The name on the command line, after `--` (`--data-source`).
    pub flag: &'static str,
    pub kind: Kind,
    /// What it means, for people and models alike.
    pub help: &'static str,
}

/// Which front end's names a message uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spelling {
    Query,
    Json,
    Flag,
}

impl Param {
    /// A parameter spelled `name` everywhere.
    pub const fn new(name: &'static str, kind: Kind, help: &'static str) -> Param {
        Param { name, json: name, flag: name, kind, help }
    }

    /// Another name in JSON arguments.
    pub const fn json(self, json: &'static str) -> Param {
        Param { json, ..self }
    }

    /// Another name on the command line.
    pub const fn flag(self, flag: &'static str) -> Param {
        Param { flag, ..self }
    }

    /// The parameter as the front end writes it: `` `limit` ``, `` `limits` ``, `--limit`.
    pub fn spelled(&self, spelling: Spelling) -> String {
        match spelling {
            Spelling::Query => format!("`{}`", self.name),
            Spelling::Json => format!("`{}`", self.json),
            Spelling::Flag => format!("--{}", self.flag),
        }
    }

    /// The name under `spelling`, without decoration.
    pub fn name_in(&self, spelling: Spelling) -> &'static str {
        match spelling {
            Spelling::Query => self.name,
            Spelling::Json => self.json,
            Spelling::Flag => self.flag,
        }
    }

    /// The names it takes, when they are a fixed set.
    pub fn values(&self) -> Option<Vec<&'static str>> {
        match self.kind {
            Kind::Choice { values, .. } | Kind::List { values: Some(values), .. } => Some(values()),
            _ => None,
        }
    }

    /// Whether a request must give it (a choice without a default).
    pub fn required(&self) -> bool {
        matches!(self.kind, Kind::Choice { default: None, .. })
    }

    pub fn is_list(&self) -> bool {
        matches!(self.kind, Kind::List { .. })
    }

    /// Its default, in words, for help texts.
    pub fn default_text(&self) -> Option<String> {
        match self.kind {
            Kind::Choice { default: Some(default), .. } => Some(default.to_string()),
            Kind::Number { default, .. } => Some(default.to_string()),
            _ => None,
        }
    }

    /// Its schema in a query string (the OpenAPI document): switches take words, lists repeat.
    pub fn query_schema(&self) -> Value {
        match self.kind {
            Kind::Flag => {
                let words: Vec<&str> = std::iter::once("").chain(FLAG_YES.iter().chain(FLAG_NO).copied()).collect();
                json!({ "type": "string", "enum": words })
            }
            _ => self.value_schema(),
        }
    }

    /// Its schema in JSON arguments (the MCP tools' input schemas): switches are booleans.
    pub fn json_schema(&self) -> Value {
        let mut schema = match self.kind {
            Kind::Flag => json!({ "type": "boolean", "default": false }),
            _ => self.value_schema(),
        };
        schema["description"] = json!(self.help);
        schema
    }

    fn value_schema(&self) -> Value {
        match self.kind {
            Kind::Text => json!({ "type": "string" }),
            Kind::Choice { values, default } => {
                let mut schema = json!({ "type": "string", "enum": values() });
                if let Some(default) = default {
                    schema["default"] = json!(default);
                }
                schema
            }
            Kind::List { values, .. } => {
                let items = match values {
                    Some(values) => json!({ "type": "string", "enum": values() }),
                    None => json!({ "type": "string" }),
                };
                json!({ "type": "array", "items": items })
            }
            Kind::Flag => json!({ "type": "boolean" }),
            Kind::Number { min, max, default } => {
                json!({ "type": "integer", "minimum": min, "maximum": max, "default": default })
            }
        }
    }
}

/// A question the service answers, with the parameters it takes.
#[derive(Debug)]
pub struct Operation {
    pub name: &'static str,
    /// What the question is about, where the front end takes it without a name: a path segment,
    /// the command line's argument. Required. (The MCP tools and export take it by name.)
    pub subject: Option<&'static Param>,
    /// The parameters taken by name, in groups (the filters, the page...).
    pub params: &'static [&'static [&'static Param]],
}

impl Operation {
    /// The parameter named `name` in `spelling`, the subject included.
    pub fn param(&self, name: &str, spelling: Spelling) -> Option<&'static Param> {
        self.all().find(|p| p.name_in(spelling) == name)
    }

    /// The subject, then the named parameters.
    pub fn all(&self) -> impl Iterator<Item = &'static Param> + '_ {
        self.subject.into_iter().chain(self.params.iter().flat_map(|group| group.iter().copied()))
    }

    /// Whether a request must give `param`: the subject, and a choice without a default.
    pub fn requires(&self, param: &Param) -> bool {
        param.required() || self.subject.is_some_and(|subject| std::ptr::eq(subject, param))
    }

    /// The input schema of the operation as an MCP tool: every parameter by its JSON name,
    /// the subject required.
    pub fn json_schema(&self) -> serde_json::Map<String, Value> {
        let properties: serde_json::Map<String, Value> =
            self.all().map(|p| (p.json.to_string(), p.json_schema())).collect();
        let required: Vec<&str> = self.all().filter(|p| self.requires(p)).map(|p| p.json).collect();
        let mut schema = serde_json::Map::new();
        schema.insert("type".into(), json!("object"));
        schema.insert("properties".into(), Value::Object(properties));
        schema.insert("required".into(), json!(required));
        schema.insert("additionalProperties".into(), json!(false));
        schema
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Param = Param::new("limit", Kind::Number { min: 1, max: 100, default: 20 }, "Results per page.");
    const SOURCE: Param =
        Param::new("source", Kind::List { values: None, commas: true }, "Only these sources.").json("sources");

    #[test]
    fn a_parameter_is_spelled_by_each_front_end() {
        assert_eq!(SOURCE.spelled(Spelling::Query), "`source`");
        assert_eq!(SOURCE.spelled(Spelling::Json), "`sources`");
        assert_eq!(SOURCE.spelled(Spelling::Flag), "--source");
    }

    #[test]
    fn schemas_carry_ranges_defaults_and_help() {
        assert_eq!(LIMIT.query_schema(), json!({ "type": "integer", "minimum": 1, "maximum": 100, "default": 20 }));
        assert_eq!(LIMIT.json_schema()["description"], "Results per page.");
        assert_eq!(SOURCE.query_schema()["type"], "array");
        let flag = Param::new("deprecated", Kind::Flag, "Include deprecated detections.");
        assert_eq!(flag.json_schema()["type"], "boolean");
        assert!(flag.query_schema()["enum"].as_array().unwrap().contains(&json!("yes")));
    }
}

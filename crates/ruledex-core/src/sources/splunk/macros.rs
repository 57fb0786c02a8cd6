//! Splunk search macros: the table of definitions a source provides, and expanding a search with
//! it the way Splunk does before running it.
//!
//! Splunk keys a definition by name and argument count (`security_content_ctime(1)`), replaces
//! `$argname$` in the definition by the call's arguments, and expands the macros of the result
//! in turn. Calls inside quoted values and comments are not expanded (see [`super::spl`]), but
//! those in the searches `map` runs (`map search="..."`) are, as Splunk expands them when it runs
//! those.
//! Expansion is bounded: a cycle, too deep a nesting or an exploding expansion is an error
//! naming the macros involved, never a hang or a stack overflow.

use std::collections::HashMap;

use serde::Deserialize;

use super::published::{PUBLISHED_MACROS, PublishedMacro};
use super::spl::{self, Call, Piece, is_name_char, macro_key};
use crate::sources::ParseError;
use crate::sources::util::{OneOrMany, Scalar, yaml};

/// Deepest nesting of macro calls followed. ESCU nests two levels; a longer chain is a cycle in
/// disguise or a hostile table.
pub const MAX_DEPTH: usize = 32;
/// Most macro calls expanded for one search (ESCU's searches make a dozen at most).
pub const MAX_CALLS: usize = 10_000;
/// Longest expanded search produced (ESCU's longest is a few KB).
pub const MAX_EXPANDED_BYTES: usize = 1 << 20;
/// Most text produced while expanding one search: the output and every definition with its
/// arguments substituted. Bounds the work of calls whose large arguments expand to nothing.
pub const MAX_PRODUCED_BYTES: usize = 8 << 20;

/// What ESCU's build defines each detection's `<name>_filter` macro as: a no-op users replace
/// to tune out false positives. The macros are not in the repository.
pub const FILTER_DEFINITION: &str = "search *";

/// One macro definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Macro {
    /// The name without the argument count.
    pub name: String,
    /// Argument names, in call order.
    pub arguments: Vec<String>,
    pub definition: String,
    pub description: String,
}

impl From<&PublishedMacro> for Macro {
    fn from(published: &PublishedMacro) -> Macro {
        Macro {
            name: published.name.to_string(),
            arguments: published.arguments.iter().map(|a| a.to_string()).collect(),
            definition: published.definition.to_string(),
            description: format!("Defined by {} ({}).", published.app, published.link),
        }
    }
}

impl Macro {
    /// The name Splunk keys it by: `name`, or `name(N)`.
    pub fn key(&self) -> String {
        macro_key(&self.name, self.arguments.len())
    }
}

/// A definition found for a call.
#[derive(Debug, Clone, Copy)]
pub struct Definition<'a> {
    pub arguments: &'a [String],
    pub text: &'a str,
}

/// The macros a source defines, by key, over the published definitions of the other Splunk apps
/// ESCU relies on (see `docs/splunk-macros.md`).
#[derive(Debug, Clone)]
pub struct MacroTable {
    macros: HashMap<String, Macro>,
}

impl Default for MacroTable {
    fn default() -> MacroTable {
        MacroTable::published()
    }
}

impl MacroTable {
    /// A table without any definition (`_filter` macros still resolve).
    pub fn empty() -> MacroTable {
        MacroTable { macros: HashMap::new() }
    }

    /// The published definitions of other apps' macros alone.
    pub fn published() -> MacroTable {
        let mut table = MacroTable::empty();
        for published in PUBLISHED_MACROS {
            table.insert(Macro::from(published));
        }
        table
    }

    /// Reads ESCU macro files (`macros/*.yml`) over the published definitions. A file that cannot
    /// be read is returned with the reason, and the others load.
    pub fn read_escu<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> (MacroTable, Vec<(String, ParseError)>) {
        let mut table = MacroTable::published();
        let mut failures = Vec::new();
        for (path, text) in files {
            match read_macro(text) {
                Ok(definition) => {
                    table.insert(definition);
                }
                Err(error) => failures.push((path.to_string(), error)),
            }
        }
        (table, failures)
    }

    /// Adds a definition, replacing one with the same key.
    pub fn insert(&mut self, definition: Macro) -> Option<Macro> {
        self.macros.insert(definition.key(), definition)
    }

    /// The definition a call to `name` with `arity` arguments expands to.
    pub fn get(&self, name: &str, arity: usize) -> Option<Definition<'_>> {
        match self.macros.get(&macro_key(name, arity)) {
            Some(found) => Some(Definition { arguments: &found.arguments, text: &found.definition }),
            None if arity == 0 && is_filter_macro(name) => Some(Definition { arguments: &[], text: FILTER_DEFINITION }),
            None => None,
        }
    }

    /// Every definition, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Macro> {
        self.macros.values()
    }
}

/// Whether `name` is a detection's tuning macro (`windows_proxy_via_netsh_filter`).
pub fn is_filter_macro(name: &str) -> bool {
    name.ends_with("_filter")
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawMacro {
    name: Option<String>,
    definition: Option<Scalar>,
    arguments: OneOrMany,
    description: Option<String>,
}

/// Reads one ESCU macro file. The name may carry its argument count (`name(2)`); it must then
/// match the `arguments` listed.
pub fn read_macro(text: &str) -> Result<Macro, ParseError> {
    let raw: RawMacro = yaml(text)?;
    let name = raw.name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    let name = name.ok_or_else(|| ParseError::new("missing `name`"))?;
    let definition = raw.definition.ok_or_else(|| ParseError::new("missing `definition`"))?.0;
    let arguments: Vec<String> = raw.arguments.0.iter().map(|a| a.trim().to_string()).collect();
    let bare = bare_name(&name, arguments.len())?;
    if let Some(bad) = arguments.iter().find(|a| a.is_empty() || !a.chars().all(is_name_char)) {
        return Err(ParseError::new(format!("macro `{name}` has an invalid argument name {bad:?}")));
    }
    if let Some((i, dup)) = arguments.iter().enumerate().find(|(i, a)| arguments[..*i].contains(a)) {
        return Err(ParseError::new(format!("macro `{name}` names argument {dup:?} twice (argument {})", i + 1)));
    }
    Ok(Macro { name: bare, arguments, definition, description: raw.description.unwrap_or_default().trim().to_string() })
}

/// `name` without a `(N)` suffix, checking the suffix against the arguments listed.
fn bare_name(name: &str, arity: usize) -> Result<String, ParseError> {
    let (bare, declared) = match name.strip_suffix(')').and_then(|n| n.rsplit_once('(')) {
        Some((bare, count)) => {
            let count = count.trim().parse::<usize>().map_err(|_| {
                ParseError::new(format!("macro name `{name}` must end in its argument count, like `name(2)`"))
            })?;
            (bare, Some(count))
        }
        None => (name, None),
    };
    if bare.is_empty() || !bare.chars().all(is_name_char) {
        return Err(ParseError::new(format!("invalid macro name `{name}`")));
    }
    match declared {
        Some(count) if count != arity => Err(ParseError::new(format!(
            "macro `{name}` is named for {count} arguments but lists {arity} under `arguments`"
        ))),
        _ => Ok(bare.to_string()),
    }
}

/// A search with its macros expanded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expansion {
    pub text: String,
    /// Macro calls replaced by their definitions, nested ones included.
    pub expanded: usize,
    /// Keys (`name`, `name(N)`) of the calls left as written because nothing defines them, in
    /// order of first appearance.
    pub unresolved: Vec<String>,
    /// Keys of the calls left as written because the caller asked to keep them.
    pub kept: Vec<String>,
}

/// Why a search cannot be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MacroError {
    #[error("macro cycle: {}", .0.join(" -> "))]
    Cycle(Vec<String>),
    #[error("macros nest deeper than {MAX_DEPTH} levels: {}", .0.join(" -> "))]
    TooDeep(Vec<String>),
    #[error("the search makes more than {MAX_CALLS} macro calls once expanded")]
    TooManyCalls,
    #[error("the expanded search would be longer than {MAX_EXPANDED_BYTES} bytes")]
    TooLong,
    #[error("expanding the search would substitute more than {MAX_PRODUCED_BYTES} bytes of definitions")]
    TooMuchWork,
}

/// Expands every macro call in `search` that `table` defines, except calls to macros for which
/// `keep(name)` is true, which stay as written (see [`is_filter_macro`], [`keep_none`]).
pub fn expand(search: &str, table: &MacroTable, keep: &dyn Fn(&str) -> bool) -> Result<Expansion, MacroError> {
    let mut expander =
        Expander { table, keep, calls: 0, substituted: 0, stack: Vec::new(), expansion: Expansion::default() };
    let mut text = String::with_capacity(search.len() * 2);
    expander.expand_into(search, &mut text)?;
    expander.expansion.text = text;
    Ok(expander.expansion)
}

/// For [`expand`]: expand every macro that has a definition.
pub fn keep_none(_name: &str) -> bool {
    false
}

struct Expander<'t> {
    table: &'t MacroTable,
    keep: &'t dyn Fn(&str) -> bool,
    calls: usize,
    /// Bytes of definitions substituted so far.
    substituted: usize,
    /// Keys of the macros being expanded, outermost first.
    stack: Vec<String>,
    expansion: Expansion,
}

impl Expander<'_> {
    fn expand_into(&mut self, text: &str, out: &mut String) -> Result<(), MacroError> {
        for piece in spl::pieces(text) {
            match piece {
                Piece::Call(call) => self.call(&call, out)?,
                Piece::Search(quoted) => self.search_string(quoted, out)?,
                other => push(out, other.text())?,
            }
        }
        Ok(())
    }

    /// A search `map` runs (`search="search `m` ..."`): Splunk expands its macros when it runs
    /// it, so they are expanded inside the string, and the definitions escaped as the string
    /// needs. A string with nothing to expand stays as written.
    fn search_string(&mut self, quoted: &str, out: &mut String) -> Result<(), MacroError> {
        let search = spl::unquote(quoted);
        let mut expanded = String::with_capacity(search.len());
        self.expand_into(&search, &mut expanded)?;
        if expanded == search { push(out, quoted) } else { push(out, &spl::quote(&expanded)) }
    }

    fn call(&mut self, call: &Call<'_>, out: &mut String) -> Result<(), MacroError> {
        let key = call.key();
        if (self.keep)(call.name) {
            add_once(&mut self.expansion.kept, key);
            return push(out, call.text);
        }
        let Some(definition) = self.table.get(call.name, call.args.len()) else {
            add_once(&mut self.expansion.unresolved, key);
            return push(out, call.text);
        };
        if let Some(start) = self.stack.iter().position(|k| *k == key) {
            return Err(MacroError::Cycle(self.stack[start..].iter().cloned().chain([key]).collect()));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(MacroError::TooDeep(self.stack.iter().cloned().chain([key]).collect()));
        }
        self.calls += 1;
        if self.calls > MAX_CALLS {
            return Err(MacroError::TooManyCalls);
        }
        let body = substitute(definition, &call.args)?;
        self.substituted += body.len();
        if self.substituted > MAX_PRODUCED_BYTES {
            return Err(MacroError::TooMuchWork);
        }
        self.stack.push(key);
        self.expand_into(&body, out)?;
        self.stack.pop();
        self.expansion.expanded += 1;
        Ok(())
    }
}

fn push(out: &mut String, text: &str) -> Result<(), MacroError> {
    if out.len() + text.len() > MAX_EXPANDED_BYTES {
        return Err(MacroError::TooLong);
    }
    out.push_str(text);
    Ok(())
}

fn add_once(list: &mut Vec<String>, key: String) {
    if !list.contains(&key) {
        list.push(key);
    }
}

/// The definition with each `$argument$` replaced by the call's value for it.
fn substitute(definition: Definition<'_>, args: &[&str]) -> Result<String, MacroError> {
    if definition.arguments.is_empty() {
        return Ok(definition.text.to_string());
    }
    let values = bind(definition.arguments, args);
    let mut out = String::with_capacity(definition.text.len());
    let mut rest = definition.text;
    while let Some(open) = rest.find('$') {
        push(&mut out, &rest[..open])?;
        let after = &rest[open + 1..];
        let value = after.find('$').and_then(|close| Some((close, values.get(&after[..close])?)));
        match value {
            Some((close, value)) => {
                push(&mut out, value)?;
                rest = &after[close + 1..];
            }
            None => {
                push(&mut out, "$")?;
                rest = after;
            }
        }
    }
    push(&mut out, rest)?;
    Ok(out)
}

/// Pairs argument names with the call's values. Splunk also takes every argument by name
/// (`` `iis_search(fragment=TM)` ``); a call is read that way when each of its arguments is
/// `name=value` for a distinct argument of the definition, and by position otherwise.
fn bind<'a>(names: &'a [String], args: &[&'a str]) -> HashMap<&'a str, &'a str> {
    let named: Option<HashMap<&str, &str>> = args
        .iter()
        .map(|arg| {
            let (name, value) = arg.split_once('=')?;
            let name = names.iter().find(|n| *n == name.trim())?;
            Some((name.as_str(), value.trim()))
        })
        .collect();
    match named {
        Some(named) if named.len() == names.len() => named,
        _ => names.iter().map(String::as_str).zip(args.iter().copied()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(definitions: &[(&str, &[&str], &str)]) -> MacroTable {
        let mut table = MacroTable::empty();
        for (name, arguments, definition) in definitions {
            table.insert(Macro {
                name: name.to_string(),
                arguments: arguments.iter().map(|a| a.to_string()).collect(),
                definition: definition.to_string(),
                description: String::new(),
            });
        }
        table
    }

    fn expanded(search: &str, table: &MacroTable) -> Expansion {
        expand(search, table, &keep_none).unwrap()
    }

    #[test]
    fn arguments_replace_their_names_by_position_or_by_name() {
        let table = table(&[("ctime", &["field"], "convert ctime($field$)"), ("pair", &["a", "b"], "$b$=$a$ $c$ $$")]);
        assert_eq!(expanded("| `ctime(firstTime)`", &table).text, "| convert ctime(firstTime)");
        assert_eq!(expanded("`pair(1, \"x, y\")`", &table).text, "\"x, y\"=1 $c$ $$");
        assert_eq!(expanded("`pair(b=2, a=1)`", &table).text, "2=1 $c$ $$");
        // Not every argument named: positional, as written.
        assert_eq!(expanded("`pair(b=2, 1)`", &table).text, "1=b=2 $c$ $$");
    }

    #[test]
    fn nested_macros_expand_including_those_arguments_bring() {
        let table =
            table(&[("outer", &[], "summariesonly=`inner` x"), ("inner", &[], "false"), ("wrap", &["m"], "[$m$]")]);
        let expansion = expanded("| tstats `outer` `wrap(\"`inner`\")` `wrap(f(`inner`))`", &table);
        // A quoted argument stays quoted; an unquoted backtick ends the arguments, so the last
        // `wrap` is no call, but the `inner` call in it is.
        assert_eq!(expansion.text, "| tstats summariesonly=false x [\"`inner`\"] `wrap(f(false))`");
        assert_eq!(expansion.expanded, 4);
    }

    #[test]
    fn quotes_and_comments_stay_as_written() {
        let table = table(&[("m", &[], "X")]);
        let search = r#"eval a="`m`" ```uses `m` ``` | `m` | eval b=split(p,"`") | `m`"#;
        assert_eq!(expanded(search, &table).text, r#"eval a="`m`" ```uses `m` ``` | X | eval b=split(p,"`") | X"#);
    }

    /// ESCU's `windows_ad_suspicious_gpo_modification` and four others (issue 23): the search
    /// `map` runs calls `wineventlog_security`, which Splunk expands when it runs it.
    #[test]
    fn macros_in_the_searches_map_runs_are_expanded_and_escaped() {
        let table = table(&[("wineventlog_security", &[], "eventtype=\"wineventlog_security\" OR Channel=security")]);
        let search =
            r#"| map search="search `wineventlog_security` EventCode=5136 x=\"`kept`\" $gpo_guid$" | `nothing`"#;
        let expansion = expanded(search, &table);
        assert_eq!(
            expansion.text,
            r#"| map search="search eventtype=\"wineventlog_security\" OR Channel=security EventCode=5136 x=\"`kept`\" $gpo_guid$" | `nothing`"#
        );
        assert_eq!((expansion.expanded, expansion.unresolved), (1, vec!["nothing".to_string()]));
        // Unknown macros inside are listed, and a string with nothing expanded stays as written.
        let untouched = r#"| map search="search `unknown` a=\"b\\c\" d\w""#;
        let expansion = expanded(untouched, &table);
        assert_eq!((expansion.text.as_str(), expansion.unresolved), (untouched, vec!["unknown".to_string()]));
        // Quoted values elsewhere stay as written.
        let literal = r#"| eval search="`wineventlog_security`""#;
        assert_eq!(expanded(literal, &table).text, literal);
    }

    #[test]
    fn unknown_macros_and_wrong_argument_counts_stay_and_are_listed() {
        let table = table(&[("one", &["x"], "ONE $x$")]);
        let expansion = expanded("`one(a)` `one(a, b)` `nothing` `one` `nothing`", &table);
        assert_eq!(expansion.text, "ONE a `one(a, b)` `nothing` `one` `nothing`");
        assert_eq!(expansion.unresolved, vec!["one(2)", "nothing", "one"]);
    }

    #[test]
    fn filter_macros_default_to_search_star_unless_kept() {
        let table = table(&[("m", &[], "X")]);
        let search = "`m` | `windows_proxy_via_netsh_filter`";
        assert_eq!(expanded(search, &table).text, "X | search *");
        let kept = expand(search, &table, &is_filter_macro).unwrap();
        assert_eq!(kept.text, "X | `windows_proxy_via_netsh_filter`");
        assert_eq!(kept.kept, vec!["windows_proxy_via_netsh_filter"]);
        assert!(kept.unresolved.is_empty());
    }

    #[test]
    fn cycles_are_errors_naming_the_cycle() {
        let table = table(&[("a", &[], "`b(1)`"), ("b", &["x"], "`c`"), ("c", &[], "`b(1)`"), ("self", &[], "`self`")]);
        assert_eq!(expand("`a`", &table, &keep_none).unwrap_err().to_string(), "macro cycle: b(1) -> c -> b(1)");
        assert_eq!(expand("`self`", &table, &keep_none), Err(MacroError::Cycle(vec!["self".into(), "self".into()])));
    }

    #[test]
    fn runaway_expansions_are_bounded() {
        let chain: Vec<(String, String)> = (0..100).map(|i| (format!("m{i}"), format!("`m{}`", i + 1))).collect();
        let definitions: Vec<(&str, &[&str], &str)> =
            chain.iter().map(|(n, d)| (n.as_str(), &[][..], d.as_str())).collect();
        assert!(matches!(expand("`m0`", &table(&definitions), &keep_none), Err(MacroError::TooDeep(_))));
        // Each level calls the next twice: 2^30 calls, with or without output.
        for leaf in ["", "xxxxxxxx"] {
            let mut levels: Vec<(String, String)> =
                (0..30).map(|i| (format!("d{i}"), format!("`d{}``d{}`", i + 1, i + 1))).collect();
            levels.push(("d30".into(), leaf.into()));
            let definitions: Vec<(&str, &[&str], &str)> =
                levels.iter().map(|(n, d)| (n.as_str(), &[][..], d.as_str())).collect();
            let error = expand("`d0`", &table(&definitions), &keep_none).unwrap_err();
            assert!(matches!(error, MacroError::TooManyCalls | MacroError::TooLong), "{error}");
        }
        // Each call doubles a 100 KB argument that finally expands to nothing.
        let mut levels: Vec<(String, String)> =
            (0..12).map(|i| (format!("w{i}"), format!("`w{}($x$)``w{}($x$)`", i + 1, i + 1))).collect();
        levels.push(("w12".into(), String::new()));
        let definitions: Vec<(&str, &[&str], &str)> =
            levels.iter().map(|(n, d)| (n.as_str(), &["x"][..], d.as_str())).collect();
        let search = format!("`w0({})`", "z".repeat(100_000));
        assert_eq!(expand(&search, &table(&definitions), &keep_none), Err(MacroError::TooMuchWork));
        let big = table(&[("big", &["x"], "$x$$x$$x$$x$$x$$x$$x$$x$")]);
        let argument = "y".repeat(200_000);
        assert_eq!(expand(&format!("`big({argument})`"), &big, &keep_none), Err(MacroError::TooLong));
    }

    #[test]
    fn macro_files_are_read_and_checked() {
        let ctime = "arguments:\n  - field\ndefinition: 'convert ctime($field$)'\ndescription: x\nname: security_content_ctime\n";
        let read = read_macro(ctime).unwrap();
        assert_eq!((read.key(), read.arguments), ("security_content_ctime(1)".to_string(), vec!["field".to_string()]));
        assert_eq!(read_macro("name: m(1)\narguments: [a]\ndefinition: x\n").unwrap().key(), "m(1)");
        assert_eq!(read_macro("name: t\ndefinition: true\n").unwrap().definition, "true");
        for (text, reason) in [
            ("definition: x\n", "missing `name`"),
            ("name: m\n", "missing `definition`"),
            (
                "name: m(2)\narguments: [a]\ndefinition: x\n",
                "macro `m(2)` is named for 2 arguments but lists 1 under `arguments`",
            ),
            ("name: m(x)\ndefinition: x\n", "macro name `m(x)` must end in its argument count, like `name(2)`"),
            ("name: 'a b'\ndefinition: x\n", "invalid macro name `a b`"),
            ("name: m\narguments: [a, a]\ndefinition: x\n", "macro `m` names argument \"a\" twice (argument 2)"),
            ("name: m\narguments: ['$x']\ndefinition: x\n", "macro `m` has an invalid argument name \"$x\""),
        ] {
            assert_eq!(read_macro(text).unwrap_err().message, reason, "{text}");
        }
        assert!(read_macro("name: [\n").unwrap_err().message.starts_with("invalid YAML"));
    }

    #[test]
    fn the_table_reads_files_over_the_published_definitions_and_reports_bad_ones() {
        let files = [
            ("macros/good.yml", "name: good\ndefinition: x\n"),
            ("macros/bad.yml", "name: bad\n"),
            ("macros/cim.yml", "name: drop_dm_object_name\narguments: [o]\ndefinition: mine\n"),
        ];
        let (table, failures) = MacroTable::read_escu(files);
        assert_eq!(failures, vec![("macros/bad.yml".to_string(), ParseError::new("missing `definition`"))]);
        assert_eq!(table.get("good", 0).map(|d| d.text), Some("x"));
        assert_eq!(table.get("drop_dm_object_name", 1).map(|d| d.text), Some("mine"), "the source's own wins");
        assert_eq!(MacroTable::published().get("drop_dm_object_name", 1).map(|d| d.arguments.len()), Some(1));
    }
}

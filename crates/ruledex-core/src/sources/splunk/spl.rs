//! The little of SPL's syntax that macro expansion needs: where macro calls, double-quoted values
//! and triple-backtick comments are, and which quoted values are searches run in turn (`map`'s
//! `search="..."`). Nothing else of SPL is parsed.
//!
//! Splunk expands `` `name` `` and `` `name(arg, ...)` `` everywhere except inside quoted values
//! and ```` ```comments``` ````. A backtick that does not open a well-formed call (a literal one,
//! or a typo) is an ordinary character, so lexing never fails. Outside quoted values a backslash
//! escapes a quote or a backslash (`\"` is a literal quote, which opens no quoted value), as
//! inside them.
//!
//! `| map search="search `m` ..."` runs its string as a search of its own, whose macros Splunk
//! expands when it runs: the string is a [`Piece::Search`], and [`unquote`] gives its search.

/// A piece of SPL text. The pieces of a text, concatenated, give back that text exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Search text outside quoted values, comments and macro calls.
    Code(&'a str),
    /// A double-quoted value, quotes included (to the end of the text when unterminated).
    Quoted(&'a str),
    /// A double-quoted value Splunk runs as a search (`map`'s `search="..."`), quotes included.
    Search(&'a str),
    /// A ```` ```comment``` ````, backticks included (to the end of the text when unterminated).
    Comment(&'a str),
    Call(Call<'a>),
}

impl<'a> Piece<'a> {
    /// The piece as written.
    pub fn text(&self) -> &'a str {
        match self {
            Piece::Code(text) | Piece::Quoted(text) | Piece::Search(text) | Piece::Comment(text) => text,
            Piece::Call(call) => call.text,
        }
    }
}

/// A macro call as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call<'a> {
    /// The whole call, backticks included.
    pub text: &'a str,
    pub name: &'a str,
    /// The arguments, trimmed, quotes kept (Splunk passes `"Processes"` on with its quotes).
    pub args: Vec<&'a str>,
}

impl Call<'_> {
    /// The name Splunk keys the definition by: `name`, or `name(N)` for N arguments.
    pub fn key(&self) -> String {
        macro_key(self.name, self.args.len())
    }
}

/// `name` for a macro without arguments, `name(N)` for one with N.
pub fn macro_key(name: &str, arity: usize) -> String {
    if arity == 0 { name.to_string() } else { format!("{name}({arity})") }
}

/// Characters of a macro name. Splunk's own names use letters, digits and underscores; dots
/// and hyphens are accepted too so that a misspelt call is still recognized and reported.
pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// Splits SPL text into pieces.
pub fn pieces(text: &str) -> Pieces<'_> {
    Pieces { text, done: 0, command: 0 }
}

pub struct Pieces<'a> {
    text: &'a str,
    /// How much of the text the pieces so far took.
    done: usize,
    /// Where the current command starts: after the last `|` or `[` of the code so far.
    command: usize,
}

impl<'a> Iterator for Pieces<'a> {
    type Item = Piece<'a>;

    fn next(&mut self) -> Option<Piece<'a>> {
        let rest = &self.text[self.done..];
        if rest.is_empty() {
            return None;
        }
        let piece = if let Some(comment) = rest.strip_prefix("```") {
            let len = comment.find("```").map_or(rest.len(), |end| end + 6);
            Piece::Comment(&rest[..len])
        } else if rest.starts_with('"') {
            let quoted = &rest[..quoted_len(rest)];
            let command = &self.text[self.command..self.done];
            if is_search_argument(command) { Piece::Search(quoted) } else { Piece::Quoted(quoted) }
        } else if let Some(call) = rest.starts_with('`').then(|| call(rest)).flatten() {
            Piece::Call(call)
        } else {
            let code = &rest[..code_len(rest)];
            if let Some(start) = code.rfind(['|', '[']) {
                self.command = self.done + start + 1;
            }
            Piece::Code(code)
        };
        self.done += piece.text().len();
        Some(piece)
    }
}

/// Whether a quoted value after `command` (its text from its start up to the quote) is a search
/// Splunk runs: the `search=` argument of `map`.
fn is_search_argument(command: &str) -> bool {
    let mut words = command.split_whitespace();
    let is_map = words.next().is_some_and(|name| name.eq_ignore_ascii_case("map"));
    let Some(before) = command.trim_end().strip_suffix('=') else { return false };
    let before = before.trim_end();
    let argument_start = before.rfind(|c: char| c.is_whitespace()).map_or(0, |space| space + 1);
    is_map && before[argument_start..].eq_ignore_ascii_case("search")
}

/// The text a double-quoted value stands for: its quotes removed and its escapes (`\"`, `\\`)
/// undone; other backslashes stay, as Splunk keeps them.
pub fn unquote(quoted: &str) -> String {
    let mut text = String::with_capacity(quoted.len());
    let mut chars = quoted.strip_prefix('"').unwrap_or(quoted).chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => match chars.clone().next() {
                Some(next @ ('"' | '\\')) => {
                    text.push(next);
                    chars.next();
                }
                _ => text.push(c),
            },
            c => text.push(c),
        }
    }
    text
}

/// `text` as a double-quoted value: quotes and backslashes escaped.
pub fn quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        if matches!(c, '"' | '\\') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

/// The keys (`name`, `name(N)`) of the macros `text` calls, in the searches it runs too (`map`'s
/// strings), in order, without repeats.
pub fn called_macros(text: &str) -> Vec<String> {
    let mut keys = Vec::new();
    for piece in pieces(text) {
        match piece {
            Piece::Call(call) => keys.push(call.key()),
            Piece::Search(quoted) => keys.extend(called_macros(&unquote(quoted))),
            _ => {}
        }
    }
    let mut seen = std::collections::HashSet::new();
    keys.retain(|key| seen.insert(key.clone()));
    keys
}

/// The length of the code `text` starts with: up to the next quote or backtick that is not
/// escaped. Its first character is code whatever it is (a backtick opening no call, say).
fn code_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if escapes(bytes.get(i + 1)) => i += 2,
            b'"' | b'`' if i > 0 => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Whether a backslash before `next` escapes it: SPL's escapes are `\"` and `\\`.
fn escapes(next: Option<&u8>) -> bool {
    matches!(next, Some(b'"' | b'\\'))
}

/// The length of the double-quoted value `text` starts with, quotes included. A backslash
/// escapes the next character; an unterminated value runs to the end.
fn quoted_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    text.len()
}

/// The call `text` starts with (at its opening backtick), if it is one.
fn call(text: &str) -> Option<Call<'_>> {
    let after = &text[1..];
    let name_len = after.find(|c: char| !is_name_char(c)).unwrap_or(after.len());
    if name_len == 0 {
        return None;
    }
    let name = &after[..name_len];
    let tail = &after[name_len..];
    let (args, args_len) = if tail.starts_with('`') {
        (vec![], 0)
    } else if let Some(inside) = tail.strip_prefix('(') {
        let (args, len) = arguments(inside)?;
        (args, len + 1)
    } else {
        return None;
    };
    let end = 1 + name_len + args_len;
    text[end..].starts_with('`').then(|| Call { text: &text[..=end], name, args })
}

/// Splits the arguments after a call's `(` the way Splunk does: at commas outside quoted values
/// and nested parentheses, up to the matching `)`. Returns them with the length consumed,
/// `)` included; `None` when no `)` closes them before an unquoted backtick or the end.
fn arguments(text: &str) -> Option<(Vec<&str>, usize)> {
    let bytes = text.as_bytes();
    let mut args = Vec::new();
    let (mut depth, mut start, mut i) = (0_usize, 0, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += quoted_len(&text[i..]);
                continue;
            }
            b'\\' if escapes(bytes.get(i + 1)) => {
                i += 2;
                continue;
            }
            b'`' => return None,
            b'(' => depth += 1,
            b')' if depth == 0 => {
                args.push(text[start..i].trim());
                // `name()` calls the macro without arguments.
                if args == [""] {
                    args.clear();
                }
                return Some((args, i + 1));
            }
            b')' => depth -= 1,
            b',' if depth == 0 => {
                args.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The text with quoted values, comments and macro calls blanked out, and the searches `map`
/// runs in their place: what SPL commands (`lookup`, `inputlookup`...) are searched for in.
pub fn code_only(text: &str) -> String {
    let mut code = String::with_capacity(text.len());
    for piece in pieces(text) {
        match piece {
            Piece::Code(text) => code.push_str(text),
            // The search a `map` runs has commands of its own.
            Piece::Search(quoted) => {
                code.push(' ');
                code.push_str(&code_only(&unquote(quoted)));
                code.push(' ');
            }
            _ => code.push(' '),
        }
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls(text: &str) -> Vec<(String, Vec<&str>)> {
        pieces(text)
            .filter_map(|p| match p {
                Piece::Call(call) => Some((call.name.to_string(), call.args)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn pieces_give_back_the_text_exactly() {
        for text in [
            "",
            "| tstats `a` count | `b(x, \"y,z\")` | eval q=\"`not a call`\" ```a `comment` ``` | `c_filter`",
            "unterminated \"quote `a`",
            "unterminated ```comment `a`",
            "`` ` `a(` `b(\"`\")` é`ü`",
        ] {
            let joined: String = pieces(text).map(|p| p.text()).collect();
            assert_eq!(joined, text);
        }
    }

    #[test]
    fn calls_with_and_without_arguments() {
        assert_eq!(
            calls("| tstats `security_content_summariesonly` | `security_content_ctime(firstTime)` | `x()`"),
            vec![
                ("security_content_summariesonly".to_string(), vec![]),
                ("security_content_ctime".to_string(), vec!["firstTime"]),
                ("x".to_string(), vec![]),
            ]
        );
    }

    #[test]
    fn arguments_split_at_top_level_commas_only() {
        assert_eq!(
            calls(r#"`m( "a, (b" , f(x, y) , "q\"," ,)`"#),
            vec![("m".to_string(), vec![r#""a, (b""#, "f(x, y)", r#""q\",""#, ""])]
        );
    }

    #[test]
    fn no_expansion_inside_quotes_or_comments() {
        assert!(calls(r#"eval n=mvcount(split(process,"`")) ```not `a` call``` "audit`users`local""#).is_empty());
    }

    #[test]
    fn malformed_calls_are_plain_text() {
        for text in ["`", "``", "` a`", "`a b`", "`a(`", "`a(x)y`", "`a(x``", "`a(\"x)`", "`a", "`a(`b`)`"] {
            let found = calls(text);
            assert!(found.iter().all(|(name, _)| name == "b"), "{text}: {found:?}");
        }
    }

    #[test]
    fn code_only_blanks_everything_but_code() {
        assert_eq!(code_only(r#"a "b" ```c``` `d` e"#), "a       e");
        assert_eq!(
            code_only(r#"| map search="search `m` | lookup t x" | e"#),
            "| map search= search   | lookup t x  | e"
        );
    }

    /// ESCU's `kubernetes_create_or_update_privileged_pod` (issue 23): `\"` outside a quoted
    /// value is a literal quote, so the search's last macro is still a call.
    #[test]
    fn escaped_quotes_outside_quoted_values_open_nothing() {
        let search = r#"`kube_audit` objectRef.resource=pods requestObject.metadata.annotations.kubectl.kubernetes.io/last-applied-configuration=*\"privileged\":true* | fillnull | stats count by verb | `kubernetes_create_or_update_privileged_pod_filter`"#;
        let names: Vec<String> = calls(search).into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, vec!["kube_audit", "kubernetes_create_or_update_privileged_pod_filter"]);
        assert!(!pieces(search).any(|p| matches!(p, Piece::Quoted(_))));
        // An escaped backslash escapes nothing more: the quote after it opens a value.
        assert_eq!(calls(r#"a=\\"`m`" `n`"#), vec![("n".to_string(), vec![])]);
        assert_eq!(calls(r#"`m(a\"b, c)`"#), vec![("m".to_string(), vec![r#"a\"b"#, "c"])]);
        assert_eq!(calls(r#"`m(a\"b)` \"`n`"#), vec![("m".to_string(), vec![r#"a\"b"#]), ("n".to_string(), vec![])]);
        for text in [r#"\"#, r#"x\"#, r#"\""#, r#"\\"#, r#"\`m`"#] {
            assert_eq!(pieces(text).map(|p| p.text()).collect::<String>(), text);
        }
    }

    #[test]
    fn map_search_strings_are_searches() {
        let searches = |text: &'static str| -> Vec<&'static str> {
            pieces(text).filter_map(|p| if let Piece::Search(s) = p { Some(s) } else { None }).collect()
        };
        assert_eq!(searches(r#"x | map search="search `m` a=$b$" maxsearches=5"#), vec![r#""search `m` a=$b$""#]);
        assert_eq!(searches(r#"x [|MAP maxsearches=2 Search = "s"]"#), vec![r#""s""#]);
        assert_eq!(
            searches(r#"|map search="a" | eval search="b" | map x="c" | mapx search="d" | map research="e""#),
            vec![r#""a""#]
        );
        assert_eq!(searches(r#"| map search="unterminated"#), vec![r#""unterminated"#]);
    }

    #[test]
    fn quoted_values_unquote_and_quote_back() {
        assert_eq!(unquote(r#""a \"b\" c\\d \w""#), r#"a "b" c\d \w"#);
        assert_eq!(unquote(r#""open"#), "open");
        assert_eq!(unquote(r#""a" tail"#), "a");
        assert_eq!(quote(r#"a "b" c\d"#), r#""a \"b\" c\\d""#);
        for text in ["", r#"x="y""#, r#"\"#, r#"\\\""#, "é`m`"] {
            assert_eq!(unquote(&quote(text)), text);
        }
    }

    #[test]
    fn called_macros_include_those_of_the_searches_map_runs() {
        let search = r#"`a` | map search="search `b(1)` x=\"`c`\" | `a`" | eval q="`d`""#;
        assert_eq!(called_macros(search), vec!["a", "b(1)"]);
    }

    #[test]
    fn keys_carry_the_arity() {
        assert_eq!(macro_key("m", 0), "m");
        assert_eq!(macro_key("m", 2), "m(2)");
    }
}

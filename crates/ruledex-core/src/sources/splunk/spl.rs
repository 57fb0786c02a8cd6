//! The little of SPL's syntax that macro expansion needs: where macro calls, double-quoted values
//! and triple-backtick comments are. Nothing else of SPL is parsed.
//!
//! Splunk expands `` `name` `` and `` `name(arg, ...)` `` everywhere except inside quoted values
//! and ```` ```comments``` ````. A backtick that does not open a well-formed call (a literal one,
//! or a typo) is an ordinary character, so lexing never fails.

/// A piece of SPL text. The pieces of a text, concatenated, give back that text exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Search text outside quoted values, comments and macro calls.
    Code(&'a str),
    /// A double-quoted value, quotes included (to the end of the text when unterminated).
    Quoted(&'a str),
    /// A ```` ```comment``` ````, backticks included (to the end of the text when unterminated).
    Comment(&'a str),
    Call(Call<'a>),
}

impl<'a> Piece<'a> {
    /// The piece as written.
    pub fn text(&self) -> &'a str {
        match self {
            Piece::Code(text) | Piece::Quoted(text) | Piece::Comment(text) => text,
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
    Pieces { rest: text }
}

pub struct Pieces<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Pieces<'a> {
    type Item = Piece<'a>;

    fn next(&mut self) -> Option<Piece<'a>> {
        let rest = self.rest;
        if rest.is_empty() {
            return None;
        }
        let (piece, len) = if let Some(comment) = rest.strip_prefix("```") {
            let len = comment.find("```").map_or(rest.len(), |end| end + 6);
            (Piece::Comment(&rest[..len]), len)
        } else if rest.starts_with('"') {
            let len = quoted_len(rest);
            (Piece::Quoted(&rest[..len]), len)
        } else if let Some(call) = rest.starts_with('`').then(|| call(rest)).flatten() {
            let len = call.text.len();
            (Piece::Call(call), len)
        } else {
            // Up to the next quote or backtick; a backtick opening no call is code.
            let len = rest.bytes().skip(1).position(|b| b == b'"' || b == b'`').map_or(rest.len(), |p| p + 1);
            (Piece::Code(&rest[..len]), len)
        };
        self.rest = &rest[len..];
        Some(piece)
    }
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

/// The text with quoted values, comments and macro calls blanked out: what SPL commands
/// (`lookup`, `inputlookup`...) are searched for in.
pub fn code_only(text: &str) -> String {
    pieces(text)
        .map(|piece| match piece {
            Piece::Code(code) => code,
            _ => " ",
        })
        .collect()
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
    }

    #[test]
    fn keys_carry_the_arity() {
        assert_eq!(macro_key("m", 0), "m");
        assert_eq!(macro_key("m", 2), "m(2)");
    }
}

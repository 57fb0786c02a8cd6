//! Syntax colouring for queries, done on the server so pages need no script to show it.
//!
//! A small lexer per language family marks comments, strings, keywords, numbers, Splunk macros
//! and YARA-L variables; everything else passes through. Every byte of the query is
//! HTML-escaped, in and out of the marked spans, so colouring can never inject markup.

use ruledex_core::model::Language;

/// The query as HTML: escaped text with `<span class="…">` around recognized tokens.
pub fn highlight(query: &str, language: Option<Language>) -> String {
    let syntax = Syntax::of(language);
    let mut html = String::with_capacity(query.len() + query.len() / 4);
    let mut rest = query;
    while !rest.is_empty() {
        let (class, len) = syntax.token(rest);
        let len = len.max(rest.chars().next().map_or(1, char::len_utf8));
        let (token, tail) = rest.split_at(len.min(rest.len()));
        match class {
            Some(class) => {
                html.push_str("<span class=\"");
                html.push_str(class);
                html.push_str("\">");
                escape_into(&mut html, token);
                html.push_str("</span>");
            }
            None => escape_into(&mut html, token),
        }
        rest = tail;
    }
    html
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

struct Syntax {
    line_comments: &'static [&'static str],
    block_comments: bool,
    quotes: &'static [char],
    keywords: &'static [&'static str],
    case_sensitive: bool,
    /// Splunk: `` `macro(args)` `` calls.
    backtick_macros: bool,
    /// YARA-L: `$event` variables and `%list` references.
    sigils: bool,
}

const SPL: &[&str] = &[
    "search",
    "where",
    "stats",
    "tstats",
    "eval",
    "table",
    "rename",
    "fields",
    "by",
    "as",
    "from",
    "datamodel",
    "lookup",
    "inputlookup",
    "outputlookup",
    "join",
    "append",
    "dedup",
    "sort",
    "head",
    "tail",
    "rex",
    "spath",
    "fillnull",
    "bin",
    "bucket",
    "streamstats",
    "eventstats",
    "transaction",
    "count",
    "values",
    "dc",
    "min",
    "max",
    "sum",
    "avg",
    "latest",
    "earliest",
    "and",
    "or",
    "not",
    "in",
    "like",
    "summariesonly",
    "mvexpand",
    "makemv",
    "top",
    "rare",
];
const KUSTO: &[&str] = &[
    "let",
    "where",
    "project",
    "extend",
    "summarize",
    "by",
    "join",
    "kind",
    "on",
    "union",
    "take",
    "top",
    "sort",
    "order",
    "asc",
    "desc",
    "distinct",
    "count",
    "dcount",
    "make_set",
    "make_list",
    "arg_max",
    "arg_min",
    "and",
    "or",
    "not",
    "in",
    "has",
    "has_any",
    "has_all",
    "contains",
    "startswith",
    "endswith",
    "matches",
    "regex",
    "between",
    "ago",
    "now",
    "bin",
    "iff",
    "case",
    "isnotempty",
    "isempty",
    "tostring",
    "toint",
    "todynamic",
    "parse_json",
    "mv-expand",
    "mv-apply",
    "project-away",
    "project-rename",
    "lookup",
    "invoke",
    "datatable",
    "externaldata",
];
const EQL: &[&str] = &[
    "sequence",
    "sample",
    "by",
    "with",
    "maxspan",
    "until",
    "where",
    "and",
    "or",
    "not",
    "in",
    "any",
    "process",
    "network",
    "file",
    "registry",
    "library",
    "dns",
    "event",
    "true",
    "false",
    "null",
    "like",
    "regex",
    "from",
    "stats",
    "eval",
    "keep",
    "limit",
    "sort",
    "desc",
    "asc",
    "rename",
    "drop",
    "metadata",
    "mv_expand",
    "count",
    "count_distinct",
    "values",
    "min",
    "max",
];
const YARA_L: &[&str] = &[
    "rule",
    "meta",
    "events",
    "match",
    "outcome",
    "condition",
    "options",
    "over",
    "and",
    "or",
    "not",
    "in",
    "regex",
    "cidr",
    "nocase",
    "any",
    "all",
    "if",
    "max",
    "min",
    "sum",
    "count",
    "count_distinct",
    "array",
    "array_distinct",
    "before",
    "after",
    "by",
    "every",
];
const MQL: &[&str] = &[
    "and",
    "or",
    "not",
    "any",
    "all",
    "filter",
    "map",
    "length",
    "in",
    "type",
    "true",
    "false",
    "null",
    "sender",
    "recipients",
    "headers",
    "body",
    "subject",
    "attachments",
    "strings",
    "regex",
    "beta",
    "ml",
    "profile",
    "file",
];
const SIGMA: &[&str] = &[
    "title",
    "id",
    "status",
    "description",
    "references",
    "author",
    "date",
    "modified",
    "tags",
    "logsource",
    "category",
    "product",
    "service",
    "detection",
    "selection",
    "filter",
    "condition",
    "falsepositives",
    "level",
    "and",
    "or",
    "not",
    "of",
    "them",
    "related",
    "type",
];
const LUCENE: &[&str] = &["AND", "OR", "NOT", "TO"];
const PYTHON: &[&str] = &[
    "def", "return", "if", "elif", "else", "for", "in", "not", "and", "or", "import", "from", "as", "None", "True",
    "False", "is", "with", "lambda", "try", "except", "class", "while", "pass", "global",
];

impl Syntax {
    fn of(language: Option<Language>) -> Syntax {
        let base = Syntax {
            line_comments: &["//"],
            block_comments: true,
            quotes: &['"', '\''],
            keywords: &[],
            case_sensitive: false,
            backtick_macros: false,
            sigils: false,
        };
        match language {
            Some(Language::Spl) => {
                Syntax { keywords: SPL, backtick_macros: true, block_comments: false, line_comments: &[], ..base }
            }
            Some(Language::Kusto) => Syntax { keywords: KUSTO, block_comments: false, ..base },
            Some(Language::Eql | Language::Esql | Language::Kql | Language::Sql) => Syntax { keywords: EQL, ..base },
            Some(Language::YaraL) => Syntax { keywords: YARA_L, sigils: true, ..base },
            Some(Language::Mql) => Syntax { keywords: MQL, ..base },
            Some(Language::Sigma) => Syntax { keywords: SIGMA, line_comments: &["#"], block_comments: false, ..base },
            Some(Language::Lucene) => Syntax { keywords: LUCENE, case_sensitive: true, ..base },
            Some(Language::Python) => {
                Syntax { keywords: PYTHON, line_comments: &["#"], block_comments: false, case_sensitive: true, ..base }
            }
            Some(Language::PantherYaml) => Syntax { line_comments: &["#"], block_comments: false, ..base },
            Some(Language::MachineLearning) | None => Syntax { keywords: &[], ..base },
        }
    }

    /// The class and byte length of the token at the start of `text` (class `None`: plain).
    fn token(&self, text: &str) -> (Option<&'static str>, usize) {
        let first = text.chars().next().unwrap_or(' ');
        if let Some(len) = self.comment(text) {
            return (Some("c"), len);
        }
        if self.quotes.contains(&first) {
            return (Some("s"), quoted_len(text, first));
        }
        if self.backtick_macros && first == '`' {
            return (Some("m"), quoted_len(text, '`'));
        }
        if self.sigils && (first == '$' || first == '%') {
            return (Some("v"), 1 + word_len(&text[1..]));
        }
        if first.is_ascii_digit() {
            return (Some("n"), text.find(|c: char| !(c.is_ascii_alphanumeric() || c == '.')).unwrap_or(text.len()));
        }
        if first.is_alphabetic() || first == '_' {
            let len = word_len(text);
            return (self.is_keyword(&text[..len]).then_some("k"), len);
        }
        (None, first.len_utf8())
    }

    fn comment(&self, text: &str) -> Option<usize> {
        if self.line_comments.iter().any(|marker| text.starts_with(marker)) {
            return Some(text.find('\n').unwrap_or(text.len()));
        }
        if self.block_comments && text.starts_with("/*") {
            return Some(text[2..].find("*/").map_or(text.len(), |end| end + 4));
        }
        None
    }

    fn is_keyword(&self, word: &str) -> bool {
        match self.case_sensitive {
            true => self.keywords.contains(&word),
            false => self.keywords.iter().any(|k| k.eq_ignore_ascii_case(word)),
        }
    }
}

/// Length of a quoted run, closing quote included (to the end when unclosed); `\` escapes.
fn quoted_len(text: &str, quote: char) -> usize {
    let mut escaped = false;
    for (i, c) in text.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            c if c == quote => return i + c.len_utf8(),
            _ => {}
        }
    }
    text.len()
}

fn word_len(text: &str) -> usize {
    text.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-' || c == '.')).unwrap_or(text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_escaped_everywhere_and_tokens_marked() {
        let html = highlight(r#"| tstats count where x="<script>" `macro(a)` | eval y='a&b'"#, Some(Language::Spl));
        assert!(html.contains(r#"<span class="k">tstats</span>"#));
        assert!(html.contains(r#"<span class="s">&quot;&lt;script&gt;&quot;</span>"#));
        assert!(html.contains(r#"<span class="m">`macro(a)`</span>"#));
        assert!(html.contains(r#"<span class="s">&#39;a&amp;b&#39;</span>"#));
        assert!(!html.contains("<script>"));
    }

    #[test]
    fn yara_l_variables_comments_and_unterminated_strings() {
        let html = highlight("$e.target.ip in %tor // note <b>\n\"open", Some(Language::YaraL));
        assert!(html.contains(r#"<span class="v">$e.target.ip</span>"#));
        assert!(html.contains(r#"<span class="v">%tor</span>"#));
        assert!(html.contains(r#"<span class="c">// note &lt;b&gt;</span>"#));
        assert!(html.ends_with(r#"<span class="s">&quot;open</span>"#));
    }

    #[test]
    fn text_round_trips_through_highlighting() {
        for language in Language::ALL.iter().copied().map(Some).chain([None]) {
            let text = "é /* x */ 'q' \"\\\"\" `m` $v %l 12.5 </pre> ünïcode";
            let html = highlight(text, language);
            let stripped = html
                .split('<')
                .enumerate()
                .map(|(i, part)| if i == 0 { part } else { part.split_once('>').map_or("", |(_, t)| t) })
                .collect::<String>();
            let unescaped = stripped
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&amp;", "&");
            assert_eq!(unescaped, text, "{language:?}");
        }
    }
}

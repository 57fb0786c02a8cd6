//! Writing Splunk `.conf` files: `[stanza]` headers and `key = value` lines.
//!
//! Every text from a rule is untrusted, so stanza names lose the characters that would end or
//! open a header, and values keep their lines through Splunk's continuation syntax (a line ending
//! in a backslash goes on on the next line), so a newline in a value never starts a new setting.

/// A `.conf` file being written.
#[derive(Debug, Default)]
pub struct ConfFile {
    text: String,
}

impl ConfFile {
    /// A file opening with `# comment` lines.
    pub fn new(comment: &str) -> ConfFile {
        let mut text = String::new();
        for line in comment.lines() {
            text.push_str(if line.is_empty() { "#\n".to_string() } else { format!("# {line}\n") }.as_str());
        }
        ConfFile { text }
    }

    pub fn stanza(&mut self, name: &str) -> &mut ConfFile {
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        self.text.push_str(&format!("[{}]\n", stanza_name(name)));
        self
    }

    pub fn set(&mut self, key: &str, value: &str) -> &mut ConfFile {
        self.text.push_str(&format!("{key} = {}\n", value_text(value)));
        self
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.text.into_bytes()
    }
}

/// A stanza name safe in a header: brackets and control characters become spaces.
pub fn stanza_name(name: &str) -> String {
    let cleaned: String = name.chars().map(|c| if c == '[' || c == ']' || c.is_control() { ' ' } else { c }).collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A value as written after `key = `: its lines joined by continuations. Splunk drops the
/// whitespace a value starts and ends with, so it is trimmed here already. A line ending in a
/// backslash gets a space after it, so the backslash stays a character and is not read as a
/// continuation.
fn value_text(value: &str) -> String {
    let value = value.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<String> = value
        .trim()
        .split('\n')
        .map(|line| {
            let line: String = line.chars().map(|c| if c.is_control() && c != '\t' { ' ' } else { c }).collect();
            if line.ends_with('\\') { format!("{line} ") } else { line }
        })
        .collect();
    lines.join("\\\n")
}

/// One line of text (descriptions, labels): runs of whitespace, newlines included, become one space.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stanzas_and_settings() {
        let mut conf = ConfFile::new("first\n\nthird");
        conf.stanza("a [x]\nb").set("k", " v ").stanza("c").set("search", "| a\r\n| b\\\n| c");
        let text = String::from_utf8(conf.into_bytes()).unwrap();
        assert_eq!(text, "# first\n#\n# third\n\n[a x b]\nk = v\n\n[c]\nsearch = | a\\\n| b\\ \\\n| c\n");
    }

    #[test]
    fn one_line_collapses_whitespace() {
        assert_eq!(one_line(" a\n  b\tc "), "a b c");
    }
}

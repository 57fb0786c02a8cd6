//! Building URLs from untrusted text.

/// Percent-encodes everything but RFC 3986's unreserved characters, so the result is safe as
/// one path segment or one query value whatever the input holds.
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unreserved_characters_pass() {
        assert_eq!(encode_component("Analytic Rules/é?&#\"<"), "Analytic%20Rules%2F%C3%A9%3F%26%23%22%3C");
        assert_eq!(encode_component("T1090.003~x_y-z"), "T1090.003~x_y-z");
    }
}

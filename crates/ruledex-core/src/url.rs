//! Building URLs from untrusted text, and showing configured URLs without their credentials.

use std::borrow::Cow;

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

/// `text` with the user information (`user:token@`) removed from every `scheme://` URL in it:
/// a configured URL may carry credentials, and the URL is shown on pages, in the API, in logs
/// and inside the error messages of git and HTTP clients, which quote the URL they failed on.
/// Works on a bare URL as on a whole message. scp-like git addresses (`git@host:path`) name an
/// account, not a secret, and are kept as they are.
pub fn redact_credentials(text: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut copied = 0;
    let mut search = 0;
    while let Some(found) = text[search..].find("://") {
        let authority_start = search + found + 3;
        let authority_len = text[authority_start..].find(ends_authority).unwrap_or(text.len() - authority_start);
        let authority = &text[authority_start..authority_start + authority_len];
        if let Some(at) = authority.rfind('@') {
            out.push_str(&text[copied..authority_start]);
            copied = authority_start + at + 1;
        }
        search = authority_start + authority_len;
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// The user information of a URL (`user:token` in `https://user:token@host/`), as written
/// (percent-encoded), found as [`redact_credentials`] finds it.
pub fn user_info(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = &rest[..rest.find(ends_authority).unwrap_or(rest.len())];
    authority.rfind('@').map(|at| &authority[..at])
}

/// Where a URL's authority (`user:pass@host:port`) ends, in a URL or in the message quoting it.
fn ends_authority(c: char) -> bool {
    matches!(c, '/' | '?' | '#' | '\'' | '"' | '`' | '<' | '>' | '(' | ')' | '[' | ']' | ',' | ';')
        || c.is_whitespace()
        || c.is_control()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unreserved_characters_pass() {
        assert_eq!(encode_component("Analytic Rules/é?&#\"<"), "Analytic%20Rules%2F%C3%A9%3F%26%23%22%3C");
        assert_eq!(encode_component("T1090.003~x_y-z"), "T1090.003~x_y-z");
    }

    #[test]
    fn credentials_are_removed_from_urls() {
        let cases = [
            ("https://user:ghp_token@github.com/org/repo", "https://github.com/org/repo"),
            ("https://ghp_token@github.com/org/repo.git", "https://github.com/org/repo.git"),
            ("ssh://git:pa%40ss@example.org:2222/repo", "ssh://example.org:2222/repo"),
            ("https://u:p@host", "https://host"),
            ("https://u:p@host?x=1", "https://host?x=1"),
            ("http://a@b@host/x", "http://host/x"),
        ];
        for (url, shown) in cases {
            assert_eq!(redact_credentials(url), shown, "{url}");
        }
    }

    #[test]
    fn user_information_is_found_where_redaction_removes_it() {
        let cases = [
            ("https://user:ghp_token@github.com/org/repo", Some("user:ghp_token")),
            ("https://ghp_token@github.com/org/repo.git", Some("ghp_token")),
            ("ssh://git:pa%40ss@example.org:2222/repo", Some("git:pa%40ss")),
            ("http://a@b@host/x", Some("a@b")),
            ("file://user:tok@/srv/rules", Some("user:tok")),
            ("https://registry.example/@scope/package", None),
            ("git@github.com:org/repo.git", None),
        ];
        for (url, user_info) in cases {
            assert_eq!(super::user_info(url), user_info, "{url}");
        }
    }

    #[test]
    fn urls_without_credentials_are_left_alone() {
        for text in [
            "https://github.com/chronicle/detection-rules",
            "https://registry.example/@scope/package",
            "git@github.com:org/repo.git",
            "file:///srv/mirrors/rules",
            "no url at all",
            "",
            "://",
            "https://",
        ] {
            assert!(matches!(redact_credentials(text), Cow::Borrowed(t) if t == text), "{text}");
        }
    }

    #[test]
    fn every_url_in_a_message_loses_its_credentials() {
        let message = "fatal: unable to access 'https://bob:s3cret@git.example/r.git/': Could not resolve host; \
                       retried https://bob:s3cret@mirror.example/r.git (and \"http://tok@h/x\")";
        assert_eq!(
            redact_credentials(message),
            "fatal: unable to access 'https://git.example/r.git/': Could not resolve host; \
             retried https://mirror.example/r.git (and \"http://h/x\")"
        );
    }
}

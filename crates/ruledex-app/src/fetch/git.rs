//! Running git on URLs and revisions from a configuration file, which may be hostile: a
//! `ruledex.toml` in a cloned repository is read automatically, and `rev = "--upload-pack=..."`
//! once ran a command. So nothing from a config ever becomes an option (arguments follow `--`,
//! and values that start with `-` are refused anyway), only the transports a source needs are
//! allowed (https, ssh, file; http on request; never `ext::` or `fd::`, which run commands), and
//! git runs without system config, hooks, fsmonitor or prompts.
//!
//! Credentials in a URL never reach git's command line or disk: git records the URL it fetched
//! from in the checkout's config (a partial clone's promisor remote), so it is given the URL
//! without them, and the credentials through a credential helper that reads them from its
//! environment, for each call that reaches the remote (see [`Remote`]).

use std::fmt;
use std::io;
use std::path::Path;
use std::process::Command;

use anyhow::{Result, anyhow, bail};
use percent_encoding::percent_decode_str;
use ruledex_core::url::{redact_credentials, user_info};

/// A transport git may use for one source, by the name git's protocol allowlist knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Https,
    Http,
    Ssh,
    File,
}

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Transport::Https => "https",
            Transport::Http => "http",
            Transport::Ssh => "ssh",
            Transport::File => "file",
        }
    }
}

/// Why a `git` URL or `rev` from a config is refused; completes "source x: `git` URL ...".
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("is empty")]
    Empty,
    #[error("starts with '-', which git would read as an option")]
    Dash,
    #[error("contains a control character")]
    Control,
    #[error("contains whitespace, which no branch, tag or commit name holds")]
    Whitespace,
    #[error("contains {0:?}, which no branch, tag or commit name holds")]
    RefCharacter(char),
    #[error("names the git remote helper `{0}::`, which can run commands; {USE}")]
    RemoteHelper(String),
    #[error("uses {0}://, which git sources may not use; {USE}")]
    Protocol(String),
    #[error("uses plain http://; use https://, or set `allow_http = true` for this source")]
    Http,
    #[error("names a host starting with '-'")]
    DashHost,
    #[error("is a local path; write it as a file:// URL, or use `path` for a local directory")]
    LocalPath,
    #[error("carries a password, which ssh never uses; authenticate with a key (ssh-agent or ~/.ssh/config)")]
    SshPassword,
    #[error("carries a user or password that is not text once percent-decoded (a control character, or not UTF-8)")]
    Credentials,
}

const USE: &str = "use https://, ssh://, user@host:path or file://";

/// A git remote as git is given it: the URL without user information, the transport it needs,
/// and the credentials apart. An ssh URL keeps its user (an account name, which ssh needs and
/// which is no secret).
#[derive(Clone)]
pub struct Remote {
    url: String,
    transport: Transport,
    credentials: Option<Credentials>,
}

/// A user and password (or token) taken out of a URL, percent-decoded as git decodes them.
#[derive(Clone)]
struct Credentials {
    username: String,
    password: String,
}

impl Remote {
    /// Checks a configured URL (as `check_url` does) and takes its credentials out.
    pub fn parse(url: &str, allow_http: bool) -> Result<Remote, Refused> {
        let transport = check_url(url, allow_http)?;
        let user_info = user_info(url);
        if transport == Transport::Ssh {
            if user_info.is_some_and(|u| u.contains(':')) {
                return Err(Refused::SshPassword);
            }
            return Ok(Remote { url: url.to_string(), transport, credentials: None });
        }
        let credentials = user_info.map(Credentials::parse).transpose()?;
        Ok(Remote { url: redact_credentials(url).into_owned(), transport, credentials })
    }

    /// The URL to give git: without credentials, so also as it may be shown.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl fmt::Debug for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let credentials = self.credentials.as_ref().map(|_| "<redacted>");
        f.debug_struct("Remote")
            .field("url", &self.url)
            .field("transport", &self.transport)
            .field("credentials", &credentials)
            .finish()
    }
}

impl Credentials {
    /// `user[:password]`. A user alone (a token given as the user, as GitHub accepts) gets an
    /// empty password, which git takes as given rather than asking for one.
    fn parse(user_info: &str) -> Result<Credentials, Refused> {
        let (username, password) = user_info.split_once(':').unwrap_or((user_info, ""));
        Ok(Credentials { username: decode(username)?, password: decode(password)? })
    }
}

/// A percent-decoded URL part, refused when it holds what the credential protocol cannot carry
/// (a newline would start another of its lines).
fn decode(part: &str) -> Result<String, Refused> {
    let text = percent_decode_str(part).decode_utf8().map_err(|_| Refused::Credentials)?;
    if text.chars().any(char::is_control) {
        return Err(Refused::Credentials);
    }
    Ok(text.into_owned())
}

/// The credential helper git runs for a remote with credentials: it answers `get` from its
/// environment and ignores `store` and `erase`. The credentials travel in the environment of
/// the one git process, never on a command line (other users can read those) or in a file.
const CREDENTIAL_HELPER: &str = r#"!f() { test "$1" = get && printf 'username=%s\npassword=%s\n' "$RULEDEX_GIT_USERNAME" "$RULEDEX_GIT_PASSWORD"; }; f"#;

/// The transport a git URL needs, or why it is refused. Accepted: `https://`, `ssh://`
/// (`git+ssh://`), scp-like `user@host:path`, `file://`, and `http://` when `allow_http`.
fn check_url(url: &str, allow_http: bool) -> Result<Transport, Refused> {
    check_common(url)?;
    let transport = match url.split_once("://") {
        Some((scheme, rest)) if !scheme.contains(['/', ':']) => {
            let transport = match scheme.to_ascii_lowercase().as_str() {
                "https" => Transport::Https,
                "http" if allow_http => Transport::Http,
                "http" => return Err(Refused::Http),
                "ssh" | "git+ssh" | "ssh+git" => Transport::Ssh,
                "file" => Transport::File,
                _ => return Err(Refused::Protocol(scheme.to_string())),
            };
            check_host(rest.split(['/', '?', '#']).next().unwrap_or_default())?;
            transport
        }
        _ => scp_like(url)?,
    };
    Ok(transport)
}

/// `user@host:path` (no `://`): git reads it as ssh when the part before the first colon holds
/// no slash. `helper::address` runs a remote helper, and anything else is a local path.
fn scp_like(url: &str) -> Result<Transport, Refused> {
    if let Some((helper, _)) = url.split_once("::") {
        return Err(Refused::RemoteHelper(helper.to_string()));
    }
    match url.split_once(':') {
        Some((host, _)) if !host.contains('/') && !host.is_empty() => {
            check_host(host)?;
            Ok(Transport::Ssh)
        }
        _ => Err(Refused::LocalPath),
    }
}

/// ssh would read a host starting with `-` as an option (CVE-2017-1000117).
fn check_host(authority: &str) -> Result<(), Refused> {
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    if host.starts_with('-') { Err(Refused::DashHost) } else { Ok(()) }
}

/// A branch, tag or commit name to fetch: nothing git could read as an option or as a refspec
/// (`src:dst`, globs, `^`, `~`).
pub fn check_rev(rev: &str) -> Result<(), Refused> {
    check_common(rev)?;
    if rev.chars().any(char::is_whitespace) {
        return Err(Refused::Whitespace);
    }
    match rev.chars().find(|c| matches!(c, ':' | '?' | '*' | '[' | '\\' | '^' | '~')) {
        Some(c) => Err(Refused::RefCharacter(c)),
        None => Ok(()),
    }
}

fn check_common(value: &str) -> Result<(), Refused> {
    if value.is_empty() {
        Err(Refused::Empty)
    } else if value.starts_with('-') {
        Err(Refused::Dash)
    } else if value.chars().any(char::is_control) {
        Err(Refused::Control)
    } else {
        Ok(())
    }
}

/// Runs git in `dir`: never prompting, giving up on a stalled transfer after a minute, without
/// system config, hooks or fsmonitor, and with only `remote`'s transport allowed (none for work
/// that needs no remote) and its credentials offered. Callers put `--` before arguments that
/// come from a config.
pub fn run(dir: &Path, remote: Option<&Remote>, args: &[&str]) -> Result<String> {
    let allowed = remote.map(|r| r.transport.name()).unwrap_or_default();
    let mut command = Command::new("git");
    command.arg("-C").arg(dir);
    for setting in [
        "core.hooksPath=/dev/null",
        "core.fsmonitor=false",
        "protocol.allow=never",
        "http.lowSpeedLimit=1000",
        "http.lowSpeedTime=60",
        "advice.detachedHead=false",
    ] {
        command.args(["-c", setting]);
    }
    if !allowed.is_empty() {
        command.arg("-c").arg(format!("protocol.{allowed}.allow=always"));
    }
    if let Some(credentials) = remote.and_then(|r| r.credentials.as_ref()) {
        // The empty value first drops the user's own helpers: `store` would write these
        // credentials to ~/.git-credentials.
        command.args(["-c", "credential.helper=", "-c"]).arg(format!("credential.helper={CREDENTIAL_HELPER}"));
        command.env("RULEDEX_GIT_USERNAME", &credentials.username).env("RULEDEX_GIT_PASSWORD", &credentials.password);
    }
    command
        .args(args)
        .env("GIT_ALLOW_PROTOCOL", allowed)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0");
    let output = command.output().map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => anyhow!("git is not installed; install it, or point the source at a local `path`"),
        _ => anyhow!("cannot run git: {e}"),
    })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        // git's own verdict ("fatal: ...") says more than the advice lines that may follow it.
        let lines = || stderr.lines().map(str::trim).filter(|l| !l.is_empty());
        let reason = lines()
            .find(|l| l.starts_with("fatal:") || l.starts_with("error:"))
            .or_else(|| lines().next_back())
            .unwrap_or("failed");
        bail!("git {}: {}", args.first().copied().unwrap_or_default(), redact_credentials(reason));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::one_at_a_time;

    #[test]
    fn urls_a_source_needs_are_accepted_with_their_transport() {
        let cases = [
            ("https://github.com/chronicle/detection-rules", Transport::Https),
            ("https://user:token@github.com/org/repo.git", Transport::Https),
            ("ssh://git@github.com/org/repo.git", Transport::Ssh),
            ("git+ssh://git@github.com/org/repo.git", Transport::Ssh),
            ("git@github.com:org/repo.git", Transport::Ssh),
            ("github.com:org/repo", Transport::Ssh),
            ("file:///srv/mirrors/rules", Transport::File),
        ];
        for (url, transport) in cases {
            assert_eq!(check_url(url, false), Ok(transport), "{url}");
        }
        assert_eq!(check_url("http://mirror.internal/rules.git", true), Ok(Transport::Http));
    }

    #[test]
    fn urls_that_run_commands_or_read_as_options_are_refused() {
        let cases = [
            ("", Refused::Empty),
            ("--upload-pack=touch /tmp/x;", Refused::Dash),
            ("-oProxyCommand=x:repo", Refused::Dash),
            ("ext::sh -c touch% /tmp/x", Refused::RemoteHelper("ext".into())),
            ("fd::17", Refused::RemoteHelper("fd".into())),
            ("ssh://-oProxyCommand=x/repo", Refused::DashHost),
            ("git@-oProxyCommand=x:repo", Refused::DashHost),
            ("http://example.org/repo.git", Refused::Http),
            ("ftp://example.org/repo.git", Refused::Protocol("ftp".into())),
            ("git://example.org/repo.git", Refused::Protocol("git".into())),
            ("/srv/mirrors/rules", Refused::LocalPath),
            ("./rules", Refused::LocalPath),
            ("https://example.org/repo\n--upload-pack=x", Refused::Control),
        ];
        for (url, refused) in cases {
            assert_eq!(check_url(url, false), Err(refused), "{url}");
        }
    }

    #[test]
    fn credentials_are_taken_out_of_urls_decoded() {
        let remote = Remote::parse("https://alice:s3cret%2Ftoken@github.com/org/repo.git", false).unwrap();
        assert_eq!(remote.url(), "https://github.com/org/repo.git");
        let credentials = remote.credentials.as_ref().unwrap();
        assert_eq!((credentials.username.as_str(), credentials.password.as_str()), ("alice", "s3cret/token"));
        assert!(!format!("{remote:?}").contains("s3cret"), "{remote:?}");
        let token_only = Remote::parse("https://ghp_token@github.com/org/repo.git", false).unwrap();
        let credentials = token_only.credentials.as_ref().unwrap();
        assert_eq!((credentials.username.as_str(), credentials.password.as_str()), ("ghp_token", ""));
        let file = Remote::parse("file://user:token@/srv/mirrors/rules", false).unwrap();
        assert_eq!(file.url(), "file:///srv/mirrors/rules");
        let ssh = Remote::parse("ssh://git@github.com/org/repo.git", false).unwrap();
        assert_eq!((ssh.url(), ssh.credentials.is_none()), ("ssh://git@github.com/org/repo.git", true));
        assert!(Remote::parse("https://github.com/org/repo.git", false).unwrap().credentials.is_none());
    }

    #[test]
    fn credentials_git_could_not_be_given_safely_are_refused() {
        let cases = [
            ("ssh://git:secret@example.org/repo.git", Refused::SshPassword),
            ("https://alice:to%0Aken@example.org/repo.git", Refused::Credentials),
            ("https://alice:%FF@example.org/repo.git", Refused::Credentials),
        ];
        for (url, refused) in cases {
            assert_eq!(Remote::parse(url, false).map(|r| r.url), Err(refused), "{url}");
        }
    }

    #[test]
    fn revisions_are_names_never_options_or_refspecs() {
        for rev in ["main", "v1.2.3", "release/2025-01", "19793ebdd29c896cc753afc5fe351ceba4d8d193", "HEAD"] {
            assert_eq!(check_rev(rev), Ok(()), "{rev}");
        }
        let cases = [
            ("--upload-pack=touch /tmp/x;", Refused::Dash),
            ("-x", Refused::Dash),
            ("main two", Refused::Whitespace),
            ("main\u{7}", Refused::Control),
            ("main:refs/heads/evil", Refused::RefCharacter(':')),
            ("refs/heads/*", Refused::RefCharacter('*')),
            ("HEAD~1", Refused::RefCharacter('~')),
            ("", Refused::Empty),
        ];
        for (rev, refused) in cases {
            assert_eq!(check_rev(rev), Err(refused), "{rev:?}");
        }
    }

    #[test]
    fn git_may_use_only_the_transport_it_is_given() {
        let _serial = one_at_a_time();
        let dir = tempfile::tempdir().unwrap();
        run(dir.path(), None, &["init", "--quiet"]).unwrap();
        let upstream = tempfile::tempdir().unwrap();
        run(upstream.path(), None, &["init", "--quiet"]).unwrap();
        let url = format!("file://{}", upstream.path().display());
        let https = Remote::parse("https://example.org/rules.git", false).unwrap();
        for remote in [None, Some(&https)] {
            let error = run(dir.path(), remote, &["fetch", "--quiet", "--", &url, "HEAD"]).unwrap_err();
            assert!(error.to_string().contains("transport 'file' not allowed"), "{error}");
        }
    }

    #[test]
    fn git_errors_quote_urls_without_credentials() {
        let _serial = one_at_a_time();
        let dir = tempfile::tempdir().unwrap();
        run(dir.path(), None, &["init", "--quiet"]).unwrap();
        let url = "https://alice:s3cret-token@127.0.0.1:9/repo.git";
        let remote = Remote::parse(url, false).unwrap();
        // The URL as written, credentials and all, as a message from git may quote one.
        let error = run(dir.path(), Some(&remote), &["fetch", "--quiet", "--", url, "main"]).unwrap_err();
        let message = format!("{error:#}");
        assert!(message.starts_with("git fetch: "), "{message}");
        assert!(!message.contains("s3cret") && !message.contains("alice"), "{message}");
    }
}

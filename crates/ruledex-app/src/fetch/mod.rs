//! Getting content onto disk: source trees (a local path, or a git repository fetched with the
//! `git` command into the data directory; see [`git`] for how a hostile config is kept from
//! running commands) and ATT&CK bundles (a path, or a URL downloaded and refreshed; see
//! [`attack`]).

pub mod attack;
pub mod git;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use ruledex_core::owner_only;
use ruledex_core::url::redact_credentials;

pub use attack::{Bundle, attack_bundle};

use crate::config::SourceConfig;

/// A source tree ready to read.
#[derive(Debug)]
pub struct Tree {
    pub root: PathBuf,
    pub commit: Option<String>,
    /// Set when a fetch failed and an earlier checkout was used instead.
    pub warning: Option<String>,
}

/// Makes a source's files available locally. For git sources, fetches `rev` into
/// `<data_dir>/sources/<name>` (shallow, with only the files the format reads); when the fetch
/// fails and an earlier checkout exists, that checkout is used and the failure reported.
pub fn source_tree(source: &SourceConfig, patterns: &[&str], data_dir: &Path) -> Result<Tree> {
    if let Some(path) = &source.path {
        if !path.is_dir() {
            bail!("local path {} does not exist or is not a directory", path.display());
        }
        let commit = source.commit.clone().or_else(|| own_checkout_commit(path));
        return Ok(Tree { root: path.clone(), commit, warning: None });
    }
    let url = source.git.as_deref().ok_or_else(|| anyhow!("source {} has neither `path` nor `git`", source.name))?;
    let dir = data_dir.join("sources").join(&source.name);
    let fetched = fetch_git(url, source.rev.as_deref(), source.allow_http, patterns, &dir);
    // git creates its files (the checkout's, its own config) as the umask allows.
    if dir.exists() {
        owner_only::restrict_tree(&dir).with_context(|| format!("cannot restrict {} to its owner", dir.display()))?;
    }
    match fetched {
        Ok(commit) => Ok(Tree { root: dir, commit: Some(commit), warning: None }),
        Err(error) => match git::run(&dir, None, &["rev-parse", "HEAD"]) {
            Ok(commit) => Ok(Tree {
                root: dir,
                commit: Some(commit.clone()),
                warning: Some(format!("{error:#}; using the earlier checkout at {}", short(&commit))),
            }),
            Err(_) => Err(error),
        },
    }
}

/// The commit of a local source that is itself a git checkout (its top level is the source's
/// path). A source folder that merely lies inside some other repository (a mirror copied into a
/// project) has no known commit: that repository's commit says nothing about the mirror's files.
fn own_checkout_commit(path: &Path) -> Option<String> {
    let top = git::run(path, None, &["rev-parse", "--show-toplevel"]).ok()?;
    let same = fs::canonicalize(&top).ok()? == fs::canonicalize(path).ok()?;
    same.then(|| git::run(path, None, &["rev-parse", "HEAD"]).ok()).flatten()
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// Shallow, partial fetch of one revision, checked out with only the format's files. The URL
/// and revision are checked again here, whoever built the config: they reach git's command line.
/// The checkout is its owner's alone: git's files in it are made so by the caller.
fn fetch_git(url: &str, rev: Option<&str>, allow_http: bool, patterns: &[&str], dir: &Path) -> Result<String> {
    let shown = redact_credentials(url);
    let remote = git::Remote::parse(url, allow_http).map_err(|reason| anyhow!("git URL {shown:?} {reason}"))?;
    let rev = rev.unwrap_or("HEAD");
    git::check_rev(rev).map_err(|reason| anyhow!("git revision {rev:?} {reason}"))?;
    let mut sparse = vec!["/LICENSE*".to_string()];
    sparse.extend(patterns.iter().map(|p| format!("/{p}")));
    if !dir.join(".git").is_dir() {
        owner_only::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        git::run(dir, None, &["init", "--quiet"])?;
        set_sparse_checkout(dir, None, &sparse)?;
    } else {
        forget_remotes(dir)?;
        // git refuses to list the patterns of a checkout that is not sparse: it gets them too.
        let current = git::run(dir, None, &["sparse-checkout", "list"]).unwrap_or_default();
        if current.lines().ne(sparse.iter().map(String::as_str)) {
            // A checkout made when the format read other files (Sentinel's hunting queries were
            // added, say): the files it now reads come in, their contents from the remote.
            set_sparse_checkout(dir, Some(&remote), &sparse)?;
        }
    }
    let fetch = ["fetch", "--quiet", "--depth", "1", "--no-tags", "--filter=blob:none", "--", remote.url(), rev];
    git::run(dir, Some(&remote), &fetch).with_context(|| format!("cannot fetch {rev} of {shown}"))?;
    // Checking out a partial clone fetches the missing files' contents from the same remote.
    git::run(dir, Some(&remote), &["checkout", "--quiet", "--force", "--detach", "FETCH_HEAD"])?;
    git::run(dir, None, &["rev-parse", "HEAD"])
}

fn set_sparse_checkout(dir: &Path, remote: Option<&git::Remote>, patterns: &[String]) -> Result<()> {
    let mut args = vec!["sparse-checkout", "set", "--no-cone"];
    args.extend(patterns.iter().map(String::as_str));
    git::run(dir, remote, &args).map(drop)
}

/// Drops the remotes a checkout's config records. git records the URL each fetch used (as the
/// name of a partial clone's promisor remote) and the next fetch records its own again; those
/// of earlier versions of ruledex carry the URL's credentials.
fn forget_remotes(dir: &Path) -> Result<()> {
    // git fails when no key matches: no remote is recorded.
    let Ok(keys) = git::run(dir, None, &["config", "--name-only", "--get-regexp", r"^remote\."]) else {
        return Ok(());
    };
    let sections: BTreeSet<&str> = keys.lines().filter_map(|key| key.rsplit_once('.')).map(|(s, _)| s).collect();
    for section in sections {
        git::run(dir, None, &["config", "--remove-section", section])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{GitServer, files_holding, one_at_a_time, open_to_others};
    use ruledex_core::model::SourceKind;
    use ruledex_core::sources::Format;

    fn git_source(url: &str, rev: &str) -> SourceConfig {
        SourceConfig {
            name: "test".into(),
            format: Format::Chronicle,
            kind: SourceKind::Vendor,
            license: None,
            path: None,
            git: Some(url.into()),
            rev: Some(rev.into()),
            repository: None,
            commit: None,
            max_file_bytes: None,
            max_source_bytes: None,
            max_query_bytes: None,
            allow_http: false,
            enabled: true,
        }
    }

    /// A real repository with one rule and one file the format does not read.
    fn upstream() -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        let head = upstream_at(dir.path());
        (dir, head)
    }

    /// Makes `repo` a repository as [`upstream`] describes; its commit.
    fn upstream_at(repo: &Path) -> String {
        fs::create_dir_all(repo).unwrap();
        git::run(repo, None, &["init", "--quiet", "--initial-branch=main"]).unwrap();
        fs::create_dir_all(repo.join("rules/x")).unwrap();
        fs::write(repo.join("rules/x/a.yaral"), "rule a { meta: author = \"x\" condition: $e }").unwrap();
        fs::write(repo.join("README.md"), "not a rule").unwrap();
        git::run(repo, None, &["add", "."]).unwrap();
        git::run(repo, None, &["-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "one"]).unwrap();
        git::run(repo, None, &["rev-parse", "HEAD"]).unwrap()
    }

    #[test]
    fn git_sources_are_fetched_sparse_at_their_commit() {
        let _serial = one_at_a_time();
        let (upstream, head) = upstream();
        let data = tempfile::tempdir().unwrap();
        let url = format!("file://{}", upstream.path().display());
        let tree = source_tree(&git_source(&url, "main"), &["rules/**/*.yaral"], data.path()).unwrap();
        assert_eq!(tree.commit.as_deref(), Some(head.as_str()));
        assert!(tree.root.join("rules/x/a.yaral").is_file());
        assert!(!tree.root.join("README.md").exists(), "only the format's files are checked out");
        assert!(tree.warning.is_none());
    }

    /// Issue 29: a checkout made before Sentinel's hunting queries were read kept reading its
    /// old sparse patterns.
    #[test]
    fn a_checkout_follows_the_files_its_format_reads_now() {
        let _serial = one_at_a_time();
        let (upstream, head) = upstream();
        let data = tempfile::tempdir().unwrap();
        let url = format!("file://{}", upstream.path().display());
        source_tree(&git_source(&url, "main"), &["rules/**/*.yaral"], data.path()).unwrap();
        let tree = source_tree(&git_source(&url, "main"), &["rules/**/*.yaral", "README.md"], data.path()).unwrap();
        assert_eq!((tree.commit.as_deref(), tree.warning), (Some(head.as_str()), None));
        assert!(tree.root.join("README.md").is_file() && tree.root.join("rules/x/a.yaral").is_file());
        let tree = source_tree(&git_source(&url, "main"), &["README.md"], data.path()).unwrap();
        assert!(!tree.root.join("rules").exists(), "files no longer read leave the checkout");
    }

    #[test]
    fn a_failed_fetch_falls_back_to_the_earlier_checkout() {
        let _serial = one_at_a_time();
        let (upstream, head) = upstream();
        let data = tempfile::tempdir().unwrap();
        let url = format!("file://{}", upstream.path().display());
        source_tree(&git_source(&url, "main"), &["rules/**/*.yaral"], data.path()).unwrap();
        let gone = git_source(&format!("file://{}/missing", upstream.path().display()), "main");
        let tree = source_tree(&gone, &["rules/**/*.yaral"], data.path()).unwrap();
        assert_eq!(tree.commit.as_deref(), Some(head.as_str()));
        assert!(tree.warning.unwrap().contains("using the earlier checkout"));
    }

    /// The review's attack, with a real `file://` repository: `rev = "--upload-pack=touch ..."`
    /// ran the command. Config validation is bypassed here (a config built in code); the fetch
    /// itself refuses before git runs.
    #[test]
    fn a_rev_git_would_read_as_an_option_runs_nothing() {
        let _serial = one_at_a_time();
        let (upstream, _) = upstream();
        let data = tempfile::tempdir().unwrap();
        let marker = data.path().join("pwned");
        let url = format!("file://{}", upstream.path().display());
        let rev = format!("--upload-pack=touch {};", marker.display());
        let error = source_tree(&git_source(&url, &rev), &["rules/**/*.yaral"], data.path()).unwrap_err();
        assert_eq!(
            format!("{error:#}"),
            format!("git revision {rev:?} starts with '-', which git would read as an option")
        );
        assert!(!marker.exists(), "the command ran");
        assert!(!data.path().join("sources").exists(), "git never ran");
    }

    #[test]
    fn urls_that_run_commands_or_read_as_options_are_refused_before_git_runs() {
        let _serial = one_at_a_time();
        let data = tempfile::tempdir().unwrap();
        let marker = data.path().join("pwned");
        let cases = [
            (format!("ext::sh -c touch% {}", marker.display()), "names the git remote helper `ext::`"),
            (format!("--upload-pack=touch {};", marker.display()), "starts with '-'"),
            ("fd::0".to_string(), "names the git remote helper `fd::`"),
        ];
        for (url, reason) in cases {
            let error = format!("{:#}", source_tree(&git_source(&url, "main"), &["*"], data.path()).unwrap_err());
            assert!(error.starts_with(&format!("git URL {url:?} ")) && error.contains(reason), "{error}");
        }
        assert!(!marker.exists(), "the command ran");
        assert!(!data.path().join("sources").exists(), "git never ran");
    }

    /// Issue 10: the commit shown for a source came from whatever repository enclosed its path.
    #[test]
    fn a_local_source_has_a_commit_only_when_it_is_a_checkout_itself() {
        let (upstream, head) = upstream();
        let local = |path: PathBuf| SourceConfig { path: Some(path), git: None, rev: None, ..git_source("x", "x") };
        let itself = source_tree(&local(upstream.path().to_path_buf()), &["*"], upstream.path()).unwrap();
        assert_eq!(itself.commit.as_deref(), Some(head.as_str()), "a checkout's own commit");
        let inside = source_tree(&local(upstream.path().join("rules")), &["*"], upstream.path()).unwrap();
        assert_eq!(inside.commit, None, "a folder inside an unrelated repository has no known commit");
        let configured = SourceConfig { commit: Some("abc123".into()), ..local(upstream.path().join("rules")) };
        let pinned = source_tree(&configured, &["*"], upstream.path()).unwrap();
        assert_eq!(pinned.commit.as_deref(), Some("abc123"), "the configured commit");
    }

    /// Issue 21, item 2: a source URL's user and token ended up in `sources/NAME/.git/config`
    /// (git names a partial clone's promisor remote after the URL it fetched), readable by
    /// everyone, even after a failed fetch. A real git server on loopback asks for the token.
    #[test]
    fn credentials_in_a_git_url_reach_the_server_but_never_the_disk() {
        let _serial = one_at_a_time();
        let (secret, patterns) = ("s3cret-token", ["rules/**/*.yaral"]);
        let served = tempfile::tempdir().unwrap();
        let head = upstream_at(&served.path().join("rules.git"));
        let server = GitServer::start(served.path(), "alice", secret);
        let source = |user_info: &str, name: &str| SourceConfig {
            allow_http: true,
            ..git_source(&server.url(user_info, name), "main")
        };
        let data = tempfile::tempdir().unwrap();
        let checkout = data.path().join("sources/test");
        let no_trace = |when: &str| {
            assert_eq!(files_holding(data.path(), secret), Vec::<PathBuf>::new(), "{when}");
            assert_eq!(open_to_others(&checkout), Vec::<PathBuf>::new(), "{when}");
        };

        let first = source_tree(&source("alice:s3cret-token@", "missing.git"), &patterns, data.path()).unwrap_err();
        assert!(format!("{first:#}").contains("cannot fetch main of http://127.0.0.1:"), "{first:#}");
        no_trace("after a failed first fetch");

        let tree = source_tree(&source("alice:s3cret-token@", "rules.git"), &patterns, data.path()).unwrap();
        assert_eq!((tree.commit.as_deref(), tree.warning), (Some(head.as_str()), None));
        assert!(tree.root.join("rules/x/a.yaral").is_file(), "the file's content came through the credentials");
        assert!(server.authorizations().iter().any(|a| a == "Basic YWxpY2U6czNjcmV0LXRva2Vu"), "alice:s3cret-token");
        no_trace("after a fetch");

        for (user_info, name) in [("alice:wrong-token@", "rules.git"), ("alice:s3cret-token@", "gone.git")] {
            let tree = source_tree(&source(user_info, name), &patterns, data.path()).unwrap();
            let warning = tree.warning.unwrap_or_default();
            assert!(warning.contains("using the earlier checkout") && !warning.contains("token"), "{warning}");
            no_trace(&format!("after a failed fetch of {name} as {user_info}"));
        }
        let config = fs::read_to_string(checkout.join(".git/config")).unwrap();
        assert!(!config.contains('@'), "{config}");
    }

    /// Checkouts made before credentials were kept out of URLs hold the token in their config:
    /// the next fetch drops it.
    #[test]
    fn a_token_an_earlier_fetch_left_in_the_config_is_dropped() {
        let _serial = one_at_a_time();
        let (upstream, head) = upstream();
        let data = tempfile::tempdir().unwrap();
        let url = format!("file://alice:s3cret-token@{}", upstream.path().display());
        let checkout = data.path().join("sources/test");
        fs::create_dir_all(&checkout).unwrap();
        // What earlier versions ran: the URL as configured, credentials and all.
        git::run(&checkout, None, &["init", "--quiet"]).unwrap();
        let remote = git::Remote::parse(&url, false).unwrap();
        git::run(
            &checkout,
            Some(&remote),
            &["fetch", "--quiet", "--depth", "1", "--filter=blob:none", "--", &url, "main"],
        )
        .unwrap();
        assert_eq!(files_holding(data.path(), "s3cret-token"), [checkout.join(".git/config")], "the planted token");
        let tree = source_tree(&git_source(&url, "main"), &["rules/**/*.yaral"], data.path()).unwrap();
        assert_eq!(tree.commit.as_deref(), Some(head.as_str()));
        assert_eq!(files_holding(data.path(), "s3cret-token"), Vec::<PathBuf>::new());
        assert_eq!(open_to_others(&checkout), Vec::<PathBuf>::new());
    }

    #[test]
    fn a_failed_first_fetch_is_an_error_naming_the_url() {
        let _serial = one_at_a_time();
        let data = tempfile::tempdir().unwrap();
        let error = source_tree(&git_source("file:///nonexistent/repo", "main"), &["*"], data.path()).unwrap_err();
        assert!(format!("{error:#}").contains("cannot fetch main of file:///nonexistent/repo"), "{error:#}");
    }
}

//! Getting content onto disk: source trees (a local path, or a git repository fetched with the
//! `git` command into the data directory; see [`git`] for how a hostile config is kept from
//! running commands) and ATT&CK bundles (a path, or a URL downloaded and refreshed; see
//! [`attack`]).

pub mod attack;
pub mod git;

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
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
        let commit = source.commit.clone().or_else(|| git::run(path, None, &["rev-parse", "HEAD"]).ok());
        return Ok(Tree { root: path.clone(), commit, warning: None });
    }
    let url = source.git.as_deref().ok_or_else(|| anyhow!("source {} has neither `path` nor `git`", source.name))?;
    let dir = data_dir.join("sources").join(&source.name);
    match fetch_git(url, source.rev.as_deref(), source.allow_http, patterns, &dir) {
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

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// Shallow, partial fetch of one revision, checked out with only the format's files. The URL
/// and revision are checked again here, whoever built the config: they reach git's command line.
fn fetch_git(url: &str, rev: Option<&str>, allow_http: bool, patterns: &[&str], dir: &Path) -> Result<String> {
    let shown = redact_credentials(url);
    let transport = git::check_url(url, allow_http).map_err(|reason| anyhow!("git URL {shown:?} {reason}"))?;
    let rev = rev.unwrap_or("HEAD");
    git::check_rev(rev).map_err(|reason| anyhow!("git revision {rev:?} {reason}"))?;
    if !dir.join(".git").is_dir() {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        git::run(dir, None, &["init", "--quiet"])?;
        let mut sparse = vec!["sparse-checkout", "set", "--no-cone", "/LICENSE*"];
        let anchored: Vec<String> = patterns.iter().map(|p| format!("/{p}")).collect();
        sparse.extend(anchored.iter().map(String::as_str));
        git::run(dir, None, &sparse)?;
    }
    let fetch = ["fetch", "--quiet", "--depth", "1", "--no-tags", "--filter=blob:none", "--", url, rev];
    git::run(dir, Some(transport), &fetch).with_context(|| format!("cannot fetch {rev} of {shown}"))?;
    // Checking out a partial clone fetches the missing files' contents from the same remote.
    git::run(dir, Some(transport), &["checkout", "--quiet", "--force", "--detach", "FETCH_HEAD"])?;
    git::run(dir, None, &["rev-parse", "HEAD"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::one_at_a_time;
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
        let repo = dir.path();
        git::run(repo, None, &["init", "--quiet", "--initial-branch=main"]).unwrap();
        fs::create_dir_all(repo.join("rules/x")).unwrap();
        fs::write(repo.join("rules/x/a.yaral"), "rule a { meta: author = \"x\" condition: $e }").unwrap();
        fs::write(repo.join("README.md"), "not a rule").unwrap();
        git::run(repo, None, &["add", "."]).unwrap();
        git::run(repo, None, &["-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "one"]).unwrap();
        let head = git::run(repo, None, &["rev-parse", "HEAD"]).unwrap();
        (dir, head)
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

    #[test]
    fn a_failed_first_fetch_is_an_error_naming_the_url() {
        let _serial = one_at_a_time();
        let data = tempfile::tempdir().unwrap();
        let error = source_tree(&git_source("file:///nonexistent/repo", "main"), &["*"], data.path()).unwrap_err();
        assert!(format!("{error:#}").contains("cannot fetch main of file:///nonexistent/repo"), "{error:#}");
    }
}

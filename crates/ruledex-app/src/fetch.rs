//! Getting content onto disk: source trees (a local path, or a git repository fetched with the
//! `git` command into the data directory) and ATT&CK bundles (a path, or a URL downloaded once).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};

use crate::config::{Location, SourceConfig};

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
        let commit = source.commit.clone().or_else(|| git(path, &["rev-parse", "HEAD"]).ok());
        return Ok(Tree { root: path.clone(), commit, warning: None });
    }
    let url = source.git.as_deref().ok_or_else(|| anyhow!("source {} has neither `path` nor `git`", source.name))?;
    let dir = data_dir.join("sources").join(&source.name);
    match fetch_git(url, source.rev.as_deref(), patterns, &dir) {
        Ok(commit) => Ok(Tree { root: dir, commit: Some(commit), warning: None }),
        Err(error) => match git(&dir, &["rev-parse", "HEAD"]) {
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

/// Shallow, partial fetch of one revision, checked out with only the format's files.
fn fetch_git(url: &str, rev: Option<&str>, patterns: &[&str], dir: &Path) -> Result<String> {
    if !dir.join(".git").is_dir() {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        git(dir, &["init", "--quiet"])?;
        let mut sparse = vec!["sparse-checkout", "set", "--no-cone", "/LICENSE*"];
        let anchored: Vec<String> = patterns.iter().map(|p| format!("/{p}")).collect();
        sparse.extend(anchored.iter().map(String::as_str));
        git(dir, &sparse)?;
    }
    let rev = rev.unwrap_or("HEAD");
    git(dir, &["fetch", "--quiet", "--depth", "1", "--no-tags", "--filter=blob:none", url, rev])
        .with_context(|| format!("cannot fetch {rev} of {url}"))?;
    git(dir, &["checkout", "--quiet", "--force", "--detach", "FETCH_HEAD"])?;
    git(dir, &["rev-parse", "HEAD"])
}

/// Runs git without ever prompting, giving up on a stalled transfer after a minute.
fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "http.lowSpeedLimit=1000", "-c", "http.lowSpeedTime=60", "-c", "advice.detachedHead=false"])
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => {
                anyhow!("git is not installed; install it, or point the source at a local `path`")
            }
            _ => anyhow!("cannot run git: {e}"),
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let reason = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("failed").trim();
        bail!("git {}: {reason}", args.first().copied().unwrap_or_default());
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// A local copy of an ATT&CK bundle: the path itself, or the URL's download cached in
/// `<data_dir>/attack/` (release URLs never change, so a cached copy is reused).
pub fn attack_bundle(location: &Location, data_dir: &Path) -> Result<PathBuf> {
    match location {
        Location::Path(path) if path.is_file() => Ok(path.clone()),
        Location::Path(path) => bail!("ATT&CK bundle {} does not exist", path.display()),
        Location::Url(url) => {
            let name = url.rsplit('/').next().filter(|n| !n.is_empty()).unwrap_or("bundle.json");
            let cached = data_dir.join("attack").join(name);
            if !cached.is_file() {
                download(url, &cached).with_context(|| format!("cannot download ATT&CK bundle {url}"))?;
            }
            Ok(cached)
        }
    }
}

fn download(url: &str, to: &Path) -> Result<()> {
    let dir = to.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(20)))
        .timeout_global(Some(Duration::from_secs(600)))
        .build()
        .new_agent();
    let response = agent.get(url).call()?;
    let partial = to.with_extension("part");
    let mut file = fs::File::create(&partial).with_context(|| format!("cannot write {}", partial.display()))?;
    io::copy(&mut response.into_body().into_reader(), &mut file)?;
    file.sync_all()?;
    fs::rename(&partial, to).with_context(|| format!("cannot write {}", to.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
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
            enabled: true,
        }
    }

    /// A real repository with one rule and one file the format does not read.
    fn upstream() -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path();
        git(repo, &["init", "--quiet", "--initial-branch=main"]).unwrap();
        fs::create_dir_all(repo.join("rules/x")).unwrap();
        fs::write(repo.join("rules/x/a.yaral"), "rule a { meta: author = \"x\" condition: $e }").unwrap();
        fs::write(repo.join("README.md"), "not a rule").unwrap();
        git(repo, &["add", "."]).unwrap();
        git(repo, &["-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "one"]).unwrap();
        let head = git(repo, &["rev-parse", "HEAD"]).unwrap();
        (dir, head)
    }

    #[test]
    fn git_sources_are_fetched_sparse_at_their_commit() {
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
        let (upstream, head) = upstream();
        let data = tempfile::tempdir().unwrap();
        let url = format!("file://{}", upstream.path().display());
        source_tree(&git_source(&url, "main"), &["rules/**/*.yaral"], data.path()).unwrap();
        let gone = git_source(&format!("file://{}/missing", upstream.path().display()), "main");
        let tree = source_tree(&gone, &["rules/**/*.yaral"], data.path()).unwrap();
        assert_eq!(tree.commit.as_deref(), Some(head.as_str()));
        assert!(tree.warning.unwrap().contains("using the earlier checkout"));
    }

    #[test]
    fn a_failed_first_fetch_is_an_error_naming_the_url() {
        let data = tempfile::tempdir().unwrap();
        let error = source_tree(&git_source("file:///nonexistent/repo", "main"), &["*"], data.path()).unwrap_err();
        assert!(format!("{error:#}").contains("cannot fetch main of file:///nonexistent/repo"), "{error:#}");
    }
}

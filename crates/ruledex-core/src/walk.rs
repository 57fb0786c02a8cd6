//! Finding a source's rule files safely.
//!
//! Sources are public repositories, so their trees are untrusted: a symlink may point anywhere
//! on the machine, a file may be huge or not text. Every candidate file comes back either read
//! or rejected with a reason; nothing is skipped silently.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use walkdir::WalkDir;

/// A file whose path matched the source format's patterns.
#[derive(Debug)]
pub struct Candidate {
    /// Relative to the source root, `/`-separated.
    pub path: String,
    pub content: Result<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    #[error("source root {path} does not exist or is not a directory")]
    MissingRoot { path: String },
    #[error("cannot read source root {path}: {source}")]
    Root { path: String, source: io::Error },
    #[error("invalid file pattern {pattern:?}: {source}")]
    Pattern { pattern: String, source: globset::Error },
}

/// The files under `root` matching `patterns`, in path order, each read or rejected.
pub fn candidates(root: &Path, patterns: &[&str], max_file_bytes: u64) -> Result<Vec<Candidate>, WalkError> {
    let real_root = fs::canonicalize(root)
        .ok()
        .filter(|p| p.is_dir())
        .ok_or_else(|| WalkError::MissingRoot { path: root.display().to_string() })?;
    let globs = glob_set(patterns)?;
    let mut found = Vec::new();
    for start in walk_starts(patterns) {
        // A start directory that is a symlink out of the root is not walked.
        let Ok(dir) = fs::canonicalize(real_root.join(&start)) else { continue };
        if !dir.is_dir() || !dir.starts_with(&real_root) {
            continue;
        }
        for entry in WalkDir::new(&dir).follow_links(false).sort_by_file_name() {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    let path = e.path().map(|p| relative(&real_root, p)).unwrap_or_default();
                    found.push(Candidate { path, content: Err(format!("cannot read: {e}")) });
                    continue;
                }
            };
            let path = relative(&real_root, entry.path());
            if entry.file_type().is_dir() || !globs.is_match(&path) {
                continue;
            }
            let content = read_inside(&real_root, entry.path(), entry.path_is_symlink(), max_file_bytes);
            found.push(Candidate { path, content });
        }
    }
    Ok(found)
}

pub(crate) fn glob_set(patterns: &[&str]) -> Result<GlobSet, WalkError> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = Glob::new(pattern).map_err(|source| WalkError::Pattern { pattern: pattern.to_string(), source })?;
        builder.add(glob);
    }
    builder.build().map_err(|source| WalkError::Pattern { pattern: patterns.join(", "), source })
}

/// The literal directories the patterns start with (`rules/**/*.toml` -> `rules`), so a walk
/// never wanders through the rest of a large repository.
fn walk_starts(patterns: &[&str]) -> Vec<PathBuf> {
    let mut starts: Vec<PathBuf> = patterns
        .iter()
        .map(|p| {
            let literal: Vec<&str> = p.split('/').take_while(|c| !c.contains(['*', '?', '[', '{'])).collect();
            // The last literal component may be a file name; walk its directory.
            let dirs = if literal.len() == p.split('/').count() { &literal[..literal.len() - 1] } else { &literal[..] };
            dirs.iter().collect()
        })
        .collect();
    starts.sort();
    starts.dedup();
    // Drop starts nested inside another start: they would be walked twice.
    let all = starts.clone();
    starts.retain(|s| !all.iter().any(|other| other != s && s.starts_with(other)));
    starts
}

fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// Reads a file as UTF-8 text, refusing symlinks that leave the root, oversized files and
/// bytes that are not UTF-8.
fn read_inside(root: &Path, path: &Path, is_symlink: bool, max_file_bytes: u64) -> Result<String, String> {
    if is_symlink {
        let target = fs::canonicalize(path).map_err(|e| format!("broken symbolic link: {e}"))?;
        if !target.starts_with(root) {
            return Err("symbolic link to a target outside the source root; not followed".into());
        }
        if target.is_dir() {
            return Err("symbolic link to a directory; not followed".into());
        }
    }
    let size = fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?.len();
    if size > max_file_bytes {
        return Err(format!("file is {size} bytes, over the {max_file_bytes}-byte limit"));
    }
    let bytes = fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    let text = String::from_utf8(bytes)
        .map_err(|e| format!("not valid UTF-8 (invalid byte at offset {})", e.utf8_error().valid_up_to()))?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(without_bom) => without_bom.to_string(),
        None => text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, bytes: &[u8]) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }

    #[test]
    fn walk_starts_are_literal_prefixes_without_nesting() {
        let starts = walk_starts(&["rules/**/*.toml", "rules/windows/*.toml", "hunting/**/*.toml", "*.md"]);
        assert_eq!(starts, vec![PathBuf::from("")], "a pattern at the root covers every other start");
        let starts = walk_starts(&["rules/**/*.toml", "Solutions/*/Analytic Rules/**/*.yaml"]);
        assert_eq!(starts, vec![PathBuf::from("Solutions"), PathBuf::from("rules")]);
    }

    #[test]
    fn every_matching_file_is_read_or_rejected_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "rules/a.yml", b"ok");
        write(root, "rules/sub/b.yml", b"\xef\xbb\xbfwith bom");
        write(root, "rules/bad.yml", b"ok\xff\xfe");
        write(root, "rules/big.yml", &[b'x'; 2048]);
        write(root, "rules/ignored.txt", b"not a rule");
        write(root, "elsewhere/c.yml", b"outside the patterns");
        let outside = tempfile::tempdir().unwrap();
        write(outside.path(), "secret.yml", b"secret");
        std::os::unix::fs::symlink(outside.path().join("secret.yml"), root.join("rules/escape.yml")).unwrap();
        std::os::unix::fs::symlink(root.join("rules/a.yml"), root.join("rules/inside.yml")).unwrap();
        std::os::unix::fs::symlink(root.join("missing"), root.join("rules/dangling.yml")).unwrap();

        let found = candidates(root, &["rules/**/*.yml"], 1024).unwrap();
        let summary: Vec<(String, Result<String, String>)> = found.into_iter().map(|c| (c.path, c.content)).collect();
        let get = |p: &str| summary.iter().find(|(path, _)| path == p).map(|(_, c)| c.clone()).unwrap();
        assert_eq!(summary.len(), 7, "{summary:?}");
        assert_eq!(get("rules/a.yml"), Ok("ok".into()));
        assert_eq!(get("rules/sub/b.yml"), Ok("with bom".into()));
        assert_eq!(get("rules/inside.yml"), Ok("ok".into()));
        assert_eq!(get("rules/bad.yml"), Err("not valid UTF-8 (invalid byte at offset 2)".into()));
        assert_eq!(get("rules/big.yml"), Err("file is 2048 bytes, over the 1024-byte limit".into()));
        assert_eq!(
            get("rules/escape.yml"),
            Err("symbolic link to a target outside the source root; not followed".into())
        );
        assert!(get("rules/dangling.yml").unwrap_err().starts_with("broken symbolic link"));
    }

    #[test]
    fn a_missing_root_is_an_error_naming_it() {
        let error = candidates(Path::new("/nonexistent/ruledex"), &["*.yml"], 10).unwrap_err();
        assert_eq!(error.to_string(), "source root /nonexistent/ruledex does not exist or is not a directory");
    }
}

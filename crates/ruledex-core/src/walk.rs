//! Finding a source's rule files safely, and reading untrusted files in general.
//!
//! Sources are public repositories, so their trees are untrusted: a symlink may point anywhere
//! on the machine (or into the checkout's own `.git`), a file may be huge, not text, a FIFO that
//! would block forever, or one of hundreds of hard links to the same large file. Every candidate
//! file comes back either read or rejected with a reason; nothing is skipped silently, and what
//! one source may cost is bounded per file and in total.

use std::collections::HashMap;
use std::fs::{self, File, FileType, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Component, Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use walkdir::WalkDir;

/// A file whose path matched the source format's patterns.
#[derive(Debug)]
pub struct Candidate {
    /// Relative to the source root, `/`-separated.
    pub path: String,
    pub content: Result<String, Unread>,
}

#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    #[error("source root {path} does not exist or is not a directory")]
    MissingRoot { path: String },
    #[error("invalid file pattern {pattern:?}: {source}")]
    Pattern { pattern: String, source: globset::Error },
}

/// A file a source would read, described without reading it (see [`Walker::listing`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub path: String,
    pub size: u64,
    /// Nanoseconds since the epoch.
    pub modified: i64,
}

/// Why a file was not read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unread {
    #[error("cannot read: {0}")]
    Io(String),
    #[error("not a regular file ({0}); not read")]
    NotRegular(&'static str),
    #[error("file is {size} bytes, over the {limit}-byte limit ({key})")]
    TooLarge { size: u64, limit: u64, key: &'static str },
    #[error("not valid UTF-8 (invalid byte at offset {0})")]
    NotUtf8(usize),
    #[error("broken symbolic link: {0}")]
    BrokenLink(String),
    #[error("symbolic link to a target outside the source root; not followed")]
    LinkOutside,
    #[error("symbolic link into the repository's .git directory; not followed")]
    LinkIntoGit,
    #[error("symbolic link to a directory; not followed")]
    LinkToDirectory,
    #[error("symbolic link to {0}, already read")]
    LinkToRead(String),
    #[error("hard link to {0}, already read")]
    HardLinkToRead(String),
    #[error("{0} is a symbolic link to this file, already read")]
    ReadThroughLink(String),
    #[error(
        "reading this {size}-byte file would pass the {limit}-byte limit on a source's total (max_source_bytes); \
         {read} bytes were read before it"
    )]
    SourceTooLarge { size: u64, limit: u64, read: u64 },
}

impl From<io::Error> for Unread {
    fn from(error: io::Error) -> Unread {
        Unread::Io(error.to_string())
    }
}

/// Reads the files of one source: every file at most `max_file_bytes`, all of them together at
/// most `max_source_bytes`, and each file once however many links lead to it.
pub struct Walker {
    /// The source root, canonical.
    root: PathBuf,
    max_file_bytes: u64,
    max_source_bytes: u64,
    bytes_read: u64,
    /// Files read so far, by device and inode, with the path they were read under.
    read: HashMap<(u64, u64), String>,
}

impl Walker {
    pub fn new(root: &Path, max_file_bytes: u64, max_source_bytes: u64) -> Result<Walker, WalkError> {
        let root = fs::canonicalize(root)
            .ok()
            .filter(|p| p.is_dir())
            .ok_or_else(|| WalkError::MissingRoot { path: root.display().to_string() })?;
        Ok(Walker { root, max_file_bytes, max_source_bytes, bytes_read: 0, read: HashMap::new() })
    }

    /// Bytes of file content read so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// The files under the root matching `patterns`, in path order, each read or rejected.
    /// Anything named `.git` is not walked: it is git's, not the source's.
    pub fn candidates(&mut self, patterns: &[&str]) -> Result<Vec<Candidate>, WalkError> {
        let mut found = Vec::new();
        self.walk(patterns, |walker, entry, path| {
            let content = match entry {
                Ok(entry) => walker.read(entry.path(), &path, entry.path_is_symlink()),
                Err(e) => Err(Unread::Io(e.to_string())),
            };
            found.push(Candidate { path, content });
        })?;
        Ok(found)
    }

    /// The files [`Walker::candidates`] would read, in the same order, each with its size and
    /// modification time, none of them opened: a cheap fingerprint of a tree, which changes
    /// whenever a file the source reads is added, removed or rewritten. Links are described by
    /// their targets.
    pub fn listing(&mut self, patterns: &[&str]) -> Result<Vec<Listed>, WalkError> {
        let mut listed = Vec::new();
        self.walk(patterns, |_, entry, path| {
            let metadata = entry.ok().and_then(|e| fs::metadata(e.path()).or_else(|_| e.metadata()).ok());
            let (size, modified) = metadata.map_or((0, 0), |m| (m.len(), m.mtime() * 1_000_000_000 + m.mtime_nsec()));
            listed.push(Listed { path, size, modified });
        })?;
        Ok(listed)
    }

    /// Calls `visit` with every file (or walk error) under the root matching `patterns`, in path
    /// order, and its path relative to the root.
    fn walk(
        &mut self,
        patterns: &[&str],
        mut visit: impl FnMut(&mut Walker, Result<&walkdir::DirEntry, &walkdir::Error>, String),
    ) -> Result<(), WalkError> {
        let globs = glob_set(patterns)?;
        for start in walk_starts(patterns) {
            // A start directory that is a symlink out of the root, or into .git, is not walked.
            let Ok(dir) = fs::canonicalize(self.root.join(&start)) else { continue };
            if !dir.is_dir() || !dir.starts_with(&self.root) || self.inside_git(&dir) {
                continue;
            }
            let entries = WalkDir::new(&dir).follow_links(false).sort_by_file_name();
            for entry in entries.into_iter().filter_entry(|e| e.file_name() != ".git") {
                match &entry {
                    Ok(e) if e.file_type().is_dir() => {}
                    Ok(e) => {
                        let path = relative(&self.root, e.path());
                        if globs.is_match(&path) {
                            visit(self, Ok(e), path);
                        }
                    }
                    Err(e) => {
                        let path = e.path().map(|p| relative(&self.root, p)).unwrap_or_default();
                        visit(self, Err(e), path);
                    }
                }
            }
        }
        Ok(())
    }

    /// Reads one file as UTF-8 text, refusing what the module documentation lists.
    fn read(&mut self, path: &Path, relative: &str, is_symlink: bool) -> Result<String, Unread> {
        if is_symlink {
            self.check_link(path)?;
        }
        let (mut file, metadata) = open_regular(path)?;
        let identity = (metadata.dev(), metadata.ino());
        if let Some(first) = self.read.get(&identity) {
            return Err(if is_symlink {
                Unread::LinkToRead(first.clone())
            } else if metadata.nlink() > 1 {
                Unread::HardLinkToRead(first.clone())
            } else {
                Unread::ReadThroughLink(first.clone())
            });
        }
        let size = metadata.len();
        if size > self.max_file_bytes {
            return Err(Unread::TooLarge { size, limit: self.max_file_bytes, key: "max_file_bytes" });
        }
        if self.bytes_read.saturating_add(size) > self.max_source_bytes {
            return Err(Unread::SourceTooLarge { size, limit: self.max_source_bytes, read: self.bytes_read });
        }
        let bytes = read_at_most(&mut file, self.max_file_bytes, "max_file_bytes")?;
        self.bytes_read += bytes.len() as u64;
        self.read.insert(identity, relative.to_string());
        utf8_text(bytes)
    }

    /// Links are followed only to files inside the root and outside its `.git`.
    fn check_link(&self, path: &Path) -> Result<(), Unread> {
        let target = fs::canonicalize(path).map_err(|e| Unread::BrokenLink(e.to_string()))?;
        if !target.starts_with(&self.root) {
            return Err(Unread::LinkOutside);
        }
        if self.inside_git(&target) {
            return Err(Unread::LinkIntoGit);
        }
        if target.is_dir() {
            return Err(Unread::LinkToDirectory);
        }
        Ok(())
    }

    /// Whether a canonical path under the root lies in a `.git` directory of the source.
    fn inside_git(&self, canonical: &Path) -> bool {
        let below_root = canonical.strip_prefix(&self.root).unwrap_or(canonical);
        below_root.components().any(|c| c == Component::Normal(".git".as_ref()))
    }
}

/// Reads a whole regular file of at most `max_bytes` bytes, as text, for files that are not
/// part of a source (a configuration file, say). `limit_name` names the limit in the error.
pub fn read_text_file(path: &Path, max_bytes: u64, limit_name: &'static str) -> Result<String, Unread> {
    let (mut file, metadata) = open_regular(path)?;
    if metadata.len() > max_bytes {
        return Err(Unread::TooLarge { size: metadata.len(), limit: max_bytes, key: limit_name });
    }
    utf8_text(read_at_most(&mut file, max_bytes, limit_name)?)
}

/// Opens a file only if it is a regular file, checked before opening (opening a FIFO blocks
/// until someone writes to it) and again on the opened file (in case it was swapped).
fn open_regular(path: &Path) -> Result<(File, Metadata), Unread> {
    check_regular(fs::metadata(path)?.file_type())?;
    let file = File::open(path)?;
    let metadata = file.metadata()?;
    check_regular(metadata.file_type())?;
    Ok((file, metadata))
}

fn check_regular(file_type: FileType) -> Result<(), Unread> {
    if file_type.is_file() {
        return Ok(());
    }
    let kind = if file_type.is_dir() {
        "a directory"
    } else if file_type.is_fifo() {
        "a FIFO"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_block_device() || file_type.is_char_device() {
        "a device"
    } else {
        "not a file"
    };
    Err(Unread::NotRegular(kind))
}

/// Reads to the end, but never more than `max_bytes`: a file that grew after its size was
/// checked is refused rather than read whole.
fn read_at_most(file: &mut File, max_bytes: u64, limit_name: &'static str) -> Result<Vec<u8>, Unread> {
    let mut bytes = Vec::new();
    file.take(max_bytes.saturating_add(1)).read_to_end(&mut bytes)?;
    let size = bytes.len() as u64;
    if size > max_bytes {
        return Err(Unread::TooLarge { size, limit: max_bytes, key: limit_name });
    }
    Ok(bytes)
}

fn utf8_text(bytes: Vec<u8>) -> Result<String, Unread> {
    let text = String::from_utf8(bytes).map_err(|e| Unread::NotUtf8(e.utf8_error().valid_up_to()))?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(without_bom) => without_bom.to_string(),
        None => text,
    })
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

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    fn write(root: &Path, rel: &str, bytes: &[u8]) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }

    fn read_all(root: &Path, patterns: &[&str], max_file_bytes: u64, max_source_bytes: u64) -> Vec<Candidate> {
        Walker::new(root, max_file_bytes, max_source_bytes).unwrap().candidates(patterns).unwrap()
    }

    /// Path and content or reason, for comparing.
    fn outcomes(found: Vec<Candidate>) -> Vec<(String, Result<String, String>)> {
        found.into_iter().map(|c| (c.path, c.content.map_err(|e| e.to_string()))).collect()
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

        let summary = outcomes(read_all(root, &["rules/**/*.yml"], 1024, u64::MAX));
        let get = |p: &str| summary.iter().find(|(path, _)| path == p).map(|(_, c)| c.clone()).unwrap();
        assert_eq!(summary.len(), 7, "{summary:?}");
        assert_eq!(get("rules/a.yml"), Ok("ok".into()));
        assert_eq!(get("rules/sub/b.yml"), Ok("with bom".into()));
        assert_eq!(get("rules/inside.yml"), Err("symbolic link to rules/a.yml, already read".into()));
        assert_eq!(get("rules/bad.yml"), Err("not valid UTF-8 (invalid byte at offset 2)".into()));
        assert_eq!(get("rules/big.yml"), Err("file is 2048 bytes, over the 1024-byte limit (max_file_bytes)".into()));
        assert_eq!(
            get("rules/escape.yml"),
            Err("symbolic link to a target outside the source root; not followed".into())
        );
        assert!(get("rules/dangling.yml").unwrap_err().starts_with("broken symbolic link"));
    }

    /// The attack: hundreds of hard links to one large rule made a sync read it hundreds of
    /// times (3.5 GB of memory, a 6.5 GB catalog). Each file is now read once.
    #[test]
    fn hundreds_of_hard_links_to_one_file_are_read_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let rule = format!("title: big\ndetection: '{}'\n", "x".repeat(256 * 1024));
        write(root, "rules/000.yml", rule.as_bytes());
        for i in 1..300 {
            fs::hard_link(root.join("rules/000.yml"), root.join(format!("rules/{i:03}.yml"))).unwrap();
        }
        let mut walker = Walker::new(root, 4 * 1024 * 1024, u64::MAX).unwrap();
        let found = walker.candidates(&["rules/**/*.yml"]).unwrap();
        assert_eq!(found.len(), 300);
        assert_eq!(found[0].content.as_deref(), Ok(rule.as_str()));
        for later in &found[1..] {
            assert_eq!(later.content, Err(Unread::HardLinkToRead("rules/000.yml".into())), "{}", later.path);
        }
        assert_eq!(walker.bytes_read(), rule.len() as u64, "the content was read once");
    }

    #[test]
    fn a_source_stops_reading_at_its_total_limit_and_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for name in ["a", "b", "c", "d"] {
            write(root, &format!("rules/{name}.yml"), &[b'x'; 400]);
        }
        write(root, "rules/e.yml", b"small");
        let summary = outcomes(read_all(root, &["rules/*.yml"], 1024, 1000));
        let read: Vec<&str> = summary.iter().filter(|(_, c)| c.is_ok()).map(|(p, _)| p.as_str()).collect();
        assert_eq!(read, ["rules/a.yml", "rules/b.yml", "rules/e.yml"], "files that still fit are read");
        let refused = "reading this 400-byte file would pass the 1000-byte limit on a source's total \
                       (max_source_bytes); 800 bytes were read before it";
        assert_eq!(summary[2].1, Err(refused.to_string()));
        assert!(summary[3].1.as_ref().unwrap_err().contains("(max_source_bytes)"));
    }

    /// Opening a FIFO for reading blocks until something writes to it: a sync holding its lock
    /// would hang forever.
    #[test]
    fn a_fifo_named_like_a_rule_is_refused_without_opening_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "rules/a.yml", b"ok");
        let fifo = root.join("rules/pipe.yml");
        let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        std::os::unix::fs::symlink(&fifo, root.join("rules/to_pipe.yml")).unwrap();
        let summary = outcomes(read_all(root, &["rules/*.yml"], 1024, u64::MAX));
        assert_eq!(
            summary,
            vec![
                ("rules/a.yml".to_string(), Ok("ok".to_string())),
                ("rules/pipe.yml".to_string(), Err("not a regular file (a FIFO); not read".to_string())),
                ("rules/to_pipe.yml".to_string(), Err("not a regular file (a FIFO); not read".to_string())),
            ]
        );
    }

    #[test]
    fn nothing_under_git_is_read_directly_or_through_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "notes/a.md", b"ok");
        write(root, ".git/description.md", b"git's own file");
        write(root, ".git/hooks/readme.md", b"git's own file");
        std::os::unix::fs::symlink(root.join(".git/description.md"), root.join("notes/linked.md")).unwrap();
        std::os::unix::fs::symlink(root.join(".git"), root.join("linked-git")).unwrap();
        let summary = outcomes(read_all(root, &["*/**/*.md", "linked-git/**/*.md"], 1024, u64::MAX));
        assert_eq!(
            summary,
            vec![
                ("notes/a.md".to_string(), Ok("ok".to_string())),
                (
                    "notes/linked.md".to_string(),
                    Err("symbolic link into the repository's .git directory; not followed".to_string())
                ),
            ]
        );
    }

    #[test]
    fn text_files_outside_sources_are_read_with_a_cap_and_only_if_regular() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "small.toml", b"a = 1");
        assert_eq!(read_text_file(&dir.path().join("small.toml"), 10, "cap").as_deref(), Ok("a = 1"));
        assert_eq!(
            read_text_file(&dir.path().join("small.toml"), 3, "cap"),
            Err(Unread::TooLarge { size: 5, limit: 3, key: "cap" })
        );
        // /dev/zero never ends: it is refused before a single byte is read.
        assert_eq!(read_text_file(Path::new("/dev/zero"), 10, "cap"), Err(Unread::NotRegular("a device")));
        assert_eq!(read_text_file(dir.path(), 10, "cap"), Err(Unread::NotRegular("a directory")));
    }

    #[test]
    fn a_missing_root_is_an_error_naming_it() {
        let error = Walker::new(Path::new("/nonexistent/ruledex"), 10, 10).err().unwrap();
        assert_eq!(error.to_string(), "source root /nonexistent/ruledex does not exist or is not a directory");
    }
}

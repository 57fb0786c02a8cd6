//! `ruledex.toml`: which sources to read and where ATT&CK comes from.
//!
//! Precedence: built-in defaults (the official upstream repositories) < the config file <
//! `RULEDEX_*` environment variables < command-line flags. Loading has no side effects.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use ruledex_core::ingest::{DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_QUERY_BYTES, DEFAULT_MAX_SOURCE_BYTES, ReadLimits};
use ruledex_core::model::SourceKind;
use ruledex_core::sources::Format;
use serde::{Deserialize, Serialize};

/// The built-in configuration, also printed by `ruledex config defaults`.
pub const DEFAULTS: &str = include_str!("../defaults.toml");

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the catalog and fetched sources live.
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    pub attack: AttackConfig,
    pub sources: Vec<SourceConfig>,
    /// Where this configuration came from, for messages.
    #[serde(skip)]
    pub origin: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttackConfig {
    pub enterprise: Location,
    #[serde(default)]
    pub ics: Option<Location>,
    #[serde(default)]
    pub mobile: Option<Location>,
    /// The ATT&CK release the bundles are, shown beside technique names ("18.1").
    #[serde(default)]
    pub version: Option<String>,
}

/// A file on disk or a URL to download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Location {
    Path(PathBuf),
    Url(String),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// Unique; the `SOURCE` in `SOURCE/ID` and the value of `--source`.
    pub name: String,
    pub format: Format,
    pub kind: SourceKind,
    #[serde(default)]
    pub license: Option<String>,
    /// A local directory (a mirror or checkout).
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// A git repository URL to fetch.
    #[serde(default)]
    pub git: Option<String>,
    /// Branch, tag or commit of `git` (default: the remote's default branch).
    #[serde(default)]
    pub rev: Option<String>,
    /// Upstream repository URL for provenance links, when `path` is a mirror.
    #[serde(default)]
    pub repository: Option<String>,
    /// Upstream commit of a mirror without `.git`.
    #[serde(default)]
    pub commit: Option<String>,
    /// Larger rule files are refused.
    #[serde(default)]
    pub max_file_bytes: Option<u64>,
    /// What the source's files may add up to; files past it are refused.
    #[serde(default)]
    pub max_source_bytes: Option<u64>,
    /// Rules with a longer query are refused.
    #[serde(default)]
    pub max_query_bytes: Option<u64>,
    #[serde(default = "enabled")]
    pub enabled: bool,
}

fn enabled() -> bool {
    true
}

impl From<String> for Location {
    fn from(s: String) -> Location {
        if s.starts_with("https://") || s.starts_with("http://") { Location::Url(s) } else { Location::Path(s.into()) }
    }
}

impl From<Location> for String {
    fn from(l: Location) -> String {
        match l {
            Location::Path(p) => p.display().to_string(),
            Location::Url(u) => u,
        }
    }
}

impl Location {
    fn relative_to(self, base: &Path) -> Location {
        match self {
            Location::Path(p) => Location::Path(base.join(p)),
            url => url,
        }
    }
}

impl SourceConfig {
    /// What reading the source may cost: the configured limits, else the defaults.
    pub fn limits(&self) -> ReadLimits {
        ReadLimits {
            max_file_bytes: self.max_file_bytes.unwrap_or(DEFAULT_MAX_FILE_BYTES),
            max_source_bytes: self.max_source_bytes.unwrap_or(DEFAULT_MAX_SOURCE_BYTES),
            max_query_bytes: self.max_query_bytes.unwrap_or(DEFAULT_MAX_QUERY_BYTES),
        }
    }

    /// The repository URL provenance links point into.
    pub fn repository(&self) -> Option<&str> {
        self.repository.as_deref().or(self.git.as_deref())
    }
}

impl Config {
    pub fn builtin() -> Config {
        let mut config: Config = toml::from_str(DEFAULTS).expect("built-in defaults.toml is valid");
        config.origin = "built-in defaults (the official upstream repositories)".into();
        config
    }

    /// Reads a config file; relative paths in it are relative to the file.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config {}", path.display()))?;
        let mut config: Config =
            toml::from_str(&text).with_context(|| format!("config {} is not valid", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.resolve_paths(base);
        config.origin = path.display().to_string();
        config.validate().with_context(|| format!("config {} is not valid", path.display()))?;
        Ok(config)
    }

    /// The config named by `--config` or `RULEDEX_CONFIG`, else `./ruledex.toml` when present,
    /// else the built-in defaults.
    pub fn discover(explicit: Option<&Path>) -> Result<Config> {
        match explicit {
            Some(path) => Config::load(path),
            None if Path::new("ruledex.toml").is_file() => Config::load(Path::new("ruledex.toml")),
            None => Ok(Config::builtin()),
        }
    }

    fn resolve_paths(&mut self, base: &Path) {
        self.data_dir = self.data_dir.take().map(|d| base.join(d));
        self.attack.enterprise = self.attack.enterprise.clone().relative_to(base);
        self.attack.ics = self.attack.ics.take().map(|l| l.relative_to(base));
        self.attack.mobile = self.attack.mobile.take().map(|l| l.relative_to(base));
        for source in &mut self.sources {
            source.path = source.path.take().map(|p| base.join(p));
        }
    }

    fn validate(&self) -> Result<()> {
        let mut names = HashSet::new();
        for source in &self.sources {
            let name = &source.name;
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                bail!("source name {name:?} must be letters, digits, '-' or '_' (it is used in addresses and URLs)");
            }
            if !names.insert(name) {
                bail!("source name {name:?} is used twice");
            }
            match (&source.path, &source.git) {
                (Some(_), Some(_)) => bail!("source {name:?} has both `path` and `git`; give one"),
                (None, None) => bail!("source {name:?} needs a local `path` or a `git` URL"),
                _ => {}
            }
        }
        Ok(())
    }

    /// Where the catalog lives: `explicit` (a flag or `RULEDEX_DATA_DIR`), else the config's
    /// `data_dir`, else the user's data directory.
    pub fn data_dir(&self, explicit: Option<&Path>) -> Result<PathBuf> {
        explicit
            .map(Path::to_path_buf)
            .or_else(|| self.data_dir.clone())
            .or_else(|| dirs::data_dir().map(|d| d.join("ruledex")))
            .context("no data directory: pass --data-dir or set RULEDEX_DATA_DIR")
    }

    pub fn enabled_sources(&self) -> impl Iterator<Item = &SourceConfig> {
        self.sources.iter().filter(|s| s.enabled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_defaults_are_the_official_upstreams() {
        let config = Config::builtin();
        let gits: Vec<_> = config.sources.iter().map(|s| s.git.as_deref().unwrap()).collect();
        assert!(gits.contains(&"https://github.com/chronicle/detection-rules"));
        assert!(matches!(config.attack.enterprise, Location::Url(_)));
        config.validate().unwrap();
    }

    #[test]
    fn relative_paths_are_relative_to_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ruledex.toml");
        std::fs::write(
            &path,
            r#"
[attack]
enterprise = "attack/enterprise.json"
[[sources]]
name = "chronicle"
format = "chronicle"
kind = "vendor"
path = "mirrors/chronicle"
"#,
        )
        .unwrap();
        let config = Config::load(&path).unwrap();
        assert_eq!(config.sources[0].path.as_deref(), Some(dir.path().join("mirrors/chronicle").as_path()));
        assert_eq!(config.attack.enterprise, Location::Path(dir.path().join("attack/enterprise.json")));
    }

    #[test]
    fn mistakes_are_reported_with_the_file_and_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        let cases = [
            ("pth = \"x\"", "unknown field `pth`"),
            ("path = \"x\"\ngit = \"https://x\"", "has both `path` and `git`"),
            ("", "needs a local `path` or a `git` URL"),
        ];
        for (extra, expected) in cases {
            let text = format!(
                "[attack]\nenterprise = \"e.json\"\n[[sources]]\nname = \"s\"\nformat = \"chronicle\"\nkind = \"vendor\"\n{extra}\n"
            );
            std::fs::write(&path, text).unwrap();
            let message = format!("{:#}", Config::load(&path).unwrap_err());
            assert!(message.contains(&path.display().to_string()), "{message}");
            assert!(message.contains(expected), "{message}");
        }
        std::fs::write(&path, "[attack]\nenterprise = \"e\"\n[[sources]]\nname = \"s\"\nformat = \"cobol\"\nkind = \"vendor\"\npath = \"x\"\n").unwrap();
        assert!(format!("{:#}", Config::load(&path).unwrap_err()).contains("unknown variant `cobol`"));
    }
}

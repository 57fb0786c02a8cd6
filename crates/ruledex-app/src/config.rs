//! `ruledex.toml`: which sources to read and where ATT&CK comes from.
//!
//! Precedence: built-in defaults (the official upstream repositories) < the config file <
//! `RULEDEX_*` environment variables < command-line flags. Loading has no side effects.
//!
//! A config file may be hostile: `./ruledex.toml` is read automatically, so running ruledex in a
//! cloned repository reads that repository's. Loading therefore caps the file's size and
//! nesting, and refuses any git URL, revision or download URL that could make git or the
//! downloader do more than fetch (see [`crate::fetch`]). Serializing a config is for showing it
//! (`ruledex config show`): URLs lose their credentials.

use std::collections::HashSet;
use std::fmt;
use std::num::{NonZeroU64, NonZeroUsize};
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, Result, anyhow, bail};
use ruledex_core::attack::Domain;
use ruledex_core::fingerprint::short_hash;
use ruledex_core::ingest::{DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_QUERY_BYTES, DEFAULT_MAX_SOURCE_BYTES, ReadLimits};
use ruledex_core::model::SourceKind;
use ruledex_core::sources::{Format, util};
use ruledex_core::url::redact_credentials;
use ruledex_core::walk::read_text_file;
use serde::{Deserialize, Serialize, Serializer};

use crate::fetch::git;

/// How the built-in configuration is named in messages.
const BUILTIN_ORIGIN: &str = "built-in defaults (the official upstream repositories)";

/// The built-in configuration, also printed by `ruledex config defaults`.
pub const DEFAULTS: &str = include_str!("../defaults.toml");

/// Larger config files are refused: the built-in one is 2 KB, and reading `--config /dev/zero`
/// must end.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the catalog and fetched sources live.
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    pub attack: AttackConfig,
    /// How much change history the catalog keeps, and how long cards say "new".
    #[serde(default)]
    pub history: HistoryConfig,
    pub sources: Vec<SourceConfig>,
    /// How `ruledex serve` serves.
    #[serde(default)]
    pub serve: ServeConfig,
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
    /// Whether plain `http://` bundle URLs are accepted (an attacker on the path could serve
    /// anything).
    #[serde(default)]
    pub allow_http: bool,
    /// Larger downloads are refused.
    #[serde(default)]
    pub max_bundle_bytes: Option<u64>,
}

/// `[history]`: what the catalog remembers of past syncs. Both limits apply: a sync is dropped
/// from the history when it is more than `keep_syncs` syncs old or more than `keep_days` days old.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HistoryConfig {
    /// Syncs (that changed something) whose changes are kept.
    pub keep_syncs: u32,
    /// Days changes are kept.
    pub keep_days: u32,
    /// Days a detection is badged "new" or "updated" on the web catalog after it changed.
    pub badge_days: u32,
}

impl Default for HistoryConfig {
    fn default() -> HistoryConfig {
        HistoryConfig { keep_syncs: 100, keep_days: 365, badge_days: 14 }
    }
}

/// `[serve]`: what `ruledex serve` answers besides the web catalog and its JSON API.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    /// Answer MCP at `/mcp` (read-only tools), for AI assistants (`--mcp`).
    #[serde(default)]
    pub mcp: bool,
    /// `Host` names `/mcp` answers besides loopback ones: the names a team reaches a shared
    /// server by (`--mcp-host`). Requests naming another host are refused, so a web page cannot
    /// reach the server through DNS rebinding.
    #[serde(default)]
    pub mcp_hosts: Vec<String>,
    /// Where people reach the server (`--public-url`): Navigator layers downloaded from it link
    /// to its pages there. Never taken from a request's `Host`, which the client chooses.
    #[serde(default)]
    pub public_url: Option<PublicUrl>,
    /// Connections open at once, at most (kept below the open file limit in any case); unset,
    /// the server's default, as for the times below.
    #[serde(default)]
    pub max_connections: Option<NonZeroUsize>,
    /// Seconds a connection may take to send a request head, or wait for its next one.
    #[serde(default)]
    pub header_timeout_secs: Option<NonZeroU64>,
    /// Seconds a connection may go without a byte moving (a client that stopped reading); more
    /// than the 30 s a request may take.
    #[serde(default)]
    pub idle_timeout_secs: Option<NonZeroU64>,
    /// Seconds requests in flight may take to finish after SIGTERM before they are cut off.
    #[serde(default)]
    pub shutdown_grace_secs: Option<NonZeroU64>,
}

/// The http(s) address of a served ruledex (`https://ruledex.example.org`,
/// `http://10.0.0.5:8080/ruledex`), without a trailing `/`, so a page's path appended to it
/// gives that page. A config file may be hostile and the address lands in downloaded files, so
/// it is checked, not trusted: a host of letters, digits, `-` and `.` (or a bracketed IPv6
/// address), an optional port, a path of unreserved characters; no credentials, query or
/// fragment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PublicUrl(String);

impl PublicUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for PublicUrl {
    type Err = String;

    fn from_str(text: &str) -> Result<PublicUrl, String> {
        let problem = |why: &str| Err(format!("{:?} is not a public URL: {why}", redact_credentials(text)));
        let lower = text.to_ascii_lowercase();
        let Some(rest) = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://")) else {
            return problem("it must start with http:// or https://");
        };
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if authority.contains('@') {
            return problem("it may not hold a user name or password (every downloaded layer would carry them)");
        }
        let name = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.';
        let ipv6 = |h: &str| {
            let inside = h.strip_prefix('[').and_then(|h| h.strip_suffix(']'));
            inside.is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit() || c == ':'))
        };
        let valid_host = |host: &str| !host.is_empty() && (host.chars().all(name) || ipv6(host));
        let Some((_, port)) = host_and_port(authority).filter(|(host, _)| valid_host(host)) else {
            return problem("its host must be a name or an IP address, with an optional :port");
        };
        if port.is_some_and(|p| p.parse::<u16>().is_err()) {
            return problem("its port must be a number up to 65535");
        }
        if !path.chars().all(|c| c.is_ascii_alphanumeric() || "-._~/%".contains(c)) {
            return problem("its path may hold only letters, digits and -._~/% (no query or fragment)");
        }
        Ok(PublicUrl(text.trim_end_matches('/').to_string()))
    }
}

/// The host and port of `example.org:8080`, `[::1]:8080` or `example.org`, or `None` when
/// something follows the host that is not a port.
fn host_and_port(authority: &str) -> Option<(&str, Option<&str>)> {
    let host_end = match authority.strip_prefix('[') {
        Some(_) => authority.find(']').map_or(authority.len(), |i| i + 1),
        None => authority.find(':').unwrap_or(authority.len()),
    };
    let (host, rest) = authority.split_at(host_end);
    match rest {
        "" => Some((host, None)),
        _ => rest.strip_prefix(':').map(|port| (host, Some(port))),
    }
}

impl TryFrom<String> for PublicUrl {
    type Error = String;
    fn try_from(text: String) -> Result<PublicUrl, String> {
        text.parse()
    }
}

impl From<PublicUrl> for String {
    fn from(url: PublicUrl) -> String {
        url.0
    }
}

/// A file on disk or a URL to download. Shown (and serialized) without URL credentials.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "String")]
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
    /// A git repository URL to fetch: https://, ssh://, user@host:path or file://.
    #[serde(default, serialize_with = "redacted")]
    pub git: Option<String>,
    /// Branch, tag or commit of `git` (default: the remote's default branch).
    #[serde(default)]
    pub rev: Option<String>,
    /// Upstream repository URL for provenance links, when `path` is a mirror.
    #[serde(default, serialize_with = "redacted")]
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
    /// Whether `git` may be a plain `http://` URL.
    #[serde(default)]
    pub allow_http: bool,
    #[serde(default = "enabled")]
    pub enabled: bool,
}

fn enabled() -> bool {
    true
}

fn redacted<S: Serializer>(url: &Option<String>, serializer: S) -> Result<S::Ok, S::Error> {
    match url {
        Some(url) => serializer.serialize_some(&redact_credentials(url)),
        None => serializer.serialize_none(),
    }
}

impl From<String> for Location {
    fn from(s: String) -> Location {
        if s.starts_with("https://") || s.starts_with("http://") { Location::Url(s) } else { Location::Path(s.into()) }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Path(path) => write!(f, "{}", path.display()),
            Location::Url(url) => f.write_str(&redact_credentials(url)),
        }
    }
}

impl Serialize for Location {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl Location {
    fn relative_to(self, base: &Path) -> Location {
        match self {
            Location::Path(p) => Location::Path(normalised(&base.join(p))),
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

    /// The repository URL provenance links point into, without credentials: it is shown on
    /// pages and in the API.
    pub fn repository(&self) -> Option<String> {
        self.repository.as_deref().or(self.git.as_deref()).map(|url| redact_credentials(url).into_owned())
    }

    /// Refuses a `git` URL or `rev` that git could take for an option or a command.
    fn validate_git(&self) -> Result<()> {
        let name = &self.name;
        if let Some(url) = &self.git {
            git::Remote::parse(url, self.allow_http)
                .map_err(|reason| anyhow!("source {name:?}: `git` {:?} {reason}", redact_credentials(url)))?;
        }
        if let Some(rev) = &self.rev {
            git::check_rev(rev).map_err(|reason| anyhow!("source {name:?}: `rev` {rev:?} {reason}"))?;
        }
        Ok(())
    }
}

impl AttackConfig {
    pub fn max_bundle_bytes(&self) -> u64 {
        self.max_bundle_bytes.unwrap_or(DEFAULT_MAX_BUNDLE_BYTES)
    }

    /// The configured bundles, enterprise first, each with its domain and its key.
    pub fn bundles(&self) -> impl Iterator<Item = (Domain, &'static str, &Location)> {
        let optional = [(Domain::Ics, "ics", &self.ics), (Domain::Mobile, "mobile", &self.mobile)];
        std::iter::once((Domain::Enterprise, "enterprise", &self.enterprise))
            .chain(optional.into_iter().filter_map(|(domain, key, location)| Some((domain, key, location.as_ref()?))))
    }

    fn validate(&self) -> Result<()> {
        for (_, key, location) in self.bundles() {
            if let Location::Url(url) = location {
                check_attack_url(url, self.allow_http)
                    .map_err(|reason| anyhow!("[attack] `{key}` {:?} {reason}", location.to_string()))?;
            }
        }
        Ok(())
    }
}

impl Config {
    pub fn builtin() -> Config {
        let mut config: Config = toml::from_str(DEFAULTS).expect("built-in defaults.toml is valid");
        config.origin = BUILTIN_ORIGIN.into();
        config
    }

    /// Reads a config file; relative paths in it are relative to the file.
    pub fn load(path: &Path) -> Result<Config> {
        let text = read_text_file(path, MAX_CONFIG_BYTES, "configuration files")
            .with_context(|| format!("cannot read config {}", path.display()))?;
        let mut config: Config =
            util::toml(&text).map_err(|e| anyhow!("config {} is not valid: {e}", path.display()))?;
        // Paths in the file are relative to it, and shown and used normalised: one file is one
        // configuration (and one catalog) whatever it was named by.
        let path = normalised(path);
        config.resolve_paths(path.parent().unwrap_or(Path::new("/")));
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
        self.data_dir = self.data_dir.take().map(|d| normalised(&base.join(d)));
        self.attack.enterprise = self.attack.enterprise.clone().relative_to(base);
        self.attack.ics = self.attack.ics.take().map(|l| l.relative_to(base));
        self.attack.mobile = self.attack.mobile.take().map(|l| l.relative_to(base));
        for source in &mut self.sources {
            source.path = source.path.take().map(|p| normalised(&base.join(p)));
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
            source.validate_git()?;
        }
        if self.history.keep_syncs == 0 || self.history.keep_days == 0 {
            bail!("[history] `keep_syncs` and `keep_days` must be at least 1");
        }
        self.attack.validate()
    }

    /// Where the catalog lives: `explicit` (a flag or `RULEDEX_DATA_DIR`), else the config's
    /// `data_dir`, else a folder of this configuration's own in the user's data directory, so
    /// two configurations never share a catalog without saying so.
    pub fn data_dir(&self, explicit: Option<&Path>) -> Result<PathBuf> {
        explicit
            .map(normalised)
            .or_else(|| self.data_dir.clone())
            .or_else(|| catalogs_home().map(|home| home.join(catalog_folder(&self.origin))))
            .context("no data directory: pass --data-dir or set RULEDEX_DATA_DIR")
    }

    /// Whether syncing this configuration needs the network (a git source or an ATT&CK URL).
    pub fn fetches(&self) -> bool {
        self.enabled_sources().any(|s| s.git.is_some())
            || self.attack.bundles().any(|(_, _, location)| matches!(location, Location::Url(_)))
    }

    /// What to do when a sync of this configuration could not reach its upstreams: read local
    /// mirrors instead (`command` spelled the way this ruledex was run). None when the
    /// configuration reads local copies already.
    pub fn offline_hint(&self, command: &str) -> Option<String> {
        self.fetches().then(|| {
            format!(
                "offline, read the local mirrors instead (see examples/local-mirrors.toml):\n    {}",
                local_mirrors_command(command)
            )
        })
    }

    pub fn enabled_sources(&self) -> impl Iterator<Item = &SourceConfig> {
        self.sources.iter().filter(|s| s.enabled)
    }
}

/// Where each configuration's catalog has a folder of its own, unless told otherwise: the
/// user's data directory (`~/.local/share/ruledex`).
pub fn catalogs_home() -> Option<PathBuf> {
    dirs::data_dir().map(|dir| dir.join("ruledex"))
}

/// The folder under [`catalogs_home`] of the configuration from `origin`: `default` for the
/// built-in one, else the file's name and a hash of its normalised path (`local-mirrors-3f2a9c1e`).
pub fn catalog_folder(origin: &str) -> String {
    if origin == BUILTIN_ORIGIN {
        return "default".into();
    }
    let stem = Path::new(origin).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let stem: String = stem.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    format!("{stem}-{}", short_hash(origin))
}

/// Whether `origin` names the built-in configuration.
pub fn is_builtin(origin: &str) -> bool {
    origin == BUILTIN_ORIGIN
}

/// `ruledex --config examples/local-mirrors.toml COMMAND`, spelled the way this process was
/// started: through cargo from a checkout, or as an installed `ruledex`.
pub fn local_mirrors_command(command: &str) -> String {
    let exe = std::env::current_exe().unwrap_or_default();
    // Cargo's target folder (whatever its name or place) holds its `.rustc_info.json`.
    let from_checkout = exe.ancestors().skip(1).take(3).any(|dir| dir.join(".rustc_info.json").is_file());
    if from_checkout {
        format!("cargo run --release -- --config examples/local-mirrors.toml {command}")
    } else {
        let name = exe.file_name().map_or("ruledex".into(), |n| n.to_string_lossy().into_owned());
        format!("{name} --config examples/local-mirrors.toml {command}   (from a checkout of ruledex)")
    }
}

/// `path` absolute, with symbolic links and `..` resolved in that order (`a/link/..` is the
/// folder holding the link's target, as the system reads it), so one file has one name in
/// messages and one catalog folder. What does not exist yet is kept as written, without `..`.
pub fn normalised(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    if let Ok(canonical) = std::fs::canonicalize(&absolute) {
        return canonical;
    }
    let mut resolved = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::ParentDir => {
                resolved.pop();
            }
            Component::CurDir => {}
            Component::Normal(name) => {
                resolved.push(name);
                if let Ok(canonical) = std::fs::canonicalize(&resolved) {
                    resolved = canonical;
                }
            }
            root => resolved.push(root),
        }
    }
    resolved
}

/// Larger downloads are refused unless `max_bundle_bytes` says otherwise. The enterprise
/// bundle of ATT&CK 18.1, the largest, is 33 MB.
pub const DEFAULT_MAX_BUNDLE_BYTES: u64 = 128 * 1024 * 1024;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("uses plain http://; use https://, or set `allow_http = true` in [attack]")]
pub struct PlainHttp;

/// Plain http is refused unless allowed: anyone on the path could serve a different ATT&CK.
pub fn check_attack_url(url: &str, allow_http: bool) -> Result<(), PlainHttp> {
    let plain = url.get(..7).is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"));
    if plain && !allow_http { Err(PlainHttp) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 10: two configurations shared one catalog without saying so.
    #[test]
    fn each_configuration_has_a_catalog_folder_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, "[attack]\nenterprise = \"e.json\"\n[[sources]]\nname = \"s\"\nformat = \"chronicle\"\nkind = \"vendor\"\npath = \"x\"\n").unwrap();
            Config::load(&path).unwrap()
        };
        let (a, b) = (write("a.toml"), write("b.toml"));
        let (dir_a, dir_b, builtin) =
            (a.data_dir(None).unwrap(), b.data_dir(None).unwrap(), Config::builtin().data_dir(None).unwrap());
        assert_ne!(dir_a, dir_b);
        assert_eq!(builtin.file_name().unwrap(), "default");
        assert!(dir_a.file_name().unwrap().to_string_lossy().starts_with("a-"), "{}", dir_a.display());
        assert_eq!(a.data_dir(None).unwrap(), dir_a, "stable");
        assert_eq!(a.data_dir(Some(Path::new("/x"))).unwrap(), Path::new("/x"), "a flag wins");
    }

    #[test]
    fn paths_are_absolute_whatever_the_config_was_named_by() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.toml");
        std::fs::write(&path, "[attack]\nenterprise = \"e.json\"\n[[sources]]\nname = \"s\"\nformat = \"chronicle\"\nkind = \"vendor\"\npath = \"../x\"\n").unwrap();
        let relative = pathdiff(&path);
        let config = Config::load(&relative).unwrap();
        let source = config.sources[0].path.as_deref().unwrap();
        assert!(source.is_absolute(), "{}", source.display());
        assert!(Path::new(&config.origin).is_absolute(), "{}", config.origin);
    }

    /// Issue 22: the same file reached through `..` or a symbolic link got another catalog,
    /// and paths were shown as `.../examples/../../shared/...`.
    #[test]
    fn one_file_is_one_configuration_whatever_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = normalised(dir.path());
        std::fs::create_dir_all(root.join("checkout/examples")).unwrap();
        std::fs::create_dir_all(root.join("shared/corpus")).unwrap();
        let text = "data_dir = \"../catalog\"\n[attack]\nenterprise = \"../../shared/e.json\"\n[[sources]]\nname = \"s\"\n\
                    format = \"chronicle\"\nkind = \"vendor\"\npath = \"../../shared/corpus/./x\"\n";
        std::fs::write(root.join("checkout/examples/m.toml"), text).unwrap();
        std::os::unix::fs::symlink(root.join("checkout/examples"), root.join("link")).unwrap();
        let names = [
            "checkout/examples/m.toml",
            "checkout/examples/../examples/m.toml",
            "link/m.toml",
            "link/../examples/m.toml",
        ];
        let configs: Vec<Config> = names.iter().map(|name| Config::load(&root.join(name)).unwrap()).collect();
        let mut without_data_dir = configs.clone();
        for config in &mut without_data_dir {
            config.data_dir = None;
        }
        for (name, (config, bare)) in names.iter().zip(configs.iter().zip(&without_data_dir)) {
            assert_eq!(config.origin, root.join("checkout/examples/m.toml").display().to_string(), "{name}");
            assert_eq!(bare.data_dir(None).unwrap(), without_data_dir[0].data_dir(None).unwrap(), "{name}");
            assert_eq!(config.data_dir(None).unwrap(), root.join("checkout/catalog"), "{name}: not created yet");
            assert_eq!(config.attack.enterprise, Location::Path(root.join("shared/e.json")), "{name}");
            assert_eq!(config.sources[0].path.as_deref(), Some(root.join("shared/corpus/x").as_path()), "{name}");
        }
        let flag = root.join("link/../shared/./data");
        assert_eq!(configs[0].data_dir(Some(&flag)).unwrap(), root.join("checkout/shared/data"), "the link, then ..");
    }

    /// `path` relative to the current directory.
    fn pathdiff(path: &Path) -> PathBuf {
        let cwd = std::env::current_dir().unwrap();
        let ups = cwd.components().count() - 1;
        let mut relative: PathBuf = std::iter::repeat_n("..", ups).collect();
        relative.push(path.strip_prefix("/").unwrap());
        relative
    }

    #[test]
    fn builtin_defaults_are_the_official_upstreams() {
        let config = Config::builtin();
        let gits: Vec<_> = config.sources.iter().map(|s| s.git.as_deref().unwrap()).collect();
        assert!(gits.contains(&"https://github.com/chronicle/detection-rules"));
        let upstream =
            |format: Format| config.sources.iter().find(|s| s.format == format).and_then(|s| s.git.as_deref());
        assert!(Format::ALL.iter().all(|format| upstream(*format).is_some()), "a default source for every format");
        assert_eq!(upstream(Format::ElasticEndpoint), Some("https://github.com/elastic/protections-artifacts"));
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

    /// Writes a config with one git source and the given extra lines; returns its load error.
    fn load_error(dir: &Path, attack: &str, source: &str) -> String {
        let path = dir.join("ruledex.toml");
        let text = format!(
            "[attack]\n{attack}\n[[sources]]\nname = \"chronicle\"\nformat = \"chronicle\"\nkind = \"vendor\"\n{source}\n"
        );
        std::fs::write(&path, text).unwrap();
        let message = format!("{:#}", Config::load(&path).unwrap_err());
        assert!(message.starts_with(&format!("config {} is not valid: ", path.display())), "{message}");
        message
    }

    /// The review's attack: `rev` (or `git`) reached git as an option. Refused at load, naming
    /// the file, the source and the field.
    #[test]
    fn git_values_that_git_could_run_are_refused_at_load() {
        let dir = tempfile::tempdir().unwrap();
        let attack = "enterprise = \"e.json\"";
        let cases = [
            (
                "git = \"file:///srv/rules\"\nrev = \"--upload-pack=touch /tmp/x;\"",
                "source \"chronicle\": `rev` \"--upload-pack=touch /tmp/x;\" starts with '-', which git would read as an option",
            ),
            (
                "git = \"--upload-pack=touch /tmp/x;\"",
                "source \"chronicle\": `git` \"--upload-pack=touch /tmp/x;\" starts with '-'",
            ),
            (
                "git = \"ext::sh -c touch% /tmp/x\"",
                "`git` \"ext::sh -c touch% /tmp/x\" names the git remote helper `ext::`",
            ),
            ("git = \"fd::7\"", "names the git remote helper `fd::`"),
            ("git = \"http://user:s3cret@example.org/r.git\"", "`git` \"http://example.org/r.git\" uses plain http://"),
            ("git = \"https://example.org/r.git\"\nrev = \"main two\"", "`rev` \"main two\" contains whitespace"),
        ];
        for (source, expected) in cases {
            let message = load_error(dir.path(), attack, source);
            assert!(message.contains(expected), "{message}");
            assert!(!message.contains("s3cret"), "{message}");
        }
        let allowed = dir.path().join("allowed.toml");
        std::fs::write(
            &allowed,
            "[attack]\nenterprise = \"e.json\"\n[[sources]]\nname = \"s\"\nformat = \"sigma\"\nkind = \"community\"\n\
             git = \"http://mirror.internal/sigma.git\"\nallow_http = true\n",
        )
        .unwrap();
        Config::load(&allowed).unwrap();
    }

    #[test]
    fn attack_urls_must_be_https_unless_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let source = "path = \"rules\"";
        let message = load_error(dir.path(), "enterprise = \"e.json\"\nmobile = \"http://mirror/m.json\"", source);
        assert!(message.ends_with("[attack] `mobile` \"http://mirror/m.json\" uses plain http://; use https://, or set `allow_http = true` in [attack]"), "{message}");
        let path = dir.path().join("ruledex.toml");
        std::fs::write(&path, format!("[attack]\nenterprise = \"http://mirror/e.json\"\nallow_http = true\n[[sources]]\nname = \"s\"\nformat = \"sigma\"\nkind = \"community\"\n{source}\n")).unwrap();
        Config::load(&path).unwrap();
    }

    /// `[serve] public_url` lands in every downloaded layer's links: anything but a plain
    /// http(s) address is refused at load, naming the field.
    #[test]
    fn public_urls_are_plain_http_addresses() {
        for good in
            ["https://ruledex.example.org/", "http://10.0.0.5:8080/ruledex", "http://[::1]:8080", "HTTPS://R.example"]
        {
            let url: PublicUrl = good.parse().unwrap_or_else(|e| panic!("{good}: {e}"));
            assert!(!url.as_str().ends_with('/'), "{good}");
        }
        let cases = [
            ("--upload-pack=x", "must start with http:// or https://"),
            ("javascript:alert(1)", "must start with http:// or https://"),
            ("ftp://example.org", "must start with http:// or https://"),
            ("https://", "its host"),
            (
                "https://bob:s3cret@example.org",
                "\"https://example.org\" is not a public URL: it may not hold a user name",
            ),
            ("https://exa mple.org", "its host"),
            ("https://example.org:80x", "its port"),
            ("https://example.org:99999", "its port"),
            ("https://example.org/a?b=1", "no query"),
            ("https://example.org/#top", "no query"),
            ("https://example.org/\"><script>", "its path"),
        ];
        for (bad, expected) in cases {
            let message = bad.parse::<PublicUrl>().unwrap_err();
            assert!(message.contains(expected) && !message.contains("s3cret"), "{bad}: {message}");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ruledex.toml");
        let config = |url: &str| {
            format!(
                "[attack]\nenterprise = \"e.json\"\n[serve]\npublic_url = \"{url}\"\n[[sources]]\nname = \"s\"\nformat = \"sigma\"\nkind = \"community\"\npath = \"x\"\n"
            )
        };
        std::fs::write(&path, config("javascript:alert(1)")).unwrap();
        let message = format!("{:#}", Config::load(&path).unwrap_err());
        assert!(message.contains("line 4") && message.contains("is not a public URL"), "{message}");
        std::fs::write(&path, config("https://ruledex.example.org/")).unwrap();
        let loaded = Config::load(&path).unwrap();
        assert_eq!(loaded.serve.public_url.map(String::from).as_deref(), Some("https://ruledex.example.org"));
    }

    #[test]
    fn config_files_are_read_with_a_size_cap_and_only_if_regular() {
        let message = format!("{:#}", Config::load(Path::new("/dev/zero")).unwrap_err());
        assert_eq!(message, "cannot read config /dev/zero: not a regular file (a device); not read");
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.toml");
        std::fs::write(&big, format!("# {}\n", "x".repeat(2 * 1024 * 1024))).unwrap();
        let message = format!("{:#}", Config::load(&big).unwrap_err());
        assert!(message.ends_with("over the 1048576-byte limit (configuration files)"), "{message}");
    }

    #[test]
    fn a_deeply_nested_config_is_refused_before_parsing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ruledex.toml");
        std::fs::write(&path, format!("[attack]\nenterprise = \"e.json\"\n{} = 1\n", vec!["a"; 300_000].join(".")))
            .unwrap();
        let message = format!("{:#}", Config::load(&path).unwrap_err());
        assert!(
            message.ends_with("line 3: TOML nested deeper than 64 levels (tables, arrays and dotted keys)"),
            "{message}"
        );
    }

    /// `config show` prints the config serialized: URLs there, and in provenance, hold no
    /// credentials.
    #[test]
    fn shown_configs_and_provenance_hold_no_credentials() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ruledex.toml");
        std::fs::write(
            &path,
            "[attack]\nenterprise = \"https://bob:s3cret@attack.example/e.json\"\n[[sources]]\nname = \"s\"\n\
             format = \"chronicle\"\nkind = \"vendor\"\ngit = \"https://alice:s3cret@github.com/org/rules\"\n",
        )
        .unwrap();
        let config = Config::load(&path).unwrap();
        assert_eq!(config.sources[0].git.as_deref(), Some("https://alice:s3cret@github.com/org/rules"), "git needs it");
        assert_eq!(config.sources[0].repository().as_deref(), Some("https://github.com/org/rules"));
        let shown = toml::to_string_pretty(&config).unwrap();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("enterprise = \"https://attack.example/e.json\""), "{shown}");
        assert!(shown.contains("git = \"https://github.com/org/rules\""), "{shown}");
    }
}

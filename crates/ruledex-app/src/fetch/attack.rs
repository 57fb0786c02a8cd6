//! ATT&CK bundles: a path, or a URL whose download is cached in `<data_dir>/attack/` under a
//! name derived from the whole URL (switching URLs never reuses another URL's data) and checked
//! for changes on every sync with a conditional request (ETag, Last-Modified), so a URL that
//! always holds the latest release is followed.
//!
//! A download replaces the cached copy only when it is complete, within `max_bundle_bytes` and
//! an ATT&CK bundle with techniques. When it is not, or the server cannot be reached, the
//! previous copy is used and a warning says why; without a previous copy the sync fails and
//! the previous catalog stays.

use std::fs;
use std::hash::Hasher;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use ruledex_core::attack::{AttackCatalog, Domain};
use ruledex_core::owner_only;
use ruledex_core::url::redact_credentials;
use ruledex_core::walk::read_text_file;
use serde::{Deserialize, Serialize};

use crate::config::{AttackConfig, Location, check_attack_url};

/// A local ATT&CK bundle ready to load.
#[derive(Debug)]
pub struct Bundle {
    pub path: PathBuf,
    /// Set when the download could not be refreshed and the previous copy is used.
    pub warning: Option<String>,
}

/// Why a bundle URL is refused; completes "`[attack]` `enterprise` URL ...".
/// A local copy of the bundle at `location` for `domain`: the path itself, or the URL's
/// download, refreshed when it changed upstream.
pub fn attack_bundle(location: &Location, domain: Domain, config: &AttackConfig, data_dir: &Path) -> Result<Bundle> {
    match location {
        Location::Path(path) if path.is_file() => Ok(Bundle { path: path.clone(), warning: None }),
        Location::Path(path) => bail!("ATT&CK bundle {} does not exist", path.display()),
        Location::Url(url) => cached_download(url, domain, config, data_dir),
    }
}

fn cached_download(url: &str, domain: Domain, config: &AttackConfig, data_dir: &Path) -> Result<Bundle> {
    let shown = redact_credentials(url);
    check_attack_url(url, config.allow_http).map_err(|e| anyhow!("ATT&CK bundle {shown} {e}"))?;
    let cache = Cache::new(data_dir, url);
    let previous = cache.previous(&shown);
    match refresh(url, domain, config, &cache, previous.as_ref()) {
        Ok(()) => Ok(Bundle { path: cache.bundle, warning: None }),
        Err(error) => {
            let reason = redact_credentials(&format!("{error:#}")).into_owned();
            match previous {
                Some(previous) => Ok(Bundle {
                    path: cache.bundle,
                    warning: Some(format!(
                        "cannot refresh ATT&CK bundle {shown}: {reason}; using the copy downloaded at {}",
                        previous.downloaded_at
                    )),
                }),
                None => bail!("cannot download ATT&CK bundle {shown}: {reason}"),
            }
        }
    }
}

/// Asks for the bundle, conditionally when a copy is cached, and stores a changed one.
fn refresh(
    url: &str,
    domain: Domain,
    config: &AttackConfig,
    cache: &Cache,
    previous: Option<&CacheMeta>,
) -> Result<()> {
    let agent = ureq::Agent::config_builder()
        .https_only(!config.allow_http)
        .timeout_connect(Some(Duration::from_secs(20)))
        .timeout_global(Some(Duration::from_secs(600)))
        .build()
        .new_agent();
    let mut request = agent.get(url);
    if let Some(previous) = previous {
        if let Some(etag) = &previous.etag {
            request = request.header("If-None-Match", etag);
        }
        if let Some(date) = &previous.last_modified {
            request = request.header("If-Modified-Since", date);
        }
    }
    let response = request.call()?;
    match response.status().as_u16() {
        304 if previous.is_some() => return Ok(()),
        200 => {}
        status => bail!("the server answered HTTP {status}"),
    }
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(String::from);
    let meta = CacheMeta {
        url: redact_credentials(url).into_owned(),
        etag: header("etag"),
        last_modified: header("last-modified"),
        downloaded_at: jiff::Timestamp::now().to_string(),
    };
    let stored = cache
        .download(response.into_body(), config.max_bundle_bytes())
        .and_then(|()| check_bundle(domain, &cache.partial))
        .and_then(|()| cache.commit(&meta));
    if stored.is_err() {
        // Best effort: a leftover is overwritten by the next download anyway.
        let _ = fs::remove_file(&cache.partial);
    }
    stored
}

/// A download is kept only if it is an ATT&CK bundle with techniques: a valid but empty bundle
/// would otherwise empty the catalog (the catalog refuses such a bundle).
fn check_bundle(domain: Domain, path: &Path) -> Result<()> {
    let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    AttackCatalog::default().add_bundle(domain, &bytes).map_err(|e| anyhow!("the download {e}"))
}

/// Where one URL's download lives: `<name>-<hash of the URL>.json`, its metadata beside it.
struct Cache {
    bundle: PathBuf,
    meta: PathBuf,
    partial: PathBuf,
}

/// What was downloaded from where, and what the server said identifies that version.
#[derive(Debug, Serialize, Deserialize)]
struct CacheMeta {
    /// Without credentials; the file name's hash covers the whole URL.
    url: String,
    etag: Option<String>,
    last_modified: Option<String>,
    downloaded_at: String,
}

/// Metadata files are a few hundred bytes; a larger one is not ours.
const MAX_META_BYTES: u64 = 64 * 1024;

impl Cache {
    fn new(data_dir: &Path, url: &str) -> Cache {
        let mut hasher = fnv::FnvHasher::default();
        hasher.write(url.as_bytes());
        let stem = format!("{}-{:016x}", readable_name(url), hasher.finish());
        let dir = data_dir.join("attack");
        Cache {
            bundle: dir.join(format!("{stem}.json")),
            meta: dir.join(format!("{stem}.meta.json")),
            partial: dir.join(format!("{stem}.part")),
        }
    }

    /// The metadata of an earlier download of `shown_url`, if its bundle is still there.
    fn previous(&self, shown_url: &str) -> Option<CacheMeta> {
        let text = read_text_file(&self.meta, MAX_META_BYTES, "ATT&CK cache metadata").ok()?;
        let meta: CacheMeta = serde_json::from_str(&text).ok()?;
        (meta.url == shown_url && self.bundle.is_file()).then_some(meta)
    }

    /// Streams the body into the partial file, refusing it past `max_bytes`. A body cut short of
    /// its Content-Length is an error of the reader.
    fn download(&self, body: ureq::Body, max_bytes: u64) -> Result<()> {
        let dir = self.partial.parent().unwrap_or(Path::new("."));
        owner_only::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut file =
            owner_only::create(&self.partial).with_context(|| format!("cannot write {}", self.partial.display()))?;
        let mut reader = io::Read::take(body.into_reader(), max_bytes.saturating_add(1));
        let copied = io::copy(&mut reader, &mut file).context("the download broke off")?;
        if copied > max_bytes {
            bail!("the download is over the {max_bytes}-byte limit (max_bundle_bytes in [attack])");
        }
        file.sync_all().with_context(|| format!("cannot write {}", self.partial.display()))?;
        Ok(())
    }

    /// Moves a checked download into place, then records where it came from.
    fn commit(&self, meta: &CacheMeta) -> Result<()> {
        fs::rename(&self.partial, &self.bundle).with_context(|| format!("cannot write {}", self.bundle.display()))?;
        let json = serde_json::to_string_pretty(meta)?;
        let partial_meta = self.meta.with_extension("part");
        owner_only::write(&partial_meta, json.as_bytes())
            .with_context(|| format!("cannot write {}", partial_meta.display()))?;
        fs::rename(&partial_meta, &self.meta).with_context(|| format!("cannot write {}", self.meta.display()))
    }
}

/// The URL's file name without extension, reduced to characters safe in any file name, so the
/// cache stays readable (`enterprise-attack-1f2e...json`).
fn readable_name(url: &str) -> String {
    let last = url.split(['?', '#']).next().unwrap_or_default().rsplit('/').next().unwrap_or_default();
    let stem = last.strip_suffix(".json").unwrap_or(last);
    let safe: String = stem
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(64)
        .collect::<String>()
        .trim_start_matches('.')
        .to_string();
    if safe.is_empty() { "bundle".to_string() } else { safe }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{MINI_BUNDLE, Server, ok, response};

    fn config(allow_http: bool, max_bundle_bytes: Option<u64>) -> AttackConfig {
        AttackConfig {
            enterprise: Location::Path("unused".into()),
            ics: None,
            mobile: None,
            version: None,
            allow_http,
            max_bundle_bytes,
        }
    }

    fn fetch(url: &str, config: &AttackConfig, data_dir: &Path) -> Result<Bundle> {
        attack_bundle(&Location::Url(url.into()), Domain::Enterprise, config, data_dir)
    }

    /// The fixture bundle with one technique renamed, as a new upstream release.
    fn changed_bundle() -> String {
        MINI_BUNDLE.replace("\"Multi-hop Proxy\"", "\"Multi-hop Proxy (v2)\"")
    }

    #[test]
    fn plain_http_is_refused_unless_allowed() {
        let data = tempfile::tempdir().unwrap();
        let server = Server::start(vec![ok("\"v1\"", MINI_BUNDLE.as_bytes())]);
        let url = server.url("/enterprise-attack.json");
        let refused = fetch(&url, &config(false, None), data.path()).unwrap_err();
        assert_eq!(
            refused.to_string(),
            format!("ATT&CK bundle {url} uses plain http://; use https://, or set `allow_http = true` in [attack]")
        );
        assert!(server.requests().is_empty(), "nothing was asked of the server");
        let bundle = fetch(&url, &config(true, None), data.path()).unwrap();
        assert_eq!(fs::read_to_string(bundle.path).unwrap(), MINI_BUNDLE);
    }

    #[test]
    fn a_bundle_is_downloaded_again_only_when_it_changed_upstream() {
        let data = tempfile::tempdir().unwrap();
        let changed = changed_bundle();
        let server = Server::start(vec![
            ok("\"v1\"", MINI_BUNDLE.as_bytes()),
            response("304 Not Modified", &[("ETag", "\"v1\"")], b""),
            ok("\"v2\"", changed.as_bytes()),
        ]);
        let url = server.url("/enterprise-attack.json");
        let config = config(true, None);
        let first = fetch(&url, &config, data.path()).unwrap();
        let second = fetch(&url, &config, data.path()).unwrap();
        assert_eq!((second.path.as_path(), &second.warning), (first.path.as_path(), &None));
        assert_eq!(fs::read_to_string(&second.path).unwrap(), MINI_BUNDLE, "304: the cached copy is used");
        let third = fetch(&url, &config, data.path()).unwrap();
        assert_eq!(fs::read_to_string(&third.path).unwrap(), changed, "a new ETag: downloaded again");
        let requests = server.finish();
        assert!(!requests[0].contains("if-none-match"), "{}", requests[0]);
        assert!(requests[1].contains("if-none-match: \"v1\"\r\n"), "{}", requests[1]);
        assert!(requests[2].contains("if-none-match: \"v1\"\r\n"), "{}", requests[2]);
    }

    #[test]
    fn last_modified_is_sent_back_as_if_modified_since() {
        let data = tempfile::tempdir().unwrap();
        let date = "Wed, 21 Oct 2025 07:28:00 GMT";
        let server = Server::start(vec![
            response("200 OK", &[("Last-Modified", date)], MINI_BUNDLE.as_bytes()),
            response("304 Not Modified", &[], b""),
        ]);
        let url = server.url("/enterprise-attack.json");
        fetch(&url, &config(true, None), data.path()).unwrap();
        let bundle = fetch(&url, &config(true, None), data.path()).unwrap();
        assert_eq!(fs::read_to_string(bundle.path).unwrap(), MINI_BUNDLE);
        assert!(server.finish()[1].contains(&format!("if-modified-since: {}\r\n", date.to_ascii_lowercase())));
    }

    /// Every way a refresh can go wrong keeps the previous copy, and the warning says why.
    #[test]
    fn a_bad_download_keeps_the_previous_copy_and_says_why() {
        let data = tempfile::tempdir().unwrap();
        let limit = MINI_BUNDLE.len() as u64 + 100;
        let oversized = format!("{MINI_BUNDLE}{}", " ".repeat(200));
        let mut truncated = response("200 OK", &[], MINI_BUNDLE.as_bytes());
        truncated.truncate(truncated.len() - MINI_BUNDLE.len() / 2);
        let empty = br#"{"type": "bundle", "id": "bundle--empty", "objects": []}"#;
        let cases: [(Vec<u8>, &str); 5] = [
            (ok("\"big\"", oversized.as_bytes()), "the download is over the"),
            (truncated, "the download broke off"),
            (ok("\"empty\"", empty), "the download holds no ATT&CK techniques"),
            (ok("\"html\"", b"<html>Service Unavailable</html>"), "the download is not a STIX bundle"),
            (response("500 Internal Server Error", &[], b"oops"), "http status: 500"),
        ];
        let mut responses = vec![ok("\"v1\"", MINI_BUNDLE.as_bytes())];
        responses.extend(cases.iter().map(|(response, _)| response.clone()));
        let server = Server::start(responses);
        let url = server.url("/enterprise-attack.json");
        let config = config(true, Some(limit));
        let first = fetch(&url, &config, data.path()).unwrap();
        for (_, reason) in &cases {
            let bundle = fetch(&url, &config, data.path()).unwrap();
            let warning = bundle.warning.unwrap_or_default();
            assert!(warning.starts_with(&format!("cannot refresh ATT&CK bundle {url}: {reason}")), "{warning}");
            assert!(warning.contains("; using the copy downloaded at "), "{warning}");
            assert_eq!(
                (bundle.path.as_path(), fs::read_to_string(&bundle.path).unwrap()),
                (first.path.as_path(), MINI_BUNDLE.into())
            );
        }
        server.finish();
        let offline = fetch(&url, &config, data.path()).unwrap();
        assert!(offline.warning.unwrap().contains("using the copy downloaded at"));
        let leftovers: Vec<_> =
            fs::read_dir(data.path().join("attack")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(leftovers.len(), 2, "the bundle and its metadata, no partial download: {leftovers:?}");
    }

    #[test]
    fn without_a_previous_copy_a_bad_download_is_an_error() {
        let data = tempfile::tempdir().unwrap();
        let server = Server::start(vec![ok("\"v1\"", MINI_BUNDLE.as_bytes())]);
        let url = server.url("/enterprise-attack.json");
        let error = fetch(&url, &config(true, Some(1000)), data.path()).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "cannot download ATT&CK bundle {url}: the download is over the 1000-byte limit \
                 (max_bundle_bytes in [attack])"
            )
        );
    }

    /// Switching URLs must not keep serving the old URL's data under the same file name.
    #[test]
    fn the_cache_is_keyed_by_the_whole_url() {
        let data = tempfile::tempdir().unwrap();
        let changed = changed_bundle();
        let server = Server::start(vec![ok("\"a\"", MINI_BUNDLE.as_bytes()), ok("\"b\"", changed.as_bytes())]);
        let config = config(true, None);
        let old = fetch(&server.url("/v18/enterprise-attack.json"), &config, data.path()).unwrap();
        let new = fetch(&server.url("/v19/enterprise-attack.json"), &config, data.path()).unwrap();
        assert_ne!(old.path, new.path);
        assert_eq!(fs::read_to_string(&new.path).unwrap(), changed);
        let requests = server.finish();
        assert!(!requests[1].contains("if-none-match"), "a new URL has no cached version: {}", requests[1]);
        let name = new.path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("enterprise-attack-") && name.ends_with(".json"), "{name}");
    }

    #[test]
    fn cache_names_are_readable_and_safe() {
        assert_eq!(readable_name("https://h/x/enterprise-attack.json?token=1"), "enterprise-attack");
        assert_eq!(readable_name("https://h/../..%2F.. evil"), "2F..evil");
        assert_eq!(readable_name("https://h/"), "bundle");
    }
}

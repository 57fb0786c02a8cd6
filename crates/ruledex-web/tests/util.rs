//! Building catalogs, starting servers on 127.0.0.1:0, and fetching pages.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use ruledex_core::attack::{AttackCatalog, Domain};
use ruledex_core::ingest::{DEFAULT_MAX_FILE_BYTES, SourceSpec, ingest};
use ruledex_core::model::SourceKind;
use ruledex_core::sources::Format;
use ruledex_store::{CatalogWriter, Store};
use ruledex_web::{AppState, Catalog};
use scraper::{Html, Selector};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The upstream corpora and ATT&CK bundles: `RULEDEX_TEST_DATA` when set (scripts/test.sh sets it,
/// to its cache on a machine without ../shared), else ../shared beside the checkout (as in CI).
pub fn shared() -> PathBuf {
    std::env::var_os("RULEDEX_TEST_DATA")
        .filter(|dir| !dir.is_empty())
        .map_or_else(|| repo_root().join("../shared"), PathBuf::from)
}

/// A source to put in a test catalog.
pub struct TestSource {
    pub name: &'static str,
    pub format: Format,
    pub kind: SourceKind,
    pub root: PathBuf,
    pub repository: Option<&'static str>,
    pub commit: Option<&'static str>,
}

/// Writes a catalog of `sources` into `dir` and opens it.
pub fn build_catalog(dir: &Path, attack: &[(Domain, PathBuf)], sources: &[TestSource]) -> Catalog {
    let refs: Vec<(Domain, &Path)> = attack.iter().map(|(d, p)| (*d, p.as_path())).collect();
    let mut attack = AttackCatalog::load(&refs).unwrap();
    attack.version = Some("18.1".into());
    let mut writer = CatalogWriter::create(dir).unwrap();
    writer.write_attack(&attack).unwrap();
    for s in sources {
        let spec = SourceSpec {
            name: s.name.into(),
            format: s.format,
            kind: s.kind,
            root: s.root.clone(),
            license: Some("Test-License-1.0".into()),
            repository: s.repository.map(String::from),
            commit: s.commit.map(String::from),
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
        };
        writer.write_source(&ingest(&spec, &attack, &|_| {}).unwrap(), "2026-11-28T00:00:00Z").unwrap();
    }
    writer.write_meta("built_at", "2026-11-28T00:00:00Z").unwrap();
    writer.write_meta("attack_version", "18.1").unwrap();
    let path = writer.finish().unwrap();
    Catalog::open(Store::open(&path).unwrap()).unwrap()
}

fn shared_attack() -> Vec<(Domain, PathBuf)> {
    let dir = shared().join("attack");
    vec![
        (Domain::Enterprise, dir.join("enterprise-attack.json")),
        (Domain::Ics, dir.join("ics-attack.json")),
        (Domain::Mobile, dir.join("mobile-attack.json")),
    ]
}

/// Every corpus in ../shared, as examples/local-mirrors.toml configures them.
pub fn shared_sources() -> Vec<TestSource> {
    let corpus = shared().join("corpus");
    let source = |name, format, kind, root: PathBuf, repository, commit| TestSource {
        name,
        format,
        kind,
        root,
        repository,
        commit,
    };
    vec![
        source(
            "chronicle",
            Format::Chronicle,
            SourceKind::Vendor,
            corpus.join("chronicle-detection-rules"),
            Some("https://github.com/chronicle/detection-rules"),
            Some("19793ebdd29c896cc753afc5fe351ceba4d8d193"),
        ),
        source(
            "splunk",
            Format::SplunkEscu,
            SourceKind::Vendor,
            corpus.join("splunk-security-content"),
            Some("https://github.com/splunk/security_content"),
            Some("b13b314aed0e1778335a55620474e7d27289a20a"),
        ),
        source(
            "elastic",
            Format::Elastic,
            SourceKind::Vendor,
            corpus.join("elastic-detection-rules"),
            Some("https://github.com/elastic/detection-rules"),
            Some("14cf530f0d2177023092449cd9d9348b4a8884c2"),
        ),
        source(
            "sentinel",
            Format::Sentinel,
            SourceKind::Vendor,
            shared().join("corpus-extra/azure-sentinel"),
            Some("https://github.com/Azure/Azure-Sentinel"),
            None,
        ),
        source("sublime", Format::Sublime, SourceKind::Vendor, corpus.join("sublime-rules"), None, None),
        source("sigma", Format::Sigma, SourceKind::Community, corpus.join("sigma"), None, None),
        source("kql", Format::KqlMarkdown, SourceKind::Community, corpus.join("kql-bertjanp"), None, None),
    ]
}

/// A server over the catalog of every corpus in ../shared, started once per test binary.
pub fn shared_server() -> &'static Server {
    static SERVER: OnceLock<(tempfile::TempDir, Server)> = OnceLock::new();
    let (_, server) = SERVER.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let catalog = build_catalog(dir.path(), &shared_attack(), &shared_sources());
        let server = Server::start(AppState::new(Some(catalog), "test catalog of ../shared"));
        (dir, server)
    });
    server
}

/// A server over the catalog of the fixtures in tests/fixtures (hostile strings included).
pub fn fixture_server() -> &'static Server {
    static SERVER: OnceLock<(tempfile::TempDir, Server)> = OnceLock::new();
    let (_, server) = SERVER.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let fixtures = repo_root().join("tests/fixtures");
        let attack = vec![(Domain::Enterprise, fixtures.join("attack/mini-enterprise.json"))];
        let source = |name, format, dir: &str| TestSource {
            name,
            format,
            kind: SourceKind::Vendor,
            root: fixtures.join(dir),
            repository: Some("https://github.com/example/rules"),
            commit: Some("0123456789abcdef0123456789abcdef01234567"),
        };
        let sources = [
            source("chronicle", Format::Chronicle, "chronicle"),
            source("splunk", Format::SplunkEscu, "splunk-escu"),
            source("elastic", Format::Elastic, "elastic"),
        ];
        let catalog = build_catalog(dir.path(), &attack, &sources);
        (dir, Server::start(AppState::new(Some(catalog), "test catalog of tests/fixtures")))
    });
    server
}

/// The real router on 127.0.0.1:0, on a runtime thread of its own, for the test binary's life.
pub struct Server {
    pub addr: SocketAddr,
    pub state: AppState,
    agent: ureq::Agent,
}

impl Server {
    pub fn start(state: AppState) -> Server {
        let (sender, receiver) = std::sync::mpsc::channel();
        let served = state.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                sender.send(listener.local_addr().unwrap()).unwrap();
                ruledex_web::serve(listener, served, std::future::pending()).await.unwrap();
            });
        });
        let addr = receiver.recv_timeout(Duration::from_secs(30)).unwrap();
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .new_agent();
        Server { addr, state, agent }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn get(&self, path: &str) -> Response {
        let mut response = self.agent.get(&self.url(path)).call().unwrap();
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect();
        let body = response.body_mut().with_config().limit(64 * 1024 * 1024).read_to_string().unwrap_or_default();
        Response { status, headers, body }
    }
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn html(&self) -> Html {
        Html::parse_document(&self.body)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    #[track_caller]
    pub fn ok(self) -> Response {
        assert_eq!(self.status, 200, "{}", self.body.chars().take(2000).collect::<String>());
        self
    }
}

pub fn select(selector: &str) -> Selector {
    Selector::parse(selector).unwrap()
}

/// The text of every element matching `selector`.
pub fn texts(html: &Html, selector: &str) -> Vec<String> {
    html.select(&select(selector)).map(|e| e.text().collect::<String>().trim().to_string()).collect()
}

//! Building catalogs, starting servers on 127.0.0.1:0, and fetching pages.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use std::sync::Arc;

use ruledex_app::config::Config;
use ruledex_app::{Catalog, CatalogOptions, LiveCatalog};
use ruledex_web::{AppState, Limits};
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

/// Builds the catalog a configuration describes into `dir`, the way `ruledex sync` does, and
/// opens it.
pub fn build_catalog(config: &Config, dir: &Path) -> Catalog {
    let summary = ruledex_app::sync::run(config, dir, &ruledex_app::sync::Quiet).unwrap();
    Catalog::open(&summary.catalog, CatalogOptions::default()).unwrap()
}

/// The state of a server answering from `catalog`.
pub fn serving(catalog: Catalog, setup: impl Into<ruledex_web::Setup>, limits: Limits) -> AppState {
    AppState::new(LiveCatalog::serving(catalog), setup, limits)
}

/// Another generation of the catalog an existing server serves, opened with other options.
pub fn reopen(server: &Server, options: CatalogOptions) -> Catalog {
    Catalog::open(server.state.catalog().unwrap().path(), options).unwrap()
}

/// A server following the catalog of `data_dir` as `ruledex serve` does.
pub fn following(data_dir: &Path, setup: impl Into<ruledex_web::Setup>) -> (Arc<LiveCatalog>, Server) {
    let live = LiveCatalog::new(data_dir, CatalogOptions::default());
    let _ = live.open();
    let server = Server::start(AppState::new(Arc::clone(&live), setup, Limits::default()));
    (live, server)
}

/// The configuration of every corpus in the test data: examples/local-mirrors.toml, the one
/// users run air-gapped. Its paths name `../../shared` from the example's folder, so it is read
/// from a copy beside a link to wherever the test data is.
pub fn local_mirrors(dir: &Path) -> Config {
    let examples = dir.join("checkout/examples");
    std::fs::create_dir_all(&examples).unwrap();
    std::os::unix::fs::symlink(std::path::absolute(shared()).unwrap(), dir.join("shared")).unwrap();
    let config = examples.join("local-mirrors.toml");
    std::fs::copy(repo_root().join("examples/local-mirrors.toml"), &config).unwrap();
    Config::load(&config).unwrap()
}

/// How many sources examples/local-mirrors.toml configures.
pub fn configured_sources() -> usize {
    Config::load(&repo_root().join("examples/local-mirrors.toml")).unwrap().sources.len()
}

/// A server over the catalog of every corpus in ../shared, started once per test binary.
pub fn shared_server() -> &'static Server {
    static SERVER: OnceLock<(tempfile::TempDir, Server)> = OnceLock::new();
    let (_, server) = SERVER.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let catalog = build_catalog(&local_mirrors(dir.path()), &dir.path().join("data"));
        let server = Server::start(serving(catalog, "test catalog of ../shared", Limits::default()));
        (dir, server)
    });
    server
}

/// A configuration of the fixtures in tests/fixtures (hostile strings included).
pub fn fixture_config(dir: &Path) -> Config {
    let fixtures = repo_root().join("tests/fixtures");
    let source = |name: &str, format: &str, path: &str| {
        format!(
            "[[sources]]\nname = \"{name}\"\nformat = \"{format}\"\nkind = \"vendor\"\nlicense = \"Test-License-1.0\"\n\
             path = \"{}\"\nrepository = \"https://github.com/example/rules\"\n\
             commit = \"0123456789abcdef0123456789abcdef01234567\"\n",
            fixtures.join(path).display()
        )
    };
    let text = format!(
        "[attack]\nenterprise = \"{}\"\nversion = \"18.1\"\n{}{}{}",
        fixtures.join("attack/mini-enterprise.json").display(),
        source("chronicle", "chronicle", "chronicle"),
        source("splunk", "splunk-escu", "splunk-escu"),
        source("elastic", "elastic", "elastic"),
    );
    let path = dir.join("fixtures.toml");
    std::fs::write(&path, text).unwrap();
    Config::load(&path).unwrap()
}

/// A server over the catalog of the fixtures in tests/fixtures (hostile strings included).
pub fn fixture_server() -> &'static Server {
    static SERVER: OnceLock<(tempfile::TempDir, Server)> = OnceLock::new();
    let (_, server) = SERVER.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let catalog = build_catalog(&fixture_config(dir.path()), &dir.path().join("data"));
        (dir, Server::start(serving(catalog, "test catalog of tests/fixtures", Limits::default())))
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
                let router = ruledex_web::router(served, vec![]);
                ruledex_web::serve(listener, router, ruledex_web::ConnectionLimits::default(), std::future::pending())
                    .await
                    .unwrap();
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

impl Server {
    /// The raw answer (head and body) to a GET naming `host` in its `Host` header, which HTTP
    /// clients otherwise set from the URL.
    pub fn get_as_host(&self, path: &str, host: &str) -> String {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(self.addr).unwrap();
        write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
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

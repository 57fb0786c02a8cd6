//! Issue 7's attacks on the server, each performed against the real server on loopback and
//! checked to fail: costly searches, cache blow-up, oversized requests, refusals with bodies,
//! cached downloads keeping their headers, gzip served from the cache.

use std::time::Duration;

use ruledex_app::request::{Page, SearchRequest};
use ruledex_app::{CatalogOptions, ServiceError};
use ruledex_web::Limits;

use crate::util::{Server, reopen, serving, shared_server};

/// 36 ORed prefixes: the shape of the query that froze the server for a minute (there with
/// one-letter prefixes, which are now refused outright).
fn costly_search() -> String {
    let prefixes: Vec<String> = ('a'..='r').flat_map(|a| ['e', 'o'].map(move |b| format!("{a}{b}*"))).collect();
    prefixes.join(" OR ")
}

#[test]
fn one_letter_prefix_searches_are_refused_with_the_reason() {
    let server = shared_server();
    let letters: Vec<String> = ('a'..='z').chain('0'..='9').map(|c| format!("{c}*")).collect();
    let query = ruledex_core::url::encode_component(&letters.join(" OR "));
    let answer = server.get(&format!("/api/v1/search?q={query}&limit=100"));
    assert_eq!(answer.status, 400);
    assert!(answer.body.contains("a prefix search needs at least 2 letters"), "{}", answer.body);
}

#[test]
fn a_search_past_its_budget_is_stopped_by_sqlite_and_named() {
    let hurried = reopen(shared_server(), CatalogOptions { connections: 1, query_budget: Duration::from_millis(1) });
    let costly = SearchRequest { page: Page::first(100), ..SearchRequest::new(costly_search()) };
    let error = hurried.search(&costly).unwrap_err();
    let ServiceError::BadRequest(message) = error else { panic!("{error:?}") };
    assert!(message.contains("query budget") && message.contains("narrow the search"), "{message}");
    assert!(hurried.search(&SearchRequest::new("netsh")).is_ok(), "the connection serves the next query");
}

#[test]
fn costly_searches_never_starve_the_server() {
    let catalog = reopen(shared_server(), CatalogOptions { connections: 2, query_budget: Duration::from_millis(300) });
    let limits = Limits { searches: 1, queue_wait: Duration::from_millis(200), ..Limits::default() };
    let server = std::sync::Arc::new(Server::start(serving(catalog, "test", limits)));
    let query = ruledex_core::url::encode_component(&costly_search());
    let searches: Vec<_> = (0..8)
        .map(|_| {
            let (server, path) = (server.clone(), format!("/api/v1/search?q={query}&limit=100"));
            std::thread::spawn(move || server.get(&path).status)
        })
        .collect();
    for _ in 0..20 {
        assert_eq!(server.get("/healthz").status, 200, "healthz answers while searches run");
        assert_eq!(server.get("/api/v1/stats").status, 200, "ordinary requests go on");
    }
    for search in searches {
        let status = search.join().unwrap();
        assert!([200, 400, 503].contains(&status), "a costly search ends in a clear answer, not {status}");
    }
}

#[test]
fn the_cache_is_bounded_by_everything_it_holds() {
    let catalog = reopen(shared_server(), CatalogOptions::default());
    // Each answer is kept under a 7 kB key: the keys alone of 80 answers fill the cache twice.
    let capacity = 256 * 1024;
    let limits = Limits { cache_bytes: capacity, ..Limits::default() };
    let server = Server::start(serving(catalog, "test", limits));
    let long = "x".repeat(7_000);
    for i in 0..80 {
        assert_eq!(server.get(&format!("/api/v1/techniques?q=proxy+{i}{long}")).status, 200);
        assert!(server.state.cache().bytes() <= capacity, "after {i}: {}", server.state.cache().bytes());
    }
    server.get("/api/v1/techniques?q=proxy&junk=1&more=2");
    let after = server.state.cache().bytes();
    server.get("/api/v1/techniques?q=proxy&other=3");
    assert_eq!(server.state.cache().bytes(), after, "parameters ruledex ignores share one entry");
}

#[test]
fn refusals_before_any_work_say_why() {
    let server = shared_server();
    let too_long = server.get(&format!("/search?q={}", "a".repeat(9_000)));
    assert_eq!(too_long.status, 414);
    assert!(too_long.body.contains("longer than 8192 bytes"), "{}", too_long.body);
    let api = server.get(&format!("/api/v1/search?q={}", "a".repeat(9_000)));
    assert_eq!((api.status, api.json()["error"]["kind"].as_str()), (414, Some("bad_request")));
    let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    let mut post = agent.post(&server.url("/techniques/T1090")).send("x").unwrap();
    assert_eq!(post.status().as_u16(), 405);
    assert!(post.body_mut().read_to_string().unwrap().contains("only GET and HEAD"));
    // The server answers before reading all of an oversized request and closes; when the
    // unread bytes make the kernel reset the connection first, the answer is lost in transit,
    // so a few attempts are allowed, and one must bring the 431 with its reason.
    let oversized = || agent.get(&server.url("/")).header("x-padding", &"p".repeat(20_000)).call();
    let mut answered = (0..5).find_map(|_| oversized().ok()).expect("an oversized request got an answer");
    assert_eq!(answered.status().as_u16(), 431);
    assert!(answered.body_mut().read_to_string().unwrap().contains("headers are larger than"));
}

#[test]
fn a_search_naming_a_technique_and_more_searches_instead_of_dropping_words() {
    let server = shared_server();
    assert_eq!(server.get("/search?q=T1059.001").status, 303, "a technique alone opens its page");
    let search = server.get("/search?q=T1059.001%20encoded");
    assert_eq!(search.status, 200, "the other words are searched, not dropped");
    assert!(search.body.contains("encoded"));
}

#[test]
fn cached_downloads_keep_their_headers_and_gzip_is_compressed_once() {
    let server = shared_server();
    for _ in 0..2 {
        let raw = server.get("/detections/chronicle/gcti_tor_exit_nodes/raw").ok();
        assert_eq!(raw.header("content-disposition"), Some("attachment; filename=\"gcti_tor_exit_nodes.yaral\""));
    }
    // A raw request: HTTP clients decompress gzip on their own and hide the header.
    let gzip = |path: &str| {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        let head =
            String::from_utf8_lossy(&answer[..answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap()]).to_string();
        let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
        let encoding =
            head.lines().find_map(|l| l.to_ascii_lowercase().strip_prefix("content-encoding: ").map(String::from));
        (status, encoding)
    };
    let path = "/techniques/T1059?community=1&language=sigma";
    assert_eq!(gzip(path), (200, Some("gzip".into())));
    let held = server.state.cache().bytes();
    assert_eq!(gzip(path), (200, Some("gzip".into())));
    assert_eq!(server.state.cache().bytes(), held, "the second gzip answer came from the cache");
}

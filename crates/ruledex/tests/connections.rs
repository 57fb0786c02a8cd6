//! Issue 21, item 1: connections that cost the server without asking anything. Each test
//! performs the attack on a real `ruledex serve --no-sync` on loopback, configured with short
//! timeouts; the bounds checked are those timeouts with generous room, never a measured speed.

use std::fs::OpenOptions;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::serve::{Served, get, serve_with};
use crate::util::fixture_catalog;

/// Room on top of a configured time for a loaded machine.
const SLACK: Duration = Duration::from_secs(20);

/// A server of the markup fixture's catalog with `[serve]` set to `settings`.
fn server(settings: &str) -> (crate::util::Workspace, Served) {
    let workspace = fixture_catalog("markup");
    let mut config = OpenOptions::new().append(true).open(workspace.config()).unwrap();
    writeln!(config, "\n[serve]\n{settings}").unwrap();
    let served = serve_with(&workspace, &["--no-sync"]);
    (workspace, served)
}

fn connect(served: &Served) -> TcpStream {
    TcpStream::connect(served.base.trim_start_matches("http://")).unwrap()
}

/// Whether the server closed `stream` (end of stream or reset) within `bound`, after anything
/// it still had to send.
fn closed_within(stream: &mut TcpStream, bound: Duration) -> bool {
    stream.set_read_timeout(Some(bound)).unwrap();
    let mut buf = [0; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => return false,
            Err(_) => return true,
        }
    }
}

/// Sockets that send nothing, half a request head, or nothing after a response stayed open past
/// 400 s. Now each is closed once the header timeout (1 s here) passes.
#[test]
fn silent_half_sent_and_kept_alive_connections_are_closed_after_the_header_timeout() {
    let (_workspace, served) = server("header_timeout_secs = 1");
    let mut silent = connect(&served);
    let mut half_sent = connect(&served);
    half_sent.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n").unwrap();
    let mut kept_alive = connect(&served);
    kept_alive.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
    let mut response = [0; 512];
    let n = kept_alive.read(&mut response).unwrap();
    assert!(response[..n].starts_with(b"HTTP/1.1 200 OK"), "{}", String::from_utf8_lossy(&response[..n]));
    for (name, stream) in [("silent", &mut silent), ("half-sent", &mut half_sent), ("kept alive", &mut kept_alive)] {
        assert!(closed_within(stream, Duration::from_secs(1) + SLACK), "the {name} connection is still open");
    }
    assert_eq!(get(&served, "/healthz"), (200, "ok".to_string()));
}

/// Idle sockets exhausted the file descriptors and `/healthz` went unanswered. At the cap (8
/// here) the connections that sent nothing make room, and the log says the cap was reached;
/// the header timeout is far off, so only that can let `/healthz` in.
#[test]
fn at_the_connection_cap_healthz_still_answers_and_the_log_says_why() {
    let (_workspace, served) = server("max_connections = 8\nheader_timeout_secs = 600");
    let idle: Vec<TcpStream> = (0..100).map(|_| connect(&served)).collect();
    assert_eq!(get(&served, "/healthz"), (200, "ok".to_string()));
    let said = served.said_later();
    assert!(
        said.iter().any(|line| line.contains("8 connections open, the most this server takes (max_connections)")),
        "{said:?}"
    );
    drop(idle);
}

/// After SIGTERM the server waited for a client holding a half-sent request. Now it exits once
/// the shutdown grace (1 s here) has passed, however long the header timeout.
#[test]
fn sigterm_ends_the_server_within_its_grace_despite_a_half_sent_request() {
    let (_workspace, mut served) = server("header_timeout_secs = 600\nshutdown_grace_secs = 1");
    let mut half_sent = connect(&served);
    half_sent.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n").unwrap();
    let mut silent = connect(&served);
    assert_eq!(get(&served, "/healthz"), (200, "ok".to_string()));
    let status = served.terminate(Duration::from_secs(1) + SLACK).expect("the server exits");
    assert!(status.success(), "{status:?}");
    assert!(closed_within(&mut half_sent, Duration::from_secs(1)));
    assert!(closed_within(&mut silent, Duration::from_secs(1)));
}

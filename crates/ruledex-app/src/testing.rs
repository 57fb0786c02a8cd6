//! Test helpers: a real HTTP server on loopback serving canned responses, and the fixture
//! ATT&CK bundle.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;

/// Holds tests that run git or a sync to one at a time. A child process spawned while a sync
/// holds its lock file inherits the file until it execs, and a sync starting in that instant
/// finds its data directory locked.
pub fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The small hand-written enterprise bundle of tests/fixtures.
pub const MINI_BUNDLE: &str = include_str!("../../../tests/fixtures/attack/mini-enterprise.json");

/// A server on 127.0.0.1 answering each connection with the next canned response, then
/// closing it. Once all are served it stops listening, so later requests find nothing there,
/// as when offline.
pub struct Server {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Server {
    pub fn start(responses: Vec<Vec<u8>>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        let thread = thread::spawn(move || {
            for response in responses {
                let Ok((stream, _)) = listener.accept() else { return };
                let mut reader = BufReader::new(stream);
                let mut head = String::new();
                while reader.read_line(&mut head).is_ok_and(|n| n > 0) && !head.ends_with("\r\n\r\n") {}
                seen.lock().expect("requests lock").push(head);
                let _ = reader.get_mut().write_all(&response);
            }
        });
        Server { port, requests, thread: Some(thread) }
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The request heads received so far, lowercased (header names are case-insensitive).
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("requests lock").iter().map(|r| r.to_ascii_lowercase()).collect()
    }

    /// Waits until every response was served and the port is closed.
    pub fn finish(mut self) -> Vec<String> {
        if let Some(thread) = self.thread.take() {
            thread.join().expect("server thread");
        }
        self.requests()
    }
}

/// A complete response with the given status line, headers and body.
pub fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    [head.into_bytes(), body.to_vec()].concat()
}

/// `200 OK` with an ETag.
pub fn ok(etag: &str, body: &[u8]) -> Vec<u8> {
    response("200 OK", &[("ETag", etag)], body)
}

//! Test helpers: a real HTTP server on loopback serving canned responses, a git server on
//! loopback asking for credentials, and the fixture ATT&CK bundle.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
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

/// A git server on 127.0.0.1 speaking git's smart HTTP protocol through `git http-backend`, as
/// a private repository host does: it serves the repositories under `root` to requests that
/// authenticate as `user` with `password` (HTTP Basic), and answers others 401.
pub struct GitServer {
    port: u16,
    /// The `Authorization` header of each request, when it had one.
    authorizations: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl GitServer {
    pub fn start(root: &Path, user: &str, password: &str) -> GitServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        let (authorizations, stop) = (Arc::new(Mutex::new(Vec::new())), Arc::new(AtomicBool::new(false)));
        let expected = format!("Basic {}", base64(format!("{user}:{password}").as_bytes()));
        let (seen, stopped, root) = (Arc::clone(&authorizations), Arc::clone(&stop), root.to_path_buf());
        let thread = thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    return;
                }
                if let Ok(stream) = stream {
                    serve_git(stream, &root, &expected, &seen);
                }
            }
        });
        GitServer { port, authorizations, stop, thread: Some(thread) }
    }

    /// The URL of the repository `name`, with `user_info` (`user:password@`) when given.
    pub fn url(&self, user_info: &str, name: &str) -> String {
        format!("http://{user_info}127.0.0.1:{}/{name}", self.port)
    }

    /// The `Authorization` headers received so far.
    pub fn authorizations(&self) -> Vec<String> {
        self.authorizations.lock().expect("authorizations lock").clone()
    }
}

impl Drop for GitServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Answers one request, then closes the connection.
fn serve_git(stream: TcpStream, root: &Path, expected: &str, seen: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let length: usize = header("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let authorization = header("authorization");
    seen.lock().expect("authorizations lock").extend(authorization.clone());
    let response = match authorization.as_deref() == Some(expected) {
        true => http_backend(&request_line, &header, root, &body),
        false => response("401 Unauthorized", &[("WWW-Authenticate", "Basic realm=\"git\"")], b""),
    };
    let _ = reader.get_mut().write_all(&response);
}

/// Runs `git http-backend` as a CGI script for one request, its answer as an HTTP response.
fn http_backend(request_line: &str, header: &dyn Fn(&str) -> Option<String>, root: &Path, body: &[u8]) -> Vec<u8> {
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut child = Command::new("git")
        .arg("http-backend")
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REQUEST_METHOD", method)
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env("CONTENT_TYPE", header("content-type").unwrap_or_default())
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("HTTP_CONTENT_ENCODING", header("content-encoding").unwrap_or_default())
        .env("GIT_PROTOCOL", header("git-protocol").unwrap_or_default())
        .env("REMOTE_ADDR", "127.0.0.1")
        // What a partial clone asks of its server: filtered fetches, then missing blobs by ID.
        .env("GIT_CONFIG_COUNT", "2")
        .env("GIT_CONFIG_KEY_0", "uploadpack.allowFilter")
        .env("GIT_CONFIG_VALUE_0", "true")
        .env("GIT_CONFIG_KEY_1", "uploadpack.allowAnySHA1InWant")
        .env("GIT_CONFIG_VALUE_1", "true")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("git http-backend runs");
    child.stdin.take().expect("stdin").write_all(body).expect("request body to http-backend");
    let output = child.wait_with_output().expect("http-backend output");
    let cgi = output.stdout;
    let split = cgi.windows(4).position(|w| w == b"\r\n\r\n").map(|at| (at, at + 4));
    let split = split.or_else(|| cgi.windows(2).position(|w| w == b"\n\n").map(|at| (at, at + 2)));
    let (head_end, body_start) = split.unwrap_or((cgi.len(), cgi.len()));
    let head = String::from_utf8_lossy(&cgi[..head_end]);
    let mut status = "200 OK".to_string();
    let mut headers = Vec::new();
    for line in head.lines() {
        match line.split_once(':') {
            Some((name, value)) if name.eq_ignore_ascii_case("status") => status = value.trim().to_string(),
            Some((name, value)) => headers.push((name.trim().to_string(), value.trim().to_string())),
            None => {}
        }
    }
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    response(&status, &headers, &cgi[body_start..])
}

/// Standard base64 with padding, for HTTP Basic credentials.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            let sextet = (n >> (18 - 6 * i)) & 63;
            out.push(if i <= chunk.len() { ALPHABET[sextet as usize] as char } else { '=' });
        }
    }
    out
}

/// The files under `dir` that hold `secret`.
pub fn files_holding(dir: &Path, secret: &str) -> Vec<PathBuf> {
    let holds = |path: &Path| fs::read(path).is_ok_and(|b| b.windows(secret.len()).any(|w| w == secret.as_bytes()));
    entries(dir).into_iter().filter(|(path, metadata)| metadata.is_file() && holds(path)).map(|(p, _)| p).collect()
}

/// The files and folders under `dir` (and `dir` itself) that others than their owner may read,
/// write or enter. Links are not counted: their own permissions mean nothing.
pub fn open_to_others(dir: &Path) -> Vec<PathBuf> {
    let open = |m: &fs::Metadata| !m.file_type().is_symlink() && m.permissions().mode() & 0o077 != 0;
    entries(dir).into_iter().filter(|(_, metadata)| open(metadata)).map(|(p, _)| p).collect()
}

fn entries(dir: &Path) -> Vec<(PathBuf, fs::Metadata)> {
    let entries = walkdir::WalkDir::new(dir).into_iter().map(|e| e.expect("readable"));
    entries.map(|e| (e.path().to_path_buf(), e.path().symlink_metadata().expect("metadata"))).collect()
}

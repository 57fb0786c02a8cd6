//! Accepting connections, and bounding what each may cost: how long it may take to send a
//! request head, how long it may sit without a byte moving, how many may be open at once, and
//! how long a shutdown waits for them. hyper serves each connection (HTTP/1.1, with its header
//! read timeout, which also bounds how long a kept-alive connection waits for its next request);
//! this module decides which connections it gets and for how long. axum::serve exposes none of
//! these, and no maintained crate caps connections by evicting idle ones.
//!
//! A connection is handed to hyper only once it has sent something: until then it costs a
//! socket and a small task. When the cap is reached, the connection that has waited longest
//! without sending anything is closed to make room, so sockets opened to exhaust the server's
//! file descriptors only ever displace each other, and clients that send requests get in.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot, watch};
use tokio::task::JoinSet;

/// File descriptors kept for everything but connections (the catalog's connections, files a
/// sync opens, git's pipes): this many, or a quarter of a smaller limit.
const RESERVED_FILES: u64 = 1024;

/// What connections may cost. The defaults suit a public server; tests shorten the times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Connections open at once, at most. At the cap, the connection that has sent nothing for
    /// longest is closed for a new one; when every connection has sent something, new ones wait
    /// until one closes.
    pub max_connections: usize,
    /// How long a connection may take to send its first byte, and then (from it, or from the
    /// end of the previous response) a whole request head.
    pub header_read_timeout: Duration,
    /// A connection on which no byte moved for this long is closed: a client that stopped
    /// sending a request body or reading a response.
    pub idle_timeout: Duration,
    /// After a shutdown signal, how long requests in flight may take to finish before their
    /// connections are closed.
    pub shutdown_grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            max_connections: 16_384,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

impl ConnectionLimits {
    /// These limits with `max_connections` lowered to what `open_files` (the process's limit
    /// on open files) leaves room for, and a message saying so when it was lowered.
    pub fn within(self, open_files: u64) -> (ConnectionLimits, Option<String>) {
        let reserved = RESERVED_FILES.min(open_files / 4);
        let room = usize::try_from(open_files - reserved).unwrap_or(usize::MAX).max(1);
        if room >= self.max_connections {
            return (self, None);
        }
        let message = format!(
            "at most {room} connections at once (not {}): the open file limit is {open_files}, of which \
             {reserved} are kept for the catalog and syncs",
            self.max_connections
        );
        (ConnectionLimits { max_connections: room, ..self }, Some(message))
    }
}

/// The process's limit on open files, raised first to the most it may be (the hard limit), as
/// servers that hold many connections do: systemd and most shells start programs with a soft
/// limit of 1024, to spare old `select` users.
pub fn raise_open_file_limit() -> u64 {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let Rlimit { current, maximum } = getrlimit(Resource::Nofile);
    let (current, maximum) = (current.unwrap_or(u64::MAX), maximum.unwrap_or(u64::MAX));
    if current >= maximum {
        return current;
    }
    match setrlimit(Resource::Nofile, Rlimit { current: Some(maximum), maximum: Some(maximum) }) {
        Ok(()) => maximum,
        Err(error) => {
            tracing::warn!("cannot raise the open file limit from {current} to {maximum}: {error}");
            current
        }
    }
}

/// Serves `app` on `listener` within `limits` until `shutdown` completes; then stops accepting,
/// closes connections that are between requests, lets requests in flight finish for
/// `shutdown_grace`, and closes what is left.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let registry = Arc::new(Registry::new(limits.max_connections));
    let (stop, stopping) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    let mut tasks = JoinSet::new();
    loop {
        while tasks.try_join_next().is_some() {}
        // Accepted first, so that a connection is closed to make room only for one that came.
        let stream = tokio::select! {
            () = &mut shutdown => break,
            stream = accept(&listener) => stream,
        };
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = registry.slot() => permit,
        };
        let connection = Connection { registry: registry.clone(), limits, stopping: stopping.clone(), _slot: permit };
        tasks.spawn(connection.run(stream, app.clone()));
    }
    drop(listener);
    registry.close_waiting();
    drop(stop);
    let finished = tokio::time::timeout(limits.shutdown_grace, async { while tasks.join_next().await.is_some() {} });
    if finished.await.is_err() {
        tracing::warn!(
            "{} connections still busy {:?} after the shutdown signal; closing them",
            tasks.len(),
            limits.shutdown_grace
        );
        tasks.shutdown().await;
    }
    Ok(())
}

/// The next connection. A failed accept is retried: at once when only that connection failed,
/// after a pause when the process is out of file descriptors (the cap is set below the limit,
/// so something else holds them), saying so.
async fn accept(listener: &TcpListener) -> TcpStream {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => return stream,
            Err(error) if is_connection_error(&error) => {}
            Err(error) => {
                tracing::error!("cannot accept connections: {error}; trying again in 100 ms");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// The open connections (as permits of a semaphore) and those still waiting for their first
/// byte, oldest first.
struct Registry {
    slots: Arc<Semaphore>,
    max: usize,
    waiting: Mutex<BTreeMap<u64, oneshot::Sender<()>>>,
    next_id: AtomicU64,
    /// When the cap was last reported, so a flood is reported once a minute, not per connection.
    reported: Mutex<Option<Instant>>,
}

impl Registry {
    fn new(max: usize) -> Registry {
        Registry {
            slots: Arc::new(Semaphore::new(max)),
            max,
            waiting: Mutex::new(BTreeMap::new()),
            next_id: AtomicU64::new(0),
            reported: Mutex::new(None),
        }
    }

    /// Room for one more connection: at once below the cap; at the cap, once the connection
    /// waiting longest for its first byte has been closed, or once any connection closes.
    /// While none waits, it looks again every 100 ms (connections just accepted are listed as
    /// waiting once their task first runs).
    async fn slot(&self) -> OwnedSemaphorePermit {
        loop {
            if let Ok(permit) = self.slots.clone().try_acquire_owned() {
                return permit;
            }
            let evicted = self.evict_oldest_waiting();
            self.report_cap(evicted);
            tokio::select! {
                permit = self.slots.clone().acquire_owned() => return permit.expect("the semaphore is never closed"),
                () = tokio::time::sleep(Duration::from_millis(100)), if !evicted => {}
            }
        }
    }

    /// Closes the connection that has waited longest without sending anything; false when
    /// none is waiting.
    fn evict_oldest_waiting(&self) -> bool {
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        // A connection that just sent its first byte may still be listed: try the next.
        while let Some((_, evict)) = waiting.pop_first() {
            if evict.send(()).is_ok() {
                return true;
            }
        }
        false
    }

    fn report_cap(&self, evicted: bool) {
        let mut reported = self.reported.lock().unwrap_or_else(PoisonError::into_inner);
        if reported.is_some_and(|at| at.elapsed() < Duration::from_secs(60)) {
            return;
        }
        *reported = Some(Instant::now());
        let what = match evicted {
            true => "closing the connections that have sent nothing for longest to make room",
            false => "every one is busy with a request, so new connections wait until one closes",
        };
        tracing::warn!("{} connections open, the most this server takes (max_connections); {what}", self.max);
    }

    /// Lists a connection waiting for its first byte; the receiver fires when it is evicted.
    fn wait(&self) -> (u64, oneshot::Receiver<()>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (evict, evicted) = oneshot::channel();
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner).insert(id, evict);
        (id, evicted)
    }

    fn done_waiting(&self, id: u64) {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
    }

    /// Closes every connection still waiting for its first byte (at shutdown).
    fn close_waiting(&self) {
        let waiting = std::mem::take(&mut *self.waiting.lock().unwrap_or_else(PoisonError::into_inner));
        for (_, evict) in waiting {
            let _ = evict.send(());
        }
    }
}

/// One accepted connection, holding its slot until it closes.
struct Connection {
    registry: Arc<Registry>,
    limits: ConnectionLimits,
    stopping: watch::Receiver<()>,
    _slot: OwnedSemaphorePermit,
}

impl Connection {
    async fn run(self, stream: TcpStream, app: Router) {
        if self.first_byte(&stream).await {
            self.serve(stream, app).await;
        }
    }

    /// Waits for the connection's first byte; false when it closes first, is evicted, or takes
    /// longer than the header read timeout. (A peek, not `readable`, which may report a
    /// socket readable that is not.)
    async fn first_byte(&self, stream: &TcpStream) -> bool {
        let (id, evicted) = self.registry.wait();
        let mut byte = [0; 1];
        let ready = tokio::select! {
            peeked = tokio::time::timeout(self.limits.header_read_timeout, stream.peek(&mut byte)) => {
                matches!(peeked, Ok(Ok(1..)))
            }
            _ = evicted => false,
        };
        self.registry.done_waiting(id);
        ready
    }

    /// Serves requests until the client closes, a timeout closes the connection, or the
    /// shutdown lets its last request finish.
    async fn serve(mut self, stream: TcpStream, app: Router) {
        let activity = Arc::new(Activity::new());
        let io = TokioIo::new(Tracked { stream, activity: activity.clone() });
        let mut connection = pin!(
            http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(self.limits.header_read_timeout)
                .serve_connection(io, TowerToHyperService::new(app))
        );
        let mut stopping = false;
        loop {
            tokio::select! {
                _ = connection.as_mut() => return,
                () = activity.idle_for(self.limits.idle_timeout) => return,
                _ = self.stopping.changed(), if !stopping => {
                    stopping = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// When a byte last moved on a connection, as milliseconds since it was accepted.
struct Activity {
    since: Instant,
    last: AtomicU64,
}

impl Activity {
    fn new() -> Activity {
        Activity { since: Instant::now(), last: AtomicU64::new(0) }
    }

    fn touch(&self) {
        let now = u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(now, Ordering::Relaxed);
    }

    /// Completes once nothing has moved for `idle`.
    async fn idle_for(&self, idle: Duration) {
        loop {
            let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
            let deadline = self.since + last + idle;
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline.into()).await;
        }
    }
}

/// A connection's socket, noting each byte read or written in its [`Activity`].
struct Tracked {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Tracked {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.stream).poll_read(cx, buf))?;
        if buf.filled().len() > before {
            self.activity.touch();
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let written = ready!(Pin::new(&mut self.stream).poll_write(cx, buf))?;
        self.written(written)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = ready!(Pin::new(&mut self.stream).poll_write_vectored(cx, bufs))?;
        self.written(written)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

impl Tracked {
    fn written(&self, written: usize) -> Poll<io::Result<usize>> {
        if written > 0 {
            self.activity.touch();
        }
        Poll::Ready(Ok(written))
    }
}

#[cfg(test)]
mod tests {
    //! The bounds against a real server on loopback, serving a small router; the same attacks
    //! on `ruledex serve` itself are in the binary's tests (tests/connections.rs).

    use std::net::SocketAddr;

    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::sync::Notify;
    use tokio::task::JoinHandle;

    use super::*;

    /// Timeouts short enough for tests; the cap as given.
    fn limits(max_connections: usize) -> ConnectionLimits {
        ConnectionLimits {
            max_connections,
            header_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(1),
            shutdown_grace: Duration::from_millis(500),
        }
    }

    const BIG: usize = 64 << 20;

    /// `/slow` says when it started on `started`, then answers after 400 ms.
    fn app(started: Arc<Notify>) -> Router {
        let slow = move || {
            started.notify_one();
            async {
                tokio::time::sleep(Duration::from_millis(400)).await;
                "done"
            }
        };
        Router::new()
            .route("/healthz", get(|| async { "ok" }))
            .route("/slow", get(slow))
            .route("/big", get(|| async { vec![b'x'; BIG] }))
    }

    struct Server {
        addr: SocketAddr,
        slow_started: Arc<Notify>,
        stop: oneshot::Sender<()>,
        served: JoinHandle<io::Result<()>>,
    }

    async fn start(limits: ConnectionLimits) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let slow_started = Arc::new(Notify::new());
        let served = tokio::spawn(serve(listener, app(slow_started.clone()), limits, async move {
            let _ = stopped.await;
        }));
        Server { addr, slow_started, stop, served }
    }

    async fn request(addr: SocketAddr, path: &str) -> String {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let head = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    }

    /// Reads until the server closes the connection (a reset counts): what it sent. Fails past
    /// 20 s: the server never closed it.
    async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
        let mut received = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(20), async {
            let mut buf = vec![0; 1 << 16];
            while let Ok(n @ 1..) = stream.read(&mut buf).await {
                received.extend_from_slice(&buf[..n]);
            }
        });
        read.await.expect("the server closes the connection");
        received
    }

    /// A client that asks for a large response and never reads it held its connection (and the
    /// response in memory) for good; now until the idle timeout.
    #[tokio::test]
    async fn a_client_that_stops_reading_is_closed_after_the_idle_timeout() {
        let server = start(limits(64)).await;
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream.write_all(b"GET /big HTTP/1.1\r\nHost: test\r\n\r\n").await.unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
        let received = until_closed(&mut stream).await;
        assert!(received.len() < BIG, "the whole response arrived: the connection was never closed");
    }

    /// Issue 21, item 1: idle sockets exhausted the file descriptors and `/healthz` went
    /// unanswered. At the cap, connections that sent nothing make room for new ones, oldest
    /// first; the header timeout is far off, so only that can let `/healthz` in.
    #[tokio::test]
    async fn at_the_cap_connections_that_sent_nothing_make_room_oldest_first() {
        let server = start(limits(8)).await;
        let mut idle = Vec::new();
        for _ in 0..20 {
            idle.push(TcpStream::connect(server.addr).await.unwrap());
        }
        assert!(request(server.addr, "/healthz").await.ends_with("ok"));
        // 21 connections through 8 slots: the 13 oldest idle ones were closed, the 7 newest kept.
        let mut closed = Vec::new();
        for stream in &mut idle {
            let mut buf = [0; 1];
            let read = tokio::time::timeout(Duration::from_millis(300), stream.read(&mut buf)).await;
            closed.push(matches!(read, Ok(Ok(0) | Err(_))));
        }
        assert_eq!(closed, [vec![true; 13], vec![false; 7]].concat());
    }

    /// Connections that sent something are never closed to make room: a new one waits until
    /// one of them closes.
    #[tokio::test]
    async fn at_the_cap_with_every_connection_busy_a_new_one_waits_its_turn() {
        let server = start(ConnectionLimits { idle_timeout: Duration::from_secs(30), ..limits(1) }).await;
        let mut half_sent = TcpStream::connect(server.addr).await.unwrap();
        half_sent.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
        // Time for the server to see that it sent something.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let waiting = tokio::spawn(request(server.addr, "/healthz"));
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(!waiting.is_finished(), "answered while the only slot was taken");
        drop(half_sent);
        assert!(waiting.await.unwrap().ends_with("ok"));
    }

    /// Issue 21, item 1: after SIGTERM the server waited for a client holding a half-sent
    /// request. A request in flight still finishes; the rest is closed after the grace period.
    #[tokio::test]
    async fn a_shutdown_finishes_requests_in_flight_and_waits_no_longer_than_its_grace() {
        let server = start(limits(64)).await;
        let mut half_sent = TcpStream::connect(server.addr).await.unwrap();
        half_sent.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n").await.unwrap();
        let mut silent = TcpStream::connect(server.addr).await.unwrap();
        let slow = tokio::spawn(request(server.addr, "/slow"));
        server.slow_started.notified().await;
        server.stop.send(()).unwrap();
        assert!(slow.await.unwrap().ends_with("done"), "the request in flight finishes");
        let served = tokio::time::timeout(Duration::from_secs(20), server.served).await;
        served.expect("serve returns after the grace period").unwrap().unwrap();
        for stream in [&mut half_sent, &mut silent] {
            assert_eq!(until_closed(stream).await, b"");
        }
        assert!(TcpStream::connect(server.addr).await.is_err(), "no longer listening");
    }

    #[test]
    fn the_cap_leaves_room_for_the_catalog_under_the_open_file_limit() {
        let limits = ConnectionLimits::default();
        assert_eq!(limits.within(1 << 20), (limits, None));
        assert_eq!(limits.within(1024).0.max_connections, 768);
        let (lowered, message) = limits.within(4096);
        assert_eq!(lowered.max_connections, 3072);
        assert_eq!(
            message.as_deref(),
            Some(
                "at most 3072 connections at once (not 16384): the open file limit is 4096, of which 1024 are kept \
                 for the catalog and syncs"
            )
        );
    }
}

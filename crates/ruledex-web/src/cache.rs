//! Whole rendered responses (status, headers, body), kept until the catalog changes.
//!
//! A catalog generation never changes, so a response rendered from it is right for as long as
//! it is served: keys carry the generation, and a response is never served for another one.
//! The cache's size is bounded by everything it holds (keys, headers and bodies); when full, the
//! oldest responses make room.
//!
//! Identical requests that arrive together are rendered once: the first takes the key's turn
//! ([`PageCache::turn`]) and the others wait for it, then answer from the cache. Without that, a
//! burst of the same costly page (a popular search) did the same work once per connection.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::OwnedMutexGuard;

use axum::body::Bytes;
use axum::http::{HeaderName, HeaderValue, StatusCode};

/// Bookkeeping per entry beyond its key, headers and body (maps, allocations).
const ENTRY_OVERHEAD: usize = 256;

/// A response as it was sent.
#[derive(Debug)]
pub struct CachedResponse {
    pub status: StatusCode,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
}

impl CachedResponse {
    fn size(&self, key: &str) -> usize {
        let headers: usize = self.headers.iter().map(|(n, v)| n.as_str().len() + v.len()).sum();
        key.len() + headers + self.body.len() + ENTRY_OVERHEAD
    }
}

pub struct PageCache {
    capacity: usize,
    entries: RwLock<Entries>,
    /// The catalog version the kept responses were made from.
    version: AtomicU64,
    /// Keys being rendered now, each with the lock its renderer holds.
    in_flight: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

/// A request's turn at rendering a key; the key leaves the in-flight table when the last
/// request holding or awaiting it is done.
pub struct Turn {
    key: String,
    guard: Option<OwnedMutexGuard<()>>,
    in_flight: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    /// Whether another request rendered the key while this one waited.
    pub waited: bool,
}

impl Turn {
    /// Lets requests still waiting render on their own: after waiting for a response that
    /// could not be cached, they need not take turns.
    pub fn release(&mut self) {
        self.guard = None;
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        self.guard = None;
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        // Only the table holds the lock now: nobody renders or waits for this key.
        if in_flight.get(&self.key).is_some_and(|lock| Arc::strong_count(lock) == 1) {
            in_flight.remove(&self.key);
        }
    }
}

#[derive(Default)]
struct Entries {
    responses: HashMap<String, Arc<CachedResponse>>,
    /// Keys, oldest first.
    order: VecDeque<String>,
    bytes: usize,
}

impl PageCache {
    pub fn new(capacity: usize) -> PageCache {
        PageCache { capacity, entries: RwLock::default(), version: AtomicU64::new(0), in_flight: Arc::default() }
    }

    /// Waits while another request renders `key`, then gives this one its turn.
    pub async fn turn(&self, key: &str) -> Turn {
        let lock = {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
            in_flight.entry(key.to_string()).or_default().clone()
        };
        let (guard, waited) = match lock.clone().try_lock_owned() {
            Ok(guard) => (guard, false),
            Err(_) => (lock.lock_owned().await, true),
        };
        Turn { key: key.to_string(), guard: Some(guard), in_flight: self.in_flight.clone(), waited }
    }

    pub fn get(&self, key: &str) -> Option<Arc<CachedResponse>> {
        self.entries.read().unwrap_or_else(|p| p.into_inner()).responses.get(key).cloned()
    }

    /// Keeps a response, making room by dropping the oldest. A response larger than an eighth
    /// of the capacity is not kept: it would push out many small ones.
    pub fn put(&self, key: String, response: CachedResponse) {
        let size = response.size(&key);
        if size > self.capacity / 8 {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if let Some(old) = entries.responses.remove(&key) {
            entries.bytes -= old.size(&key);
            entries.order.retain(|k| k != &key);
        }
        while entries.bytes + size > self.capacity {
            let Some(oldest) = entries.order.pop_front() else { break };
            if let Some(old) = entries.responses.remove(&oldest) {
                entries.bytes -= old.size(&oldest);
            }
        }
        entries.bytes += size;
        entries.order.push_back(key.clone());
        entries.responses.insert(key, Arc::new(response));
    }

    /// Drops every response made from another catalog version than `version`.
    pub fn keep_only(&self, version: u64) {
        if self.version.swap(version, Ordering::Relaxed) != version {
            *self.entries.write().unwrap_or_else(|p| p.into_inner()) = Entries::default();
        }
    }

    /// Bytes held now, keys and headers included.
    pub fn bytes(&self) -> usize {
        self.entries.read().unwrap_or_else(|p| p.into_inner()).bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(body: usize) -> CachedResponse {
        CachedResponse {
            status: StatusCode::OK,
            headers: vec![(HeaderName::from_static("content-type"), HeaderValue::from_static("text/html"))],
            body: Bytes::from(vec![b'x'; body]),
        }
    }

    #[test]
    fn keys_count_toward_the_bound_and_the_oldest_make_room() {
        let cache = PageCache::new(100_000);
        for i in 0..1_000 {
            cache.put(format!("{i}:{}", "k".repeat(5_000)), response(10));
            assert!(cache.bytes() <= 100_000, "after {i}: {}", cache.bytes());
        }
        assert!(cache.get(&format!("999:{}", "k".repeat(5_000))).is_some(), "the newest stays");
        assert!(cache.get(&format!("0:{}", "k".repeat(5_000))).is_none(), "the oldest went");
        cache.put("big".into(), response(20_000));
        assert!(cache.get("big").is_none(), "over an eighth of the capacity is not kept");
    }

    #[tokio::test]
    async fn identical_requests_take_turns_and_leave_nothing_behind() {
        let cache = Arc::new(PageCache::new(100_000));
        let first = cache.turn("page").await;
        assert!(!first.waited);
        let waiting = tokio::spawn({
            let cache = cache.clone();
            async move { cache.turn("page").await.waited }
        });
        let other = cache.turn("another page").await;
        assert!(!other.waited, "other keys do not wait");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "the second request waits for the first");
        drop(first);
        assert!(waiting.await.unwrap(), "and knows it waited");
        drop(other);
        assert!(cache.in_flight.lock().unwrap().is_empty(), "finished keys are forgotten");
    }
}

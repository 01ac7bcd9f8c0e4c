//! Sessions decoded recently, so a read of bytes already seen skips the JSON decode.
//!
//! A store hands the manager a record's bytes; decoding them is the largest part of starting
//! a session kept in memory or in a Redis client-side cache. The cache keeps, per id, the bytes
//! last decoded (or written) and what they decode to. A hit needs the stored bytes to equal
//! the kept ones exactly: decoding is a pure function of the bytes, so a hit gives what a
//! decode would, whatever the store and whoever wrote the record. Versions are not trusted
//! for this: a host store's versions are whatever the host returns.
//!
//! The cache is bounded (8 MiB of stored bytes, `BUDGET_BYTES`), least recently used first out. The wasm build
//! has none: at the edge sessions live in sealed cookies or remote stores of one isolate, and
//! the code would cost module size.

use serde_json::{Map, Value};
use std::sync::Arc;

/// The decoded data of a session, shared by the cache and the sessions read from it.
pub(crate) type Data = Arc<Map<String, Value>>;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use super::Data;
    use lru::LruCache;
    use std::sync::{Mutex, MutexGuard};

    /// What the cache may hold: the kept bytes of every entry plus [`ENTRY_OVERHEAD`] each.
    const BUDGET_BYTES: usize = 8 << 20;

    /// What an entry costs beyond its bytes, roughly: its id, the decoded map's nodes and the
    /// LRU links.
    pub(super) const ENTRY_OVERHEAD: usize = 1024;

    /// Records larger than this are not kept: one would push out many small sessions.
    pub(super) const MAX_ENTRY_BYTES: usize = 64 << 10;

    struct Entry {
        bytes: Vec<u8>,
        created: u64,
        data: Data,
    }

    struct Inner {
        entries: LruCache<String, Entry>,
        used: usize,
    }

    /// Decoded sessions by id, with the bytes they came from.
    pub(crate) struct Decoded {
        inner: Mutex<Inner>,
        budget: usize,
    }

    fn cost(bytes: &[u8]) -> usize {
        bytes.len() + ENTRY_OVERHEAD
    }

    impl Decoded {
        pub(crate) fn new() -> Self {
            Decoded::with_budget(BUDGET_BYTES)
        }

        pub(crate) fn with_budget(budget: usize) -> Self {
            Decoded {
                inner: Mutex::new(Inner {
                    entries: LruCache::unbounded(),
                    used: 0,
                }),
                budget,
            }
        }

        fn lock(&self) -> MutexGuard<'_, Inner> {
            // The map stays consistent even if a holder panicked: every change is one call.
            self.inner.lock().unwrap_or_else(|e| e.into_inner())
        }

        /// The creation time and data that `bytes`, stored under `id`, decode to, if these
        /// very bytes were kept.
        pub(crate) fn get(&self, id: &str, bytes: &[u8]) -> Option<(u64, Data)> {
            let mut inner = self.lock();
            let entry = inner.entries.get(id)?;
            (entry.bytes == bytes).then(|| (entry.created, entry.data.clone()))
        }

        /// Keeps what `bytes` under `id` decode to, replacing what was kept for `id`.
        pub(crate) fn put(&self, id: &str, bytes: Vec<u8>, created: u64, data: Data) {
            let mut inner = self.lock();
            let inner = &mut *inner;
            if bytes.len() > MAX_ENTRY_BYTES {
                if let Some(old) = inner.entries.pop(id) {
                    inner.used -= cost(&old.bytes);
                }
                return;
            }
            inner.used += cost(&bytes);
            if let Some(entry) = inner.entries.get_mut(id) {
                inner.used -= cost(&entry.bytes);
                *entry = Entry {
                    bytes,
                    created,
                    data,
                };
            } else {
                inner.entries.push(
                    id.to_owned(),
                    Entry {
                        bytes,
                        created,
                        data,
                    },
                );
            }
            while inner.used > self.budget {
                match inner.entries.pop_lru() {
                    Some((_, old)) => inner.used -= cost(&old.bytes),
                    None => break,
                }
            }
        }

        /// Drops what was kept for `id` (a destroyed session).
        pub(crate) fn forget(&self, id: &str) {
            let mut inner = self.lock();
            if let Some(old) = inner.entries.pop(id) {
                inner.used -= cost(&old.bytes);
            }
        }

        /// How many sessions are kept, and the bytes they count for.
        #[cfg(test)]
        pub(crate) fn usage(&self) -> (usize, usize) {
            let inner = self.lock();
            (inner.entries.len(), inner.used)
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use native::Decoded;

/// The wasm build keeps nothing.
#[cfg(target_arch = "wasm32")]
pub(crate) struct Decoded;

#[cfg(target_arch = "wasm32")]
impl Decoded {
    pub(crate) fn new() -> Self {
        Decoded
    }

    pub(crate) fn get(&self, _id: &str, _bytes: &[u8]) -> Option<(u64, Data)> {
        None
    }

    pub(crate) fn put(&self, _id: &str, _bytes: Vec<u8>, _created: u64, _data: Data) {}

    pub(crate) fn forget(&self, _id: &str) {}
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::native::{ENTRY_OVERHEAD, MAX_ENTRY_BYTES};
    use super::*;
    use serde_json::json;

    fn data(n: i64) -> Data {
        let Value::Object(m) = json!({ "n": n }) else {
            unreachable!()
        };
        Arc::new(m)
    }

    #[test]
    fn a_hit_needs_the_same_bytes() {
        let cache = Decoded::new();
        cache.put("a", b"one".to_vec(), 5, data(1));
        let (created, hit) = cache.get("a", b"one").expect("kept");
        assert_eq!((created, hit["n"].as_i64()), (5, Some(1)));
        assert!(
            cache.get("a", b"two").is_none(),
            "other bytes under the same id"
        );
        assert!(
            cache.get("b", b"one").is_none(),
            "the same bytes under another id"
        );
        cache.put("a", b"two".to_vec(), 6, data(2));
        assert!(cache.get("a", b"one").is_none(), "replaced");
        assert_eq!(cache.get("a", b"two").map(|(c, _)| c), Some(6));
        cache.forget("a");
        assert!(cache.get("a", b"two").is_none());
        assert_eq!(cache.usage(), (0, 0));
    }

    #[test]
    fn the_budget_evicts_the_least_recently_used() {
        let cache = Decoded::with_budget(3 * (ENTRY_OVERHEAD + 10));
        for id in ["a", "b", "c"] {
            cache.put(id, vec![0; 10], 0, data(0));
        }
        assert!(
            cache.get("a", &[0; 10]).is_some(),
            "a is now the most recent"
        );
        cache.put("d", vec![0; 10], 0, data(0));
        assert!(
            cache.get("b", &[0; 10]).is_none(),
            "b was the least recently used"
        );
        for id in ["a", "c", "d"] {
            assert!(cache.get(id, &[0; 10]).is_some(), "{id} kept");
        }
        assert_eq!(cache.usage(), (3, 3 * (ENTRY_OVERHEAD + 10)));
    }

    #[test]
    fn large_records_are_not_kept() {
        let cache = Decoded::new();
        cache.put("a", b"small".to_vec(), 0, data(0));
        cache.put("a", vec![b' '; MAX_ENTRY_BYTES + 1], 0, data(1));
        assert!(cache.get("a", b"small").is_none(), "the old entry went");
        assert_eq!(cache.usage(), (0, 0));
    }
}

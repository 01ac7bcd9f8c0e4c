//! The `memory` provider: an LRU map by last access, in this process only.

use crate::error::{Error, Result};
use crate::store::{Capabilities, Expect, Record, Store};
use lru::LruCache;
use std::num::NonZeroUsize;
use std::sync::{Mutex, MutexGuard};

/// The default number of sessions kept before the least recently used one is evicted.
pub const DEFAULT_CAPACITY: usize = 1_000_000;

/// Sessions in a process-local LRU map, with atomic compare-and-set, touch and regenerate.
///
/// The least recently used session is evicted when `capacity` is reached, so a flood of new
/// sessions cannot exhaust memory. Its provider config is empty, a number (the capacity) or
/// `{"capacity": N}`.
///
/// ```
/// use polysession_core::MemoryStore;
/// let store = MemoryStore::from_config("500").unwrap();
/// assert_eq!(store.capacity(), 500);
/// ```
pub struct MemoryStore {
    map: Mutex<LruCache<String, Record>>,
}

impl MemoryStore {
    /// A store keeping at most `capacity` sessions (at least 1).
    pub fn new(capacity: usize) -> Self {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        MemoryStore {
            map: Mutex::new(LruCache::new(capacity)),
        }
    }

    /// Parses beego-style provider config: empty, `"N"` or `{"capacity": N}`.
    ///
    /// # Errors
    /// [`BadConfig`](crate::ErrorKind::BadConfig) naming `providerConfig` for anything else.
    pub fn from_config(config: &str) -> Result<Self> {
        let config = config.trim();
        if config.is_empty() {
            return Ok(MemoryStore::new(DEFAULT_CAPACITY));
        }
        let bad = || {
            Error::bad_config(
                "providerConfig",
                "memory expects a capacity N or {\"capacity\": N} with N > 0",
            )
        };
        let n = if let Ok(n) = config.parse::<usize>() {
            n
        } else {
            let v: serde_json::Value = serde_json::from_str(config).map_err(|_| bad())?;
            v.get("capacity").and_then(|c| c.as_u64()).ok_or_else(bad)? as usize
        };
        if n == 0 {
            return Err(bad());
        }
        Ok(MemoryStore::new(n))
    }

    /// The most sessions this store keeps.
    pub fn capacity(&self) -> usize {
        self.lock().cap().get()
    }

    fn lock(&self) -> MutexGuard<'_, LruCache<String, Record>> {
        // A panic while holding the lock cannot leave a record half-written (every update is a
        // single insert), so a poisoned map is still consistent.
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new(DEFAULT_CAPACITY)
    }
}

fn expect_holds(current: Option<&Record>, expect: Expect) -> bool {
    match (expect, current) {
        (Expect::Any, _) => true,
        (Expect::Absent, None) => true,
        (Expect::Version(v), Some(r)) => r.version == v,
        _ => false,
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl Store for MemoryStore {
    fn name(&self) -> &str {
        "memory"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            native_ttl: false,
            compare_and_set: true,
            touch: true,
        }
    }

    async fn read(&self, id: &str) -> Result<Option<Record>> {
        Ok(self.lock().get(id).cloned())
    }

    async fn write(&self, id: &str, record: &Record, expect: Expect) -> Result<bool> {
        let mut map = self.lock();
        if !expect_holds(map.peek(id), expect) {
            return Ok(false);
        }
        map.put(id.to_owned(), record.clone());
        Ok(true)
    }

    async fn touch(&self, id: &str, expires_at_ms: u64) -> Result<bool> {
        Ok(match self.lock().get_mut(id) {
            Some(r) => {
                r.expires_at_ms = expires_at_ms;
                true
            }
            None => false,
        })
    }

    async fn destroy(&self, id: &str) -> Result<()> {
        self.lock().pop(id);
        Ok(())
    }

    async fn regenerate(&self, old: &str, new: &str) -> Result<bool> {
        let mut map = self.lock();
        if map.contains(new) {
            return Ok(false);
        }
        match map.pop(old) {
            Some(record) => {
                map.put(new.to_owned(), record);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn count(&self, now_ms: u64) -> Result<u64> {
        Ok(self
            .lock()
            .iter()
            .filter(|(_, r)| r.expires_at_ms > now_ms)
            .count() as u64)
    }

    async fn gc(&self, now_ms: u64) -> Result<u64> {
        let mut map = self.lock();
        let expired: Vec<String> = map
            .iter()
            .filter(|(_, r)| r.expires_at_ms <= now_ms)
            .map(|(k, _)| k.clone())
            .collect();
        for id in &expired {
            map.pop(id);
        }
        Ok(expired.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_executor::block_on;

    fn rec(v: u64, exp: u64) -> Record {
        Record {
            data: b"{}".to_vec(),
            expires_at_ms: exp,
            version: v,
        }
    }

    #[test]
    fn compare_and_set() {
        block_on(async {
            let s = MemoryStore::default();
            assert!(s.write("a", &rec(1, 10), Expect::Absent).await.unwrap());
            assert!(!s.write("a", &rec(2, 10), Expect::Absent).await.unwrap());
            assert!(!s.write("a", &rec(2, 10), Expect::Version(7)).await.unwrap());
            assert!(s.write("a", &rec(2, 10), Expect::Version(1)).await.unwrap());
            assert_eq!(s.read("a").await.unwrap().unwrap().version, 2);
            assert!(!s.write("b", &rec(2, 10), Expect::Version(1)).await.unwrap());
        });
    }

    #[test]
    fn lru_evicts_least_recently_used() {
        block_on(async {
            let s = MemoryStore::new(2);
            s.write("a", &rec(1, 10), Expect::Any).await.unwrap();
            s.write("b", &rec(1, 10), Expect::Any).await.unwrap();
            s.read("a").await.unwrap(); // a is now the most recent
            s.write("c", &rec(1, 10), Expect::Any).await.unwrap();
            assert!(s.read("a").await.unwrap().is_some());
            assert!(s.read("b").await.unwrap().is_none());
        });
    }

    #[test]
    fn gc_count_touch_regenerate() {
        block_on(async {
            let s = MemoryStore::default();
            s.write("old", &rec(1, 5), Expect::Any).await.unwrap();
            s.write("live", &rec(1, 50), Expect::Any).await.unwrap();
            assert_eq!(s.count(10).await.unwrap(), 1);
            assert!(s.touch("old", 100).await.unwrap());
            assert_eq!(s.count(10).await.unwrap(), 2);
            assert!(!s.touch("none", 100).await.unwrap());
            assert!(s.regenerate("old", "new").await.unwrap());
            assert!(s.read("old").await.unwrap().is_none());
            assert_eq!(s.read("new").await.unwrap().unwrap().expires_at_ms, 100);
            assert!(!s.regenerate("old", "other").await.unwrap());
            assert_eq!(s.gc(60).await.unwrap(), 1);
            assert_eq!(s.count(0).await.unwrap(), 1);
        });
    }

    #[test]
    fn config_forms() {
        assert_eq!(
            MemoryStore::from_config("").unwrap().capacity(),
            DEFAULT_CAPACITY
        );
        assert_eq!(MemoryStore::from_config("7").unwrap().capacity(), 7);
        assert_eq!(
            MemoryStore::from_config(r#"{"capacity":9}"#)
                .unwrap()
                .capacity(),
            9
        );
        for bad in ["0", "-1", "x", r#"{"capacity":0}"#, r#"{"cap":1}"#] {
            let err = MemoryStore::from_config(bad).err().unwrap();
            assert!(err.to_string().contains("providerConfig"), "{bad}");
        }
    }
}

//! The `memory` provider: an LRU map by last access, in this process only.

use crate::error::{Error, Result};
use crate::store::{Capabilities, Expect, Record, Store};
use lru::LruCache;
#[cfg(not(target_arch = "wasm32"))]
use std::collections::BTreeSet;
use std::future::Future;
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

/// The default number of sessions kept before the least recently used one is evicted.
pub const DEFAULT_CAPACITY: usize = 1_000_000;

/// GC removes at most this many records per hold of the lock, then lets other tasks run.
const GC_CHUNK: usize = 1024;

/// Sessions in a process-local LRU map, with atomic compare-and-set, touch and regenerate.
///
/// The least recently used session is evicted when `capacity` is reached, so a flood of new
/// sessions cannot exhaust memory. Its provider config is empty, a number (the capacity) or
/// `{"capacity": N}`. An index by expiry keeps `count` and `gc` proportional to the expired
/// records, not to every record, and GC releases the lock between chunks.
///
/// ```
/// use polysession_core::MemoryStore;
/// let store = MemoryStore::from_config("500").unwrap();
/// assert_eq!(store.capacity(), 500);
/// ```
pub struct MemoryStore {
    map: Mutex<Inner>,
}

/// The records and an index of them by expiry. Both hold the same `Arc<str>` of each id, so
/// keeping them in step allocates nothing for an id already stored.
struct Inner {
    records: LruCache<Arc<str>, Record>,
    by_expiry: Index,
}

impl Inner {
    /// Stores `record` under `id` as the most recently used one.
    fn put(&mut self, id: &str, record: Record) {
        let at = record.expires_at_ms;
        if let Some((key, slot)) = self.records.get_key_value_mut(id) {
            let old = std::mem::replace(slot, record).expires_at_ms;
            if old != at {
                self.by_expiry.remove(old, key);
                self.by_expiry.insert(at, key.clone());
            }
            return;
        }
        let key: Arc<str> = Arc::from(id);
        // At capacity: the least recently used record was evicted; unindex it.
        if let Some((old_id, old)) = self.records.push(key.clone(), record) {
            self.by_expiry.remove(old.expires_at_ms, &old_id);
        }
        self.by_expiry.insert(at, key);
    }

    /// Moves the expiry of the record under `id`, making it the most recently used one.
    fn touch(&mut self, id: &str, at: u64) -> bool {
        let Some((key, record)) = self.records.get_key_value_mut(id) else {
            return false;
        };
        let old = std::mem::replace(&mut record.expires_at_ms, at);
        if old != at {
            self.by_expiry.remove(old, key);
            self.by_expiry.insert(at, key.clone());
        }
        true
    }

    fn pop(&mut self, id: &str) -> Option<Record> {
        let (key, record) = self.records.pop_entry(id)?;
        self.by_expiry.remove(record.expires_at_ms, &key);
        Some(record)
    }
}

/// Records by expiry. Native builds index them, so count and GC cost the expired records only.
/// The wasm build scans instead: at the edge the memory provider is a development store in one
/// isolate, and the index would add about 4 KB (gzip) to the module.
#[cfg(not(target_arch = "wasm32"))]
struct Index(BTreeSet<(u64, Arc<str>)>);

#[cfg(not(target_arch = "wasm32"))]
impl Index {
    fn new() -> Self {
        Index(BTreeSet::new())
    }

    fn insert(&mut self, at: u64, id: Arc<str>) {
        self.0.insert((at, id));
    }

    fn remove(&mut self, at: u64, id: &Arc<str>) {
        self.0.remove(&(at, id.clone()));
    }

    /// How many records expired at `now_ms` (expiry <= now).
    fn expired(&self, _records: &LruCache<Arc<str>, Record>, now_ms: u64) -> usize {
        self.0
            .range(..(now_ms.saturating_add(1), Arc::from("")))
            .count()
    }

    /// Unindexes and returns up to `max` ids expired at `now_ms`, earliest first.
    fn take_expired(
        &mut self,
        _records: &LruCache<Arc<str>, Record>,
        now_ms: u64,
        max: usize,
    ) -> Vec<Arc<str>> {
        let mut ids = Vec::new();
        while ids.len() < max {
            match self.0.first() {
                Some((at, _)) if *at <= now_ms => {}
                _ => break,
            }
            if let Some((_, id)) = self.0.pop_first() {
                ids.push(id);
            }
        }
        ids
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.len()
    }
}

#[cfg(target_arch = "wasm32")]
struct Index;

#[cfg(target_arch = "wasm32")]
impl Index {
    fn new() -> Self {
        Index
    }

    fn insert(&mut self, _at: u64, _id: Arc<str>) {}

    fn remove(&mut self, _at: u64, _id: &Arc<str>) {}

    fn expired(&self, records: &LruCache<Arc<str>, Record>, now_ms: u64) -> usize {
        records
            .iter()
            .filter(|(_, r)| r.expires_at_ms <= now_ms)
            .count()
    }

    fn take_expired(
        &mut self,
        records: &LruCache<Arc<str>, Record>,
        now_ms: u64,
        _max: usize,
    ) -> Vec<Arc<str>> {
        records
            .iter()
            .filter(|(_, r)| r.expires_at_ms <= now_ms)
            .map(|(id, _)| id.clone())
            .collect()
    }
}

/// Returns `Pending` once, so other tasks run between GC chunks (any executor).
struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl MemoryStore {
    /// A store keeping at most `capacity` sessions (at least 1). Memory grows with the
    /// sessions held, not with the capacity: nothing is allocated ahead (`LruCache::new`
    /// would reserve a table for `capacity` entries, and a config with a huge capacity
    /// aborted the process; found by fuzzing).
    pub fn new(capacity: usize) -> Self {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        let mut records = LruCache::unbounded();
        records.resize(capacity);
        MemoryStore {
            map: Mutex::new(Inner {
                records,
                by_expiry: Index::new(),
            }),
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
        self.lock().records.cap().get()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
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
        Ok(self.lock().records.get(id).cloned())
    }

    async fn write(&self, id: &str, record: &Record, expect: Expect) -> Result<bool> {
        let mut map = self.lock();
        if !expect_holds(map.records.peek(id), expect) {
            return Ok(false);
        }
        map.put(id, record.clone());
        Ok(true)
    }

    async fn touch(&self, id: &str, expires_at_ms: u64) -> Result<bool> {
        Ok(self.lock().touch(id, expires_at_ms))
    }

    async fn destroy(&self, id: &str) -> Result<()> {
        self.lock().pop(id);
        Ok(())
    }

    async fn regenerate(&self, old: &str, new: &str) -> Result<bool> {
        let mut map = self.lock();
        if map.records.contains(new) {
            return Ok(false);
        }
        match map.pop(old) {
            Some(record) => {
                map.put(new, record);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Live records: all of them minus the expired ones, counted in the expiry index.
    async fn count(&self, now_ms: u64) -> Result<u64> {
        let map = self.lock();
        Ok((map.records.len() - map.by_expiry.expired(&map.records, now_ms)) as u64)
    }

    /// Removes expired records from the front of the expiry index, 1024 at a time.
    async fn gc(&self, now_ms: u64) -> Result<u64> {
        let mut removed = 0u64;
        loop {
            let more = {
                let mut map = self.lock();
                let Inner { records, by_expiry } = &mut *map;
                let ids = by_expiry.take_expired(records, now_ms, GC_CHUNK);
                for id in &ids {
                    records.pop(&**id);
                }
                removed += ids.len() as u64;
                ids.len() >= GC_CHUNK
            };
            if !more {
                return Ok(removed);
            }
            YieldNow(false).await;
        }
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

    /// The index agrees with a plain scan after any mix of writes, touches, regenerates,
    /// destroys and LRU evictions; GC runs in chunks over more than one chunk's worth.
    #[test]
    fn the_expiry_index_matches_a_scan() {
        block_on(async {
            let s = MemoryStore::new(3000);
            let mut seed = 7u64;
            let mut next = |n: u64| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (seed >> 33) % n
            };
            for _ in 0..20_000 {
                let id = format!("k{}", next(4000));
                match next(5) {
                    0 | 1 => {
                        s.write(&id, &rec(1, next(1000)), Expect::Any)
                            .await
                            .unwrap();
                    }
                    2 => {
                        s.touch(&id, next(1000)).await.unwrap();
                    }
                    3 => {
                        s.regenerate(&id, &format!("k{}", next(4000)))
                            .await
                            .unwrap();
                    }
                    _ => s.destroy(&id).await.unwrap(),
                }
            }
            let scan = |now: u64| {
                let map = s.lock();
                let live = map
                    .records
                    .iter()
                    .filter(|(_, r)| r.expires_at_ms > now)
                    .count();
                (live, map.records.len(), map.by_expiry.len())
            };
            for now in [0, 250, 500, 999] {
                let (live, len, indexed) = scan(now);
                assert_eq!(indexed, len, "one index entry per record");
                assert_eq!(s.count(now).await.unwrap(), live as u64, "count at {now}");
            }
            let (live, len, _) = scan(600);
            assert!(len - live > GC_CHUNK, "more than one chunk to collect");
            assert_eq!(s.gc(600).await.unwrap(), (len - live) as u64);
            assert_eq!(scan(600), (live, live, live));
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

    /// Found by fuzzing (fuzz/regressions/config): a huge capacity reserved a table for it
    /// up front and aborted the process. Nothing is reserved now; the LRU limit still holds.
    #[test]
    fn a_huge_capacity_reserves_nothing_and_still_evicts() {
        let huge = MemoryStore::from_config("344444447333333333").unwrap();
        assert_eq!(huge.capacity(), 344_444_447_333_333_333);
        let max = MemoryStore::new(usize::MAX);
        assert_eq!(max.capacity(), usize::MAX);
        let small = MemoryStore::new(2);
        block_on(async {
            for id in ["a", "b", "c"] {
                let record = Record {
                    data: b"{}".to_vec(),
                    expires_at_ms: u64::MAX,
                    version: 0,
                };
                assert!(small.write(id, &record, Expect::Any).await.unwrap());
            }
            assert_eq!(
                small.read("a").await.unwrap(),
                None,
                "the oldest is evicted"
            );
            assert!(small.read("c").await.unwrap().is_some());
        });
    }
}

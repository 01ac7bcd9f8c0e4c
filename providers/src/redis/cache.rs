//! Server-assisted client-side caching (RESP3 `CLIENT TRACKING`) for the `redis` and
//! `redis_sentinel` providers.
//!
//! The connection turns tracking on with `NOLOOP`: Redis remembers every key this connection
//! reads and pushes an `invalidate` message on the same connection when another client changes
//! or deletes one of them (expiry and eviction included). Our own writes send no message; the
//! write script reads its key again last, so the key stays tracked, and the record we wrote is
//! what the cache then holds. A read of a cached, unchanged session sends no command; a write
//! sends one.
//!
//! # Why cached answers stay right
//!
//! Redis answers and pushes in order on one connection, and the connection's reader hands a
//! push to [`Cache::push`] before it reads anything after it. So when the answer to a command
//! sent at `t` arrives, every change another client made before `t` has already emptied its
//! entry. What remains is the race between a command's answer and changes that come after it:
//!
//! - Each command about a key takes a [`Ticket`] before it is sent. Every event that may
//!   change a key (an invalidation, our own write, touch, destroy or move, finished or failed)
//!   bumps the key's generation while commands about it are in flight. An answer is cached
//!   only when its key's generation, and the connection (its epoch), are the ones its ticket
//!   saw: a read that raced a change is used for this request and not kept.
//! - A new connection, a lost one (the reader reports it) and a flush of the database empty
//!   the whole cache.
//! - A connection that falls silent (a network partition gives no error until a timeout) is
//!   not trusted for longer than `max_stale`: the cache answers only while some command sent
//!   in that window has been answered; otherwise the read goes to Redis, whose answer
//!   refreshes it.

use lru::LruCache;
use polysession_core::Record;
use redis::{PushInfo, PushKind, Value};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Settings of the client-side cache (`client_cache*` keys of the provider config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientCache {
    /// The most sessions kept; the least recently used goes first.
    pub entries: usize,
    /// The most payload bytes kept, all sessions together.
    pub bytes: usize,
    /// How long the cache answers after the last command Redis answered was sent: the bound
    /// on staleness when the connection falls silent without an error.
    pub max_stale: Duration,
}

impl Default for ClientCache {
    fn default() -> Self {
        ClientCache {
            entries: 10_000,
            bytes: 64 << 20,
            max_stale: Duration::from_secs(1),
        }
    }
}

/// Counters of a cache since the store was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Reads answered from the cache.
    pub hits: u64,
    /// Reads sent to Redis while the cache was on.
    pub misses: u64,
    /// Keys emptied by an invalidation message from the server.
    pub invalidations: u64,
    /// Times the whole cache was emptied (new or lost connection, flush).
    pub resets: u64,
    /// Sessions held now.
    pub entries: u64,
}

/// Taken before a command about `key` is sent; given back with its outcome. Dropped
/// unanswered (the caller gave up), it counts as a change of unknown outcome.
pub(crate) struct Ticket<'a> {
    cache: &'a Cache,
    key: String,
    epoch: u64,
    generation: u64,
    sent: Instant,
    done: bool,
}

/// What a finished write, touch or destroy tells about its key.
pub(crate) enum Known<'a> {
    /// The key now holds this record (our write succeeded).
    Record(&'a Record),
    /// The key's expiry moved (our touch succeeded).
    Expiry(u64),
    /// Nothing worth keeping: deleted, a failed compare-and-set, or an error.
    Nothing,
}

pub(crate) struct Cache {
    settings: ClientCache,
    inner: Mutex<Inner>,
}

struct Inner {
    /// The connection whose answers and pushes count; bumped by every new or lost one.
    epoch: u64,
    /// A tracked connection is up for `epoch`.
    live: bool,
    /// When the newest command answered on the live connection was sent.
    verified: Option<Instant>,
    entries: LruCache<String, Record>,
    bytes: usize,
    /// Keys with commands in flight: (generation, commands).
    in_flight: HashMap<String, (u64, u32)>,
    stats: CacheStats,
}

impl Cache {
    pub(crate) fn new(settings: ClientCache) -> Self {
        Cache {
            settings,
            inner: Mutex::new(Inner {
                epoch: 0,
                live: false,
                verified: None,
                entries: LruCache::unbounded(),
                bytes: 0,
                in_flight: HashMap::new(),
                stats: CacheStats::default(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent data (every step is a plain
        // assignment), so a poisoned lock is used as is.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The record cached under `key`, when the live connection vouches for it.
    pub(crate) fn get(&self, key: &str) -> Option<Record> {
        let mut inner = self.lock();
        let fresh = inner.live
            && inner
                .verified
                .is_some_and(|t| t.elapsed() < self.settings.max_stale);
        let hit = if fresh {
            inner.entries.get(key).cloned()
        } else {
            None
        };
        if hit.is_some() {
            inner.stats.hits += 1;
        } else {
            inner.stats.misses += 1;
        }
        hit
    }

    /// A ticket for a command about `key`, about to be sent on the current connection.
    pub(crate) fn ticket(&self, key: &str) -> Ticket<'_> {
        let mut inner = self.lock();
        let epoch = inner.epoch;
        let slot = inner.in_flight.entry(key.to_owned()).or_insert((0, 0));
        slot.1 += 1;
        Ticket {
            cache: self,
            key: key.to_owned(),
            epoch,
            generation: slot.0,
            sent: Instant::now(),
            done: false,
        }
    }

    /// A key changed outside this ticket's command (a moved session's other id).
    pub(crate) fn forget(&self, key: &str) {
        let mut inner = self.lock();
        inner.bump(key);
        inner.remove(key);
    }

    /// Starts a new connection: the cache empties; its pushes will carry the new epoch.
    pub(crate) fn connecting(&self) -> u64 {
        let mut inner = self.lock();
        inner.epoch += 1;
        inner.live = false;
        inner.reset();
        inner.epoch
    }

    /// The connection of `epoch` has tracking on: the cache may fill.
    pub(crate) fn connected(&self, epoch: u64) {
        let mut inner = self.lock();
        if inner.epoch == epoch {
            inner.live = true;
            inner.verified = Some(Instant::now());
        }
    }

    /// The connection of `epoch` is lost or no longer trusted: the cache empties.
    pub(crate) fn lost(&self, epoch: u64) {
        let mut inner = self.lock();
        if inner.epoch == epoch && inner.live {
            inner.live = false;
            inner.reset();
        }
    }

    /// A push from the connection of `epoch`, in the order the server sent it.
    pub(crate) fn push(&self, epoch: u64, info: &PushInfo) {
        match info.kind {
            PushKind::Disconnection => self.lost(epoch),
            PushKind::Invalidate => {
                let mut inner = self.lock();
                if inner.epoch != epoch {
                    return;
                }
                match info.data.first() {
                    Some(Value::Array(keys)) => {
                        for key in keys {
                            let key = match key {
                                Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
                                Value::SimpleString(s) => s.clone(),
                                _ => continue,
                            };
                            inner.stats.invalidations += 1;
                            inner.bump(&key);
                            inner.remove(&key);
                        }
                    }
                    // FLUSHDB / FLUSHALL: every key is gone.
                    _ => inner.reset(),
                }
            }
            _ => {}
        }
    }

    /// The counters, and the number of sessions held now.
    pub(crate) fn stats(&self) -> CacheStats {
        let inner = self.lock();
        CacheStats {
            entries: inner.entries.len() as u64,
            ..inner.stats
        }
    }
}

impl Ticket<'_> {
    /// Gives back a read's ticket: `answer` (when Redis answered) is cached if nothing may
    /// have changed its key meanwhile.
    pub(crate) fn read_done(mut self, answer: Option<Option<&Record>>) {
        self.done = true;
        let cache = self.cache;
        let mut inner = cache.lock();
        let unchanged = inner.release(&self);
        let Some(found) = answer else { return };
        if self.epoch != inner.epoch || !inner.live {
            return;
        }
        inner.answered(self.sent);
        match found {
            Some(record) if unchanged => inner.put(&cache.settings, &self.key, record.clone()),
            // Absent (or raced): nothing cached. A later read asks again.
            _ => inner.remove(&self.key),
        }
    }

    /// Gives back the ticket of our own change to its key: what the key holds now, when
    /// known, replaces the entry; every read of the key in flight is kept from the cache.
    /// `answered`: Redis answered (the connection vouches for itself).
    pub(crate) fn change_done(mut self, known: Known<'_>, answered: bool) {
        self.done = true;
        let cache = self.cache;
        let mut inner = cache.lock();
        let unchanged = inner.release(&self);
        inner.bump(&self.key);
        let current = self.epoch == inner.epoch && inner.live;
        if current && answered {
            inner.answered(self.sent);
        }
        match known {
            Known::Record(record) if unchanged && current => {
                inner.put(&cache.settings, &self.key, record.clone());
            }
            Known::Expiry(at) if unchanged && current => {
                if let Some(entry) = inner.entries.get_mut(&self.key) {
                    entry.expires_at_ms = at;
                }
            }
            _ => inner.remove(&self.key),
        }
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut inner = self.cache.lock();
        inner.release(self);
        inner.bump(&self.key);
        inner.remove(&self.key);
    }
}

impl Inner {
    /// Ends `ticket`'s command; true when its key's generation did not move meanwhile.
    fn release(&mut self, ticket: &Ticket<'_>) -> bool {
        let Some(slot) = self.in_flight.get_mut(&ticket.key) else {
            return false;
        };
        let unchanged = slot.0 == ticket.generation;
        slot.1 = slot.1.saturating_sub(1);
        if slot.1 == 0 {
            self.in_flight.remove(&ticket.key);
        }
        unchanged
    }

    fn bump(&mut self, key: &str) {
        if let Some(slot) = self.in_flight.get_mut(key) {
            slot.0 += 1;
        }
    }

    fn answered(&mut self, sent: Instant) {
        if self.verified.is_none_or(|t| t < sent) {
            self.verified = Some(sent);
        }
    }

    fn put(&mut self, settings: &ClientCache, key: &str, record: Record) {
        let size = key.len() + record.data.len();
        if size > settings.bytes || settings.entries == 0 {
            self.remove(key);
            return;
        }
        if let Some(old) = self.entries.put(key.to_owned(), record) {
            self.bytes -= key.len() + old.data.len();
        }
        self.bytes += size;
        while self.entries.len() > settings.entries || self.bytes > settings.bytes {
            match self.entries.pop_lru() {
                Some((k, r)) => self.bytes -= k.len() + r.data.len(),
                None => break,
            }
        }
    }

    fn remove(&mut self, key: &str) {
        if let Some(old) = self.entries.pop(key) {
            self.bytes -= key.len() + old.data.len();
        }
    }

    fn reset(&mut self) {
        self.entries.clear();
        self.bytes = 0;
        self.verified = None;
        for slot in self.in_flight.values_mut() {
            slot.0 += 1;
        }
        self.stats.resets += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(version: u64, data: &str) -> Record {
        Record {
            data: data.as_bytes().to_vec(),
            expires_at_ms: 1,
            version,
        }
    }

    fn live() -> (Cache, u64) {
        let cache = Cache::new(ClientCache::default());
        let epoch = cache.connecting();
        cache.connected(epoch);
        (cache, epoch)
    }

    fn invalidate(key: &str) -> PushInfo {
        PushInfo {
            kind: PushKind::Invalidate,
            data: vec![Value::Array(vec![Value::BulkString(key.into())])],
        }
    }

    #[test]
    fn a_read_answer_is_kept_until_invalidated() {
        let (cache, epoch) = live();
        cache.ticket("k").read_done(Some(Some(&record(1, "a"))));
        assert_eq!(cache.get("k").map(|r| r.version), Some(1));
        cache.push(epoch, &invalidate("k"));
        assert_eq!(cache.get("k"), None);
    }

    #[test]
    fn a_read_that_raced_an_invalidation_is_not_kept() {
        let (cache, epoch) = live();
        let t = cache.ticket("k");
        cache.push(epoch, &invalidate("k"));
        t.read_done(Some(Some(&record(1, "old"))));
        assert_eq!(cache.get("k"), None);
    }

    #[test]
    fn a_read_that_raced_our_own_change_is_not_kept() {
        // The read was answered before our destroy reached Redis, and its task runs last.
        let (cache, _) = live();
        let read = cache.ticket("k");
        let destroy = cache.ticket("k");
        destroy.change_done(Known::Nothing, true);
        read.read_done(Some(Some(&record(1, "destroyed"))));
        assert_eq!(cache.get("k"), None);
        // The same for a write: the written record stays, not the older answer.
        let read = cache.ticket("k");
        let write = cache.ticket("k");
        write.change_done(Known::Record(&record(3, "new")), true);
        read.read_done(Some(Some(&record(2, "old"))));
        assert_eq!(cache.get("k"), None, "a raced read drops the entry");
        // A ticket dropped unanswered (its request was cancelled) counts as a change.
        cache.ticket("k").read_done(Some(Some(&record(3, "new"))));
        let read = cache.ticket("k");
        drop(cache.ticket("k"));
        assert_eq!(cache.get("k"), None);
        read.read_done(Some(Some(&record(3, "new"))));
        assert_eq!(cache.get("k"), None);
    }

    #[test]
    fn a_write_keeps_what_it_wrote_and_a_failed_one_drops_the_entry() {
        let (cache, _) = live();
        cache
            .ticket("k")
            .change_done(Known::Record(&record(2, "b")), true);
        assert_eq!(cache.get("k").map(|r| r.version), Some(2));
        cache.ticket("k").change_done(Known::Expiry(99), true);
        assert_eq!(cache.get("k").map(|r| r.expires_at_ms), Some(99));
        cache.ticket("k").change_done(Known::Nothing, false);
        assert_eq!(cache.get("k"), None);
    }

    #[test]
    fn a_lost_or_new_connection_empties_everything() {
        let (cache, epoch) = live();
        cache.ticket("k").read_done(Some(Some(&record(1, "a"))));
        cache.push(
            epoch,
            &PushInfo {
                kind: PushKind::Disconnection,
                data: vec![],
            },
        );
        assert_eq!(cache.get("k"), None);
        // An answer from the old connection is not kept on the new one.
        let old = cache.ticket("k");
        let epoch2 = cache.connecting();
        cache.connected(epoch2);
        old.read_done(Some(Some(&record(1, "a"))));
        assert_eq!(cache.get("k"), None);
        // A push of the old connection does not touch the new one's entries.
        cache.ticket("k").read_done(Some(Some(&record(1, "a"))));
        cache.push(epoch, &invalidate("k"));
        assert!(cache.get("k").is_some());
        // A flush (a null instead of keys) empties everything.
        cache.push(
            epoch2,
            &PushInfo {
                kind: PushKind::Invalidate,
                data: vec![Value::Nil],
            },
        );
        assert_eq!(cache.get("k"), None);
    }

    #[test]
    fn a_silent_connection_stops_answering_after_max_stale() {
        let cache = Cache::new(ClientCache {
            max_stale: Duration::from_millis(30),
            ..ClientCache::default()
        });
        let epoch = cache.connecting();
        cache.connected(epoch);
        cache.ticket("k").read_done(Some(Some(&record(1, "a"))));
        assert!(cache.get("k").is_some());
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(cache.get("k"), None, "no answer for 40 ms: not trusted");
        // An answer to a command sent now vouches again.
        cache.ticket("other").read_done(Some(None));
        assert!(cache.get("k").is_some());
    }

    #[test]
    fn bounded_by_entries_and_bytes() {
        let cache = Cache::new(ClientCache {
            entries: 3,
            bytes: 40,
            ..ClientCache::default()
        });
        let epoch = cache.connecting();
        cache.connected(epoch);
        for i in 0..5 {
            cache
                .ticket(&format!("k{i}"))
                .read_done(Some(Some(&record(1, "12345678"))));
        }
        assert_eq!(cache.stats().entries, 3);
        assert!(cache.get("k0").is_none() && cache.get("k4").is_some());
        // 10 bytes each: a fourth would pass 40 bytes even under the entry limit.
        cache
            .ticket("big")
            .read_done(Some(Some(&record(1, &"x".repeat(30)))));
        assert!(cache.get("big").is_some());
        assert!(cache.stats().entries <= 2);
        // One record larger than the budget is not kept at all.
        cache
            .ticket("huge")
            .read_done(Some(Some(&record(1, &"x".repeat(100)))));
        assert!(cache.get("huge").is_none());
        let inner = cache.lock();
        let counted: usize = inner
            .entries
            .iter()
            .map(|(k, r)| k.len() + r.data.len())
            .sum();
        assert_eq!(inner.bytes, counted);
        assert!(inner.in_flight.is_empty());
    }
}

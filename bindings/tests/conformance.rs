//! The conformance kit over the callback store: a consistent host, a host with a
//! conditional put, and an eventually consistent host that serves stale reads for a while.

use futures_executor::block_on;
use polysession_bindings::{CallbackStore, HostError, HostStore, ListPage};
use polysession_conformance::Kit;
use polysession_core::{async_trait, Clock, Config, Manager, ManualClock, Outcome, RequestInfo};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// One key's history: the value now, the value before the last change, and when it changed.
#[derive(Clone, Default)]
struct Entry {
    now: Option<(String, u64)>,
    before: Option<(String, u64)>,
    changed_ms: u64,
}

/// A map host that expires entries by the shared clock; with `stale_ms`, a `get` within that
/// long after a change shows the value before it (an eventually consistent KV). `list` is
/// kept current: a lagging count is no safety matter, and the kit counts right after writes.
struct MapHost {
    map: Mutex<BTreeMap<String, Entry>>,
    clock: Arc<ManualClock>,
    cas: bool,
    stale_ms: u64,
}

impl MapHost {
    fn new(clock: &Arc<ManualClock>, cas: bool, stale_ms: u64) -> Self {
        MapHost {
            map: Mutex::default(),
            clock: clock.clone(),
            cas,
            stale_ms,
        }
    }

    /// The live value of an entry as a reader sees it now (`stale`: allowing staleness).
    fn seen(&self, e: &Entry, stale: bool) -> Option<String> {
        let now = self.clock.now_ms();
        let lagging = stale && now < e.changed_ms + self.stale_ms;
        let v = if lagging { &e.before } else { &e.now };
        v.as_ref()
            .filter(|(_, exp)| *exp > now)
            .map(|(t, _)| t.clone())
    }

    fn set(&self, key: &str, value: Option<(String, u64)>) {
        let mut map = self.map.lock().unwrap();
        let e = map.entry(key.to_owned()).or_default();
        let now = self.clock.now_ms();
        // A change within the stale window keeps the oldest visible value as "before".
        if now >= e.changed_ms + self.stale_ms {
            e.before = e.now.take();
        }
        e.now = value;
        e.changed_ms = now;
    }
}

#[async_trait]
impl HostStore for MapHost {
    async fn get(&self, key: &str) -> Result<Option<String>, HostError> {
        let map = self.map.lock().unwrap();
        Ok(map.get(key).and_then(|e| self.seen(e, true)))
    }
    async fn put(&self, key: &str, value: &str, ttl: u64) -> Result<(), HostError> {
        let expires = self.clock.now_ms() + ttl * 1000;
        self.set(key, Some((value.to_owned(), expires)));
        Ok(())
    }
    async fn delete(&self, key: &str) -> Result<(), HostError> {
        self.set(key, None);
        Ok(())
    }
    fn can_list(&self) -> bool {
        true
    }
    async fn list(&self, prefix: &str, cursor: Option<&str>) -> Result<ListPage, HostError> {
        let map = self.map.lock().unwrap();
        let live: Vec<_> = map
            .iter()
            .filter(|(k, e)| k.starts_with(prefix) && self.seen(e, false).is_some())
            .collect();
        let start: usize = cursor.map_or(0, |c| c.parse().unwrap_or(0));
        let end = (start + 3).min(live.len());
        Ok(ListPage {
            keys: (end - start) as u64,
            cursor: (end < live.len()).then(|| end.to_string()),
        })
    }
    fn can_put_if(&self) -> bool {
        self.cas
    }
    async fn put_if(
        &self,
        key: &str,
        value: &str,
        ttl: u64,
        current: Option<&str>,
    ) -> Result<bool, HostError> {
        let seen = self
            .map
            .lock()
            .unwrap()
            .get(key)
            .and_then(|e| self.seen(e, true));
        if seen.as_deref() != current {
            return Ok(false);
        }
        self.put(key, value, ttl).await?;
        Ok(true)
    }
}

fn kit(label: &str, host: MapHost, clock: &Arc<ManualClock>, window_ms: u64) -> Kit {
    let store = CallbackStore::new(host, "kv", r#"{"prefix":"t:"}"#, clock.clone())
        .unwrap()
        .consistency_window(window_ms);
    let moved = clock.clone();
    Kit::store(label, Arc::new(store))
        .clock(clock.clone())
        .sleep(move |d| {
            moved.advance_ms(d.as_millis() as u64);
            Box::pin(async {})
        })
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(1_700_000_000_000))
}

#[test]
fn a_consistent_host() {
    let c = clock();
    block_on(kit("callback", MapHost::new(&c, false, 0), &c, 0).run());
}

#[test]
fn a_host_with_a_conditional_put() {
    let c = clock();
    block_on(kit("callback+cas", MapHost::new(&c, true, 0), &c, 0).run());
}

#[test]
fn an_eventually_consistent_host_within_the_window() {
    let c = clock();
    block_on(kit("callback+stale", MapHost::new(&c, false, 5_000), &c, 60_000).run());
}

/// Without the consistency window, a stale read after a logout lets a late release write the
/// session back: the hazard the window closes (and proof the kit's logout cases can fail).
#[test]
fn without_the_window_a_stale_host_undoes_a_logout() {
    let c = clock();
    let store = CallbackStore::new(MapHost::new(&c, false, 5_000), "kv", "", c.clone()).unwrap();
    let manager = Manager::builder(Config::default())
        .store(Arc::new(store))
        .clock(c.clone())
        .build()
        .unwrap();
    block_on(async {
        let mut s = manager.start(&RequestInfo::default()).await.unwrap();
        s.set("user", "bob").unwrap();
        let cookie = manager.release(s).await.unwrap().set_cookie.unwrap();
        let cookie = cookie.split(';').next().unwrap().to_owned();
        c.advance_ms(10_000); // the write is visible everywhere
        let req = RequestInfo {
            cookies: vec![&cookie],
            ..Default::default()
        };
        let mut late = manager.start(&req).await.unwrap();
        let mut logout = manager.start(&req).await.unwrap();
        manager.destroy(&mut logout).await.unwrap();
        late.set("cart", 1).unwrap();
        let outcome = manager.release(late).await.unwrap().outcome;
        assert_eq!(
            outcome,
            Outcome::Written,
            "the stale read revived the session"
        );
        c.advance_ms(10_000);
        assert!(
            !manager.start(&req).await.unwrap().is_new(),
            "logout undone"
        );
    });
}

//! Behaviour of the manager over the public API, with a clock that moves on command.

use futures_executor::block_on;
use polysession_core::*;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// A memory store that counts calls and can fail or hide its capabilities.
#[derive(Default)]
struct Probe {
    inner: MemoryStore,
    reads: AtomicUsize,
    writes: AtomicUsize,
    touches: AtomicUsize,
    down: AtomicBool,
    no_cas: bool,
    no_touch: bool,
    refuse_writes: bool,
}

impl Probe {
    fn check(&self) -> Result<()> {
        if self.down.load(Ordering::SeqCst) {
            Err(Error::store("probe", "127.0.0.1:1 (connection refused)"))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl Store for Probe {
    fn name(&self) -> &str {
        "probe"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            native_ttl: false,
            compare_and_set: !self.no_cas,
            touch: !self.no_touch,
        }
    }
    async fn read(&self, id: &str) -> Result<Option<Record>> {
        self.check()?;
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.read(id).await
    }
    async fn write(&self, id: &str, r: &Record, e: Expect) -> Result<bool> {
        self.check()?;
        self.writes.fetch_add(1, Ordering::SeqCst);
        if self.refuse_writes {
            return Ok(false);
        }
        let e = if self.no_cas { Expect::Any } else { e };
        self.inner.write(id, r, e).await
    }
    async fn touch(&self, id: &str, at: u64) -> Result<bool> {
        self.check()?;
        self.touches.fetch_add(1, Ordering::SeqCst);
        self.inner.touch(id, at).await
    }
    async fn destroy(&self, id: &str) -> Result<()> {
        self.check()?;
        self.inner.destroy(id).await
    }
    async fn regenerate(&self, old: &str, new: &str) -> Result<bool> {
        self.check()?;
        self.inner.regenerate(old, new).await
    }
    async fn count(&self, now: u64) -> Result<u64> {
        self.check()?;
        self.inner.count(now).await
    }
    async fn gc(&self, now: u64) -> Result<u64> {
        self.check()?;
        self.inner.gc(now).await
    }
}

const T0: u64 = 1_700_000_000_000;

struct Env {
    manager: Manager,
    store: Arc<Probe>,
    clock: Arc<ManualClock>,
}

fn env_with(config: Config, probe: Probe) -> Env {
    let store = Arc::new(probe);
    let clock = Arc::new(ManualClock::new(T0));
    let manager = Manager::builder(config)
        .store(store.clone())
        .clock(clock.clone())
        .build()
        .unwrap();
    Env {
        manager,
        store,
        clock,
    }
}

fn env(config: Config) -> Env {
    env_with(config, Probe::default())
}

/// The `name=value` part of a Set-Cookie, as a browser would send it back.
fn jar(release: &Release) -> String {
    release
        .set_cookie
        .as_deref()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

fn req(cookie: &str) -> RequestInfo<'_> {
    RequestInfo {
        cookies: vec![cookie],
        ..Default::default()
    }
}

impl Env {
    /// Starts a session with `value` under `key` and returns the cookie.
    fn create(&self, key: &str, value: serde_json::Value) -> String {
        block_on(async {
            let mut s = self.manager.start(&RequestInfo::default()).await.unwrap();
            s.set(key, value).unwrap();
            jar(&self.manager.release(s).await.unwrap())
        })
    }

    fn open(&self, cookie: &str) -> Session {
        block_on(self.manager.start(&req(cookie))).unwrap()
    }
}

#[test]
fn untouched_new_session_stores_nothing_and_sets_no_cookie() {
    let e = env(Config::default());
    block_on(async {
        let s = e.manager.start(&RequestInfo::default()).await.unwrap();
        assert!(s.is_new());
        assert_eq!(s.source(), IdSource::New);
        let r = e.manager.release(s).await.unwrap();
        assert_eq!(r.outcome, Outcome::Unchanged);
        assert!(r.set_cookie.is_none() && !r.no_store && r.vary_cookie);
        assert_eq!(e.manager.count().await.unwrap(), 0);
    });
}

#[test]
fn set_then_read_back_by_cookie() {
    let e = env(Config::default());
    let cookie = e.create("asta", json!(1));
    let s = e.open(&cookie);
    assert!(!s.is_new());
    assert_eq!(s.source(), IdSource::Cookie);
    assert_eq!(s.get("asta"), Some(&json!(1)));
    assert_eq!(format!("beegosessionID={}", s.id()), cookie);
    // Reading only: no write, no cookie.
    let writes = e.store.writes.load(Ordering::SeqCst);
    let r = block_on(e.manager.release(s)).unwrap();
    assert_eq!(r.outcome, Outcome::Unchanged);
    assert!(r.set_cookie.is_none());
    assert_eq!(e.store.writes.load(Ordering::SeqCst), writes);
}

#[test]
fn first_release_sets_one_cookie_with_attributes_and_no_store() {
    let e = env(Config::builder().cookie_lifetime(120).build().unwrap());
    block_on(async {
        let mut s = e.manager.start(&RequestInfo::default()).await.unwrap();
        s.set("k", "v").unwrap();
        let r = e.manager.release(s).await.unwrap();
        let c = r.set_cookie.unwrap();
        assert!(
            c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Max-Age=120"),
            "{c}"
        );
        assert!(r.no_store);
        assert_eq!(r.outcome, Outcome::Written);
    });
}

#[test]
fn a_cookie_lifetime_set_for_one_session_overrides_the_config_in_its_response() {
    let e = env(Config::builder()
        .max_lifetime(100)
        .touch_interval(10)
        .build()
        .unwrap());
    let release = |s: Session| block_on(e.manager.release(s)).unwrap();
    // "Remember me": a persistent cookie for this session, a browser-session one by default.
    let mut s = block_on(e.manager.start(&RequestInfo::default())).unwrap();
    s.set("user", "ann").unwrap();
    s.set_cookie_lifetime(3600);
    assert_eq!(s.cookie_lifetime(), Some(3600));
    let r = release(s);
    let c = r.set_cookie.clone().unwrap();
    assert!(c.contains("Max-Age=3600") && c.contains("Expires="), "{c}");
    let cookie = jar(&r);
    // Not stored: a request that does not set it is the config's (no cookie, nothing due).
    let r = release(e.open(&cookie));
    assert_eq!((r.outcome, r.set_cookie), (Outcome::Unchanged, None));
    // Set again and unchanged: the persistent cookie slides with a due touch only.
    let mut s = e.open(&cookie);
    s.set_cookie_lifetime(3600);
    assert_eq!(release(s).set_cookie, None, "no touch due, no cookie");
    e.clock.advance_ms(20_000);
    let mut s = e.open(&cookie);
    s.set_cookie_lifetime(3600);
    let r = release(s);
    assert_eq!(r.outcome, Outcome::Touched);
    assert!(r.set_cookie.unwrap().contains("Max-Age=3600"));
    // Back to a browser-session cookie: the write sends it without Max-Age or Expires.
    let mut s = e.open(&cookie);
    s.set("remember", false).unwrap();
    s.set_cookie_lifetime(0);
    let r = release(s);
    let c = r.set_cookie.clone().unwrap();
    assert_eq!(jar(&r), cookie, "same id");
    assert!(!c.contains("Max-Age") && !c.contains("Expires"), "{c}");
    // It survives a regenerate, and a config lifetime is overridden by 0 too.
    let e = env(Config::builder().cookie_lifetime(120).build().unwrap());
    let cookie = e.create("a", json!(1));
    let mut s = e.open(&cookie);
    s.set_cookie_lifetime(0);
    block_on(e.manager.regenerate(&mut s)).unwrap();
    let r = block_on(e.manager.release(s)).unwrap();
    let c = r.set_cookie.clone().unwrap();
    assert_ne!(jar(&r), cookie);
    assert!(!c.contains("Max-Age"), "{c}");
}

#[test]
fn idle_expiry_is_checked_on_read() {
    let e = env(Config::builder().max_lifetime(60).build().unwrap());
    let cookie = e.create("a", json!(1));
    e.clock.advance_ms(59_000);
    assert!(!e.open(&cookie).is_new());
    e.clock.advance_ms(61_000); // idle since the last write, touch or not
    let s = e.open(&cookie);
    assert!(s.is_new() && s.get("a").is_none());
    assert_ne!(
        format!("beegosessionID={}", s.id()),
        cookie,
        "an expired id is never adopted"
    );
    assert_eq!(
        block_on(e.manager.count()).unwrap(),
        0,
        "the expired record was removed on read"
    );
}

#[test]
fn touch_is_throttled_and_extends_idle_expiry_without_rewrite() {
    let e = env(Config::builder()
        .max_lifetime(100)
        .touch_interval(10)
        .build()
        .unwrap());
    let cookie = e.create("a", json!(1));
    let writes = e.store.writes.load(Ordering::SeqCst);
    e.clock.advance_ms(5_000);
    let r = block_on(e.manager.release(e.open(&cookie))).unwrap();
    assert_eq!(r.outcome, Outcome::Unchanged);
    assert_eq!(e.store.touches.load(Ordering::SeqCst), 0);
    e.clock.advance_ms(6_000);
    let r = block_on(e.manager.release(e.open(&cookie))).unwrap();
    assert_eq!(r.outcome, Outcome::Touched);
    assert!(
        r.set_cookie.is_none(),
        "browser-session cookie needs no re-send"
    );
    assert_eq!(e.store.touches.load(Ordering::SeqCst), 1);
    assert_eq!(e.store.writes.load(Ordering::SeqCst), writes);
    // Active every 60 s for 5 minutes: never expires with a 100 s idle limit.
    for _ in 0..5 {
        e.clock.advance_ms(60_000);
        let s = e.open(&cookie);
        assert_eq!(s.get("a"), Some(&json!(1)));
        let _ = block_on(e.manager.release(s)).unwrap();
    }
}

#[test]
fn touch_without_touch_capability_rewrites_and_sliding_cookie_is_resent() {
    let probe = Probe {
        no_touch: true,
        ..Probe::default()
    };
    let e = env_with(
        Config::builder()
            .max_lifetime(100)
            .touch_interval(10)
            .cookie_lifetime(100)
            .build()
            .unwrap(),
        probe,
    );
    let cookie = e.create("a", json!(1));
    let writes = e.store.writes.load(Ordering::SeqCst);
    e.clock.advance_ms(20_000);
    let r = block_on(e.manager.release(e.open(&cookie))).unwrap();
    assert_eq!(r.outcome, Outcome::Touched);
    assert_eq!(e.store.writes.load(Ordering::SeqCst), writes + 1);
    assert_eq!(jar(&r), cookie, "sliding cookie re-sent with the same id");
}

#[test]
fn absolute_limit_ends_even_an_active_session() {
    let e = env(Config::builder()
        .max_lifetime(100)
        .absolute_lifetime(150)
        .touch_interval(10)
        .build()
        .unwrap());
    let cookie = e.create("a", json!(1));
    for _ in 0..2 {
        e.clock.advance_ms(60_000);
        let s = e.open(&cookie);
        assert!(!s.is_new());
        let _ = block_on(e.manager.release(s)).unwrap();
    }
    e.clock.advance_ms(31_000); // 151 s after creation
    assert!(e.open(&cookie).is_new());
}

#[test]
fn concurrent_releases_changing_different_keys_both_survive() {
    for no_cas in [false, true] {
        let e = env_with(
            Config::default(),
            Probe {
                no_cas,
                ..Probe::default()
            },
        );
        let cookie = e.create("base", json!(0));
        let mut a = e.open(&cookie);
        let mut b = e.open(&cookie);
        a.set("a", 1).unwrap();
        b.set("b", 2).unwrap();
        b.delete("base");
        let _ = block_on(e.manager.release(a)).unwrap();
        let _ = block_on(e.manager.release(b)).unwrap();
        let s = e.open(&cookie);
        assert_eq!(
            serde_json::Value::Object(s.data().clone()),
            json!({"a": 1, "b": 2}),
            "no_cas={no_cas}"
        );
    }
}

#[test]
fn many_interleaved_requests_keep_every_key() {
    let e = env(Config::default());
    let cookie = e.create("start", json!(true));
    let sessions: Vec<Session> = (0..50)
        .map(|i| {
            let mut s = e.open(&cookie);
            s.set(&format!("k{i}"), i).unwrap();
            s
        })
        .collect();
    for s in sessions {
        assert_eq!(
            block_on(e.manager.release(s)).unwrap().outcome,
            Outcome::Written
        );
    }
    assert_eq!(e.open(&cookie).data().len(), 51);
}

#[test]
fn destroyed_session_is_not_brought_back_by_a_late_release() {
    for no_cas in [false, true] {
        let e = env_with(
            Config::default(),
            Probe {
                no_cas,
                ..Probe::default()
            },
        );
        let cookie = e.create("user", json!("bob"));
        let mut late = e.open(&cookie);
        let mut logout = e.open(&cookie);
        block_on(e.manager.destroy(&mut logout)).unwrap();
        let r = block_on(e.manager.release(logout)).unwrap();
        assert_eq!(r.outcome, Outcome::Destroyed);
        let removal = r.set_cookie.unwrap();
        assert!(removal.starts_with("beegosessionID=;") && removal.contains("Max-Age=0"));
        late.set("cart", 3).unwrap();
        let r = block_on(e.manager.release(late)).unwrap();
        assert_eq!(r.outcome, Outcome::Gone, "no_cas={no_cas}");
        assert!(r.set_cookie.is_none());
        assert!(e.open(&cookie).is_new());
        assert_eq!(block_on(e.manager.count()).unwrap(), 0);
    }
}

#[test]
fn set_after_destroy_starts_a_new_session() {
    let e = env(Config::default());
    let cookie = e.create("user", json!("bob"));
    let mut s = e.open(&cookie);
    let old = s.id().to_owned();
    block_on(e.manager.destroy(&mut s)).unwrap();
    assert!(s.is_empty() && s.id() != old);
    s.set("fresh", true).unwrap();
    let r = block_on(e.manager.release(s)).unwrap();
    let next = jar(&r);
    assert_ne!(next, cookie);
    assert_eq!(e.open(&next).get("fresh"), Some(&json!(true)));
    assert!(e.open(&cookie).is_new());
}

#[test]
fn regenerate_keeps_data_changes_id_and_kills_the_old_one() {
    let e = env(Config::default());
    let cookie = e.create("cart", json!([1, 2]));
    let mut s = e.open(&cookie);
    block_on(e.manager.regenerate(&mut s)).unwrap();
    s.set("user", "alice").unwrap();
    let r = block_on(e.manager.release(s)).unwrap();
    let next = jar(&r);
    assert_ne!(next, cookie);
    let s = e.open(&next);
    assert_eq!(s.get("cart"), Some(&json!([1, 2])));
    assert_eq!(s.get("user"), Some(&json!("alice")));
    assert!(e.open(&cookie).is_new(), "old id unusable");
    assert_eq!(block_on(e.manager.count()).unwrap(), 1);
}

#[test]
fn regenerate_without_changes_still_resends_the_cookie() {
    let e = env(Config::default());
    let cookie = e.create("a", json!(1));
    let mut s = e.open(&cookie);
    block_on(e.manager.regenerate(&mut s)).unwrap();
    let r = block_on(e.manager.release(s)).unwrap();
    let next = jar(&r);
    assert_ne!(next, cookie);
    assert_eq!(e.open(&next).get("a"), Some(&json!(1)));
}

#[test]
fn regenerate_of_a_destroyed_session_ends_it() {
    for no_cas in [false, true] {
        let e = env_with(
            Config::default(),
            Probe {
                no_cas,
                ..Probe::default()
            },
        );
        let cookie = e.create("a", json!(1));
        let mut s = e.open(&cookie);
        let mut logout = e.open(&cookie);
        block_on(e.manager.destroy(&mut logout)).unwrap();
        let _ = block_on(e.manager.release(logout)).unwrap();
        block_on(e.manager.regenerate(&mut s)).unwrap();
        assert!(
            s.is_empty(),
            "no_cas={no_cas}: the destroyed data is not kept"
        );
        let r = block_on(e.manager.release(s)).unwrap();
        assert_eq!(r.outcome, Outcome::Destroyed, "no_cas={no_cas}");
        assert!(r.set_cookie.unwrap().contains("Max-Age=0"));
        assert_eq!(block_on(e.manager.count()).unwrap(), 0, "no_cas={no_cas}");
        assert!(e.open(&cookie).is_new());
    }
}

#[test]
fn regenerate_then_set_after_a_logout_starts_a_new_session_with_only_new_data() {
    let e = env(Config::default());
    let cookie = e.create("cart", json!([1]));
    let mut login = e.open(&cookie);
    let mut logout = e.open(&cookie);
    block_on(e.manager.destroy(&mut logout)).unwrap();
    block_on(e.manager.regenerate(&mut login)).unwrap();
    login.set("user", "bob").unwrap();
    let r = block_on(e.manager.release(login)).unwrap();
    let s = e.open(&jar(&r));
    assert_eq!(s.get("user"), Some(&json!("bob")));
    assert_eq!(s.get("cart"), None, "the logged-out data stays gone");
}

/// A touch is due for a session that this request read but did not change.
fn touch_env(no_cas: bool) -> (Env, String) {
    let probe = Probe {
        no_cas,
        no_touch: true,
        ..Probe::default()
    };
    let config = Config::builder()
        .max_lifetime(100)
        .touch_interval(10)
        .build()
        .unwrap();
    let e = env_with(config, probe);
    let cookie = e.create("a", json!(1));
    (e, cookie)
}

#[test]
fn a_due_touch_does_not_overwrite_another_requests_change() {
    for no_cas in [false, true] {
        let (e, cookie) = touch_env(no_cas);
        e.clock.advance_ms(20_000);
        let reader = e.open(&cookie);
        let mut writer = e.open(&cookie);
        writer.set("b", 2).unwrap();
        let _ = block_on(e.manager.release(writer)).unwrap();
        let r = block_on(e.manager.release(reader)).unwrap();
        assert_eq!(r.outcome, Outcome::Touched, "no_cas={no_cas}");
        let s = e.open(&cookie);
        assert_eq!(s.get("b"), Some(&json!(2)), "no_cas={no_cas}: change kept");
        assert_eq!(s.get("a"), Some(&json!(1)));
    }
}

#[test]
fn a_due_touch_does_not_undo_a_logout() {
    for no_cas in [false, true] {
        let (e, cookie) = touch_env(no_cas);
        e.clock.advance_ms(20_000);
        let reader = e.open(&cookie);
        let mut logout = e.open(&cookie);
        block_on(e.manager.destroy(&mut logout)).unwrap();
        let _ = block_on(e.manager.release(logout)).unwrap();
        let r = block_on(e.manager.release(reader)).unwrap();
        assert_eq!(r.outcome, Outcome::Gone, "no_cas={no_cas}");
        assert!(r.set_cookie.is_none());
        assert_eq!(block_on(e.manager.count()).unwrap(), 0, "no_cas={no_cas}");
        assert!(
            e.open(&cookie).is_new(),
            "no_cas={no_cas}: stays logged out"
        );
    }
}

#[test]
fn a_touch_moves_the_expiry_of_what_is_stored_now() {
    let (e, cookie) = touch_env(true);
    e.clock.advance_ms(20_000);
    let reader = e.open(&cookie);
    let mut writer = e.open(&cookie);
    writer.set("b", 2).unwrap();
    let _ = block_on(e.manager.release(writer)).unwrap();
    e.clock.advance_ms(15_000);
    let _ = block_on(e.manager.release(reader)).unwrap();
    // 100 s idle from the touch at +35 s: alive at +130 s, with both keys.
    e.clock.advance_ms(95_000);
    let s = e.open(&cookie);
    assert_eq!(s.get("b"), Some(&json!(2)));
}

/// A store with the trait's copy-based regenerate, where a logout of `victim` lands right after
/// the next write to another id: between the copy's write and its delete.
struct CopyRace {
    inner: MemoryStore,
    cas: bool,
    victim: std::sync::Mutex<Option<String>>,
}

#[async_trait]
impl Store for CopyRace {
    fn name(&self) -> &str {
        "copy-race"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            native_ttl: false,
            compare_and_set: self.cas,
            touch: false,
        }
    }
    async fn read(&self, id: &str) -> Result<Option<Record>> {
        self.inner.read(id).await
    }
    async fn write(&self, id: &str, r: &Record, e: Expect) -> Result<bool> {
        let e = if self.cas { e } else { Expect::Any };
        let written = self.inner.write(id, r, e).await?;
        let victim = self.victim.lock().unwrap().take_if(|v| v != id);
        if let Some(victim) = victim {
            self.inner.destroy(&victim).await?;
        }
        Ok(written)
    }
    async fn destroy(&self, id: &str) -> Result<()> {
        self.inner.destroy(id).await
    }
    async fn count(&self, now: u64) -> Result<u64> {
        self.inner.count(now).await
    }
    async fn gc(&self, now: u64) -> Result<u64> {
        self.inner.gc(now).await
    }
}

#[test]
fn copy_based_regenerate_never_revives_a_session_destroyed_mid_move() {
    for cas in [true, false] {
        let store = CopyRace {
            inner: MemoryStore::new(100),
            cas,
            victim: std::sync::Mutex::new(None),
        };
        let rec = Record {
            data: br#"{"v":1,"created":1,"data":{"a":1}}"#.to_vec(),
            expires_at_ms: u64::MAX / 2,
            version: 3,
        };
        block_on(async {
            // Undisturbed, the copy moves the record.
            assert!(store.write("old1", &rec, Expect::Absent).await.unwrap());
            assert!(store.regenerate("old1", "new1").await.unwrap(), "cas={cas}");
            assert_eq!(store.read("old1").await.unwrap(), None);
            assert_eq!(store.read("new1").await.unwrap().unwrap().data, rec.data);
            // A logout of old2 lands between the copy's write and its delete.
            assert!(store.write("old2", &rec, Expect::Absent).await.unwrap());
            *store.victim.lock().unwrap() = Some("old2".into());
            assert!(
                !store.regenerate("old2", "new2").await.unwrap(),
                "cas={cas}"
            );
            assert_eq!(
                store.read("new2").await.unwrap(),
                None,
                "cas={cas}: not revived"
            );
            assert_eq!(store.read("old2").await.unwrap(), None);
        });
    }
}

#[test]
fn a_stored_version_at_the_maximum_wraps_instead_of_panicking() {
    let e = env(Config::default());
    let cookie = e.create("a", json!(1));
    let id = cookie.split('=').nth(1).unwrap().to_owned();
    let mut rec = block_on(e.store.inner.read(&id)).unwrap().unwrap();
    rec.version = u64::MAX;
    block_on(e.store.inner.write(&id, &rec, Expect::Any)).unwrap();
    let mut s = e.open(&cookie);
    s.set("b", 2).unwrap();
    assert_eq!(
        block_on(e.manager.release(s)).unwrap().outcome,
        Outcome::Written
    );
    let stored = block_on(e.store.inner.read(&id)).unwrap().unwrap();
    assert_eq!(stored.version, 0);
    assert_eq!(e.open(&cookie).get("b"), Some(&json!(2)));
}

#[test]
fn sessions_above_the_size_or_key_limits_are_too_large_and_the_stored_one_is_kept() {
    let e = env(Config::builder()
        .max_session_bytes(200)
        .max_session_keys(3)
        .build()
        .unwrap());
    let cookie = e.create("a", json!("x".repeat(50)));
    let mut s = e.open(&cookie);
    s.set("b", "y".repeat(200)).unwrap();
    let err = block_on(e.manager.release(s)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge);
    assert!(err.to_string().contains("maxSessionBytes (200)"), "{err}");
    let mut s = e.open(&cookie);
    for k in ["b", "c", "d"] {
        s.set(k, 1).unwrap();
    }
    let err = block_on(e.manager.release(s)).unwrap_err();
    assert!(
        err.to_string().contains("4 keys, above maxSessionKeys (3)"),
        "{err}"
    );
    let s = e.open(&cookie);
    assert_eq!(s.data().len(), 1, "the stored session is unharmed");
    // 0 lifts a limit; a new session is held to it too.
    let unlimited = env(Config::builder()
        .max_session_bytes(0)
        .max_session_keys(0)
        .build()
        .unwrap());
    let big = unlimited.create("big", json!("z".repeat(3 << 20)));
    assert_eq!(
        unlimited
            .open(&big)
            .get("big")
            .unwrap()
            .as_str()
            .unwrap()
            .len(),
        3 << 20
    );
    let mut fresh = block_on(e.manager.start(&RequestInfo::default())).unwrap();
    fresh.set("big", "w".repeat(300)).unwrap();
    assert_eq!(
        block_on(e.manager.release(fresh)).unwrap_err().code(),
        "TOO_LARGE"
    );
}

#[test]
fn unknown_or_invalid_ids_are_never_adopted_and_invalid_ones_never_reach_the_store() {
    let e = env(Config::default());
    let unknown = "0123456789abcdef0123456789abcdef";
    let s = e.open(&format!("beegosessionID={unknown}"));
    assert!(s.is_new());
    assert_ne!(s.id(), unknown);
    let reads = e.store.reads.load(Ordering::SeqCst);
    let long = format!("beegosessionID={}", "a".repeat(10_000));
    for bad in [
        "beegosessionID=../../etc/passwd",
        "beegosessionID=a",
        "beegosessionID=",
        "beegosessionID=0123456789ABCDEF0123456789ABCDEF",
        "beegosessionID=%30%31",
        long.as_str(),
        "beegosessionID",
        ";;;=;",
    ] {
        let s = e.open(bad);
        assert!(s.is_new(), "{bad}");
        assert!(e.manager.is_valid_id(s.id()));
    }
    assert_eq!(
        e.store.reads.load(Ordering::SeqCst),
        reads,
        "invalid ids never reach the store"
    );
}

#[test]
fn duplicate_cookie_names_pick_the_one_that_exists() {
    let e = env(Config::default());
    let cookie = e.create("a", json!(1));
    let header = format!(
        "beegosessionID=garbage; {cookie}; beegosessionID=0123456789abcdef0123456789abcdef"
    );
    assert_eq!(e.open(&header).get("a"), Some(&json!(1)));
}

#[test]
fn corrupt_stored_bytes_give_a_fresh_session() {
    let e = env(Config::default());
    let cookie = e.create("a", json!(1));
    let id = cookie.split('=').nth(1).unwrap().to_owned();
    for junk in [&b"\xff\x00garbage"[..], b"{\"v\":9}", b"[]", b""] {
        let rec = Record {
            data: junk.to_vec(),
            expires_at_ms: T0 + 10_000_000,
            version: 1,
        };
        block_on(e.store.inner.write(&id, &rec, Expect::Any)).unwrap();
        let s = e.open(&cookie);
        assert!(s.is_new());
        assert_ne!(s.id(), id);
    }
}

/// The manager keeps sessions it decoded; a record changed behind its back (another process,
/// a host store, the same version or not) is still read as stored.
#[test]
fn a_record_changed_behind_the_managers_back_is_read_as_stored() {
    let e = env(Config::default());
    let cookie = e.create("a", json!(1));
    let id = cookie.split('=').nth(1).unwrap().to_owned();
    assert_eq!(e.open(&cookie).get("a"), Some(&json!(1)));
    let stored = block_on(e.store.inner.read(&id)).unwrap().unwrap();
    let text = String::from_utf8(stored.data.clone()).unwrap();
    let changed = Record {
        data: text.replace(r#""a":1"#, r#""a":2"#).into_bytes(),
        ..stored
    };
    assert_ne!(changed.data, stored_bytes(&e, &id), "the bytes did change");
    block_on(e.store.inner.write(&id, &changed, Expect::Any)).unwrap();
    assert_eq!(e.open(&cookie).get("a"), Some(&json!(2)));
}

fn stored_bytes(e: &Env, id: &str) -> Vec<u8> {
    block_on(e.store.inner.read(id)).unwrap().unwrap().data
}

/// Requests reading one session at once share its decoded data until one changes it: a
/// change, a delete or a flush in one request is not seen by the other.
#[test]
fn requests_sharing_a_decoded_session_do_not_see_each_others_changes() {
    let e = env(Config::default());
    let cookie = e.create("a", json!(1));
    let (mut one, mut two, three) = (e.open(&cookie), e.open(&cookie), e.open(&cookie));
    one.set("a", 2).unwrap();
    two.delete("a");
    assert_eq!(three.get("a"), Some(&json!(1)));
    let mut four = e.open(&cookie);
    four.flush();
    assert_eq!(
        (one.get("a"), two.get("a"), four.get("a")),
        (Some(&json!(2)), None, None)
    );
    assert_eq!(three.get("a"), Some(&json!(1)));
    let release = block_on(e.manager.release(one)).unwrap();
    assert_eq!(release.outcome, Outcome::Written);
    assert_eq!(
        e.open(&cookie).get("a"),
        Some(&json!(2)),
        "the write is read back"
    );
}

#[test]
fn store_outage_is_an_error_never_a_fresh_session() {
    let e = env(Config::default());
    let cookie = e.create("a", json!(1));
    e.store.down.store(true, Ordering::SeqCst);
    let err = block_on(e.manager.start(&req(&cookie))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::StoreUnavailable);
    assert!(err.to_string().contains("probe"));
    // Without a cookie no store call is made, so a start still works.
    assert!(block_on(e.manager.start(&RequestInfo::default())).is_ok());
    e.store.down.store(false, Ordering::SeqCst);
    let mut s = e.open(&cookie);
    s.set("b", 2).unwrap();
    e.store.down.store(true, Ordering::SeqCst);
    assert_eq!(
        block_on(e.manager.release(s)).unwrap_err().code(),
        "STORE_UNAVAILABLE"
    );
}

#[test]
fn endless_conflicts_are_reported() {
    let e = env_with(
        Config::default(),
        Probe {
            refuse_writes: true,
            ..Probe::default()
        },
    );
    let mut s = block_on(e.manager.start(&RequestInfo::default())).unwrap();
    s.set("a", 1).unwrap();
    let err = block_on(e.manager.release(s)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(e.store.writes.load(Ordering::SeqCst), MAX_WRITE_ATTEMPTS);
}

#[test]
fn header_transport_only_when_enabled() {
    let header_cfg = Config::builder()
        .sid_in_header(true)
        .header_name("X-Session")
        .build()
        .unwrap();
    let e = env(header_cfg);
    let r = block_on(async {
        let mut s = e.manager.start(&RequestInfo::default()).await.unwrap();
        s.set("a", 1).unwrap();
        e.manager.release(s).await.unwrap()
    });
    let (name, id) = r.sid_header.clone().unwrap();
    assert_eq!(name, "X-Session");
    assert!(r.no_store);
    let by_header = RequestInfo {
        sid_header: Some(&id),
        ..Default::default()
    };
    let s = block_on(e.manager.start(&by_header)).unwrap();
    assert_eq!(
        (s.get("a"), s.source()),
        (Some(&json!(1)), IdSource::Header)
    );

    let off = env(Config::default());
    let cookie = off.create("a", json!(1));
    let id = cookie.split('=').nth(1).unwrap();
    let by_header = RequestInfo {
        sid_header: Some(id),
        ..Default::default()
    };
    assert!(block_on(off.manager.start(&by_header)).unwrap().is_new());
    let q = format!("beegosessionID={id}");
    let by_query = RequestInfo {
        query: Some(&q),
        ..Default::default()
    };
    assert!(block_on(off.manager.start(&by_query)).unwrap().is_new());
}

#[test]
fn query_and_form_transport_when_enabled() {
    let e = env(Config::builder().sid_in_url_query(true).build().unwrap());
    let cookie = e.create("a", json!(1));
    let q = format!("x=1&{cookie}");
    let s = block_on(e.manager.start(&RequestInfo {
        query: Some(&q),
        ..Default::default()
    }))
    .unwrap();
    assert_eq!((s.get("a"), s.source()), (Some(&json!(1)), IdSource::Query));
    let s = block_on(e.manager.start(&RequestInfo {
        form: Some(&cookie),
        ..Default::default()
    }))
    .unwrap();
    assert_eq!(s.get("a"), Some(&json!(1)));
    // A present but unknown cookie does not fall back to the query.
    let s = block_on(e.manager.start(&RequestInfo {
        cookies: vec!["beegosessionID=nope"],
        query: Some(&q),
        ..Default::default()
    }))
    .unwrap();
    assert!(s.is_new());
}

#[test]
fn secure_only_over_https_or_trusted_proxy() {
    let e = env(Config::builder().secure(true).build().unwrap());
    let issue = |req: RequestInfo<'_>| {
        block_on(async {
            let mut s = e.manager.start(&req).await.unwrap();
            s.set("a", 1).unwrap();
            e.manager.release(s).await.unwrap().set_cookie.unwrap()
        })
    };
    assert!(!issue(RequestInfo::default()).contains("Secure"));
    assert!(issue(RequestInfo {
        https: true,
        ..Default::default()
    })
    .contains("Secure"));
    assert!(!issue(RequestInfo {
        forwarded_proto: Some("https"),
        ..Default::default()
    })
    .contains("Secure"));
    let trusting = env(Config::builder()
        .secure(true)
        .trust_forwarded_proto(true)
        .build()
        .unwrap());
    let c = block_on(async {
        let mut s = trusting
            .manager
            .start(&RequestInfo {
                forwarded_proto: Some("https"),
                ..Default::default()
            })
            .await
            .unwrap();
        s.set("a", 1).unwrap();
        trusting
            .manager
            .release(s)
            .await
            .unwrap()
            .set_cookie
            .unwrap()
    });
    assert!(c.contains("Secure"));
}

#[test]
fn secure_survives_regenerate() {
    let e = env(Config::builder()
        .secure(true)
        .same_site(SameSite::Strict)
        .build()
        .unwrap());
    let https = |c: &'static str| RequestInfo {
        cookies: vec![c],
        https: true,
        ..Default::default()
    };
    let cookie: &'static str = Box::leak(
        block_on(async {
            let mut s = e.manager.start(&https("")).await.unwrap();
            s.set("a", 1).unwrap();
            jar(&e.manager.release(s).await.unwrap())
        })
        .into_boxed_str(),
    );
    let mut s = block_on(e.manager.start(&https(cookie))).unwrap();
    block_on(e.manager.regenerate(&mut s)).unwrap();
    let c = block_on(e.manager.release(s)).unwrap().set_cookie.unwrap();
    assert!(c.contains("Secure") && c.contains("SameSite=Strict"), "{c}");
}

#[test]
fn enable_set_cookie_false_sends_no_cookie() {
    let e = env(Config::builder().enable_set_cookie(false).build().unwrap());
    let r = block_on(async {
        let mut s = e.manager.start(&RequestInfo::default()).await.unwrap();
        s.set("a", 1).unwrap();
        e.manager.release(s).await.unwrap()
    });
    assert_eq!(r.outcome, Outcome::Written);
    assert!(r.set_cookie.is_none());
}

#[test]
fn sha1_ids_and_prefix_through_the_manager() {
    let cfg = Config::from_beego_json(
        r#"{"sessionIDHashFunc":"sha1","sessionIDHashKey":"k","sessionIDPrefix":"app_"}"#,
    )
    .unwrap();
    let e = env(cfg);
    let cookie = e.create("a", json!(1));
    let id = cookie.split('=').nth(1).unwrap();
    assert!(id.starts_with("app_") && id.len() == 44);
    assert_eq!(e.open(&cookie).get("a"), Some(&json!(1)));
}

#[test]
fn gc_removes_expired_and_gc_loop_runs_on_its_interval() {
    let e = env(Config::builder()
        .max_lifetime(10)
        .gc_lifetime(5)
        .build()
        .unwrap());
    e.create("a", json!(1));
    e.create("b", json!(2));
    assert_eq!(block_on(e.manager.count()).unwrap(), 2);
    e.clock.advance_ms(11_000);
    assert_eq!(block_on(e.manager.count()).unwrap(), 0);
    assert_eq!(block_on(e.manager.gc()).unwrap(), 2);
    assert_eq!(e.manager.gc_interval(), std::time::Duration::from_secs(5));

    // gc_loop: three passes with a fake timer that ends the loop by failing.
    e.create("c", json!(3));
    e.clock.advance_ms(11_000);
    let sleeps = AtomicUsize::new(0);
    let errors = AtomicUsize::new(0);
    let store = e.store.clone();
    block_on(futures_executor_select(
        e.manager.gc_loop(
            |d| {
                assert_eq!(d.as_secs(), 5);
                if sleeps.fetch_add(1, Ordering::SeqCst) == 1 {
                    store.down.store(true, Ordering::SeqCst);
                }
                YieldOnce(false)
            },
            |_| {
                errors.fetch_add(1, Ordering::SeqCst);
            },
        ),
        || errors.load(Ordering::SeqCst) >= 1,
    ));
    store.down.store(false, Ordering::SeqCst);
    assert_eq!(block_on(e.manager.count()).unwrap(), 0);
    assert!(sleeps.load(Ordering::SeqCst) >= 2);
}

/// A timer stand-in that returns to the poller once, so the loop can be stopped.
struct YieldOnce(bool);

impl std::future::Future for YieldOnce {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            std::task::Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }
}

/// Polls `fut` until `done()` says stop (the loop never ends by itself).
async fn futures_executor_select(
    fut: impl std::future::Future<Output = ()>,
    done: impl Fn() -> bool,
) {
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1000 {
        if let Poll::Ready(()) = fut.as_mut().poll(&mut cx) {
            return;
        }
        if done() {
            return;
        }
    }
    panic!("gc_loop made no progress");
}

mod sealed {
    use super::*;

    const K1: &str = "first secret, long enough for a key!!";
    const K2: &str = "second secret, long enough for a key!";

    fn cookie_env(keys: &[&str]) -> (Manager, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(T0));
        let cfg = Config::builder()
            .provider("cookie", serde_json::json!({ "keys": keys }).to_string())
            .max_lifetime(100)
            .touch_interval(10)
            .build()
            .unwrap();
        (
            Manager::builder(cfg).clock(clock.clone()).build().unwrap(),
            clock,
        )
    }

    fn write(
        m: &Manager,
        cookie: Option<&str>,
        key: &str,
        value: serde_json::Value,
    ) -> Result<Release> {
        block_on(async {
            let r = match cookie {
                Some(c) => req(c),
                None => RequestInfo::default(),
            };
            let mut s = m.start(&r).await?;
            s.set(key, value)?;
            m.release(s).await
        })
    }

    #[test]
    fn round_trip_and_tamper() {
        let (m, _) = cookie_env(&[K1]);
        let cookie = jar(&write(&m, None, "a", json!(1)).unwrap());
        let s = block_on(m.start(&req(&cookie))).unwrap();
        assert_eq!(s.get("a"), Some(&json!(1)));
        let mut bytes = cookie.into_bytes();
        let i = bytes.len() - 5;
        bytes[i] = if bytes[i] == b'x' { b'y' } else { b'x' };
        let tampered = String::from_utf8(bytes).unwrap();
        let s = block_on(m.start(&req(&tampered))).unwrap();
        assert!(s.is_new() && s.is_empty());
    }

    #[test]
    fn key_rotation_old_cookies_still_open() {
        let (old, _) = cookie_env(&[K1]);
        let cookie = jar(&write(&old, None, "a", json!("x")).unwrap());
        let (rotated, _) = cookie_env(&[K2, K1]);
        assert_eq!(
            block_on(rotated.start(&req(&cookie))).unwrap().get("a"),
            Some(&json!("x"))
        );
        let resealed = jar(&write(&rotated, Some(&cookie), "b", json!(2)).unwrap());
        let (only_new, _) = cookie_env(&[K2]);
        assert_eq!(
            block_on(only_new.start(&req(&resealed))).unwrap().get("b"),
            Some(&json!(2))
        );
        assert!(block_on(only_new.start(&req(&cookie))).unwrap().is_new());
    }

    #[test]
    fn above_4096_bytes_is_a_clear_error() {
        let (m, _) = cookie_env(&[K1]);
        let err = write(&m, None, "big", json!("x".repeat(5000))).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooLarge);
        assert!(err.to_string().contains("4096"), "{err}");
        assert!(write(&m, None, "ok", json!("x".repeat(2000))).is_ok());
    }

    fn sealed_manager(
        provider_config: serde_json::Value,
        absolute: u64,
    ) -> (Manager, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(T0));
        let cfg = Config::builder()
            .provider("cookie", provider_config.to_string())
            .max_lifetime(3600)
            .touch_interval(60)
            .absolute_lifetime(absolute)
            .build()
            .unwrap();
        (
            Manager::builder(cfg).clock(clock.clone()).build().unwrap(),
            clock,
        )
    }

    /// Uses the session every `step` seconds from creation, keeping the cookies it is sent;
    /// returns how long after creation it was last alive.
    fn keep_busy(m: &Manager, clock: &ManualClock, step: u64, until: u64) -> u64 {
        let mut cookie = jar(&write(m, None, "a", json!(1)).unwrap());
        let mut alive = 0;
        for t in (step..=until).step_by(step as usize) {
            clock.set_ms(T0 + t * 1000);
            let s = block_on(m.start(&req(&cookie))).unwrap();
            if s.is_new() {
                break;
            }
            alive = t;
            let r = block_on(m.release(s)).unwrap();
            if r.set_cookie.is_some() {
                cookie = jar(&r);
            }
        }
        alive
    }

    #[test]
    fn a_busy_sealed_session_still_ends_after_seven_days_by_default() {
        let (m, clock) = sealed_manager(json!({ "keys": [K1] }), 0);
        let week = SEALED_ABSOLUTE_LIFETIME;
        assert_eq!(week, 7 * 24 * 3600);
        let last = keep_busy(&m, &clock, 1800, week + 7200);
        assert!(
            last < week && last >= week - 1800,
            "ended at {last} s, a week is {week} s"
        );
        // An explicit absoluteLifetime replaces the default.
        let (m, clock) = sealed_manager(json!({ "keys": [K1] }), 7200);
        let last = keep_busy(&m, &clock, 1800, 20_000);
        assert!((5400..7200).contains(&last), "ended at {last} s");
    }

    #[test]
    fn a_context_binds_cookies_to_one_application() {
        let a = sealed_manager(json!({ "keys": [K1], "context": "app-a" }), 0).0;
        let b = sealed_manager(json!({ "keys": [K1], "context": "app-b" }), 0).0;
        let plain = sealed_manager(json!({ "keys": [K1] }), 0).0;
        let from_a = jar(&write(&a, None, "who", json!("a")).unwrap());
        let from_plain = jar(&write(&plain, None, "who", json!("plain")).unwrap());
        let opens = |m: &Manager, c: &str| !block_on(m.start(&req(c))).unwrap().is_new();
        assert!(opens(&a, &from_a));
        assert!(!opens(&b, &from_a), "another application's cookie");
        assert!(!opens(&plain, &from_a));
        assert!(!opens(&a, &from_plain));
        assert!(opens(&plain, &from_plain), "no context: sealed as before");
        let bad = Config::builder()
            .provider("cookie", json!({ "keys": [K1], "context": 5 }).to_string())
            .build()
            .unwrap();
        assert_eq!(Manager::new(bad).unwrap_err().code(), "BAD_CONFIG");
    }

    #[test]
    fn expiry_lives_inside_the_seal() {
        let (m, clock) = cookie_env(&[K1]);
        let cookie = jar(&write(&m, None, "a", json!(1)).unwrap());
        clock.advance_ms(50_000);
        let r = block_on(async { m.release(m.start(&req(&cookie)).await.unwrap()).await }).unwrap();
        assert_eq!(r.outcome, Outcome::Touched);
        let touched = jar(&r);
        clock.advance_ms(70_000);
        assert!(
            block_on(m.start(&req(&cookie))).unwrap().is_new(),
            "old seal expired"
        );
        assert!(
            !block_on(m.start(&req(&touched))).unwrap().is_new(),
            "touched seal alive"
        );
    }

    #[test]
    fn destroy_regenerate_count() {
        let (m, _) = cookie_env(&[K1]);
        let cookie = jar(&write(&m, None, "a", json!(1)).unwrap());
        let mut s = block_on(m.start(&req(&cookie))).unwrap();
        let old = s.id().to_owned();
        block_on(m.regenerate(&mut s)).unwrap();
        assert_ne!(s.id(), old);
        let next = jar(&block_on(m.release(s)).unwrap());
        let mut s = block_on(m.start(&req(&next))).unwrap();
        assert_eq!(s.get("a"), Some(&json!(1)));
        block_on(m.destroy(&mut s)).unwrap();
        let r = block_on(m.release(s)).unwrap();
        assert_eq!(r.outcome, Outcome::Destroyed);
        assert!(r.set_cookie.unwrap().contains("Max-Age=0"));
        assert_eq!(
            block_on(m.count()).unwrap_err().kind(),
            ErrorKind::Unsupported
        );
        assert_eq!(block_on(m.gc()).unwrap(), 0);
    }

    #[test]
    fn missing_or_short_keys_are_config_errors() {
        for cfg in ["", "{}", r#"{"keys":["short"]}"#] {
            let c = Config::builder().provider("cookie", cfg).build().unwrap();
            let err = Manager::new(c).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BadConfig);
            assert!(err.to_string().contains("providerConfig"));
        }
    }
}

/// What the stored record under `id` holds now, read without the manager: its data when it
/// is a live payload, `None` when it is missing or does not decode.
fn stored_data(e: &Env, id: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let record = block_on(e.store.inner.read(id)).unwrap()?;
    let value: serde_json::Value = serde_json::from_slice(&record.data).ok()?;
    if value["v"] != json!(1) || !value["created"].is_u64() {
        return None;
    }
    value["data"].as_object().cloned()
}

/// Thousands of random steps mixing the manager's own writes with records written,
/// corrupted, restored or deleted behind its back (another process, a host store), over a
/// few sessions: every session the manager opens holds exactly what is stored at that moment.
/// The manager keeps decoded sessions by id and bytes; this is the check that it never serves
/// one the store no longer holds.
#[test]
fn every_read_holds_what_is_stored_now_whatever_wrote_it() {
    let e = env(Config::default());
    let cookies: Vec<String> = (0..4).map(|i| e.create("n", json!(i))).collect();
    let ids: Vec<String> = cookies
        .iter()
        .map(|c| c.split('=').nth(1).unwrap().to_owned())
        .collect();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut saved: Vec<Option<Record>> = vec![None; ids.len()];
    for step in 0..4000 {
        let i = next(ids.len() as u64) as usize;
        let (id, cookie) = (&ids[i], &cookies[i]);
        match next(7) {
            // A request of this process changes a key.
            0 | 1 => {
                let mut s = e.open(cookie);
                if s.id() == id.as_str() {
                    s.set(&format!("k{}", next(3)), next(100)).unwrap();
                    let outcome = block_on(e.manager.release(s)).unwrap().outcome;
                    assert_ne!(outcome, Outcome::Gone, "step {step}: it was live");
                }
            }
            // Another writer stores other data, keeping or moving the version.
            2 => {
                let Some(mut rec) = block_on(e.store.inner.read(id)).unwrap() else {
                    continue;
                };
                let text = String::from_utf8(rec.data.clone()).unwrap();
                let (head, _) = text.split_once("\"data\":").unwrap();
                rec.data = format!("{head}\"data\":{{\"x\":{}}}}}", next(1000)).into_bytes();
                rec.version = rec.version.wrapping_add(next(2));
                block_on(e.store.inner.write(id, &rec, Expect::Any)).unwrap();
            }
            // Keep a copy of what is stored, or put an old copy back (same bytes again).
            3 => match (next(2), &saved[i]) {
                (0, _) | (_, None) => saved[i] = block_on(e.store.inner.read(id)).unwrap(),
                (_, Some(old)) => {
                    block_on(e.store.inner.write(id, old, Expect::Any)).unwrap();
                }
            },
            // Corrupt bytes, or the record gone.
            4 => {
                if next(2) == 0 {
                    let rec = Record {
                        data: b"{\"v\":1,\"data\":".to_vec(),
                        expires_at_ms: T0 + 10_000_000,
                        version: next(5),
                    };
                    block_on(e.store.inner.write(id, &rec, Expect::Any)).unwrap();
                } else {
                    block_on(e.store.inner.destroy(id)).unwrap();
                }
            }
            // A read: it holds what is stored, or is a fresh session when nothing live is.
            _ => {
                let expected = stored_data(&e, id);
                let s = e.open(cookie);
                match expected {
                    Some(data) => {
                        assert_eq!(s.id(), id.as_str(), "step {step}: a stored session");
                        assert_eq!(s.data(), &data, "step {step}: its data as stored");
                    }
                    None => assert!(s.is_new(), "step {step}: nothing live is stored"),
                }
            }
        }
    }
}

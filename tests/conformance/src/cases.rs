//! The cases through the manager, as an application drives a store.

use crate::{jar, open, with, Kit};
use futures_util::future::join_all;
use polysession_core::{ErrorKind, Expect, Outcome, Record, RequestInfo};
use serde_json::{json, Value};
use std::time::Duration;

pub(crate) async fn run(kit: &Kit) {
    crud(kit).await;
    regenerate(kit).await;
    destroy_then_late_release(kit).await;
    destroy_then_due_touch(kit).await;
    regenerate_after_destroy(kit).await;
    concurrent_keys(kit).await;
    corrupt_data(kit).await;
    big_session(kit).await;
    expiry(kit).await;
    count_and_gc(kit).await;
}

async fn crud(kit: &Kit) {
    let t = kit.label();
    let m = kit.manager(|_| {});
    m.init().await.unwrap_or_else(|e| panic!("{t}: init: {e}"));
    let c = with(&m, None, |s| {
        s.set("name", "asta").unwrap();
        s.set("n", 1).unwrap();
        s.set("obj", json!({"list": [1, 2, 3], "nested": {"ok": true}}))
            .unwrap();
    })
    .await;
    let s = open(&m, &c).await;
    assert!(!s.is_new(), "{t}: created session is read back");
    assert_eq!(
        s.get("obj"),
        Some(&json!({"list": [1, 2, 3], "nested": {"ok": true}})),
        "{t}"
    );
    let c = with(&m, Some(&c), |s| {
        s.set("n", 2).unwrap();
        s.delete("name");
    })
    .await;
    let s = open(&m, &c).await;
    assert_eq!((s.get("n"), s.get("name")), (Some(&json!(2)), None), "{t}");
    let c = with(&m, Some(&c), |s| s.flush()).await;
    assert!(open(&m, &c).await.is_empty(), "{t}: flush");
}

async fn expiry(kit: &Kit) {
    let t = kit.label();
    let m = kit.manager(|c| c.max_lifetime = 1);
    let c = with(&m, None, |s| s.set("a", 1).unwrap()).await;
    assert_eq!(open(&m, &c).await.get("a"), Some(&json!(1)), "{t}");
    kit.wait(Duration::from_millis(1300)).await;
    let s = open(&m, &c).await;
    assert!(s.is_new() && s.get("a").is_none(), "{t}: expired");
}

async fn regenerate(kit: &Kit) {
    let t = kit.label();
    let m = kit.manager(|_| {});
    let old = with(&m, None, |s| s.set("cart", json!([1])).unwrap()).await;
    let mut s = open(&m, &old).await;
    m.regenerate(&mut s).await.unwrap();
    s.set("user", "bob").unwrap();
    let release = m.release(s).await.unwrap();
    let new = jar(&release.set_cookie.expect("cookie after regenerate"));
    assert_ne!(new, old, "{t}");
    let s = open(&m, &new).await;
    assert_eq!(
        (s.get("cart"), s.get("user")),
        (Some(&json!([1])), Some(&json!("bob"))),
        "{t}"
    );
    if kit.server_side() {
        assert!(open(&m, &old).await.is_new(), "{t}: old id dead");
    }
}

async fn destroy_then_late_release(kit: &Kit) {
    let t = kit.label();
    let m = kit.manager(|_| {});
    let c = with(&m, None, |s| s.set("user", "bob").unwrap()).await;
    let mut late = open(&m, &c).await;
    let mut logout = open(&m, &c).await;
    m.destroy(&mut logout).await.unwrap();
    let r = m.release(logout).await.unwrap();
    assert_eq!(r.outcome, Outcome::Destroyed, "{t}");
    assert!(r.set_cookie.unwrap().contains("Max-Age=0"), "{t}");
    if !kit.server_side() {
        return; // a sealed cookie cannot be revoked: the client's copy stays valid
    }
    late.set("cart", 1).unwrap();
    assert_eq!(m.release(late).await.unwrap().outcome, Outcome::Gone, "{t}");
    assert!(open(&m, &c).await.is_new(), "{t}: stays destroyed");
}

/// A request that only read the session, released after a logout when its touch is due,
/// must not write the session back.
async fn destroy_then_due_touch(kit: &Kit) {
    if !kit.server_side() {
        return; // no server-side logout to undo
    }
    let t = kit.label();
    let m = kit.manager(|c| {
        c.max_lifetime = 4;
        c.touch_interval = 1;
    });
    let c = with(&m, None, |s| s.set("user", "bob").unwrap()).await;
    kit.wait(Duration::from_millis(1100)).await;
    let reader = open(&m, &c).await;
    let mut logout = open(&m, &c).await;
    m.destroy(&mut logout).await.unwrap();
    let _ = m.release(logout).await.unwrap();
    let r = m.release(reader).await.unwrap();
    assert_eq!(r.outcome, Outcome::Gone, "{t}: touch after logout");
    assert!(
        open(&m, &c).await.is_new(),
        "{t}: stays destroyed after a touch"
    );
}

/// A regenerate that finds its session destroyed ends it instead of moving it.
async fn regenerate_after_destroy(kit: &Kit) {
    if !kit.server_side() {
        return;
    }
    let t = kit.label();
    let m = kit.manager(|_| {});
    let c = with(&m, None, |s| s.set("cart", 1).unwrap()).await;
    let mut login = open(&m, &c).await;
    let mut logout = open(&m, &c).await;
    m.destroy(&mut logout).await.unwrap();
    let _ = m.release(logout).await.unwrap();
    m.regenerate(&mut login).await.unwrap();
    assert!(
        login.is_empty(),
        "{t}: regenerate after logout keeps no data"
    );
    let r = m.release(login).await.unwrap();
    assert_eq!(r.outcome, Outcome::Destroyed, "{t}");
}

async fn concurrent_keys(kit: &Kit) {
    if !kit.server_side() {
        return; // each client holds its own copy: nothing to merge
    }
    let t = kit.label();
    let m = kit.manager(|_| {});
    let c = with(&m, None, |s| s.set("start", 0).unwrap()).await;
    let writers = (0..20).map(|i| {
        let (m, c) = (m.clone(), c.clone());
        async move {
            let mut s = open(&m, &c).await;
            s.set(&format!("k{i}"), i).unwrap();
            m.release(s).await.unwrap().outcome
        }
    });
    for outcome in join_all(writers).await {
        assert_eq!(outcome, Outcome::Written, "{t}");
    }
    let s = open(&m, &c).await;
    for i in 0..20 {
        assert_eq!(s.get(&format!("k{i}")), Some(&json!(i)), "{t}: k{i}");
    }
}

async fn corrupt_data(kit: &Kit) {
    let t = kit.label();
    let m = kit.manager(|_| {});
    let c = with(&m, None, |s| s.set("a", 1).unwrap()).await;
    let (name, value) = c.split_once('=').unwrap_or_default();
    let bad_cookie = if let Some(store) = kit.store_ref() {
        let far = u64::MAX / 2;
        for junk in [&b"\xff\xfe not json"[..], b"{\"v\":99}", b"", b"[1,2]"] {
            let rec = Record {
                data: junk.to_vec(),
                expires_at_ms: far,
                version: 7,
            };
            match store.write(value, &rec, Expect::Any).await {
                Ok(_) => {}
                // A text store may refuse bytes that are not UTF-8 (core never writes any).
                Err(e) if e.kind() == ErrorKind::BadInput && std::str::from_utf8(junk).is_err() => {
                    continue
                }
                Err(e) => panic!("{t}: writing a corrupt record: {e}"),
            }
            let s = open(&m, &c).await;
            assert!(
                s.is_new() && s.id() != value,
                "{t}: corrupt record not adopted"
            );
        }
        c.clone()
    } else {
        let mut v = value.to_owned().into_bytes();
        let i = v.len() / 2;
        v[i] = if v[i] == b'A' { b'B' } else { b'A' };
        format!("{name}={}", String::from_utf8_lossy(&v))
    };
    let s = open(&m, &bad_cookie).await;
    assert!(s.is_new() && s.is_empty(), "{t}");
}

async fn big_session(kit: &Kit) {
    let t = kit.label();
    let big = "x".repeat(1 << 20);
    if !kit.server_side() {
        let m = kit.manager(|_| {});
        let mut s = m.start(&RequestInfo::default()).await.unwrap();
        s.set("big", &big).unwrap();
        assert_eq!(
            m.release(s).await.unwrap_err().kind(),
            ErrorKind::TooLarge,
            "{t}"
        );
        return;
    }
    // Above the default maxSessionBytes (1 MiB): TOO_LARGE, and nothing stored.
    let m = kit.manager(|_| {});
    let mut s = m.start(&RequestInfo::default()).await.unwrap();
    s.set("big", &big).unwrap();
    assert_eq!(
        m.release(s).await.unwrap_err().kind(),
        ErrorKind::TooLarge,
        "{t}: 1 MiB limit"
    );
    // Raised to 2 MiB, a 1 MB session round-trips.
    let m = kit.manager(|c| c.max_session_bytes = 2 << 20);
    let c = with(&m, None, |s| s.set("big", &big).unwrap()).await;
    assert_eq!(
        open(&m, &c).await.get("big"),
        Some(&Value::String(big)),
        "{t}: 1 MB"
    );
}

async fn count_and_gc(kit: &Kit) {
    let t = kit.label();
    let m = kit.manager(|c| c.max_lifetime = 1);
    let Some(store) = kit.store_ref() else {
        assert_eq!(
            m.count().await.unwrap_err().kind(),
            ErrorKind::Unsupported,
            "{t}"
        );
        return;
    };
    let before = match m.count().await {
        Err(e) if e.kind() == ErrorKind::Unsupported => return, // a host store without list()
        other => other.unwrap_or_else(|e| panic!("{t}: count: {e}")),
    };
    for i in 0..3 {
        with(&m, None, |s| s.set("i", i).unwrap()).await;
    }
    assert_eq!(m.count().await.unwrap(), before + 3, "{t}");
    // Past the 1 s lifetime, even for stores whose clock ticks in whole seconds (memcached).
    kit.wait(Duration::from_millis(2100)).await;
    assert_eq!(
        m.count().await.unwrap(),
        before,
        "{t}: expired sessions are not counted"
    );
    let removed = m.gc().await.unwrap();
    if !store.capabilities().native_ttl {
        assert!(removed >= 3, "{t}: gc removed {removed}");
    }
    assert_eq!(m.count().await.unwrap(), before, "{t}");
}

//! One behaviour suite, run against every provider: memory and cookie (core), file, and the
//! server-backed ones, which talk to real servers on 127.0.0.1 (addresses from the
//! environment, see `services.rs`). Under `CI=true` an unreachable server fails the test.

mod services;

use polysession_core::{Config, ErrorKind, Expect, Manager, Outcome, Record, RequestInfo, Session};
use serde_json::{json, Value};
use std::time::Duration;

/// A provider under test: a config that names it, and what it can do.
struct Target {
    label: String,
    config: Config,
    server_side: bool,
}

impl Target {
    fn new(label: &str, provider: &str, provider_config: impl Into<String>) -> Target {
        polysession_providers::register_all();
        Target {
            label: label.into(),
            config: Config::builder()
                .provider(provider, provider_config)
                .build()
                .unwrap(),
            server_side: provider != "cookie",
        }
    }

    fn manager(&self, tweak: impl FnOnce(&mut Config)) -> Manager {
        let mut config = self.config.clone();
        tweak(&mut config);
        Manager::new(config).unwrap_or_else(|e| panic!("{}: {e}", self.label))
    }
}

/// The `name=value` of a Set-Cookie.
fn jar(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

async fn open(m: &Manager, cookie: &str) -> Session {
    m.start(&RequestInfo {
        cookies: vec![cookie],
        ..Default::default()
    })
    .await
    .unwrap()
}

/// Applies `f` to the session behind `cookie` (a new one for `None`) and releases it;
/// returns the cookie the client holds afterwards.
async fn with(m: &Manager, cookie: Option<&str>, f: impl FnOnce(&mut Session)) -> String {
    let mut s = match cookie {
        Some(c) => open(m, c).await,
        None => m.start(&RequestInfo::default()).await.unwrap(),
    };
    f(&mut s);
    let r = m.release(s).await.unwrap();
    match (r.set_cookie, cookie) {
        (Some(c), _) => jar(&c),
        (None, Some(c)) => c.to_owned(),
        (None, None) => panic!("no cookie for a new session"),
    }
}

async fn crud(t: &Target) {
    let m = t.manager(|_| {});
    m.init().await.unwrap();
    let c = with(&m, None, |s| {
        s.set("name", "asta").unwrap();
        s.set("n", 1).unwrap();
        s.set("obj", json!({"list": [1, 2, 3], "nested": {"ok": true}}))
            .unwrap();
    })
    .await;
    let s = open(&m, &c).await;
    assert!(!s.is_new(), "{}: created session is read back", t.label);
    assert_eq!(
        s.get("obj"),
        Some(&json!({"list": [1, 2, 3], "nested": {"ok": true}}))
    );
    let c = with(&m, Some(&c), |s| {
        s.set("n", 2).unwrap();
        s.delete("name");
    })
    .await;
    let s = open(&m, &c).await;
    assert_eq!(
        (s.get("n"), s.get("name")),
        (Some(&json!(2)), None),
        "{}",
        t.label
    );
    let c = with(&m, Some(&c), |s| s.flush()).await;
    assert!(open(&m, &c).await.is_empty(), "{}: flush", t.label);
}

async fn expiry(t: &Target) {
    let m = t.manager(|c| c.max_lifetime = 1);
    let c = with(&m, None, |s| s.set("a", 1).unwrap()).await;
    assert_eq!(open(&m, &c).await.get("a"), Some(&json!(1)));
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let s = open(&m, &c).await;
    assert!(s.is_new() && s.get("a").is_none(), "{}: expired", t.label);
}

async fn regenerate(t: &Target) {
    let m = t.manager(|_| {});
    let old = with(&m, None, |s| s.set("cart", json!([1])).unwrap()).await;
    let mut s = open(&m, &old).await;
    m.regenerate(&mut s).await.unwrap();
    s.set("user", "bob").unwrap();
    let new = jar(&m
        .release(s)
        .await
        .unwrap()
        .set_cookie
        .expect("cookie after regenerate"));
    assert_ne!(new, old);
    let s = open(&m, &new).await;
    assert_eq!(
        (s.get("cart"), s.get("user")),
        (Some(&json!([1])), Some(&json!("bob"))),
        "{}",
        t.label
    );
    if t.server_side {
        assert!(open(&m, &old).await.is_new(), "{}: old id dead", t.label);
    }
}

async fn destroy_then_late_release(t: &Target) {
    let m = t.manager(|_| {});
    let c = with(&m, None, |s| s.set("user", "bob").unwrap()).await;
    let mut late = open(&m, &c).await;
    let mut logout = open(&m, &c).await;
    m.destroy(&mut logout).await.unwrap();
    let r = m.release(logout).await.unwrap();
    assert_eq!(r.outcome, Outcome::Destroyed);
    assert!(r.set_cookie.unwrap().contains("Max-Age=0"));
    if t.server_side {
        late.set("cart", 1).unwrap();
        assert_eq!(
            m.release(late).await.unwrap().outcome,
            Outcome::Gone,
            "{}",
            t.label
        );
        assert!(open(&m, &c).await.is_new(), "{}: stays destroyed", t.label);
    }
}

async fn concurrent_keys(t: &Target) {
    if !t.server_side {
        return; // each client holds its own copy: nothing to merge
    }
    let m = t.manager(|_| {});
    let c = with(&m, None, |s| s.set("start", 0).unwrap()).await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (m, c) = (m.clone(), c.clone());
            tokio::spawn(async move {
                let mut s = open(&m, &c).await;
                s.set(&format!("k{i}"), i).unwrap();
                m.release(s).await.unwrap().outcome
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), Outcome::Written);
    }
    let s = open(&m, &c).await;
    for i in 0..20 {
        assert_eq!(
            s.get(&format!("k{i}")),
            Some(&json!(i)),
            "{}: k{i}",
            t.label
        );
    }
}

async fn count_and_gc(t: &Target) {
    let m = t.manager(|c| c.max_lifetime = 1);
    if !t.server_side {
        assert_eq!(m.count().await.unwrap_err().kind(), ErrorKind::Unsupported);
        return;
    }
    let before = m.count().await.unwrap();
    for i in 0..3 {
        with(&m, None, |s| s.set("i", i).unwrap()).await;
    }
    assert_eq!(m.count().await.unwrap(), before + 3, "{}", t.label);
    // Past the 1 s lifetime, even for stores whose clock ticks in whole seconds (memcached).
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        m.count().await.unwrap(),
        before,
        "{}: expired sessions are not counted",
        t.label
    );
    let removed = m.gc().await.unwrap();
    if !m.store().unwrap().capabilities().native_ttl {
        assert!(removed >= 3, "{}: gc removed {removed}", t.label);
    }
    assert_eq!(m.count().await.unwrap(), before);
}

async fn corrupt_data(t: &Target) {
    let m = t.manager(|_| {});
    let c = with(&m, None, |s| s.set("a", 1).unwrap()).await;
    let (name, value) = c.split_once('=').unwrap();
    let bad_cookie = if t.server_side {
        let far = u64::MAX / 2;
        for junk in [&b"\xff\xfe not json"[..], b"{\"v\":99}", b"", b"[1,2]"] {
            let rec = Record {
                data: junk.to_vec(),
                expires_at_ms: far,
                version: 7,
            };
            m.store()
                .unwrap()
                .write(value, &rec, Expect::Any)
                .await
                .unwrap();
            let s = open(&m, &c).await;
            assert!(
                s.is_new() && s.id() != value,
                "{}: corrupt record not adopted",
                t.label
            );
        }
        c.clone()
    } else {
        let mut v = value.to_owned().into_bytes();
        let i = v.len() / 2;
        v[i] = if v[i] == b'A' { b'B' } else { b'A' };
        format!("{name}={}", String::from_utf8(v).unwrap())
    };
    let s = open(&m, &bad_cookie).await;
    assert!(s.is_new() && s.is_empty(), "{}", t.label);
}

async fn big_session(t: &Target) {
    let m = t.manager(|_| {});
    let big = "x".repeat(1 << 20);
    if !t.server_side {
        let mut s = m.start(&RequestInfo::default()).await.unwrap();
        s.set("big", &big).unwrap();
        assert_eq!(m.release(s).await.unwrap_err().kind(), ErrorKind::TooLarge);
        return;
    }
    let c = with(&m, None, |s| s.set("big", &big).unwrap()).await;
    assert_eq!(
        open(&m, &c).await.get("big"),
        Some(&Value::String(big)),
        "{}: 1 MB",
        t.label
    );
}

async fn conformance(t: Target) {
    crud(&t).await;
    regenerate(&t).await;
    destroy_then_late_release(&t).await;
    concurrent_keys(&t).await;
    corrupt_data(&t).await;
    big_session(&t).await;
    expiry(&t).await;
    count_and_gc(&t).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory() {
    conformance(Target::new("memory", "memory", "")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie() {
    conformance(Target::new(
        "cookie",
        "cookie",
        r#"{"keys":["a conformance secret, 32 bytes or more"]}"#,
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file() {
    let dir = services::temp_dir("file");
    conformance(Target::new("file", "file", dir.to_str().unwrap())).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis() {
    let addr = services::addr("POLYSESSION_REDIS", "127.0.0.1:6379");
    if services::reachable("Redis", &addr) {
        let cfg = serde_json::json!({ "save_path": addr, "prefix": format!("{}:", services::unique("redis")) });
        conformance(Target::new("redis", "redis", cfg.to_string())).await;
    }
}

#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_cluster() {
    let addrs = services::addr(
        "POLYSESSION_REDIS_CLUSTER",
        "127.0.0.1:7001;127.0.0.1:7002;127.0.0.1:7003",
    );
    if services::reachable("Redis Cluster", &addrs) {
        let cfg = serde_json::json!({ "save_path": addrs, "prefix": format!("{}:", services::unique("cluster")) });
        conformance(Target::new(
            "redis_cluster",
            "redis_cluster",
            cfg.to_string(),
        ))
        .await;
    }
}

#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_sentinel() {
    let addrs = services::addr(
        "POLYSESSION_REDIS_SENTINEL",
        "127.0.0.1:26379;127.0.0.1:26380;127.0.0.1:26381",
    );
    if services::reachable("Redis Sentinel", &addrs) {
        // beego's form: sentinels,poolsize,password,dbnum,mastername
        conformance(Target::new(
            "redis_sentinel",
            "redis_sentinel",
            format!("{addrs},10,,0,mymaster"),
        ))
        .await;
    }
}

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    let dir = services::temp_dir("sqlite");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sessions.db");
    conformance(Target::new("sqlite", "sqlite", path.to_str().unwrap())).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "mysql")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql() {
    let addr = services::addr("POLYSESSION_MYSQL_ADDR", "127.0.0.1:3306");
    if services::reachable("MariaDB/MySQL", &addr) {
        // beego's go-sql-driver DSN form, with our table name in the JSON form.
        let cfg = serde_json::json!({ "dsn": format!("root:@tcp({addr})/test?charset=utf8"), "table": services::unique("mysql") });
        conformance(Target::new("mysql", "mysql", cfg.to_string())).await;
    }
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql() {
    let addr = services::addr("POLYSESSION_POSTGRES_ADDR", "127.0.0.1:5432");
    if services::reachable("PostgreSQL", &addr) {
        let cfg = serde_json::json!({
            "dsn": format!("postgres://postgres@{addr}/test?sslmode=disable"),
            "table": services::unique("pg"),
        });
        conformance(Target::new("postgresql", "postgresql", cfg.to_string())).await;
    }
}

#[cfg(feature = "memcache")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memcache() {
    let addr = services::addr("POLYSESSION_MEMCACHE", "127.0.0.1:11211");
    if services::reachable("memcached", &addr) {
        let cfg = serde_json::json!({ "servers": addr, "prefix": format!("{}:", services::unique("mc")) });
        conformance(Target::new("memcache", "memcache", cfg.to_string())).await;
    }
}

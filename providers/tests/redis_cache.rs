//! The client-side cache of the `redis` provider, against a `redis-server` this test starts on
//! a free loopback port (so that `INFO commandstats` counts only this test's commands):
//! round trips counted by the server, changes and deletions by other clients (a raw
//! `redis-cli`, and a second process: this test binary run again) seen by the cached process,
//! a reconnect dropping the cache, concurrent writers in two processes, and logouts that are
//! never undone.
//!
//! Needs `redis-server` and `redis-cli` (`scripts/services.sh` installs them). Under `CI=true`
//! a missing binary fails the test; elsewhere it skips.
#![cfg(feature = "redis")]

use polysession_core::{Config, Manager, ManualClock, Outcome, RequestInfo};
use polysession_providers::{Mode, RedisStore};
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Set in the child process: what it does (see [`child`]).
const CHILD: &str = "POLYSESSION_CACHE_CHILD";

fn missing(what: &str) -> bool {
    let msg = format!("{what} is missing: run `bash scripts/test.sh`, which installs it");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg}");
    }
    eprintln!("SKIPPED (not under CI): {msg}");
    true
}

fn have(binary: &str) -> bool {
    Command::new(binary)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// A `redis-server` of this test, killed on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[path = "../../tests/support/free_port.rs"]
mod support;
use support::free_port;

/// A fresh `redis-server`, or `None` (skipped) when it is not installed outside CI.
fn server() -> Option<Server> {
    if !(have("redis-server") && have("redis-cli")) && missing("redis-server and redis-cli") {
        return None;
    }
    // Another test may still take the port before the server binds it: then this server
    // exits and another answers on the port. Try a few ports until the one answering is ours.
    for _ in 0..5 {
        let port = free_port();
        let mut child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        if answers_as(&mut child, port) {
            return Some(Server { child, port });
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("no redis-server of this test came up on 5 free ports");
}

/// Whether `child` comes up and is the server answering on `port` (its `INFO` names its pid).
fn answers_as(child: &mut Child, port: u16) -> bool {
    let pid = format!("process_id:{}", child.id());
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if !matches!(child.try_wait(), Ok(None)) {
            return false;
        }
        // `timeout`: whatever else holds the port may never answer.
        let info = Command::new("timeout")
            .args(["2", "redis-cli", "-h", "127.0.0.1", "-p", &port.to_string()])
            .args(["INFO", "server"])
            .stderr(Stdio::null())
            .output();
        if let Ok(out) = info {
            let text = String::from_utf8_lossy(&out.stdout);
            if text.lines().any(|line| line.trim() == pid) {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "redis-cli {args:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Calls per command since the server started (`INFO commandstats`), top-level commands only
/// (the commands a script runs are listed too, under their own names).
fn calls(port: u16) -> HashMap<String, u64> {
    cli(port, &["INFO", "commandstats"])
        .lines()
        .filter_map(|line| {
            let (name, rest) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let n = rest
                .strip_prefix("calls=")?
                .split(',')
                .next()?
                .parse()
                .ok()?;
            Some((name.to_owned(), n))
        })
        .collect()
}

/// The session commands sent between two `calls` readings: reads, scripts, deletes.
fn sent(before: &HashMap<String, u64>, after: &HashMap<String, u64>) -> HashMap<String, u64> {
    ["hmget", "evalsha", "eval", "del"]
        .iter()
        .filter_map(|name| {
            let n =
                after.get(*name).copied().unwrap_or(0) - before.get(*name).copied().unwrap_or(0);
            (n > 0).then(|| ((*name).to_owned(), n))
        })
        .collect()
}

fn provider_config(port: u16, extra: serde_json::Value) -> String {
    let mut config = serde_json::json!({
        "save_path": format!("127.0.0.1:{port}"),
        "prefix": "c:",
        // Long enough that no test here sees the cache distrust a quiet connection.
        "client_cache_max_stale_ms": 600_000,
    });
    if let (Some(c), Some(e)) = (config.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    config.to_string()
}

/// A manager on the `redis` provider of `port`, and its store (for the cache's counters).
fn manager(
    port: u16,
    clock: Option<Arc<ManualClock>>,
    extra: serde_json::Value,
) -> (Manager, Arc<RedisStore>) {
    let config = Config::builder()
        .provider("redis", provider_config(port, extra))
        .build()
        .unwrap();
    let store = Arc::new(RedisStore::from_config(Mode::Standalone, &config).unwrap());
    let mut builder = Manager::builder(config).store(store.clone());
    if let Some(clock) = clock {
        builder = builder.clock(clock);
    }
    (builder.build().unwrap(), store)
}

/// [`manager`], connected (beego's `SessionInit`), as an application starts it.
async fn started(
    port: u16,
    clock: Option<Arc<ManualClock>>,
    extra: serde_json::Value,
) -> (Manager, Arc<RedisStore>) {
    let (m, store) = manager(port, clock, extra);
    m.init().await.unwrap();
    (m, store)
}

fn cookie_of(id: &str) -> String {
    format!("beegosessionID={id}")
}

/// One request: start with `cookie`, run `f` on the session, release. The session id after it
/// and what happened in the store.
async fn request(
    m: &Manager,
    cookie: &str,
    f: impl FnOnce(&mut polysession_core::Session),
) -> (String, Outcome, polysession_core::Session) {
    let req = RequestInfo {
        cookies: vec![cookie],
        ..RequestInfo::default()
    };
    let mut s = m.start(&req).await.unwrap();
    f(&mut s);
    let id = s.id().to_owned();
    let snapshot = s.clone();
    let release = m
        .release(s)
        .await
        .unwrap_or_else(|e| panic!("{e} {:?}", std::error::Error::source(&e)));
    (id, release.outcome, snapshot)
}

/// A new session holding `n = 0`; its cookie.
async fn new_session(m: &Manager) -> String {
    let (id, outcome, _) = request(m, "", |s| s.set("n", 0).unwrap()).await;
    assert_eq!(outcome, Outcome::Written);
    cookie_of(&id)
}

fn n_of(s: &polysession_core::Session) -> Option<i64> {
    s.get("n").and_then(serde_json::Value::as_i64)
}

/// Runs this test binary again as a second process doing `action` (see [`child`]).
fn spawn_child(port: u16, action: &str, args: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, format!("{port} {action} {args}"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: Child) {
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("child done"),
        "the second process failed: {text}"
    );
}

/// The second process: `PORT write COOKIE FIRST LAST` sets keys `kFIRST..=kLAST` of one
/// session, each in its own concurrent request; `PORT destroy COOKIE...` logs each session
/// out. Does nothing unless run by [`spawn_child`].
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child() {
    let Ok(task) = std::env::var(CHILD) else {
        return;
    };
    let parts: Vec<&str> = task.split(' ').collect();
    let port: u16 = parts[0].parse().unwrap();
    let (m, _) = started(port, None, serde_json::json!({})).await;
    let m = Arc::new(m);
    match parts[1] {
        "write" => {
            let (cookie, first, last): (String, u32, u32) = (
                parts[2].into(),
                parts[3].parse().unwrap(),
                parts[4].parse().unwrap(),
            );
            let mut tasks = Vec::new();
            for i in first..=last {
                let (m, cookie) = (m.clone(), cookie.clone());
                tasks.push(tokio::spawn(async move {
                    request(&m, &cookie, |s| s.set(&format!("k{i}"), i).unwrap())
                        .await
                        .1
                }));
            }
            for t in tasks {
                assert_eq!(t.await.unwrap(), Outcome::Written);
            }
        }
        "destroy" => {
            for cookie in &parts[2..] {
                let req = RequestInfo {
                    cookies: vec![cookie],
                    ..RequestInfo::default()
                };
                let mut s = m.start(&req).await.unwrap();
                assert!(!s.is_new(), "the session to log out exists");
                m.destroy(&mut s).await.unwrap();
                let _ = m.release(s).await.unwrap();
            }
        }
        other => panic!("unknown child action {other}"),
    }
    println!("child done");
}

#[tokio::test]
async fn round_trips_counted_by_the_server() {
    let Some(redis) = server() else { return };
    // Real time (Redis expires the keys by it), moved forward by hand for the touch.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let clock = Arc::new(ManualClock::new(now));
    let (m, store) = started(redis.port, Some(clock.clone()), serde_json::json!({})).await;
    let cookie = new_session(&m).await;
    // Warm-up: the write above left the record in the cache.
    let before = calls(redis.port);
    for _ in 0..20 {
        let (_, outcome, s) = request(&m, &cookie, |_| {}).await;
        assert_eq!((outcome, n_of(&s)), (Outcome::Unchanged, Some(0)));
    }
    let after = calls(redis.port);
    assert_eq!(
        sent(&before, &after),
        HashMap::new(),
        "20 cached read-only requests: no command"
    );

    let before = after;
    for i in 1..=20 {
        let (_, outcome, _) = request(&m, &cookie, |s| s.set("n", i).unwrap()).await;
        assert_eq!(outcome, Outcome::Written);
    }
    let after = calls(redis.port);
    assert_eq!(
        sent(&before, &after),
        HashMap::from([("evalsha".to_owned(), 20)]),
        "20 writes: one command each, the compare-and-set script"
    );

    // A due touch (past the touch interval): one command, then none again. (The first touch
    // loads its script: EVALSHA, NOSCRIPT, SCRIPT LOAD, EVALSHA.)
    clock.advance_ms(61_000);
    assert_eq!(request(&m, &cookie, |_| {}).await.1, Outcome::Touched);
    clock.advance_ms(61_000);
    let before = calls(redis.port);
    let (_, outcome, s) = request(&m, &cookie, |_| {}).await;
    assert_eq!((outcome, n_of(&s)), (Outcome::Touched, Some(20)));
    for i in 0..5 {
        let (_, outcome, _) = request(&m, &cookie, |_| {}).await;
        assert_eq!(
            outcome,
            Outcome::Unchanged,
            "request {i} after the touch: {:?}",
            store.cache_stats()
        );
    }
    let after = calls(redis.port);
    assert_eq!(
        sent(&before, &after),
        HashMap::from([("evalsha".to_owned(), 1)]),
        "a due touch: one command; the requests after it: none"
    );

    // Without the cache, every request reads.
    let (plain, _) = started(
        redis.port,
        Some(clock),
        serde_json::json!({"client_cache": false}),
    )
    .await;
    let before = calls(redis.port);
    for _ in 0..5 {
        request(&plain, &cookie, |_| {}).await;
    }
    assert_eq!(
        sent(&before, &calls(redis.port)),
        HashMap::from([("hmget".to_owned(), 5)])
    );
    let stats = store.cache_stats().unwrap();
    assert!(stats.hits >= 46 && stats.entries == 1, "{stats:?}");
}

/// Polls `m` until the session of `cookie` satisfies `done`; how long it took.
async fn seen_within(
    m: &Manager,
    cookie: &str,
    done: impl Fn(&polysession_core::Session) -> bool,
) -> Duration {
    let started = Instant::now();
    loop {
        let (_, _, s) = request(m, cookie, |_| {}).await;
        if done(&s) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "the change was not seen in 2 s"
        );
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
}

#[tokio::test]
async fn changes_and_deletions_by_others_are_seen() {
    let Some(redis) = server() else { return };
    let (a, store) = started(redis.port, None, serde_json::json!({})).await;
    let (b, _) = started(redis.port, None, serde_json::json!({"client_cache": false})).await;
    let mut windows = Vec::new();
    for round in 0..20 {
        let cookie = new_session(&a).await;
        // A has it cached (its own write); B, on another connection, changes it.
        assert_eq!(n_of(&request(&a, &cookie, |_| {}).await.2), Some(0));
        request(&b, &cookie, |s| s.set("n", round + 1).unwrap()).await;
        windows.push(seen_within(&a, &cookie, |s| n_of(s) == Some(round + 1)).await);
        // A raw redis-cli deletes it (a logout elsewhere): A's next requests get a new session.
        let id = cookie.trim_start_matches("beegosessionID=");
        assert_eq!(cli(redis.port, &["DEL", &format!("c:{id}")]), "1");
        windows.push(seen_within(&a, &cookie, |s| s.is_new()).await);
    }
    windows.sort();
    eprintln!(
        "change or logout elsewhere seen by the cached process within: median {:?}, max {:?} ({} changes)",
        windows[windows.len() / 2],
        windows[windows.len() - 1],
        windows.len()
    );
    let stats = store.cache_stats().unwrap();
    assert!(stats.invalidations >= 40, "{stats:?}");
}

#[tokio::test]
async fn a_lost_connection_drops_the_cache() {
    let Some(redis) = server() else { return };
    let (a, store) = started(redis.port, None, serde_json::json!({})).await;
    // B has no cache; a call of its that meets the dropped connection is tried once more on a
    // new one, so its next request works.
    let (b, _) = started(redis.port, None, serde_json::json!({"client_cache": false})).await;
    let cookie = new_session(&a).await;
    assert_eq!(n_of(&request(&a, &cookie, |_| {}).await.2), Some(0));
    let resets = store.cache_stats().unwrap().resets;
    // Every client connection dies, A's included; then B (reconnecting) changes the session,
    // which no longer sends A an invalidation: the new connection does not track the key.
    cli(
        redis.port,
        &["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"],
    );
    let deadline = Instant::now() + Duration::from_secs(2);
    while store.cache_stats().unwrap().resets == resets {
        assert!(
            Instant::now() < deadline,
            "the lost connection did not empty the cache"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    request(&b, &cookie, |s| s.set("n", 7).unwrap()).await;
    assert_eq!(n_of(&request(&a, &cookie, |_| {}).await.2), Some(7));
    // And the cache works again on the new connection: cached, then invalidated.
    assert_eq!(n_of(&request(&a, &cookie, |_| {}).await.2), Some(7));
    let hits = store.cache_stats().unwrap().hits;
    assert_eq!(n_of(&request(&a, &cookie, |_| {}).await.2), Some(7));
    assert_eq!(store.cache_stats().unwrap().hits, hits + 1);
    request(&b, &cookie, |s| s.set("n", 8).unwrap()).await;
    seen_within(&a, &cookie, |s| n_of(s) == Some(8)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_writers_in_two_processes_all_survive() {
    let Some(redis) = server() else { return };
    let (a, _) = started(redis.port, None, serde_json::json!({})).await;
    let a = Arc::new(a);
    for _round in 0..3 {
        let cookie = new_session(&a).await;
        let child = spawn_child(redis.port, "write", &format!("{cookie} 26 50"));
        let mut tasks = Vec::new();
        for i in 1..=25 {
            let (a, cookie) = (a.clone(), cookie.clone());
            tasks.push(tokio::spawn(async move {
                request(&a, &cookie, |s| s.set(&format!("k{i}"), i).unwrap())
                    .await
                    .1
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), Outcome::Written);
        }
        finish(child);
        let all =
            |s: &polysession_core::Session| (1..=50).all(|i| s.get(&format!("k{i}")).is_some());
        // Redis holds all 50, and the cached process sees them all.
        let (fresh, _) =
            started(redis.port, None, serde_json::json!({"client_cache": false})).await;
        assert!(
            all(&request(&fresh, &cookie, |_| {}).await.2),
            "a key was lost"
        );
        seen_within(&a, &cookie, all).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_in_one_process_is_never_undone_by_the_other() {
    let Some(redis) = server() else { return };
    let (a, _) = started(redis.port, None, serde_json::json!({})).await;
    let a = Arc::new(a);
    let mut cookies = Vec::new();
    for _ in 0..30 {
        let cookie = new_session(&a).await;
        // Cached by A.
        assert_eq!(n_of(&request(&a, &cookie, |_| {}).await.2), Some(0));
        cookies.push(cookie);
    }
    // The second process logs every session out while A keeps writing to them.
    let child = spawn_child(redis.port, "destroy", &cookies.join(" "));
    let mut writers = Vec::new();
    for cookie in cookies.clone() {
        let a = a.clone();
        writers.push(tokio::spawn(async move {
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut n = 0;
            loop {
                n += 1;
                let (_, outcome, s) = request(&a, &cookie, |s| {
                    if !s.is_new() {
                        s.set("n", n).unwrap();
                    }
                })
                .await;
                // Written while the session lived; once logged out, never again.
                if s.is_new() || outcome == Outcome::Gone {
                    return;
                }
                assert!(Instant::now() < deadline, "the logout never reached A");
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    finish(child);
    for cookie in &cookies {
        let id = cookie.trim_start_matches("beegosessionID=");
        assert_eq!(
            cli(redis.port, &["EXISTS", &format!("c:{id}")]),
            "0",
            "a logout was undone"
        );
        assert!(request(&a, cookie, |_| {}).await.2.is_new());
    }
}

#[tokio::test]
async fn the_conformance_kit_with_and_without_the_cache() {
    let Some(redis) = server() else { return };
    for extra in [
        serde_json::json!({}),
        serde_json::json!({"client_cache": false}),
    ] {
        let (m, _) = manager(redis.port, None, extra.clone());
        let store = m.store().unwrap().clone();
        polysession_conformance::Kit::store(&format!("redis {extra}"), store)
            .sleep(|d| Box::pin(tokio::time::sleep(d)))
            .run()
            .await;
    }
}

/// A server that speaks only RESP2, as Redis before 6 does: `HELLO` is an unknown command,
/// anything else is answered `+PONG`. Returns its port and the commands it received.
async fn resp2_only_server() -> (u16, Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                // Each command: `*N`, then N times `$len` and the argument.
                while let Ok(Some(head)) = lines.next_line().await {
                    let Some(n) = head.strip_prefix('*').and_then(|n| n.parse::<usize>().ok())
                    else {
                        return;
                    };
                    let mut args = Vec::new();
                    for _ in 0..n {
                        let _len = lines.next_line().await;
                        args.push(lines.next_line().await.ok().flatten().unwrap_or_default());
                    }
                    let name = args.first().cloned().unwrap_or_default().to_uppercase();
                    log.lock().unwrap().push(name.clone());
                    let reply: &[u8] = if name == "HELLO" {
                        b"-ERR unknown command 'HELLO'\r\n"
                    } else {
                        b"+PONG\r\n"
                    };
                    if write.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, seen)
}

#[tokio::test]
async fn a_server_without_resp3_is_used_without_the_cache() {
    let (port, seen) = resp2_only_server().await;
    let (m, store) = manager(port, None, serde_json::json!({"timeout_ms": 2000}));
    m.init()
        .await
        .expect("connects in RESP2 when HELLO is refused");
    m.init().await.unwrap();
    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.contains(&"HELLO".to_owned()),
        "RESP3 was asked first: {seen:?}"
    );
    assert_eq!(seen.iter().filter(|c| *c == "PING").count(), 2, "{seen:?}");
    assert!(!seen.contains(&"CLIENT".to_owned()) || !seen.iter().any(|c| c == "TRACKING"));
    assert_eq!(store.cache_stats().unwrap().entries, 0);
}

//! Faults between the demo and its store: a TCP proxy on loopback (in this test) that passes,
//! delays past `timeout_ms`, or drops every connection, mid-command included, in front of
//! Redis, PostgreSQL and MariaDB. While the store is slow or cut off, requests end with 503
//! within the timeout, never hang; traffic recovers by itself when the proxy passes again; and
//! no session whose write was acknowledged with a 2xx is lost.

use reqwest::StatusCode;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Pass,
    /// Each chunk, either way, waits this long before it is forwarded.
    Delay(Duration),
    /// Open connections are closed at once, new ones as soon as they are accepted.
    Drop,
}

struct Proxy {
    port: u16,
    mode: watch::Sender<Mode>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (mode, _) = watch::channel(Mode::Pass);
        let modes = mode.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if *modes.borrow() == Mode::Drop {
                    continue; // dropped: closed
                }
                let Ok(server) = TcpStream::connect(upstream).await else {
                    continue;
                };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(pump(cr, sw, modes.subscribe()));
                tokio::spawn(pump(sr, cw, modes.subscribe()));
            }
        });
        Proxy { port, mode }
    }

    fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }
}

/// Copies `from` to `to` under the proxy's mode; returning drops both halves, which closes
/// that direction (and the peer sees the connection end).
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut mode: watch::Receiver<Mode>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        tokio::select! {
            read = from.read(&mut buf) => {
                let n = match read {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                let now = *mode.borrow();
                match now {
                    Mode::Drop => return,
                    Mode::Delay(d) => tokio::time::sleep(d).await,
                    Mode::Pass => {}
                }
                if *mode.borrow() == Mode::Drop || to.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
            changed = mode.changed() => {
                if changed.is_err() || *mode.borrow() == Mode::Drop {
                    return;
                }
            }
        }
    }
}

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn demo(provider: &str, config: &str) -> (Proc, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_polysession-demo"))
        .args([
            "--port",
            "0",
            "--provider",
            provider,
            "--provider-config",
            config,
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("demo");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("the demo did not start: {line}"))
        .to_owned();
    (Proc(child), base)
}

/// The address of a test server (`$var`, else `default`), or `None` (a failure under CI).
fn server(var: &str, default: &str) -> Option<SocketAddr> {
    let addr = std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned());
    let sa: SocketAddr = addr.parse().ok()?;
    if std::net::TcpStream::connect_timeout(&sa, Duration::from_secs(1)).is_ok() {
        return Some(sa);
    }
    let msg = format!("{var}: nothing answers at {addr}: run scripts/test.sh");
    assert!(std::env::var("CI").map_or(true, |v| v != "true"), "{msg}");
    eprintln!("SKIPPED (not under CI): {msg}");
    None
}

fn cookie_of(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

/// Runs the fault sequence against `provider` reached through a proxy to `upstream`;
/// `config(port)` is the provider config for the proxy's port, with `timeout` as its timeout.
async fn faults(
    provider: &str,
    upstream: SocketAddr,
    config: impl Fn(u16) -> String,
    timeout: Duration,
) {
    let proxy = Proxy::start(upstream).await;
    let (_demo, base) = demo(provider, &config(proxy.port));
    let client = reqwest::Client::new();
    let set = |cookie: Option<&str>, value: i64| {
        let mut req = client.post(format!("{base}/set?key=v&value={value}"));
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        req.send()
    };
    // Per session: the value last acknowledged, and values written without an answer (they
    // may or may not have reached the store).
    let mut acked: HashMap<String, (i64, Vec<i64>)> = HashMap::new();
    for i in 0..20 {
        let res = set(None, i).await.unwrap();
        assert_eq!(
            res.status(),
            StatusCode::NO_CONTENT,
            "{provider}: healthy write"
        );
        acked.insert(cookie_of(&res).unwrap(), (i, Vec::new()));
    }
    let cookies: Vec<String> = acked.keys().cloned().collect();
    // Some slack over the timeout for the demo, the pool and this machine.
    let bound = timeout + Duration::from_millis(2500);
    let mut next = 1000;
    for mode in [Mode::Delay(timeout * 3), Mode::Drop] {
        proxy.set(mode);
        let mut slowest = Duration::ZERO;
        for cookie in cookies.iter().take(6) {
            next += 1;
            let started = Instant::now();
            let res = set(Some(cookie), next).await.unwrap();
            let took = started.elapsed();
            slowest = slowest.max(took);
            assert!(took < bound, "{provider} {mode:?}: no hang: {took:?}");
            // A store slowed past the timeout or cut off: the write is not acknowledged.
            assert_eq!(
                res.status(),
                StatusCode::SERVICE_UNAVAILABLE,
                "{provider} {mode:?}"
            );
            acked.get_mut(cookie).unwrap().1.push(next);
        }
        eprintln!("{provider} {mode:?}: 6 writes, each 503, the slowest in {slowest:?}");
        let started = Instant::now();
        let res = client
            .get(format!("{base}/get?key=v"))
            .header("cookie", &cookies[0])
            .send()
            .await
            .unwrap();
        assert!(
            started.elapsed() < bound,
            "{provider} {mode:?}: a read does not hang"
        );
        assert_eq!(
            res.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "{provider} {mode:?}: a read"
        );
    }

    // Recovery by itself.
    proxy.set(Mode::Pass);
    let cut = Instant::now();
    let deadline = cut + Duration::from_secs(20);
    loop {
        let res = client
            .get(format!("{base}/get?key=v"))
            .header("cookie", &cookies[0])
            .send()
            .await
            .unwrap();
        if res.status() == StatusCode::OK {
            eprintln!(
                "{provider}: recovered {:?} after the proxy passed again",
                cut.elapsed()
            );
            break;
        }
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "{provider}");
        assert!(
            Instant::now() < deadline,
            "{provider}: traffic did not recover"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // No acknowledged session is lost: each holds its last acknowledged value, or a later
    // write whose answer was a 503.
    for (cookie, (value, maybe)) in &acked {
        let res = client
            .get(format!("{base}/get?key=v"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{provider}");
        let got: serde_json::Value = res.json().await.unwrap();
        let got = got
            .as_i64()
            .unwrap_or_else(|| panic!("{provider}: session lost ({cookie}): {got}"));
        assert!(
            got == *value || maybe.contains(&got),
            "{provider}: {cookie} holds {got}, acknowledged {value}"
        );
    }
    // And new sessions work.
    assert_eq!(set(None, 1).await.unwrap().status(), StatusCode::NO_CONTENT);
}

fn unique(tag: &str) -> String {
    format!("ps{}{tag}", std::process::id())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_slow_or_cut_off() {
    let Some(upstream) = server("POLYSESSION_REDIS", "127.0.0.1:6379") else {
        return;
    };
    let prefix = unique("proxy");
    faults(
        "redis",
        upstream,
        |port| {
            format!(r#"{{"save_path":"127.0.0.1:{port}","prefix":"{prefix}:","timeout_ms":500}}"#)
        },
        Duration::from_millis(500),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_slow_or_cut_off() {
    let Some(upstream) = server("POLYSESSION_POSTGRES_ADDR", "127.0.0.1:5432") else {
        return;
    };
    let table = unique("proxy");
    faults(
        "postgresql",
        upstream,
        |port| {
            format!(
                r#"{{"dsn":"postgres://postgres@127.0.0.1:{port}/test?sslmode=disable","table":"{table}","timeout_ms":1000}}"#
            )
        },
        Duration::from_millis(1000),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_slow_or_cut_off() {
    let Some(upstream) = server("POLYSESSION_MYSQL_ADDR", "127.0.0.1:3306") else {
        return;
    };
    let table = unique("proxy");
    faults(
        "mysql",
        upstream,
        |port| format!(r#"{{"dsn":"mysql://root@127.0.0.1:{port}/test","table":"{table}","timeout_ms":1000}}"#),
        Duration::from_millis(1000),
    )
    .await;
}

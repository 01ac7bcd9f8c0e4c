//! Store outages seen from HTTP: a 503 with a clear body while the server is down, recovery
//! without restarting the app once it is back.

use reqwest::StatusCode;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[path = "../../tests/support/free_port.rs"]
mod support;
use support::free_port;

fn wait_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn have(bin: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {bin}"))
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "{bin} is not installed: run scripts/test.sh"
        );
        eprintln!("SKIPPED (not under CI): {bin} is not installed");
    }
    found
}

fn redis_on(port: u16) -> Proc {
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server");
    wait_port(port);
    Proc(child)
}

fn demo(args: &[&str]) -> (Proc, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_polysession-demo"))
        .args(["--port", "0"])
        .args(args)
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
        .expect("banner")
        .to_owned();
    (Proc(child), base)
}

#[tokio::test]
async fn redis_outage_is_503_and_traffic_recovers() {
    if !have("redis-server") {
        return;
    }
    let port = free_port();
    let redis = redis_on(port);
    let config = format!(r#"{{"save_path":"127.0.0.1:{port}","timeout_ms":500}}"#);
    let (_demo, base) = demo(&["--provider", "redis", "--provider-config", &config]);
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let url = format!("{base}/set?key=a&value=1");
    assert_eq!(
        client.post(&url).send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );

    drop(redis); // the server dies mid-run
    let started = Instant::now();
    // A change, which needs the store. (An unchanged session may still be answered from the
    // client-side cache for the instant before the lost connection is noticed.)
    let res = client
        .post(format!("{base}/set?key=a&value=2"))
        .send()
        .await
        .unwrap();
    let status = res.status();
    let body = res.text().await.unwrap();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        body.contains("session store unavailable") && body.contains("STORE_UNAVAILABLE"),
        "{body}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no hang: {:?}",
        started.elapsed()
    );
    let res = client.get(format!("{base}/stats")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);

    let _redis = redis_on(port); // back, empty (no persistence)
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let status = client.post(&url).send().await.unwrap().status();
        if status == StatusCode::NO_CONTENT {
            break;
        }
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(Instant::now() < deadline, "traffic did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let v: serde_json::Value = client
        .get(format!("{base}/get?key=a"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v, serde_json::json!(1));
}

#[tokio::test]
async fn unreachable_redis_at_startup_is_a_clear_error() {
    let port = free_port();
    let out = Command::new(env!("CARGO_BIN_EXE_polysession-demo"))
        .args(["--port", "0", "--provider", "redis", "--provider-config"])
        .arg(format!("127.0.0.1:{port},10,supersecret,0"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("redis") && err.contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
    assert!(!err.contains("supersecret"), "password leaked: {err}");
}

/// A private PostgreSQL server in a temporary directory, so stopping it disturbs nothing else.
struct Postgres {
    bin: std::path::PathBuf,
    dir: std::path::PathBuf,
    port: u16,
}

impl Postgres {
    fn find_bin() -> Option<std::path::PathBuf> {
        let mut dirs: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .flatten()
            .map(|e| e.path().join("bin"))
            .collect();
        dirs.sort();
        dirs.into_iter().rev().find(|d| d.join("initdb").exists())
    }

    fn pg(&self, args: &[&str]) -> bool {
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join(args[0]))
            .args(&args[1..])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn init() -> Option<Postgres> {
        let bin = Postgres::find_bin()?;
        let dir = std::env::temp_dir().join(format!("polysession-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).ok()?;
        let owned = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        let pg = Postgres {
            bin,
            dir,
            port: free_port(),
        };
        let data = pg.dir.join("data");
        let ok = owned
            && pg.pg(&[
                "initdb",
                "-D",
                data.to_str()?,
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ]);
        ok.then_some(pg)
    }

    fn start(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        let data = self.dir.join("data");
        let log = self.dir.join("log");
        assert!(self.pg(&[
            "pg_ctl",
            "-D",
            data.to_str().unwrap(),
            "-o",
            &opts,
            "-l",
            log.to_str().unwrap(),
            "-w",
            "start"
        ]));
        wait_port(self.port);
    }

    fn stop(&self) {
        let data = self.dir.join("data");
        self.pg(&[
            "pg_ctl",
            "-D",
            data.to_str().unwrap(),
            "-m",
            "immediate",
            "-w",
            "stop",
        ]);
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn postgres_outage_is_503_and_traffic_recovers() {
    let Some(pg) = Postgres::init() else {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "cannot run a private PostgreSQL (initdb, runuser)"
        );
        eprintln!("SKIPPED (not under CI): cannot run a private PostgreSQL");
        return;
    };
    pg.start();
    let config = format!(
        r#"{{"dsn":"postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable","timeout_ms":1000}}"#,
        pg.port
    );
    let (_demo, base) = demo(&["--provider", "postgresql", "--provider-config", &config]);
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let url = format!("{base}/set?key=a&value=1");
    assert_eq!(
        client.post(&url).send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );

    pg.stop();
    let started = Instant::now();
    let res = client
        .get(format!("{base}/get?key=a"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(res.text().await.unwrap().contains("STORE_UNAVAILABLE"));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no hang: {:?}",
        started.elapsed()
    );

    pg.start();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let res = client
            .get(format!("{base}/get?key=a"))
            .send()
            .await
            .unwrap();
        if res.status() == StatusCode::OK {
            // The data survived the restart.
            assert_eq!(
                res.json::<serde_json::Value>().await.unwrap(),
                serde_json::json!(1)
            );
            break;
        }
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(Instant::now() < deadline, "traffic did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

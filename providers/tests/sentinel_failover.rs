//! A Sentinel failover in the middle of a run: sessions survive and writes go to the new master.
//! Its own test binary, so no other test uses the sentinel group while it fails over.
#![cfg(feature = "redis")]

use polysession_core::{Config, Manager, RequestInfo};
use std::process::Command;
use std::time::{Duration, Instant};

fn cli(args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(args)
        .output()
        .expect("redis-cli");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn master(sentinel_port: &str) -> String {
    cli(&[
        "-p",
        sentinel_port,
        "sentinel",
        "get-master-addr-by-name",
        "mymaster",
    ])
    .replace('\n', ":")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_follow_a_failover() {
    let addrs = std::env::var("POLYSESSION_REDIS_SENTINEL")
        .unwrap_or_else(|_| "127.0.0.1:26379;127.0.0.1:26380;127.0.0.1:26381".into());
    let first = addrs.split(';').next().unwrap().to_owned();
    let sport = first.rsplit(':').next().unwrap().to_owned();
    if master(&sport).is_empty() {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "Redis Sentinel is not running at {addrs}"
        );
        eprintln!("SKIPPED (not under CI): Redis Sentinel is not running at {addrs}");
        return;
    }
    polysession_providers::register_all();
    let config = Config::builder()
        .provider("redis_sentinel", format!("{addrs},10,,0,mymaster"))
        .build()
        .unwrap();
    let m = Manager::new(config).unwrap();
    let mut s = m.start(&RequestInfo::default()).await.unwrap();
    s.set("user", "bob").unwrap();
    let cookie = m.release(s).await.unwrap().set_cookie.unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();

    let before = master(&sport);
    let (host, port) = before.rsplit_once(':').unwrap();
    cli(&["-h", host, "-p", port, "WAIT", "1", "2000"]); // the replica has the session
    assert_eq!(
        cli(&["-p", &sport, "sentinel", "failover", "mymaster"]),
        "OK"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while master(&sport) == before {
        assert!(Instant::now() < deadline, "no failover within 30 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Give the old master time to be demoted, so writes to it fail instead of being lost.
    let (old_host, old_port) = (host.to_owned(), port.to_owned());
    while !cli(&["-h", &old_host, "-p", &old_port, "role"]).starts_with("slave") {
        assert!(Instant::now() < deadline, "old master never demoted");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let req = RequestInfo {
        cookies: vec![&cookie],
        ..Default::default()
    };
    let mut s = m.start(&req).await.unwrap();
    assert_eq!(
        s.get("user"),
        Some(&serde_json::json!("bob")),
        "session survived the failover"
    );
    s.set("after", 1).unwrap();
    let _ = m.release(s).await.expect("write reaches the new master");
    let s = m.start(&req).await.unwrap();
    assert_eq!(s.get("after"), Some(&serde_json::json!(1)));
}

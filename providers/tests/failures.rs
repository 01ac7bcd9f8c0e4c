//! Unreachable or misconfigured stores: a clear STORE_UNAVAILABLE naming the provider and
//! the address, never the password, never a panic, never a hang.
#![cfg(all(
    feature = "redis",
    feature = "mysql",
    feature = "postgres",
    feature = "sqlite",
    feature = "memcache"
))]

use polysession_core::{Config, ErrorKind, Manager, RequestInfo};
use std::time::{Duration, Instant};

const SECRET: &str = "s3cr3t-pw";

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Every `tracing` event of this thread, as `LEVEL target field=value...` lines.
#[derive(Clone, Default)]
struct Capture(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct Line(String);
        impl tracing::field::Visit for Line {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                self.0.push_str(&format!(" {}={value:?}", field.name()));
            }
        }
        let meta = event.metadata();
        let mut line = Line(format!("{} {}", meta.level(), meta.target()));
        event.record(&mut line);
        self.0.lock().unwrap().push(line.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

async fn expect_unavailable(provider: &str, config: String, shows: &str) {
    let events = Capture::default();
    let _events = tracing::subscriber::set_default(events.clone());
    polysession_providers::register_all();
    let m = Manager::new(
        Config::builder()
            .provider(provider, config)
            .build()
            .unwrap(),
    )
    .unwrap();
    let started = Instant::now();
    let err = m.init().await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{provider}: took {:?}",
        started.elapsed()
    );
    assert_eq!(err.kind(), ErrorKind::StoreUnavailable, "{provider}: {err}");
    let text = format!("{err} {err:?}");
    assert!(
        text.contains(provider) && text.contains(shows),
        "{provider}: {text}"
    );
    assert!(
        !text.contains(SECRET),
        "{provider} leaked the password: {text}"
    );
    // A request carrying a cookie needs the store: the same error, not a panic.
    let cookie = "beegosessionID=0123456789abcdef0123456789abcdef";
    let req = RequestInfo {
        cookies: vec![cookie],
        ..Default::default()
    };
    assert_eq!(
        m.start(&req).await.unwrap_err().kind(),
        ErrorKind::StoreUnavailable
    );
    // Reported as a quiet (debug) `tracing` event naming the provider and the address, with
    // neither the password nor the session id.
    let events = events.0.lock().unwrap().clone();
    assert!(
        events.iter().any(|e| e.starts_with("DEBUG polysession")
            && e.contains("session read failed")
            && e.contains(&format!("provider=\"{provider}\""))
            && e.contains(shows)),
        "{provider}: {events:#?}"
    );
    for e in &events {
        assert!(
            !e.contains(SECRET) && !e.contains("0123456789abcdef0123456789abcdef"),
            "{e}"
        );
        assert!(!e.starts_with("ERROR"), "{e}");
    }
}

#[tokio::test]
async fn servers_down() {
    let p = closed_port();
    let addr = format!("127.0.0.1:{p}");
    let short = r#","timeout_ms":1000}"#;
    expect_unavailable("redis", format!("{addr},10,{SECRET},0"), &addr).await;
    expect_unavailable("redis_cluster", format!("{addr},10,{SECRET}"), &addr).await;
    expect_unavailable(
        "redis_sentinel",
        format!("{addr},10,{SECRET},0,mymaster"),
        &addr,
    )
    .await;
    expect_unavailable(
        "mysql",
        format!(r#"{{"dsn":"root:{SECRET}@tcp({addr})/test"{short}"#),
        &addr,
    )
    .await;
    expect_unavailable(
        "postgresql",
        format!(r#"{{"dsn":"postgres://u:{SECRET}@{addr}/test"{short}"#),
        &addr,
    )
    .await;
    expect_unavailable("memcache", format!(r#"{{"servers":"{addr}"{short}"#), &addr).await;
}

#[tokio::test]
async fn wrong_passwords() {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let up = |a: &str| std::net::TcpStream::connect(a).is_ok();
    // A Redis of this test that requires another password. (Not the shared test Redis: it has
    // none, and its default user then takes any password in RESP3's `HELLO ... AUTH`.)
    let port = closed_port();
    match std::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args([
            "--save",
            "",
            "--appendonly",
            "no",
            "--requirepass",
            "the-right-one",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
    {
        Ok(mut server) => {
            let deadline = Instant::now() + Duration::from_secs(10);
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "redis-server did not open {port}"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
            expect_unavailable(
                "redis",
                format!("127.0.0.1:{port},10,{SECRET},0"),
                &format!("127.0.0.1:{port}"),
            )
            .await;
            let _ = server.kill();
            let _ = server.wait();
        }
        Err(e) => assert!(!ci, "redis-server: {e}"),
    }
    if up("127.0.0.1:3306") {
        let dsn = format!(
            r#"{{"dsn":"nosuchuser:{SECRET}@tcp(127.0.0.1:3306)/test","timeout_ms":2000}}"#
        );
        expect_unavailable("mysql", dsn, "127.0.0.1:3306").await;
    } else {
        assert!(!ci, "MariaDB is not running");
    }
}

#[tokio::test]
async fn sql_table_not_created_when_told_not_to() {
    let dir = std::env::temp_dir().join(format!("polysession-nocreate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("s.db");
    let cfg = format!(r#"{{"dsn":"{}","create_table":false}}"#, db.display());
    expect_unavailable("sqlite", cfg, "session").await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_dsns_are_config_errors_at_construction() {
    polysession_providers::register_all();
    for (provider, config) in [
        ("mysql", "not a dsn"),
        ("postgresql", "host=db user=x"),
        ("redis", ""),
        ("memcache", ""),
        ("file", ""),
        ("sqlite", r#"{"dsn":"x.db","table":"x; drop table y"}"#),
    ] {
        let err = Manager::new(
            Config::builder()
                .provider(provider, config)
                .build()
                .unwrap(),
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadConfig, "{provider}: {err}");
        assert!(
            err.to_string().contains("providerConfig"),
            "{provider}: {err}"
        );
    }
}

#[test]
fn sql_store_built_outside_a_runtime_works_inside_one() {
    polysession_providers::register_all();
    let dir = std::env::temp_dir().join(format!("polysession-nort-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("s.db");
    // No Tokio runtime here: building the manager must not panic.
    let m = Manager::new(
        Config::builder()
            .provider("sqlite", path.to_str().unwrap())
            .build()
            .unwrap(),
    )
    .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut s = m.start(&RequestInfo::default()).await.unwrap();
        s.set("a", 1).unwrap();
        assert!(m.release(s).await.unwrap().set_cookie.is_some());
    });
    let _ = std::fs::remove_dir_all(&dir);
}

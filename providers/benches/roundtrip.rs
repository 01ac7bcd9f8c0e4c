//! One session read+write round trip (start with a cookie, set a key, release) per provider,
//! against the servers `scripts/test.sh` starts. Providers whose server is not reachable
//! are left out with a note.
//!
//! Run: `bash scripts/services-up.sh && cargo bench -p polysession-providers --all-features --bench roundtrip`

use criterion::{criterion_group, criterion_main, Criterion};
use polysession_core::{Config, Manager, RequestInfo};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

fn up(addr: &str) -> bool {
    addr.split(';').all(|a| {
        a.to_socket_addrs()
            .ok()
            .and_then(|mut i| i.next())
            .is_some_and(|sa| TcpStream::connect_timeout(&sa, Duration::from_millis(500)).is_ok())
    })
}

fn env(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.to_owned())
}

fn targets() -> Vec<(&'static str, &'static str, String, String)> {
    let dir = std::env::temp_dir().join(format!("polysession-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let redis = env("POLYSESSION_REDIS", "127.0.0.1:6379");
    let cluster = env(
        "POLYSESSION_REDIS_CLUSTER",
        "127.0.0.1:7001;127.0.0.1:7002;127.0.0.1:7003",
    );
    let sentinel = env(
        "POLYSESSION_REDIS_SENTINEL",
        "127.0.0.1:26379;127.0.0.1:26380;127.0.0.1:26381",
    );
    let mysql = env("POLYSESSION_MYSQL_ADDR", "127.0.0.1:3306");
    let pg = env("POLYSESSION_POSTGRES_ADDR", "127.0.0.1:5432");
    let mc = env("POLYSESSION_MEMCACHE", "127.0.0.1:11211");
    vec![
        ("memory", "memory", String::new(), String::new()),
        (
            "cookie",
            "cookie",
            r#"{"keys":["a benchmark secret of at least 32 bytes"]}"#.into(),
            String::new(),
        ),
        (
            "file",
            "file",
            dir.join("file").display().to_string(),
            String::new(),
        ),
        (
            "sqlite",
            "sqlite",
            dir.join("s.db").display().to_string(),
            String::new(),
        ),
        (
            "redis",
            "redis",
            format!(r#"{{"save_path":"{redis}","prefix":"bench:"}}"#),
            redis,
        ),
        (
            "redis_cluster",
            "redis_cluster",
            format!(r#"{{"save_path":"{cluster}","prefix":"bench:"}}"#),
            cluster,
        ),
        (
            "redis_sentinel",
            "redis_sentinel",
            format!("{sentinel},10,,0,mymaster"),
            sentinel,
        ),
        (
            "mysql",
            "mysql",
            format!(r#"{{"dsn":"root:@tcp({mysql})/test","table":"bench_session"}}"#),
            mysql,
        ),
        (
            "postgresql",
            "postgresql",
            format!(r#"{{"dsn":"postgres://postgres@{pg}/test","table":"bench_session"}}"#),
            pg,
        ),
        (
            "memcache",
            "memcache",
            format!(r#"{{"servers":"{mc}","prefix":"bench:"}}"#),
            mc,
        ),
    ]
}

fn roundtrip(c: &mut Criterion) {
    polysession_providers::register_all();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut group = c.benchmark_group("read+write round trip");
    for (label, provider, config, addr) in targets() {
        if !addr.is_empty() && !up(&addr) {
            eprintln!("{label}: not reachable at {addr}, left out");
            continue;
        }
        let manager = Manager::new(
            Config::builder()
                .provider(provider, config)
                .build()
                .unwrap(),
        )
        .unwrap();
        let mut cookie = rt.block_on(async {
            manager.init().await.unwrap();
            let mut s = manager.start(&RequestInfo::default()).await.unwrap();
            s.set("n", 0).unwrap();
            let r = manager.release(s).await.unwrap();
            r.set_cookie.unwrap().split(';').next().unwrap().to_owned()
        });
        group.bench_function(label, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let req = RequestInfo {
                        cookies: vec![cookie.as_str()],
                        ..Default::default()
                    };
                    let mut s = manager.start(&req).await.unwrap();
                    let n = s.get_as::<i64>("n").unwrap().unwrap_or(0);
                    s.set("n", n + 1).unwrap();
                    if let Some(c) = manager.release(s).await.unwrap().set_cookie {
                        cookie = c.split(';').next().unwrap().to_owned();
                    }
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, roundtrip);
criterion_main!(benches);

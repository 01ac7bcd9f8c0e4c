//! The conformance kit (`polysession-conformance`) run against every provider: memory and
//! cookie (core), file, and the server-backed ones, which talk to real servers on 127.0.0.1
//! (addresses from the environment, see `services.rs`). Under `CI=true` an unreachable server
//! fails the test.

mod services;

use polysession_conformance::Kit;
use polysession_core::{Config, Manager};

/// Runs the kit on the provider named `provider` with `provider_config`.
async fn conformance(label: &str, provider: &str, provider_config: impl Into<String>) {
    polysession_providers::register_all();
    let config = Config::builder()
        .provider(provider, provider_config)
        .build()
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    let kit = if provider == "cookie" {
        Kit::sealed(label, config)
    } else {
        let manager = Manager::new(config).unwrap_or_else(|e| panic!("{label}: {e}"));
        manager
            .init()
            .await
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        let store = manager.store().expect("a server-side provider").clone();
        Kit::store(label, store)
    };
    kit.sleep(|d| Box::pin(tokio::time::sleep(d))).run().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory() {
    conformance("memory", "memory", "").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie() {
    conformance(
        "cookie",
        "cookie",
        r#"{"keys":["a conformance secret, 32 bytes or more"]}"#,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file() {
    let dir = services::temp_dir("file");
    conformance("file", "file", dir.to_str().unwrap()).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis() {
    let addr = services::addr("POLYSESSION_REDIS", "127.0.0.1:6379");
    if services::reachable("Redis", &addr) {
        let cfg = serde_json::json!({ "save_path": addr, "prefix": format!("{}:", services::unique("redis")) });
        conformance("redis", "redis", cfg.to_string()).await;
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
        conformance("redis_cluster", "redis_cluster", cfg.to_string()).await;
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
        conformance(
            "redis_sentinel",
            "redis_sentinel",
            format!("{addrs},10,,0,mymaster"),
        )
        .await;
    }
}

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    let dir = services::temp_dir("sqlite");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sessions.db");
    conformance("sqlite", "sqlite", path.to_str().unwrap()).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "mysql")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql() {
    let addr = services::addr("POLYSESSION_MYSQL_ADDR", "127.0.0.1:3306");
    if services::reachable("MariaDB/MySQL", &addr) {
        // beego's go-sql-driver DSN form, with our table name in the JSON form.
        let cfg = serde_json::json!({ "dsn": format!("root:@tcp({addr})/test?charset=utf8"), "table": services::unique("mysql") });
        conformance("mysql", "mysql", cfg.to_string()).await;
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
        conformance("postgresql", "postgresql", cfg.to_string()).await;
    }
}

#[cfg(feature = "memcache")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memcache() {
    let addr = services::addr("POLYSESSION_MEMCACHE", "127.0.0.1:11211");
    if services::reachable("memcached", &addr) {
        let cfg = serde_json::json!({ "servers": addr, "prefix": format!("{}:", services::unique("mc")) });
        conformance("memcache", "memcache", cfg.to_string()).await;
    }
}

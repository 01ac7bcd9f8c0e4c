//! `polysession-bench-tower VARIANT PORT`: serves `/read` (reads `n`), `/incr` (`n += 1`) and
//! `/raw` (no session) on 127.0.0.1:PORT, on a runtime with one worker thread. VARIANT is
//! `none`, `polysession-memory`, `polysession-redis`, `polysession-redis-uncached` (the
//! client-side cache off), `tower-memory` or `tower-redis`. Redis
//! is 127.0.0.1:6379 (`REDIS_URL` to change it); each variant uses its own key prefix.

use axum::routing::get;
use axum::Router;
use std::net::SocketAddr;

async fn raw() -> &'static str {
    "raw"
}

mod poly {
    use polysession_axum::Session;

    pub async fn read(session: Session) -> String {
        let n: Option<i64> = session.get("n").await.ok().flatten();
        format!("{n:?}")
    }

    pub async fn incr(session: Session) -> String {
        let n: i64 = session.get("n").await.ok().flatten().unwrap_or(0) + 1;
        let _ = session.set("n", n).await;
        n.to_string()
    }
}

mod tower {
    use tower_sessions::Session;

    pub async fn read(session: Session) -> String {
        let n: Option<i64> = session.get("n").await.ok().flatten();
        format!("{n:?}")
    }

    pub async fn incr(session: Session) -> String {
        let n: i64 = session.get("n").await.ok().flatten().unwrap_or(0) + 1;
        let _ = session.insert("n", n).await;
        n.to_string()
    }
}

fn polysession(provider: &str, config: &str) -> Router {
    polysession_providers::register_all();
    let config = polysession_core::Config::builder()
        .provider(provider, config)
        .build()
        .expect("config");
    let manager = polysession_core::Manager::new(config).expect("manager");
    Router::new()
        .route("/read", get(poly::read))
        .route("/incr", get(poly::incr))
        .layer(polysession_axum::SessionLayer::new(manager))
}

fn tower_sessions<S: tower_sessions::SessionStore + Clone>(store: S) -> Router {
    Router::new()
        .route("/read", get(tower::read))
        .route("/incr", get(tower::incr))
        .layer(tower_sessions::SessionManagerLayer::new(store).with_secure(false))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(variant), Some(port)) =
        (args.get(1), args.get(2).and_then(|p| p.parse::<u16>().ok()))
    else {
        eprintln!("usage: polysession-bench-tower VARIANT PORT");
        std::process::exit(2);
    };
    let redis = std::env::var("REDIS_URL").unwrap_or_else(|_| "127.0.0.1:6379".into());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let sessions = match variant.as_str() {
            "none" => Router::new(),
            "polysession-memory" => polysession("memory", ""),
            "polysession-redis" => polysession(
                "redis",
                &serde_json::json!({"save_path": redis, "prefix": "bench:poly:"}).to_string(),
            ),
            "polysession-redis-uncached" => polysession(
                "redis",
                &serde_json::json!({"save_path": redis, "prefix": "bench:polyu:", "client_cache": false})
                    .to_string(),
            ),
            "tower-memory" => tower_sessions(tower_sessions::MemoryStore::default()),
            "tower-redis" => {
                use tower_sessions_redis_store::fred::prelude::*;
                let config = Config::from_url(&format!("redis://{redis}")).expect("redis url");
                let pool = Pool::new(config, None, None, None, 1).expect("fred pool");
                pool.init().await.expect("redis");
                tower_sessions(tower_sessions_redis_store::RedisStore::new(pool))
            }
            other => {
                eprintln!("unknown variant {other}");
                std::process::exit(2);
            }
        };
        let app = Router::new().route("/raw", get(raw)).merge(sessions);
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
            .await
            .expect("bind");
        println!("{variant} on http://127.0.0.1:{port}");
        axum::serve(listener, app).await.expect("serve");
    });
}

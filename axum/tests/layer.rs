//! The layer's contract: lazy start, release before headers, 503 on store outage.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use polysession_axum::{Session, SessionError, SessionLayer};
use polysession_core::{
    async_trait, Capabilities, Config, Error, Expect, Manager, MemoryStore, Record, Result, Store,
};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use tower::ServiceExt;

#[derive(Default)]
struct Flaky {
    inner: MemoryStore,
    down: AtomicBool,
    calls: AtomicUsize,
}

impl Flaky {
    fn check(&self) -> Result<()> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            Err(Error::store("flaky", "10.0.0.1:6379 (connection refused)"))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl Store for Flaky {
    fn name(&self) -> &str {
        "flaky"
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn read(&self, id: &str) -> Result<Option<Record>> {
        self.check()?;
        self.inner.read(id).await
    }
    async fn write(&self, id: &str, r: &Record, e: Expect) -> Result<bool> {
        self.check()?;
        self.inner.write(id, r, e).await
    }
    async fn touch(&self, id: &str, at: u64) -> Result<bool> {
        self.check()?;
        self.inner.touch(id, at).await
    }
    async fn destroy(&self, id: &str) -> Result<()> {
        self.check()?;
        self.inner.destroy(id).await
    }
    async fn count(&self, now: u64) -> Result<u64> {
        self.check()?;
        self.inner.count(now).await
    }
    async fn gc(&self, now: u64) -> Result<u64> {
        self.check()?;
        self.inner.gc(now).await
    }
}

async fn incr(session: Session) -> Result<String, SessionError> {
    let n: i64 = session.get("n").await?.unwrap_or(0);
    session.set("n", n + 1).await?;
    Ok(n.to_string())
}

async fn tolerant(session: Result<Session, SessionError>) -> String {
    match session {
        Ok(_) => "with session".into(),
        Err(e) => format!("without session: {}", e.0.code()),
    }
}

fn app(store: Arc<Flaky>) -> Router {
    let manager = Manager::builder(Config::default())
        .store(store)
        .build()
        .unwrap();
    Router::new()
        .route("/incr", get(incr))
        .route("/tolerant", get(tolerant))
        .route("/static", get(|| async { "no session here" }))
        .layer(SessionLayer::new(manager))
}

async fn call(
    app: &Router,
    path: &str,
    cookie: Option<&str>,
) -> (StatusCode, Option<String>, String) {
    let mut req = Request::get(path);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let cookie = res
        .headers()
        .get(header::SET_COOKIE)
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned());
    let body = axum::body::to_bytes(res.into_body(), 1 << 16)
        .await
        .unwrap();
    (status, cookie, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn routes_without_the_extractor_never_touch_the_store() {
    let store = Arc::new(Flaky::default());
    let app = app(store.clone());
    let (status, cookie, _) = call(
        &app,
        "/static",
        Some("beegosessionID=0123456789abcdef0123456789abcdef"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(cookie.is_none());
    assert_eq!(store.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn session_is_released_into_the_response_headers() {
    let app = app(Arc::new(Flaky::default()));
    let (_, cookie, body) = call(&app, "/incr", None).await;
    assert_eq!(body, "0");
    let cookie = cookie.unwrap();
    let (_, again, body) = call(&app, "/incr", Some(&cookie)).await;
    assert_eq!((body.as_str(), again), ("1", None));
}

#[tokio::test]
async fn set_cookie_lifetime_gives_this_response_a_cookie_of_that_lifetime() {
    async fn remember(session: Session) -> Result<&'static str, SessionError> {
        session.set("user", "ada").await?;
        session.set_cookie_lifetime(86_400 * 30).await?;
        Ok("remembered")
    }
    async fn browser(session: Session) -> Result<&'static str, SessionError> {
        session.set("user", "bob").await?;
        session.set_cookie_lifetime(0).await?;
        Ok("until the browser closes")
    }
    let manager = Manager::new(Config::builder().cookie_lifetime(3600).build().unwrap()).unwrap();
    let app = Router::new()
        .route("/remember", get(remember))
        .route("/browser", get(browser))
        .route("/incr", get(incr))
        .layer(SessionLayer::new(manager));
    let set_cookie = |path: &'static str| {
        let app = app.clone();
        async move {
            let req = Request::get(path).body(Body::empty()).unwrap();
            let res = app.oneshot(req).await.unwrap();
            res.headers()
                .get(header::SET_COOKIE)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap()
        }
    };
    assert!(set_cookie("/remember").await.contains("Max-Age=2592000"));
    let browser = set_cookie("/browser").await;
    assert!(
        !browser.contains("Max-Age") && !browser.contains("Expires"),
        "{browser}"
    );
    assert!(set_cookie("/incr").await.contains("Max-Age=3600"));
}

#[tokio::test]
async fn store_outage_is_a_503_with_a_clear_body_and_recovers() {
    let store = Arc::new(Flaky::default());
    let app = app(store.clone());
    let (_, cookie, _) = call(&app, "/incr", None).await;
    let cookie = cookie.unwrap();
    store.down.store(true, Ordering::SeqCst);
    let (status, _, body) = call(&app, "/incr", Some(&cookie)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        body.contains("session store unavailable") && body.contains("STORE_UNAVAILABLE"),
        "{body}"
    );
    assert!(
        !body.contains("10.0.0.1"),
        "no store address leaks to clients"
    );
    // The app can handle it itself.
    let (status, _, body) = call(&app, "/tolerant", Some(&cookie)).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "without session: STORE_UNAVAILABLE")
    );
    store.down.store(false, Ordering::SeqCst);
    let (status, _, body) = call(&app, "/incr", Some(&cookie)).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "1"));
}

#[tokio::test]
async fn release_failure_uses_the_error_hook() {
    let store = Arc::new(Flaky::default());
    let manager = Manager::builder(Config::default())
        .store(store.clone())
        .build()
        .unwrap();
    let flag = store.clone();
    let app = Router::new()
        .route(
            "/",
            get(|s: Session| async move {
                s.set("a", 1).await?;
                flag.down.store(true, Ordering::SeqCst);
                Ok::<_, SessionError>("handler done")
            }),
        )
        .layer(
            SessionLayer::new(manager)
                .on_error(|e| (StatusCode::IM_A_TEAPOT, e.code()).into_response()),
        );
    let (status, cookie, body) = call(&app, "/", None).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::IM_A_TEAPOT, "STORE_UNAVAILABLE")
    );
    assert!(
        cookie.is_none(),
        "no cookie for a session that was not stored"
    );
}

#[tokio::test]
async fn missing_layer_is_a_clear_500() {
    let app = Router::new().route("/", get(incr));
    let res = app
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn handle_used_after_release_is_an_error_not_a_panic() {
    let keep: Arc<std::sync::Mutex<Option<Session>>> = Arc::default();
    let k = keep.clone();
    let manager = Manager::new(Config::default()).unwrap();
    let app = Router::new()
        .route(
            "/",
            get(move |s: Session| async move {
                *k.lock().unwrap() = Some(s);
                "ok"
            }),
        )
        .layer(SessionLayer::new(manager));
    let (status, _, _) = call(&app, "/", None).await;
    assert_eq!(status, StatusCode::OK);
    let s = keep.lock().unwrap().take().unwrap();
    assert!(s.set("late", 1).await.is_err());
    assert!(s.get::<i64>("late").await.is_err());
}

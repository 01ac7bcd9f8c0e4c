//! polysession for Node.js: the raw napi-rs bindings behind the npm package `polysession`.
//!
//! Every export converts its arguments (values cross as JSON text), calls the core or the host
//! kit (`polysession-bindings`) and converts the result. The built-in Rust providers run on
//! napi's tokio runtime, so the JS thread never waits for their I/O; JS stores are bridged to
//! the kit's callback store (`src/store.rs`). The package's JS layer (`js/`) adds the Express
//! middleware, the fetch helper and the error class.
#![warn(missing_docs)]

#[cfg(feature = "conformance")]
mod conformance;
mod error;
mod store;

#[cfg(feature = "conformance")]
pub use conformance::run_conformance;

use error::to_js;
use napi::bindgen_prelude::{within_runtime_if_available, Either, Env, PromiseRaw, ToNapiValue};
use napi::Result;
use napi_derive::napi;
use polysession_bindings::clock::HostClock;
use polysession_bindings::http::{self, RequestParts};
use polysession_bindings::options::{self, HostDefaults, Source};
use polysession_bindings::{CallbackStore, Handle, Sleep, Timer};
use polysession_core::{Clock, Manager, SystemClock};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A result now, or a promise of it.
type Now<'env, T> = Either<T, PromiseRaw<'env, T>>;

/// Polls `fut` once on the JS thread, inside the runtime's context: a store that needs no I/O
/// (memory, sealed cookies) is done then, and the result returns at once, without the two
/// thread hops of a promise (about 60 µs each here). A future still pending goes on to the
/// runtime, where it continues from where it stopped, and a promise returns.
fn now_or_spawn<'env, T, F>(env: &'env Env, fut: F) -> Result<Now<'env, T>>
where
    T: ToNapiValue + Send + 'static,
    F: std::future::Future<Output = Result<T>> + Send + 'static,
{
    let mut fut = Box::pin(fut);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match within_runtime_if_available(|| fut.as_mut().poll(&mut cx)) {
        std::task::Poll::Ready(result) => result.map(Either::A),
        std::task::Poll::Pending => env.spawn_future(fut).map(Either::B),
    }
}

/// The runtime's timer, which bounds every call into a JS store (`timeout_ms`, 5 s by default).
struct TokioTimer;

impl Timer for TokioTimer {
    fn sleep(&self, ms: u64) -> Sleep {
        Box::pin(tokio::time::sleep(std::time::Duration::from_millis(ms)))
    }
}

/// In Node, sessions are in memory unless a provider is named; a `store` selects `kv`.
const NODE: HostDefaults = HostDefaults {
    provider: "memory",
    store_provider: "kv",
};

/// The option keys the JS layer keeps for itself (`store`, `now`).
#[napi]
pub fn host_keys() -> Vec<String> {
    options::HOST_KEYS.iter().map(|k| (*k).to_owned()).collect()
}

/// A session manager over one provider.
#[napi]
pub struct RawManager {
    inner: Manager,
    /// The `now` option's latest reading (f64 bits), when one was given.
    now: Option<Arc<AtomicU64>>,
}

/// The headers `commit` sets, merged with the response's own `Vary` and `Cache-Control`.
#[napi(object)]
pub struct CommitHeaders {
    /// The one `Set-Cookie` value to append.
    pub set_cookie: Option<String>,
    /// `[name, id]` of the id header to set.
    pub sid_header: Option<Vec<String>>,
    /// The `Vary` value to set.
    pub vary: Option<String>,
    /// The `Cache-Control` value to set.
    pub cache_control: Option<String>,
    /// `unchanged`, `written`, `touched`, `gone` or `destroyed`.
    pub outcome: String,
}

/// The response for a session error, as data.
#[napi(object)]
pub struct ErrorResponseInit {
    /// The HTTP status.
    pub status: u32,
    /// `[name, value]` pairs.
    pub headers: Vec<Vec<String>>,
    /// The plain-text body.
    pub body: String,
}

/// The response every polysession host gives for a session error with `code`.
#[napi]
pub fn error_response_init(code: Option<String>) -> ErrorResponseInit {
    let r = http::error_response_for_code(code.as_deref());
    ErrorResponseInit {
        status: u32::from(r.status),
        headers: r
            .headers
            .into_iter()
            .map(|(n, v)| vec![n.to_owned(), v])
            .collect(),
        body: r.body,
    }
}

#[napi]
impl RawManager {
    /// A manager from `options`: the JSON text of an options object without its host keys,
    /// or (`beego`) a beego JSON config string; `store` is the normalized JS store; `now` the
    /// first reading of the `now` option, which `setNow` then updates before each call.
    #[napi(constructor)]
    pub fn new(
        options: Option<String>,
        beego: bool,
        store: Option<store::JsStore>,
        now: Option<f64>,
    ) -> Result<Self> {
        polysession_providers::register_all();
        let source = match options.as_deref() {
            None => Source::Defaults,
            Some(json) if beego => Source::BeegoJson(json),
            Some(json) => Source::Options(json),
        };
        let config = options::configure(source, store.is_some(), NODE).map_err(to_js)?;
        let reading = now.map(|ms| Arc::new(AtomicU64::new(ms.to_bits())));
        let clock: Arc<dyn Clock> = match &reading {
            Some(cell) => {
                let cell = cell.clone();
                let now = move || Some(f64::from_bits(cell.load(Ordering::Relaxed)));
                let real = || SystemClock.now_ms() as f64;
                Arc::new(HostClock::new(Some(now), real).map_err(to_js)?)
            }
            None => Arc::new(SystemClock),
        };
        let mut builder = Manager::builder(config.clone()).clock(clock.clone());
        if let Some(store) = store {
            let kv = CallbackStore::new(store, "kv", &config.provider_config, clock);
            builder = builder.store(Arc::new(kv.map_err(to_js)?.timer(Arc::new(TokioTimer))));
        }
        Ok(RawManager {
            inner: builder.build().map_err(to_js)?,
            now: reading,
        })
    }

    /// Sets the `now` clock's reading (Unix ms) for the calls that follow.
    #[napi]
    pub fn set_now(&self, ms: f64) {
        if let Some(cell) = &self.now {
            cell.store(ms.to_bits(), Ordering::Relaxed);
        }
    }

    /// Prepares the store (beego's `SessionInit`): checks the connection, creates tables.
    #[napi]
    pub async fn init(&self) -> Result<()> {
        self.inner.init().await.map_err(to_js)
    }

    /// Whether to read the request body for a session id (the host kit's form policy).
    #[napi]
    pub fn reads_form(
        &self,
        cookie: Option<String>,
        method: String,
        content_type: Option<String>,
        content_length: Option<String>,
    ) -> bool {
        let parts = RequestParts {
            cookies: cookie.into_iter().collect(),
            ..Default::default()
        };
        let (ct, cl) = (content_type.as_deref(), content_length.as_deref());
        http::read_form(self.inner.config(), &parts, &method, ct, cl)
    }

    /// Starts the session of a request from its parts: the `Cookie` header, the URL (or
    /// path and query), the id header, `X-Forwarded-Proto`, an urlencoded body, and whether
    /// the connection itself is TLS. The session, or a promise of it when the store does I/O.
    #[allow(clippy::too_many_arguments)]
    #[napi(ts_return_type = "RawSession | Promise<RawSession>")]
    pub fn start<'env>(
        &self,
        env: &'env Env,
        cookie: Option<String>,
        url: Option<String>,
        sid_header: Option<String>,
        forwarded_proto: Option<String>,
        form: Option<String>,
        https: Option<bool>,
    ) -> Result<Now<'env, RawSession>> {
        let mut parts =
            RequestParts::from_host(cookie, url.as_deref(), sid_header, forwarded_proto, form);
        parts.https |= https.unwrap_or(false);
        let manager = self.inner.clone();
        now_or_spawn(env, async move {
            let session = manager.start(&parts.info()).await.map_err(to_js)?;
            Ok(RawSession {
                handle: Arc::new(Handle::new(session)),
                manager,
            })
        })
    }

    /// Writes the session; gives the headers to set, given the response's own `Vary` and
    /// `Cache-Control` (or a promise of them when the store does I/O). On failure the session
    /// stays open for a retry.
    #[napi(ts_return_type = "CommitHeaders | Promise<CommitHeaders>")]
    pub fn commit<'env>(
        &self,
        env: &'env Env,
        session: &RawSession,
        vary: Option<String>,
        cache_control: Option<String>,
    ) -> Result<Now<'env, CommitHeaders>> {
        let (handle, manager) = (session.handle.clone(), self.inner.clone());
        now_or_spawn(env, async move {
            let release = handle.commit(&manager).await.map_err(to_js)?;
            let (vary, cache_control) = (vary.as_deref(), cache_control.as_deref());
            let h = http::response_headers(&release, vary.as_slice(), cache_control.as_slice());
            Ok(CommitHeaders {
                set_cookie: h.set_cookie,
                sid_header: h.sid_header.map(|(n, id)| vec![n, id]),
                vary: h.vary,
                cache_control: h.cache_control,
                outcome: http::outcome_name(release.outcome).to_owned(),
            })
        })
    }

    /// How many sessions the store holds (`UNSUPPORTED` for `cookie`).
    #[napi]
    pub async fn count(&self) -> Result<f64> {
        Ok(self.inner.count().await.map_err(to_js)? as f64)
    }

    /// One GC pass; resolves to how many sessions were removed.
    #[napi]
    pub async fn gc(&self) -> Result<f64> {
        Ok(self.inner.gc().await.map_err(to_js)? as f64)
    }

    /// The provider in use.
    #[napi(getter)]
    pub fn provider(&self) -> String {
        self.inner.config().provider.clone()
    }

    /// The id header's name when ids are accepted from a header.
    #[napi(getter)]
    pub fn header_name(&self) -> Option<String> {
        let c = self.inner.config();
        c.sid_in_header.then(|| c.header_name.clone())
    }

    /// The session cookie's name.
    #[napi(getter)]
    pub fn cookie_name(&self) -> String {
        self.inner.config().cookie_name.clone()
    }
}

/// One request's session: the host kit's [`Handle`]. Values cross as JSON text.
#[napi]
pub struct RawSession {
    handle: Arc<Handle>,
    manager: Manager,
}

#[napi]
impl RawSession {
    fn with<T>(&self, f: impl FnOnce(&mut polysession_core::Session) -> T) -> Result<T> {
        self.handle.with(f).map_err(to_js)
    }

    /// The session id.
    #[napi(getter)]
    pub fn id(&self) -> Result<String> {
        self.with(|s| s.id().to_owned())
    }

    /// Whether this request created the session.
    #[napi(getter)]
    pub fn is_new(&self) -> Result<bool> {
        self.with(|s| s.is_new())
    }

    /// The JSON text under `key`, or `undefined`.
    #[napi]
    pub fn get(&self, key: String) -> Result<Option<String>> {
        self.with(|s| s.get(&key).map(ToString::to_string))
    }

    /// Stores the JSON text `json` under `key`.
    #[napi]
    pub fn set(&self, key: String, json: String) -> Result<()> {
        self.handle.set_json(&key, &json).map_err(to_js)
    }

    /// Applies many changes at once: `set` is a JSON object of keys to store, `delete` the
    /// keys to remove.
    #[napi]
    pub fn update(&self, set: Option<String>, delete: Option<Vec<String>>) -> Result<()> {
        let delete = delete.unwrap_or_default();
        self.handle
            .update_json(set.as_deref(), &delete)
            .map_err(to_js)
    }

    /// Removes `key`; returns whether it was there.
    #[napi]
    pub fn delete(&self, key: String) -> Result<bool> {
        self.with(|s| s.delete(&key).is_some())
    }

    /// Removes every key.
    #[napi]
    pub fn flush(&self) -> Result<()> {
        self.with(|s| s.flush())
    }

    /// The keys, in order.
    #[napi]
    pub fn keys(&self) -> Result<Vec<String>> {
        self.with(|s| s.keys().map(str::to_owned).collect())
    }

    /// Every key and value, as JSON text of an object.
    #[napi]
    pub fn data(&self) -> Result<String> {
        self.with(|s| serde_json::Value::Object(s.data().clone()).to_string())
    }

    /// Sets the lifetime of the cookie this response sends, in seconds (`0`: a
    /// browser-session cookie), in place of the configured one; for this request only.
    #[napi]
    pub fn set_cookie_lifetime(&self, secs: f64) -> Result<()> {
        self.handle.set_cookie_lifetime(secs).map_err(to_js)
    }

    /// Adds a flash message under `level`.
    #[napi]
    pub fn flash(&self, level: String, message: String) -> Result<()> {
        self.with(|s| s.flash(&level, &message))
    }

    /// The pending flash messages by level, as JSON text, removed as they are read.
    #[napi]
    pub fn take_flash(&self) -> Result<String> {
        let flashes = self.with(|s| s.take_flash())?;
        Ok(serde_json::to_string(&flashes).unwrap_or_else(|_| "{}".into()))
    }

    /// Gives the session a new id, keeping its data.
    #[napi]
    pub async fn regenerate(&self) -> Result<()> {
        self.handle.regenerate(&self.manager).await.map_err(to_js)
    }

    /// Destroys the session; commit removes the cookie.
    #[napi]
    pub async fn destroy(&self) -> Result<()> {
        self.handle.destroy(&self.manager).await.map_err(to_js)
    }

    /// Whether the session was committed.
    #[napi(getter)]
    pub fn committed(&self) -> bool {
        self.handle.is_committed()
    }
}

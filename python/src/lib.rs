//! polysession for Python: the pyo3 bindings behind the pip package `polysession`, as its
//! private module `polysession._native`.
//!
//! Every function converts its arguments (values cross as JSON text), calls the core or the
//! host kit (`polysession-bindings`) and converts the result. The built-in Rust providers run
//! on this module's own Tokio runtime: a synchronous call (WSGI) releases the GIL while it
//! waits, so it blocks only its own thread; an `_async` call gives an awaitable resolved on
//! the caller's event loop (pyo3-async-runtimes), so ASGI never blocks the loop. A call whose
//! store needs no I/O (memory, sealed cookies) finishes in its first poll, without leaving
//! the calling thread. The package's Python layer (`polysession/`) adds the Flask session
//! interface, the Starlette middleware, value checks and the public error classes.
#![warn(missing_docs)]

#[cfg(feature = "conformance")]
mod conformance;
mod error;
mod store;

use error::{to_py, ErrorClasses};
use polysession_bindings::http::{self, RequestParts};
use polysession_bindings::options::{self, HostDefaults, Source};
use polysession_bindings::{CallbackStore, Handle, Sleep, Timer};
use polysession_core::{ErrorKind, Manager as CoreManager, SystemClock};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3::BoundObject;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};

/// In Python, sessions are in memory unless a provider is named.
const PYTHON: HostDefaults = HostDefaults {
    provider: "memory",
    store_provider: "kv",
};

/// The runtime's timer, which bounds every call into a Python store (`timeout_ms`, 5 s by
/// default).
struct TokioTimer;

impl Timer for TokioTimer {
    fn sleep(&self, ms: u64) -> Sleep {
        Box::pin(tokio::time::sleep(std::time::Duration::from_millis(ms)))
    }
}

/// This module's runtime: the Rust providers' I/O runs on its threads.
fn runtime() -> PyResult<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    let rt = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("polysession")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    });
    match rt {
        Ok(rt) => {
            // The awaitables of the `_async` calls are this runtime's futures.
            let _ = pyo3_async_runtimes::tokio::init_with_runtime(rt);
            Ok(rt)
        }
        Err(e) => Err(pyo3::exceptions::PyRuntimeError::new_err(format!(
            "polysession could not start its runtime: {e}"
        ))),
    }
}

/// Runs `fut` to its end from a Python thread: one poll on this thread first (a store without
/// I/O is done then); if it is still pending, the rest runs with the GIL released.
fn run<T: Send>(
    py: Python<'_>,
    fut: impl Future<Output = polysession_core::Result<T>> + Send,
) -> PyResult<T> {
    let rt = runtime()?;
    let mut fut = Box::pin(fut);
    let first = {
        let _entered = rt.enter();
        fut.as_mut().poll(&mut Context::from_waker(Waker::noop()))
    };
    let result = match first {
        Poll::Ready(r) => r,
        Poll::Pending => py.detach(|| rt.block_on(fut)),
    };
    result.map_err(|e| to_py(py, e))
}

/// Like [`run`] for the ASGI path: the result itself when the first poll finishes, else an
/// awaitable of it. The Python layer awaits only what is awaitable. With `loop_bound` (the
/// store is a Python object), the caller's event loop travels with the future, so that the
/// store's coroutines run there.
fn run_async<T>(
    py: Python<'_>,
    loop_bound: bool,
    fut: impl Future<Output = polysession_core::Result<T>> + Send + 'static,
) -> PyResult<Py<PyAny>>
where
    T: for<'py> IntoPyObject<'py> + Send + 'static,
{
    let rt = runtime()?;
    let locals = if loop_bound {
        pyo3_async_runtimes::tokio::get_current_locals(py).ok()
    } else {
        None
    };
    let mut fut = Box::pin(async move {
        match locals {
            Some(locals) => pyo3_async_runtimes::tokio::scope(locals, fut).await,
            None => fut.await,
        }
    });
    let first = {
        let _entered = rt.enter();
        fut.as_mut().poll(&mut Context::from_waker(Waker::noop()))
    };
    match first {
        Poll::Ready(r) => Ok(r
            .map_err(|e| to_py(py, e))?
            .into_pyobject(py)
            .map_err(Into::into)?
            .into_any()
            .unbind()),
        Poll::Pending => {
            let awaitable = pyo3_async_runtimes::tokio::future_into_py(py, async move {
                match fut.await {
                    Ok(v) => Ok(v),
                    Err(e) => Err(Python::attach(|py| to_py(py, e))),
                }
            })?;
            Ok(awaitable.unbind())
        }
    }
}

/// A session manager over one provider.
#[pyclass(module = "polysession._native", frozen)]
pub struct Manager {
    inner: CoreManager,
    /// Whether the store is a Python object (its coroutines need the caller's event loop).
    py_store: bool,
}

/// The request parts `start` reads.
fn request_parts(
    cookie: Option<String>,
    url: Option<String>,
    sid_header: Option<String>,
    forwarded_proto: Option<String>,
    form: Option<String>,
    https: bool,
) -> RequestParts {
    let mut parts =
        RequestParts::from_host(cookie, url.as_deref(), sid_header, forwarded_proto, form);
    parts.https |= https;
    parts
}

/// The headers `commit` gives, as a dict: `set_cookie`, `sid_header` (`(name, id)`), `vary`,
/// `cache_control` (each `None` when not to be set) and `outcome`.
struct CommitHeaders(http::ResponseHeaders, &'static str);

impl<'py> IntoPyObject<'py> for CommitHeaders {
    type Target = PyDict;
    type Output = Bound<'py, PyDict>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let CommitHeaders(h, outcome) = self;
        let d = PyDict::new(py);
        d.set_item("set_cookie", h.set_cookie)?;
        d.set_item("sid_header", h.sid_header)?;
        d.set_item("vary", h.vary)?;
        d.set_item("cache_control", h.cache_control)?;
        d.set_item("outcome", outcome)?;
        Ok(d)
    }
}

async fn commit_headers(
    handle: Arc<Handle>,
    manager: CoreManager,
    vary: Option<String>,
    cache_control: Option<String>,
) -> polysession_core::Result<CommitHeaders> {
    let release = handle.commit(&manager).await?;
    let (vary, cache_control) = (vary.as_deref(), cache_control.as_deref());
    let h = http::response_headers(&release, vary.as_slice(), cache_control.as_slice());
    Ok(CommitHeaders(h, http::outcome_name(release.outcome)))
}

#[pymethods]
impl Manager {
    /// A manager from `options`: the JSON text of an options object (camelCase beego keys),
    /// or with `beego=True` a beego JSON config string; `None` for the defaults. `store` is
    /// a Python store object (it selects the `kv` provider).
    #[new]
    #[pyo3(signature = (options=None, beego=false, store=None))]
    fn new(
        py: Python<'_>,
        options: Option<&str>,
        beego: bool,
        store: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        polysession_providers::register_all();
        let source = match options {
            None => Source::Defaults,
            Some(json) if beego => Source::BeegoJson(json),
            Some(json) => Source::Options(json),
        };
        let config =
            options::configure(source, store.is_some(), PYTHON).map_err(|e| to_py(py, e))?;
        // The runtime is there before any store is built (sqlx needs one to spawn on).
        let rt = runtime()?;
        let _entered = rt.enter();
        let mut builder = CoreManager::builder(config.clone());
        if let Some(store) = store {
            let host = store::PyStore::new(store)?;
            let kv = CallbackStore::new(host, "kv", &config.provider_config, Arc::new(SystemClock))
                .map_err(|e| to_py(py, e))?
                .timer(Arc::new(TokioTimer));
            builder = builder.store(Arc::new(kv));
        }
        let inner = builder.build().map_err(|e| to_py(py, e))?;
        Ok(Manager {
            inner,
            py_store: store.is_some(),
        })
    }

    /// Prepares the store (beego's `SessionInit`): checks the connection, creates tables.
    fn init(&self, py: Python<'_>) -> PyResult<()> {
        let m = self.inner.clone();
        run(py, async move { m.init().await })
    }

    /// Whether to read the request body for a session id (the host kit's form policy: only
    /// when ids may travel in a form, no session cookie, an urlencoded POST/PUT/PATCH with a
    /// Content-Length up to 64 KiB).
    #[pyo3(signature = (cookie, method, content_type=None, content_length=None))]
    fn reads_form(
        &self,
        cookie: Option<String>,
        method: &str,
        content_type: Option<&str>,
        content_length: Option<&str>,
    ) -> bool {
        let parts = RequestParts {
            cookies: cookie.into_iter().collect(),
            ..Default::default()
        };
        http::read_form(
            self.inner.config(),
            &parts,
            method,
            content_type,
            content_length,
        )
    }

    /// Starts the session of a request from its parts: the `Cookie` header, the URL (path
    /// and query), the id header, `X-Forwarded-Proto`, the urlencoded body when
    /// [`reads_form`](Self::reads_form) said so, and whether the connection is TLS.
    // One argument per request part: Python calls them by keyword.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (cookie=None, url=None, sid_header=None, forwarded_proto=None, form=None, https=false))]
    fn start(
        &self,
        py: Python<'_>,
        cookie: Option<String>,
        url: Option<String>,
        sid_header: Option<String>,
        forwarded_proto: Option<String>,
        form: Option<String>,
        https: bool,
    ) -> PyResult<Session> {
        let parts = request_parts(cookie, url, sid_header, forwarded_proto, form, https);
        let m = self.inner.clone();
        let session = run(py, async move { m.start(&parts.info()).await })?;
        Ok(Session {
            handle: Arc::new(Handle::new(session)),
            manager: self.inner.clone(),
            loop_bound: self.py_store,
        })
    }

    /// [`start`](Self::start) for asyncio: the session, or an awaitable of it.
    // One argument per request part: Python calls them by keyword.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (cookie=None, url=None, sid_header=None, forwarded_proto=None, form=None, https=false))]
    fn start_async(
        &self,
        py: Python<'_>,
        cookie: Option<String>,
        url: Option<String>,
        sid_header: Option<String>,
        forwarded_proto: Option<String>,
        form: Option<String>,
        https: bool,
    ) -> PyResult<Py<PyAny>> {
        let parts = request_parts(cookie, url, sid_header, forwarded_proto, form, https);
        let (m, loop_bound) = (self.inner.clone(), self.py_store);
        run_async(py, loop_bound, async move {
            let session = m.start(&parts.info()).await?;
            Ok(Session {
                handle: Arc::new(Handle::new(session)),
                manager: m,
                loop_bound,
            })
        })
    }

    /// Writes the session; gives the headers to set (a dict, see the stubs), given the
    /// response's own `Vary` and `Cache-Control`. On failure the session stays open.
    #[pyo3(signature = (session, vary=None, cache_control=None))]
    fn commit<'py>(
        &self,
        py: Python<'py>,
        session: &Session,
        vary: Option<String>,
        cache_control: Option<String>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let fut = commit_headers(
            session.handle.clone(),
            self.inner.clone(),
            vary,
            cache_control,
        );
        run(py, fut)?.into_pyobject(py)
    }

    /// [`commit`](Self::commit) for asyncio: the headers, or an awaitable of them.
    #[pyo3(signature = (session, vary=None, cache_control=None))]
    fn commit_async(
        &self,
        py: Python<'_>,
        session: &Session,
        vary: Option<String>,
        cache_control: Option<String>,
    ) -> PyResult<Py<PyAny>> {
        let fut = commit_headers(
            session.handle.clone(),
            self.inner.clone(),
            vary,
            cache_control,
        );
        run_async(py, self.py_store, fut)
    }

    /// How many sessions the store holds (`UNSUPPORTED` for `cookie`).
    fn count(&self, py: Python<'_>) -> PyResult<u64> {
        let m = self.inner.clone();
        run(py, async move { m.count().await })
    }

    /// One GC pass; how many sessions were removed.
    fn gc(&self, py: Python<'_>) -> PyResult<u64> {
        let m = self.inner.clone();
        run(py, async move { m.gc().await })
    }

    /// The provider in use.
    #[getter]
    fn provider(&self) -> String {
        self.inner.config().provider.clone()
    }

    /// The session cookie's name.
    #[getter]
    fn cookie_name(&self) -> String {
        self.inner.config().cookie_name.clone()
    }

    /// Whether ids may travel in the query string or a form (`enableSidInURLQuery`); only
    /// then can [`reads_form`](Self::reads_form) say yes.
    #[getter]
    fn ids_in_query(&self) -> bool {
        self.inner.config().sid_in_url_query
    }

    /// The id header's name when ids are accepted from a header.
    #[getter]
    fn header_name(&self) -> Option<String> {
        let c = self.inner.config();
        c.sid_in_header.then(|| c.header_name.clone())
    }
}

/// One request's session: the host kit's [`Handle`]. Values cross as JSON text.
#[pyclass(module = "polysession._native", frozen)]
pub struct Session {
    handle: Arc<Handle>,
    manager: CoreManager,
    /// As [`Manager`]'s `py_store`.
    loop_bound: bool,
}

impl Session {
    fn with<T>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut polysession_core::Session) -> T,
    ) -> PyResult<T> {
        self.handle.with(f).map_err(|e| to_py(py, e))
    }
}

#[pymethods]
impl Session {
    /// The session id.
    #[getter]
    fn id(&self, py: Python<'_>) -> PyResult<String> {
        self.with(py, |s| s.id().to_owned())
    }

    /// Whether this request created the session.
    #[getter]
    fn is_new(&self, py: Python<'_>) -> PyResult<bool> {
        self.with(py, |s| s.is_new())
    }

    /// Whether the session was committed.
    #[getter]
    fn committed(&self) -> bool {
        self.handle.is_committed()
    }

    /// The JSON text under `key`, or `None`.
    fn get(&self, py: Python<'_>, key: &str) -> PyResult<Option<String>> {
        self.with(py, |s| s.get(key).map(ToString::to_string))
    }

    /// Stores the JSON text `json` under `key`.
    fn set(&self, py: Python<'_>, key: &str, json: &str) -> PyResult<()> {
        self.handle.set_json(key, json).map_err(|e| to_py(py, e))
    }

    /// Applies many changes at once: `set` is the JSON text of an object of keys to store,
    /// `delete` the keys to remove.
    #[pyo3(signature = (set=None, delete=None))]
    fn update(
        &self,
        py: Python<'_>,
        set: Option<&str>,
        delete: Option<Vec<String>>,
    ) -> PyResult<()> {
        let delete = delete.unwrap_or_default();
        self.handle
            .update_json(set, &delete)
            .map_err(|e| to_py(py, e))
    }

    /// Removes `key`; returns whether it was there.
    fn delete(&self, py: Python<'_>, key: &str) -> PyResult<bool> {
        self.with(py, |s| s.delete(key).is_some())
    }

    /// Removes every key.
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, |s| s.flush())
    }

    /// The keys, in order.
    fn keys(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        self.with(py, |s| s.keys().map(str::to_owned).collect())
    }

    /// Every key and value, as the JSON text of an object.
    fn data(&self, py: Python<'_>) -> PyResult<String> {
        self.with(py, |s| {
            serde_json::Value::Object(s.data().clone()).to_string()
        })
    }

    /// Sets the lifetime of the cookie this response sends, in seconds (`0`: a
    /// browser-session cookie), in place of the `cookieLifeTime` option; for this request
    /// only. A session given one sends its cookie with every write.
    fn set_cookie_lifetime(&self, py: Python<'_>, secs: f64) -> PyResult<()> {
        self.handle
            .set_cookie_lifetime(secs)
            .map_err(|e| to_py(py, e))
    }

    /// Adds a flash message under `level`.
    fn flash(&self, py: Python<'_>, level: &str, message: &str) -> PyResult<()> {
        self.with(py, |s| s.flash(level, message))
    }

    /// The pending flash messages by level, as JSON text, removed as they are read.
    fn take_flash(&self, py: Python<'_>) -> PyResult<String> {
        let flashes = self.with(py, |s| s.take_flash())?;
        Ok(serde_json::to_string(&flashes).unwrap_or_else(|_| "{}".into()))
    }

    /// Gives the session a new id, keeping its data.
    fn regenerate(&self, py: Python<'_>) -> PyResult<()> {
        let (h, m) = (self.handle.clone(), self.manager.clone());
        run(py, async move { h.regenerate(&m).await })
    }

    /// [`regenerate`](Self::regenerate) for asyncio: `None`, or an awaitable of it.
    fn regenerate_async(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let (h, m) = (self.handle.clone(), self.manager.clone());
        run_async(py, self.loop_bound, async move { h.regenerate(&m).await })
    }

    /// Destroys the session; commit removes the cookie.
    fn destroy(&self, py: Python<'_>) -> PyResult<()> {
        let (h, m) = (self.handle.clone(), self.manager.clone());
        run(py, async move { h.destroy(&m).await })
    }

    /// [`destroy`](Self::destroy) for asyncio: `None`, or an awaitable of it.
    fn destroy_async(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let (h, m) = (self.handle.clone(), self.manager.clone());
        run_async(py, self.loop_bound, async move { h.destroy(&m).await })
    }
}

/// The response every polysession host gives for a session error with `code`:
/// `(status, [(name, value)], body)`.
#[pyfunction]
#[pyo3(signature = (code=None))]
fn error_response(code: Option<&str>) -> (u16, Vec<(&'static str, String)>, String) {
    let r = http::error_response_for_code(code);
    (r.status, r.headers, r.body)
}

/// The HTTP status for an error `code` (500 for an unknown one).
#[pyfunction]
fn status_for_code(code: &str) -> u16 {
    ErrorKind::from_code(code).map_or(500, http::status)
}

/// The module `polysession._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Manager>()?;
    m.add_class::<Session>()?;
    m.add_function(wrap_pyfunction!(error_response, m)?)?;
    m.add_function(wrap_pyfunction!(status_for_code, m)?)?;
    #[cfg(feature = "conformance")]
    m.add_function(wrap_pyfunction!(conformance::run_conformance, m)?)?;
    ErrorClasses::add(m)?;
    Ok(())
}

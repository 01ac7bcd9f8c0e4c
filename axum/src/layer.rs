//! The tower layer: starts nothing, releases whatever the handlers started.

use crate::error::default_response;
use crate::extract::{Slot, State};
use axum::body::Body;
use axum::response::Response;
use futures_util::lock::Mutex;
use http::header::{self, HeaderValue};
use http::{HeaderMap, Request};
use polysession_bindings::http as http_glue;
use polysession_bindings::RequestParts;
use polysession_core::{Error, Manager};
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower_layer::Layer;
use tower_service::Service;

/// Urlencoded bodies up to this size are read for the session id when
/// `EnableSidInURLQuery` is on (the host kit's form-body policy).
pub const MAX_FORM_BYTES: u64 = http_glue::MAX_FORM_BYTES;

type ErrorHandler = Arc<dyn Fn(&Error) -> Response + Send + Sync>;

/// Adds sessions to every request below it (beego's `SessionOn`).
///
/// ```
/// use polysession_axum::SessionLayer;
/// use polysession_core::{Config, Manager};
/// let layer = SessionLayer::new(Manager::new(Config::default()).unwrap())
///     .https(false)
///     .on_error(|e| (axum::http::StatusCode::SERVICE_UNAVAILABLE, e.code()).into_response());
/// # use axum::response::IntoResponse;
/// ```
#[derive(Clone)]
pub struct SessionLayer {
    manager: Manager,
    https: bool,
    on_error: ErrorHandler,
}

impl SessionLayer {
    /// A layer over `manager`.
    pub fn new(manager: Manager) -> Self {
        SessionLayer {
            manager,
            https: false,
            on_error: Arc::new(default_response),
        }
    }

    /// Declares that this server itself terminates TLS, so `Secure` cookies are sent.
    /// (Behind a proxy, set `trustForwardedProto` in the config instead.)
    pub fn https(mut self, on: bool) -> Self {
        self.https = on;
        self
    }

    /// Replaces the response given when releasing the session fails (503 by default for a
    /// store outage).
    pub fn on_error(mut self, f: impl Fn(&Error) -> Response + Send + Sync + 'static) -> Self {
        self.on_error = Arc::new(f);
        self
    }
}

impl<S> Layer<S> for SessionLayer {
    type Service = SessionService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service made by [`SessionLayer`].
#[derive(Clone)]
pub struct SessionService<S> {
    inner: S,
    layer: SessionLayer,
}

/// A header value as text, non-UTF-8 bytes replaced (the common, valid case checked first:
/// the lossy conversion is several times slower on valid text).
fn text(v: &HeaderValue) -> String {
    match std::str::from_utf8(v.as_bytes()) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(v.as_bytes()).into_owned(),
    }
}

fn header_strings(headers: &HeaderMap, name: impl header::AsHeaderName) -> Vec<String> {
    headers.get_all(name).iter().map(text).collect()
}

fn first_header(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<String> {
    headers.get(name).map(text)
}

/// Every line of a response header, borrowed where it is UTF-8.
fn header_lines(headers: &HeaderMap, name: header::HeaderName) -> Vec<Cow<'_, str>> {
    headers
        .get_all(name)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()))
        .collect()
}

/// A header value the host kit computed; the usual `Vary: Cookie` needs no copy.
fn value(v: String) -> Option<HeaderValue> {
    match v.as_str() {
        "Cookie" => Some(HeaderValue::from_static("Cookie")),
        _ => HeaderValue::try_from(v).ok(),
    }
}

/// Adds the session's headers to `h`, merged by the host kit's rules.
fn apply(release: &polysession_core::Release, h: &mut HeaderMap) {
    let out = {
        let (vary, cache) = (
            header_lines(h, header::VARY),
            header_lines(h, header::CACHE_CONTROL),
        );
        let vary: Vec<&str> = vary.iter().map(|v| v.as_ref()).collect();
        let cache: Vec<&str> = cache.iter().map(|v| v.as_ref()).collect();
        http_glue::response_headers(release, &vary, &cache)
    };
    if let Some(cookie) = out.set_cookie.and_then(|c| HeaderValue::try_from(c).ok()) {
        h.append(header::SET_COOKIE, cookie);
    }
    if let Some((name, id)) = out.sid_header {
        if let (Ok(name), Ok(id)) = (
            header::HeaderName::try_from(name),
            HeaderValue::try_from(id),
        ) {
            h.insert(name, id);
        }
    }
    for (name, v) in [
        (header::VARY, out.vary),
        (header::CACHE_CONTROL, out.cache_control),
    ] {
        if let Some(v) = v.and_then(value) {
            h.insert(name, v);
        }
    }
}

impl<S> Service<Request<Body>> for SessionService<S>
where
    S: Service<Request<Body>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        // Take the ready service, leave a fresh clone (tower's clone-and-swap rule).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            let config = layer.manager.config();
            let headers = req.headers();
            let mut parts = RequestParts {
                cookies: header_strings(headers, header::COOKIE),
                query: req.uri().query().map(str::to_owned),
                form: None,
                sid_header: config
                    .sid_in_header
                    .then(|| first_header(headers, config.header_name.as_str()))
                    .flatten(),
                https: layer.https || req.uri().scheme_str() == Some("https"),
                // Read only where the config trusts it; core ignores it otherwise.
                forwarded_proto: config
                    .trust_forwarded_proto
                    .then(|| first_header(headers, "x-forwarded-proto"))
                    .flatten(),
            };
            let mut req = req;
            let (kind, length) = (
                first_header(req.headers(), header::CONTENT_TYPE),
                first_header(req.headers(), header::CONTENT_LENGTH),
            );
            let method = req.method().as_str();
            if http_glue::read_form(config, &parts, method, kind.as_deref(), length.as_deref()) {
                let (head, body) = req.into_parts();
                let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES as usize)
                    .await
                    .unwrap_or_default();
                parts.set_form(Some(String::from_utf8_lossy(&bytes).into_owned()));
                req = Request::from_parts(head, Body::from(bytes));
            }
            let slot = Arc::new(Slot {
                manager: layer.manager.clone(),
                request: parts,
                state: Mutex::new(State::NotStarted),
            });
            req.extensions_mut().insert(slot.clone());
            let mut response = inner.call(req).await?;
            let state = std::mem::replace(&mut *slot.state.lock().await, State::Released);
            let State::Started(session) = state else {
                return Ok(response);
            };
            match slot.manager.release(session).await {
                Ok(release) => {
                    apply(&release, response.headers_mut());
                    Ok(response)
                }
                Err(e) => Ok((layer.on_error)(&e)),
            }
        })
    }
}

/// Runs GC every `gclifetime` seconds on the tokio runtime, for stores without native TTL.
/// Failed passes are reported as `tracing` warnings (target `polysession`) and retried at
/// the next interval.
pub fn spawn_gc(manager: Manager) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move { manager.gc_loop(tokio::time::sleep, |_| {}).await })
}

//! polysession for fetch-API runtimes (Cloudflare Workers, Deno, Vercel Edge, Node): the core
//! built for `wasm32-unknown-unknown` with wasm-bindgen.
//!
//! These are the raw bindings; the npm package `polysession-wasm` wraps them in `js/`, where
//! `Manager.start(request)` reads a fetch `Request` and `Manager.commit(session, response)`
//! returns a `Response` with the session's headers. Every export converts its arguments and
//! calls the core or the host kit (`polysession-bindings`, shared with the other hosts):
//! session rules, the KV record format, option rules and HTTP glue are not written here.
//! Errors are JS `Error`s named `PolysessionError` with the core's `code`; no panic path is
//! reachable from JS.
//!
//! The crate is empty on targets other than wasm32.
#![cfg(target_arch = "wasm32")]
#![warn(missing_docs)]

mod error;
mod host;
mod kv;
mod session;
#[cfg(test)]
mod tests;

use error::{to_js, JsResult};
use js_sys::{Array, Object, Promise, Reflect, JSON};
use polysession_bindings::http::{self, RequestParts};
use polysession_bindings::options::{self, HostDefaults, Source};
use polysession_core::{Config, ErrorKind};
pub use session::Session;
use std::sync::Arc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

/// The option and result types, appended to the generated `.d.ts`.
#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = include_str!("types.d.ts");

/// At the edge, sealed cookies by default; a `store` object selects `kv`.
const EDGE: HostDefaults = HostDefaults {
    provider: "cookie",
    store_provider: "kv",
};

/// A session manager over one provider: `cookie` (the default), `memory` or `kv`.
#[wasm_bindgen(js_name = RawManager)]
pub struct Manager {
    inner: polysession_core::Manager,
}

/// Splits the options into the config, the `store` object and the `now` clock.
fn configure(options: &JsValue) -> JsResult<(Config, JsValue, JsValue)> {
    let config = |source, has_store| options::configure(source, has_store, EDGE).map_err(to_js);
    let none = JsValue::UNDEFINED;
    if let Some(json) = options.as_string() {
        return Ok((config(Source::BeegoJson(&json), false)?, none.clone(), none));
    }
    if options.is_undefined() || options.is_null() {
        return Ok((config(Source::Defaults, false)?, none.clone(), none));
    }
    let Some(given) = options.dyn_ref::<Object>() else {
        let why = "options must be an object or a beego JSON config string";
        return Err(error::js_error(ErrorKind::BadConfig, why));
    };
    let copy = Object::assign(&Object::new(), given);
    let [store, now] = options::HOST_KEYS.map(|name| {
        let value = Reflect::get(&copy, &name.into()).unwrap_or_default();
        let _ = Reflect::delete_property(&copy, &name.into());
        value
    });
    let json = JSON::stringify(&copy).ok().and_then(|s| s.as_string());
    let unreadable = || error::js_error(ErrorKind::BadConfig, "options cannot be read as JSON");
    let json = json.ok_or_else(unreadable)?;
    let has_store = !(store.is_undefined() || store.is_null());
    Ok((config(Source::Options(&json), has_store)?, store, now))
}

async fn start(manager: polysession_core::Manager, parts: RequestParts) -> JsResult<Session> {
    let session = manager.start(&parts.info()).await.map_err(to_js)?;
    Ok(Session::new(session, manager))
}

async fn commit(
    manager: polysession_core::Manager,
    handle: std::rc::Rc<polysession_bindings::Handle>,
    vary: Option<String>,
    cache_control: Option<String>,
) -> JsResult<Object> {
    let release = handle.commit(&manager).await.map_err(to_js)?;
    let (vary, cache_control) = (vary.as_deref(), cache_control.as_deref());
    let h = http::response_headers(&release, vary.as_slice(), cache_control.as_slice());
    let out = Object::new();
    let set = |k: &str, v: Option<JsValue>| {
        if let Some(v) = v {
            // Setting a property on a fresh plain object cannot fail.
            let _ = Reflect::set(&out, &k.into(), &v);
        }
    };
    set("setCookie", h.set_cookie.map(Into::into));
    let pair = |(n, id): (String, String)| Array::of2(&n.into(), &id.into()).into();
    set("sidHeader", h.sid_header.map(pair));
    set("vary", h.vary.map(Into::into));
    set("cacheControl", h.cache_control.map(Into::into));
    set("outcome", Some(http::outcome_name(release.outcome).into()));
    Ok(out)
}

#[wasm_bindgen(js_class = RawManager)]
impl Manager {
    /// A manager from an options object (camelCase beego keys plus `provider`,
    /// `providerConfig`, `store` and `now`) or a beego JSON config string.
    /// Throws `BAD_CONFIG` naming the key, or `UNKNOWN_PROVIDER`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "ManagerOptions | string")] options: JsValue,
    ) -> JsResult<Manager> {
        let (config, store, now) = configure(&options)?;
        let clock = host::clock(now)?;
        let mut builder = polysession_core::Manager::builder(config.clone()).clock(clock.clone());
        if !store.is_undefined() {
            let kv = kv::store(store, &config.provider_config, clock).map_err(to_js)?;
            #[allow(clippy::arc_with_non_send_sync)]
            let kv = Arc::new(kv);
            builder = builder.store(kv);
        }
        Ok(Manager {
            inner: builder.build().map_err(to_js)?,
        })
    }

    /// Whether to read the request body for a session id (the host kit's form-body policy),
    /// from the `Cookie` header, the method, `Content-Type` and `Content-Length`.
    #[wasm_bindgen(js_name = readsForm)]
    pub fn reads_form(
        &self,
        cookie: Option<String>,
        method: &str,
        content_type: Option<String>,
        content_length: Option<String>,
    ) -> bool {
        let parts = RequestParts {
            cookies: cookie.into_iter().collect(),
            ..Default::default()
        };
        let config = self.inner.config();
        http::read_form(
            config,
            &parts,
            method,
            content_type.as_deref(),
            content_length.as_deref(),
        )
    }

    /// Starts the session of a request from its parts: the `Cookie` header, the URL, the id
    /// header (when enabled), `X-Forwarded-Proto` and an urlencoded body (when `readsForm`).
    /// Resolves to a [`Session`]; rejects only with `STORE_UNAVAILABLE`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Session>")]
    pub fn start(
        &self,
        cookie: Option<String>,
        url: Option<String>,
        sid_header: Option<String>,
        forwarded_proto: Option<String>,
        form: Option<String>,
    ) -> Promise {
        let parts =
            RequestParts::from_host(cookie, url.as_deref(), sid_header, forwarded_proto, form);
        let started = start(self.inner.clone(), parts);
        future_to_promise(async move { Ok(started.await?.into()) })
    }

    /// Writes the session and resolves to the headers to set, given the response's own
    /// `Vary` and `Cache-Control`: `{ setCookie?, sidHeader?: [name, id], vary?,
    /// cacheControl?, outcome }`. On failure the session stays open, so the call can be retried.
    #[wasm_bindgen(unchecked_return_type = "Promise<CommitHeaders>")]
    pub fn commit(
        &self,
        session: &Session,
        vary: Option<String>,
        cache_control: Option<String>,
    ) -> Promise {
        let committed = commit(
            self.inner.clone(),
            session.handle.clone(),
            vary,
            cache_control,
        );
        future_to_promise(async move { Ok(committed.await?.into()) })
    }

    /// How many sessions the store holds; rejects with `UNSUPPORTED` for `cookie`, and for
    /// a kv store without `list()`.
    #[wasm_bindgen(unchecked_return_type = "Promise<number>")]
    pub fn count(&self) -> Promise {
        let manager = self.inner.clone();
        future_to_promise(async move {
            let n = manager.count().await.map_err(to_js)?;
            Ok(JsValue::from_f64(n as f64))
        })
    }

    /// One GC pass (only the memory provider needs it); resolves to how many were removed.
    #[wasm_bindgen(unchecked_return_type = "Promise<number>")]
    pub fn gc(&self) -> Promise {
        let manager = self.inner.clone();
        future_to_promise(async move {
            let n = manager.gc().await.map_err(to_js)?;
            Ok(JsValue::from_f64(n as f64))
        })
    }

    /// The provider in use.
    #[wasm_bindgen(getter)]
    pub fn provider(&self) -> String {
        self.inner.config().provider.clone()
    }

    /// The session cookie's name.
    #[wasm_bindgen(getter, js_name = cookieName)]
    pub fn cookie_name(&self) -> String {
        self.inner.config().cookie_name.clone()
    }

    /// The id header's name when ids are accepted from a header (`EnableSidInHTTPHeader`).
    #[wasm_bindgen(getter, js_name = headerName)]
    pub fn header_name(&self) -> Option<String> {
        let c = self.inner.config();
        c.sid_in_header.then(|| c.header_name.clone())
    }
}

/// The response for a session error with `code` (`err.code`; anything else is a 500), as
/// every polysession host gives it: `{ status, headers, body }`.
#[wasm_bindgen(js_name = errorResponseInit, unchecked_return_type = "ErrorResponseInit")]
pub fn error_response_init(code: Option<String>) -> Object {
    let r = http::error_response_for_code(code.as_deref());
    let out = Object::new();
    let headers: Array = r
        .headers
        .iter()
        .map(|(n, v)| JsValue::from(Array::of2(&(*n).into(), &v.into())))
        .collect();
    let _ = Reflect::set(&out, &"status".into(), &r.status.into());
    let _ = Reflect::set(&out, &"headers".into(), &headers);
    let _ = Reflect::set(&out, &"body".into(), &r.body.into());
    out
}

/// The `cookie` provider's sealing on its own, for tokens outside the session cookie (as
/// iron-session's `sealData`): XChaCha20-Poly1305 under HKDF-derived keys, newest first.
#[wasm_bindgen]
pub struct KeyRing {
    ring: polysession_core::KeyRing,
}

#[wasm_bindgen]
impl KeyRing {
    /// A ring from secrets of at least 32 bytes, newest first. Throws `BAD_CONFIG`.
    #[wasm_bindgen(constructor)]
    pub fn new(secrets: Vec<String>) -> JsResult<KeyRing> {
        let ring = polysession_core::KeyRing::new(&secrets).map_err(to_js)?;
        Ok(KeyRing { ring })
    }

    /// Seals `text`, bound to `context` (the session cookie uses its cookie name).
    pub fn seal(&self, text: &str, context: &str) -> JsResult<String> {
        let entropy = &polysession_core::OsEntropy;
        let sealed = self.ring.seal(text.as_bytes(), context.as_bytes(), entropy);
        sealed.map_err(to_js)
    }

    /// Opens a sealed string, or `undefined` when it was tampered with, sealed under another
    /// key or context, or is not text.
    pub fn open(&self, sealed: &str, context: &str) -> Option<String> {
        let plain = self.ring.open(sealed, context.as_bytes())?;
        String::from_utf8(plain).ok()
    }
}

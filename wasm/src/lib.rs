//! polysession for fetch-API runtimes (Cloudflare Workers, Deno, Vercel Edge, Node): the core
//! built for `wasm32-unknown-unknown` with wasm-bindgen.
//!
//! These are the raw bindings; the npm package `polysession-wasm` wraps them in `js/`, where
//! `Manager.start(request)` reads a fetch `Request` and `Manager.commit(session, response)`
//! returns a `Response` with the session's headers. Every export converts its arguments, calls
//! core and converts the result: session rules live in `polysession-core` only. Errors are JS
//! `Error`s named `PolysessionError` with the core's `code`; no panic path is reachable from JS.
//!
//! The crate is empty on targets other than wasm32.
#![cfg(target_arch = "wasm32")]
#![warn(missing_docs)]

mod error;
mod host;
mod kv;
mod session;

use error::{js_error, to_js, JsResult};
use host::JsClock;
use js_sys::{Array, Object, Promise, Reflect, JSON};
use polysession_core::{Clock, Config, ErrorKind, Outcome, RequestInfo};
pub use session::Session;
use session::State;
use std::sync::Arc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** A store shaped like a Cloudflare Workers KV namespace; methods may return promises. */
export interface KVNamespaceLike {
  get(key: string): Promise<string | null> | string | null;
  put(key: string, value: string, options: { expirationTtl: number }): Promise<unknown> | unknown;
  delete(key: string): Promise<unknown> | unknown;
  /** Optional: lets `count()` work. */
  list?(options: { prefix: string; cursor?: string }): Promise<{ keys: { name: string }[]; list_complete: boolean; cursor?: string }>;
}

/** The camelCase beego keys (any case is accepted), plus the host-only `store` and `now`. */
export interface ManagerOptions {
  /** `cookie` (default), `memory`, or `kv` (implied by `store`). */
  provider?: "cookie" | "memory" | "kv" | string;
  /** cookie: `{ keys: [newest, ...older] }` (32+ byte secrets); kv: `{ prefix }`; memory: `{ capacity }`. */
  providerConfig?: string | Record<string, unknown>;
  store?: KVNamespaceLike;
  /** A clock in Unix milliseconds (default `Date.now`). */
  now?: () => number;
  cookieName?: string;
  enableSetCookie?: boolean;
  gclifetime?: number;
  maxLifetime?: number;
  absoluteLifetime?: number;
  touchInterval?: number;
  cookieLifeTime?: number;
  secure?: boolean;
  trustForwardedProto?: boolean;
  disableHTTPOnly?: boolean;
  domain?: string;
  cookiePath?: string;
  cookieSameSite?: "Lax" | "Strict" | "None" | "Default" | number;
  sessionIDLength?: number;
  sessionIDPrefix?: string;
  sessionIDHashFunc?: "sha1" | "";
  sessionIDHashKey?: string;
  EnableSidInHTTPHeader?: boolean;
  SessionNameInHTTPHeader?: string;
  EnableSidInURLQuery?: boolean;
}

/** What `commit` adds to the response. */
export interface CommitHeaders {
  setCookie?: string;
  sidHeader?: [string, string];
  noStore: boolean;
  varyCookie: boolean;
  outcome: "unchanged" | "written" | "touched" | "gone" | "destroyed";
}
"#;

/// A session manager over one provider: `cookie` (the default), `memory` or `kv`.
#[wasm_bindgen(js_name = RawManager)]
pub struct Manager {
    inner: polysession_core::Manager,
}

/// Takes host-only options (`store`, `now`) out of a copy of the options object.
fn take(options: &Object, name: &str) -> JsValue {
    let key = JsValue::from(name);
    let value = Reflect::get(options, &key).unwrap_or_default();
    let _ = Reflect::delete_property(options, &key);
    value
}

/// Parses the options into a config, a store object and a clock. The key mapping itself is
/// core's [`Config::apply_options`], shared with the Node and Python packages.
fn configure(options: &JsValue) -> JsResult<(Config, JsValue, JsValue)> {
    let mut config = Config::default();
    config.provider = "cookie".into();
    if let Some(json) = options.as_string() {
        config.apply_beego_json(&json).map_err(to_js)?;
        return Ok((config, JsValue::UNDEFINED, JsValue::UNDEFINED));
    }
    if options.is_undefined() || options.is_null() {
        return Ok((config, JsValue::UNDEFINED, JsValue::UNDEFINED));
    }
    let Some(given) = options.dyn_ref::<Object>() else {
        return Err(js_error(
            ErrorKind::BadConfig,
            "options must be an object or a beego JSON config string",
        ));
    };
    let copy = Object::assign(&Object::new(), given);
    let (store, now) = (take(&copy, "store"), take(&copy, "now"));
    let provider_given = !Reflect::get(&copy, &"provider".into())
        .unwrap_or_default()
        .is_undefined();
    let json = JSON::stringify(&copy)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| js_error(ErrorKind::BadConfig, "options cannot be read as JSON"))?;
    config.apply_options(&json).map_err(to_js)?;
    let has_store = !(store.is_undefined() || store.is_null());
    if has_store && !provider_given {
        config.provider = "kv".into();
    }
    let kv = config.provider.eq_ignore_ascii_case("kv");
    if has_store != kv {
        let why = if kv {
            "the kv provider needs a `store` with get, put and delete (a Workers KV namespace)"
        } else {
            "a `store` is only used by the kv provider"
        };
        return Err(js_error(
            ErrorKind::BadConfig,
            format!("config key `store`: {why}"),
        ));
    }
    Ok((config, store, now))
}

fn release_object(release: polysession_core::Release) -> Object {
    let out = Object::new();
    let set = |k: &str, v: JsValue| {
        let _ = Reflect::set(&out, &k.into(), &v);
    };
    if let Some(cookie) = release.set_cookie {
        set("setCookie", cookie.into());
    }
    if let Some((name, id)) = release.sid_header {
        set("sidHeader", Array::of2(&name.into(), &id.into()).into());
    }
    set("noStore", release.no_store.into());
    set("varyCookie", release.vary_cookie.into());
    let outcome = match release.outcome {
        Outcome::Unchanged => "unchanged",
        Outcome::Written => "written",
        Outcome::Touched => "touched",
        Outcome::Gone => "gone",
        Outcome::Destroyed => "destroyed",
    };
    set("outcome", outcome.into());
    out
}

/// `start` for request parts `[cookie, url, id header, X-Forwarded-Proto, form body]`.
async fn start_impl(
    manager: polysession_core::Manager,
    parts: [Option<String>; 5],
) -> JsResult<Session> {
    let [cookie, url, sid_header, forwarded_proto, form] = parts;
    let url = url.unwrap_or_default();
    let https = url
        .get(..6)
        .is_some_and(|s| s.eq_ignore_ascii_case("https:"));
    let query = url
        .split('#')
        .next()
        .and_then(|u| u.split_once('?'))
        .map(|(_, q)| q);
    let req = RequestInfo {
        cookies: cookie.as_deref().into_iter().collect(),
        query,
        form: form.as_deref(),
        sid_header: sid_header.as_deref(),
        https,
        forwarded_proto: forwarded_proto.as_deref(),
    };
    let session = manager.start(&req).await.map_err(to_js)?;
    Ok(Session::new(session, manager))
}

/// `commit`: releases the session; on failure it is put back open for a retry.
async fn commit_impl(
    manager: polysession_core::Manager,
    state: &std::cell::RefCell<State>,
) -> JsResult<Object> {
    let taken = Session::take(state, State::Committed)?;
    match manager.release(taken.clone()).await {
        Ok(release) => Ok(release_object(release)),
        Err(e) => {
            if let Ok(mut slot) = state.try_borrow_mut() {
                *slot = State::Open(taken);
            }
            Err(to_js(e))
        }
    }
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
        // wasm32 is single-threaded: the Arc only satisfies the builder's type.
        #[allow(clippy::arc_with_non_send_sync)]
        let clock: Arc<dyn Clock> = Arc::new(JsClock::new(now)?);
        let mut builder = polysession_core::Manager::builder(config.clone()).clock(clock.clone());
        if !store.is_undefined() {
            let kv = kv::KvStore::new(store, &config.provider_config, clock).map_err(to_js)?;
            #[allow(clippy::arc_with_non_send_sync)]
            let kv = Arc::new(kv);
            builder = builder.store(kv);
        }
        Ok(Manager {
            inner: builder.build().map_err(to_js)?,
        })
    }

    /// Starts the session of a request from its parts: the `Cookie` header, the URL, the id
    /// header (when enabled), `X-Forwarded-Proto` and an urlencoded body (when enabled).
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
        let manager = self.inner.clone();
        future_to_promise(async move {
            let parts = [cookie, url, sid_header, forwarded_proto, form];
            Ok(start_impl(manager, parts).await?.into())
        })
    }

    /// Writes the session and resolves to the headers to add:
    /// `{ setCookie?, sidHeader?: [name, id], noStore, varyCookie, outcome }`.
    /// On failure the session stays open, so the call can be retried.
    #[wasm_bindgen(unchecked_return_type = "Promise<CommitHeaders>")]
    pub fn commit(&self, session: &Session) -> Promise {
        let manager = self.inner.clone();
        let state = session.state.clone();
        future_to_promise(async move { Ok(commit_impl(manager, &state).await?.into()) })
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

    /// The id header's name when ids are accepted from a header (`EnableSidInHTTPHeader`).
    #[wasm_bindgen(getter, js_name = headerName)]
    pub fn header_name(&self) -> Option<String> {
        let c = self.inner.config();
        c.sid_in_header.then(|| c.header_name.clone())
    }

    /// Whether ids are accepted from the URL query or an urlencoded form
    /// (`EnableSidInURLQuery`).
    #[wasm_bindgen(getter, js_name = acceptsQuery)]
    pub fn accepts_query(&self) -> bool {
        self.inner.config().sid_in_url_query
    }
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
        self.ring
            .seal(
                text.as_bytes(),
                context.as_bytes(),
                &polysession_core::OsEntropy,
            )
            .map_err(to_js)
    }

    /// Opens a sealed string, or `undefined` when it was tampered with, sealed under another
    /// key or context, or is not text.
    pub fn open(&self, sealed: &str, context: &str) -> Option<String> {
        let plain = self.ring.open(sealed, context.as_bytes())?;
        String::from_utf8(plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    const SECRET: &str = "0123456789abcdef0123456789abcdef-a";
    /// Sealed by the native build (core's `seal::tests::VECTOR`): the same bytes open here.
    const NATIVE_VECTOR: &str = "AXwsr2KtV6Yf_Ck592b6vvBh98IaUdTWvrIhutRlGCVQElmje2LqTuSgvs4MM9OJBbSGs2ZiV-WEf3BPwhWvtPXqYPStyA4ykrsDYEhOOgCDrJriIg";

    fn js(source: &str) -> JsValue {
        js_sys::Function::new_no_args(&format!("return ({source});"))
            .call0(&JsValue::UNDEFINED)
            .unwrap()
    }

    fn code(err: &JsValue) -> String {
        let name = Reflect::get(err, &"name".into()).unwrap().as_string();
        assert_eq!(name.as_deref(), Some("PolysessionError"));
        Reflect::get(err, &"code".into())
            .unwrap()
            .as_string()
            .unwrap()
    }

    #[wasm_bindgen_test]
    fn a_native_seal_opens_in_wasm() {
        let ring = KeyRing::new(vec![SECRET.into()]).unwrap();
        assert_eq!(
            ring.open(NATIVE_VECTOR, "sid").as_deref(),
            Some(r#"{"v":1,"created":1,"data":{"from":"native"}}"#)
        );
        assert_eq!(ring.open(NATIVE_VECTOR, "other"), None);
        let sealed = ring.seal("back", "sid").unwrap();
        assert_eq!(ring.open(&sealed, "sid").as_deref(), Some("back"));
    }

    #[wasm_bindgen_test]
    fn providers_from_options() {
        let keys = format!("{{providerConfig: {{keys: ['{SECRET}']}}}}");
        assert_eq!(Manager::new(js(&keys)).unwrap().provider(), "cookie");
        let json = format!(r#"{{"providerConfig": "{{\"keys\":[\"{SECRET}\"]}}"}}"#);
        assert_eq!(Manager::new(json.into()).unwrap().provider(), "cookie");
        let kv = "{store: {get() {}, put() {}, delete() {}}}";
        assert_eq!(Manager::new(js(kv)).unwrap().provider(), "kv");
        assert_eq!(
            Manager::new(js("{provider: 'memory'}")).unwrap().provider(),
            "memory"
        );
        for (bad, want) in [
            ("undefined", "BAD_CONFIG"),
            ("{provider: 'kv'}", "BAD_CONFIG"),
            ("{provider: 'memory', store: {}}", "BAD_CONFIG"),
            ("{provider: 'nope'}", "UNKNOWN_PROVIDER"),
            ("{provider: 'memory', cookieNmae: 'x'}", "BAD_CONFIG"),
            ("{provider: 'memory', x: 1n}", "BAD_CONFIG"),
            ("'{'", "BAD_CONFIG"),
            ("true", "BAD_CONFIG"),
        ] {
            let err = Manager::new(js(bad)).err().unwrap();
            assert_eq!(code(&err), want, "{bad}");
        }
    }

    #[wasm_bindgen_test]
    async fn start_set_commit_and_back() {
        let m = Manager::new(js("{provider: 'memory', EnableSidInURLQuery: true}")).unwrap();
        let none = || [None, None, None, None, None];
        let s = start_impl(m.inner.clone(), none()).await.unwrap();
        s.set("n", JsValue::from(5)).unwrap();
        let id = s.id().unwrap();
        let out = commit_impl(m.inner.clone(), &s.state).await.unwrap();
        let cookie = Reflect::get(&out, &"setCookie".into())
            .unwrap()
            .as_string()
            .unwrap();
        assert!(
            cookie.starts_with(&format!("beegosessionID={id};")),
            "{cookie}"
        );
        assert_eq!(
            Reflect::get(&out, &"outcome".into())
                .unwrap()
                .as_string()
                .as_deref(),
            Some("written")
        );
        assert_eq!(
            code(&commit_impl(m.inner.clone(), &s.state).await.unwrap_err()),
            "BAD_INPUT"
        );
        // By cookie, by query (with a fragment), over https.
        let by_cookie = [Some(format!("beegosessionID={id}")), None, None, None, None];
        let by_query = [
            None,
            Some(format!("https://x/p?beegosessionID={id}#frag")),
            None,
            None,
            None,
        ];
        for parts in [by_cookie, by_query] {
            let again = start_impl(m.inner.clone(), parts).await.unwrap();
            assert_eq!(again.get("n").unwrap().as_f64(), Some(5.0));
            assert!(!again.is_new().unwrap());
        }
        // Garbage in every part: a fresh session, no error.
        let junk = Some("\u{0}%%;;==\u{fffd}".repeat(100));
        let fresh = start_impl(
            m.inner.clone(),
            [junk.clone(), junk.clone(), junk.clone(), junk.clone(), junk],
        )
        .await
        .unwrap();
        assert!(fresh.is_new().unwrap());
    }
}

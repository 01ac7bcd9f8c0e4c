//! The `kv` provider: the host kit's [`CallbackStore`] over a JS object shaped like a
//! Cloudflare Workers KV namespace (`get(key)`, `put(key, value, { expirationTtl })`,
//! `delete(key)`, optionally `list({ prefix, cursor })`), whose methods may return promises.
//! Only the bridge to JS is here; the record text, TTL rules, prefix and counting are the kit's.

use crate::error::describe;
use js_sys::{Array, Function, Object, Promise, Reflect};
use polysession_bindings::{CallbackStore, HostError, HostStore, ListPage, Sleep, Timer};
use polysession_core::{async_trait, Clock, Error, Result};
use std::sync::Arc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Workers KV refuses an `expirationTtl` below 60 seconds.
const MIN_TTL_SECS: u64 = 60;
/// Workers KV may take up to 60 seconds to show a change everywhere.
const CONSISTENCY_WINDOW_MS: u64 = 60_000;

/// A KV namespace's methods, called with `this` bound to it.
pub(crate) struct JsKv {
    namespace: JsValue,
    methods: [Function; 3],
    list: Option<Function>,
}

fn method(namespace: &JsValue, name: &str) -> Option<Function> {
    let f = Reflect::get(namespace, &name.into()).ok()?;
    f.dyn_into::<Function>().ok()
}

/// The `kv` store over `namespace`; `config` is empty or `{"prefix": "..."}`.
pub(crate) fn store(
    namespace: JsValue,
    config: &str,
    clock: Arc<dyn Clock>,
) -> Result<CallbackStore<JsKv>> {
    let need = |name: &str| {
        method(&namespace, name).ok_or_else(|| {
            let why = format!("must be a KV namespace with a `{name}` method (get, put, delete)");
            Error::bad_config("store", why)
        })
    };
    let methods = [need("get")?, need("put")?, need("delete")?];
    let list = method(&namespace, "list");
    let kv = JsKv {
        namespace,
        methods,
        list,
    };
    let store = CallbackStore::new(kv, "kv", config, clock)?;
    Ok(store
        .min_ttl(MIN_TTL_SECS)
        .consistency_window(CONSISTENCY_WINDOW_MS)
        .timer(Arc::new(JsTimer)))
}

/// The runtime's `setTimeout`, which bounds every KV call. A sleep dropped early (the call
/// answered first) clears its timer, so no timer outlives its call.
struct JsTimer;

/// Clears a timer when dropped.
struct ClearOnDrop(JsValue);

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        let global = js_sys::global();
        if let Some(clear) = method(&global, "clearTimeout") {
            let _ = clear.call1(&global, &self.0);
        }
    }
}

impl Timer for JsTimer {
    fn sleep(&self, ms: u64) -> Sleep {
        let mut timer = JsValue::UNDEFINED;
        let promise = Promise::new(&mut |resolve, _| {
            let global = js_sys::global();
            if let Some(set_timeout) = method(&global, "setTimeout") {
                let delay = JsValue::from_f64(ms as f64);
                timer = set_timeout
                    .call2(&global, &resolve, &delay)
                    .unwrap_or_default();
            }
        });
        Box::pin(async move {
            let _clear = ClearOnDrop(timer);
            let _ = JsFuture::from(promise).await;
        })
    }
}

impl JsKv {
    /// Calls a method and awaits what it returns.
    async fn call(&self, f: &Function, args: &Array) -> Result<JsValue, HostError> {
        let fail = |e: JsValue| HostError(describe(&e));
        let returned = f.apply(&self.namespace, args).map_err(fail)?;
        JsFuture::from(Promise::resolve(&returned))
            .await
            .map_err(fail)
    }
}

#[async_trait(?Send)]
impl HostStore for JsKv {
    async fn get(&self, key: &str) -> Result<Option<String>, HostError> {
        Ok(self
            .call(&self.methods[0], &Array::of1(&key.into()))
            .await?
            .as_string())
    }

    async fn put(&self, key: &str, value: &str, ttl_secs: u64) -> Result<(), HostError> {
        let options = Object::new();
        let ttl = JsValue::from_f64(ttl_secs as f64);
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&options, &"expirationTtl".into(), &ttl);
        let args = Array::of3(&key.into(), &value.into(), &options);
        self.call(&self.methods[1], &args).await.map(drop)
    }

    async fn delete(&self, key: &str) -> Result<(), HostError> {
        self.call(&self.methods[2], &Array::of1(&key.into()))
            .await
            .map(drop)
    }

    fn can_list(&self) -> bool {
        self.list.is_some()
    }

    /// Workers KV's `list`: `{ keys, list_complete, cursor }`.
    async fn list(&self, prefix: &str, cursor: Option<&str>) -> Result<ListPage, HostError> {
        let list = self
            .list
            .as_ref()
            .ok_or_else(|| HostError("no list()".into()))?;
        let options = Object::new();
        let _ = Reflect::set(&options, &"prefix".into(), &prefix.into());
        if let Some(cursor) = cursor {
            let _ = Reflect::set(&options, &"cursor".into(), &cursor.into());
        }
        let page = self.call(list, &Array::of1(&options)).await?;
        let field = |name: &str| Reflect::get(&page, &name.into()).unwrap_or_default();
        let keys = field("keys").dyn_into::<Array>();
        let keys = keys.map_err(|_| HostError("it returned no `keys` array".into()))?;
        let done = field("list_complete").as_bool() != Some(false);
        Ok(ListPage {
            keys: u64::from(keys.length()),
            cursor: if done {
                None
            } else {
                field("cursor").as_string()
            },
        })
    }
}

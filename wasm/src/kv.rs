//! The `kv` provider: sessions in a store object shaped like a Cloudflare Workers KV
//! namespace (`get(key)`, `put(key, value, { expirationTtl })`, `delete(key)`, optionally
//! `list({ prefix, cursor })`), whose methods may return promises.
//!
//! KV has no compare-and-set: the manager re-reads before it writes and merges per key, and
//! writers of one session in one isolate queue on the manager's locks. The stored value is
//! text: `ps1:<version>:<expires ms>:<payload JSON>`.

use crate::error::describe;
use js_sys::{Array, Function, Object, Promise, Reflect};
use polysession_core::{async_trait, Capabilities, Clock, Error, Expect, Record, Result, Store};
use std::sync::Arc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Workers KV refuses an `expirationTtl` below 60 seconds; the manager checks expiry on every
/// read anyway, so a longer TTL never keeps a session alive.
pub(crate) const MIN_TTL_SECS: u64 = 60;
const TAG: &str = "ps1";

pub(crate) struct KvStore {
    namespace: JsValue,
    get: Function,
    put: Function,
    delete: Function,
    list: Option<Function>,
    prefix: String,
    clock: Arc<dyn Clock>,
}

fn method(namespace: &JsValue, name: &str) -> Option<Function> {
    Reflect::get(namespace, &name.into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
}

impl KvStore {
    /// Wraps `namespace`; `config` is the provider config: empty or `{"prefix": "..."}`.
    pub(crate) fn new(namespace: JsValue, config: &str, clock: Arc<dyn Clock>) -> Result<Self> {
        let need = |name: &str| {
            method(&namespace, name).ok_or_else(|| {
                Error::bad_config(
                    "store",
                    format!("must be a KV namespace with a `{name}` method (get, put, delete)"),
                )
            })
        };
        let (get, put, delete) = (need("get")?, need("put")?, need("delete")?);
        Ok(KvStore {
            list: method(&namespace, "list"),
            prefix: parse_prefix(config)?,
            namespace,
            get,
            put,
            delete,
            clock,
        })
    }

    fn key(&self, id: &str) -> JsValue {
        format!("{}{id}", self.prefix).into()
    }

    /// Calls a store method with `this` bound to the namespace and awaits what it returns.
    async fn call(&self, name: &str, f: &Function, args: &Array) -> Result<JsValue> {
        let fail = |e: JsValue| Error::store("kv", format!("`{name}` failed: {}", describe(&e)));
        let returned = f.apply(&self.namespace, args).map_err(fail)?;
        JsFuture::from(Promise::resolve(&returned))
            .await
            .map_err(fail)
    }
}

fn parse_prefix(config: &str) -> Result<String> {
    if config.trim().is_empty() {
        return Ok(String::new());
    }
    let bad = || {
        Error::bad_config(
            "providerConfig",
            "the kv provider takes {\"prefix\": \"...\"}",
        )
    };
    let value: serde_json::Value = serde_json::from_str(config).map_err(|_| bad())?;
    let obj = value.as_object().ok_or_else(bad)?;
    match obj.get("prefix") {
        None => Ok(String::new()),
        Some(p) => p.as_str().map(str::to_owned).ok_or_else(bad),
    }
}

fn encode(record: &Record) -> Result<String> {
    let data = std::str::from_utf8(&record.data).map_err(|_| {
        Error::new(
            polysession_core::ErrorKind::BadInput,
            "payload is not UTF-8",
        )
    })?;
    Ok(format!(
        "{TAG}:{}:{}:{data}",
        record.version, record.expires_at_ms
    ))
}

/// `None` for anything this provider did not write: the manager then starts a fresh session.
fn decode(text: &str) -> Option<Record> {
    let mut parts = text.splitn(4, ':');
    if parts.next()? != TAG {
        return None;
    }
    let version = parts.next()?.parse().ok()?;
    let expires_at_ms = parts.next()?.parse().ok()?;
    Some(Record {
        data: parts.next()?.as_bytes().to_vec(),
        expires_at_ms,
        version,
    })
}

#[async_trait(?Send)]
impl Store for KvStore {
    fn name(&self) -> &str {
        "kv"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            native_ttl: true,
            compare_and_set: false,
            touch: false,
        }
    }

    async fn read(&self, id: &str) -> Result<Option<Record>> {
        let value = self
            .call("get", &self.get, &Array::of1(&self.key(id)))
            .await?;
        Ok(value.as_string().as_deref().and_then(decode))
    }

    async fn write(&self, id: &str, record: &Record, _expect: Expect) -> Result<bool> {
        let now = self.clock.now_ms();
        let ttl = record.expires_at_ms.saturating_sub(now).div_ceil(1000);
        let options = Object::new();
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(
            &options,
            &"expirationTtl".into(),
            &JsValue::from_f64(ttl.max(MIN_TTL_SECS) as f64),
        );
        let args = Array::of3(&self.key(id), &encode(record)?.into(), &options);
        self.call("put", &self.put, &args).await?;
        Ok(true)
    }

    async fn destroy(&self, id: &str) -> Result<()> {
        self.call("delete", &self.delete, &Array::of1(&self.key(id)))
            .await?;
        Ok(())
    }

    /// Counts keys under the prefix with `list()`, page by page (Workers KV lists only live
    /// keys). Without `list`, counting is unsupported.
    async fn count(&self, _now_ms: u64) -> Result<u64> {
        let Some(list) = &self.list else {
            return Err(Error::new(
                polysession_core::ErrorKind::Unsupported,
                "the kv store has no list() method to count sessions with",
            ));
        };
        let mut total = 0u64;
        let mut cursor = JsValue::UNDEFINED;
        loop {
            let options = Object::new();
            let _ = Reflect::set(&options, &"prefix".into(), &self.prefix.as_str().into());
            if !cursor.is_undefined() {
                let _ = Reflect::set(&options, &"cursor".into(), &cursor);
            }
            let page = self.call("list", list, &Array::of1(&options)).await?;
            let field = |name: &str| Reflect::get(&page, &name.into()).unwrap_or_default();
            let keys = field("keys");
            let Some(keys) = keys.dyn_ref::<Array>() else {
                return Err(Error::store("kv", "`list` returned no `keys` array"));
            };
            total += u64::from(keys.length());
            cursor = field("cursor");
            if field("list_complete").as_bool() != Some(false) || cursor.as_string().is_none() {
                return Ok(total);
            }
        }
    }

    /// KV expires records itself (`expirationTtl`).
    async fn gc(&self, _now_ms: u64) -> Result<u64> {
        Ok(0)
    }
}

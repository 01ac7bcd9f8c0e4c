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

#[cfg(test)]
mod tests {
    use super::*;
    use polysession_core::ManualClock;
    use wasm_bindgen_test::wasm_bindgen_test;

    /// A KV over a Map that records the options of every `put` and lists 2 keys per page.
    fn namespace(fail: bool) -> JsValue {
        let source = format!(
            "const m = new Map(); const puts = []; const fail = {fail};
             const check = (op) => {{ if (fail) throw new Error(op + ' went wrong'); }};
             return {{ m, puts,
               async get(k) {{ check('get'); return m.has(k) ? m.get(k) : null; }},
               async put(k, v, o) {{ check('put'); puts.push(o.expirationTtl); m.set(k, v); }},
               async delete(k) {{ check('delete'); m.delete(k); }},
               async list({{ prefix, cursor }}) {{
                 const names = [...m.keys()].filter((k) => k.startsWith(prefix)).sort();
                 const start = cursor ? Number(cursor) : 0;
                 const done = start + 2 >= names.length;
                 return {{ keys: names.slice(start, start + 2).map((name) => ({{ name }})),
                          list_complete: done, cursor: done ? undefined : String(start + 2) }};
               }} }};"
        );
        js_sys::Function::new_no_args(&source)
            .call0(&JsValue::UNDEFINED)
            .unwrap()
    }

    fn store(ns: &JsValue, config: &str) -> KvStore {
        #[allow(clippy::arc_with_non_send_sync)]
        let clock = Arc::new(ManualClock::new(1_000_000));
        KvStore::new(ns.clone(), config, clock).unwrap()
    }

    fn record(version: u64, expires_at_ms: u64) -> Record {
        Record {
            data: br#"{"v":1,"created":1,"data":{"a":":"}}"#.to_vec(),
            expires_at_ms,
            version,
        }
    }

    #[wasm_bindgen_test]
    async fn crud_ttl_and_prefix() {
        let ns = namespace(false);
        let kv = store(&ns, r#"{"prefix":"s:"}"#);
        assert_eq!(kv.read("a").await.unwrap(), None);
        assert!(kv
            .write("a", &record(3, 1_000_000 + 90_500), Expect::Absent)
            .await
            .unwrap());
        assert_eq!(
            kv.read("a").await.unwrap(),
            Some(record(3, 1_000_000 + 90_500))
        );
        // TTLs are whole seconds, rounded up, and at least Workers KV's 60.
        kv.write("b", &record(1, 1_000_000 + 5_000), Expect::Any)
            .await
            .unwrap();
        let puts: Vec<f64> = js_sys::Array::from(&Reflect::get(&ns, &"puts".into()).unwrap())
            .iter()
            .filter_map(|v| v.as_f64())
            .collect();
        assert_eq!(puts, vec![91.0, 60.0]);
        let map: js_sys::Map = Reflect::get(&ns, &"m".into()).unwrap().unchecked_into();
        assert!(map.has(&"s:a".into()));
        assert!(kv.regenerate("a", "c").await.unwrap());
        assert_eq!(kv.read("a").await.unwrap(), None);
        assert_eq!(kv.read("c").await.unwrap().unwrap().version, 3);
        assert!(!kv.regenerate("gone", "d").await.unwrap());
        kv.write("e", &record(1, 2_000_000), Expect::Absent)
            .await
            .unwrap();
        map.set(&"other".into(), &"not ours".into());
        assert_eq!(
            kv.count(0).await.unwrap(),
            3,
            "paged through list(), prefix only"
        );
        kv.destroy("c").await.unwrap();
        assert_eq!(kv.read("c").await.unwrap(), None);
        assert_eq!(kv.gc(0).await.unwrap(), 0);
    }

    #[wasm_bindgen_test]
    async fn failures_name_the_method() {
        let kv = store(&namespace(true), "");
        let err = kv.read("a").await.unwrap_err();
        assert_eq!(err.code(), "STORE_UNAVAILABLE");
        assert!(
            err.to_string().contains("`get` failed: get went wrong"),
            "{err}"
        );
        let err = kv.write("a", &record(1, 1), Expect::Any).await.unwrap_err();
        assert!(err.to_string().contains("put went wrong"), "{err}");
    }

    #[wasm_bindgen_test]
    fn bad_namespaces_and_configs() {
        let clock: Arc<dyn Clock> = {
            #[allow(clippy::arc_with_non_send_sync)]
            let c = Arc::new(ManualClock::new(0));
            c
        };
        let ns = namespace(false);
        for config in ["[]", r#"{"prefix":1}"#, "{"] {
            let err = KvStore::new(ns.clone(), config, clock.clone())
                .err()
                .unwrap();
            assert_eq!(err.code(), "BAD_CONFIG", "{config}");
        }
        let partial = js_sys::Function::new_no_args("return { get() {}, put() {} };")
            .call0(&JsValue::UNDEFINED)
            .unwrap();
        for bad in [partial, JsValue::from(5), JsValue::NULL] {
            let err = KvStore::new(bad, "", clock.clone()).err().unwrap();
            assert!(err.to_string().contains("`store`"), "{err}");
        }
    }

    #[wasm_bindgen_test]
    fn the_stored_text_round_trips_and_junk_is_no_record() {
        let r = record(7, 123);
        assert_eq!(decode(&encode(&r).unwrap()), Some(r));
        for junk in [
            "",
            "ps1",
            "ps1:1:2",
            "ps1:x:2:{}",
            "ps1:1:-2:{}",
            "ps2:1:2:{}",
            "{}",
        ] {
            assert_eq!(decode(junk), None, "{junk}");
        }
    }
}

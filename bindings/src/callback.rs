//! A [`Store`] over a host's own storage object: [`CallbackStore`] over a [`HostStore`].
//!
//! A host (a Workers KV namespace in wasm, a JS object in Node, a Python object) implements
//! four small text methods; this store adds everything else, once for every host:
//!
//! - **the record text** `ps1:<version>:<expires ms>:<payload JSON>` (see
//!   `docs/wire-format.md`); anything else read back is "no session";
//! - **the TTL rules**: whole seconds, rounded up, never below the host's minimum (Workers KV
//!   refuses less than 60); the manager checks expiry on every read, so a longer TTL never
//!   keeps a session alive;
//! - **the key prefix** (`{"prefix": "sess:"}` as provider config) and **paged counting**
//!   over `list`, which stops with an error when a host never reports the end;
//! - **a timeout on every call** when the host gives a [`Timer`] (`{"timeout_ms": N}`, 5000 by
//!   default): a promise that never settles is `STORE_UNAVAILABLE`, not a request that hangs
//!   holding the session's write lock;
//! - **compare-and-set** when the host has a conditional put: the current text is read, its
//!   version checked, and the put made only if that text is still there;
//! - **read-your-writes over an eventually consistent host** (Workers KV): with a
//!   [consistency window](CallbackStore::consistency_window), the store remembers what this
//!   process wrote and deleted for that long, and a stale read never shows an older version
//!   of a session it wrote, or a session it destroyed. So a late release or a due touch
//!   cannot undo a logout made in this process; across processes, only compare-and-set can
//!   close that window.

use polysession_core::{
    async_trait, Capabilities, Clock, Error, ErrorKind, Expect, MaybeSend, MaybeSync, Record,
    Result, Store,
};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

/// The tag that starts every record text this store writes.
pub const RECORD_TAG: &str = "ps1";

/// `list` pages a count may read before it gives up (10 million keys at 100 a page).
pub const MAX_LIST_PAGES: usize = 100_000;

/// How many recent writes and deletes a store with a consistency window remembers; the
/// oldest are forgotten first.
pub const MAX_RECENT: usize = 10_000;

/// How long a host store call may take when the host gives a [`Timer`], by default.
pub const DEFAULT_TIMEOUT_MS: u64 = 5000;

/// A future that completes after a while, from the host's timer.
#[cfg(not(target_arch = "wasm32"))]
pub type Sleep = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;
/// A future that completes after a while, from the host's timer.
#[cfg(target_arch = "wasm32")]
pub type Sleep = std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>;

/// The host's timer, which bounds every call into its store (`setTimeout`, a runtime's sleep).
pub trait Timer: MaybeSend + MaybeSync {
    /// A future that completes after `ms` milliseconds.
    fn sleep(&self, ms: u64) -> Sleep;
}

/// A failure reported by a host store method: what the host said (an exception's message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostError(pub String);

impl std::fmt::Display for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One page of keys from [`HostStore::list`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPage {
    /// How many keys the page holds.
    pub keys: u64,
    /// Where the next page starts; `None` when this was the last page.
    pub cursor: Option<String>,
}

/// The storage methods a host implements over its own object; every value is text.
///
/// Keys arrive with the store's prefix; values are opaque to the host. Methods fail with a
/// [`HostError`], which the store reports as `STORE_UNAVAILABLE` naming the method.
///
/// ```
/// use polysession_bindings::{HostError, HostStore};
/// use polysession_core::async_trait;
/// use std::{collections::HashMap, sync::Mutex};
///
/// #[derive(Default)]
/// struct Map(Mutex<HashMap<String, String>>);
///
/// #[cfg_attr(not(target_arch = "wasm32"), async_trait)]
/// #[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
/// impl HostStore for Map {
///     async fn get(&self, key: &str) -> Result<Option<String>, HostError> {
///         Ok(self.0.lock().unwrap().get(key).cloned())
///     }
///     async fn put(&self, key: &str, value: &str, _ttl_secs: u64) -> Result<(), HostError> {
///         self.0.lock().unwrap().insert(key.into(), value.into());
///         Ok(())
///     }
///     async fn delete(&self, key: &str) -> Result<(), HostError> {
///         self.0.lock().unwrap().remove(key);
///         Ok(())
///     }
/// }
/// ```
#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
pub trait HostStore: MaybeSend + MaybeSync {
    /// The text under `key`, or `None`.
    ///
    /// # Errors
    /// What the host reports.
    async fn get(&self, key: &str) -> Result<Option<String>, HostError>;

    /// Stores `value` under `key`, to expire after `ttl_secs` seconds.
    ///
    /// # Errors
    /// What the host reports.
    async fn put(&self, key: &str, value: &str, ttl_secs: u64) -> Result<(), HostError>;

    /// Removes `key`; a missing key is not an error.
    ///
    /// # Errors
    /// What the host reports.
    async fn delete(&self, key: &str) -> Result<(), HostError>;

    /// Whether [`list`](HostStore::list) works (it makes `count` possible).
    fn can_list(&self) -> bool {
        false
    }

    /// One page of the keys starting with `prefix`, from `cursor` (`None`: the first page).
    ///
    /// # Errors
    /// What the host reports; by default, that listing is not supported.
    async fn list(&self, prefix: &str, cursor: Option<&str>) -> Result<ListPage, HostError> {
        let _ = (prefix, cursor);
        Err(HostError("listing is not supported".into()))
    }

    /// Whether [`put_if`](HostStore::put_if) works: the host has compare-and-set.
    fn can_put_if(&self) -> bool {
        false
    }

    /// Stores `value` only if the text under `key` is exactly `current` (`None`: absent),
    /// atomically. Returns whether it stored.
    ///
    /// # Errors
    /// What the host reports; by default, that conditional puts are not supported.
    async fn put_if(
        &self,
        key: &str,
        value: &str,
        ttl_secs: u64,
        current: Option<&str>,
    ) -> Result<bool, HostError> {
        let _ = (key, value, ttl_secs, current);
        Err(HostError("conditional put is not supported".into()))
    }
}

/// A [`Store`] over a [`HostStore`]: see the [module docs](self).
///
/// ```
/// # futures_executor::block_on(async {
/// use polysession_bindings::CallbackStore;
/// use polysession_core::{Expect, ManualClock, Record, Store};
/// use std::sync::Arc;
/// # use polysession_bindings::{HostError, HostStore};
/// # use polysession_core::async_trait;
/// # #[derive(Default)] struct Map(std::sync::Mutex<std::collections::HashMap<String, String>>);
/// # #[async_trait] impl HostStore for Map {
/// #   async fn get(&self, k: &str) -> Result<Option<String>, HostError> { Ok(self.0.lock().unwrap().get(k).cloned()) }
/// #   async fn put(&self, k: &str, v: &str, _: u64) -> Result<(), HostError> { self.0.lock().unwrap().insert(k.into(), v.into()); Ok(()) }
/// #   async fn delete(&self, k: &str) -> Result<(), HostError> { self.0.lock().unwrap().remove(k); Ok(()) }
/// # }
/// let clock = Arc::new(ManualClock::new(1_000));
/// let store = CallbackStore::new(Map::default(), "kv", r#"{"prefix":"s:"}"#, clock).unwrap();
/// let record = Record { data: br#"{"v":1,"created":1,"data":{}}"#.to_vec(), expires_at_ms: 61_000, version: 1 };
/// store.write("abc", &record, Expect::Absent).await.unwrap();
/// assert_eq!(store.host().0.lock().unwrap()["s:abc"], r#"ps1:1:61000:{"v":1,"created":1,"data":{}}"#);
/// assert_eq!(store.read("abc").await.unwrap(), Some(record));
/// # });
/// ```
pub struct CallbackStore<H> {
    host: H,
    name: String,
    prefix: String,
    timeout_ms: u64,
    timer: Option<Arc<dyn Timer>>,
    min_ttl_secs: u64,
    clock: Arc<dyn Clock>,
    window_ms: u64,
    recent: Mutex<Recent>,
}

/// What this process wrote (`Some(text)`) or deleted (`None`) lately, by key, oldest first.
#[derive(Default)]
struct Recent {
    by_key: HashMap<String, (u64, Option<String>)>,
    order: VecDeque<(String, u64)>,
}

impl<H: HostStore> CallbackStore<H> {
    /// A store named `name` (in error messages) over `host`. `provider_config` is empty or
    /// `{"prefix": "..."}`; `clock` gives the TTLs.
    ///
    /// # Errors
    /// [`BadConfig`](ErrorKind::BadConfig) for another provider config.
    pub fn new(host: H, name: &str, provider_config: &str, clock: Arc<dyn Clock>) -> Result<Self> {
        let (prefix, timeout_ms) = parse_config(name, provider_config)?;
        Ok(CallbackStore {
            host,
            name: name.to_owned(),
            prefix,
            timeout_ms,
            timer: None,
            min_ttl_secs: 1,
            clock,
            window_ms: 0,
            recent: Mutex::new(Recent::default()),
        })
    }

    /// Declares the host eventually consistent for `ms` milliseconds (Workers KV: 60 s):
    /// reads then see this process's own writes and deletes of that long ago (see the
    /// [module docs](self)). 0, the default, trusts every read.
    pub fn consistency_window(mut self, ms: u64) -> Self {
        self.window_ms = ms;
        self
    }

    fn recent(&self) -> MutexGuard<'_, Recent> {
        self.recent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Remembers that `key` now holds `text` (`None`: deleted).
    fn remember(&self, key: &str, text: Option<&str>) {
        if self.window_ms == 0 {
            return;
        }
        let now = self.clock.now_ms();
        let mut recent = self.recent();
        let Recent { by_key, order } = &mut *recent;
        by_key.insert(key.to_owned(), (now, text.map(str::to_owned)));
        order.push_back((key.to_owned(), now));
        while let Some((old, at)) = order.front() {
            if order.len() <= MAX_RECENT && now.saturating_sub(*at) < self.window_ms {
                break;
            }
            if by_key.get(old).is_some_and(|(t, _)| t == at) {
                by_key.remove(old);
            }
            order.pop_front();
        }
    }

    /// What a read of `key` shows: the host's `text`, unless this process wrote a newer
    /// version or deleted the key within the window.
    fn reconcile(&self, key: &str, text: Option<String>) -> Option<String> {
        if self.window_ms == 0 {
            return text;
        }
        let recent = self.recent();
        let Some((at, mine)) = recent.by_key.get(key) else {
            return text;
        };
        if self.clock.now_ms().saturating_sub(*at) >= self.window_ms {
            return text;
        }
        // Deleted here: gone, whatever a stale read says.
        let mine = mine.as_ref()?;
        let version = |t: &str| decode_record(t).map(|r| r.version);
        match (text.as_deref().and_then(version), version(mine)) {
            (Some(theirs), Some(ours)) if theirs >= ours => text,
            _ => Some(mine.clone()),
        }
    }

    /// Bounds every call into the host by the provider config's `timeout_ms` on `timer`.
    pub fn timer(mut self, timer: Arc<dyn Timer>) -> Self {
        self.timer = Some(timer);
        self
    }

    /// Runs a host call under the timeout (when there is a timer); failures name `method`.
    async fn timed<T>(
        &self,
        method: &str,
        call: impl std::future::Future<Output = Result<T, HostError>>,
    ) -> Result<T> {
        let result = match &self.timer {
            None => call.await,
            Some(timer) => {
                let call = std::pin::pin!(call);
                match futures_util::future::select(call, timer.sleep(self.timeout_ms)).await {
                    futures_util::future::Either::Left((result, _)) => result,
                    futures_util::future::Either::Right(((), _)) => Err(HostError(format!(
                        "no answer within {} ms",
                        self.timeout_ms
                    ))),
                }
            }
        };
        result.map_err(self.fail(method))
    }

    /// Never asks the host for a TTL below `secs` (Workers KV: 60).
    pub fn min_ttl(mut self, secs: u64) -> Self {
        self.min_ttl_secs = secs.max(1);
        self
    }

    /// The host object.
    pub fn host(&self) -> &H {
        &self.host
    }

    fn key(&self, id: &str) -> String {
        format!("{}{id}", self.prefix)
    }

    fn fail(&self, method: &str) -> impl Fn(HostError) -> Error + '_ {
        let name = self.name.clone();
        let method = method.to_owned();
        move |e| Error::store(&name, format!("`{method}` failed: {e}"))
    }

    fn ttl(&self, expires_at_ms: u64) -> u64 {
        let left = expires_at_ms.saturating_sub(self.clock.now_ms());
        left.div_ceil(1000).max(self.min_ttl_secs)
    }
}

/// The provider config: empty, or `{"prefix": "...", "timeout_ms": N}`.
fn parse_config(name: &str, config: &str) -> Result<(String, u64)> {
    if config.trim().is_empty() {
        return Ok((String::new(), DEFAULT_TIMEOUT_MS));
    }
    let bad = || {
        Error::bad_config(
            "providerConfig",
            format!("the {name} provider takes {{\"prefix\": \"...\", \"timeout_ms\": N}}"),
        )
    };
    let value: serde_json::Value = serde_json::from_str(config).map_err(|_| bad())?;
    let obj = value.as_object().ok_or_else(bad)?;
    let prefix = match obj.get("prefix") {
        None => String::new(),
        Some(p) => p.as_str().map(str::to_owned).ok_or_else(bad)?,
    };
    let timeout_ms = match obj.get("timeout_ms") {
        None => DEFAULT_TIMEOUT_MS,
        Some(t) => t.as_u64().filter(|t| *t > 0).ok_or_else(bad)?,
    };
    Ok((prefix, timeout_ms))
}

/// The stored text of `record`: `ps1:<version>:<expires ms>:<payload>`.
///
/// # Errors
/// [`BadInput`](ErrorKind::BadInput) when the payload is not UTF-8 (core's never is).
pub fn encode_record(record: &Record) -> Result<String> {
    let data = std::str::from_utf8(&record.data)
        .map_err(|_| Error::new(ErrorKind::BadInput, "session payload is not UTF-8"))?;
    Ok(format!(
        "{RECORD_TAG}:{}:{}:{data}",
        record.version, record.expires_at_ms
    ))
}

/// The record in a stored text, or `None` for anything [`encode_record`] did not write.
pub fn decode_record(text: &str) -> Option<Record> {
    let mut parts = text.splitn(4, ':');
    if parts.next()? != RECORD_TAG {
        return None;
    }
    let version = canonical_u64(parts.next()?)?;
    let expires_at_ms = canonical_u64(parts.next()?)?;
    Some(Record {
        data: parts.next()?.as_bytes().to_vec(),
        expires_at_ms,
        version,
    })
}

/// A u64 as writers write it: decimal digits, no sign, no leading zero (but `0` itself).
/// (`str::parse` already refuses everything else but a leading `+`.)
fn canonical_u64(text: &str) -> Option<u64> {
    if text.len() > 1 && text.starts_with(['+', '0']) {
        return None;
    }
    text.parse().ok()
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
impl<H: HostStore> Store for CallbackStore<H> {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            native_ttl: true,
            compare_and_set: self.host.can_put_if(),
            touch: false,
        }
    }

    async fn read(&self, id: &str) -> Result<Option<Record>> {
        let key = self.key(id);
        let text = self.timed("get", self.host.get(&key)).await?;
        Ok(self
            .reconcile(&key, text)
            .as_deref()
            .and_then(decode_record))
    }

    async fn write(&self, id: &str, record: &Record, expect: Expect) -> Result<bool> {
        let key = self.key(id);
        let (text, ttl) = (encode_record(record)?, self.ttl(record.expires_at_ms));
        let stored = if !self.host.can_put_if() || expect == Expect::Any {
            self.timed("put", self.host.put(&key, &text, ttl)).await?;
            true
        } else {
            let current = match expect {
                Expect::Version(v) => {
                    let current = self.timed("get", self.host.get(&key)).await?;
                    let current = self.reconcile(&key, current);
                    match current {
                        Some(c) if decode_record(&c).is_some_and(|r| r.version == v) => Some(c),
                        _ => return Ok(false),
                    }
                }
                _ => None,
            };
            let put_if = self.host.put_if(&key, &text, ttl, current.as_deref());
            self.timed("put_if", put_if).await?
        };
        if stored {
            self.remember(&key, Some(&text));
        }
        Ok(stored)
    }

    async fn destroy(&self, id: &str) -> Result<()> {
        let key = self.key(id);
        self.timed("delete", self.host.delete(&key)).await?;
        self.remember(&key, None);
        Ok(())
    }

    /// Counts the keys under the prefix page by page (hosts list live keys only).
    async fn count(&self, _now_ms: u64) -> Result<u64> {
        if !self.host.can_list() {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "the {} store has no list() to count sessions with",
                    self.name
                ),
            ));
        }
        let mut total = 0u64;
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_LIST_PAGES {
            let list = self.host.list(&self.prefix, cursor.as_deref());
            let page = self.timed("list", list).await?;
            total += page.keys;
            match page.cursor {
                None => return Ok(total),
                Some(next) if cursor.as_ref() == Some(&next) => {
                    return Err(self.fail("list")(HostError(format!(
                        "it returned the cursor `{next}` twice"
                    ))))
                }
                next => cursor = next,
            }
        }
        Err(self.fail("list")(HostError(format!(
            "it did not reach the last page in {MAX_LIST_PAGES} pages"
        ))))
    }

    /// Host stores expire records themselves (the TTL of every put).
    async fn gc(&self, _now_ms: u64) -> Result<u64> {
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_executor::block_on;
    use polysession_core::ManualClock;
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    /// A map host that records TTLs, lists `page` keys at a time and can fail or loop.
    #[derive(Default)]
    struct Host {
        map: Mutex<BTreeMap<String, String>>,
        ttls: Mutex<Vec<u64>>,
        cas: bool,
        page: usize,
        stuck_cursor: bool,
        failing: bool,
    }

    impl Host {
        fn check(&self, op: &str) -> Result<(), HostError> {
            if self.failing {
                return Err(HostError(format!("{op} went wrong")));
            }
            Ok(())
        }
    }

    #[async_trait]
    impl HostStore for Host {
        async fn get(&self, key: &str) -> Result<Option<String>, HostError> {
            self.check("get")?;
            Ok(self.map.lock().unwrap().get(key).cloned())
        }
        async fn put(&self, key: &str, value: &str, ttl: u64) -> Result<(), HostError> {
            self.check("put")?;
            self.ttls.lock().unwrap().push(ttl);
            self.map.lock().unwrap().insert(key.into(), value.into());
            Ok(())
        }
        async fn delete(&self, key: &str) -> Result<(), HostError> {
            self.check("delete")?;
            self.map.lock().unwrap().remove(key);
            Ok(())
        }
        fn can_list(&self) -> bool {
            self.page > 0
        }
        async fn list(&self, prefix: &str, cursor: Option<&str>) -> Result<ListPage, HostError> {
            self.check("list")?;
            let names: Vec<_> = self
                .map
                .lock()
                .unwrap()
                .keys()
                .filter(|k| k.starts_with(prefix))
                .cloned()
                .collect();
            let start: usize = cursor.map_or(0, |c| c.parse().unwrap());
            let end = (start + self.page).min(names.len());
            let next = if self.stuck_cursor {
                Some("0".to_owned())
            } else {
                (end < names.len()).then(|| end.to_string())
            };
            Ok(ListPage {
                keys: (end - start) as u64,
                cursor: next,
            })
        }
        fn can_put_if(&self) -> bool {
            self.cas
        }
        async fn put_if(
            &self,
            key: &str,
            value: &str,
            ttl: u64,
            current: Option<&str>,
        ) -> Result<bool, HostError> {
            let mut map = self.map.lock().unwrap();
            if map.get(key).map(String::as_str) != current {
                return Ok(false);
            }
            self.ttls.lock().unwrap().push(ttl);
            map.insert(key.into(), value.into());
            Ok(true)
        }
    }

    const NOW: u64 = 1_000_000;

    fn store(host: Host, config: &str) -> CallbackStore<Host> {
        CallbackStore::new(host, "kv", config, Arc::new(ManualClock::new(NOW))).unwrap()
    }

    fn record(version: u64, expires_at_ms: u64) -> Record {
        Record {
            data: br#"{"v":1,"created":1,"data":{"a":":"}}"#.to_vec(),
            expires_at_ms,
            version,
        }
    }

    #[test]
    fn text_ttl_and_prefix() {
        let kv = store(Host::default(), r#"{"prefix":"s:"}"#).min_ttl(60);
        block_on(async {
            assert_eq!(kv.read("a").await.unwrap(), None);
            assert!(kv
                .write("a", &record(3, NOW + 90_500), Expect::Absent)
                .await
                .unwrap());
            assert_eq!(kv.read("a").await.unwrap(), Some(record(3, NOW + 90_500)));
            kv.write("b", &record(1, NOW + 5_000), Expect::Any)
                .await
                .unwrap();
            kv.write("c", &record(1, 0), Expect::Any).await.unwrap();
            // Whole seconds, rounded up, never below the minimum.
            assert_eq!(*kv.host().ttls.lock().unwrap(), vec![91, 60, 60]);
            assert!(kv.host().map.lock().unwrap().contains_key("s:a"));
            assert!(kv.regenerate("a", "d").await.unwrap());
            assert_eq!(kv.read("a").await.unwrap(), None);
            assert_eq!(kv.read("d").await.unwrap().unwrap().version, 3);
            kv.destroy("d").await.unwrap();
            assert_eq!(kv.read("d").await.unwrap(), None);
            assert_eq!(kv.gc(0).await.unwrap(), 0);
            let caps = kv.capabilities();
            assert!(caps.native_ttl && !caps.compare_and_set && !caps.touch);
        });
        let text = encode_record(&record(7, 123)).unwrap();
        assert_eq!(text, r#"ps1:7:123:{"v":1,"created":1,"data":{"a":":"}}"#);
        assert_eq!(decode_record(&text), Some(record(7, 123)));
        assert_eq!(
            decode_record("ps1:0:0:{}").map(|r| (r.version, r.expires_at_ms)),
            Some((0, 0))
        );
        for junk in [
            "",
            "ps1",
            "ps1:1:2",
            "ps1:x:2:{}",
            "ps1:1:-2:{}",
            "ps2:1:2:{}",
            "{}",
            "ps1:+7:2:{}",
            "ps1:007:2:{}",
            "ps1:7:02:{}",
            "ps1: 7:2:{}",
        ] {
            assert_eq!(decode_record(junk), None, "{junk}");
        }
    }

    /// The `kv` cases of `tests/vectors/records.json` (docs/wire-format.md): the text decodes
    /// to the record or is no session, the record encodes to the text, and the TTLs.
    #[test]
    fn record_text_vectors() {
        let all: Vec<serde_json::Value> =
            serde_json::from_str(include_str!("../../tests/vectors/records.json")).unwrap();
        let cases: Vec<_> = all.iter().filter(|c| c["format"] == "kv").collect();
        assert!(cases.len() >= 10);
        for case in cases {
            let name = case["name"].as_str().unwrap();
            let text = case["text"].as_str().unwrap();
            let want = case["record"].as_object().map(|r| Record {
                data: r["data"].as_str().unwrap().as_bytes().to_vec(),
                expires_at_ms: r["expires_at_ms"].as_u64().unwrap(),
                version: r["version"].as_u64().unwrap(),
            });
            assert_eq!(decode_record(text), want, "{name}");
            let Some(record) = want else { continue };
            if case["canonical"] == true {
                assert_eq!(encode_record(&record).unwrap(), text, "{name}");
            }
            for ttl in case
                .get("ttl")
                .and_then(|t| t.as_array())
                .into_iter()
                .flatten()
            {
                let clock = Arc::new(ManualClock::new(ttl["now_ms"].as_u64().unwrap()));
                let kv = CallbackStore::new(Host::default(), "kv", "", clock)
                    .unwrap()
                    .min_ttl(ttl["min_ttl_secs"].as_u64().unwrap());
                let got = kv.ttl(record.expires_at_ms);
                assert_eq!(Some(got), ttl["ttl_secs"].as_u64(), "{name}: {ttl}");
            }
        }
    }

    #[test]
    fn compare_and_set_through_put_if() {
        let kv = store(
            Host {
                cas: true,
                ..Host::default()
            },
            "",
        );
        assert!(kv.capabilities().compare_and_set);
        block_on(async {
            assert!(kv
                .write("a", &record(1, NOW + 1), Expect::Absent)
                .await
                .unwrap());
            assert!(!kv
                .write("a", &record(1, NOW + 1), Expect::Absent)
                .await
                .unwrap());
            assert!(kv
                .write("a", &record(2, NOW + 1), Expect::Version(1))
                .await
                .unwrap());
            assert!(!kv
                .write("a", &record(3, NOW + 1), Expect::Version(1))
                .await
                .unwrap());
            assert!(!kv
                .write("zz", &record(3, NOW + 1), Expect::Version(1))
                .await
                .unwrap());
            assert!(kv
                .write("a", &record(9, NOW + 1), Expect::Any)
                .await
                .unwrap());
            assert_eq!(kv.read("a").await.unwrap().unwrap().version, 9);
        });
    }

    #[test]
    fn paged_count_and_hosts_that_never_finish() {
        let kv = store(
            Host {
                page: 2,
                ..Host::default()
            },
            r#"{"prefix":"p:"}"#,
        );
        block_on(async {
            for id in ["a", "b", "c", "d", "e"] {
                kv.write(id, &record(1, NOW + 1), Expect::Any)
                    .await
                    .unwrap();
            }
            kv.host()
                .map
                .lock()
                .unwrap()
                .insert("other".into(), "x".into());
            assert_eq!(kv.count(0).await.unwrap(), 5);
        });
        let stuck = store(
            Host {
                page: 1,
                stuck_cursor: true,
                ..Host::default()
            },
            "",
        );
        let err = block_on(stuck.count(0)).unwrap_err();
        assert_eq!(err.code(), "STORE_UNAVAILABLE");
        assert!(err.to_string().contains("twice"), "{err}");
        let none = block_on(store(Host::default(), "").count(0)).unwrap_err();
        assert_eq!(none.code(), "UNSUPPORTED");
    }

    /// A timer whose sleeps are over at once.
    struct Elapsed;

    impl Timer for Elapsed {
        fn sleep(&self, _ms: u64) -> Sleep {
            Box::pin(std::future::ready(()))
        }
    }

    /// A host whose calls never answer.
    struct Silent;

    #[async_trait]
    impl HostStore for Silent {
        async fn get(&self, _: &str) -> Result<Option<String>, HostError> {
            std::future::pending().await
        }
        async fn put(&self, _: &str, _: &str, _: u64) -> Result<(), HostError> {
            std::future::pending().await
        }
        async fn delete(&self, _: &str) -> Result<(), HostError> {
            std::future::pending().await
        }
    }

    #[test]
    fn a_host_that_never_answers_times_out() {
        let clock = Arc::new(ManualClock::new(NOW));
        let kv = CallbackStore::new(Silent, "kv", r#"{"timeout_ms": 250}"#, clock.clone())
            .unwrap()
            .timer(Arc::new(Elapsed));
        let err = block_on(kv.read("a")).unwrap_err();
        assert_eq!(err.code(), "STORE_UNAVAILABLE");
        assert!(
            err.to_string()
                .contains("`get` failed: no answer within 250 ms"),
            "{err}"
        );
        let err = block_on(kv.write("a", &record(1, NOW + 1), Expect::Any)).unwrap_err();
        assert!(err.to_string().contains("`put` failed"), "{err}");
        // A host that answers wins the race against the timer.
        let fast = store(Host::default(), "").timer(Arc::new(Elapsed));
        assert_eq!(block_on(fast.read("a")).unwrap(), None);
        for bad in [r#"{"timeout_ms": 0}"#, r#"{"timeout_ms": "5"}"#] {
            let err = CallbackStore::new(Silent, "kv", bad, clock.clone())
                .err()
                .unwrap();
            assert_eq!(err.code(), "BAD_CONFIG", "{bad}");
        }
    }

    #[test]
    fn failures_name_the_store_and_method() {
        let kv = store(
            Host {
                failing: true,
                ..Host::default()
            },
            "",
        );
        let err = block_on(kv.read("a")).unwrap_err();
        assert_eq!(err.code(), "STORE_UNAVAILABLE");
        assert!(
            err.to_string()
                .contains("`kv` unavailable: `get` failed: get went wrong"),
            "{err}"
        );
        let err = block_on(kv.write("a", &record(1, 1), Expect::Any)).unwrap_err();
        assert!(err.to_string().contains("`put` failed"), "{err}");
        for config in ["[]", r#"{"prefix":1}"#, "{"] {
            let err =
                CallbackStore::new(Host::default(), "kv", config, Arc::new(ManualClock::new(0)))
                    .err()
                    .unwrap();
            assert_eq!(err.code(), "BAD_CONFIG", "{config}");
        }
    }
}

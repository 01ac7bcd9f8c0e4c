//! JS stores: the host kit's [`CallbackStore`] over four JS functions. The package's JS layer
//! turns every store a user gives (a KV-shaped object, an express-session `Store`) into this
//! one shape, with async functions; only the call across threads is here.

use napi::bindgen_prelude::{FnArgs, FromNapiValue, JsValuesTupleIntoVec, Promise};
use napi::threadsafe_function::ThreadsafeFunction;
use napi::Status;
use napi_derive::napi;
use polysession_bindings::{HostError, HostStore, ListPage};
use polysession_core::async_trait;

/// A JS function called from the runtime's threads; it returns a promise. Weak: it does not
/// keep Node alive.
type Tsfn<A, R> = ThreadsafeFunction<A, Promise<R>, A, Status, false, true>;
/// `list(prefix, cursor)`.
type ListFn = Tsfn<FnArgs<(String, Option<String>)>, KeyPage>;

/// One page of keys as the JS layer reports it.
#[napi(object)]
pub struct KeyPage {
    /// How many keys the page holds.
    pub keys: u32,
    /// The next page's cursor, or `null` at the end.
    pub cursor: Option<String>,
}

/// The normalized store: `get(key)`, `put(key, value, ttlSeconds)`, `delete(key)` and,
/// optionally, `list(prefix, cursor)`, all returning promises.
#[napi(object, object_to_js = false)]
pub struct JsStore {
    /// Resolves to the text under the key, or `null`.
    pub get: Tsfn<String, Option<String>>,
    /// Stores the text with a TTL in seconds.
    pub put: Tsfn<FnArgs<(String, String, u32)>, ()>,
    /// Removes the key.
    pub delete: Tsfn<String, ()>,
    /// One page of keys under a prefix.
    pub list: Option<ListFn>,
}

async fn call<A, R>(f: &Tsfn<A, R>, args: A) -> Result<R, HostError>
where
    A: 'static + JsValuesTupleIntoVec,
    R: 'static + FromNapiValue,
{
    let fail = |e: napi::Error| HostError(e.reason.clone());
    f.call_async_catch(args)
        .await
        .map_err(fail)?
        .await
        .map_err(fail)
}

#[async_trait]
impl HostStore for JsStore {
    async fn get(&self, key: &str) -> Result<Option<String>, HostError> {
        call(&self.get, key.to_owned()).await
    }

    async fn put(&self, key: &str, value: &str, ttl_secs: u64) -> Result<(), HostError> {
        let ttl = u32::try_from(ttl_secs).unwrap_or(u32::MAX);
        call(&self.put, (key.to_owned(), value.to_owned(), ttl).into()).await
    }

    async fn delete(&self, key: &str) -> Result<(), HostError> {
        call(&self.delete, key.to_owned()).await
    }

    fn can_list(&self) -> bool {
        self.list.is_some()
    }

    async fn list(&self, prefix: &str, cursor: Option<&str>) -> Result<ListPage, HostError> {
        let list = self
            .list
            .as_ref()
            .ok_or_else(|| HostError("no list()".into()))?;
        let page = call(list, (prefix.to_owned(), cursor.map(str::to_owned)).into()).await?;
        Ok(ListPage {
            keys: u64::from(page.keys),
            cursor: page.cursor,
        })
    }
}

//! The session object handed to JS by `Manager.start`: the host kit's [`Handle`] with JS
//! values.

use crate::error::{to_js, JsResult};
use crate::host::{from_js_value, to_js_value};
use js_sys::{Array, Promise};
use polysession_bindings::Handle;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

/// One request's session. Values are anything `JSON.stringify` accepts; they come back as
/// `JSON.parse` gives them.
#[wasm_bindgen]
pub struct Session {
    pub(crate) handle: Rc<Handle>,
    manager: polysession_core::Manager,
}

impl Session {
    pub(crate) fn new(
        session: polysession_core::Session,
        manager: polysession_core::Manager,
    ) -> Self {
        Session {
            handle: Rc::new(Handle::new(session)),
            manager,
        }
    }

    /// Runs `f` on the open session. No JS runs inside `f`.
    fn with<T>(&self, f: impl FnOnce(&mut polysession_core::Session) -> T) -> JsResult<T> {
        self.handle.with(f).map_err(to_js)
    }
}

#[wasm_bindgen]
impl Session {
    /// The session id (new sessions get one at once; it is sent only if something is set).
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> JsResult<String> {
        self.with(|s| s.id().to_owned())
    }

    /// Whether this session was created by this request.
    #[wasm_bindgen(getter, js_name = isNew)]
    pub fn is_new(&self) -> JsResult<bool> {
        self.with(|s| s.is_new())
    }

    /// Sets the lifetime of the cookie this response sends, in seconds (`0`: a
    /// browser-session cookie), in place of `cookieLifeTime`; for this request only. A session
    /// given one sends its cookie with every write. Throws `BAD_INPUT` for a negative number.
    #[wasm_bindgen(js_name = setCookieLifetime)]
    pub fn set_cookie_lifetime(&self, secs: f64) -> JsResult<()> {
        self.handle.set_cookie_lifetime(secs).map_err(to_js)
    }

    /// The value under `key`, or `undefined`.
    #[wasm_bindgen(unchecked_return_type = "unknown")]
    pub fn get(&self, key: &str) -> JsResult<JsValue> {
        match self.with(|s| s.get(key).cloned())? {
            Some(v) => to_js_value(&v),
            None => Ok(JsValue::UNDEFINED),
        }
    }

    /// Stores `value` under `key`. Throws `BAD_INPUT` for `undefined`, functions, `BigInt`
    /// or cycles.
    pub fn set(
        &self,
        key: &str,
        #[wasm_bindgen(unchecked_param_type = "unknown")] value: JsValue,
    ) -> JsResult<()> {
        // Converted before the session is borrowed: JSON.stringify may run user code.
        let value = from_js_value(key, &value)?;
        self.with(|s| s.set_value(key, value))?.map_err(to_js)
    }

    /// Removes `key`; returns whether it was there.
    pub fn delete(&self, key: &str) -> JsResult<bool> {
        self.with(|s| s.delete(key).is_some())
    }

    /// Removes every key.
    pub fn flush(&self) -> JsResult<()> {
        self.with(|s| s.flush())
    }

    /// The keys, in order.
    #[wasm_bindgen(unchecked_return_type = "string[]")]
    pub fn keys(&self) -> JsResult<Array> {
        self.with(|s| s.keys().map(JsValue::from).collect())
    }

    /// Adds a flash message under `level` (`success`, `notice`, `warning`, `error`, ...).
    pub fn flash(&self, level: &str, message: &str) -> JsResult<()> {
        self.with(|s| s.flash(level, message))
    }

    /// The pending flash messages by level (`{ notice: ["saved"] }`), removed as they are read.
    #[wasm_bindgen(js_name = takeFlash, unchecked_return_type = "Record<string, string[]>")]
    pub fn take_flash(&self) -> JsResult<JsValue> {
        let flashes = self.with(|s| s.take_flash())?;
        to_js_value(&serde_json::to_value(flashes).unwrap_or_default())
    }

    /// All values as a plain object.
    #[wasm_bindgen(js_name = toJSON, unchecked_return_type = "Record<string, unknown>")]
    pub fn to_json(&self) -> JsResult<JsValue> {
        let data = self.with(|s| s.data().clone())?;
        to_js_value(&serde_json::Value::Object(data))
    }

    /// Gives the session a new id, keeping its data; the old id stops working. Call it at
    /// login. Rejects with `STORE_UNAVAILABLE` when the store fails.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn regenerate(&self) -> Promise {
        let (handle, manager) = (self.handle.clone(), self.manager.clone());
        future_to_promise(async move {
            handle.regenerate(&manager).await.map_err(to_js)?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Deletes the session; commit removes the cookie. Values set afterwards start a new one.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn destroy(&self) -> Promise {
        let (handle, manager) = (self.handle.clone(), self.manager.clone());
        future_to_promise(async move {
            handle.destroy(&manager).await.map_err(to_js)?;
            Ok(JsValue::UNDEFINED)
        })
    }
}

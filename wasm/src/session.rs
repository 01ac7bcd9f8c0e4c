//! The session object handed to JS by `Manager.start`.

use crate::error::{js_error, to_js, JsResult};
use crate::host::{from_js_value, to_js_value};
use js_sys::{Array, Promise};
use polysession_core::ErrorKind;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

pub(crate) enum State {
    Open(polysession_core::Session),
    /// `regenerate()` or `destroy()` is in flight.
    Busy,
    /// `commit()` took it.
    Committed,
}

/// One request's session. Values are anything `JSON.stringify` accepts; they come back as
/// `JSON.parse` gives them.
#[wasm_bindgen]
pub struct Session {
    pub(crate) state: Rc<RefCell<State>>,
    pub(crate) manager: polysession_core::Manager,
}

fn unusable(state: &State) -> JsValue {
    let why = match state {
        State::Busy => "the session is busy: await regenerate() or destroy() first",
        _ => "the session was already committed with its response",
    };
    js_error(ErrorKind::BadInput, why)
}

impl Session {
    pub(crate) fn new(
        session: polysession_core::Session,
        manager: polysession_core::Manager,
    ) -> Self {
        Session {
            state: Rc::new(RefCell::new(State::Open(session))),
            manager,
        }
    }

    /// Runs `f` on the open session. No JS runs inside `f`, so the borrow cannot be re-entered.
    fn with<T>(&self, f: impl FnOnce(&mut polysession_core::Session) -> T) -> JsResult<T> {
        let mut state = self
            .state
            .try_borrow_mut()
            .map_err(|_| js_error(ErrorKind::BadInput, "the session is in use"))?;
        match &mut *state {
            State::Open(s) => Ok(f(s)),
            other => Err(unusable(other)),
        }
    }

    /// Takes the session out for an async step, leaving `Busy` (or `Committed`) behind.
    pub(crate) fn take(
        state: &RefCell<State>,
        leave: State,
    ) -> JsResult<polysession_core::Session> {
        let mut slot = state
            .try_borrow_mut()
            .map_err(|_| js_error(ErrorKind::BadInput, "the session is in use"))?;
        match std::mem::replace(&mut *slot, leave) {
            State::Open(s) => Ok(s),
            other => {
                let err = unusable(&other);
                *slot = other;
                Err(err)
            }
        }
    }

    /// Runs an async manager call on the session and puts it back, whatever the outcome.
    fn step<F, Fut>(&self, f: F) -> Promise
    where
        F: FnOnce(polysession_core::Manager, polysession_core::Session) -> Fut + 'static,
        Fut:
            std::future::Future<Output = (polysession_core::Session, polysession_core::Result<()>)>,
    {
        let state = self.state.clone();
        let manager = self.manager.clone();
        future_to_promise(async move {
            let session = Session::take(&state, State::Busy)?;
            let (session, result) = f(manager, session).await;
            if let Ok(mut slot) = state.try_borrow_mut() {
                *slot = State::Open(session);
            }
            result.map_err(to_js)?;
            Ok(JsValue::UNDEFINED)
        })
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
        self.with(|s| s.set_value(key, value))
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
        let value = serde_json::to_value(flashes).unwrap_or_default();
        to_js_value(&value)
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
        self.step(|manager, mut session| async move {
            let result = manager.regenerate(&mut session).await;
            (session, result)
        })
    }

    /// Deletes the session; commit removes the cookie. Values set afterwards start a new one.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn destroy(&self) -> Promise {
        self.step(|manager, mut session| async move {
            let result = manager.destroy(&mut session).await;
            (session, result)
        })
    }
}

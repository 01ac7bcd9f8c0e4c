//! The one mapping from core errors to JS: an `Error` named `PolysessionError` with the
//! core's stable `code`.

use js_sys::Reflect;
use polysession_core::{Error, ErrorKind};
use wasm_bindgen::{JsCast, JsValue};

/// `Result` of the exported functions: the error is already a JS `Error`.
pub(crate) type JsResult<T> = std::result::Result<T, JsValue>;

/// A JS `Error` with `name` `PolysessionError`, the core message and `code`.
pub(crate) fn to_js(err: Error) -> JsValue {
    let js = js_sys::Error::new(&err.to_string());
    js.set_name("PolysessionError");
    // Setting a property on a fresh Error object cannot fail.
    let _ = Reflect::set(&js, &"code".into(), &err.code().into());
    js.into()
}

/// A JS `Error` of `kind` with `message`.
pub(crate) fn js_error(kind: ErrorKind, message: impl Into<String>) -> JsValue {
    to_js(Error::new(kind, message))
}

/// A short description of a value thrown by JS code (a store callback, `JSON.stringify`).
pub(crate) fn describe(thrown: &JsValue) -> String {
    if let Some(e) = thrown.dyn_ref::<js_sys::Error>() {
        return String::from(e.message());
    }
    thrown
        .as_string()
        .unwrap_or_else(|| "a value that is not an Error".to_owned())
}

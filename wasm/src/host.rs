//! What the host provides: time from `Date.now` (or a `now` function given in the options),
//! and the conversion between JS values and the JSON values sessions hold.

use crate::error::{describe, js_error, to_js, JsResult};
use js_sys::{Function, JSON};
use polysession_bindings::clock::HostClock;
use polysession_core::{Clock, Error, ErrorKind};
use serde_json::Value;
use std::sync::Arc;
use wasm_bindgen::{JsCast, JsValue};

/// The host's clock: the options' `now()` (tests move time with it), else `Date.now()`.
pub(crate) fn clock(now: JsValue) -> JsResult<Arc<dyn Clock>> {
    let now = match now.dyn_into::<Function>() {
        Ok(f) => Some(f),
        Err(v) if v.is_undefined() || v.is_null() => None,
        Err(_) => return Err(to_js(Error::bad_config("now", "must be a function"))),
    };
    let call = now.map(|f| move || f.call0(&JsValue::UNDEFINED).ok()?.as_f64());
    let clock = HostClock::new(call, js_sys::Date::now).map_err(to_js)?;
    // wasm32 is single-threaded: the Arc only satisfies the manager's type.
    #[allow(clippy::arc_with_non_send_sync)]
    Ok(Arc::new(clock))
}

/// A session value for JS (`JSON.parse` of its JSON text).
pub(crate) fn to_js_value(value: &Value) -> JsResult<JsValue> {
    let text = value.to_string();
    JSON::parse(&text).map_err(|e| js_error(ErrorKind::BadInput, describe(&e)))
}

/// A JS value as JSON (`JSON.stringify`), or a `BAD_INPUT` error naming `key`.
pub(crate) fn from_js_value(key: &str, value: &JsValue) -> JsResult<Value> {
    let bad = |why: String| {
        js_error(
            ErrorKind::BadInput,
            format!("session value `{key}` cannot be stored: {why}"),
        )
    };
    if value.is_undefined() {
        return Err(bad("it is undefined (use delete() to remove a key)".into()));
    }
    let text = JSON::stringify(value)
        .map_err(|e| bad(describe(&e)))?
        .as_string()
        .ok_or_else(|| bad("it has no JSON form (a function or a symbol)".into()))?;
    serde_json::from_str(&text).map_err(|e| bad(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn js(source: &str) -> JsValue {
        js_sys::Function::new_no_args(&format!("return ({source});"))
            .call0(&JsValue::UNDEFINED)
            .unwrap()
    }

    #[wasm_bindgen_test]
    fn json_values_round_trip() {
        let value = serde_json::json!({"s": "é ✓ \u{0}", "n": [1, -2.5, 9007199254740991_i64], "b": true, "z": null});
        let back = from_js_value("k", &to_js_value(&value).unwrap()).unwrap();
        assert_eq!(back, value);
        assert_eq!(
            from_js_value("k", &js("new Date(0)")).unwrap(),
            serde_json::json!("1970-01-01T00:00:00.000Z")
        );
        assert_eq!(from_js_value("k", &js("NaN")).unwrap(), Value::Null);
    }

    #[wasm_bindgen_test]
    fn values_without_json_are_bad_input() {
        for source in [
            "undefined",
            "() => 1",
            "Symbol('s')",
            "10n",
            "(() => { const o = {}; o.o = o; return o; })()",
        ] {
            let err = from_js_value("key", &js(source)).unwrap_err();
            let code = js_sys::Reflect::get(&err, &"code".into()).unwrap();
            assert_eq!(code.as_string().as_deref(), Some("BAD_INPUT"), "{source}");
            let message = err.dyn_ref::<js_sys::Error>().unwrap().message();
            assert!(String::from(message).contains("`key`"), "{source}");
        }
    }

    #[wasm_bindgen_test]
    fn the_clock_is_the_host_clock_or_the_given_now() {
        let real = clock(JsValue::UNDEFINED).unwrap().now_ms();
        assert!((real as f64 - js_sys::Date::now()).abs() < 60_000.0);
        assert_eq!(clock(js("() => 1234.9")).unwrap().now_ms(), 1234);
        for bad in [
            "'noon'",
            "() => NaN",
            "() => -1",
            "() => 'x'",
            "() => { throw new Error('x') }",
        ] {
            assert!(clock(js(bad)).is_err(), "{bad}");
        }
    }
}

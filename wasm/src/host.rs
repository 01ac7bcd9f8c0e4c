//! What the host provides: time from `Date.now` (or a `now` function given in the options),
//! and the conversion between JS values and the JSON values sessions hold.

use crate::error::{describe, js_error, JsResult};
use js_sys::{Function, JSON};
use polysession_core::{Clock, ErrorKind};
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};

/// The host's clock: `Date.now()`, or the options' `now()` (tests move time with it).
pub(crate) struct JsClock {
    now: Option<Function>,
}

impl JsClock {
    /// `now` is `undefined` or a function returning Unix milliseconds.
    pub(crate) fn new(now: JsValue) -> JsResult<Self> {
        if now.is_undefined() || now.is_null() {
            return Ok(JsClock { now: None });
        }
        let Some(f) = now.dyn_ref::<Function>() else {
            return Err(js_error(
                ErrorKind::BadConfig,
                "config key `now`: must be a function returning Unix milliseconds",
            ));
        };
        let clock = JsClock {
            now: Some(f.clone()),
        };
        if clock.host_now().is_none() {
            return Err(js_error(
                ErrorKind::BadConfig,
                "config key `now`: did not return a finite number of milliseconds >= 0",
            ));
        }
        Ok(clock)
    }

    fn host_now(&self) -> Option<u64> {
        let f = self.now.as_ref()?;
        let ms = f.call0(&JsValue::UNDEFINED).ok()?.as_f64()?;
        (ms.is_finite() && ms >= 0.0).then_some(ms as u64)
    }
}

impl Clock for JsClock {
    fn now_ms(&self) -> u64 {
        // A `now` that starts failing later falls back to the real clock.
        self.host_now()
            .unwrap_or_else(|| js_sys::Date::now().max(0.0) as u64)
    }
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
        let real = JsClock::new(JsValue::UNDEFINED).unwrap().now_ms();
        assert!((real as f64 - js_sys::Date::now()).abs() < 60_000.0);
        assert_eq!(JsClock::new(js("() => 1234.9")).unwrap().now_ms(), 1234);
        for bad in [
            "'noon'",
            "() => NaN",
            "() => -1",
            "() => 'x'",
            "() => { throw new Error('x') }",
        ] {
            assert!(JsClock::new(js(bad)).is_err(), "{bad}");
        }
    }
}

//! The one mapping from core errors to JS: a thrown `Error` whose message starts with the
//! core's stable code (`STORE_UNAVAILABLE: ...`); the package's `js/errors.js` turns it into
//! a `PolysessionError` with `code` (napi-rs cannot set a custom `code` on an async rejection).

use polysession_core::Error;

/// A core error as a napi error.
pub(crate) fn to_js(err: Error) -> napi::Error {
    napi::Error::from_reason(err.to_string())
}

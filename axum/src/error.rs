//! Turning session errors into responses.

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use polysession_core::Error;

/// A session error as an axum response, with the host kit's status: 400 `BAD_INPUT`,
/// 413 `TOO_LARGE`, 503 `STORE_UNAVAILABLE`, 500 otherwise.
/// The body names the failure and its stable code, never a store address or password.
///
/// Handlers return it with `?`; handle the inner [`Error`] yourself to answer differently.
#[derive(Debug)]
pub struct SessionError(pub Error);

impl From<Error> for SessionError {
    fn from(e: Error) -> Self {
        SessionError(e)
    }
}

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SessionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// The default response for a session error: the host kit's, as every polysession host
/// gives it (400 `BAD_INPUT`, 413 `TOO_LARGE`, 503 `STORE_UNAVAILABLE` with `Retry-After`,
/// else 500; a body naming the code only).
pub(crate) fn default_response(e: &Error) -> Response {
    let r = polysession_bindings::http::error_response(e);
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = (status, r.body).into_response();
    for (name, value) in r.headers {
        if let Ok(value) = http::HeaderValue::try_from(value) {
            res.headers_mut().insert(name, value);
        }
    }
    res
}

impl IntoResponse for SessionError {
    fn into_response(self) -> Response {
        default_response(&self.0)
    }
}

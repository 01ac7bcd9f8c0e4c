//! Turning session errors into responses.

use axum::response::{IntoResponse, Response};
use http::{header, StatusCode};
use polysession_core::{Error, ErrorKind};

/// A session error as an axum response: 503 when the store is unavailable, 500 otherwise.
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

/// The status a session error maps to.
pub(crate) fn status_of(e: &Error) -> StatusCode {
    match e.kind() {
        ErrorKind::StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The default response for a session error.
pub(crate) fn default_response(e: &Error) -> Response {
    let status = status_of(e);
    let text = match e.kind() {
        ErrorKind::StoreUnavailable => "session store unavailable, please retry",
        ErrorKind::Conflict => "session changed concurrently, please retry",
        ErrorKind::TooLarge => "session too large",
        _ => "session error",
    };
    let body = format!("{} {text} ({})\n", status.as_u16(), e.code());
    let mut res = (status, body).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        res.headers_mut()
            .insert(header::RETRY_AFTER, http::HeaderValue::from_static("1"));
    }
    res
}

impl IntoResponse for SessionError {
    fn into_response(self) -> Response {
        default_response(&self.0)
    }
}

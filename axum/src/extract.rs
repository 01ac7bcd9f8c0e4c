//! The `Session` extractor: a handle on the request's session, started lazily.

use crate::error::SessionError;
use axum::extract::FromRequestParts;
use futures_util::lock::Mutex;
use http::request::Parts;
use polysession_bindings::RequestParts;
use polysession_core::{Error, ErrorKind, Flashes, Manager};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

pub(crate) enum State {
    NotStarted,
    Started(polysession_core::Session),
    Released,
}

/// Shared between the layer and every handle of one request.
pub(crate) struct Slot {
    pub manager: Manager,
    pub request: RequestParts,
    pub state: Mutex<State>,
}

/// The session of the current request. Extract it in a handler; clones share one session.
///
/// Nothing touches the store until the first extraction, so routes that do not use the
/// session cost nothing. The layer releases the session before the response headers leave.
/// Extraction fails with a [`SessionError`] (503 when the store is down); extract
/// `Result<Session, SessionError>` to handle that yourself.
#[derive(Clone)]
pub struct Session {
    slot: Arc<Slot>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}

fn released() -> Error {
    Error::new(
        ErrorKind::BadInput,
        "the session was already released with its response",
    )
}

impl Session {
    pub(crate) fn new(slot: Arc<Slot>) -> Self {
        Session { slot }
    }

    /// Starts the session if this request has not yet.
    async fn ensure_started(&self) -> Result<(), Error> {
        let mut state = self.slot.state.lock().await;
        if let State::NotStarted = *state {
            let session = self.slot.manager.start(&self.slot.request.info()).await?;
            *state = State::Started(session);
        }
        Ok(())
    }

    async fn with<R>(
        &self,
        f: impl FnOnce(&mut polysession_core::Session) -> R,
    ) -> Result<R, Error> {
        match &mut *self.slot.state.lock().await {
            State::Started(s) => Ok(f(s)),
            _ => Err(released()),
        }
    }

    /// The manager, for `count` and the config.
    pub fn manager(&self) -> &Manager {
        &self.slot.manager
    }

    /// The session id (beego's `SessionID`).
    ///
    /// # Errors
    /// When the session was already released.
    pub async fn id(&self) -> Result<String, SessionError> {
        Ok(self.with(|s| s.id().to_owned()).await?)
    }

    /// The value under `key` as `T`, or `None` (beego's `GetSession`).
    ///
    /// # Errors
    /// `BAD_INPUT` when the stored value does not fit `T`, or after release.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        Ok(self.with(|s| s.get_as::<T>(key)).await??)
    }

    /// The JSON value under `key`, or `None`.
    ///
    /// # Errors
    /// After release.
    pub async fn get_value(&self, key: &str) -> Result<Option<Value>, SessionError> {
        Ok(self.with(|s| s.get(key).cloned()).await?)
    }

    /// Stores `value` under `key` (beego's `SetSession`).
    ///
    /// # Errors
    /// `BAD_INPUT` when `value` is not representable as JSON, or after release.
    pub async fn set(&self, key: &str, value: impl Serialize) -> Result<(), SessionError> {
        Ok(self.with(|s| s.set(key, value)).await??)
    }

    /// Removes `key` (beego's `DelSession`) and returns its old value.
    ///
    /// # Errors
    /// After release.
    pub async fn delete(&self, key: &str) -> Result<Option<Value>, SessionError> {
        Ok(self.with(|s| s.delete(key)).await?)
    }

    /// Removes every key (beego's `Flush`).
    ///
    /// # Errors
    /// After release.
    pub async fn flush(&self) -> Result<(), SessionError> {
        Ok(self.with(|s| s.flush()).await?)
    }

    /// All keys and values.
    ///
    /// # Errors
    /// After release.
    pub async fn data(&self) -> Result<serde_json::Map<String, Value>, SessionError> {
        Ok(self.with(|s| s.data().clone()).await?)
    }

    /// Adds a flash message under `level` (`success`, `notice`, `warning`, `error`, custom).
    ///
    /// # Errors
    /// After release.
    pub async fn flash(&self, level: &str, message: &str) -> Result<(), SessionError> {
        Ok(self.with(|s| s.flash(level, message)).await?)
    }

    /// Reads and removes the pending flash messages.
    ///
    /// # Errors
    /// After release.
    pub async fn take_flash(&self) -> Result<Flashes, SessionError> {
        Ok(self.with(|s| s.take_flash()).await?)
    }

    /// Sets the lifetime of the cookie this response sends, in seconds (`0`: a
    /// browser-session cookie), in place of the configured `cookie_lifetime`, for this request
    /// only: "remember me" at login. A session given one sends its cookie with this response.
    ///
    /// # Errors
    /// After release.
    pub async fn set_cookie_lifetime(&self, secs: u64) -> Result<(), SessionError> {
        Ok(self.with(|s| s.set_cookie_lifetime(secs)).await?)
    }

    /// Gives the session a new id, keeping its data (beego's `SessionRegenerateID`).
    ///
    /// # Errors
    /// `STORE_UNAVAILABLE` when the store fails, or after release.
    pub async fn regenerate(&self) -> Result<(), SessionError> {
        match &mut *self.slot.state.lock().await {
            State::Started(s) => Ok(self.slot.manager.regenerate(s).await?),
            _ => Err(released().into()),
        }
    }

    /// Destroys the session (beego's `DestroySession`); the cookie is removed.
    ///
    /// # Errors
    /// `STORE_UNAVAILABLE` when the store fails, or after release.
    pub async fn destroy(&self) -> Result<(), SessionError> {
        match &mut *self.slot.state.lock().await {
            State::Started(s) => Ok(self.slot.manager.destroy(s).await?),
            _ => Err(released().into()),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = SessionError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(slot) = parts.extensions.get::<Arc<Slot>>() else {
            return Err(SessionError(Error::new(
                ErrorKind::BadConfig,
                "no SessionLayer: add `.layer(SessionLayer::new(manager))` to the router",
            )));
        };
        let session = Session::new(slot.clone());
        session.ensure_started().await?;
        Ok(session)
    }
}

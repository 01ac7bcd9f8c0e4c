//! The session handle a binding gives its host: open, busy while an async call runs,
//! committed once released, with one error for each misuse.

use polysession_core::{Error, ErrorKind, Manager, Release, Result, Session};
use std::sync::{Mutex, MutexGuard, TryLockError};

enum State {
    Open(Session),
    /// `regenerate()` or `destroy()` is in flight.
    Busy,
    /// `commit()` took it.
    Committed,
}

/// One request's session as a host object holds it (behind an `Rc` or `Arc`).
///
/// Synchronous access goes through [`with`](Handle::with); the async steps take the session
/// out and put it back, so a second call meanwhile is a clear `BAD_INPUT` error, never a
/// panic or a lost update. A failed [`commit`](Handle::commit) leaves the session open for a
/// retry.
///
/// Bindings convert host values *before* calling [`with`](Handle::with): host code that runs
/// inside it (a `toJSON`, a `__eq__`) could re-enter the handle.
///
/// ```
/// # futures_executor::block_on(async {
/// use polysession_bindings::Handle;
/// use polysession_core::{Manager, RequestInfo};
/// let manager = Manager::new(Default::default()).unwrap();
/// let handle = Handle::new(manager.start(&RequestInfo::default()).await.unwrap());
/// handle.with(|s| s.set("n", 1)).unwrap().unwrap();
/// let release = handle.commit(&manager).await.unwrap();
/// assert!(release.set_cookie.is_some());
/// assert_eq!(handle.with(|s| s.id().to_owned()).unwrap_err().code(), "BAD_INPUT");
/// # });
/// ```
pub struct Handle {
    state: Mutex<State>,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

/// A value's JSON text, or `BAD_INPUT` naming the key.
fn parse_json(key: &str, json: &str) -> Result<serde_json::Value> {
    serde_json::from_str(json).map_err(|e| {
        Error::new(
            ErrorKind::BadInput,
            format!("session value `{key}` is not JSON: {e}"),
        )
    })
}

fn misuse(message: &str) -> Error {
    Error::new(ErrorKind::BadInput, message)
}

fn unusable(state: &State) -> Error {
    misuse(match state {
        State::Busy => "the session is busy: await regenerate() or destroy() first",
        _ => "the session was already committed with its response",
    })
}

impl Handle {
    /// A handle on a started session.
    pub fn new(session: Session) -> Self {
        Handle {
            state: Mutex::new(State::Open(session)),
        }
    }

    /// Locks the state. On wasm (one thread) a second lock can only be a re-entry, which is
    /// an error there, not a trap.
    fn lock(&self) -> Result<MutexGuard<'_, State>> {
        match self.state.try_lock() {
            Ok(guard) => Ok(guard),
            Err(TryLockError::Poisoned(p)) => Ok(p.into_inner()),
            #[cfg(target_arch = "wasm32")]
            Err(TryLockError::WouldBlock) => Err(misuse("the session is in use")),
            // Another thread holds it for a moment (no host code runs under the lock).
            #[cfg(not(target_arch = "wasm32"))]
            Err(TryLockError::WouldBlock) => Ok(self
                .state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)),
        }
    }

    /// Runs `f` on the open session.
    ///
    /// # Errors
    /// [`BadInput`](ErrorKind::BadInput) when the session is busy or committed.
    pub fn with<T>(&self, f: impl FnOnce(&mut Session) -> T) -> Result<T> {
        match &mut *self.lock()? {
            State::Open(s) => Ok(f(s)),
            other => Err(unusable(other)),
        }
    }

    /// Stores the JSON text `json` under `key`: values cross from a host as JSON text.
    ///
    /// # Errors
    /// `BAD_INPUT` when `json` is not JSON (naming the key) or the session is busy or
    /// committed; the session's own errors (a value nested too deep).
    pub fn set_json(&self, key: &str, json: &str) -> Result<()> {
        let value = parse_json(key, json)?;
        self.with(|s| s.set_value(key, value))?
    }

    /// Sets the lifetime of the cookie this response sends ([`Session::set_cookie_lifetime`])
    /// from a host's number of seconds: `0` for a browser-session cookie, a fraction rounded
    /// up.
    ///
    /// # Errors
    /// `BAD_INPUT` for a negative, infinite or NaN number, or when the session is busy or
    /// committed.
    pub fn set_cookie_lifetime(&self, secs: f64) -> Result<()> {
        if !secs.is_finite() || secs < 0.0 {
            // No float in the text: formatting one links float printing into the wasm build.
            return Err(Error::new(
                ErrorKind::BadInput,
                "cookie lifetime must be a number of seconds, 0 or more",
            ));
        }
        // Past 400 days the core caps it anyway; `as` saturates a larger float.
        let secs = secs.ceil() as u64;
        self.with(|s| s.set_cookie_lifetime(secs))
    }

    /// Applies many changes at once: `set` is the JSON text of an object of the keys to
    /// store, `delete` the keys to remove (a host that diffs its own view of the session
    /// sends what changed in one call).
    ///
    /// # Errors
    /// As [`set_json`](Self::set_json); `BAD_INPUT` when `set` is not a JSON object.
    pub fn update_json(&self, set: Option<&str>, delete: &[String]) -> Result<()> {
        let set = match set.map(|j| parse_json("*", j)).transpose()? {
            Some(serde_json::Value::Object(map)) => map,
            Some(_) => return Err(Error::new(ErrorKind::BadInput, "`set` must be an object")),
            None => serde_json::Map::new(),
        };
        self.with(|s| {
            for (key, value) in set {
                s.set_value(&key, value)?;
            }
            for key in delete {
                s.delete(key);
            }
            Ok(())
        })?
    }

    /// Takes the session out, leaving `Busy` (or `Committed`) behind.
    fn take(&self, committing: bool) -> Result<Session> {
        let mut slot = self.lock()?;
        let leave = if committing {
            State::Committed
        } else {
            State::Busy
        };
        match std::mem::replace(&mut *slot, leave) {
            State::Open(s) => Ok(s),
            other => {
                let err = unusable(&other);
                *slot = other;
                Err(err)
            }
        }
    }

    fn put_back(&self, session: Session) {
        if let Ok(mut slot) = self.lock() {
            *slot = State::Open(session);
        }
    }

    /// Whether the session was committed.
    pub fn is_committed(&self) -> bool {
        self.lock()
            .map(|s| matches!(*s, State::Committed))
            .unwrap_or(false)
    }

    /// [`Manager::regenerate`] on the session.
    ///
    /// # Errors
    /// `BAD_INPUT` when busy or committed; the manager's errors (the session stays open).
    pub async fn regenerate(&self, manager: &Manager) -> Result<()> {
        let mut session = self.take(false)?;
        let result = manager.regenerate(&mut session).await;
        self.put_back(session);
        result
    }

    /// [`Manager::destroy`] on the session.
    ///
    /// # Errors
    /// `BAD_INPUT` when busy or committed; the manager's errors (the session stays open).
    pub async fn destroy(&self, manager: &Manager) -> Result<()> {
        let mut session = self.take(false)?;
        let result = manager.destroy(&mut session).await;
        self.put_back(session);
        result
    }

    /// [`Manager::release`]: the session is committed, or open again if releasing failed.
    ///
    /// # Errors
    /// `BAD_INPUT` when busy or committed; the manager's errors.
    pub async fn commit(&self, manager: &Manager) -> Result<Release> {
        let session = self.take(true)?;
        match manager.release(session.clone()).await {
            Ok(release) => Ok(release),
            Err(e) => {
                self.put_back(session);
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polysession_core::{Config, RequestInfo};

    fn open() -> (Manager, Handle) {
        let manager = Manager::new(Config::default()).unwrap();
        let session = futures_executor::block_on(manager.start(&RequestInfo::default())).unwrap();
        (manager, Handle::new(session))
    }

    #[test]
    fn json_text_values_set_update_and_name_the_bad_key() {
        let (manager, handle) = open();
        handle.set_json("a", r#"{"x":[1,2]}"#).unwrap();
        handle
            .update_json(Some(r#"{"b":true,"c":"t"}"#), &["a".to_owned()])
            .unwrap();
        let keys = handle.with(|s| s.keys().map(str::to_owned).collect::<Vec<_>>());
        assert_eq!(keys.unwrap(), ["b", "c"]);
        let err = handle.set_json("bad", "{nope").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadInput);
        assert!(err.to_string().contains("`bad`"), "{err}");
        for set in ["[1]", "1", "not json"] {
            let err = handle.update_json(Some(set), &[]).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BadInput, "{set}");
        }
        // Nothing half-applied: the failed updates changed nothing.
        assert_eq!(handle.with(|s| s.keys().count()).unwrap(), 2);
        let released = futures_executor::block_on(handle.commit(&manager)).unwrap();
        assert!(released.set_cookie.is_some());
        let err = handle.set_json("late", "1").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadInput);
    }

    #[test]
    fn a_host_cookie_lifetime_is_checked_and_rounded_up() {
        let (manager, handle) = open();
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            let err = handle.set_cookie_lifetime(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BadInput, "{bad}");
        }
        handle.set_cookie_lifetime(59.2).unwrap();
        assert_eq!(handle.with(|s| s.cookie_lifetime()).unwrap(), Some(60));
        handle.set_json("k", "1").unwrap();
        let released = futures_executor::block_on(handle.commit(&manager)).unwrap();
        let cookie = released.set_cookie.unwrap();
        assert!(cookie.contains("Max-Age=60"), "{cookie}");
    }
}

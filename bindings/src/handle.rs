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

//! The clock a host passes as its `now` option (tests move time with it), over the host's
//! real clock.

use polysession_core::{Clock, Error, MaybeSend, MaybeSync, Result};

/// A [`Clock`] that asks the host's `now()` (Unix milliseconds) and falls back to the host's
/// real clock when there is none, or when a `now()` that worked at first stops returning a
/// time.
///
/// ```
/// use polysession_bindings::clock::HostClock;
/// use polysession_core::Clock;
/// let clock = HostClock::new(Some(|| Some(1234.9)), || 5.0).unwrap();
/// assert_eq!(clock.now_ms(), 1234);
/// assert!(HostClock::new(Some(|| Some(f64::NAN)), || 5.0).is_err());
/// assert_eq!(HostClock::new(None::<fn() -> Option<f64>>, || 5.0).unwrap().now_ms(), 5);
/// ```
pub struct HostClock<N, R> {
    now: Option<N>,
    real: R,
}

fn valid(ms: Option<f64>) -> Option<u64> {
    ms.filter(|ms| ms.is_finite() && *ms >= 0.0)
        .map(|ms| ms as u64)
}

impl<N, R> HostClock<N, R>
where
    N: Fn() -> Option<f64>,
    R: Fn() -> f64,
{
    /// A clock over the host's `now` option (`None` when not given) and its real clock.
    ///
    /// # Errors
    /// [`BadConfig`](polysession_core::ErrorKind::BadConfig) naming `now` when it does not
    /// return a finite number of milliseconds >= 0.
    pub fn new(now: Option<N>, real: R) -> Result<Self> {
        if let Some(f) = &now {
            if valid(f()).is_none() {
                let why = "must be a function returning a finite number of Unix milliseconds >= 0";
                return Err(Error::bad_config("now", why));
            }
        }
        Ok(HostClock { now, real })
    }
}

impl<N, R> Clock for HostClock<N, R>
where
    N: Fn() -> Option<f64> + MaybeSend + MaybeSync,
    R: Fn() -> f64 + MaybeSend + MaybeSync,
{
    fn now_ms(&self) -> u64 {
        self.now
            .as_ref()
            .and_then(|f| valid(f()))
            .unwrap_or_else(|| (self.real)().max(0.0) as u64)
    }
}

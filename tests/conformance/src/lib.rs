//! The behaviour suite every polysession store meets, as a kit that takes a
//! [`Store`] instance: a built-in provider, a host callback store, or a test double.
//!
//! [`Kit::run`] drives the store through the [`Manager`] (CRUD, expiry, regenerate, logout
//! against late releases and due touches, concurrent writers of different keys, corrupt
//! records, a 1 MB session, count and GC) and directly (each [`Expect`](polysession_core::Expect), touch, regenerate's
//! return value). The sealed-cookie provider, which has no store, runs the cases that can hold
//! for it; the others say so. Failures panic with the kit's label.
//!
//! The kit needs no runtime: concurrency is `join_all` on one task, and the caller gives the
//! sleep (a runtime's timer, or a [`ManualClock`](polysession_core::ManualClock) moved
//! forward with [`Kit::clock`]).
//!
//! ```
//! use polysession_conformance::Kit;
//! use polysession_core::{ManualClock, MemoryStore};
//! use std::sync::Arc;
//! let clock = Arc::new(ManualClock::new(1_700_000_000_000));
//! let moved = clock.clone();
//! let kit = Kit::store("memory", Arc::new(MemoryStore::new(1000)))
//!     .clock(clock)
//!     .sleep(move |d| {
//!         moved.advance_ms(d.as_millis() as u64);
//!         Box::pin(async {})
//!     });
//! futures_executor::block_on(kit.run());
//! ```
#![warn(missing_docs)]

mod cases;
mod contract;

use futures_util::future::LocalBoxFuture;
use polysession_core::{Clock, Config, Manager, RequestInfo, Session, Store};
use std::sync::Arc;
use std::time::Duration;

type Sleep = Box<dyn Fn(Duration) -> LocalBoxFuture<'static, ()>>;

enum Subject {
    Store(Arc<dyn Store>),
    Sealed(Box<Config>),
}

/// One subject of the suite, with how to wait and what time it is.
pub struct Kit {
    label: String,
    subject: Subject,
    sleep: Sleep,
    clock: Option<Arc<dyn Clock>>,
}

impl Kit {
    /// The suite over `store`. Without [`sleep`](Kit::sleep), waiting blocks the thread.
    pub fn store(label: &str, store: Arc<dyn Store>) -> Kit {
        Kit::new(label, Subject::Store(store))
    }

    /// The suite over the sealed-cookie provider with `config` (`provider` `cookie` and its
    /// keys).
    pub fn sealed(label: &str, config: Config) -> Kit {
        Kit::new(label, Subject::Sealed(Box::new(config)))
    }

    fn new(label: &str, subject: Subject) -> Kit {
        Kit {
            label: label.to_owned(),
            subject,
            sleep: Box::new(|d| {
                Box::pin(async move {
                    std::thread::sleep(d);
                })
            }),
            clock: None,
        }
    }

    /// Waits with `sleep` (a runtime's timer, or a function that moves a manual clock).
    pub fn sleep(
        mut self,
        sleep: impl Fn(Duration) -> LocalBoxFuture<'static, ()> + 'static,
    ) -> Kit {
        self.sleep = Box::new(sleep);
        self
    }

    /// Gives the managers this clock instead of the system's.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Kit {
        self.clock = Some(clock);
        self
    }

    /// Runs every case: the manager-level cases, then the store contract.
    pub async fn run(&self) {
        cases::run(self).await;
        if let Subject::Store(store) = &self.subject {
            let now = match &self.clock {
                Some(clock) => clock.now_ms(),
                None => polysession_core::SystemClock.now_ms(),
            };
            contract::run(&self.label, store.as_ref(), now).await;
        }
    }

    /// Whether sessions live on the server (a store), not in the cookie.
    pub(crate) fn server_side(&self) -> bool {
        matches!(self.subject, Subject::Store(_))
    }

    pub(crate) fn store_ref(&self) -> Option<&Arc<dyn Store>> {
        match &self.subject {
            Subject::Store(s) => Some(s),
            Subject::Sealed(_) => None,
        }
    }

    /// A manager over the subject, with `tweak` applied to the default config.
    pub(crate) fn manager(&self, tweak: impl FnOnce(&mut Config)) -> Manager {
        let mut config = match &self.subject {
            Subject::Store(_) => Config::default(),
            Subject::Sealed(c) => (**c).clone(),
        };
        tweak(&mut config);
        let mut builder = Manager::builder(config);
        if let Subject::Store(store) = &self.subject {
            builder = builder.store(store.clone());
        }
        if let Some(clock) = &self.clock {
            builder = builder.clock(clock.clone());
        }
        builder
            .build()
            .unwrap_or_else(|e| panic!("{}: {e}", self.label))
    }

    pub(crate) async fn wait(&self, d: Duration) {
        (self.sleep)(d).await;
    }

    pub(crate) fn label(&self) -> &str {
        &self.label
    }
}

/// The `name=value` of a Set-Cookie.
pub(crate) fn jar(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or_default().to_owned()
}

pub(crate) async fn open(m: &Manager, cookie: &str) -> Session {
    m.start(&RequestInfo {
        cookies: vec![cookie],
        ..Default::default()
    })
    .await
    .expect("start")
}

/// Applies `f` to the session behind `cookie` (a new one for `None`) and releases it; returns
/// the cookie the client holds afterwards.
pub(crate) async fn with(
    m: &Manager,
    cookie: Option<&str>,
    f: impl FnOnce(&mut Session),
) -> String {
    let mut s = match cookie {
        Some(c) => open(m, c).await,
        None => m.start(&RequestInfo::default()).await.expect("start"),
    };
    f(&mut s);
    let r = m.release(s).await.expect("release");
    match (r.set_cookie, cookie) {
        (Some(c), _) => jar(&c),
        (None, Some(c)) => c.to_owned(),
        (None, None) => panic!("no cookie for a new session"),
    }
}

//! polysession core: beego's session manager as a pure, wasm-safe library.
//!
//! A [`Manager`] starts a [`Session`] from a request ([`RequestInfo`]), and releases it into
//! the headers to send ([`Release`]). Sessions live in a [`Store`] (the `memory` provider
//! here, more in `polysession-providers`) or sealed in the cookie itself (the `cookie`
//! provider, [`KeyRing`]). No sockets, files, threads or clocks: hosts inject time
//! ([`Clock`]) and randomness ([`Entropy`]).
#![warn(missing_docs)]

mod appconf;
mod config;
mod cookie;
mod decoded;
mod env;
mod error;
pub mod flash;
mod id;
mod manager;
mod memory;
mod payload;
mod registry;
mod seal;
mod session;
mod store;

pub use appconf::AppConf;
pub use async_trait::async_trait;
pub use config::{
    Config, ConfigBuilder, IdHash, SameSite, DEFAULT_MAX_SESSION_BYTES, DEFAULT_MAX_SESSION_KEYS,
};
pub use cookie::RequestInfo;
#[cfg(not(target_arch = "wasm32"))]
pub use env::SystemClock;
pub use env::{Clock, Entropy, ManualClock, MaybeSend, MaybeSync, OsEntropy};
pub use error::{BoxError, Error, ErrorKind, Result};
pub use flash::Flashes;
pub use id::IdGenerator;
pub use manager::{
    Manager, ManagerBuilder, Outcome, Release, MAX_WRITE_ATTEMPTS, SEALED_ABSOLUTE_LIFETIME,
};
pub use memory::{MemoryStore, DEFAULT_CAPACITY};
pub use payload::FORMAT_VERSION;
pub use registry::{providers, register, Factory};
pub use seal::{KeyRing, MAX_COOKIE_BYTES, MIN_SECRET_BYTES};
pub use session::{IdSource, Session, MAX_VALUE_DEPTH};
pub use store::{regenerate_by_copy, Capabilities, Expect, Record, Store};

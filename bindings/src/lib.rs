//! The polysession host kit: the one place for the glue every host shares.
//!
//! The axum layer and the Node, Python and wasm bindings all need the same pieces around the
//! core's [`Manager`](polysession_core::Manager). They live here, once, so every host answers
//! alike and none of them copies another:
//!
//! - [`callback`]: a [`Store`](polysession_core::Store) over a small [`HostStore`] trait that a
//!   host implements with its own objects (a Workers KV namespace, a JS or Python object):
//!   the record text, the TTL rules, the key prefix and paged counting;
//! - [`handle`]: the session [`Handle`] a binding hands out: open, busy during an async call,
//!   committed, with the errors for misuse;
//! - [`clock`]: the `now` option's clock over the host's real clock;
//! - [`options`]: splitting a host's options into host-only keys and the core config, with
//!   each host's default provider;
//! - [`http`]: HTTP as data: the status of each error kind, the error response, the header
//!   merge rules, the form-body policy, outcome names and request parts from a URL.
//!
//! **The split.** Rules that decide session behaviour or what a session holds (ids, expiry,
//! merging, cookies, the payload) belong in `polysession-core`. Conversions between the core
//! and a host (text records for host stores, statuses and headers, option objects) belong
//! here. A binding only converts its language's values and calls these. The kit has no
//! sockets, threads or runtime: it builds for `wasm32-unknown-unknown`.
#![warn(missing_docs)]

pub mod callback;
pub mod clock;
pub mod handle;
pub mod http;
pub mod options;

pub use callback::{CallbackStore, HostError, HostStore, ListPage, Sleep, Timer};
pub use handle::Handle;
pub use http::{ErrorResponse, RequestParts, ResponseHeaders};
pub use options::HostDefaults;

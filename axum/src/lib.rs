//! polysession for axum: a tower [`SessionLayer`] and the [`Session`] extractor, the Rust twin
//! of beego's `SessionOn` with `GetSession`, `SetSession`, `DelSession`,
//! `SessionRegenerateID` and `DestroySession`.
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use polysession_axum::{Session, SessionLayer, SessionError};
//! use polysession_core::{Config, Manager};
//!
//! async fn counter(session: Session) -> Result<String, SessionError> {
//!     let n: i64 = session.get("asta").await?.unwrap_or(0);
//!     session.set("asta", n + 1).await?;
//!     Ok(format!("visits: {n}"))
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let manager = Manager::new(Config::default())?;
//! let app: Router = Router::new().route("/", get(counter)).layer(SessionLayer::new(manager));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod error;
mod extract;
mod layer;

pub use error::SessionError;
pub use extract::Session;
pub use layer::{spawn_gc, SessionLayer, SessionService};
pub use polysession_core as core;

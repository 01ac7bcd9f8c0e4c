//! Native polysession providers, one cargo feature each, registered under beego's names:
//! `file` (feature `file`); `redis`, `redis_cluster`, `redis_sentinel` (feature `redis`);
//! `mysql` (feature `mysql`), `postgresql` alias `postgres` (feature `postgres`), `sqlite`
//! (feature `sqlite`); `memcache` (feature `memcache`).
//!
//! Call [`register_all`] once at startup, then name the provider in the config:
//!
//! ```
//! use polysession_core::{Config, Manager};
//! polysession_providers::register_all();
//! let dir = std::env::temp_dir().join("polysession-doc-lib");
//! let config = Config::builder().provider("file", dir.to_str().unwrap()).build().unwrap();
//! let manager = Manager::new(config).unwrap();
//! assert_eq!(manager.store().unwrap().name(), "file");
//! ```
#![warn(missing_docs)]

#[cfg(feature = "file")]
mod file;

#[cfg(feature = "memcache")]
mod memcache;
#[cfg(feature = "redis")]
mod redis;
#[cfg(any(feature = "mysql", feature = "postgres", feature = "sqlite"))]
mod sql;
#[cfg(test)]
mod vectors;

/// The providers' parsers of stored and received bytes, exposed for the fuzz targets in
/// `fuzz/` (feature `fuzzing`). Not a stable API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    #[cfg(feature = "file")]
    pub use crate::file::fuzzing as file;
    #[cfg(feature = "memcache")]
    pub use crate::memcache::fuzzing as memcache;
}

#[cfg(feature = "file")]
pub use file::FileStore;
#[cfg(feature = "memcache")]
pub use memcache::{MemcacheConfig, MemcacheStore};
#[cfg(feature = "redis")]
pub use redis::{CacheStats, ClientCache, Mode, RedisConfig, RedisStore};
#[cfg(any(feature = "mysql", feature = "postgres", feature = "sqlite"))]
pub use sql::{Dialect, SqlConfig, SqlStore};

#[allow(unused_imports)]
use std::sync::{Arc, Once};

/// Registers every provider compiled in, under beego's names. Safe to call more than once.
pub fn register_all() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        #[cfg(feature = "file")]
        register("file", |c| Ok(Arc::new(FileStore::from_config(c)?)));
        #[cfg(feature = "redis")]
        {
            register("redis", |c| {
                Ok(Arc::new(RedisStore::from_config(Mode::Standalone, c)?))
            });
            register("redis_cluster", |c| {
                Ok(Arc::new(RedisStore::from_config(Mode::Cluster, c)?))
            });
            register("redis_sentinel", |c| {
                Ok(Arc::new(RedisStore::from_config(Mode::Sentinel, c)?))
            });
        }
        #[cfg(feature = "mysql")]
        register("mysql", |c| {
            Ok(Arc::new(SqlStore::from_config(Dialect::MySql, c)?))
        });
        #[cfg(feature = "postgres")]
        {
            register("postgresql", |c| {
                Ok(Arc::new(SqlStore::from_config(Dialect::Postgres, c)?))
            });
            register("postgres", |c| {
                Ok(Arc::new(SqlStore::from_config(Dialect::Postgres, c)?))
            });
        }
        #[cfg(feature = "sqlite")]
        register("sqlite", |c| {
            Ok(Arc::new(SqlStore::from_config(Dialect::Sqlite, c)?))
        });
        #[cfg(feature = "memcache")]
        register("memcache", |c| Ok(Arc::new(MemcacheStore::from_config(c)?)));
    });
}

#[allow(dead_code)]
fn register(
    name: &str,
    factory: impl Fn(
            &polysession_core::Config,
        ) -> polysession_core::Result<std::sync::Arc<dyn polysession_core::Store>>
        + Send
        + Sync
        + 'static,
) {
    // Only fails for reserved or empty names, which these are not.
    let _ = polysession_core::register(name, factory);
}

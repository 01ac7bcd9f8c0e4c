//! Providers by name, as beego's `session.Register("own", adapter)`.

use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
use crate::memory::MemoryStore;
use crate::store::Store;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock, RwLock};

/// Opens a store from a [`Config`] (its `provider_config` in particular).
pub type Factory = Arc<dyn Fn(&Config) -> Result<Arc<dyn Store>> + Send + Sync>;

fn registry() -> &'static RwLock<BTreeMap<String, Factory>> {
    static REGISTRY: OnceLock<RwLock<BTreeMap<String, Factory>>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut map: BTreeMap<String, Factory> = BTreeMap::new();
        map.insert(
            "memory".into(),
            Arc::new(|c: &Config| {
                Ok(Arc::new(MemoryStore::from_config(&c.provider_config)?) as Arc<dyn Store>)
            }),
        );
        RwLock::new(map)
    })
}

/// Registers a provider under `name` (case-insensitive), replacing any earlier one.
/// `cookie` is built into the manager and cannot be replaced.
///
/// ```
/// use std::sync::Arc;
/// use polysession_core::{register, Config, Manager, MemoryStore, Store};
/// register("own", |_c: &Config| Ok(Arc::new(MemoryStore::new(10)) as Arc<dyn Store>)).unwrap();
/// let manager = Manager::new(Config::builder().provider("own", "").build().unwrap()).unwrap();
/// assert_eq!(manager.store().unwrap().name(), "memory");
/// ```
///
/// # Errors
/// [`BadConfig`](ErrorKind::BadConfig) for an empty name or `cookie`.
pub fn register<F>(name: &str, factory: F) -> Result<()>
where
    F: Fn(&Config) -> Result<Arc<dyn Store>> + Send + Sync + 'static,
{
    let key = name.trim().to_ascii_lowercase();
    if key.is_empty() || key == "cookie" {
        return Err(Error::bad_config(
            "sessionprovider",
            format!("cannot register a provider named `{name}`"),
        ));
    }
    registry()
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, Arc::new(factory));
    Ok(())
}

/// The registered provider names, plus the built-in `cookie`.
pub fn providers() -> Vec<String> {
    let mut names: Vec<String> = registry()
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .keys()
        .cloned()
        .collect();
    names.push("cookie".into());
    names.sort();
    names
}

/// Opens the store named by `config.provider`.
pub(crate) fn open(config: &Config) -> Result<Arc<dyn Store>> {
    let key = config.provider.trim().to_ascii_lowercase();
    let factory = registry()
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(&key)
        .cloned();
    match factory {
        Some(f) => f(config),
        None => Err(Error::new(
            ErrorKind::UnknownProvider,
            format!(
                "no session provider named `{}` (registered: {})",
                config.provider,
                providers().join(", ")
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_reserved_names() {
        let c = Config {
            provider: "nosuch".into(),
            ..Config::default()
        };
        let err = open(&c).err().unwrap();
        assert_eq!(err.kind(), ErrorKind::UnknownProvider);
        assert!(err.to_string().contains("memory"));
        assert!(register("cookie", |_| unreachable!()).is_err());
        assert!(register(" ", |_| unreachable!()).is_err());
        assert!(providers().contains(&"cookie".to_owned()));
    }
}

//! Host options: which keys stay with the host, and the core config from the rest.
//!
//! A host's options object mixes host objects (a store, a clock) with the camelCase beego keys
//! of [`Config::apply_options`]. The binding takes out the [`HOST_KEYS`] itself (they are its
//! own objects), turns the rest into JSON and calls [`configure`], which applies the rules
//! every host shares: the host's default provider, and a store selecting the host-store
//! provider.

use polysession_core::{Config, Error, Result};

/// Option keys a binding keeps for itself: `store` (a host store object) and `now` (a clock
/// returning Unix milliseconds, for tests).
pub const HOST_KEYS: [&str; 2] = ["store", "now"];

/// Whether `key` is one of the [`HOST_KEYS`].
pub fn is_host_key(key: &str) -> bool {
    HOST_KEYS.contains(&key)
}

/// What a host defaults to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostDefaults {
    /// The provider when none is named (`cookie` at the edge, `memory` in Node and Python).
    pub provider: &'static str,
    /// The provider a `store` object selects (`kv` at the edge).
    pub store_provider: &'static str,
}

/// Where the options came from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// No options: the defaults.
    Defaults,
    /// An options object without its host keys, as JSON: strict (an unknown key is an error).
    Options(&'a str),
    /// A beego JSON config string: lenient, as beego's own decoder.
    BeegoJson(&'a str),
}

/// The config for `source` on a host with `defaults`; `has_store` says whether a `store`
/// object was given.
///
/// ```
/// use polysession_bindings::options::{configure, HostDefaults, Source};
/// let edge = HostDefaults { provider: "cookie", store_provider: "kv" };
/// let config = configure(Source::Options(r#"{"maxLifetime": 60}"#), true, edge).unwrap();
/// assert_eq!((config.provider.as_str(), config.max_lifetime), ("kv", 60));
/// let err = configure(Source::Options(r#"{"provider": "kv"}"#), false, edge).unwrap_err();
/// assert!(err.to_string().contains("`store`"));
/// ```
///
/// # Errors
/// [`BadConfig`](polysession_core::ErrorKind::BadConfig) naming the key: an unknown or bad
/// option, a host-store provider without a store, or a store for another provider.
pub fn configure(source: Source<'_>, has_store: bool, defaults: HostDefaults) -> Result<Config> {
    let mut config = Config::default();
    config.provider = String::new();
    match source {
        Source::Defaults => {}
        Source::Options(json) => config.apply_options(json)?,
        Source::BeegoJson(json) => config.apply_beego_json(json)?,
    }
    if config.provider.is_empty() {
        config.provider = if has_store {
            defaults.store_provider
        } else {
            defaults.provider
        }
        .to_owned();
    }
    let store_provider = config
        .provider
        .eq_ignore_ascii_case(defaults.store_provider);
    if has_store != store_provider {
        let why = if store_provider {
            format!(
                "the {} provider needs a `store` object (get, put, delete)",
                defaults.store_provider
            )
        } else {
            format!(
                "a `store` is only used by the {} provider",
                defaults.store_provider
            )
        };
        return Err(Error::bad_config("store", why));
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EDGE: HostDefaults = HostDefaults {
        provider: "cookie",
        store_provider: "kv",
    };

    #[test]
    fn defaults_and_store_rules() {
        let provider = |source, store| configure(source, store, EDGE).map(|c| c.provider);
        assert_eq!(provider(Source::Defaults, false).unwrap(), "cookie");
        assert_eq!(provider(Source::Defaults, true).unwrap(), "kv");
        assert_eq!(
            provider(Source::Options(r#"{"PROVIDER": "memory"}"#), false).unwrap(),
            "memory"
        );
        assert_eq!(provider(Source::BeegoJson("{}"), false).unwrap(), "cookie");
        for (source, store) in [
            (Source::Options(r#"{"provider": "kv"}"#), false),
            (Source::Options(r#"{"provider": "memory"}"#), true),
            (Source::Options(r#"{"provider": "KV"}"#), false),
        ] {
            let err = configure(source, store, EDGE).unwrap_err();
            assert_eq!(err.code(), "BAD_CONFIG");
            assert!(err.to_string().contains("`store`"), "{err}");
        }
        let err = configure(Source::Options(r#"{"cookieNmae": "x"}"#), false, EDGE).unwrap_err();
        assert!(err.to_string().contains("cookieNmae"));
        assert!(configure(Source::BeegoJson(r#"{"cookieNmae": "x"}"#), false, EDGE).is_ok());
        assert!(is_host_key("store") && is_host_key("now") && !is_host_key("provider"));
    }
}

//! Every config text a user writes: beego's JSON config, app.conf, the options object of the
//! bindings (strict) and their beego JSON form (lenient), the cookie provider's keys, the
//! memory and memcache provider configs. Parsers do not validate (the manager does, as it
//! is built); app.conf does, so what it accepts must be valid. A manager built from an
//! accepted config (memory and cookie providers) must start and release a session, and one
//! that cannot be built must say `BAD_CONFIG`.
//!
//! Input: one selector byte, then the text.
#![no_main]

use futures_executor::block_on;
use libfuzzer_sys::fuzz_target;
use polysession_bindings::options::{configure, HostDefaults, Source};
use polysession_core::{AppConf, Config, KeyRing, Manager, MemoryStore, RequestInfo};
use polysession_providers::MemcacheConfig;

const EDGE: HostDefaults = HostDefaults {
    provider: "cookie",
    store_provider: "kv",
};
const NODE: HostDefaults = HostDefaults {
    provider: "memory",
    store_provider: "kv",
};

/// On the in-process providers, a parsed config builds a manager that runs a request, or
/// is refused as `BAD_CONFIG`.
fn accepted(config: Config) {
    if !matches!(config.provider.as_str(), "memory" | "cookie") {
        return; // the file provider would create directories; the rest need servers
    }
    let valid = config.validate().is_ok();
    let manager = match Manager::new(config) {
        Ok(m) => m,
        Err(e) if e.kind() == polysession_core::ErrorKind::BadConfig => return,
        Err(e) => panic!("building a manager failed with something else than BAD_CONFIG: {e}"),
    };
    assert!(
        valid,
        "a manager was built from a config validate() refuses"
    );
    let mut session = match block_on(manager.start(&RequestInfo::default())) {
        Ok(s) => s,
        Err(e) => panic!("start on a fresh request failed: {e}"),
    };
    let _ = session.set("k", 1);
    match block_on(manager.release(session)) {
        Ok(_) => {}
        Err(e) if e.kind() == polysession_core::ErrorKind::TooLarge => {}
        Err(e) => panic!("release failed: {e}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    match which % 8 {
        0 => {
            if let Ok(c) = Config::from_beego_json(&text) {
                accepted(c);
            }
        }
        1 => {
            if let Ok(conf) = AppConf::parse(&text) {
                if let Err(e) = conf.config.validate() {
                    panic!("app.conf accepted an invalid config: {e}");
                }
                accepted(conf.config);
            }
        }
        2 => {
            let mut c = Config::default();
            if c.apply_options(&text).is_ok() {
                accepted(c);
            }
        }
        3 | 4 => {
            let defaults = if which % 8 == 3 { EDGE } else { NODE };
            for has_store in [false, true] {
                for source in [Source::Options(&text), Source::BeegoJson(&text)] {
                    if let Ok(c) = configure(source, has_store, defaults) {
                        if !has_store {
                            accepted(c);
                        }
                    }
                }
            }
        }
        5 => {
            let _ = KeyRing::from_config(&text);
        }
        6 => {
            let _ = MemoryStore::from_config(&text);
        }
        _ => {
            let _ = MemcacheConfig::parse(&text);
        }
    }
});

//! What the fuzz targets share: the managers they drive, the seeded session they can find,
//! and the checks every response must pass.
//!
//! Inputs are bytes split into text fields at `\n` (the seeds in `scripts/fuzz.sh` are
//! written the same way), so a corpus stays readable and the vectors in `tests/vectors/`
//! seed it directly.

use futures_executor::block_on;
use polysession_bindings::http::{response_headers, ResponseHeaders};
use polysession_core::{
    Config, Expect, IdHash, Manager, ManualClock, MemoryStore, Record, Release, Session,
};
use std::sync::{Arc, OnceLock};

/// The clock every manager reads: the `created` of the vectors, so their sessions are live.
pub const NOW_MS: u64 = 1_700_000_000_000;

/// The id prefix of the [`memory`] manager.
pub const ID_PREFIX: &str = "app-";

/// A session stored in the [`memory`] manager before any input, so inputs can name it.
pub const SEEDED_ID: &str = "app-000102030405060708090a0b0c0d0e0f";

/// The cookie provider's key: the one of `tests/vectors/sealed.json`.
pub const SEALED_KEY: &str = "0123456789abcdef0123456789abcdef-a";

/// The text fields of an input: the bytes, lossily decoded, split at `\n`.
pub fn fields(data: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(data)
        .split('\n')
        .map(str::to_owned)
        .collect()
}

fn build(config: Config) -> Manager {
    let store = Arc::new(MemoryStore::new(10_000));
    match Manager::builder(config)
        .store(store)
        .clock(Arc::new(ManualClock::new(NOW_MS)))
        .build()
    {
        Ok(m) => m,
        Err(e) => panic!("fuzz manager config: {e}"),
    }
}

fn config(builder: polysession_core::ConfigBuilder) -> Config {
    match builder.build() {
        Ok(c) => c,
        Err(e) => panic!("fuzz manager config: {e}"),
    }
}

/// Memory provider with every id transport on (cookie, query and form, header), a trusted
/// `X-Forwarded-Proto`, an id prefix and small limits, holding [`SEEDED_ID`].
pub fn memory() -> &'static Manager {
    static M: OnceLock<Manager> = OnceLock::new();
    M.get_or_init(|| {
        let m = build(config(
            Config::builder()
                .provider("memory", "")
                .id_prefix(ID_PREFIX)
                .sid_in_url_query(true)
                .sid_in_header(true)
                .trust_forwarded_proto(true)
                .max_session_bytes(64 << 10)
                .max_session_keys(100),
        ));
        seed(
            &m,
            SEEDED_ID,
            br#"{"v":1,"created":1700000000000,"data":{"user":"asta"}}"#,
        );
        m
    })
}

/// Memory provider with HMAC-SHA1 ids in a header only (no cookie).
pub fn hmac() -> &'static Manager {
    static M: OnceLock<Manager> = OnceLock::new();
    M.get_or_init(|| {
        build(config(
            Config::builder()
                .provider("memory", "")
                .id_hash(IdHash::HmacSha1("fuzz hmac key".into()))
                .enable_set_cookie(false)
                .sid_in_header(true),
        ))
    })
}

/// The cookie provider (sealed sessions) under [`SEALED_KEY`], beego's cookie name.
pub fn sealed() -> &'static Manager {
    static M: OnceLock<Manager> = OnceLock::new();
    M.get_or_init(|| {
        build(config(Config::builder().provider(
            "cookie",
            format!(r#"{{"keys":["{SEALED_KEY}"]}}"#),
        )))
    })
}

/// Stores `data` as the payload of `id` in `m`'s store, live for an hour.
pub fn seed(m: &Manager, id: &str, data: &[u8]) {
    let Some(store) = m.store() else {
        panic!("seed: the manager has no store")
    };
    let record = Record {
        data: data.to_vec(),
        expires_at_ms: NOW_MS + 3_600_000,
        version: 1,
    };
    if let Err(e) = block_on(store.write(id, &record, Expect::Any)) {
        panic!("seed: the memory store failed: {e}");
    }
}

/// Starts a session: client input alone must never make `start` fail, and a session that is
/// not new carries an id of the manager's shape.
pub fn start(m: &Manager, info: &polysession_core::RequestInfo<'_>) -> Session {
    let session = match block_on(m.start(info)) {
        Ok(s) => s,
        Err(e) => panic!("start failed on client input: {e}"),
    };
    assert!(
        session.is_new() || m.is_valid_id(session.id()),
        "adopted an id of the wrong shape: {:?}",
        session.id()
    );
    assert!(
        m.is_valid_id(session.id()),
        "issued a bad id: {:?}",
        session.id()
    );
    session
}

/// Releases a session: only a session over the size limits may fail (`TOO_LARGE`), and the
/// headers built from the outcome carry no control character.
pub fn release(m: &Manager, session: Session) -> Option<Release> {
    match block_on(m.release(session)) {
        Ok(r) => {
            check_headers(&response_headers(&r, &["Accept-Encoding"], &[]));
            Some(r)
        }
        Err(e) if e.kind() == polysession_core::ErrorKind::TooLarge => None,
        Err(e) => panic!("release failed: {e}"),
    }
}

/// No header value a host would send may hold CR, LF or NUL.
pub fn check_headers(h: &ResponseHeaders) {
    let values = [
        h.set_cookie.as_deref(),
        h.sid_header.as_ref().map(|(_, v)| v.as_str()),
        h.sid_header.as_ref().map(|(n, _)| n.as_str()),
        h.vary.as_deref(),
        h.cache_control.as_deref(),
    ];
    for v in values.into_iter().flatten() {
        assert!(
            !v.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0),
            "a control character in a header value: {v:?}"
        );
    }
}

//! The `redis`, `redis_cluster` and `redis_sentinel` providers.
//!
//! One Redis hash per session under `prefix + id`: `v` (version), `e` (expiry, Unix ms) and
//! `d` (the payload), expiring natively with `PEXPIREAT`. Writes, touches and (outside a
//! cluster) regenerate run as Lua scripts, so compare-and-set and the id move are atomic.
//!
//! `redis` and `redis_sentinel` keep a client-side cache of the sessions they read and write,
//! kept right by the server (RESP3 `CLIENT TRACKING`, see [`ClientCache`]): a read-only request
//! for an unchanged session sends no command, a write sends one.

mod cache;

pub use cache::{CacheStats, ClientCache};

use polysession_core::{
    async_trait, Capabilities, Config, Error, Expect, IdGenerator, Record, Result, Store,
};
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{MultipleNodeRoutingInfo, RoutingInfo, SingleNodeRoutingInfo};
use redis::sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType};
use redis::{
    AsyncConnectionConfig, ClientTlsConfig, Cmd, IntoConnectionInfo, ProtocolVersion, PushInfo,
    RedisError, Script, TlsCertificates, TlsMode, Value,
};
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use tokio::sync::{Mutex, OnceCell};

use cache::{Cache, Known};

/// Default timeout of every Redis call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

static WRITE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local cur = redis.call('HGET', KEYS[1], 'v')
if ARGV[1] == '-' then
  if cur then return 0 end
elseif ARGV[1] ~= '*' then
  if cur ~= ARGV[1] then return 0 end
end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'e', ARGV[3], 'd', ARGV[4])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
-- Read last: a connection tracking keys (client_cache) keeps tracking this one.
redis.call('HGET', KEYS[1], 'v')
return 1
"#,
    )
});

static TOUCH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'e', ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
redis.call('HGET', KEYS[1], 'v')
return 1
"#,
    )
});

static MOVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('EXISTS', KEYS[2]) == 1 or redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RENAME', KEYS[1], KEYS[2])
return 1
"#,
    )
});

/// Which Redis deployment a [`RedisStore`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One server (`redis`).
    Standalone,
    /// A Redis Cluster (`redis_cluster`).
    Cluster,
    /// A master found through Sentinel (`redis_sentinel`).
    Sentinel,
}

impl Mode {
    fn provider(self) -> &'static str {
        match self {
            Mode::Standalone => "redis",
            Mode::Cluster => "redis_cluster",
            Mode::Sentinel => "redis_sentinel",
        }
    }
}

/// A parsed Redis provider config.
/// Its `Debug` shows the password as `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// Deployment kind.
    pub mode: Mode,
    /// `host:port` addresses (servers, cluster seeds or sentinels).
    pub addrs: Vec<String>,
    /// Password, if any.
    pub password: Option<String>,
    /// Database number (standalone and sentinel).
    pub db: i64,
    /// Sentinel master name.
    pub master: String,
    /// Key prefix of every session.
    pub prefix: String,
    /// Timeout of every call (connect and response).
    pub timeout: Duration,
    /// TLS to every server (and, behind Sentinel, to the sentinels too); `None` is plain TCP.
    pub tls: Option<RedisTls>,
    /// The client-side cache (`redis` and `redis_sentinel`; on by default); `None` sends every
    /// read to Redis.
    pub client_cache: Option<ClientCache>,
}

/// TLS settings of a Redis provider: `rediss://` addresses, or `"tls"` in the JSON config.
///
/// Certificates are always verified, hostname included; there is no insecure mode. Without
/// `ca_file`, the system's root certificates are trusted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedisTls {
    /// A PEM file of the CA certificates to trust instead of the system's.
    pub ca_file: Option<PathBuf>,
    /// A PEM client certificate (chain), for servers that require one (`tls-auth-clients`).
    pub cert_file: Option<PathBuf>,
    /// The PEM private key of `cert_file`.
    pub key_file: Option<PathBuf>,
}

impl RedisTls {
    /// The certificates as the `redis` crate takes them, read from their files.
    fn certificates(&self, bad: impl Fn(String) -> Error) -> Result<TlsCertificates> {
        let read = |what: &str, path: &PathBuf| {
            std::fs::read(path).map_err(|e| bad(format!("tls.{what} {}: {e}", path.display())))
        };
        let client_tls = match (&self.cert_file, &self.key_file) {
            (Some(cert), Some(key)) => Some(ClientTlsConfig {
                client_cert: read("cert_file", cert)?,
                client_key: read("key_file", key)?,
            }),
            (None, None) => None,
            _ => return Err(bad("tls.cert_file and tls.key_file go together".into())),
        };
        let root_cert = match &self.ca_file {
            Some(ca) => Some(read("ca_file", ca)?),
            None => None,
        };
        Ok(TlsCertificates {
            client_tls,
            root_cert,
        })
    }
}

impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConfig")
            .field("mode", &self.mode)
            .field("addrs", &self.addrs)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("db", &self.db)
            .field("master", &self.master)
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("tls", &self.tls)
            .field("client_cache", &self.client_cache)
            .finish()
    }
}

impl RedisConfig {
    /// Parses beego's comma form or JSON.
    ///
    /// - `redis`: `addr,poolsize,password,dbnum[,idleTimeout,idleCheckFreq,maxRetries]`
    /// - `redis_cluster`: `addr1;addr2,poolsize,password`
    /// - `redis_sentinel`: `sentinel1;sentinel2,poolsize,password,dbnum,mastername`
    /// - JSON: `{"save_path": "addr1;addr2", "password": "...", "db_num": 0,
    ///   "master_name": "mymaster", "prefix": "session:", "timeout_ms": 2000,
    ///   "tls": {"ca_file": "ca.pem", "cert_file": "client.pem", "key_file": "client.key"},
    ///   "client_cache": true, "client_cache_entries": 10000, "client_cache_bytes": 67108864,
    ///   "client_cache_max_stale_ms": 1000}`; a key it does not know is an error.
    ///
    /// The client-side cache ([`ClientCache`]) is on by default for `redis` and
    /// `redis_sentinel`, and off for `redis_cluster`, where asking for it is an error.
    ///
    /// `poolsize` is accepted and ignored: one multiplexed connection serves all requests.
    ///
    /// TLS: addresses written `rediss://host:port` (all of them, or none), or `"tls": true` (or
    /// the object above) in JSON. A config asking for TLS never connects in plain text.
    ///
    /// ```
    /// use polysession_providers::{Mode, RedisConfig};
    /// let c = RedisConfig::parse(Mode::Standalone, "127.0.0.1:6379,100,secret,2").unwrap();
    /// assert_eq!((c.addrs[0].as_str(), c.password.as_deref(), c.db), ("127.0.0.1:6379", Some("secret"), 2));
    /// let s = RedisConfig::parse(Mode::Sentinel, "127.0.0.1:26379;127.0.0.1:26380,10,,0,main").unwrap();
    /// assert_eq!((s.addrs.len(), s.master.as_str()), (2, "main"));
    /// ```
    ///
    /// # Errors
    /// [`BadConfig`](polysession_core::ErrorKind::BadConfig) naming `providerConfig`.
    pub fn parse(mode: Mode, text: &str) -> Result<Self> {
        let bad = |what: &str| {
            Error::bad_config("providerConfig", format!("{}: {what}", mode.provider()))
        };
        let mut c = RedisConfig {
            mode,
            addrs: Vec::new(),
            password: None,
            db: 0,
            master: "mymaster".into(),
            prefix: String::new(),
            timeout: DEFAULT_TIMEOUT,
            tls: None,
            client_cache: (mode != Mode::Cluster).then(ClientCache::default),
        };
        let text = text.trim();
        let addrs;
        // `Some(false)`: the JSON config says `"tls": false`.
        let mut tls_asked = None;
        if text.starts_with('{') {
            let v: serde_json::Value =
                serde_json::from_str(text).map_err(|e| bad(&format!("invalid JSON: {e}")))?;
            let Some(object) = v.as_object() else {
                return Err(bad("the JSON config must be an object"));
            };
            if let Some(key) = object.keys().find(|k| !JSON_KEYS.contains(&k.as_str())) {
                return Err(bad(&format!(
                    "unknown key `{key}` (known: {})",
                    JSON_KEYS.join(", ")
                )));
            }
            match v.get("tls") {
                None | Some(serde_json::Value::Null) => {}
                Some(serde_json::Value::Bool(b)) => {
                    tls_asked = Some(*b);
                    if *b {
                        c.tls = Some(RedisTls::default());
                    }
                }
                Some(serde_json::Value::Object(o)) => {
                    let mut tls = RedisTls::default();
                    for (key, value) in o {
                        let Some(path) = value.as_str().filter(|p| !p.is_empty()) else {
                            return Err(bad(&format!("tls.{key} must be a file path")));
                        };
                        let slot = match key.as_str() {
                            "ca_file" => &mut tls.ca_file,
                            "cert_file" => &mut tls.cert_file,
                            "key_file" => &mut tls.key_file,
                            other => {
                                return Err(bad(&format!(
                                "unknown key `tls.{other}` (known: ca_file, cert_file, key_file)"
                            )))
                            }
                        };
                        *slot = Some(PathBuf::from(path));
                    }
                    if tls.cert_file.is_some() != tls.key_file.is_some() {
                        return Err(bad("tls.cert_file and tls.key_file go together"));
                    }
                    tls_asked = Some(true);
                    c.tls = Some(tls);
                }
                Some(_) => return Err(bad("tls must be true, false or an object")),
            }
            let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
            let n = |k: &str| {
                v.get(k).and_then(|x| {
                    x.as_i64()
                        .or_else(|| x.as_str().and_then(|s| s.parse().ok()))
                })
            };
            addrs = s("save_path")
                .or_else(|| s("addr"))
                .or_else(|| s("addrs"))
                .unwrap_or_default();
            c.password = s("password").filter(|p| !p.is_empty());
            c.db = n("db_num")
                .or_else(|| n("dbnum"))
                .or_else(|| n("db"))
                .unwrap_or(0);
            if let Some(m) = s("master_name")
                .or_else(|| s("mastername"))
                .filter(|m| !m.is_empty())
            {
                c.master = m;
            }
            c.prefix = s("prefix").or_else(|| s("key_prefix")).unwrap_or_default();
            if let Some(ms) = n("timeout_ms") {
                c.timeout = Duration::from_millis(
                    u64::try_from(ms).map_err(|_| bad("timeout_ms must be >= 0"))?,
                );
            }
            c.client_cache = client_cache(mode, &v).map_err(|what| bad(&what))?;
        } else {
            let parts: Vec<&str> = text.split(',').map(str::trim).collect();
            addrs = parts.first().copied().unwrap_or_default().to_owned();
            if let Some(p) = parts.get(1).filter(|p| !p.is_empty()) {
                p.parse::<u32>()
                    .map_err(|_| bad(&format!("poolsize `{p}` is not a number")))?;
            }
            c.password = parts
                .get(2)
                .filter(|p| !p.is_empty())
                .map(|p| p.to_string());
            if mode != Mode::Cluster {
                if let Some(d) = parts.get(3).filter(|p| !p.is_empty()) {
                    c.db = d
                        .parse()
                        .map_err(|_| bad(&format!("dbnum `{d}` is not a number")))?;
                }
            }
            if mode == Mode::Sentinel {
                if let Some(m) = parts.get(4).filter(|p| !p.is_empty()) {
                    c.master = m.to_string();
                }
            }
        }
        let mut schemes = Vec::new();
        for a in addrs.split(';').map(str::trim).filter(|a| !a.is_empty()) {
            let (tls, rest) = if let Some(rest) = a.strip_prefix("rediss://") {
                (true, rest)
            } else if let Some(rest) = a.strip_prefix("redis://") {
                (false, rest)
            } else if let Some((scheme, _)) = a.split_once("://") {
                return Err(bad(&format!(
                    "address scheme `{scheme}://` is not supported (redis:// or rediss://)"
                )));
            } else {
                (false, a)
            };
            let rest = rest.trim_end_matches('/');
            if rest.is_empty() || rest.contains(['/', '@', '?', '#']) {
                return Err(bad(&format!(
                    "address `{a}` must be host:port (a password goes in its own field)"
                )));
            }
            schemes.push(tls);
            c.addrs.push(rest.to_owned());
        }
        if c.addrs.is_empty() {
            return Err(bad("needs an address, e.g. 127.0.0.1:6379"));
        }
        if schemes.contains(&true) {
            if schemes.contains(&false) {
                return Err(bad("either every address is rediss:// or none is"));
            }
            if tls_asked == Some(false) {
                return Err(bad("rediss:// addresses with \"tls\": false"));
            }
            c.tls.get_or_insert_with(RedisTls::default);
        }
        if c.db < 0 {
            return Err(bad("dbnum must be >= 0"));
        }
        if c.timeout.is_zero() {
            return Err(bad("timeout_ms must be > 0"));
        }
        Ok(c)
    }

    fn url(&self, addr: &str, with_db: bool) -> String {
        let auth = match &self.password {
            Some(p) => format!(":{}@", percent(p)),
            None => String::new(),
        };
        let scheme = if self.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        if with_db {
            format!("{scheme}://{auth}{addr}/{}", self.db)
        } else {
            format!("{scheme}://{auth}{addr}")
        }
    }

    /// The addresses, for messages: never the password.
    fn shown(&self) -> String {
        self.addrs.join(";")
    }
}

/// The `client_cache*` keys of a JSON config.
fn client_cache(
    mode: Mode,
    v: &serde_json::Value,
) -> std::result::Result<Option<ClientCache>, String> {
    let on = match v.get("client_cache") {
        None | Some(serde_json::Value::Null) => mode != Mode::Cluster,
        Some(serde_json::Value::Bool(b)) => *b,
        Some(_) => return Err("client_cache must be true or false".into()),
    };
    if on && mode == Mode::Cluster {
        return Err(
            "client_cache is not supported for redis_cluster (it is always off there)".into(),
        );
    }
    let mut settings = ClientCache::default();
    let number = |key: &str| -> std::result::Result<Option<u64>, String> {
        match v.get(key) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(x) => x
                .as_u64()
                .filter(|n| *n > 0)
                .map(Some)
                .ok_or_else(|| format!("{key} must be a whole number > 0")),
        }
    };
    let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    if let Some(n) = number("client_cache_entries")? {
        settings.entries = size(n);
    }
    if let Some(n) = number("client_cache_bytes")? {
        settings.bytes = size(n);
    }
    if let Some(n) = number("client_cache_max_stale_ms")? {
        settings.max_stale = Duration::from_millis(n);
    }
    Ok(on.then_some(settings))
}

/// The keys of the JSON config.
const JSON_KEYS: &[&str] = &[
    "save_path",
    "addr",
    "addrs",
    "password",
    "db_num",
    "dbnum",
    "db",
    "master_name",
    "mastername",
    "prefix",
    "key_prefix",
    "timeout_ms",
    "tls",
    "client_cache",
    "client_cache_entries",
    "client_cache_bytes",
    "client_cache_max_stale_ms",
];

/// Percent-encodes a password for a `redis://` URL.
fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

enum Conn {
    Cluster(ClusterConnection),
    /// `redis` and `redis_sentinel`: one multiplexed connection we replace ourselves after a
    /// failure, so that a new one turns tracking on (and, behind Sentinel, finds the master),
    /// and the call that met the failure is tried once more on it.
    Direct(Box<Direct>),
}

/// Where a [`Direct`] connection comes from.
enum Source {
    Client {
        /// RESP3 (the cache needs it), and the RESP2 client for servers before Redis 6.
        resp3: Box<redis::Client>,
        resp2: Box<redis::Client>,
    },
    Sentinel {
        resp3: Box<Mutex<SentinelClient>>,
        resp2: Box<Mutex<SentinelClient>>,
    },
}

/// A multiplexed connection, replaced after a failure; with the cache, a new connection turns
/// tracking on before it is used and a lost one empties the cache.
struct Direct {
    source: Source,
    config: AsyncConnectionConfig,
    current: std::sync::Mutex<Option<(MultiplexedConnection, u64)>>,
    connecting: Mutex<()>,
    epochs: AtomicU64,
    cache: Option<Arc<Cache>>,
    /// The server refused RESP3 (before Redis 6): no cache, RESP2 from then on.
    resp2_only: AtomicBool,
}

impl Direct {
    fn current(&self) -> Option<(MultiplexedConnection, u64)> {
        self.current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Stops using the connection of `epoch` (any, for `None`) and the cache it vouched for.
    fn drop_connection(&self, epoch: Option<u64>) {
        let mut current = self
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some((_, e)) = &*current else { return };
        let e = *e;
        if epoch.is_none_or(|epoch| epoch == e) {
            *current = None;
            drop(current);
            tracing::debug!(target: "polysession", "redis connection dropped after a failure; the next call opens another");
            if let Some(cache) = &self.cache {
                cache.lost(e);
            }
        }
    }

    /// The connection to use: the current one unless it is the one that just failed
    /// (`failed`), else a new one.
    async fn get(
        &self,
        failed: Option<u64>,
    ) -> std::result::Result<(MultiplexedConnection, u64), RedisError> {
        if let Some((c, e)) = self.current() {
            if Some(e) != failed {
                return Ok((c, e));
            }
        }
        let _one_at_a_time = self.connecting.lock().await;
        if let Some((c, e)) = self.current() {
            if Some(e) != failed {
                return Ok((c, e));
            }
        }
        self.drop_connection(failed);
        let cached = self
            .cache
            .as_ref()
            .filter(|_| !self.resp2_only.load(Ordering::Relaxed));
        let (conn, epoch) = match cached {
            Some(cache) => match self.open_tracked(cache).await {
                Ok(opened) => opened,
                Err(e) if refuses_resp3(&e) => {
                    tracing::info!(target: "polysession", error = %e, "the Redis server does not speak RESP3 (before Redis 6): client-side cache off");
                    self.resp2_only.store(true, Ordering::Relaxed);
                    self.open_plain().await?
                }
                Err(e) => return Err(e),
            },
            None => self.open_plain().await?,
        };
        *self
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((conn.clone(), epoch));
        Ok((conn, epoch))
    }

    async fn open(
        &self,
        resp3: bool,
        config: &AsyncConnectionConfig,
    ) -> std::result::Result<MultiplexedConnection, RedisError> {
        match (&self.source, resp3) {
            (Source::Client { resp3: c, .. }, true) | (Source::Client { resp2: c, .. }, false) => {
                c.get_multiplexed_async_connection_with_config(config).await
            }
            (Source::Sentinel { resp3: s, .. }, true)
            | (Source::Sentinel { resp2: s, .. }, false) => {
                s.lock()
                    .await
                    .get_async_connection_with_config(config)
                    .await
            }
        }
    }

    async fn open_plain(&self) -> std::result::Result<(MultiplexedConnection, u64), RedisError> {
        let conn = self.open(false, &self.config).await?;
        Ok((conn, self.epochs.fetch_add(1, Ordering::Relaxed) + 1))
    }

    /// A RESP3 connection whose pushes reach `cache`, with tracking on.
    async fn open_tracked(
        &self,
        cache: &Arc<Cache>,
    ) -> std::result::Result<(MultiplexedConnection, u64), RedisError> {
        let epoch = cache.connecting();
        let weak = Arc::downgrade(cache);
        let config = self.config.clone().set_push_sender(move |info: PushInfo| {
            if let Some(cache) = weak.upgrade() {
                cache.push(epoch, &info);
            }
            Ok::<(), std::convert::Infallible>(())
        });
        let mut conn = self.open(true, &config).await?;
        // NOLOOP: our own writes send us nothing; the scripts read their key last, so it
        // stays tracked (see the `cache` module).
        redis::cmd("CLIENT")
            .arg("TRACKING")
            .arg("ON")
            .arg("NOLOOP")
            .query_async::<()>(&mut conn)
            .await?;
        cache.connected(epoch);
        Ok((conn, epoch))
    }
}

/// The server does not speak RESP3 (`HELLO` is unknown before Redis 6).
fn refuses_resp3(e: &RedisError) -> bool {
    let text = e.to_string();
    e.code()
        .is_some_and(|code| code != "WRONGPASS" && code != "NOAUTH" && code != "NOPERM")
        && (text.contains("HELLO") || text.contains("unknown command"))
}

/// Sessions in Redis: standalone, Cluster or behind Sentinel.
pub struct RedisStore {
    config: RedisConfig,
    /// The shape of the ids stored, when known: `count` matches only keys of that shape.
    ids: Option<IdGenerator>,
    conn: OnceCell<Conn>,
    cache: Option<Arc<Cache>>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("mode", &self.config.mode)
            .field("addrs", &self.config.addrs)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A store for `config`; it connects on first use (or [`Store::init`]).
    pub fn new(config: RedisConfig) -> Self {
        let cache = match config.mode {
            Mode::Cluster => None,
            _ => config.client_cache.map(|c| Arc::new(Cache::new(c))),
        };
        RedisStore {
            config,
            ids: None,
            conn: OnceCell::new(),
            cache,
        }
    }

    /// The client-side cache's counters; `None` when the cache is off.
    pub fn cache_stats(&self) -> Option<CacheStats> {
        self.cache.as_ref().map(|c| c.stats())
    }

    /// Counts only keys shaped like the ids `ids` makes (the store prefix, the id prefix,
    /// then exactly `hex_len` lowercase hex digits), so that with the default empty prefix
    /// `count` does not report every other key of the database as a session.
    /// [`from_config`](Self::from_config) sets it from the manager's config.
    #[must_use]
    pub fn with_ids(mut self, ids: IdGenerator) -> Self {
        self.ids = Some(ids);
        self
    }

    /// Parses `config.provider_config` for `mode`.
    ///
    /// # Errors
    /// [`BadConfig`](polysession_core::ErrorKind::BadConfig) naming `providerConfig`.
    pub fn from_config(mode: Mode, config: &Config) -> Result<Self> {
        Ok(
            RedisStore::new(RedisConfig::parse(mode, &config.provider_config)?)
                .with_ids(IdGenerator::new(config)),
        )
    }

    fn fail(&self, what: impl std::fmt::Display) -> Error {
        Error::store(
            self.config.mode.provider(),
            format!("{} ({what})", self.config.shown()),
        )
    }

    /// The TLS certificates to use, read from their files; `None` for plain TCP, or for TLS
    /// with the system's roots and no client certificate.
    fn certificates(&self) -> Result<Option<TlsCertificates>> {
        match &self.config.tls {
            Some(tls) if tls != &RedisTls::default() => tls
                .certificates(|what| {
                    Error::bad_config(
                        "providerConfig",
                        format!("{}: {what}", self.config.mode.provider()),
                    )
                })
                .map(Some),
            _ => Ok(None),
        }
    }

    fn no_address(&self) -> Error {
        self.fail("no address is configured")
    }

    fn redis_err(&self, e: RedisError) -> Error {
        // Redis error texts carry no credentials; addresses are ours, shown without them.
        self.fail("request failed").with_source(e)
    }

    fn key(&self, id: &str) -> String {
        format!("{}{id}", self.config.prefix)
    }

    async fn timed<T>(&self, fut: impl Future<Output = Result<T>>) -> Result<T> {
        match tokio::time::timeout(self.config.timeout, fut).await {
            Ok(r) => r,
            Err(_) => {
                // A connection that does not answer is not trusted again (nor its cache).
                if let Some(Conn::Direct(d)) = self.conn.get() {
                    d.drop_connection(None);
                }
                Err(self.fail(format!(
                    "timed out after {} ms",
                    self.config.timeout.as_millis()
                )))
            }
        }
    }

    /// A `redis::Client` for the standalone server.
    fn client(&self, protocol: ProtocolVersion) -> Result<redis::Client> {
        let c = &self.config;
        let addr = c.addrs.first().ok_or_else(|| self.no_address())?;
        let mut info = c
            .url(addr, true)
            .into_connection_info()
            .map_err(|e| self.redis_err(e))?;
        let redis_settings = info.redis_settings().clone().set_protocol(protocol);
        info = info.set_redis_settings(redis_settings);
        match self.certificates()? {
            Some(certs) => redis::Client::build_with_tls(info, certs),
            None => redis::Client::open(info),
        }
        .map_err(|e| self.redis_err(e))
    }

    /// A Sentinel client for the master, speaking `protocol` to it.
    fn sentinel(&self, protocol: ProtocolVersion) -> Result<SentinelClient> {
        let c = &self.config;
        // The sentinels are asked without the password (it is the master's), over TLS when
        // the master is.
        let sentinels = c
            .addrs
            .iter()
            .map(|a| {
                let scheme = if c.tls.is_some() { "rediss" } else { "redis" };
                format!("{scheme}://{a}")
                    .into_connection_info()
                    .map(|info| info.addr().clone())
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| self.redis_err(e))?;
        let mut b =
            SentinelClientBuilder::new(sentinels, c.master.clone(), SentinelServerType::Master)
                .map_err(|e| self.redis_err(e))?
                .set_client_to_redis_db(c.db)
                .set_client_to_redis_protocol(protocol);
        if let Some(p) = &c.password {
            b = b.set_client_to_redis_password(p);
        }
        if c.tls.is_some() {
            b = b
                .set_client_to_redis_tls_mode(TlsMode::Secure)
                .set_client_to_sentinel_tls_mode(TlsMode::Secure);
        }
        if let Some(certs) = self.certificates()? {
            b = b
                .set_client_to_redis_certificates(certs.clone())
                .set_client_to_sentinel_certificates(certs);
        }
        b.build().map_err(|e| self.redis_err(e))
    }

    fn direct(&self, source: Source) -> Conn {
        let c = &self.config;
        Conn::Direct(Box::new(Direct {
            source,
            config: AsyncConnectionConfig::new()
                .set_connection_timeout(Some(c.timeout))
                .set_response_timeout(Some(c.timeout)),
            current: std::sync::Mutex::new(None),
            connecting: Mutex::new(()),
            epochs: AtomicU64::new(0),
            cache: self.cache.clone(),
            resp2_only: AtomicBool::new(false),
        }))
    }

    async fn connect(&self) -> Result<&Conn> {
        self.conn
            .get_or_try_init(|| async {
                let c = &self.config;
                match c.mode {
                    Mode::Standalone => Ok(self.direct(Source::Client {
                        resp3: Box::new(self.client(ProtocolVersion::RESP3)?),
                        resp2: Box::new(self.client(ProtocolVersion::RESP2)?),
                    })),
                    Mode::Cluster => {
                        let mut b = ClusterClient::builder(c.addrs.iter().map(|a| c.url(a, false)))
                            .connection_timeout(c.timeout)
                            .response_timeout(c.timeout)
                            .retries(1);
                        if let Some(p) = &c.password {
                            b = b.password(p.clone());
                        }
                        if c.tls.is_some() {
                            b = b.tls(TlsMode::Secure);
                        }
                        if let Some(certs) = self.certificates()? {
                            b = b.certs(certs);
                        }
                        let client = b.build().map_err(|e| self.redis_err(e))?;
                        Ok(Conn::Cluster(
                            client
                                .get_async_connection()
                                .await
                                .map_err(|e| self.redis_err(e))?,
                        ))
                    }
                    Mode::Sentinel => Ok(self.direct(Source::Sentinel {
                        resp3: Box::new(Mutex::new(self.sentinel(ProtocolVersion::RESP3)?)),
                        resp2: Box::new(Mutex::new(self.sentinel(ProtocolVersion::RESP2)?)),
                    })),
                }
            })
            .await
    }

    /// Runs `f` on a connection. On a direct connection, a failed call (the master moved
    /// behind Sentinel, or the connection broke) is tried once more on a new connection.
    async fn with_conn<T, F, Fut>(&self, f: F) -> Result<T>
    where
        F: Fn(AnyConn) -> Fut,
        Fut: Future<Output = std::result::Result<T, RedisError>>,
    {
        self.timed(async {
            match self.connect().await? {
                Conn::Cluster(c) => f(AnyConn::Cluster(c.clone()))
                    .await
                    .map_err(|e| self.redis_err(e)),
                Conn::Direct(d) => {
                    let mut failed = None;
                    for attempt in 0..2 {
                        let (conn, epoch) = match d.get(failed).await {
                            Ok(got) => got,
                            Err(e) => return Err(self.redis_err(e)),
                        };
                        match f(AnyConn::Plain(conn)).await {
                            Ok(v) => return Ok(v),
                            Err(e) if attempt == 1 || !is_failover(&e) => {
                                if is_failover(&e) {
                                    d.drop_connection(Some(epoch));
                                }
                                return Err(self.redis_err(e));
                            }
                            Err(_) => failed = Some(epoch),
                        }
                    }
                    Err(self.fail("no connection"))
                }
            }
        })
        .await
    }
}

/// Errors after which a Sentinel client should look the master up again.
fn is_failover(e: &RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_timeout()
        || matches!(
            e.code(),
            Some("READONLY") | Some("LOADING") | Some("MASTERDOWN")
        )
}

/// A cloned connection of any mode, usable by `Script` and `Cmd`.
enum AnyConn {
    Cluster(ClusterConnection),
    Plain(MultiplexedConnection),
}

impl ConnectionLike for AnyConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> redis::RedisFuture<'a, Value> {
        match self {
            AnyConn::Cluster(c) => c.req_packed_command(cmd),
            AnyConn::Plain(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<Value>> {
        match self {
            AnyConn::Cluster(c) => c.req_packed_commands(cmd, offset, count),
            AnyConn::Plain(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            AnyConn::Cluster(c) => c.get_db(),
            AnyConn::Plain(c) => c.get_db(),
        }
    }
}

fn expect_arg(e: Expect) -> String {
    match e {
        Expect::Any => "*".into(),
        Expect::Absent => "-".into(),
        Expect::Version(v) => v.to_string(),
    }
}

/// Counts the keys matching `pattern` on one node (`node` in a cluster) or the only server.
async fn scan_count(
    conn: &mut AnyConn,
    pattern: &str,
    node: Option<&(String, u16)>,
) -> std::result::Result<u64, RedisError> {
    let mut cursor: u64 = 0;
    let mut n = 0u64;
    loop {
        let mut cmd = redis::cmd("SCAN");
        cmd.arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(1000);
        let value: Value = match (&mut *conn, node) {
            (AnyConn::Cluster(c), Some((host, port))) => {
                let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
                    host: host.clone(),
                    port: *port,
                });
                c.route_command(cmd, routing).await?
            }
            (other, _) => cmd.query_async(other).await?,
        };
        let (next, keys): (u64, Vec<String>) = redis::from_redis_value(value)?;
        n += keys.len() as u64;
        cursor = next;
        if cursor == 0 {
            return Ok(n);
        }
    }
}

/// The `SCAN MATCH` glob of the session keys: the store prefix and the id prefix taken
/// literally, then one `[0-9a-f]` per hex digit of an id when the id shape is known, else `*`.
/// SCAN still walks every key of the database (Redis has no prefix index); the pattern makes
/// the count right, and a caller that shows it (the demo's `/stats`) caches it.
fn count_pattern(prefix: &str, ids: Option<&IdGenerator>) -> String {
    fn literal(out: &mut String, text: &str) {
        for c in text.chars() {
            if matches!(c, '*' | '?' | '[' | ']' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
    }
    let mut pattern = String::new();
    literal(&mut pattern, prefix);
    match ids {
        Some(ids) => {
            literal(&mut pattern, ids.prefix());
            for _ in 0..ids.hex_len() {
                pattern.push_str("[0-9a-f]");
            }
        }
        None => pattern.push('*'),
    }
    pattern
}

/// The `host:port` of every master, as the cluster client knows them: the keys of its answer
/// to a command sent to all masters. (Not `CLUSTER NODES`: a node that has not met another
/// one, as in a one-node cluster, lists itself without an address there.)
async fn cluster_masters(
    conn: &mut ClusterConnection,
) -> std::result::Result<Vec<(String, u16)>, RedisError> {
    let answers = conn
        .route_command(
            redis::cmd("PING").clone(),
            RoutingInfo::MultiNode((MultipleNodeRoutingInfo::AllMasters, None)),
        )
        .await?;
    let Value::Map(answers) = answers else {
        return Err(RedisError::from((
            redis::ErrorKind::UnexpectedReturnType,
            "PING to all masters did not answer per node",
        )));
    };
    let mut masters = Vec::with_capacity(answers.len());
    for (addr, _) in answers {
        let addr: String = redis::from_redis_value(addr)?;
        let parsed = addr
            .rsplit_once(':')
            .and_then(|(host, port)| Some((host.to_owned(), port.parse().ok()?)));
        match parsed {
            Some(node) => masters.push(node),
            None => {
                return Err(RedisError::from((
                    redis::ErrorKind::UnexpectedReturnType,
                    "a cluster node address is not host:port",
                    addr,
                )))
            }
        }
    }
    Ok(masters)
}

/// The `v`, `e` and `d` fields of a session hash, as raw bytes.
type Fields = (Option<Vec<u8>>, Option<Vec<u8>>, Option<Vec<u8>>);

fn wrong_type(e: &RedisError) -> bool {
    e.code() == Some("WRONGTYPE")
}

impl RedisStore {
    /// `HMGET` of a session's fields.
    async fn read_key(&self, key: &str) -> Result<Option<Record>> {
        let key = key.to_owned();
        let got = self
            .with_conn(|mut c| {
                let key = key.clone();
                async move {
                    // Raw bytes: a field that is not a number is not a session of ours (no
                    // session), not a store failure.
                    let r: std::result::Result<Fields, RedisError> = redis::cmd("HMGET")
                        .arg(&key)
                        .arg("v")
                        .arg("e")
                        .arg("d")
                        .query_async(&mut c)
                        .await;
                    match r {
                        // A key of another type under our prefix is not a session of ours.
                        Err(e) if wrong_type(&e) => Ok((None, None, None)),
                        other => other,
                    }
                }
            })
            .await?;
        let number =
            |b: Option<Vec<u8>>| -> Option<u64> { std::str::from_utf8(&b?).ok()?.parse().ok() };
        Ok(match (number(got.0), number(got.1), got.2) {
            (Some(version), Some(expires_at_ms), Some(data)) => Some(Record {
                data,
                expires_at_ms,
                version,
            }),
            _ => None,
        })
    }

    /// The compare-and-set script.
    async fn write_key(&self, key: &str, record: &Record, expect: Expect) -> Result<bool> {
        if cfg!(polysession_bench_floor) {
            return self.write_key_unchecked(key, record).await;
        }
        let exp = expect_arg(expect);
        let done: i64 = self
            .with_conn(|mut c| {
                let mut inv = WRITE.prepare_invoke();
                inv.key(key)
                    .arg(&exp)
                    .arg(record.version)
                    .arg(record.expires_at_ms)
                    .arg(&record.data[..]);
                async move { inv.invoke_async(&mut c).await }
            })
            .await?;
        Ok(done == 1)
    }

    /// The floor of any one-command write, for `FLOOR=1 bash bench/tower-http.sh` only (built
    /// with `RUSTFLAGS="--cfg polysession_bench_floor"`, which no feature sets): one
    /// unconditional `HSET`, no version check and no new expiry. It loses concurrent updates
    /// and can undo a logout; it exists to measure what the compare-and-set script costs.
    async fn write_key_unchecked(&self, key: &str, record: &Record) -> Result<bool> {
        let mut cmd = redis::cmd("HSET");
        cmd.arg(key)
            .arg("v")
            .arg(record.version)
            .arg("e")
            .arg(record.expires_at_ms)
            .arg("d")
            .arg(&record.data[..]);
        self.with_conn(|mut c| {
            let cmd = cmd.clone();
            async move { cmd.query_async::<i64>(&mut c).await }
        })
        .await?;
        Ok(true)
    }

    /// The touch script.
    async fn touch_key(&self, key: &str, expires_at_ms: u64) -> Result<bool> {
        let done: i64 = self
            .with_conn(|mut c| {
                let mut inv = TOUCH.prepare_invoke();
                inv.key(key).arg(expires_at_ms);
                async move { inv.invoke_async(&mut c).await }
            })
            .await?;
        Ok(done == 1)
    }
}

#[async_trait]
impl Store for RedisStore {
    fn name(&self) -> &str {
        self.config.mode.provider()
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            native_ttl: true,
            compare_and_set: true,
            touch: true,
        }
    }

    async fn init(&self) -> Result<()> {
        self.with_conn(
            |mut c| async move { redis::cmd("PING").query_async::<String>(&mut c).await },
        )
        .await
        .map(|_| ())
    }

    async fn read(&self, id: &str) -> Result<Option<Record>> {
        let key = self.key(id);
        let Some(cache) = &self.cache else {
            return self.read_key(&key).await;
        };
        if let Some(hit) = cache.get(&key) {
            return Ok(Some(hit));
        }
        let ticket = cache.ticket(&key);
        let got = self.read_key(&key).await;
        ticket.read_done(got.as_ref().ok().map(Option::as_ref));
        got
    }

    async fn write(&self, id: &str, record: &Record, expect: Expect) -> Result<bool> {
        let key = self.key(id);
        let ticket = self.cache.as_ref().map(|c| c.ticket(&key));
        let done = self.write_key(&key, record, expect).await;
        if let Some(ticket) = ticket {
            match &done {
                Ok(true) => ticket.change_done(Known::Record(record), true),
                // The compare-and-set failed: someone else wrote; the manager reads again.
                Ok(false) => ticket.change_done(Known::Nothing, true),
                Err(_) => ticket.change_done(Known::Nothing, false),
            }
        }
        done
    }

    async fn touch(&self, id: &str, expires_at_ms: u64) -> Result<bool> {
        let key = self.key(id);
        let ticket = self.cache.as_ref().map(|c| c.ticket(&key));
        let done = self.touch_key(&key, expires_at_ms).await;
        if let Some(ticket) = ticket {
            match &done {
                Ok(true) => ticket.change_done(Known::Expiry(expires_at_ms), true),
                Ok(false) => ticket.change_done(Known::Nothing, true),
                Err(_) => ticket.change_done(Known::Nothing, false),
            }
        }
        done
    }

    async fn destroy(&self, id: &str) -> Result<()> {
        let key = self.key(id);
        let ticket = self.cache.as_ref().map(|c| c.ticket(&key));
        let done = self
            .with_conn(|mut c| {
                let key = key.clone();
                async move { redis::cmd("DEL").arg(&key).query_async::<i64>(&mut c).await }
            })
            .await
            .map(|_| ());
        if let Some(ticket) = ticket {
            ticket.change_done(Known::Nothing, done.is_ok());
        }
        done
    }

    async fn regenerate(&self, old: &str, new: &str) -> Result<bool> {
        let (from, to) = (self.key(old), self.key(new));
        if self.config.mode != Mode::Cluster {
            let ticket = self.cache.as_ref().map(|c| c.ticket(&from));
            let done: Result<i64> = self
                .with_conn(|mut c| {
                    let mut inv = MOVE.prepare_invoke();
                    inv.key(&from).key(&to);
                    async move { inv.invoke_async(&mut c).await }
                })
                .await;
            if let (Some(ticket), Some(cache)) = (ticket, &self.cache) {
                ticket.change_done(Known::Nothing, done.is_ok());
                cache.forget(&to);
            }
            return Ok(done? == 1);
        }
        // In a cluster the two ids hash to different slots: copy under compare-and-set, then
        // delete the old key. The new id is unknown to clients until this returns.
        polysession_core::regenerate_by_copy(self, old, new).await
    }

    async fn count(&self, _now_ms: u64) -> Result<u64> {
        let pattern = count_pattern(&self.config.prefix, self.ids.as_ref());
        let cluster = self.config.mode == Mode::Cluster;
        self.with_conn(|mut c| {
            let pattern = pattern.clone();
            async move {
                if !cluster {
                    return scan_count(&mut c, &pattern, None).await;
                }
                let masters = match &mut c {
                    AnyConn::Cluster(cc) => cluster_masters(cc).await?,
                    _ => Vec::new(),
                };
                let mut total = 0;
                for node in &masters {
                    total += scan_count(&mut c, &pattern, Some(node)).await?;
                }
                Ok(total)
            }
        })
        .await
    }

    async fn gc(&self, _now_ms: u64) -> Result<u64> {
        Ok(0) // Redis expires sessions itself.
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polysession_core::ErrorKind;

    #[test]
    fn debug_shows_no_password() {
        for config in [
            "127.0.0.1:6379,100,hunter2-pw,0",
            r#"{"save_path":"h:1","password":"hunter2-pw"}"#,
        ] {
            let c = RedisConfig::parse(Mode::Standalone, config).unwrap();
            let text = format!("{c:?} {c:#?}");
            assert!(
                !text.contains("hunter2") && text.contains("<redacted>"),
                "{text}"
            );
        }
    }

    #[test]
    fn beego_and_json_forms() {
        let c = RedisConfig::parse(Mode::Standalone, "127.0.0.1:6379").unwrap();
        assert_eq!(
            (c.addrs.clone(), c.password.clone(), c.db),
            (vec!["127.0.0.1:6379".to_owned()], None, 0)
        );
        let c = RedisConfig::parse(Mode::Cluster, "a:1;b:2;c:3,100,pw").unwrap();
        assert_eq!(c.addrs.len(), 3);
        assert_eq!(c.password.as_deref(), Some("pw"));
        let c = RedisConfig::parse(Mode::Sentinel, "s:26379,1,,3").unwrap();
        assert_eq!((c.db, c.master.as_str()), (3, "mymaster"));
        let c = RedisConfig::parse(
            Mode::Standalone,
            r#"{"save_path":"127.0.0.1:6380","password":"p@ss","db_num":"4","prefix":"app:","timeout_ms":500}"#,
        )
        .unwrap();
        assert_eq!(
            (c.db, c.prefix.as_str(), c.timeout),
            (4, "app:", Duration::from_millis(500))
        );
        assert_eq!(c.url("h:1", true), "redis://:p%40ss@h:1/4");
        assert_eq!(c.shown(), "127.0.0.1:6380");
    }

    #[test]
    fn tls_forms() {
        let c = RedisConfig::parse(Mode::Standalone, "rediss://h:6380,10,pw,1").unwrap();
        assert_eq!(c.tls, Some(RedisTls::default()));
        assert_eq!(c.url("h:6380", true), "rediss://:pw@h:6380/1");
        let c = RedisConfig::parse(Mode::Cluster, "rediss://a:1;rediss://b:2").unwrap();
        assert_eq!((c.addrs.len(), c.tls.is_some()), (2, true));
        let c = RedisConfig::parse(
            Mode::Sentinel,
            r#"{"save_path":"s:26379","tls":{"ca_file":"/ca.pem","cert_file":"/c.pem","key_file":"/k.pem"}}"#,
        )
        .unwrap();
        let tls = c.tls.clone().unwrap();
        assert_eq!(
            (tls.ca_file, tls.cert_file, tls.key_file),
            (
                Some("/ca.pem".into()),
                Some("/c.pem".into()),
                Some("/k.pem".into())
            )
        );
        assert_eq!(c.url("s:26379", false), "rediss://s:26379");
        let c = RedisConfig::parse(Mode::Standalone, r#"{"save_path":"h:1","tls":true}"#).unwrap();
        assert_eq!(c.tls, Some(RedisTls::default()));
        let c = RedisConfig::parse(
            Mode::Standalone,
            r#"{"save_path":"redis://h:1/","tls":false}"#,
        )
        .unwrap();
        assert_eq!((c.tls, c.addrs[0].as_str()), (None, "h:1"));
        for (text, why) in [
            ("rediss://a:1;redis://b:2", "every address is rediss://"),
            ("rediss://a:1;b:2", "every address is rediss://"),
            (
                r#"{"save_path":"rediss://a:1","tls":false}"#,
                "\"tls\": false",
            ),
            ("unix:///tmp/redis.sock", "`unix://` is not supported"),
            ("redis://:pw@h:1", "must be host:port"),
            (r#"{"save_path":"h:1","tls":"yes"}"#, "tls must be"),
            (r#"{"save_path":"h:1","tls":{"ca":"/x"}}"#, "`tls.ca`"),
            (
                r#"{"save_path":"h:1","tls":{"cert_file":"/x"}}"#,
                "go together",
            ),
            (
                r#"{"save_path":"h:1","pasword":"x"}"#,
                "unknown key `pasword`",
            ),
            (r#"{"save_path":["h:1"]}"#, "needs an address"),
        ] {
            let err = RedisConfig::parse(Mode::Standalone, text).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BadConfig, "{text}");
            assert!(err.to_string().contains(why), "{text}: {err}");
        }
    }

    #[tokio::test]
    async fn a_missing_certificate_file_is_a_config_error() {
        let c = RedisConfig::parse(
            Mode::Standalone,
            r#"{"save_path":"127.0.0.1:1","tls":{"ca_file":"/nonexistent/ca.pem"}}"#,
        )
        .unwrap();
        let err = RedisStore::new(c).init().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadConfig, "{err}");
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
    }

    #[test]
    fn bad_configs_name_the_key() {
        for (mode, text) in [
            (Mode::Standalone, ""),
            (Mode::Standalone, "h:1,abc"),
            (Mode::Standalone, "h:1,1,,x"),
            (Mode::Standalone, "{nope"),
            (Mode::Standalone, r#"{"save_path":"h:1","timeout_ms":0}"#),
            (Mode::Sentinel, ";;"),
            (
                Mode::Standalone,
                r#"{"save_path":"h:1","client_cache":"yes"}"#,
            ),
            (
                Mode::Standalone,
                r#"{"save_path":"h:1","client_cache_entries":0}"#,
            ),
            (
                Mode::Standalone,
                r#"{"save_path":"h:1","client_cache_bytes":-1}"#,
            ),
            (
                Mode::Sentinel,
                r#"{"save_path":"h:1","client_cache_max_stale_ms":1.5}"#,
            ),
            (Mode::Cluster, r#"{"save_path":"h:1","client_cache":true}"#),
        ] {
            let err = RedisConfig::parse(mode, text).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BadConfig, "{text}");
            assert!(err.to_string().contains("providerConfig"));
        }
    }

    #[test]
    fn the_client_cache_is_on_by_default_except_in_a_cluster() {
        let parse = |mode, text| RedisConfig::parse(mode, text).unwrap().client_cache;
        assert_eq!(parse(Mode::Standalone, "h:1"), Some(ClientCache::default()));
        assert_eq!(
            parse(Mode::Sentinel, "h:1,1,,0,m"),
            Some(ClientCache::default())
        );
        assert_eq!(parse(Mode::Cluster, "h:1;h:2"), None);
        assert_eq!(
            parse(Mode::Cluster, r#"{"save_path":"h:1","client_cache":false}"#),
            None
        );
        assert_eq!(
            parse(
                Mode::Standalone,
                r#"{"save_path":"h:1","client_cache":false}"#
            ),
            None
        );
        let custom = parse(
            Mode::Standalone,
            r#"{"save_path":"h:1","client_cache_entries":5,"client_cache_bytes":100,"client_cache_max_stale_ms":20}"#,
        );
        assert_eq!(
            custom,
            Some(ClientCache {
                entries: 5,
                bytes: 100,
                max_stale: Duration::from_millis(20)
            })
        );
    }

    /// The `redis` cases of `tests/vectors/records.json` (docs/wire-format.md): the hash a
    /// write leaves and its expiry, and the record read back. Needs a Redis 7 at
    /// `$POLYSESSION_REDIS` (default 127.0.0.1:6379); skipped when none answers.
    #[tokio::test]
    async fn record_vectors_in_redis() {
        let Some(addr) = live_redis() else { return };
        for case in &crate::vectors::cases("redis") {
            let name = case["name"].as_str().unwrap();
            let record = crate::vectors::record(&case["record"]).unwrap();
            // A prefix of this process in front of the vector's: the key stays recognisable.
            let prefix = format!(
                "ps{}vectors:{}",
                std::process::id(),
                case["key_prefix"].as_str().unwrap()
            );
            let config = format!(r#"{{"save_path":"{addr}","prefix":"{prefix}"}}"#);
            let store = RedisStore::new(RedisConfig::parse(Mode::Standalone, &config).unwrap());
            let id = case["id"].as_str().unwrap();
            assert!(store.write(id, &record, Expect::Any).await.unwrap());
            let key = format!(
                "ps{}vectors:{}",
                std::process::id(),
                case["key"].as_str().unwrap()
            );
            let (fields, at) = store
                .with_conn(|mut c| {
                    let key = key.clone();
                    async move {
                        let fields: std::collections::BTreeMap<String, Vec<u8>> =
                            redis::cmd("HGETALL").arg(&key).query_async(&mut c).await?;
                        let at: i64 = redis::cmd("PEXPIRETIME")
                            .arg(&key)
                            .query_async(&mut c)
                            .await?;
                        Ok((fields, at))
                    }
                })
                .await
                .unwrap();
            let want: std::collections::BTreeMap<String, Vec<u8>> = case["fields"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().as_bytes().to_vec()))
                .collect();
            assert_eq!(fields, want, "{name}");
            assert_eq!(Some(at), case["pexpireat"].as_i64(), "{name}");
            assert_eq!(store.read(id).await.unwrap(), Some(record), "{name}");
            store.destroy(id).await.unwrap();
        }
        // Fields that are not numbers: no session, not a store failure.
        let prefix = format!("ps{}corrupt:", std::process::id());
        let config = format!(r#"{{"save_path":"{addr}","prefix":"{prefix}"}}"#);
        let store = RedisStore::new(RedisConfig::parse(Mode::Standalone, &config).unwrap());
        let id = "0123456789abcdef0123456789abcdef";
        for (v, e) in [("x", "9999999999999"), ("1", "-5"), ("", "")] {
            let key = format!("{prefix}{id}");
            store
                .with_conn(|mut c| {
                    let key = key.clone();
                    async move {
                        redis::cmd("HSET")
                            .arg(&key)
                            .arg("v")
                            .arg(v)
                            .arg("e")
                            .arg(e)
                            .arg("d")
                            .arg("{}")
                            .query_async::<()>(&mut c)
                            .await
                    }
                })
                .await
                .unwrap();
            assert_eq!(store.read(id).await.unwrap(), None, "v={v:?} e={e:?}");
        }
        store.destroy(id).await.unwrap();
    }

    /// The address of the Redis the live tests use: `$POLYSESSION_REDIS`, default
    /// 127.0.0.1:6379. `None` (the test is skipped) when none answers, except under
    /// `CI=true`, where a missing server fails the test.
    fn live_redis() -> Option<String> {
        let addr = std::env::var("POLYSESSION_REDIS")
            .ok()
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| "127.0.0.1:6379".into());
        let up = std::net::ToSocketAddrs::to_socket_addrs(addr.as_str())
            .ok()
            .and_then(|mut it| it.next())
            .is_some_and(|sa| {
                std::net::TcpStream::connect_timeout(&sa, Duration::from_secs(1)).is_ok()
            });
        if !up {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "no Redis at {addr} (CI=true: the server must run)"
            );
            eprintln!("SKIPPED (not under CI): no Redis at {addr}");
            return None;
        }
        Some(addr)
    }

    #[test]
    fn count_pattern_takes_prefixes_literally_and_the_id_shape() {
        let config = Config::builder()
            .id_prefix("a-")
            .id_length(16)
            .build()
            .unwrap();
        let ids = IdGenerator::new(&config);
        let pattern = count_pattern("s[1]?\\:", Some(&ids));
        assert_eq!(
            pattern,
            format!("s\\[1\\]\\?\\\\:a-{}", "[0-9a-f]".repeat(32))
        );
        assert_eq!(count_pattern("app:", None), "app:*");
    }

    /// With the default empty prefix, `count` sees the whole database: only keys shaped like
    /// the manager's ids are sessions, not the application's other keys (issue 11, fix 9).
    #[tokio::test]
    async fn count_with_an_empty_prefix_counts_only_session_ids() {
        let Some(addr) = live_redis() else { return };
        // A database of its own (no other test uses 11), and an id prefix of this process.
        let id_prefix = format!("c{}-", std::process::id());
        let config = Config::builder()
            .provider("redis", format!(r#"{{"save_path":"{addr}","db_num":11}}"#))
            .id_prefix(id_prefix.clone())
            .build()
            .unwrap();
        let store = RedisStore::from_config(Mode::Standalone, &config).unwrap();
        let ids = IdGenerator::new(&config);
        let baseline = store.count(0).await.unwrap();
        let live: Vec<String> = (0..3)
            .map(|_| ids.generate(&polysession_core::OsEntropy).unwrap())
            .collect();
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let record = Record {
            data: b"{}".to_vec(),
            expires_at_ms: now_ms + 60_000,
            version: 1,
        };
        for id in &live {
            store.write(id, &record, Expect::Absent).await.unwrap();
        }
        // Not sessions: the app's own keys, a longer and a shorter hex tail, upper case.
        let hex = "0123456789abcdef0123456789abcdef";
        let others = [
            "user:42".to_owned(),
            format!("{id_prefix}{hex}0"),
            format!("{id_prefix}{}", &hex[1..]),
            format!("{id_prefix}{}", hex.to_uppercase()),
            format!("x{id_prefix}{hex}"),
        ];
        store
            .with_conn(|mut c| {
                let others = others.clone();
                async move {
                    for key in &others {
                        redis::cmd("SET")
                            .arg(key)
                            .arg("1")
                            .arg("EX")
                            .arg(60)
                            .query_async::<()>(&mut c)
                            .await?;
                    }
                    Ok(())
                }
            })
            .await
            .unwrap();
        let counted = store.count(0).await.unwrap();
        for id in &live {
            store.destroy(id).await.unwrap();
        }
        store
            .with_conn(|mut c| {
                let others = others.clone();
                async move {
                    redis::cmd("DEL")
                        .arg(&others[..])
                        .query_async::<()>(&mut c)
                        .await
                }
            })
            .await
            .unwrap();
        assert_eq!(counted, baseline + 3);
    }
}

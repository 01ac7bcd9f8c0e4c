//! The `mysql`, `postgresql` and `sqlite` providers, through sqlx.
//!
//! beego's table and column names (`session`, `session_key`, `session_data`,
//! `session_expiry`) plus `session_version` for compare-and-set. The table is created if
//! missing (unless `create_table` is false); expiry is checked inside every query; one pool per
//! provider is reused across requests.

use polysession_core::{async_trait, Capabilities, Config, Error, Expect, Record, Result, Store};
use std::future::Future;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::OnceCell;

/// Default timeout of every SQL call (and of acquiring a pooled connection).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Which database a [`SqlStore`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// MySQL or MariaDB (`mysql`).
    MySql,
    /// PostgreSQL (`postgresql`, alias `postgres`).
    Postgres,
    /// SQLite (`sqlite`).
    Sqlite,
}

impl Dialect {
    fn provider(self) -> &'static str {
        match self {
            Dialect::MySql => "mysql",
            Dialect::Postgres => "postgresql",
            Dialect::Sqlite => "sqlite",
        }
    }
}

/// A parsed SQL provider config.
/// Its `Debug` shows the URL without its password.
#[derive(Clone, PartialEq, Eq)]
pub struct SqlConfig {
    /// The database kind.
    pub dialect: Dialect,
    /// A connection URL for sqlx (`mysql://`, `postgres://`, `sqlite:`).
    pub url: String,
    /// Table name (letters, digits, `_`).
    pub table: String,
    /// Create the table when missing.
    pub create_table: bool,
    /// Timeout of every call.
    pub timeout: Duration,
    /// Most pooled connections.
    pub max_connections: u32,
}

fn bad(dialect: Dialect, what: impl std::fmt::Display) -> Error {
    Error::bad_config("providerConfig", format!("{}: {what}", dialect.provider()))
}

/// A go-sql-driver DSN (`user:pass@tcp(host:port)/db?params`) as a `mysql://` URL, or why
/// not. Parameters that mean nothing to a session table are accepted; `tls` becomes sqlx's
/// `ssl-mode` (`true`: `VERIFY_IDENTITY`, `skip-verify`: `REQUIRED`, `preferred`:
/// `PREFERRED`, `false`: `DISABLED`); a TLS config registered by name in Go code, and any
/// parameter this does not know, are refused.
fn go_dsn_to_url(dsn: &str) -> std::result::Result<String, String> {
    const SHAPE: &str = "expected user:pass@tcp(host:port)/db or mysql://user:pass@host:port/db";
    let (creds, rest) = match dsn.rsplit_once('@') {
        Some((c, r)) => (Some(c), r),
        None => (None, dsn),
    };
    let (net, path) = rest.split_once('/').ok_or(SHAPE)?;
    let addr = match net.split_once('(') {
        Some(("tcp", a)) => a.strip_suffix(')').ok_or(SHAPE)?,
        Some(_) => return Err(format!("{SHAPE} (unix sockets are not supported)")),
        None if net.is_empty() => "127.0.0.1:3306",
        None => net,
    };
    let (db, query) = match path.split_once('?') {
        Some((d, q)) => (d, q),
        None => (path, ""),
    };
    let mut ssl_mode = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key == "tls" {
            ssl_mode = Some(go_tls(value)?);
        } else {
            go_param(key, value)?;
        }
    }
    let auth = match creds {
        Some(c) => match c.split_once(':') {
            Some((u, p)) => format!("{}:{}@", enc(u), enc(p)),
            None => format!("{}@", enc(c)),
        },
        None => String::new(),
    };
    let query = match ssl_mode {
        Some(mode) => format!("?ssl-mode={mode}"),
        None => String::new(),
    };
    Ok(format!("mysql://{auth}{addr}/{db}{query}"))
}

/// sqlx's `ssl-mode` for a go-sql-driver `tls` value.
fn go_tls(value: &str) -> std::result::Result<&'static str, String> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok("VERIFY_IDENTITY"),
        "skip-verify" => Ok("REQUIRED"),
        "preferred" => Ok("PREFERRED"),
        "false" => Ok("DISABLED"),
        _ => Err(format!(
            "tls={value}: a TLS config registered in Go code has no meaning here; use \
             tls=true (the system's CAs) or a mysql:// URL with ssl-mode and ssl-ca"
        )),
    }
}

/// The URL query parameters sqlx understands, per dialect: any other is an error, since
/// sqlx would drop it silently (a misspelt `sslmode` would connect without TLS).
fn check_url_params(dialect: Dialect, url: &str) -> std::result::Result<(), String> {
    const MYSQL: &[&str] = &[
        "ssl-mode",
        "sslmode",
        "ssl-ca",
        "sslca",
        "ssl-cert",
        "sslcert",
        "ssl-key",
        "sslkey",
        "charset",
        "collation",
        "statement-cache-capacity",
        "socket",
        "timezone",
        "time-zone",
    ];
    const POSTGRES: &[&str] = &[
        "sslmode",
        "ssl-mode",
        "sslrootcert",
        "ssl-root-cert",
        "ssl-ca",
        "sslcert",
        "ssl-cert",
        "sslkey",
        "ssl-key",
        "statement-cache-capacity",
        "host",
        "hostaddr",
        "port",
        "dbname",
        "user",
        "password",
        "application_name",
        "options",
    ];
    let known = match dialect {
        Dialect::MySql => MYSQL,
        Dialect::Postgres => POSTGRES,
        Dialect::Sqlite => return Ok(()),
    };
    let Some((_, query)) = url.split_once('?') else {
        return Ok(());
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let key = pair.split_once('=').map_or(pair, |(k, _)| k);
        let options_entry =
            dialect == Dialect::Postgres && key.starts_with("options[") && key.ends_with(']');
        if !known.contains(&key) && !options_entry {
            return Err(format!(
                "the URL parameter `{key}` is not supported (known: {})",
                known.join(", ")
            ));
        }
    }
    Ok(())
}

/// Whether a go-sql-driver parameter can be accepted (see [`go_dsn_to_url`]).
fn go_param(key: &str, value: &str) -> std::result::Result<(), String> {
    match key {
        // Connection details sqlx sets itself, or that a session table never meets.
        "charset"
        | "collation"
        | "parseTime"
        | "loc"
        | "timeout"
        | "readTimeout"
        | "writeTimeout"
        | "interpolateParams"
        | "columnsWithAlias"
        | "clientFoundRows"
        | "checkConnLiveness"
        | "maxAllowedPacket"
        | "timeTruncate"
        | "rejectReadOnly"
        | "allowNativePasswords"
        | "multiStatements"
        | "connectionAttributes" => Ok(()),
        "allowCleartextPasswords"
        | "allowOldPasswords"
        | "allowAllFiles"
        | "allowFallbackToPlaintext"
            if value.eq_ignore_ascii_case("false") =>
        {
            Ok(())
        }
        other => Err(format!(
            "the DSN parameter `{other}={value}` is not supported"
        )),
    }
}

fn enc(s: &str) -> String {
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

impl SqlConfig {
    /// Parses beego's config string for `dialect`, or JSON
    /// `{"dsn": "...", "table": "session", "create_table": true, "timeout_ms": 5000, "max_connections": 10}`.
    ///
    /// - `mysql`: `user:pass@tcp(host:port)/db?params` (go-sql-driver) or `mysql://user:pass@host:port/db`
    /// - `postgresql`: `postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem`
    ///
    /// TLS: `sslmode` (`disable`, `allow`, `prefer` (the default, as libpq's), `require`,
    /// `verify-ca`, `verify-full`) with `sslrootcert`, `sslcert`, `sslkey` for PostgreSQL;
    /// `ssl-mode` (`DISABLED`, `PREFERRED` (the default), `REQUIRED`, `VERIFY_CA`,
    /// `VERIFY_IDENTITY`) with `ssl-ca`, `ssl-cert`, `ssl-key` for MySQL, or the Go DSN's
    /// `tls=`. Without a CA file the system's root certificates are trusted. A URL parameter
    /// that is not understood is an error.
    /// - `sqlite`: `sqlite:/path/to/file.db`, `sqlite::memory:` or a plain path
    ///
    /// ```
    /// use polysession_providers::{Dialect, SqlConfig};
    /// let c = SqlConfig::parse(Dialect::MySql, "root:pw@tcp(127.0.0.1:3306)/test?charset=utf8").unwrap();
    /// assert_eq!(c.url, "mysql://root:pw@127.0.0.1:3306/test");
    /// let c = SqlConfig::parse(Dialect::Sqlite, r#"{"dsn":"/tmp/s.db","table":"web_sessions"}"#).unwrap();
    /// assert_eq!((c.url.as_str(), c.table.as_str()), ("sqlite:/tmp/s.db", "web_sessions"));
    /// ```
    ///
    /// # Errors
    /// [`BadConfig`](polysession_core::ErrorKind::BadConfig) naming `providerConfig`.
    pub fn parse(dialect: Dialect, text: &str) -> Result<Self> {
        let text = text.trim();
        let mut c = SqlConfig {
            dialect,
            url: String::new(),
            table: "session".into(),
            create_table: true,
            timeout: DEFAULT_TIMEOUT,
            max_connections: 10,
        };
        let dsn = if text.starts_with('{') {
            let v: serde_json::Value = serde_json::from_str(text)
                .map_err(|e| bad(dialect, format!("invalid JSON: {e}")))?;
            if let Some(t) = v.get("table").and_then(|t| t.as_str()) {
                c.table = t.to_owned();
            }
            if let Some(b) = v.get("create_table").and_then(|b| b.as_bool()) {
                c.create_table = b;
            }
            if let Some(ms) = v.get("timeout_ms").and_then(|t| t.as_u64()) {
                c.timeout = Duration::from_millis(ms);
            }
            if let Some(n) = v.get("max_connections").and_then(|t| t.as_u64()) {
                c.max_connections = u32::try_from(n).unwrap_or(u32::MAX);
            }
            v.get("dsn")
                .or_else(|| v.get("url"))
                .and_then(|d| d.as_str())
                .unwrap_or_default()
                .trim()
                .to_owned()
        } else {
            text.to_owned()
        };
        if dsn.is_empty() {
            return Err(bad(dialect, "needs a DSN"));
        }
        c.url = match dialect {
            Dialect::MySql if dsn.starts_with("mysql://") || dsn.starts_with("mariadb://") => dsn,
            Dialect::MySql => go_dsn_to_url(&dsn).map_err(|why| bad(dialect, why))?,
            Dialect::Postgres
                if dsn.starts_with("postgres://") || dsn.starts_with("postgresql://") =>
            {
                dsn
            }
            Dialect::Postgres => {
                return Err(bad(
                    dialect,
                    "expected a postgres://user:pass@host:port/db URL",
                ))
            }
            Dialect::Sqlite if dsn.starts_with("sqlite:") => dsn,
            Dialect::Sqlite => format!("sqlite:{dsn}"),
        };
        check_url_params(dialect, &c.url).map_err(|why| bad(dialect, why))?;
        if c.table.is_empty()
            || c.table.len() > 64
            || !c
                .table
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(bad(
                dialect,
                format!("table name `{}` must be 1-64 of A-Z a-z 0-9 _", c.table),
            ));
        }
        if c.timeout.is_zero() || c.max_connections == 0 {
            return Err(bad(dialect, "timeout_ms and max_connections must be > 0"));
        }
        Ok(c)
    }

    /// The URL without its password, for messages.
    fn shown(&self) -> String {
        match self.url.split_once("://") {
            Some((scheme, rest)) => {
                let rest = match rest.rsplit_once('@') {
                    Some((creds, host)) => {
                        let user = creds.split(':').next().unwrap_or_default();
                        format!("{user}@{host}")
                    }
                    None => rest.to_owned(),
                };
                format!("{scheme}://{}", rest.split('?').next().unwrap_or_default())
            }
            None => self.url.clone(),
        }
    }
}

/// Creates the SQLite database file, if missing, readable by its owner only: it holds live
/// session ids. SQLite gives its `-wal` and `-shm` files the database file's mode.
#[cfg(feature = "sqlite")]
fn private_file(path: &std::path::Path) -> std::io::Result<()> {
    if path.as_os_str() == ":memory:" || path.as_os_str().is_empty() {
        return Ok(());
    }
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    match open.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(std::io::Error::new(
            e.kind(),
            format!("{}: {e}", path.display()),
        )),
    }
}

impl std::fmt::Debug for SqlConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlConfig")
            .field("dialect", &self.dialect)
            .field("url", &self.shown())
            .field("table", &self.table)
            .field("create_table", &self.create_table)
            .field("timeout", &self.timeout)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// The statements of one dialect and table.
#[derive(Debug)]
struct Statements {
    create: String,
    check: String,
    read: String,
    insert: String,
    update: String,
    upsert: String,
    touch: String,
    delete: String,
    rename: String,
    count: String,
    gc: String,
}

impl Statements {
    fn new(d: Dialect, t: &str) -> Self {
        let p = |n: usize| match d {
            Dialect::Postgres => format!("${n}"),
            _ => "?".to_owned(),
        };
        let (q, blob) = match d {
            Dialect::MySql => ("`", "LONGBLOB"),
            Dialect::Postgres => ("\"", "BYTEA"),
            Dialect::Sqlite => ("\"", "BLOB"),
        };
        let t = format!("{q}{t}{q}");
        let create = format!(
            "CREATE TABLE IF NOT EXISTS {t} (session_key VARCHAR(255) NOT NULL PRIMARY KEY, \
             session_data {blob} NOT NULL, session_expiry BIGINT NOT NULL, session_version BIGINT NOT NULL DEFAULT 0){}",
            if d == Dialect::MySql { " ENGINE=InnoDB" } else { "" }
        );
        let upsert = match d {
            Dialect::MySql => format!(
                "INSERT INTO {t} (session_key, session_data, session_expiry, session_version) VALUES (?, ?, ?, ?) \
                 ON DUPLICATE KEY UPDATE session_data = VALUES(session_data), session_expiry = VALUES(session_expiry), \
                 session_version = VALUES(session_version)"
            ),
            _ => format!(
                "INSERT INTO {t} (session_key, session_data, session_expiry, session_version) VALUES ({}, {}, {}, {}) \
                 ON CONFLICT (session_key) DO UPDATE SET session_data = excluded.session_data, \
                 session_expiry = excluded.session_expiry, session_version = excluded.session_version",
                p(1), p(2), p(3), p(4)
            ),
        };
        Statements {
            create,
            check: format!("SELECT session_key, session_data, session_expiry, session_version FROM {t} WHERE 1 = 0"),
            read: format!(
                "SELECT session_data, session_expiry, session_version FROM {t} WHERE session_key = {} AND session_expiry > {}",
                p(1),
                p(2)
            ),
            insert: format!(
                "INSERT INTO {t} (session_key, session_data, session_expiry, session_version) VALUES ({}, {}, {}, {})",
                p(1),
                p(2),
                p(3),
                p(4)
            ),
            update: format!(
                "UPDATE {t} SET session_data = {}, session_expiry = {}, session_version = {} \
                 WHERE session_key = {} AND session_version = {} AND session_expiry > {}",
                p(1),
                p(2),
                p(3),
                p(4),
                p(5),
                p(6)
            ),
            upsert,
            touch: format!(
                "UPDATE {t} SET session_expiry = {} WHERE session_key = {} AND session_expiry > {}",
                p(1),
                p(2),
                p(3)
            ),
            delete: format!("DELETE FROM {t} WHERE session_key = {}", p(1)),
            rename: format!(
                "UPDATE {t} SET session_key = {} WHERE session_key = {} AND session_expiry > {}",
                p(1),
                p(2),
                p(3)
            ),
            count: format!("SELECT COUNT(*) FROM {t} WHERE session_expiry > {}", p(1)),
            gc: format!("DELETE FROM {t} WHERE session_expiry <= {}", p(1)),
        }
    }
}

/// Parsed connect options, kept until the pool is built inside the runtime.
enum Options {
    #[cfg(feature = "mysql")]
    MySql(sqlx::mysql::MySqlConnectOptions),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::postgres::PgConnectOptions),
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::sqlite::SqliteConnectOptions),
}

enum Pool {
    #[cfg(feature = "mysql")]
    MySql(sqlx::MySqlPool),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
}

/// Runs `$body` with `$pool` bound to the concrete pool, whatever the dialect.
macro_rules! on_pool {
    ($self:ident, $pool:ident => $body:expr) => {
        match $self.pool()? {
            #[cfg(feature = "mysql")]
            Pool::MySql($pool) => $body,
            #[cfg(feature = "postgres")]
            Pool::Postgres($pool) => $body,
            #[cfg(feature = "sqlite")]
            Pool::Sqlite($pool) => $body,
        }
    };
}

/// Sessions in a SQL table: MySQL/MariaDB, PostgreSQL or SQLite.
pub struct SqlStore {
    config: SqlConfig,
    sql: Statements,
    options: Options,
    pool: std::sync::OnceLock<Pool>,
    ready: OnceCell<()>,
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("url", &self.config.shown())
            .finish_non_exhaustive()
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl SqlStore {
    /// A store with a lazily connecting pool for `config` (no I/O here).
    ///
    /// # Errors
    /// [`BadConfig`](polysession_core::ErrorKind::BadConfig) when the URL is malformed or the
    /// dialect was not compiled in.
    pub fn new(config: SqlConfig) -> Result<Self> {
        let d = config.dialect;
        let bad_url = |e: sqlx::Error| bad(d, format!("{}: {e}", config.shown()));
        let options = match d {
            #[cfg(feature = "mysql")]
            Dialect::MySql => Options::MySql(
                sqlx::mysql::MySqlConnectOptions::from_str(&config.url).map_err(bad_url)?,
            ),
            #[cfg(feature = "postgres")]
            Dialect::Postgres => Options::Postgres(
                sqlx::postgres::PgConnectOptions::from_str(&config.url).map_err(bad_url)?,
            ),
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => {
                let o = sqlx::sqlite::SqliteConnectOptions::from_str(&config.url)
                    .map_err(bad_url)?
                    .create_if_missing(true)
                    .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                    .busy_timeout(config.timeout);
                private_file(o.get_filename()).map_err(|e| bad(d, e))?;
                Options::Sqlite(o)
            }
            #[allow(unreachable_patterns)]
            _ => return Err(bad(d, "this build does not include that database driver")),
        };
        Ok(SqlStore {
            sql: Statements::new(d, &config.table),
            config,
            options,
            pool: std::sync::OnceLock::new(),
            ready: OnceCell::new(),
        })
    }

    /// The pool, built on first use: sqlx spawns its maintenance task on the Tokio runtime, so
    /// it cannot be built in a plain constructor.
    fn pool(&self) -> Result<&Pool> {
        if let Some(pool) = self.pool.get() {
            return Ok(pool);
        }
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(self.fail("the SQL providers need a Tokio runtime"));
        }
        fn opts<DB: sqlx::Database>(config: &SqlConfig) -> sqlx::pool::PoolOptions<DB> {
            sqlx::pool::PoolOptions::new()
                .max_connections(config.max_connections)
                .acquire_timeout(config.timeout)
                .idle_timeout(Some(Duration::from_secs(300)))
        }
        let pool = match &self.options {
            #[cfg(feature = "mysql")]
            Options::MySql(o) => Pool::MySql(opts(&self.config).connect_lazy_with(o.clone())),
            #[cfg(feature = "postgres")]
            Options::Postgres(o) => Pool::Postgres(opts(&self.config).connect_lazy_with(o.clone())),
            #[cfg(feature = "sqlite")]
            Options::Sqlite(o) => Pool::Sqlite(opts(&self.config).connect_lazy_with(o.clone())),
        };
        // Two first calls racing build two pools; the loser's is dropped unused.
        Ok(self.pool.get_or_init(|| pool))
    }

    /// Parses `config.provider_config` for `dialect` and makes the store.
    ///
    /// # Errors
    /// As [`SqlConfig::parse`] and [`SqlStore::new`].
    pub fn from_config(dialect: Dialect, config: &Config) -> Result<Self> {
        SqlStore::new(SqlConfig::parse(dialect, &config.provider_config)?)
    }

    fn fail(&self, e: impl std::fmt::Display) -> Error {
        Error::store(
            self.config.dialect.provider(),
            format!("{} ({e})", self.config.shown()),
        )
    }

    /// Runs one call under the timeout, after making sure the table exists.
    async fn call<T>(
        &self,
        fut: impl Future<Output = std::result::Result<T, sqlx::Error>>,
    ) -> Result<T> {
        self.ensure_table().await?;
        self.timed(fut).await
    }

    async fn timed<T>(
        &self,
        fut: impl Future<Output = std::result::Result<T, sqlx::Error>>,
    ) -> Result<T> {
        match tokio::time::timeout(self.config.timeout, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.fail("query failed").with_source(e)),
            Err(_) => Err(self.fail(format!(
                "timed out after {} ms",
                self.config.timeout.as_millis()
            ))),
        }
    }

    async fn ensure_table(&self) -> Result<()> {
        self.ready
            .get_or_try_init(|| async {
                if self.config.create_table {
                    let sql = &self.sql.create;
                    on_pool!(self, pool => self.timed(sqlx::query(sql).execute(pool)).await.map(|_| ()))?;
                }
                // A table made by beego (no session_version, int expiry) is named, not misused.
                let check = &self.sql.check;
                on_pool!(self, pool => self.timed(sqlx::query(check).fetch_optional(pool)).await.map(|_| ())).map_err(|e| {
                    self.fail(format!(
                        "table `{}` is missing or lacks the columns session_key, session_data, session_expiry, session_version",
                        self.config.table
                    ))
                    .with_source(e)
                })?;
                Ok(())
            })
            .await
            .map(|_| ())
    }
}

fn unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

#[async_trait]
impl Store for SqlStore {
    fn name(&self) -> &str {
        self.config.dialect.provider()
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            native_ttl: false,
            compare_and_set: true,
            touch: true,
        }
    }

    async fn init(&self) -> Result<()> {
        self.ensure_table().await
    }

    async fn read(&self, id: &str) -> Result<Option<Record>> {
        use sqlx::Row;
        let sql = &self.sql.read;
        let now = now_ms();
        let row = on_pool!(self, pool => {
            let row = self.call(sqlx::query(sql).bind(id).bind(now).fetch_optional(pool)).await?;
            match row {
                Some(r) => Some((
                    r.try_get::<Vec<u8>, _>(0).map_err(|e| self.fail("bad row").with_source(e))?,
                    r.try_get::<i64, _>(1).map_err(|e| self.fail("bad row").with_source(e))?,
                    r.try_get::<i64, _>(2).map_err(|e| self.fail("bad row").with_source(e))?,
                )),
                None => None,
            }
        });
        Ok(row.map(|(data, expires, version)| Record {
            data,
            expires_at_ms: u64::try_from(expires).unwrap_or(0),
            version: u64::try_from(version).unwrap_or(0),
        }))
    }

    async fn write(&self, id: &str, record: &Record, expect: Expect) -> Result<bool> {
        let (data, exp, ver) = (
            &record.data[..],
            to_i64(record.expires_at_ms),
            to_i64(record.version),
        );
        match expect {
            Expect::Absent => {
                // A dead row under the id (expired, not yet collected) does not count.
                let gc_one = format!(
                    "{} AND session_key = {}",
                    self.sql.gc,
                    match self.config.dialect {
                        Dialect::Postgres => "$2",
                        _ => "?",
                    }
                );
                let now = now_ms();
                let insert = &self.sql.insert;
                on_pool!(self, pool => {
                    self.call(sqlx::query(&gc_one).bind(now).bind(id).execute(pool)).await.map(|_| ())?;
                    match tokio::time::timeout(
                        self.config.timeout,
                        sqlx::query(insert).bind(id).bind(data).bind(exp).bind(ver).execute(pool),
                    )
                    .await
                    {
                        Ok(Ok(_)) => Ok(true),
                        Ok(Err(e)) if unique_violation(&e) => Ok(false),
                        Ok(Err(e)) => Err(self.fail("query failed").with_source(e)),
                        Err(_) => Err(self.fail("timed out")),
                    }
                })
            }
            Expect::Version(v) => {
                let update = &self.sql.update;
                let now = now_ms();
                let done = on_pool!(self, pool => self
                    .call(sqlx::query(update).bind(data).bind(exp).bind(ver).bind(id).bind(to_i64(v)).bind(now).execute(pool))
                    .await?
                    .rows_affected());
                Ok(done == 1)
            }
            Expect::Any => {
                let upsert = &self.sql.upsert;
                on_pool!(self, pool => self.call(sqlx::query(upsert).bind(id).bind(data).bind(exp).bind(ver).execute(pool)).await.map(|_| ()))?;
                Ok(true)
            }
        }
    }

    async fn touch(&self, id: &str, expires_at_ms: u64) -> Result<bool> {
        let touch = &self.sql.touch;
        let now = now_ms();
        let done = on_pool!(self, pool => self
            .call(sqlx::query(touch).bind(to_i64(expires_at_ms)).bind(id).bind(now).execute(pool))
            .await?
            .rows_affected());
        Ok(done == 1)
    }

    async fn destroy(&self, id: &str) -> Result<()> {
        let delete = &self.sql.delete;
        on_pool!(self, pool => self.call(sqlx::query(delete).bind(id).execute(pool)).await.map(|_| ()))?;
        Ok(())
    }

    async fn regenerate(&self, old: &str, new: &str) -> Result<bool> {
        let rename = &self.sql.rename;
        let now = now_ms();
        // One UPDATE of the key: atomic; a taken new id is a unique violation.
        let result = on_pool!(self, pool => {
            self.ensure_table().await?;
            tokio::time::timeout(self.config.timeout, sqlx::query(rename).bind(new).bind(old).bind(now).execute(pool))
                .await
                .map(|r| r.map(|done| done.rows_affected()))
        });
        match result {
            Ok(Ok(n)) => Ok(n == 1),
            Ok(Err(e)) if unique_violation(&e) => Ok(false),
            Ok(Err(e)) => Err(self.fail("query failed").with_source(e)),
            Err(_) => Err(self.fail("timed out")),
        }
    }

    async fn count(&self, now_ms: u64) -> Result<u64> {
        let count = &self.sql.count;
        let n: i64 = on_pool!(self, pool => self.call(sqlx::query_scalar(count).bind(to_i64(now_ms)).fetch_one(pool)).await)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn gc(&self, now_ms: u64) -> Result<u64> {
        let gc = &self.sql.gc;
        Ok(
            on_pool!(self, pool => self.call(sqlx::query(gc).bind(to_i64(now_ms)).execute(pool)).await?.rows_affected()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(all(feature = "sqlite", unix))]
    #[tokio::test]
    async fn sqlite_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir =
            std::env::temp_dir().join(format!("polysession-sqlite-mode-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("sessions.db");
        let store =
            SqlStore::new(SqlConfig::parse(Dialect::Sqlite, file.to_str().unwrap()).unwrap())
                .unwrap();
        let record = Record {
            data: b"{}".to_vec(),
            expires_at_ms: u64::MAX / 4,
            version: 1,
        };
        assert!(store.write("a", &record, Expect::Any).await.unwrap());
        let mut seen = 0;
        for name in ["sessions.db", "sessions.db-wal", "sessions.db-shm"] {
            if let Ok(meta) = std::fs::metadata(dir.join(name)) {
                assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{name}");
                seen += 1;
            }
        }
        assert!(seen >= 2, "the database and its WAL exist");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn debug_shows_no_password() {
        for (d, dsn) in [
            (Dialect::MySql, "root:hunter2-pw@tcp(127.0.0.1:3306)/test"),
            (
                Dialect::Postgres,
                "postgres://u:hunter2-pw@h:5432/db?sslmode=disable",
            ),
        ] {
            let c = SqlConfig::parse(d, dsn).unwrap();
            let text = format!("{c:?} {c:#?}");
            assert!(!text.contains("hunter2"), "{text}");
        }
    }

    #[test]
    fn go_dsn_parameters_are_understood_or_refused() {
        let p = |s: &str| SqlConfig::parse(Dialect::MySql, s).map(|c| c.url);
        assert_eq!(
            p("u:p@tcp(h:1)/db?charset=utf8mb4&parseTime=true&loc=Local").unwrap(),
            "mysql://u:p@h:1/db"
        );
        for (tls, mode) in [
            ("true", "VERIFY_IDENTITY"),
            ("skip-verify", "REQUIRED"),
            ("preferred", "PREFERRED"),
            ("false", "DISABLED"),
        ] {
            assert_eq!(
                p(&format!("u:p@tcp(h:1)/db?charset=utf8&tls={tls}")).unwrap(),
                format!("mysql://u:p@h:1/db?ssl-mode={mode}")
            );
        }
        for (dsn, why) in [
            ("u:p@tcp(h:1)/db?tls=custom", "registered in Go code"),
            (
                "u:p@tcp(h:1)/db?allowCleartextPasswords=true",
                "allowCleartextPasswords",
            ),
            (
                "u:p@tcp(h:1)/db?frobnicate=1",
                "`frobnicate=1` is not supported",
            ),
            ("u:p@unix(/tmp/s)/db", "unix sockets"),
        ] {
            let err = p(dsn).unwrap_err();
            assert_eq!(err.code(), "BAD_CONFIG", "{dsn}");
            assert!(err.to_string().contains(why), "{dsn}: {err}");
        }
    }

    #[test]
    fn url_parameters_are_understood_or_refused() {
        let p = |d, s: &str| SqlConfig::parse(d, s).map(|c| c.url);
        for (d, url) in [
            (
                Dialect::Postgres,
                "postgres://u@h/db?sslmode=verify-full&sslrootcert=/ca.pem&application_name=x",
            ),
            (
                Dialect::Postgres,
                "postgres://u@h/db?options[search_path]=s",
            ),
            (
                Dialect::MySql,
                "mysql://u@h/db?ssl-mode=VERIFY_CA&ssl-ca=/ca.pem&charset=utf8mb4",
            ),
        ] {
            assert_eq!(p(d, url).unwrap(), url);
        }
        for (d, url, key) in [
            // A misspelt sslmode must not connect in plain text.
            (
                Dialect::Postgres,
                "postgres://u@h/db?ssl_mode=require",
                "ssl_mode",
            ),
            (
                Dialect::Postgres,
                "postgres://u@h/db?sslmode=require&tls=1",
                "tls",
            ),
            (Dialect::MySql, "mysql://u@h/db?tls=true", "tls"),
            (
                Dialect::MySql,
                "mysql://u@h/db?sslmode=REQUIRED&ssl-verify=1",
                "ssl-verify",
            ),
        ] {
            let e = p(d, url).unwrap_err();
            assert_eq!(e.code(), "BAD_CONFIG", "{url}");
            assert!(e.to_string().contains(&format!("`{key}`")), "{url}: {e}");
        }
    }

    #[test]
    fn dsn_forms() {
        let p = |d, s| SqlConfig::parse(d, s).map(|c| c.url);
        assert_eq!(
            p(Dialect::MySql, "u:p@tcp(h:1)/db").unwrap(),
            "mysql://u:p@h:1/db"
        );
        assert_eq!(
            p(Dialect::MySql, "u@/db").unwrap(),
            "mysql://u@127.0.0.1:3306/db"
        );
        assert_eq!(
            p(Dialect::MySql, "u:p@ss@tcp(h:1)/db").unwrap(),
            "mysql://u:p%40ss@h:1/db"
        );
        assert_eq!(
            p(Dialect::MySql, "mysql://u@h/db").unwrap(),
            "mysql://u@h/db"
        );
        assert_eq!(
            p(Dialect::Postgres, "postgres://u@h/db?sslmode=disable").unwrap(),
            "postgres://u@h/db?sslmode=disable"
        );
        assert_eq!(p(Dialect::Sqlite, "./s.db").unwrap(), "sqlite:./s.db");
        assert_eq!(
            p(Dialect::Sqlite, "sqlite::memory:").unwrap(),
            "sqlite::memory:"
        );
    }

    #[test]
    fn bad_configs_name_the_key() {
        for (d, s) in [
            (Dialect::MySql, ""),
            (Dialect::MySql, "u:p@unix(/sock)/db"),
            (Dialect::MySql, "no slash"),
            (Dialect::Postgres, "host=x dbname=y"),
            (Dialect::Sqlite, r#"{"dsn":"x.db","table":"drop table;"}"#),
            (Dialect::Sqlite, r#"{"dsn":"x.db","timeout_ms":0}"#),
            (Dialect::Sqlite, "{oops"),
        ] {
            let e = SqlConfig::parse(d, s).unwrap_err();
            assert!(e.to_string().contains("providerConfig"), "{s}: {e}");
        }
    }

    /// The tables `docs/wire-format.md` documents.
    #[test]
    fn create_statements_per_dialect() {
        let columns = "(session_key VARCHAR(255) NOT NULL PRIMARY KEY, session_data {} NOT NULL, \
                       session_expiry BIGINT NOT NULL, session_version BIGINT NOT NULL DEFAULT 0)";
        for (d, quoted, blob, tail) in [
            (Dialect::MySql, "`session`", "LONGBLOB", " ENGINE=InnoDB"),
            (Dialect::Postgres, "\"session\"", "BYTEA", ""),
            (Dialect::Sqlite, "\"session\"", "BLOB", ""),
        ] {
            let want = format!(
                "CREATE TABLE IF NOT EXISTS {quoted} {}{tail}",
                columns.replace("{}", blob)
            );
            assert_eq!(Statements::new(d, "session").create, want);
        }
    }

    /// The `sql` cases of `tests/vectors/records.json` (docs/wire-format.md), in SQLite: the
    /// row a write leaves, and the record read back.
    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn record_vectors_in_sqlite() -> Result<()> {
        use sqlx::Row;
        let record = |v: &serde_json::Value| crate::vectors::record(v).unwrap();
        let dir =
            std::env::temp_dir().join(format!("polysession-sql-vectors-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("sessions.db");
        let config = SqlConfig::parse(Dialect::Sqlite, file.to_str().unwrap())?;
        let store = SqlStore::new(config)?;
        for case in &crate::vectors::cases("sql") {
            let name = case["name"].as_str().unwrap();
            let id = case["id"].as_str().unwrap();
            assert!(
                store
                    .write(id, &record(&case["record"]), Expect::Any)
                    .await?
            );
            let query = "SELECT session_key, session_data, session_expiry, session_version \
                         FROM \"session\" WHERE session_key = ?";
            let row = on_pool!(store, pool => {
                let row = sqlx::query(query).bind(id).fetch_one(pool).await.unwrap();
                (
                    row.get::<String, _>(0),
                    row.get::<Vec<u8>, _>(1),
                    row.get::<i64, _>(2),
                    row.get::<i64, _>(3),
                )
            });
            let want = &case["columns"];
            assert_eq!(row.0, want["session_key"].as_str().unwrap(), "{name}");
            assert_eq!(
                row.1,
                want["session_data"].as_str().unwrap().as_bytes(),
                "{name}"
            );
            assert_eq!(Some(row.2), want["session_expiry"].as_i64(), "{name}");
            assert_eq!(Some(row.3), want["session_version"].as_i64(), "{name}");
            let back = case.get("reads_back").unwrap_or(&case["record"]);
            assert_eq!(store.read(id).await?, Some(record(back)), "{name}");
        }
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }

    #[test]
    fn messages_hide_the_password() {
        let c = SqlConfig::parse(
            Dialect::Postgres,
            "postgres://app:hunter2@db:5432/main?sslmode=disable",
        )
        .unwrap();
        assert_eq!(c.shown(), "postgres://app@db:5432/main");
    }
}

//! The `memcache` provider: a small async client over memcached's text protocol.
//!
//! No maintained tokio client offers `gets`/`cas`, so this module speaks the few commands it
//! needs (`gets`, `add`, `set`, `cas`, `delete`, `lru_crawler metadump`) itself, with a small
//! connection pool per server. Keys are spread over the servers by a hash of the key.
//! A value is a 16-byte header (our version, expiry) followed by the payload; memcached's own
//! CAS token makes compare-and-set atomic. A miss is "no session", never an error.

use polysession_core::{async_trait, Capabilities, Config, Error, Expect, Record, Result, Store};
use std::time::Duration;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

/// Default timeout of every memcached call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
const HEADER: usize = 16;
const MAX_IDLE: usize = 16;

/// A parsed memcache provider config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemcacheConfig {
    /// `host:port` of every server.
    pub servers: Vec<String>,
    /// Key prefix of every session.
    pub prefix: String,
    /// Timeout of every call.
    pub timeout: Duration,
}

impl MemcacheConfig {
    /// Parses beego's `host:port;host:port`, or JSON
    /// `{"servers": "host:port;host:port", "prefix": "", "timeout_ms": 2000}`.
    ///
    /// ```
    /// use polysession_providers::MemcacheConfig;
    /// let c = MemcacheConfig::parse("127.0.0.1:11211;127.0.0.1:11212").unwrap();
    /// assert_eq!(c.servers.len(), 2);
    /// ```
    ///
    /// # Errors
    /// [`BadConfig`](polysession_core::ErrorKind::BadConfig) naming `providerConfig`.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |w: &str| Error::bad_config("providerConfig", format!("memcache: {w}"));
        let text = text.trim();
        let mut c = MemcacheConfig {
            servers: Vec::new(),
            prefix: String::new(),
            timeout: DEFAULT_TIMEOUT,
        };
        let servers = if text.starts_with('{') {
            let v: serde_json::Value =
                serde_json::from_str(text).map_err(|e| bad(&format!("invalid JSON: {e}")))?;
            c.prefix = v
                .get("prefix")
                .and_then(|p| p.as_str())
                .unwrap_or_default()
                .to_owned();
            if let Some(ms) = v.get("timeout_ms").and_then(|t| t.as_u64()) {
                c.timeout = Duration::from_millis(ms);
            }
            v.get("servers")
                .or_else(|| v.get("save_path"))
                .and_then(|s| s.as_str())
                .unwrap_or_default()
                .to_owned()
        } else {
            text.to_owned()
        };
        c.servers = servers
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if c.servers.is_empty() {
            return Err(bad("needs servers, e.g. 127.0.0.1:11211"));
        }
        if c.prefix.len() > 64 || c.prefix.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(bad(
                "prefix must be at most 64 printable characters without spaces",
            ));
        }
        if c.timeout.is_zero() {
            return Err(bad("timeout_ms must be > 0"));
        }
        Ok(c)
    }
}

type Conn = BufReader<TcpStream>;

/// The largest value a reply may announce: more than any session (memcached's own item limit
/// is 1 MiB by default, `-I` raises it), so a corrupt or hostile reply cannot make us allocate
/// without bound.
const MAX_ITEM_BYTES: usize = 64 << 20;

struct Server {
    addr: String,
    idle: Mutex<Vec<Conn>>,
}

/// Sessions in memcached.
pub struct MemcacheStore {
    config: MemcacheConfig,
    servers: Vec<Server>,
}

impl std::fmt::Debug for MemcacheStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemcacheStore")
            .field("servers", &self.config.servers)
            .finish_non_exhaustive()
    }
}

/// One reply line, or the value of a `gets`.
enum Reply {
    Line(String),
    Value { data: Vec<u8>, cas: u64 },
}

impl MemcacheStore {
    /// A store for `config`; connections open on first use.
    pub fn new(config: MemcacheConfig) -> Self {
        let servers = config
            .servers
            .iter()
            .map(|a| Server {
                addr: a.clone(),
                idle: Mutex::new(Vec::new()),
            })
            .collect();
        MemcacheStore { config, servers }
    }

    /// Parses `config.provider_config`.
    ///
    /// # Errors
    /// As [`MemcacheConfig::parse`].
    pub fn from_config(config: &Config) -> Result<Self> {
        Ok(MemcacheStore::new(MemcacheConfig::parse(
            &config.provider_config,
        )?))
    }

    fn key(&self, id: &str) -> String {
        format!("{}{id}", self.config.prefix)
    }

    fn server(&self, key: &str) -> Result<&Server> {
        let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        let index = hash.checked_rem(self.servers.len() as u64).unwrap_or(0) as usize;
        self.servers
            .get(index)
            .ok_or_else(|| Error::store("memcache", "no servers are configured"))
    }

    fn fail(&self, server: &Server, what: impl std::fmt::Display) -> Error {
        Error::store("memcache", format!("{} ({what})", server.addr))
    }

    /// Sends `request` (plus `body`) to `server` and reads one reply line, or with `multi`
    /// every value and line up to `END`.
    async fn call(
        &self,
        server: &Server,
        request: &str,
        body: Option<&[u8]>,
        multi: bool,
    ) -> Result<Vec<Reply>> {
        let mut replies = Vec::new();
        self.call_each(server, request, body, multi, |r| replies.push(r))
            .await?;
        Ok(replies)
    }

    /// As [`call`](Self::call), handing each reply to `each` as it is read instead of
    /// collecting them (a `metadump` of every key would otherwise sit in memory).
    async fn call_each(
        &self,
        server: &Server,
        request: &str,
        body: Option<&[u8]>,
        multi: bool,
        each: impl FnMut(Reply) + Send,
    ) -> Result<()> {
        let fut = async {
            let pooled = server.idle.lock().await.pop();
            let mut conn = match pooled {
                Some(c) => c,
                None => BufReader::new(TcpStream::connect(&server.addr).await?),
            };
            let mut out = Vec::with_capacity(request.len() + body.map_or(0, |b| b.len() + 2) + 2);
            out.extend_from_slice(request.as_bytes());
            out.extend_from_slice(b"\r\n");
            if let Some(b) = body {
                out.extend_from_slice(b);
                out.extend_from_slice(b"\r\n");
            }
            conn.get_mut().write_all(&out).await?;
            read_each(&mut conn, multi, each).await?;
            let mut idle = server.idle.lock().await;
            if idle.len() < MAX_IDLE {
                idle.push(conn);
            }
            Ok::<_, std::io::Error>(())
        };
        match tokio::time::timeout(self.config.timeout, fut).await {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => Err(self.fail(server, "request failed").with_source(e)),
            Err(_) => Err(self.fail(
                server,
                format!("timed out after {} ms", self.config.timeout.as_millis()),
            )),
        }
    }

    /// The status line of a storage command (`STORED`, `NOT_STORED`, `EXISTS`, `NOT_FOUND`).
    async fn status(&self, server: &Server, request: &str, body: Option<&[u8]>) -> Result<String> {
        for reply in self.call(server, request, body, false).await? {
            if let Reply::Line(l) = reply {
                if l.starts_with("SERVER_ERROR") || l.starts_with("CLIENT_ERROR") || l == "ERROR" {
                    return Err(self.fail(server, l));
                }
                return Ok(l);
            }
        }
        Err(self.fail(server, "no reply"))
    }

    async fn gets(&self, key: &str) -> Result<Option<(Record, u64)>> {
        let server = self.server(key)?;
        for reply in self
            .call(server, &format!("gets {key}"), None, true)
            .await?
        {
            match reply {
                Reply::Value { data, cas } => return Ok(decode(data).map(|r| (r, cas))),
                Reply::Line(l)
                    if l.starts_with("SERVER_ERROR")
                        || l.starts_with("CLIENT_ERROR")
                        || l == "ERROR" =>
                {
                    return Err(self.fail(server, l));
                }
                Reply::Line(_) => {}
            }
        }
        Ok(None)
    }
}

/// The longest reply line accepted. memcached's lines are short (a `VALUE` header, a status,
/// one `lru_crawler metadump` entry); a server that sends more without a newline is refused
/// instead of buffered without bound.
const MAX_LINE_BYTES: u64 = 8 << 10;

/// The replies of [`read_each`], collected (the unit tests and the fuzz target).
#[cfg(any(test, feature = "fuzzing"))]
async fn read_replies<R: AsyncBufRead + Unpin>(
    conn: &mut R,
    multi: bool,
) -> std::io::Result<Vec<Reply>> {
    let mut replies = Vec::new();
    read_each(conn, multi, |r| replies.push(r)).await?;
    Ok(replies)
}

/// Reads one reply line, or with `multi` every value and line up to `END` (or an error line),
/// handing each reply to `each` as it is read. A malformed `VALUE` header, a value not
/// followed by `\r\n`, a line longer than [`MAX_LINE_BYTES`] or a value announced above
/// [`MAX_ITEM_BYTES`] is `InvalidData`: the connection is then out of step and is dropped by
/// the caller.
async fn read_each<R: AsyncBufRead + Unpin>(
    conn: &mut R,
    multi: bool,
    mut each: impl FnMut(Reply),
) -> std::io::Result<()> {
    let invalid = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
    loop {
        let mut line = String::new();
        let n = (&mut *conn)
            .take(MAX_LINE_BYTES)
            .read_line(&mut line)
            .await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        if !line.ends_with('\n') {
            return Err(invalid(format!(
                "a reply line longer than {MAX_LINE_BYTES} bytes, or cut short"
            )));
        }
        let line = line.trim_end().to_owned();
        if let Some(rest) = line.strip_prefix("VALUE ") {
            // VALUE <key> <flags> <bytes> [<cas>]
            let parts: Vec<&str> = rest.split(' ').collect();
            let len: usize = parts
                .get(2)
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| invalid("malformed VALUE line".into()))?;
            if len > MAX_ITEM_BYTES {
                return Err(invalid(format!(
                    "the server announced a {len}-byte value, above {MAX_ITEM_BYTES}"
                )));
            }
            let cas: u64 = parts.get(3).and_then(|n| n.parse().ok()).unwrap_or(0);
            let mut data = vec![0u8; len + 2];
            conn.read_exact(&mut data).await?;
            if !data.ends_with(b"\r\n") {
                return Err(invalid("a value not followed by \\r\\n".into()));
            }
            data.truncate(len);
            each(Reply::Value { data, cas });
            continue;
        }
        let error =
            line == "ERROR" || line.starts_with("SERVER_ERROR") || line.starts_with("CLIENT_ERROR");
        let end = line == "END";
        if !end {
            each(Reply::Line(line));
        }
        if !multi || end || error {
            return Ok(());
        }
    }
}

fn encode(r: &Record) -> Vec<u8> {
    let mut v = Vec::with_capacity(HEADER + r.data.len());
    v.extend_from_slice(&r.version.to_le_bytes());
    v.extend_from_slice(&r.expires_at_ms.to_le_bytes());
    v.extend_from_slice(&r.data);
    v
}

fn decode(bytes: Vec<u8>) -> Option<Record> {
    if bytes.len() < HEADER {
        return None;
    }
    let version = u64::from_le_bytes(bytes[0..8].try_into().ok()?);
    let expires_at_ms = u64::from_le_bytes(bytes[8..16].try_into().ok()?);
    Some(Record {
        data: bytes[HEADER..].to_vec(),
        expires_at_ms,
        version,
    })
}

/// Undoes the URL encoding of keys in `lru_crawler metadump` output.
fn unescape(key: &str) -> Vec<u8> {
    let b = key.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).and_then(|c| hex(*c)),
            b.get(i + 2).and_then(|c| hex(*c)),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// memcached's exptime: absolute Unix seconds (always above its 30-day relative limit).
fn exptime(expires_at_ms: u64) -> u64 {
    expires_at_ms.div_ceil(1000).max(30 * 24 * 3600 + 1)
}

#[async_trait]
impl Store for MemcacheStore {
    fn name(&self) -> &str {
        "memcache"
    }

    fn capabilities(&self) -> Capabilities {
        // No touch: the expiry in our header must move with memcached's, so the manager
        // rewrites the record under CAS instead.
        Capabilities {
            native_ttl: true,
            compare_and_set: true,
            touch: false,
        }
    }

    async fn init(&self) -> Result<()> {
        for s in &self.servers {
            self.status(s, "version", None).await?;
        }
        Ok(())
    }

    async fn read(&self, id: &str) -> Result<Option<Record>> {
        Ok(self.gets(&self.key(id)).await?.map(|(r, _)| r))
    }

    async fn write(&self, id: &str, record: &Record, expect: Expect) -> Result<bool> {
        let key = self.key(id);
        let server = self.server(&key)?;
        let body = encode(record);
        let exp = exptime(record.expires_at_ms);
        let (cmd, ok) = match expect {
            Expect::Any => (format!("set {key} 0 {exp} {}", body.len()), "STORED"),
            Expect::Absent => (format!("add {key} 0 {exp} {}", body.len()), "STORED"),
            Expect::Version(v) => match self.gets(&key).await? {
                Some((current, cas)) if current.version == v => {
                    (format!("cas {key} 0 {exp} {} {cas}", body.len()), "STORED")
                }
                _ => return Ok(false),
            },
        };
        Ok(self.status(server, &cmd, Some(&body)).await? == ok)
    }

    async fn destroy(&self, id: &str) -> Result<()> {
        let key = self.key(id);
        self.status(self.server(&key)?, &format!("delete {key}"), None)
            .await
            .map(|_| ())
    }

    async fn count(&self, now_ms: u64) -> Result<u64> {
        let now = now_ms / 1000;
        let prefix = self.config.prefix.as_bytes();
        let mut n = 0;
        for server in &self.servers {
            // One line per item, counted as it arrives: nothing of the dump is kept.
            self.call_each(server, "lru_crawler metadump all", None, true, |reply| {
                let Reply::Line(line) = reply else { return };
                let mut key = None;
                let mut exp: i64 = -1;
                for field in line.split(' ') {
                    if let Some(k) = field.strip_prefix("key=") {
                        key = Some(k);
                    } else if let Some(e) = field.strip_prefix("exp=") {
                        exp = e.parse().unwrap_or(-1);
                    }
                }
                let ours = key.is_some_and(|k| unescape(k).starts_with(prefix));
                if ours && (exp < 0 || exp as u64 > now) {
                    n += 1;
                }
            })
            .await?;
        }
        Ok(n)
    }

    async fn gc(&self, _now_ms: u64) -> Result<u64> {
        Ok(0) // memcached expires items itself.
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn replies_out_of_step_are_refused() {
        let read = |bytes: &'static [u8], multi| async move {
            let mut conn = bytes;
            read_replies(&mut conn, multi).await
        };
        let got = read(b"VALUE k 0 3 9\r\nabc\r\nEND\r\n", true)
            .await
            .unwrap();
        assert!(matches!(&got[..], [Reply::Value { data, cas: 9 }] if data == b"abc"));
        let got = read(b"STORED\r\nEND\r\n", false).await.unwrap();
        assert!(matches!(&got[..], [Reply::Line(l)] if l == "STORED"));
        // A value longer than announced: the stream is out of step.
        let err = read(b"VALUE k 0 3 1\r\nabcd\r\nEND\r\n", true)
            .await
            .err()
            .unwrap();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{err}");
        // An endless line: refused at MAX_LINE_BYTES, not buffered.
        let long: &'static [u8] = Box::leak(vec![b'x'; 1 << 20].into_boxed_slice());
        let err = read(long, false).await.err().unwrap();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{err}");
        for cut in [&b"VALUE k 0 3\r\nab"[..], b"VALUE k 0 x\r\n", b"END", b""] {
            assert!(
                read(cut, true).await.is_err(),
                "{:?}",
                String::from_utf8_lossy(cut)
            );
        }
    }

    #[tokio::test]
    async fn no_servers_and_oversized_replies_are_errors_not_panics() {
        let store = MemcacheStore::new(MemcacheConfig {
            servers: Vec::new(),
            prefix: String::new(),
            timeout: Duration::from_millis(200),
        });
        let err = store.read("a").await.unwrap_err();
        assert!(err.to_string().contains("no servers"), "{err}");
        // A server announcing a huge value: refused before any allocation.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 256];
            let _ = sock.read(&mut buf).await;
            let _ = sock.write_all(b"VALUE k 0 99999999999 1\r\n").await;
        });
        let store = MemcacheStore::new(MemcacheConfig::parse(&addr).unwrap());
        let err = store.read("a").await.unwrap_err();
        assert_eq!(err.code(), "STORE_UNAVAILABLE");
    }

    #[test]
    fn config_forms() {
        let c = MemcacheConfig::parse(r#"{"servers":"a:1;b:2","prefix":"s:","timeout_ms":100}"#)
            .unwrap();
        assert_eq!(
            (c.servers.len(), c.prefix.as_str(), c.timeout),
            (2, "s:", Duration::from_millis(100))
        );
        for bad in [
            "",
            ";",
            "{x",
            r#"{"servers":"a:1","prefix":"has space"}"#,
            r#"{"servers":"a:1","timeout_ms":0}"#,
        ] {
            assert!(
                MemcacheConfig::parse(bad)
                    .unwrap_err()
                    .to_string()
                    .contains("providerConfig"),
                "{bad}"
            );
        }
    }

    #[test]
    fn record_vectors_decode_and_encode() {
        for case in crate::vectors::cases("memcache") {
            let name = case["name"].as_str().unwrap();
            let bytes = crate::vectors::unhex(case["hex"].as_str().unwrap());
            let want = crate::vectors::record(&case["record"]);
            assert_eq!(decode(bytes.clone()), want, "{name}");
            let Some(record) = want else { continue };
            if case["canonical"] == true {
                assert_eq!(encode(&record), bytes, "{name}");
            }
            if let Some(exp) = case.get("exptime") {
                assert_eq!(Some(exptime(record.expires_at_ms)), exp.as_u64(), "{name}");
            }
        }
    }

    #[test]
    fn record_round_trip_and_junk() {
        let r = Record {
            data: b"{}".to_vec(),
            expires_at_ms: 5,
            version: 9,
        };
        assert_eq!(decode(encode(&r)), Some(r));
        assert_eq!(decode(vec![1, 2, 3]), None);
        assert_eq!(unescape("ps1%3Aab%zz%4"), b"ps1:ab%zz%4");
        assert_eq!(exptime(0), 30 * 24 * 3600 + 1);
        assert_eq!(exptime(1_700_000_000_000), 1_700_000_000);
        assert_eq!(exptime(1_700_000_000_001), 1_700_000_001);
    }
}

/// The parsers of this provider, for the fuzz targets in `fuzz/`.
#[cfg(feature = "fuzzing")]
pub mod fuzzing {
    use super::*;

    /// Decodes a stored value; `Some` only for a well-formed one.
    pub fn record(bytes: &[u8]) -> Option<Record> {
        decode(bytes.to_vec())
    }

    /// Reads replies from `bytes` as from a server; the number of replies, or the error.
    pub async fn replies(bytes: &[u8], multi: bool) -> std::io::Result<usize> {
        let mut conn = bytes;
        read_replies(&mut conn, multi).await.map(|r| r.len())
    }

    /// `unescape` of a `metadump` key.
    pub fn metadump_key(key: &str) -> Vec<u8> {
        unescape(key)
    }
}

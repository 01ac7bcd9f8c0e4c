//! Session configuration: a typed builder, beego's JSON config and beego's app.conf keys.

use crate::error::{Error, Result};
use serde_json::Value;

/// The `SameSite` attribute of the session cookie.
///
/// beego's integers map as 0 and 1 → [`SameSite::Unset`], 2 → `Lax`, 3 → `Strict`,
/// 4 → `None`. Names (`lax`, `strict`, `none`, `default`) are accepted too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SameSite {
    /// No attribute is sent (beego's 0 and 1).
    Unset,
    /// `SameSite=Lax`, our default.
    #[default]
    Lax,
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=None` (browsers require `Secure` with it).
    None,
}

impl SameSite {
    /// Parses beego's integer or a name.
    ///
    /// # Errors
    /// [`BadConfig`](crate::ErrorKind::BadConfig) naming `key` for any other value.
    pub fn parse(key: &str, value: &str) -> Result<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "0" | "1" | "default" | "" => Ok(SameSite::Unset),
            "2" | "lax" => Ok(SameSite::Lax),
            "3" | "strict" => Ok(SameSite::Strict),
            "4" | "none" => Ok(SameSite::None),
            other => Err(Error::bad_config(
                key,
                format!("`{other}` is not a SameSite mode (0-4, lax, strict, none)"),
            )),
        }
    }
}

/// How session ids are generated. Its `Debug` never shows the HMAC key.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum IdHash {
    /// Lowercase hex of `id_length` CSPRNG bytes (beego since 1.5).
    #[default]
    Random,
    /// `hex(HMAC-SHA1(key, CSPRNG bytes))`, 40 characters: beego's documented
    /// `sessionIDHashFunc: "sha1"` with `sessionIDHashKey`.
    HmacSha1(String),
}

impl std::fmt::Debug for IdHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IdHash::Random => f.write_str("Random"),
            IdHash::HmacSha1(_) => f.write_str("HmacSha1(<redacted>)"),
        }
    }
}

/// Every setting of a [`Manager`](crate::Manager). Build it with [`Config::builder`], from
/// beego's JSON with [`Config::from_beego_json`], or from an app.conf with
/// [`AppConf`](crate::AppConf). [`Config::validate`] runs before any manager uses it.
///
/// ```
/// use polysession_core::Config;
/// let config = Config::builder().cookie_name("sid").max_lifetime(600).build().unwrap();
/// assert_eq!(config.cookie_name, "sid");
/// assert_eq!(config.max_lifetime, 600);
/// assert_eq!(Config::default().cookie_name, "beegosessionID");
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Provider name (`memory`, `cookie`, `file`, `redis`, ...). beego: `sessionprovider`.
    pub provider: String,
    /// Provider-specific config string. beego: `providerConfig`.
    pub provider_config: String,
    /// Cookie name, also the query/form parameter name. beego: `cookieName`.
    pub cookie_name: String,
    /// Whether Set-Cookie is sent. beego: `enableSetCookie`.
    pub enable_set_cookie: bool,
    /// GC interval in seconds, > 0. beego: `gclifetime`.
    pub gc_lifetime: u64,
    /// Idle limit in seconds, checked on every read. beego: `maxLifetime`.
    pub max_lifetime: u64,
    /// Absolute limit in seconds from creation (0: none). Ours: `absoluteLifetime`.
    pub absolute_lifetime: u64,
    /// The expiry is refreshed at most once per this many seconds. Ours: `touchInterval`.
    pub touch_interval: u64,
    /// Cookie `Max-Age` in seconds; 0 makes a browser-session cookie. beego: `cookieLifeTime`.
    pub cookie_lifetime: u64,
    /// Send `Secure` (over HTTPS only). beego: `secure`.
    pub secure: bool,
    /// Treat `X-Forwarded-Proto: https` as HTTPS. Ours: `trustForwardedProto`.
    pub trust_forwarded_proto: bool,
    /// Send `HttpOnly`. beego: `!disableHTTPOnly`.
    pub http_only: bool,
    /// Cookie `Domain`, empty for none. beego: `domain`.
    pub domain: String,
    /// Cookie `Path`. Ours: `cookiePath` (beego always sends `/`).
    pub path: String,
    /// Cookie `SameSite`. beego: `cookieSameSite`.
    pub same_site: SameSite,
    /// Random bytes per id, 16 to 64. beego: `sessionIDLength`.
    pub id_length: usize,
    /// Prefix of every id. beego: `sessionIDPrefix`.
    pub id_prefix: String,
    /// Id generator. beego: `sessionIDHashFunc` + `sessionIDHashKey`.
    pub id_hash: IdHash,
    /// Accept and send the id in an HTTP header. beego: `EnableSidInHTTPHeader`.
    pub sid_in_header: bool,
    /// That header's name. beego: `SessionNameInHTTPHeader`.
    pub header_name: String,
    /// Accept the id from the URL query or an urlencoded form field named like the cookie.
    /// beego: `EnableSidInURLQuery`.
    pub sid_in_url_query: bool,
    /// The largest stored session, in bytes of its payload (0: no limit); a larger one is
    /// `TOO_LARGE` (413). Ours: `maxSessionBytes` (app.conf `sessionmaxbytes`).
    pub max_session_bytes: u64,
    /// The most keys one session may hold (0: no limit); more is `TOO_LARGE`. Ours:
    /// `maxSessionKeys` (app.conf `sessionmaxkeys`).
    pub max_session_keys: u64,
}

/// Default [`Config::max_session_bytes`]: 1 MiB.
pub const DEFAULT_MAX_SESSION_BYTES: u64 = 1 << 20;
/// Default [`Config::max_session_keys`].
pub const DEFAULT_MAX_SESSION_KEYS: u64 = 1000;

/// Shows every setting but the provider config (it may hold passwords or cookie keys) and the
/// id HMAC key.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let provider_config = format!("<{} bytes, redacted>", self.provider_config.len());
        f.debug_struct("Config")
            .field("provider", &self.provider)
            .field("provider_config", &format_args!("{provider_config}"))
            .field("cookie_name", &self.cookie_name)
            .field("enable_set_cookie", &self.enable_set_cookie)
            .field("gc_lifetime", &self.gc_lifetime)
            .field("max_lifetime", &self.max_lifetime)
            .field("absolute_lifetime", &self.absolute_lifetime)
            .field("touch_interval", &self.touch_interval)
            .field("cookie_lifetime", &self.cookie_lifetime)
            .field("secure", &self.secure)
            .field("trust_forwarded_proto", &self.trust_forwarded_proto)
            .field("http_only", &self.http_only)
            .field("domain", &self.domain)
            .field("path", &self.path)
            .field("same_site", &self.same_site)
            .field("id_length", &self.id_length)
            .field("id_prefix", &self.id_prefix)
            .field("id_hash", &self.id_hash)
            .field("sid_in_header", &self.sid_in_header)
            .field("header_name", &self.header_name)
            .field("sid_in_url_query", &self.sid_in_url_query)
            .field("max_session_bytes", &self.max_session_bytes)
            .field("max_session_keys", &self.max_session_keys)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            provider: "memory".into(),
            provider_config: String::new(),
            cookie_name: "beegosessionID".into(),
            enable_set_cookie: true,
            gc_lifetime: 3600,
            max_lifetime: 3600,
            absolute_lifetime: 0,
            touch_interval: 60,
            cookie_lifetime: 0,
            secure: false,
            trust_forwarded_proto: false,
            http_only: true,
            domain: String::new(),
            path: "/".into(),
            same_site: SameSite::Lax,
            id_length: 16,
            id_prefix: String::new(),
            id_hash: IdHash::Random,
            sid_in_header: false,
            header_name: "Beegosessionid".into(),
            sid_in_url_query: false,
            max_session_bytes: DEFAULT_MAX_SESSION_BYTES,
            max_session_keys: DEFAULT_MAX_SESSION_KEYS,
        }
    }
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

impl Config {
    /// A builder starting from the defaults.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder(Config::default())
    }

    /// Checks every value; the manager calls it before using a config.
    ///
    /// # Errors
    /// [`BadConfig`](crate::ErrorKind::BadConfig) naming the first bad key (beego's name).
    pub fn validate(&self) -> Result<()> {
        if !is_token(&self.cookie_name) {
            return Err(Error::bad_config(
                "cookieName",
                format!("`{}` is not a valid cookie name", self.cookie_name),
            ));
        }
        if self.gc_lifetime == 0 {
            return Err(Error::bad_config(
                "gclifetime",
                "must be greater than 0 seconds",
            ));
        }
        if self.max_lifetime == 0 {
            return Err(Error::bad_config(
                "maxLifetime",
                "must be greater than 0 seconds",
            ));
        }
        if self.touch_interval == 0 {
            return Err(Error::bad_config(
                "touchInterval",
                "must be greater than 0 seconds",
            ));
        }
        if !(16..=64).contains(&self.id_length) {
            return Err(Error::bad_config(
                "sessionIDLength",
                format!(
                    "{} is outside 16..=64 bytes (128 to 512 bits)",
                    self.id_length
                ),
            ));
        }
        if self.id_prefix.starts_with('.') {
            // It would make ids hidden file names, which the file provider's GC never sees.
            return Err(Error::bad_config(
                "sessionIDPrefix",
                "must not start with `.`",
            ));
        }
        if self.id_prefix.len() > 64
            || !self
                .id_prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        {
            return Err(Error::bad_config(
                "sessionIDPrefix",
                "use at most 64 of A-Z a-z 0-9 - _ .",
            ));
        }
        if self.sid_in_header && !is_token(&self.header_name) {
            return Err(Error::bad_config(
                "SessionNameInHTTPHeader",
                format!("`{}` is not a valid header name", self.header_name),
            ));
        }
        let attr_ok = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_graphic() && b != b';' && b != b',')
        };
        if !attr_ok(&self.domain) {
            return Err(Error::bad_config(
                "domain",
                format!("`{}` is not a cookie domain", self.domain),
            ));
        }
        if !self.path.starts_with('/') || !attr_ok(&self.path) {
            return Err(Error::bad_config(
                "cookiePath",
                format!("`{}` is not a cookie path", self.path),
            ));
        }
        if self.provider.trim().is_empty() {
            return Err(Error::bad_config("sessionprovider", "must name a provider"));
        }
        Ok(())
    }

    /// The touch interval in effect: [`Config::touch_interval`], but at most half the idle
    /// limit, so a session in use never expires between two touches.
    pub fn effective_touch_interval(&self) -> u64 {
        self.touch_interval.min((self.max_lifetime / 2).max(1))
    }

    /// Parses beego's JSON `ManagerConfig`, keys matched case-insensitively, over the defaults.
    ///
    /// A `gclifetime` with no `maxLifetime` sets both, as in beego. A key's `,omitempty` suffix
    /// (seen in beego's docs) is ignored; unknown keys are ignored, as Go's JSON decoder does.
    ///
    /// ```
    /// use polysession_core::Config;
    /// let c = Config::from_beego_json(r#"{"cookieName":"gosessionid","gclifetime":120,
    ///     "enableSetCookie,omitempty": true, "cookieSameSite": 3}"#).unwrap();
    /// assert_eq!((c.cookie_name.as_str(), c.max_lifetime), ("gosessionid", 120));
    /// ```
    ///
    /// # Errors
    /// [`BadConfig`](crate::ErrorKind::BadConfig) naming the key whose value is wrong.
    pub fn from_beego_json(json: &str) -> Result<Self> {
        let mut config = Config::default();
        config.apply_beego_json(json)?;
        Ok(config)
    }

    /// Applies beego JSON keys over this config; see [`Config::from_beego_json`].
    ///
    /// # Errors
    /// [`BadConfig`](crate::ErrorKind::BadConfig) naming the key whose value is wrong.
    pub fn apply_beego_json(&mut self, json: &str) -> Result<()> {
        let map = parse_object(json, "sessionConfig")?;
        self.apply_map(&map, false)
    }

    /// Applies the options object of the Node, Python and wasm packages: the camelCase keys
    /// of [`Config::from_beego_json`] (any case), where `providerConfig` may also be a JSON
    /// object, and where an unknown key is an error instead of being ignored. This is the one
    /// option mapping every binding shares; host-only options (a store object, a clock) are
    /// taken out by the binding before it calls this.
    ///
    /// ```
    /// use polysession_core::Config;
    /// let mut c = Config::default();
    /// c.apply_options(r#"{"cookieName": "sid", "provider": "cookie",
    ///     "providerConfig": {"keys": ["0123456789abcdef0123456789abcdef"]}}"#).unwrap();
    /// assert_eq!(c.provider_config, r#"{"keys":["0123456789abcdef0123456789abcdef"]}"#);
    /// let err = c.apply_options(r#"{"cookieNmae": "sid"}"#).unwrap_err();
    /// assert!(err.to_string().contains("cookieNmae"));
    /// ```
    ///
    /// # Errors
    /// [`BadConfig`](crate::ErrorKind::BadConfig) naming the unknown key or the key whose
    /// value is wrong.
    pub fn apply_options(&mut self, json: &str) -> Result<()> {
        let map = parse_object(json, "options")?;
        self.apply_map(&map, true)
    }

    fn apply_map(&mut self, map: &serde_json::Map<String, Value>, strict: bool) -> Result<()> {
        let mut hash_key: Option<String> = None;
        let mut hash_func: Option<String> = None;
        let mut max_set = false;
        let mut gc_set = false;
        for (raw_key, v) in map {
            let key = raw_key.split(',').next().unwrap_or_default().trim();
            let as_text = match v {
                Value::Object(_) | Value::Array(_)
                    if key.eq_ignore_ascii_case("providerConfig") =>
                {
                    v.to_string()
                }
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => continue,
                _ => {
                    return Err(Error::bad_config(
                        key,
                        "must be a string, number or boolean",
                    ))
                }
            };
            match key.to_ascii_lowercase().as_str() {
                "gclifetime" => {
                    self.gc_lifetime = parse_u64(key, &as_text)?;
                    gc_set = true;
                }
                "maxlifetime" => {
                    let n = parse_u64(key, &as_text)?;
                    // beego: 0 means "same as gclifetime".
                    if n > 0 {
                        self.max_lifetime = n;
                        max_set = true;
                    }
                }
                "sessionidhashfunc" => hash_func = Some(as_text),
                "sessionidhashkey" => hash_key = Some(as_text),
                other => {
                    if !self.set_common(other, key, &as_text)? && strict {
                        return Err(Error::bad_config(key, "is not a polysession option"));
                    }
                }
            }
        }
        if gc_set && !max_set {
            self.max_lifetime = self.gc_lifetime;
        }
        self.apply_hash(hash_func.as_deref(), hash_key)?;
        Ok(())
    }

    /// Sets a key both formats share. Returns false for an unknown key.
    pub(crate) fn set_common(&mut self, lower: &str, key: &str, v: &str) -> Result<bool> {
        match lower {
            "cookiename" => self.cookie_name = v.to_owned(),
            "enablesetcookie" => self.enable_set_cookie = parse_bool(key, v)?,
            "cookielifetime" => self.cookie_lifetime = parse_u64(key, v)?,
            "absolutelifetime" => self.absolute_lifetime = parse_u64(key, v)?,
            "touchinterval" => self.touch_interval = parse_u64(key, v)?,
            "secure" => self.secure = parse_bool(key, v)?,
            "trustforwardedproto" => self.trust_forwarded_proto = parse_bool(key, v)?,
            "disablehttponly" => self.http_only = !parse_bool(key, v)?,
            "domain" => self.domain = v.to_owned(),
            "cookiepath" => self.path = v.to_owned(),
            "providerconfig" => self.provider_config = v.to_owned(),
            "provider" => self.provider = v.to_owned(),
            "sessionidlength" => {
                self.id_length = usize::try_from(parse_u64(key, v)?).unwrap_or(usize::MAX)
            }
            "sessionidprefix" => self.id_prefix = v.to_owned(),
            "enablesidinhttpheader" => self.sid_in_header = parse_bool(key, v)?,
            "sessionnameinhttpheader" => self.header_name = v.to_owned(),
            "enablesidinurlquery" => self.sid_in_url_query = parse_bool(key, v)?,
            "cookiesamesite" => self.same_site = SameSite::parse(key, v)?,
            "maxsessionbytes" | "maxbytes" => self.max_session_bytes = parse_u64(key, v)?,
            "maxsessionkeys" | "maxkeys" => self.max_session_keys = parse_u64(key, v)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn apply_hash(&mut self, func: Option<&str>, key: Option<String>) -> Result<()> {
        match func.map(|f| f.trim().to_ascii_lowercase()) {
            None => {
                if let (Some(k), IdHash::HmacSha1(_)) = (key, &self.id_hash) {
                    self.id_hash = IdHash::HmacSha1(k);
                }
            }
            Some(f) if f.is_empty() || f == "random" => self.id_hash = IdHash::Random,
            Some(f) if f == "sha1" => self.id_hash = IdHash::HmacSha1(key.unwrap_or_default()),
            Some(f) => {
                return Err(Error::bad_config(
                    "sessionIDHashFunc",
                    format!("`{f}` is not supported (use \"sha1\" or leave it out)"),
                ))
            }
        }
        Ok(())
    }
}

fn parse_object(json: &str, what: &str) -> Result<serde_json::Map<String, Value>> {
    let value: Value = serde_json::from_str(json)
        .map_err(|e| Error::bad_config(what, format!("not valid JSON: {e}")))?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(Error::bad_config(what, "must be a JSON object")),
    }
}

pub(crate) fn parse_u64(key: &str, v: &str) -> Result<u64> {
    let t = v.trim();
    t.parse::<u64>().or_else(|_| {
        // JSON numbers such as 3600.0 are whole seconds too.
        match t.parse::<f64>() {
            Ok(f) if f >= 0.0 && f.fract() == 0.0 && f < 1e15 => Ok(f as u64),
            _ => Err(Error::bad_config(
                key,
                format!("`{v}` is not a whole number >= 0"),
            )),
        }
    })
}

/// beego's boolean words: 1/t/true/yes/y/on and 0/f/false/no/n/off, any case.
pub(crate) fn parse_bool(key: &str, v: &str) -> Result<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "t" | "true" | "yes" | "y" | "on" => Ok(true),
        "0" | "f" | "false" | "no" | "n" | "off" => Ok(false),
        _ => Err(Error::bad_config(key, format!("`{v}` is not a boolean"))),
    }
}

/// A typed builder for [`Config`]; [`ConfigBuilder::build`] validates.
///
/// ```
/// use polysession_core::{Config, SameSite};
/// let c = Config::builder()
///     .provider("memory", "")
///     .same_site(SameSite::Strict)
///     .secure(true)
///     .build()
///     .unwrap();
/// assert_eq!(c.same_site, SameSite::Strict);
/// assert!(Config::builder().gc_lifetime(0).build().is_err());
/// ```
#[derive(Debug, Clone)]
pub struct ConfigBuilder(Config);

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty),* $(,)?) => {$(
        $(#[$doc])*
        pub fn $name(mut self, value: $ty) -> Self {
            self.0.$name = value.into();
            self
        }
    )*};
}

impl ConfigBuilder {
    setters! {
        /// Sets [`Config::cookie_name`].
        cookie_name: impl Into<String>,
        /// Sets [`Config::enable_set_cookie`].
        enable_set_cookie: bool,
        /// Sets [`Config::gc_lifetime`] (seconds).
        gc_lifetime: u64,
        /// Sets [`Config::max_lifetime`] (seconds).
        max_lifetime: u64,
        /// Sets [`Config::absolute_lifetime`] (seconds, 0 for none).
        absolute_lifetime: u64,
        /// Sets [`Config::touch_interval`] (seconds).
        touch_interval: u64,
        /// Sets [`Config::cookie_lifetime`] (seconds).
        cookie_lifetime: u64,
        /// Sets [`Config::secure`].
        secure: bool,
        /// Sets [`Config::trust_forwarded_proto`].
        trust_forwarded_proto: bool,
        /// Sets [`Config::http_only`].
        http_only: bool,
        /// Sets [`Config::domain`].
        domain: impl Into<String>,
        /// Sets [`Config::path`].
        path: impl Into<String>,
        /// Sets [`Config::same_site`].
        same_site: SameSite,
        /// Sets [`Config::id_length`] (bytes).
        id_length: usize,
        /// Sets [`Config::id_prefix`].
        id_prefix: impl Into<String>,
        /// Sets [`Config::id_hash`].
        id_hash: IdHash,
        /// Sets [`Config::sid_in_header`].
        sid_in_header: bool,
        /// Sets [`Config::header_name`].
        header_name: impl Into<String>,
        /// Sets [`Config::sid_in_url_query`].
        sid_in_url_query: bool,
        /// Sets [`Config::max_session_bytes`] (0 for no limit).
        max_session_bytes: u64,
        /// Sets [`Config::max_session_keys`] (0 for no limit).
        max_session_keys: u64,
    }

    /// Sets the provider name and its config string.
    pub fn provider(mut self, name: impl Into<String>, config: impl Into<String>) -> Self {
        self.0.provider = name.into();
        self.0.provider_config = config.into();
        self
    }

    /// Validates and returns the config.
    ///
    /// # Errors
    /// [`BadConfig`](crate::ErrorKind::BadConfig) naming the first bad key.
    pub fn build(self) -> Result<Config> {
        self.0.validate()?;
        Ok(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn defaults_follow_the_seed_docs() {
        let c = Config::default();
        assert_eq!(c.provider, "memory");
        assert_eq!(c.cookie_name, "beegosessionID");
        assert_eq!(c.max_lifetime, 3600);
        assert_eq!(c.gc_lifetime, 3600);
        assert_eq!(c.id_length, 16);
        assert_eq!(c.same_site, SameSite::Lax);
        assert!(c.http_only && c.enable_set_cookie && !c.secure);
        c.validate().unwrap();
    }

    #[test]
    fn beego_json_keys_case_insensitive() {
        let c = Config::from_beego_json(
            r#"{"COOKIENAME":"x","EnableSetCookie":false,"Gclifetime":10,"maxlifetime":20,
            "Secure":true,"cookieLifeTime":30,"providerConfig":"/tmp/s","Domain":"example.com",
            "disableHTTPOnly":true,"EnableSidInHTTPHeader":true,"SessionNameInHTTPHeader":"X-Sid",
            "EnableSidInURLQuery":true,"sessionIDPrefix":"p_","cookieSameSite":4,"sessionIDLength":32}"#,
        )
        .unwrap();
        assert_eq!(c.cookie_name, "x");
        assert!(!c.enable_set_cookie);
        assert_eq!(
            (c.gc_lifetime, c.max_lifetime, c.cookie_lifetime),
            (10, 20, 30)
        );
        assert!(c.secure && !c.http_only && c.sid_in_header && c.sid_in_url_query);
        assert_eq!(c.provider_config, "/tmp/s");
        assert_eq!(c.domain, "example.com");
        assert_eq!(c.header_name, "X-Sid");
        assert_eq!(c.id_prefix, "p_");
        assert_eq!(c.same_site, SameSite::None);
        assert_eq!(c.id_length, 32);
        c.validate().unwrap();
    }

    #[test]
    fn seed_doc_example_parses() {
        let c = Config::from_beego_json(
            r#"{"cookieName":"gosessionid", "enableSetCookie,omitempty": true, "gclifetime":3600, "maxLifetime": 3600, "secure": false, "sessionIDHashFunc": "sha1", "sessionIDHashKey": "", "cookieLifeTime": 3600, "providerConfig": ""}"#,
        )
        .unwrap();
        assert_eq!(c.id_hash, IdHash::HmacSha1(String::new()));
        assert_eq!(c.cookie_lifetime, 3600);
    }

    #[test]
    fn gclifetime_alone_sets_max_lifetime() {
        let c = Config::from_beego_json(r#"{"gclifetime": 42}"#).unwrap();
        assert_eq!(c.max_lifetime, 42);
        let c = Config::from_beego_json(r#"{"gclifetime": 42, "maxLifetime": 0}"#).unwrap();
        assert_eq!(c.max_lifetime, 42);
    }

    #[test]
    fn bad_values_name_the_key() {
        for (json, key) in [
            (r#"{"gclifetime": -1}"#, "gclifetime"),
            (r#"{"gclifetime": "soon"}"#, "gclifetime"),
            (r#"{"secure": "maybe"}"#, "secure"),
            (r#"{"cookieSameSite": 9}"#, "cookieSameSite"),
            (r#"{"sessionIDHashFunc": "md5"}"#, "sessionIDHashFunc"),
            (r#"{"cookieName": {"a":1}}"#, "cookieName"),
            ("[1]", "sessionConfig"),
            ("{", "sessionConfig"),
        ] {
            let err = Config::from_beego_json(json).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BadConfig);
            assert!(err.to_string().contains(key), "{json}: {err}");
        }
        for (c, key) in [
            (
                Config {
                    gc_lifetime: 0,
                    ..Config::default()
                },
                "gclifetime",
            ),
            (
                Config {
                    cookie_name: "a b".into(),
                    ..Config::default()
                },
                "cookieName",
            ),
            (
                Config {
                    cookie_name: "".into(),
                    ..Config::default()
                },
                "cookieName",
            ),
            (
                Config {
                    id_length: 8,
                    ..Config::default()
                },
                "sessionIDLength",
            ),
            (
                Config {
                    id_prefix: "a/b".into(),
                    ..Config::default()
                },
                "sessionIDPrefix",
            ),
            (
                Config {
                    domain: "a;b".into(),
                    ..Config::default()
                },
                "domain",
            ),
            (
                Config {
                    touch_interval: 0,
                    ..Config::default()
                },
                "touchInterval",
            ),
            (
                Config {
                    sid_in_header: true,
                    header_name: "a b".into(),
                    ..Config::default()
                },
                "SessionNameInHTTPHeader",
            ),
        ] {
            let err = c.validate().unwrap_err();
            assert!(err.to_string().contains(key), "{err}");
        }
    }

    #[test]
    fn same_site_forms() {
        assert_eq!(SameSite::parse("k", "0").unwrap(), SameSite::Unset);
        assert_eq!(SameSite::parse("k", "1").unwrap(), SameSite::Unset);
        assert_eq!(SameSite::parse("k", "2").unwrap(), SameSite::Lax);
        assert_eq!(SameSite::parse("k", "Strict").unwrap(), SameSite::Strict);
        assert_eq!(SameSite::parse("k", "4").unwrap(), SameSite::None);
        assert!(SameSite::parse("k", "5").is_err());
    }

    #[test]
    fn touch_interval_is_capped_by_idle_limit() {
        let c = Config {
            max_lifetime: 4,
            ..Config::default()
        };
        assert_eq!(c.effective_touch_interval(), 2);
        assert_eq!(Config::default().effective_touch_interval(), 60);
    }

    #[test]
    fn a_hidden_id_prefix_is_refused() {
        let err = Config::builder().id_prefix(".x").build().unwrap_err();
        assert!(err.to_string().contains("sessionIDPrefix"), "{err}");
        assert!(Config::builder().id_prefix("x.").build().is_ok());
    }

    #[test]
    fn debug_shows_no_secret() {
        let mut c = Config::default();
        c.apply_beego_json(
            r#"{"providerConfig": "127.0.0.1:6379,100,hunter2-password,0", "sessionIDHashFunc": "sha1", "sessionIDHashKey": "hmac-key-secret"}"#,
        )
        .unwrap();
        for text in [
            format!("{c:?}"),
            format!("{c:#?}"),
            format!("{:?}", Config::builder()),
        ] {
            assert!(
                !text.contains("hunter2") && !text.contains("hmac-key-secret"),
                "{text}"
            );
        }
        assert!(format!("{c:?}").contains("provider_config: <37 bytes, redacted>"));
        assert!(format!("{c:?}").contains("id_hash: HmacSha1(<redacted>)"));
    }

    #[test]
    fn options_are_strict_beego_json_is_not() {
        let mut c = Config::default();
        c.apply_options(r#"{"maxLifetime": 60, "COOKIESAMESITE": "strict", "domain": null}"#)
            .unwrap();
        assert_eq!((c.max_lifetime, c.same_site), (60, SameSite::Strict));
        for (bad, key) in [
            (r#"{"store": {}}"#, "store"),
            (r#"{"cookieName": ["a"]}"#, "cookieName"),
            (r#"{"maxLifetime": "soon"}"#, "maxLifetime"),
            (r#"[1, 2]"#, "options"),
            (r#"{"#, "options"),
        ] {
            let err = c.apply_options(bad).unwrap_err();
            assert_eq!(err.code(), "BAD_CONFIG");
            assert!(err.to_string().contains(key), "{bad}: {err}");
        }
        // beego's own JSON ignores keys it does not know, as beego does.
        c.apply_beego_json(r#"{"somethingElse": 1, "providerConfig": {"keys": []}}"#)
            .unwrap();
        assert_eq!(c.provider_config, r#"{"keys":[]}"#);
    }
}

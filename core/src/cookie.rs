//! Reading the id from a request and writing the session cookie.

use crate::config::{Config, SameSite};
use cookie::time::{Duration, OffsetDateTime};
use cookie::Cookie;

/// At most this many cookies of the session's name are considered in one request.
pub(crate) const MAX_CANDIDATES: usize = 4;

/// The parts of an HTTP request the manager reads, as plain data.
///
/// Hosts fill it from their own request type; the manager decides which part to trust.
///
/// ```
/// use polysession_core::RequestInfo;
/// let req = RequestInfo {
///     cookies: vec!["theme=dark; beegosessionID=0123"],
///     query: Some("page=2"),
///     https: true,
///     ..Default::default()
/// };
/// assert_eq!(req.cookies.len(), 1);
/// ```
#[derive(Debug, Default, Clone)]
pub struct RequestInfo<'a> {
    /// Every `Cookie` header value, in order (non-UTF-8 bytes replaced, or the header dropped).
    pub cookies: Vec<&'a str>,
    /// The raw URL query string, without `?`.
    pub query: Option<&'a str>,
    /// An `application/x-www-form-urlencoded` body, when the host has read one.
    pub form: Option<&'a str>,
    /// The value of the header named by [`Config::header_name`], if present.
    pub sid_header: Option<&'a str>,
    /// Whether the request arrived over HTTPS at this server.
    pub https: bool,
    /// The `X-Forwarded-Proto` header value, if present (trusted only when configured).
    pub forwarded_proto: Option<&'a str>,
}

impl RequestInfo<'_> {
    pub(crate) fn is_https(&self, config: &Config) -> bool {
        self.https
            || (config.trust_forwarded_proto
                && self
                    .forwarded_proto
                    .and_then(|p| p.split(',').next())
                    .is_some_and(|p| p.trim().eq_ignore_ascii_case("https")))
    }

    /// Whether a cookie of the session's name was sent: then it is the id's only transport,
    /// and hosts need not read a form body for one.
    ///
    /// ```
    /// use polysession_core::{Config, RequestInfo};
    /// let req = RequestInfo { cookies: vec!["a=1; beegosessionID=x"], ..Default::default() };
    /// assert!(req.has_session_cookie(&Config::default()));
    /// ```
    pub fn has_session_cookie(&self, config: &Config) -> bool {
        let name = config.cookie_name.as_str();
        self.cookies
            .iter()
            .any(|header| named(header, name).next().is_some())
    }

    /// The values that may carry the session id, best first, and where they came from.
    /// A present session cookie never falls back to the query or the header (as in beego).
    pub(crate) fn id_candidates(&self, config: &Config) -> (Vec<String>, crate::IdSource) {
        let name = config.cookie_name.as_str();
        let mut found = Vec::new();
        for header in &self.cookies {
            for cookie in named(header, name) {
                if found.len() < MAX_CANDIDATES {
                    found.push(cookie.value_trimmed().to_owned());
                }
            }
        }
        if !found.is_empty() {
            return (found, crate::IdSource::Cookie);
        }
        if config.sid_in_url_query {
            for source in [self.query, self.form].into_iter().flatten() {
                if let Some((_, v)) =
                    form_urlencoded::parse(source.as_bytes()).find(|(k, _)| k == name)
                {
                    return (vec![v.into_owned()], crate::IdSource::Query);
                }
            }
        }
        if config.sid_in_header {
            if let Some(v) = self.sid_header {
                return (vec![v.trim().to_owned()], crate::IdSource::Header);
            }
        }
        (Vec::new(), crate::IdSource::New)
    }
}

/// The cookies called `name` in one `Cookie` header, in order, as the cookie crate's
/// `Cookie::split_parse` reads them (pieces between `;`, each parsed, names trimmed). A piece
/// that does not start with `name` once leading whitespace is trimmed cannot be one, and is
/// skipped without being parsed: browsers send every cookie of the site in this header.
fn named<'h>(header: &'h str, name: &'h str) -> impl Iterator<Item = Cookie<'h>> + 'h {
    header
        .split(';')
        .filter(move |piece| piece.trim_start().starts_with(name))
        .filter_map(|piece| Cookie::parse(piece).ok())
        .filter(move |c| c.name() == name)
}

/// The session `Set-Cookie` value carrying `value`, with beego's attributes and a lifetime of
/// `lifetime` seconds (`0`: a browser-session cookie).
pub(crate) fn set_cookie(
    config: &Config,
    value: &str,
    https: bool,
    now_ms: u64,
    lifetime: u64,
) -> String {
    let mut c = base(config, value, https);
    if lifetime > 0 {
        let secs = lifetime.min(400 * 24 * 3600) as i64;
        c.set_max_age(Duration::seconds(secs));
        if let Ok(at) = OffsetDateTime::from_unix_timestamp((now_ms / 1000) as i64 + secs) {
            c.set_expires(at);
        }
    }
    c.to_string()
}

/// The `Set-Cookie` value that deletes the session cookie.
pub(crate) fn removal_cookie(config: &Config, https: bool) -> String {
    let mut c = base(config, "", https);
    c.set_max_age(Duration::ZERO);
    c.set_expires(OffsetDateTime::UNIX_EPOCH);
    c.to_string()
}

fn base<'c>(config: &'c Config, value: &'c str, https: bool) -> Cookie<'c> {
    let mut c = Cookie::new(config.cookie_name.as_str(), value);
    c.set_path(config.path.as_str());
    if !config.domain.is_empty() {
        c.set_domain(config.domain.as_str());
    }
    c.set_http_only(config.http_only);
    c.set_secure(config.secure && https);
    match config.same_site {
        SameSite::Unset => {}
        SameSite::Lax => c.set_same_site(cookie::SameSite::Lax),
        SameSite::Strict => c.set_same_site(cookie::SameSite::Strict),
        SameSite::None => c.set_same_site(cookie::SameSite::None),
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IdSource;

    /// Skipping pieces that cannot hold the name finds what parsing every piece finds.
    #[test]
    fn named_cookies_are_the_ones_split_parse_finds() {
        let headers = [
            "",
            ";;; ;",
            "a=1; sid=x; b=2; sid=y",
            "sid=x",
            "  sid  =  x  ; sid=\"q\"",
            "sidx=1; xsid=2; sid; =sid; sid=",
            "\u{a0}sid=nbsp; \tsid=tab; sid=a=b",
            "SID=upper; sid=%20; sid=x; Path=/; HttpOnly",
            "\u{fffd}=1; sid=\u{fffd}; ;sid=last",
        ];
        for header in headers {
            for name in ["sid", "SID", "s", "sidx"] {
                let ours: Vec<String> = named(header, name).map(|c| c.to_string()).collect();
                let theirs: Vec<String> = Cookie::split_parse(header)
                    .flatten()
                    .filter(|c| c.name() == name)
                    .map(|c| c.to_string())
                    .collect();
                assert_eq!(ours, theirs, "{name} in {header:?}");
            }
        }
    }

    #[test]
    fn cookie_then_query_then_header() {
        let config = Config {
            sid_in_url_query: true,
            sid_in_header: true,
            ..Config::default()
        };
        let mut req = RequestInfo {
            cookies: vec!["a=1; beegosessionID=c1", "beegosessionID=\"c2\""],
            query: Some("beegosessionID=q"),
            sid_header: Some("h"),
            ..Default::default()
        };
        assert_eq!(
            req.id_candidates(&config),
            (vec!["c1".to_owned(), "c2".to_owned()], IdSource::Cookie)
        );
        req.cookies.clear();
        assert_eq!(
            req.id_candidates(&config),
            (vec!["q".to_owned()], IdSource::Query)
        );
        req.query = Some("x=1");
        req.form = Some("beegosessionID=f&y=2");
        assert_eq!(
            req.id_candidates(&config),
            (vec!["f".to_owned()], IdSource::Query)
        );
        req.form = None;
        assert_eq!(
            req.id_candidates(&config),
            (vec!["h".to_owned()], IdSource::Header)
        );
        let off = Config::default();
        req.query = Some("beegosessionID=q");
        assert_eq!(req.id_candidates(&off).1, IdSource::New);
    }

    #[test]
    fn candidates_are_bounded() {
        let header = "beegosessionID=x; ".repeat(100);
        let req = RequestInfo {
            cookies: vec![&header],
            ..Default::default()
        };
        assert_eq!(
            req.id_candidates(&Config::default()).0.len(),
            MAX_CANDIDATES
        );
    }

    #[test]
    fn attributes() {
        let config = Config {
            secure: true,
            cookie_lifetime: 60,
            domain: "example.com".into(),
            ..Config::default()
        };
        let over_http = set_cookie(&config, "abc", false, 0, 60);
        assert!(over_http.starts_with("beegosessionID=abc"));
        for part in [
            "Path=/",
            "Domain=example.com",
            "Max-Age=60",
            "HttpOnly",
            "SameSite=Lax",
            "Expires=Thu, 01 Jan 1970 00:01:00 GMT",
        ] {
            assert!(over_http.contains(part), "{over_http} lacks {part}");
        }
        assert!(!over_http.contains("Secure"));
        assert!(set_cookie(&config, "abc", true, 0, 60).contains("Secure"));
        let plain = set_cookie(
            &Config {
                same_site: SameSite::Unset,
                http_only: false,
                ..Config::default()
            },
            "v",
            true,
            0,
            0,
        );
        assert_eq!(plain, "beegosessionID=v; Path=/");
        let removal = removal_cookie(&Config::default(), false);
        assert!(removal.contains("Max-Age=0") && removal.starts_with("beegosessionID=;"));
    }

    #[test]
    fn forwarded_proto_only_when_trusted() {
        let req = RequestInfo {
            forwarded_proto: Some("https"),
            ..Default::default()
        };
        assert!(!req.is_https(&Config::default()));
        assert!(req.is_https(&Config {
            trust_forwarded_proto: true,
            ..Config::default()
        }));
    }
}

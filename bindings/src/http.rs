//! HTTP as data, so every host answers alike: the status of each error kind, the error
//! response, the merge of the session's headers into the application's, the form-body
//! policy, outcome names, and the request parts the manager reads.

use polysession_core::{Config, Error, ErrorKind, Outcome, Release, RequestInfo};

/// Urlencoded bodies up to this many bytes may be read for a session id.
pub const MAX_FORM_BYTES: u64 = 64 * 1024;

/// Seconds a client should wait before retrying after a store outage (`Retry-After`).
pub const RETRY_AFTER_SECS: u32 = 1;

/// The HTTP status for an error of `kind`: `BAD_INPUT` 400, `TOO_LARGE` 413,
/// `STORE_UNAVAILABLE` 503, everything else 500.
///
/// ```
/// use polysession_bindings::http::status;
/// use polysession_core::ErrorKind;
/// assert_eq!(status(ErrorKind::StoreUnavailable), 503);
/// assert_eq!(status(ErrorKind::TooLarge), 413);
/// ```
pub fn status(kind: ErrorKind) -> u16 {
    match kind {
        ErrorKind::BadInput => 400,
        ErrorKind::TooLarge => 413,
        ErrorKind::StoreUnavailable => 503,
        _ => 500,
    }
}

/// The response a host gives for a session error: status, headers and a plain-text body that
/// names the code only (never a store address or a credential).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorResponse {
    /// The HTTP status.
    pub status: u16,
    /// The headers, lowercase names: `content-type`, and `retry-after` for a 503.
    pub headers: Vec<(&'static str, String)>,
    /// The body: `"<status> <what happened> (<CODE>)\n"`.
    pub body: String,
}

/// The [`ErrorResponse`] for `err`.
///
/// ```
/// use polysession_bindings::http::error_response;
/// use polysession_core::Error;
/// let r = error_response(&Error::store("redis", "127.0.0.1:6379"));
/// assert_eq!(r.status, 503);
/// assert_eq!(r.body, "503 session store unavailable, please retry (STORE_UNAVAILABLE)\n");
/// assert!(r.headers.contains(&("retry-after", "1".to_owned())));
/// ```
pub fn error_response(err: &Error) -> ErrorResponse {
    error_response_for(Some(err.kind()))
}

/// The [`ErrorResponse`] for an error code as a host sees it (`err.code`); anything that is
/// not a polysession code (`None` or unknown) is a 500 `INTERNAL`.
pub fn error_response_for_code(code: Option<&str>) -> ErrorResponse {
    error_response_for(code.and_then(ErrorKind::from_code))
}

fn error_response_for(kind: Option<ErrorKind>) -> ErrorResponse {
    let status = kind.map_or(500, status);
    let what = match kind {
        Some(ErrorKind::StoreUnavailable) => "session store unavailable, please retry",
        Some(ErrorKind::Conflict) => "session changed concurrently, please retry",
        Some(ErrorKind::TooLarge) => "session too large",
        Some(ErrorKind::BadInput) => "bad session input",
        _ => "session error",
    };
    let code = kind.map_or("INTERNAL", ErrorKind::code);
    let mut headers = vec![("content-type", "text/plain; charset=utf-8".to_owned())];
    if status == 503 {
        headers.push(("retry-after", RETRY_AFTER_SECS.to_string()));
    }
    ErrorResponse {
        status,
        headers,
        body: format!("{status} {what} ({code})\n"),
    }
}

/// What a host sets on the response after a release, already merged with the
/// application's own `Vary` and `Cache-Control`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseHeaders {
    /// Append as `Set-Cookie` (the one session cookie).
    pub set_cookie: Option<String>,
    /// Set this header (name, id) in header mode.
    pub sid_header: Option<(String, String)>,
    /// Replace every `Vary` header with this value.
    pub vary: Option<String>,
    /// Replace every `Cache-Control` header with this value.
    pub cache_control: Option<String>,
}

/// Merges `release` into a response whose `Vary` and `Cache-Control` headers are `vary` and
/// `cache_control` (every line of each): `Cookie` is appended to `Vary` unless it is there
/// (or `*`); `no-store` is added to the application's `Cache-Control` directives, which are
/// kept, when an id is sent.
///
/// ```
/// use polysession_bindings::http::response_headers;
/// use polysession_core::{Outcome, Release};
/// let release = Release { set_cookie: Some("sid=1".into()), sid_header: None, no_store: true,
///                         vary_cookie: true, outcome: Outcome::Written };
/// let h = response_headers(&release, &["Accept-Encoding"], &["private, max-age=60"]);
/// assert_eq!(h.vary.as_deref(), Some("Accept-Encoding, Cookie"));
/// assert_eq!(h.cache_control.as_deref(), Some("private, max-age=60, no-store"));
/// ```
pub fn response_headers(
    release: &Release,
    vary: &[&str],
    cache_control: &[&str],
) -> ResponseHeaders {
    ResponseHeaders {
        set_cookie: release.set_cookie.clone(),
        sid_header: release.sid_header.clone(),
        vary: release
            .vary_cookie
            .then(|| with_token(vary, "Cookie", |t| t == "*"))
            .flatten(),
        cache_control: release
            .no_store
            .then(|| with_token(cache_control, "no-store", |_| false))
            .flatten(),
    }
}

/// The comma list of `lines` with `token` added, or `None` when it is already there (or
/// `covered` says another token covers it).
fn with_token(lines: &[&str], token: &str, covered: impl Fn(&str) -> bool) -> Option<String> {
    let items: Vec<&str> = lines
        .iter()
        .flat_map(|l| l.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    let present = items.iter().any(|t| {
        // `no-store` may carry no argument; compare the directive name.
        let name = t.split('=').next().unwrap_or_default().trim();
        name.eq_ignore_ascii_case(token) || covered(t)
    });
    if present {
        return None;
    }
    let mut out = items.join(", ");
    if !out.is_empty() {
        out.push_str(", ");
    }
    out.push_str(token);
    Some(out)
}

/// Whether a host should read the request body for a session id: only when ids may travel in
/// a form (`EnableSidInURLQuery`) and no session cookie was sent, only for an urlencoded
/// POST, PUT or PATCH with a `Content-Length` from 1 to [`MAX_FORM_BYTES`] (never a body of
/// unknown length).
///
/// ```
/// use polysession_bindings::http::{read_form, RequestParts};
/// use polysession_core::Config;
/// let config = Config::builder().sid_in_url_query(true).build().unwrap();
/// let parts = RequestParts::default();
/// let form = Some("application/x-www-form-urlencoded");
/// assert!(read_form(&config, &parts, "POST", form, Some("20")));
/// assert!(!read_form(&config, &parts, "POST", form, None));
/// assert!(!read_form(&config, &parts, "POST", form, Some("70000")));
/// ```
pub fn read_form(
    config: &Config,
    parts: &RequestParts,
    method: &str,
    content_type: Option<&str>,
    content_length: Option<&str>,
) -> bool {
    let urlencoded = content_type.is_some_and(|t| {
        t.trim_start()
            .get(..33)
            .is_some_and(|p| p.eq_ignore_ascii_case("application/x-www-form-urlencoded"))
    });
    let length_ok = content_length
        .and_then(|l| l.trim().parse::<u64>().ok())
        .is_some_and(|n| n > 0 && n <= MAX_FORM_BYTES);
    config.sid_in_url_query
        && ["POST", "PUT", "PATCH"]
            .iter()
            .any(|m| m.eq_ignore_ascii_case(method))
        && urlencoded
        && length_ok
        && !parts.info().has_session_cookie(config)
}

/// The name a host shows for an outcome: `unchanged`, `written`, `touched`, `gone`,
/// `destroyed`.
pub fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Unchanged => "unchanged",
        Outcome::Written => "written",
        Outcome::Touched => "touched",
        Outcome::Gone => "gone",
        Outcome::Destroyed => "destroyed",
    }
}

/// The parts of a request the manager reads, owned, so a host can fill them from its own
/// request type and start the session later.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestParts {
    /// Every `Cookie` header value.
    pub cookies: Vec<String>,
    /// The URL query, without `?` or a fragment.
    pub query: Option<String>,
    /// An urlencoded body, when [`read_form`] said to read it.
    pub form: Option<String>,
    /// The id header's value, when ids may travel in a header.
    pub sid_header: Option<String>,
    /// Whether the request came over HTTPS to this server.
    pub https: bool,
    /// The `X-Forwarded-Proto` header.
    pub forwarded_proto: Option<String>,
}

impl RequestParts {
    /// The parts as a binding receives them from its host: the `Cookie` header, the URL (or
    /// path and query, see [`set_url`](Self::set_url)), the id header, `X-Forwarded-Proto`
    /// and the form body [`read_form`] allowed (see [`set_form`](Self::set_form)).
    ///
    /// ```
    /// use polysession_bindings::RequestParts;
    /// let parts = RequestParts::from_host(Some("sid=abc".into()), Some("/p?sid=x"), None, None, None);
    /// assert_eq!((parts.cookies.len(), parts.query.as_deref(), parts.https), (1, Some("sid=x"), false));
    /// ```
    pub fn from_host(
        cookie: Option<String>,
        url: Option<&str>,
        sid_header: Option<String>,
        forwarded_proto: Option<String>,
        form: Option<String>,
    ) -> Self {
        let mut parts = RequestParts {
            cookies: cookie.into_iter().collect(),
            sid_header,
            forwarded_proto,
            ..Default::default()
        };
        parts.set_url(url.unwrap_or_default());
        parts.set_form(form);
        parts
    }

    /// Sets the query and `https` from an absolute or relative URL (a fetch `Request.url`).
    ///
    /// ```
    /// use polysession_bindings::RequestParts;
    /// let mut parts = RequestParts::default();
    /// parts.set_url("HTTPS://example.com/p?a=1&b=2#frag");
    /// assert_eq!(parts.query.as_deref(), Some("a=1&b=2"));
    /// assert!(parts.https);
    /// ```
    pub fn set_url(&mut self, url: &str) {
        self.https = url
            .get(..6)
            .is_some_and(|s| s.eq_ignore_ascii_case("https:"));
        self.query = url
            .split('#')
            .next()
            .and_then(|u| u.split_once('?'))
            .map(|(_, q)| q.to_owned());
    }

    /// Sets the form body a host read, ignoring one above [`MAX_FORM_BYTES`].
    pub fn set_form(&mut self, form: Option<String>) {
        self.form = form.filter(|f| f.len() as u64 <= MAX_FORM_BYTES);
    }

    /// The borrowed view [`Manager::start`](polysession_core::Manager::start) takes.
    pub fn info(&self) -> RequestInfo<'_> {
        RequestInfo {
            cookies: self.cookies.iter().map(String::as_str).collect(),
            query: self.query.as_deref(),
            form: self.form.as_deref(),
            sid_header: self.sid_header.as_deref(),
            https: self.https,
            forwarded_proto: self.forwarded_proto.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(no_store: bool) -> Release {
        Release {
            set_cookie: None,
            sid_header: None,
            no_store,
            vary_cookie: true,
            outcome: Outcome::Unchanged,
        }
    }

    #[test]
    fn statuses_and_bodies() {
        for (kind, want) in [
            (ErrorKind::BadInput, 400),
            (ErrorKind::TooLarge, 413),
            (ErrorKind::StoreUnavailable, 503),
            (ErrorKind::Conflict, 500),
            (ErrorKind::BadConfig, 500),
            (ErrorKind::Unsupported, 500),
            (ErrorKind::UnknownProvider, 500),
        ] {
            assert_eq!(status(kind), want, "{kind:?}");
            let r = error_response_for_code(Some(kind.code()));
            assert_eq!(r.status, want);
            assert!(r.body.ends_with(&format!("({})\n", kind.code())));
            assert_eq!(
                r.headers.iter().any(|(n, _)| *n == "retry-after"),
                want == 503
            );
        }
        let r = error_response_for_code(Some("ECONNRESET"));
        assert_eq!(
            (r.status, r.body.as_str()),
            (500, "500 session error (INTERNAL)\n")
        );
        assert_eq!(error_response_for_code(None).status, 500);
    }

    #[test]
    fn vary_and_cache_control_merge() {
        let h = response_headers(&release(true), &[], &[]);
        assert_eq!(h.vary.as_deref(), Some("Cookie"));
        assert_eq!(h.cache_control.as_deref(), Some("no-store"));
        let h = response_headers(&release(true), &["accept", "COOKIE"], &["No-Store"]);
        assert_eq!((h.vary, h.cache_control), (None, None));
        let h = response_headers(&release(false), &["*"], &["public, max-age=60"]);
        assert_eq!((h.vary, h.cache_control), (None, None), "no id: cache kept");
        let h = response_headers(
            &release(true),
            &["Origin", " Accept , "],
            &["s-maxage=5", "private"],
        );
        assert_eq!(h.vary.as_deref(), Some("Origin, Accept, Cookie"));
        assert_eq!(
            h.cache_control.as_deref(),
            Some("s-maxage=5, private, no-store")
        );
    }

    #[test]
    fn form_policy() {
        let on = Config::builder().sid_in_url_query(true).build().unwrap();
        let off = Config::default();
        let none = RequestParts::default();
        let with_cookie = RequestParts {
            cookies: vec!["a=1; beegosessionID=x".into()],
            ..Default::default()
        };
        let other_cookie = RequestParts {
            cookies: vec!["a=1".into()],
            ..Default::default()
        };
        let form = Some("Application/X-WWW-Form-Urlencoded; charset=utf-8");
        assert!(read_form(&on, &none, "post", form, Some("10")));
        assert!(read_form(&on, &other_cookie, "PUT", form, Some("65536")));
        assert!(!read_form(&off, &none, "POST", form, Some("10")));
        assert!(!read_form(&on, &with_cookie, "POST", form, Some("10")));
        assert!(!read_form(&on, &none, "GET", form, Some("10")));
        assert!(!read_form(
            &on,
            &none,
            "POST",
            Some("text/plain"),
            Some("10")
        ));
        for length in [None, Some("0"), Some("65537"), Some("-1"), Some("x")] {
            assert!(!read_form(&on, &none, "POST", form, length), "{length:?}");
        }
    }

    #[test]
    fn url_parts() {
        let mut p = RequestParts::default();
        for (url, query, https) in [
            ("http://x/p?a=1", Some("a=1"), false),
            ("https://x/p", None, true),
            ("/p?x#y?z", Some("x"), false),
            ("", None, false),
            ("ht", None, false),
        ] {
            p.set_url(url);
            assert_eq!((p.query.as_deref(), p.https), (query, https), "{url}");
        }
    }
}

//! beego's app.conf: `sessionon` and the session keys, read into a [`Config`].

use crate::config::{parse_bool, parse_u64, Config};
use crate::error::{Error, Result};

/// One `key = value` line of an app.conf: lower-cased key, value, line number.
type Entry = (String, String, usize);

/// A beego app.conf: `sessionon` plus the session keys, read into a [`Config`].
///
/// Lines are `key = value`; `#` and `;` start comments; keys are case-insensitive; values may
/// be quoted. A `[section]` named by `runmode` overrides the global keys, as in beego. A
/// `sessionConfig` key holding beego JSON replaces the individual keys.
///
/// ```
/// use polysession_core::AppConf;
/// let conf = AppConf::parse("sessionon = true\nsessionname = sid\nsessiongcmaxlifetime = 60\n").unwrap();
/// assert!(conf.session_on);
/// assert_eq!(conf.config.cookie_name, "sid");
/// assert_eq!(conf.config.max_lifetime, 60);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AppConf {
    /// beego's `sessionon` (default false).
    pub session_on: bool,
    /// The session config read from the file, over the defaults.
    pub config: Config,
}

impl AppConf {
    /// Parses the text of an app.conf file.
    ///
    /// # Errors
    /// [`BadConfig`](crate::ErrorKind::BadConfig) naming the key (and line) whose value is wrong.
    pub fn parse(text: &str) -> Result<Self> {
        let mut global: Vec<Entry> = Vec::new();
        let mut sections: Vec<(String, Vec<Entry>)> = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if line.starts_with('[') && line.ends_with(']') {
                let name = line[1..line.len() - 1].trim().to_ascii_lowercase();
                sections.push((name, Vec::new()));
                continue;
            }
            let Some((k, v)) = line.split_once('=') else {
                return Err(Error::bad_config(
                    "app.conf",
                    format!("line {}: expected `key = value`", n + 1),
                ));
            };
            let mut v = v.trim();
            if v.len() >= 2
                && ((v.starts_with('"') && v.ends_with('"'))
                    || (v.starts_with('\'') && v.ends_with('\'')))
            {
                v = &v[1..v.len() - 1];
            }
            let entry = (k.trim().to_ascii_lowercase(), v.to_owned(), n + 1);
            match sections.last_mut() {
                Some((_, entries)) => entries.push(entry),
                None => global.push(entry),
            }
        }
        let runmode = global
            .iter()
            .rev()
            .find(|(k, _, _)| k == "runmode")
            .map(|(_, v, _)| v.to_ascii_lowercase());
        let mut entries = global;
        if let Some(mode) = runmode {
            for (name, section) in sections {
                if name == mode {
                    entries.extend(section);
                }
            }
        }
        let mut conf = AppConf {
            session_on: false,
            config: Config::default(),
        };
        let mut json: Option<(String, usize)> = None;
        for (key, value, line) in &entries {
            let named =
                |e: Error| Error::new(e.kind(), format!("app.conf line {line}: {}", e.message()));
            let c = &mut conf.config;
            match key.as_str() {
                "sessionon" => conf.session_on = parse_bool(key, value).map_err(named)?,
                "sessionprovider" => c.provider = value.clone(),
                "sessionname" => c.cookie_name = value.clone(),
                "sessiongcmaxlifetime" => {
                    let n = parse_u64(key, value).map_err(named)?;
                    c.gc_lifetime = n;
                    c.max_lifetime = n;
                }
                "sessionproviderconfig" | "sessionsavepath" => c.provider_config = value.clone(),
                "sessioncookielifetime" => {
                    c.cookie_lifetime = parse_u64(key, value).map_err(named)?
                }
                "sessionautosetcookie" => {
                    c.enable_set_cookie = parse_bool(key, value).map_err(named)?
                }
                "sessionconfig" => json = Some((value.clone(), *line)),
                k => {
                    // Full names first (`sessionidprefix`), then beego's `session` + JSON key.
                    if !c.set_common(k, key, value).map_err(named)? {
                        if let Some(rest) = k.strip_prefix("session") {
                            c.set_common(rest, key, value).map_err(named)?;
                        }
                    }
                }
            }
        }
        if let Some((text, line)) = json {
            let provider = conf.config.provider.clone();
            let mut config = Config {
                provider,
                ..Config::default()
            };
            config.apply_beego_json(&text).map_err(|e| {
                Error::new(e.kind(), format!("app.conf line {line}: {}", e.message()))
            })?;
            conf.config = config;
        }
        conf.config.validate()?;
        Ok(conf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SameSite;

    #[test]
    fn app_conf_runmode_sections_and_json() {
        let conf = AppConf::parse(
            "runmode = prod\nsessionon = true\nsessionname = a\n[dev]\nsessionname = b\n[prod]\nsessionname = c\n",
        )
        .unwrap();
        assert_eq!(conf.config.cookie_name, "c");
        let conf = AppConf::parse(
            "sessionon=1\nsessionprovider=memory\nsessionname=ignored\nsessionConfig={\"cookieName\":\"j\",\"gclifetime\":5}\n",
        )
        .unwrap();
        assert_eq!(conf.config.cookie_name, "j");
        assert_eq!(conf.config.max_lifetime, 5);
        assert!(!AppConf::parse("").unwrap().session_on);
    }

    #[test]
    fn app_conf_errors_name_key_and_line() {
        let err = AppConf::parse("sessionon = true\nsessiongcmaxlifetime = abc\n").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("sessiongcmaxlifetime") && text.contains("line 2"),
            "{text}"
        );
        let err = AppConf::parse("sessiongcmaxlifetime = 0\n").unwrap_err();
        assert!(err.to_string().contains("gclifetime"));
        assert!(AppConf::parse("what is this").is_err());
        let err = AppConf::parse("sessioncookiesamesite = 7").unwrap_err();
        assert!(err.to_string().contains("sessioncookiesamesite"));
    }

    #[test]
    fn app_conf_keys() {
        let conf = AppConf::parse(
            r#"
appname = demo
# comment
SessionOn = yes
sessionprovider = "file"
sessionname = sid
sessiongcmaxlifetime = 90
sessionproviderconfig = ./tmp
sessioncookielifetime = 100
sessionautosetcookie = false
sessiondomain = example.org
sessiondisablehttponly = on
sessionenablesidinhttpheader = true
sessionnameinhttpheader = X-Session
sessionenablesidinurlquery = 1
sessioncookiesamesite = 3
sessionidprefix = app-
"#,
        )
        .unwrap();
        let c = &conf.config;
        assert!(conf.session_on);
        assert_eq!(c.provider, "file");
        assert_eq!(c.cookie_name, "sid");
        assert_eq!((c.gc_lifetime, c.max_lifetime), (90, 90));
        assert_eq!(c.provider_config, "./tmp");
        assert_eq!(c.cookie_lifetime, 100);
        assert!(!c.enable_set_cookie);
        assert_eq!(c.domain, "example.org");
        assert!(!c.http_only);
        assert!(c.sid_in_header && c.sid_in_url_query);
        assert_eq!(c.header_name, "X-Session");
        assert_eq!(c.same_site, SameSite::Strict);
        assert_eq!(c.id_prefix, "app-");
    }
}

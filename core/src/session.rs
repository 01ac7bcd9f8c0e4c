//! One request's view of a session: JSON values by key, with change tracking.

use crate::decoded::Data;
use crate::error::{Error, ErrorKind, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The deepest nesting of arrays and objects a session value may have: the stored payload
/// wraps each value in two more objects (`{"data": {"key": value}}`), and serde_json reads
/// no document nested deeper than 127 levels.
pub const MAX_VALUE_DEPTH: usize = 125;

/// How deeply `value` nests arrays and objects (a scalar is 0), without recursion.
fn depth(value: &Value) -> usize {
    if !matches!(value, Value::Array(_) | Value::Object(_)) {
        return 0;
    }
    let mut deepest = 0;
    let mut stack = vec![(value, 0usize)];
    while let Some((v, d)) = stack.pop() {
        match v {
            Value::Array(a) => stack.extend(a.iter().map(|c| (c, d + 1))),
            Value::Object(o) => stack.extend(o.values().map(|c| (c, d + 1))),
            _ => continue,
        }
        deepest = deepest.max(d + 1);
    }
    deepest
}

/// Where the id of a session came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdSource {
    /// The session is new: no valid, known id was sent.
    New,
    /// The session cookie.
    Cookie,
    /// The URL query or an urlencoded form field.
    Query,
    /// The HTTP header named by `SessionNameInHTTPHeader`.
    Header,
}

/// A pending change to one key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Change {
    Set(Value),
    Delete,
}

/// The state of a session for one request, returned by
/// [`Manager::start`](crate::Manager::start) and handed back to
/// [`Manager::release`](crate::Manager::release).
///
/// Reads see this request's own writes. On release only the keys changed here are applied to
/// the stored record, so concurrent requests changing different keys both survive.
///
/// ```
/// # futures_executor::block_on(async {
/// use polysession_core::{Manager, RequestInfo};
/// let manager = Manager::new(Default::default()).unwrap();
/// let mut session = manager.start(&RequestInfo::default()).await.unwrap();
/// assert_eq!(session.get("asta"), None);
/// session.set("asta", 1).unwrap();
/// assert_eq!(session.get_as::<i64>("asta").unwrap(), Some(1));
/// session.delete("asta");
/// assert!(session.is_empty());
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct Session {
    pub(crate) id: String,
    pub(crate) source: IdSource,
    /// Shared with the manager's cache of decoded sessions until this request changes it.
    pub(crate) data: Data,
    pub(crate) changes: BTreeMap<String, Change>,
    pub(crate) flushed: bool,
    /// Version of the stored record this view was read from; `None` when not stored.
    pub(crate) version: Option<u64>,
    pub(crate) created_ms: u64,
    pub(crate) expires_at_ms: u64,
    /// The id changed during this request (regenerate) and must be re-sent.
    pub(crate) id_changed: bool,
    /// A session was destroyed during this request: the client's cookie must go.
    pub(crate) destroyed: bool,
    /// The request came over HTTPS (or a trusted proxy said so).
    pub(crate) https: bool,
    /// This response's cookie lifetime in seconds, overriding the config's
    /// ([`Session::set_cookie_lifetime`]).
    pub(crate) cookie_lifetime: Option<u64>,
}

impl Session {
    pub(crate) fn fresh(id: String, now_ms: u64, https: bool) -> Self {
        Session {
            id,
            source: IdSource::New,
            data: Data::default(),
            changes: BTreeMap::new(),
            flushed: false,
            version: None,
            created_ms: now_ms,
            expires_at_ms: 0,
            id_changed: false,
            destroyed: false,
            https,
            cookie_lifetime: None,
        }
    }

    /// Sets the lifetime of the cookie this response sends, in seconds, in place of
    /// [`Config::cookie_lifetime`](crate::Config::cookie_lifetime): `0` makes it a
    /// browser-session cookie (no `Max-Age`), more makes it persistent, capped at 400 days as
    /// the config's is. This is what Flask's `session.permanent` and express-session's
    /// `req.session.cookie.maxAge` do for one session.
    ///
    /// It holds for this request only and is not stored: a host calls it on each request
    /// that should use it (Flask keeps `_permanent` in the session's own data). A session
    /// given a lifetime sends its cookie with every write, so a changed lifetime reaches the
    /// browser; a persistent one is also re-sent when its expiry is touched, as a sliding
    /// config cookie is. The server-side idle and absolute limits do not change.
    pub fn set_cookie_lifetime(&mut self, secs: u64) {
        self.cookie_lifetime = Some(secs);
    }

    /// The cookie lifetime set by [`Session::set_cookie_lifetime`] in this request, if any.
    pub fn cookie_lifetime(&self) -> Option<u64> {
        self.cookie_lifetime
    }

    /// The session id (beego's `SessionID`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Where the id came from; [`IdSource::New`] for a session that is not stored yet.
    pub fn source(&self) -> IdSource {
        self.source
    }

    /// Whether the session has not been stored yet.
    pub fn is_new(&self) -> bool {
        self.version.is_none()
    }

    /// Whether this request changed anything that release must write.
    pub fn is_modified(&self) -> bool {
        self.flushed || !self.changes.is_empty()
    }

    /// When the session was created, in Unix milliseconds.
    pub fn created_ms(&self) -> u64 {
        self.created_ms
    }

    /// The value under `key`, or `None` (beego's `Get`).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.data.get(key)
    }

    /// The value under `key` converted to `T`.
    ///
    /// # Errors
    /// [`BadInput`](crate::ErrorKind::BadInput) when the stored value does not fit `T`.
    pub fn get_as<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        match self.data.get(key) {
            None => Ok(None),
            Some(v) => T::deserialize(v).map(Some).map_err(|e| {
                Error::new(
                    ErrorKind::BadInput,
                    format!("session key `{key}` has another type"),
                )
                .with_source(e)
            }),
        }
    }

    /// Stores `value` under `key` (beego's `Set`).
    ///
    /// # Errors
    /// [`BadInput`](crate::ErrorKind::BadInput) when `value` cannot be represented as JSON.
    pub fn set(&mut self, key: &str, value: impl Serialize) -> Result<()> {
        let value = serde_json::to_value(value).map_err(|e| {
            Error::new(
                ErrorKind::BadInput,
                format!("session key `{key}`: value is not JSON"),
            )
            .with_source(e)
        })?;
        self.set_value(key, value)
    }

    /// Stores a JSON `value` under `key`.
    ///
    /// # Errors
    /// [`BadInput`](crate::ErrorKind::BadInput) when `value` nests arrays and objects deeper
    /// than [`MAX_VALUE_DEPTH`]: the stored payload (two levels more) could not be read back.
    pub fn set_value(&mut self, key: &str, value: Value) -> Result<()> {
        let depth = depth(&value);
        if depth > MAX_VALUE_DEPTH {
            return Err(Error::new(
                ErrorKind::BadInput,
                format!("session key `{key}`: value nests {depth} levels deep, more than {MAX_VALUE_DEPTH}"),
            ));
        }
        self.put_value(key, value);
        Ok(())
    }

    /// Stores a value known to be shallow (flash messages).
    pub(crate) fn put_value(&mut self, key: &str, value: Value) {
        if self.data.get(key) == Some(&value) && !self.changes.contains_key(key) && !self.flushed {
            return;
        }
        Arc::make_mut(&mut self.data).insert(key.to_owned(), value.clone());
        self.changes.insert(key.to_owned(), Change::Set(value));
    }

    /// Removes `key` (beego's `Delete`). Returns the old value.
    pub fn delete(&mut self, key: &str) -> Option<Value> {
        let old = if self.data.contains_key(key) {
            Arc::make_mut(&mut self.data).remove(key)
        } else {
            None
        };
        if old.is_some() || self.changes.contains_key(key) {
            self.changes.insert(key.to_owned(), Change::Delete);
        }
        old
    }

    /// Removes every key (beego's `Flush`).
    pub fn flush(&mut self) {
        self.data = Data::default();
        self.changes.clear();
        self.flushed = true;
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.data.keys().map(String::as_str)
    }

    /// Whether the session holds no key.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// All values, as a JSON object.
    pub fn data(&self) -> &Map<String, Value> {
        &self.data
    }

    /// Applies this request's changes on top of `base` (the latest stored data).
    pub(crate) fn merge_into(&self, mut base: Map<String, Value>) -> Map<String, Value> {
        if self.flushed {
            base.clear();
        }
        for (key, change) in &self.changes {
            match change {
                Change::Set(v) => {
                    base.insert(key.clone(), v.clone());
                }
                Change::Delete => {
                    base.remove(key);
                }
            }
        }
        base
    }

    /// Forgets everything after a destroy: a later `set` starts a new session under `new_id`.
    pub(crate) fn reset(&mut self, new_id: String, now_ms: u64) {
        let (https, cookie_lifetime) = (self.https, self.cookie_lifetime);
        *self = Session::fresh(new_id, now_ms, https);
        self.destroyed = true;
        self.cookie_lifetime = cookie_lifetime;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn session() -> Session {
        Session::fresh("id".into(), 0, false)
    }

    #[test]
    fn set_get_delete_flush_track_changes() {
        let mut s = session();
        assert!(!s.is_modified());
        s.set("a", json!({"x": [1, 2]})).unwrap();
        assert_eq!(s.get("a"), Some(&json!({"x": [1, 2]})));
        assert!(s.is_modified());
        assert_eq!(s.delete("a"), Some(json!({"x": [1, 2]})));
        assert_eq!(s.get("a"), None);
        assert_eq!(s.changes.get("a"), Some(&Change::Delete));
        s.set("b", 2).unwrap();
        s.flush();
        assert!(s.is_empty() && s.is_modified() && s.changes.is_empty());
    }

    #[test]
    fn setting_same_value_is_not_a_change() {
        let mut s = session();
        Arc::make_mut(&mut s.data).insert("a".into(), json!(1));
        s.set("a", 1).unwrap();
        assert!(!s.is_modified());
        assert_eq!(s.delete("zzz"), None);
        assert!(!s.is_modified());
    }

    #[test]
    fn merge_applies_only_own_changes() {
        let mut s = session();
        Arc::make_mut(&mut s.data).insert("mine".into(), json!(1));
        Arc::make_mut(&mut s.data).insert("gone".into(), json!(0));
        s.set("mine", 2).unwrap();
        s.delete("gone");
        let mut base = Map::new();
        base.insert("theirs".into(), json!("t"));
        base.insert("mine".into(), json!(1));
        base.insert("gone".into(), json!(0));
        let merged = s.merge_into(base);
        assert_eq!(
            serde_json::Value::Object(merged),
            json!({"theirs": "t", "mine": 2})
        );
    }

    /// `levels` arrays nested, around a number.
    fn nested(levels: usize) -> Value {
        (0..levels).fold(json!(1), |v, _| Value::Array(vec![v]))
    }

    #[test]
    fn values_too_deep_to_read_back_are_refused_at_set() {
        let mut s = session();
        assert_eq!(depth(&json!(1)), 0);
        assert_eq!(depth(&json!({"a": [1, {"b": []}]})), 4);
        // The deepest value allowed is stored and read back; one more level is refused.
        s.set_value("deep", nested(MAX_VALUE_DEPTH)).unwrap();
        let bytes = crate::payload::encode(0, &s.data);
        let back = crate::payload::Payload::decode(&bytes).expect("the deepest value reads back");
        assert_eq!(back.data["deep"], nested(MAX_VALUE_DEPTH));
        let err = s
            .set_value("deeper", nested(MAX_VALUE_DEPTH + 1))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadInput);
        assert!(err.to_string().contains("`deeper`"), "{err}");
        Arc::make_mut(&mut s.data).insert("deeper".into(), nested(MAX_VALUE_DEPTH + 1));
        let bytes = crate::payload::encode(0, &s.data);
        assert!(
            crate::payload::Payload::decode(&bytes).is_none(),
            "why the limit is where it is"
        );
        assert!(s.set("deeper", nested(MAX_VALUE_DEPTH + 1)).is_err());
        // A deep value is measured without recursion (serde_json's own drop of a Value does
        // recurse, so the test stays at a depth a test thread's stack can drop).
        assert!(s.set_value("huge", nested(1_000)).is_err());
    }

    #[test]
    fn get_as_type_mismatch_is_bad_input() {
        let mut s = session();
        s.set("n", "text").unwrap();
        assert_eq!(
            s.get_as::<i64>("n").unwrap_err().kind(),
            ErrorKind::BadInput
        );
        assert_eq!(s.get_as::<String>("n").unwrap().as_deref(), Some("text"));
        assert_eq!(s.get_as::<i64>("missing").unwrap(), None);
    }
}

//! beego's flash messages, kept in the session and read once.

use crate::session::Session;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The session key holding pending flash messages. Reserved: do not set it yourself.
pub const FLASH_KEY: &str = "_flash";

/// beego's `success` level.
pub const SUCCESS: &str = "success";
/// beego's `notice` level.
pub const NOTICE: &str = "notice";
/// beego's `warning` level.
pub const WARNING: &str = "warning";
/// beego's `error` level.
pub const ERROR: &str = "error";

/// Flash messages by level (beego's four or any custom key), oldest first.
pub type Flashes = BTreeMap<String, Vec<String>>;

impl Session {
    /// Adds a flash message under `level` (`success`, `notice`, `warning`, `error` or a custom
    /// key). It stays in the session until [`Session::take_flash`] reads it.
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// use polysession_core::{flash, Manager, RequestInfo};
    /// let manager = Manager::new(Default::default()).unwrap();
    /// let mut session = manager.start(&RequestInfo::default()).await.unwrap();
    /// session.flash(flash::NOTICE, "saved");
    /// session.flash(flash::NOTICE, "again");
    /// let read = session.take_flash();
    /// assert_eq!(read["notice"], vec!["saved", "again"]);
    /// assert!(session.take_flash().is_empty()); // read once
    /// # });
    /// ```
    pub fn flash(&mut self, level: &str, message: &str) {
        let mut all = match self.get(FLASH_KEY) {
            Some(Value::Object(map)) => map.clone(),
            _ => Map::new(),
        };
        let entry = all
            .entry(level.to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        if !entry.is_array() {
            *entry = Value::Array(Vec::new());
        }
        if let Value::Array(list) = entry {
            list.push(Value::String(message.to_owned()));
        }
        self.put_value(FLASH_KEY, Value::Object(all));
    }

    /// Returns the pending flash messages and removes them: each is read once.
    /// Malformed stored flash data is dropped, never an error.
    pub fn take_flash(&mut self) -> Flashes {
        let mut out = Flashes::new();
        if let Some(Value::Object(map)) = self.delete(FLASH_KEY) {
            for (level, messages) in map {
                let list: Vec<String> = match messages {
                    Value::Array(items) => items
                        .into_iter()
                        .filter_map(|m| match m {
                            Value::String(s) => Some(s),
                            _ => None,
                        })
                        .collect(),
                    Value::String(s) => vec![s],
                    _ => continue,
                };
                if !list.is_empty() {
                    out.insert(level, list);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn levels_and_custom_keys_read_once() {
        let mut s = Session::fresh("x".into(), 0, false);
        s.flash(SUCCESS, "a");
        s.flash(WARNING, "b");
        s.flash(ERROR, "c");
        s.flash("custom", "d");
        let f = s.take_flash();
        assert_eq!(f.len(), 4);
        assert_eq!(f["custom"], vec!["d"]);
        assert!(s.take_flash().is_empty());
        assert!(s.get(FLASH_KEY).is_none());
    }

    #[test]
    fn malformed_flash_data_is_dropped() {
        let mut s = Session::fresh("x".into(), 0, false);
        s.set_value(
            FLASH_KEY,
            json!({"notice": "one", "bad": 5, "mixed": ["ok", 1]}),
        )
        .unwrap();
        let f = s.take_flash();
        assert_eq!(f["notice"], vec!["one"]);
        assert_eq!(f["mixed"], vec!["ok"]);
        assert!(!f.contains_key("bad"));
        s.set_value(FLASH_KEY, json!("garbage")).unwrap();
        assert!(s.take_flash().is_empty());
        s.set_value(FLASH_KEY, json!({"notice": 3})).unwrap();
        s.flash(NOTICE, "fresh");
        assert_eq!(s.take_flash()["notice"], vec!["fresh"]);
    }
}

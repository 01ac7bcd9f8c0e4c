//! The one session wire format, shared by every store, host and runtime.
//!
//! A stored record's bytes are the JSON object
//! `{"v":1,"created":<unix ms>,"data":{...}}`; a sealed cookie's plaintext adds
//! `"id"` and `"expires"` (unix ms), since no store keeps them.

use serde::Serialize;
use serde_json::{Map, Value};

/// Format version written by this build.
pub const FORMAT_VERSION: u8 = 1;

#[derive(Serialize)]
pub(crate) struct Payload {
    pub v: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub created: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<u64>,
    pub data: Map<String, Value>,
}

impl Payload {
    pub fn encode(&self) -> Vec<u8> {
        // A map of JSON values with string keys always serializes.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// `None` for bytes that are not a payload of a version this build reads.
    ///
    /// Read through a JSON [`Value`] rather than a derived `Deserialize`: a typed decode
    /// formats its type errors eagerly, which links float formatting into the wasm build.
    pub fn decode(bytes: &[u8]) -> Option<Payload> {
        let Value::Object(mut m) = serde_json::from_slice(bytes).ok()? else {
            return None;
        };
        if m.get("v")?.as_u64()? != u64::from(FORMAT_VERSION) {
            return None;
        }
        let optional = |v: Option<Value>| v.filter(|v| !v.is_null());
        let id = match optional(m.remove("id")) {
            None => None,
            Some(Value::String(id)) => Some(id),
            Some(_) => return None,
        };
        let expires = match optional(m.remove("expires")) {
            None => None,
            Some(v) => Some(v.as_u64()?),
        };
        let Some(Value::Object(data)) = m.remove("data") else {
            return None;
        };
        Some(Payload {
            v: FORMAT_VERSION,
            id,
            created: m.get("created")?.as_u64()?,
            expires,
            data,
        })
    }
}

/// The stored form of a session (no `id`, no `expires`: the store keeps those).
pub(crate) fn encode(created: u64, data: &Map<String, Value>) -> Vec<u8> {
    #[derive(Serialize)]
    struct Stored<'a> {
        v: u8,
        created: u64,
        data: &'a Map<String, Value>,
    }
    // A map of JSON values with string keys always serializes.
    serde_json::to_vec(&Stored {
        v: FORMAT_VERSION,
        created,
        data,
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejects() {
        let mut data = Map::new();
        data.insert("a".into(), Value::from(1));
        let p = Payload {
            v: 1,
            id: None,
            created: 5,
            expires: None,
            data,
        };
        let bytes = p.encode();
        assert_eq!(bytes, br#"{"v":1,"created":5,"data":{"a":1}}"#);
        assert_eq!(Payload::decode(&bytes).unwrap().data["a"], 1);
        let nulls = br#"{"v":1,"created":2,"id":null,"expires":null,"data":{},"extra":0}"#;
        let p = Payload::decode(nulls).unwrap();
        assert_eq!((p.id, p.expires, p.created), (None, None, 2));
        let sealed = br#"{"v":1,"id":"ab","created":2,"expires":9,"data":{}}"#;
        let p = Payload::decode(sealed).unwrap();
        assert_eq!((p.id.as_deref(), p.expires), (Some("ab"), Some(9)));
        for bad in [
            &b""[..],
            b"null",
            b"{}",
            b"\xff\xfe",
            br#"{"v":2,"created":1,"data":{}}"#,
            br#"{"v":1,"created":1,"data":[]}"#,
            br#"{"v":1.0,"created":1,"data":{}}"#,
            br#"{"v":1,"created":-1,"data":{}}"#,
            br#"{"v":1,"created":1}"#,
            br#"{"v":1,"created":1,"data":{},"id":7}"#,
            br#"{"v":1,"created":1,"data":{},"expires":"soon"}"#,
        ] {
            assert!(Payload::decode(bad).is_none());
        }
    }
}

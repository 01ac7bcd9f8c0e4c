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

    /// `tests/vectors/payloads.json` (docs/wire-format.md): every case decodes as listed or is
    /// no session; re-encoding writes the listed bytes; `_flash` reads as listed.
    #[test]
    fn payload_vectors() {
        use crate::session::Session;
        let cases: Vec<Value> =
            serde_json::from_str(include_str!("../../tests/vectors/payloads.json")).unwrap();
        assert!(cases.len() >= 40);
        for case in &cases {
            let name = case["name"].as_str().unwrap();
            let bytes = match (case.get("text"), case.get("hex")) {
                (Some(text), None) => text.as_str().unwrap().as_bytes().to_vec(),
                (None, Some(h)) => hex::decode(h.as_str().unwrap()).unwrap(),
                _ => panic!("{name}: needs one of text, hex"),
            };
            let decoded = Payload::decode(&bytes);
            let Some(want) = case["session"].as_object() else {
                assert!(case["session"].is_null(), "{name}");
                assert!(decoded.is_none(), "{name}: must be no session");
                continue;
            };
            let p = decoded.unwrap_or_else(|| panic!("{name}: must decode"));
            assert_eq!(p.created, want["created"].as_u64().unwrap(), "{name}");
            assert_eq!(p.id.as_deref(), want["id"].as_str(), "{name}");
            assert_eq!(p.expires, want["expires"].as_u64(), "{name}");
            if let Some(data) = want.get("data") {
                assert_eq!(&Value::Object(p.data.clone()), data, "{name}");
            }
            let encoded = case["encoded"].as_str().unwrap();
            assert_eq!(String::from_utf8(p.encode()).unwrap(), encoded, "{name}");
            if p.id.is_none() && p.expires.is_none() {
                assert_eq!(encode(p.created, &p.data), encoded.as_bytes(), "{name}");
            }
            if let Some(flash) = case.get("flash") {
                let mut session = Session::fresh("x".into(), 0, false);
                session.data = p.data.clone();
                let read = serde_json::to_value(session.take_flash()).unwrap();
                assert_eq!(&read, flash, "{name}");
            }
        }
    }
}

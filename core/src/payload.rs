//! The one session wire format, shared by every store, host and runtime.
//!
//! A stored record's bytes are the JSON object
//! `{"v":1,"created":<unix ms>,"data":{...}}`; a sealed cookie's plaintext adds
//! `"id"` and `"expires"` (unix ms), since no store keeps them.

#[cfg(not(target_arch = "wasm32"))]
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Serialize;
use serde_json::{Map, Value};
#[cfg(not(target_arch = "wasm32"))]
use std::fmt;

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
    /// Natively the envelope is read member by member ([`Envelope`]'s `Deserialize`): only
    /// `data` becomes a map, which halves the cost of a read. The wasm build reads the payload
    /// into one JSON value instead: the member reader would add 3 KB (gzip) to it. Both give
    /// an [`Envelope`] that [`Envelope::check`] judges, and a test holds them to the same
    /// answers. No derived `Deserialize` is used: a typed decode formats its type errors
    /// eagerly, which links float formatting into the wasm build.
    pub fn decode(bytes: &[u8]) -> Option<Payload> {
        #[cfg(not(target_arch = "wasm32"))]
        let envelope = serde_json::from_slice::<Envelope>(bytes).ok()?;
        #[cfg(target_arch = "wasm32")]
        let envelope = Envelope::from_value(serde_json::from_slice(bytes).ok()?)?;
        envelope.check()
    }
}

/// The members of a payload as read, each still a JSON value (unknown members skipped; a
/// repeated member keeps its last value, as a JSON object read into a map does).
struct Envelope {
    v: Option<Value>,
    id: Option<Value>,
    created: Option<Value>,
    expires: Option<Value>,
    data: Option<Value>,
}

impl Envelope {
    /// The members of a JSON value read whole; `None` unless it is an object.
    #[cfg(any(target_arch = "wasm32", test))]
    fn from_value(value: Value) -> Option<Envelope> {
        let Value::Object(mut m) = value else {
            return None;
        };
        Some(Envelope {
            v: m.remove("v"),
            id: m.remove("id"),
            created: m.remove("created"),
            expires: m.remove("expires"),
            data: m.remove("data"),
        })
    }

    /// The payload these members make, if they make one of this format version.
    fn check(self) -> Option<Payload> {
        if self.v?.as_u64()? != u64::from(FORMAT_VERSION) {
            return None;
        }
        let id = match self.id {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) => Some(id),
            Some(_) => return None,
        };
        let expires = match self.expires {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_u64()?),
        };
        let Some(Value::Object(data)) = self.data else {
            return None;
        };
        Some(Payload {
            v: FORMAT_VERSION,
            id,
            created: self.created?.as_u64()?,
            expires,
            data,
        })
    }
}

/// A member name of the envelope.
#[cfg(not(target_arch = "wasm32"))]
enum Member {
    V,
    Id,
    Created,
    Expires,
    Data,
    Other,
}

#[cfg(not(target_arch = "wasm32"))]
impl<'de> Deserialize<'de> for Member {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Name;
        impl Visitor<'_> for Name {
            type Value = Member;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Member, E> {
                Ok(match name {
                    "v" => Member::V,
                    "id" => Member::Id,
                    "created" => Member::Created,
                    "expires" => Member::Expires,
                    "data" => Member::Data,
                    _ => Member::Other,
                })
            }
        }
        d.deserialize_identifier(Name)
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl<'de> Deserialize<'de> for Envelope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Members;
        /// Anything but an object: no payload. Every method is spelled out so that no
        /// default one formats the value it got (see [`Payload::decode`]).
        fn not_an_object<E: de::Error>() -> Result<Envelope, E> {
            Err(E::custom("a payload is a JSON object"))
        }
        impl<'de> Visitor<'de> for Members {
            type Value = Envelope;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a payload object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Envelope, A::Error> {
                let mut e = Envelope {
                    v: None,
                    id: None,
                    created: None,
                    expires: None,
                    data: None,
                };
                while let Some(member) = m.next_key::<Member>()? {
                    let slot = match member {
                        Member::V => &mut e.v,
                        Member::Id => &mut e.id,
                        Member::Created => &mut e.created,
                        Member::Expires => &mut e.expires,
                        Member::Data => &mut e.data,
                        Member::Other => {
                            m.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    *slot = Some(m.next_value::<Value>()?);
                }
                Ok(e)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Envelope, E> {
                not_an_object()
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Envelope, E> {
                not_an_object()
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Envelope, E> {
                not_an_object()
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Envelope, E> {
                not_an_object()
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Envelope, E> {
                not_an_object()
            }
            fn visit_unit<E: de::Error>(self) -> Result<Envelope, E> {
                not_an_object()
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<Envelope, A::Error> {
                not_an_object()
            }
        }
        d.deserialize_any(Members)
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
            // Not an object at all.
            b"7",
            b"-1.5e300",
            b"true",
            br#""{}""#,
            b"[{}]",
            br#"{"v":1,"created":1,"data":{}} x"#,
        ] {
            assert!(
                Payload::decode(bad).is_none(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        // Unknown members of any shape are skipped; a repeated member keeps its last value.
        let odd = br#"{"x":{"y":[1,{"z":null}]},"v":1,"created":1,"data":{"a":1},"data":{"b":2}}"#;
        let p = Payload::decode(odd).unwrap();
        assert_eq!(Value::Object(p.data), serde_json::json!({"b": 2}));
    }

    /// The wasm build's reader (the payload read whole) and the native one (member by member)
    /// give the same answer for every vector and for odd inputs.
    #[test]
    fn both_readers_agree() {
        let cases: Vec<Value> =
            serde_json::from_str(include_str!("../../tests/vectors/payloads.json")).unwrap();
        let mut inputs: Vec<Vec<u8>> = cases
            .iter()
            .map(|case| match (case.get("text"), case.get("hex")) {
                (Some(text), None) => text.as_str().unwrap().as_bytes().to_vec(),
                (None, Some(h)) => hex::decode(h.as_str().unwrap()).unwrap(),
                _ => panic!("a case needs one of text, hex"),
            })
            .collect();
        for odd in [
            &b"7"[..],
            b"[]",
            br#""x""#,
            br#"{"v":1,"created":1,"data":{"a":1},"data":{"b":2}}"#,
            br#"{"v":1,"v":2,"created":1,"data":{}}"#,
            br#"{"v":2,"v":1,"created":1,"data":{}}"#,
            br#"{"x":[{"y":1.5}],"v":1,"created":1,"data":{},"id":null}"#,
            br#"{"v":1,"created":1,"data":{},"id":"a","id":7}"#,
            br#"{"v":1,"created":1,"data":{}}  "#,
        ] {
            inputs.push(odd.to_vec());
        }
        for bytes in &inputs {
            let whole = serde_json::from_slice(bytes)
                .ok()
                .and_then(Envelope::from_value)
                .and_then(Envelope::check);
            assert_eq!(
                whole.map(|p| p.encode()),
                Payload::decode(bytes).map(|p| p.encode()),
                "{}",
                String::from_utf8_lossy(bytes)
            );
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
                session.data = std::sync::Arc::new(p.data.clone());
                let read = serde_json::to_value(session.take_flash()).unwrap();
                assert_eq!(&read, flash, "{name}");
            }
        }
    }
}

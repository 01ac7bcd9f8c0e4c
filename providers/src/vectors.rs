//! The record vectors of `tests/vectors/records.json` (docs/wire-format.md), for the
//! providers' unit tests.

use polysession_core::Record;
use serde_json::Value;

/// The cases in `format` (`file`, `memcache`, `sql`, `redis`).
pub(crate) fn cases(format: &str) -> Vec<Value> {
    let all: Vec<Value> =
        serde_json::from_str(include_str!("../../tests/vectors/records.json")).unwrap();
    let cases: Vec<_> = all.into_iter().filter(|c| c["format"] == format).collect();
    assert!(!cases.is_empty(), "no {format} vectors");
    cases
}

/// The record of a case (`{"version", "expires_at_ms", "data"}`), or `None` for `null`.
pub(crate) fn record(v: &Value) -> Option<Record> {
    let v = v.as_object()?;
    Some(Record {
        data: v["data"].as_str().unwrap().as_bytes().to_vec(),
        expires_at_ms: v["expires_at_ms"].as_u64().unwrap(),
        version: v["version"].as_u64().unwrap(),
    })
}

/// The bytes of a hex string.
pub(crate) fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

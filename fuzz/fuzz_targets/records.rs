//! Every stored record format this build reads, as a store or a host could hand it back
//! corrupted: the host kit's KV text (canonical: what decodes re-encodes to the same text),
//! the file provider's file, memcached's value, memcached's reply stream and `metadump` keys,
//! and the session payload inside any record (through the manager: a corrupt payload is no
//! session, and a payload that loads survives a write and a second read).
//!
//! Input: one selector byte, then the bytes.
#![no_main]

use futures_executor::block_on;
use libfuzzer_sys::fuzz_target;
use polysession_bindings::callback::{decode_record, encode_record};
use polysession_core::RequestInfo;
use polysession_fuzz::{memory, release, seed, start, ID_PREFIX};
use polysession_providers::fuzzing::{file, memcache};
use std::sync::atomic::{AtomicU64, Ordering};

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    match which % 6 {
        0 => {
            let Ok(text) = std::str::from_utf8(rest) else {
                return;
            };
            if let Some(record) = decode_record(text) {
                match encode_record(&record) {
                    Ok(again) => assert_eq!(again, text, "KV text is not canonical"),
                    Err(e) => panic!("a decoded record does not encode: {e}"),
                }
            }
        }
        1 => {
            if let Some(r) = file::record(rest) {
                assert_eq!(r.data.len() + 20, rest.len());
            }
        }
        2 => {
            if let Some(r) = memcache::record(rest) {
                assert_eq!(r.data.len() + 16, rest.len());
            }
        }
        3 => {
            let _ = block_on(memcache::replies(rest, true));
            let _ = block_on(memcache::replies(rest, false));
        }
        4 => {
            let _ = memcache::metadump_key(&String::from_utf8_lossy(rest));
        }
        _ => {
            // A fresh id per input, so one input's write cannot change the next one's read.
            static N: AtomicU64 = AtomicU64::new(0);
            let n = N.fetch_add(1, Ordering::Relaxed);
            let id = format!("{ID_PREFIX}{n:032x}");
            let m = memory();
            seed(m, &id, rest);
            let header = format!("beegosessionID={id}");
            let info = RequestInfo {
                cookies: vec![&header],
                ..Default::default()
            };
            let mut session = start(m, &info);
            if session.is_new() {
                return;
            }
            let before = session.data().clone();
            let _ = session.set("fuzz", n);
            if release(m, session).is_some() {
                let again = start(m, &info);
                assert!(
                    !again.is_new(),
                    "a session that loaded and was written is gone"
                );
                let mut after = again.data().clone();
                after.remove("fuzz");
                let mut expected = before;
                expected.remove("fuzz");
                assert_eq!(after, expected, "the data changed across a write");
            }
            let _ = block_on(
                m.store()
                    .map_or_else(|| panic!("no store"), |s| s.destroy(&id)),
            );
        }
    }
});

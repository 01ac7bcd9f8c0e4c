//! beego's flash messages as stored: the input is the JSON of the `_flash` value of a stored
//! session (any shape a store or an older build could hold), then a level and a message to
//! add. Reading flashes never panics, reads them once, and adding one keeps it readable.
//!
//! Input: `\n`-separated fields: the `_flash` JSON, a level, a message.
#![no_main]

use futures_executor::block_on;
use libfuzzer_sys::fuzz_target;
use polysession_core::RequestInfo;
use polysession_fuzz::{fields, memory, release, seed, start, ID_PREFIX};
use std::sync::atomic::{AtomicU64, Ordering};

fuzz_target!(|data: &[u8]| {
    let f = fields(data);
    let stored = f.first().map_or("", String::as_str);
    let level = f.get(1).map_or("notice", String::as_str);
    let message = f.get(2).map_or("saved", String::as_str);
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let id = format!("{ID_PREFIX}f{n:031x}");
    let m = memory();
    let payload = format!(r#"{{"v":1,"created":1700000000000,"data":{{"_flash":{stored}}}}}"#);
    seed(m, &id, payload.as_bytes());
    let header = format!("beegosessionID={id}");
    let info = RequestInfo {
        cookies: vec![&header],
        ..Default::default()
    };
    let mut session = start(m, &info);
    let _ = session.take_flash();
    assert!(session.take_flash().is_empty(), "flashes read twice");
    session.flash(level, message);
    session.flash(level, message);
    let read = session.take_flash();
    assert_eq!(
        read.get(level).map(Vec::as_slice),
        Some(&[message.to_owned(), message.to_owned()][..]),
        "a flash added is not read back"
    );
    session.flash(level, message);
    // A stored `_flash` that is not JSON is a corrupt payload: the session was a fresh one.
    let header = format!("beegosessionID={}", session.id());
    let info = RequestInfo {
        cookies: vec![&header],
        ..Default::default()
    };
    if release(m, session).is_some() {
        let mut again = start(m, &info);
        let read = again.take_flash();
        assert_eq!(
            read.get(level).map(Vec::len),
            Some(1),
            "a stored flash is lost"
        );
        release(m, again);
    }
    let _ = block_on(
        m.store()
            .map_or_else(|| panic!("no store"), |s| s.destroy(&id)),
    );
});

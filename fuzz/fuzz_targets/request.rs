//! The request parts a host hands the manager: Cookie headers, the URL (query), a form body
//! and the headers that decide whether it is read, the id header and `X-Forwarded-Proto`;
//! then a write, regenerate or destroy, and the response headers.
//!
//! Input: one flags byte, then `\n`-separated fields: cookie headers (1 to 4, by flags & 3),
//! URL, method, Content-Type, Content-Length, form body, id header, X-Forwarded-Proto.
#![no_main]

use futures_executor::block_on;
use libfuzzer_sys::fuzz_target;
use polysession_bindings::http::{read_form, RequestParts};
use polysession_fuzz::{fields, hmac, memory, release, sealed, start};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let f = fields(rest);
    let mut f = f.iter().map(String::as_str);
    let mut parts = RequestParts::default();
    for _ in 0..=(flags & 3) {
        if let Some(c) = f.next() {
            parts.cookies.push(c.to_owned());
        }
    }
    parts.set_url(f.next().unwrap_or_default());
    let method = f.next().unwrap_or("GET");
    let content_type = f.next();
    let content_length = f.next();
    let form = f.next();
    parts.sid_header = f.next().map(str::to_owned);
    parts.forwarded_proto = f.next().map(str::to_owned);

    for m in [memory(), hmac(), sealed()] {
        let mut parts = parts.clone();
        if read_form(m.config(), &parts, method, content_type, content_length) {
            parts.set_form(form.map(str::to_owned));
        }
        let info = parts.info();
        let _ = info.has_session_cookie(m.config());
        let mut session = start(m, &info);
        if flags & 4 != 0 {
            let value = form.unwrap_or_default();
            if let Err(e) = session.set("fuzz", value) {
                panic!("set of a string failed: {e}");
            }
        }
        if flags & 8 != 0 {
            if let Err(e) = block_on(m.regenerate(&mut session)) {
                panic!("regenerate failed: {e}");
            }
        }
        if flags & 16 != 0 {
            if let Err(e) = block_on(m.destroy(&mut session)) {
                panic!("destroy failed: {e}");
            }
        }
        release(m, session);
    }
});

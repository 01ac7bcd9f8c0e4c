//! Opening sealed cookies. Selector 0: the input is a cookie value, opened by the ring as it
//! is (base64, length and format checks before the AEAD). Otherwise the input is a plaintext
//! sealed under the provider's key, so the fuzzer reaches what follows authentication: the
//! payload decode and the id, expiry and lifetime checks of the cookie provider.
#![no_main]

use libfuzzer_sys::fuzz_target;
use polysession_core::{KeyRing, OsEntropy, RequestInfo};
use polysession_fuzz::{release, sealed, start, SEALED_KEY};
use std::sync::OnceLock;

fn ring() -> &'static KeyRing {
    static R: OnceLock<KeyRing> = OnceLock::new();
    R.get_or_init(|| match KeyRing::new(&[SEALED_KEY]) {
        Ok(r) => r,
        Err(e) => panic!("fuzz ring: {e}"),
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let m = sealed();
    let value = if which == 0 {
        let text = String::from_utf8_lossy(rest).into_owned();
        if let Some(plain) = ring().open(&text, b"beegosessionID") {
            // Only a value this ring sealed opens (the seeds include some).
            let again = match ring().seal(&plain, b"beegosessionID", &OsEntropy) {
                Ok(v) => v,
                Err(e) => panic!("resealing an opened value failed: {e}"),
            };
            assert_eq!(ring().open(&again, b"beegosessionID"), Some(plain));
        }
        text
    } else {
        match ring().seal(rest, b"beegosessionID", &OsEntropy) {
            Ok(v) => v,
            Err(e) => panic!("sealing failed: {e}"),
        }
    };
    let header = format!("beegosessionID={value}");
    let info = RequestInfo {
        cookies: vec![&header],
        ..Default::default()
    };
    let mut session = start(m, &info);
    if !session.is_new() && which & 2 != 0 {
        let _ = session.set("seen", true);
    }
    release(m, session);
});

//! The `cookie` provider's sealing: the whole session encrypted into the cookie with
//! XChaCha20-Poly1305, under a key ring (the newest key seals, every key opens).

use crate::env::Entropy;
use crate::error::{Error, ErrorKind, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload as AeadPayload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::Sha256;

/// Browsers keep at most 4096 bytes of one cookie's name and value.
pub const MAX_COOKIE_BYTES: usize = 4096;
/// Shortest secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;
const FORMAT: u8 = 1;
const NONCE: usize = 24;
const TAG: usize = 16;

/// The keys of the `cookie` provider. The first seals; all open, so old cookies stay valid
/// while a new key is rolled out.
///
/// Provider config: `{"keys": ["newest secret", "older secret"]}`, or beego's
/// `{"securityKey": "..."}` for a single key; optionally `"context": "<application name>"`. Each secret is at least 32 bytes; keys are
/// derived from secrets with HKDF-SHA256.
///
/// ```
/// use polysession_core::{KeyRing, OsEntropy};
/// let old = KeyRing::new(&["an old secret of at least 32 bytes!!"]).unwrap();
/// let sealed = old.seal(b"hello", b"sid", &OsEntropy).unwrap();
/// let rotated = KeyRing::new(&["a brand new secret, also 32 bytes long", "an old secret of at least 32 bytes!!"]).unwrap();
/// assert_eq!(rotated.open(&sealed, b"sid").unwrap(), b"hello");
/// assert!(rotated.open(&sealed, b"other-cookie-name").is_none());
/// ```
#[derive(Clone)]
pub struct KeyRing {
    ciphers: Vec<XChaCha20Poly1305>,
    context: Option<String>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyRing({} keys)", self.ciphers.len())
    }
}

impl KeyRing {
    /// A ring from secrets, newest first.
    ///
    /// # Errors
    /// [`BadConfig`](crate::ErrorKind::BadConfig) naming `providerConfig` when there is no
    /// secret or one is shorter than 32 bytes.
    pub fn new<S: AsRef<[u8]>>(secrets: &[S]) -> Result<Self> {
        if secrets.is_empty() {
            return Err(Error::bad_config(
                "providerConfig",
                "the cookie provider needs at least one key: {\"keys\": [\"<32+ byte secret>\"]}",
            ));
        }
        let mut ciphers = Vec::with_capacity(secrets.len());
        for (i, secret) in secrets.iter().enumerate() {
            let secret = secret.as_ref();
            if secret.len() < MIN_SECRET_BYTES {
                return Err(Error::bad_config(
                    "providerConfig",
                    format!(
                        "cookie key #{i} has {} bytes; at least {MIN_SECRET_BYTES} are required",
                        secret.len()
                    ),
                ));
            }
            let mut key = [0u8; 32];
            Hkdf::<Sha256>::new(Some(b"polysession-seal-v1"), secret)
                .expand(b"xchacha20poly1305", &mut key)
                .map_err(|_| Error::bad_config("providerConfig", "key derivation failed"))?;
            ciphers.push(XChaCha20Poly1305::new(&key.into()));
        }
        Ok(KeyRing {
            ciphers,
            context: None,
        })
    }

    /// Parses the `cookie` provider config (see [`KeyRing`]).
    ///
    /// # Errors
    /// [`BadConfig`](crate::ErrorKind::BadConfig) naming `providerConfig`.
    pub fn from_config(config: &str) -> Result<Self> {
        let value: serde_json::Value = serde_json::from_str(config).map_err(|_| {
            Error::bad_config(
                "providerConfig",
                "the cookie provider expects JSON: {\"keys\": [\"<32+ byte secret>\", ...]}",
            )
        })?;
        let mut secrets: Vec<String> = Vec::new();
        let mut context = None;
        if let Some(obj) = value.as_object() {
            for (k, v) in obj {
                match k.to_ascii_lowercase().as_str() {
                    "keys" => match v.as_array() {
                        Some(items) => {
                            for item in items {
                                match item.as_str() {
                                    Some(s) => secrets.push(s.to_owned()),
                                    None => {
                                        return Err(Error::bad_config(
                                            "providerConfig",
                                            "`keys` must hold strings",
                                        ))
                                    }
                                }
                            }
                        }
                        None => {
                            return Err(Error::bad_config(
                                "providerConfig",
                                "`keys` must be an array of strings",
                            ))
                        }
                    },
                    "securitykey" => match v.as_str() {
                        Some(s) => secrets.push(s.to_owned()),
                        None => {
                            return Err(Error::bad_config(
                                "providerConfig",
                                "`securityKey` must be a string",
                            ))
                        }
                    },
                    "context" => match v.as_str() {
                        Some(s) if !s.is_empty() => context = Some(s.to_owned()),
                        _ => {
                            return Err(Error::bad_config(
                                "providerConfig",
                                "`context` must be a non-empty string (an application name)",
                            ))
                        }
                    },
                    _ => {}
                }
            }
        }
        let mut ring = KeyRing::new(&secrets)?;
        ring.context = context;
        Ok(ring)
    }

    /// The provider config's `context` (an application name): the manager binds every seal to
    /// it besides the cookie name, so two applications sharing a secret do not accept each
    /// other's cookies.
    pub fn context(&self) -> Option<&str> {
        self.context.as_deref()
    }

    /// Encrypts `plain`, bound to `aad` (the cookie name), into a cookie-safe string.
    ///
    /// # Errors
    /// Fails only when the entropy source fails.
    pub fn seal(&self, plain: &[u8], aad: &[u8], entropy: &dyn Entropy) -> Result<String> {
        let mut nonce = [0u8; NONCE];
        entropy.fill(&mut nonce)?;
        let cipher = &self.ciphers[0];
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), AeadPayload { msg: plain, aad })
            .map_err(|_| Error::new(ErrorKind::TooLarge, "session too large to seal"))?;
        let mut raw = Vec::with_capacity(1 + NONCE + sealed.len());
        raw.push(FORMAT);
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&sealed);
        Ok(URL_SAFE_NO_PAD.encode(raw))
    }

    /// Decrypts a value made by [`KeyRing::seal`] with any key of the ring; `None` when it is
    /// malformed, tampered with, bound to another `aad`, or sealed by an unknown key.
    pub fn open(&self, sealed: &str, aad: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() > MAX_COOKIE_BYTES * 2 {
            return None;
        }
        let raw = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if raw.len() < 1 + NONCE + TAG || raw[0] != FORMAT {
            return None;
        }
        let nonce = XNonce::from_slice(&raw[1..1 + NONCE]);
        let body = &raw[1 + NONCE..];
        self.ciphers
            .iter()
            .find_map(|c| c.decrypt(nonce, AeadPayload { msg: body, aad }).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::OsEntropy;

    const A: &str = "0123456789abcdef0123456789abcdef-a";
    const B: &str = "0123456789abcdef0123456789abcdef-b";

    /// Sealed once by the native build; `wasm/src/lib.rs` opens the same bytes on wasm32.
    const VECTOR: &str = "AXwsr2KtV6Yf_Ck592b6vvBh98IaUdTWvrIhutRlGCVQElmje2LqTuSgvs4MM9OJBbSGs2ZiV-WEf3BPwhWvtPXqYPStyA4ykrsDYEhOOgCDrJriIg";

    #[test]
    fn a_fixed_vector_still_opens() {
        let ring = KeyRing::new(&[A]).unwrap();
        let plain = ring.open(VECTOR, b"sid").unwrap();
        assert_eq!(plain, br#"{"v":1,"created":1,"data":{"from":"native"}}"#);
        assert!(ring.open(VECTOR, b"other").is_none());
    }

    #[test]
    fn tampering_is_rejected() {
        let ring = KeyRing::new(&[A]).unwrap();
        let sealed = ring.seal(b"payload", b"n", &OsEntropy).unwrap();
        assert_eq!(ring.open(&sealed, b"n").unwrap(), b"payload");
        let mut bytes = sealed.clone().into_bytes();
        for i in [0, bytes.len() / 2, bytes.len() - 2] {
            let orig = bytes[i];
            bytes[i] = if orig == b'A' { b'B' } else { b'A' };
            assert!(
                ring.open(std::str::from_utf8(&bytes).unwrap(), b"n")
                    .is_none(),
                "byte {i}"
            );
            bytes[i] = orig;
        }
        for junk in ["", "x", "!!!!", &"A".repeat(60), &"A".repeat(20_000)] {
            assert!(ring.open(junk, b"n").is_none());
        }
        assert!(KeyRing::new(&[B]).unwrap().open(&sealed, b"n").is_none());
    }

    #[test]
    fn rotation_newest_seals_all_open() {
        let old = KeyRing::new(&[A]).unwrap();
        let ring = KeyRing::new(&[B, A]).unwrap();
        let from_old = old.seal(b"x", b"n", &OsEntropy).unwrap();
        assert_eq!(ring.open(&from_old, b"n").unwrap(), b"x");
        let from_new = ring.seal(b"y", b"n", &OsEntropy).unwrap();
        assert!(old.open(&from_new, b"n").is_none());
        assert_eq!(
            KeyRing::new(&[B]).unwrap().open(&from_new, b"n").unwrap(),
            b"y"
        );
    }

    /// `tests/vectors/sealed.json` (docs/wire-format.md): each value opens with its ring and
    /// cookie name to the listed plaintext, or not at all; each secret derives the listed key.
    #[test]
    fn sealed_vectors() {
        let cases: Vec<serde_json::Value> =
            serde_json::from_str(include_str!("../../tests/vectors/sealed.json")).unwrap();
        assert!(cases.len() >= 20);
        for case in &cases {
            let name = case["name"].as_str().unwrap();
            let text = |v: &serde_json::Value| v.as_str().unwrap().to_owned();
            let keys: Vec<String> = case["keys"].as_array().unwrap().iter().map(text).collect();
            let derived: Vec<String> = case["derived_keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(text)
                .collect();
            assert_eq!(keys.len(), derived.len(), "{name}");
            for (secret, want) in keys.iter().zip(&derived) {
                let mut key = [0u8; 32];
                Hkdf::<Sha256>::new(Some(b"polysession-seal-v1"), secret.as_bytes())
                    .expand(b"xchacha20poly1305", &mut key)
                    .unwrap();
                assert_eq!(&hex::encode(key), want, "{name}");
            }
            let (sealed, aad) = (text(&case["sealed"]), text(&case["aad"]));
            let opened = KeyRing::new(&keys).unwrap().open(&sealed, aad.as_bytes());
            let Some(plain) = case["plaintext"].as_str() else {
                assert!(case["plaintext"].is_null(), "{name}");
                assert_eq!(opened, None, "{name}: must not open");
                continue;
            };
            assert_eq!(opened.as_deref(), Some(plain.as_bytes()), "{name}");
            // The layout by hand: format byte, nonce, then ciphertext and tag under a listed key.
            let raw = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
            assert_eq!(raw[0], 1, "{name}");
            let by_hand = derived.iter().find_map(|key| {
                let key: [u8; 32] = hex::decode(key).unwrap().try_into().unwrap();
                XChaCha20Poly1305::new(&key.into())
                    .decrypt(
                        XNonce::from_slice(&raw[1..1 + NONCE]),
                        AeadPayload {
                            msg: &raw[1 + NONCE..],
                            aad: aad.as_bytes(),
                        },
                    )
                    .ok()
            });
            assert_eq!(by_hand.as_deref(), Some(plain.as_bytes()), "{name}");
        }
    }

    #[test]
    fn config_forms_and_errors() {
        let ring = KeyRing::from_config(&format!(r#"{{"keys":["{B}","{A}"]}}"#)).unwrap();
        assert_eq!(ring.ciphers.len(), 2);
        let beego =
            KeyRing::from_config(&format!(r#"{{"securityKey":"{A}","blockKey":"ignored"}}"#))
                .unwrap();
        assert_eq!(beego.ciphers.len(), 1);
        for bad in [
            "",
            "{}",
            r#"{"keys":[]}"#,
            r#"{"keys":["short"]}"#,
            r#"{"keys":"x"}"#,
            r#"{"keys":[1]}"#,
            "nope",
        ] {
            let err = KeyRing::from_config(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BadConfig, "{bad}");
            assert!(err.to_string().contains("providerConfig"));
        }
    }
}

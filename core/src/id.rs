//! Session ids: generation from a CSPRNG and the one place where incoming ids are validated.

use crate::config::{Config, IdHash};
use crate::env::Entropy;
use crate::error::{Error, Result};
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Generates and validates ids of one configuration: prefix + lowercase hex.
///
/// ```
/// use polysession_core::{Config, IdGenerator, OsEntropy};
/// let ids = IdGenerator::new(&Config::builder().id_prefix("app-").build().unwrap());
/// let id = ids.generate(&OsEntropy).unwrap();
/// assert!(id.starts_with("app-") && id.len() == 4 + 32);
/// assert!(ids.is_valid(&id));
/// assert!(!ids.is_valid("app-../../etc/passwd"));
/// ```
#[derive(Debug, Clone)]
pub struct IdGenerator {
    prefix: String,
    bytes: usize,
    hmac_key: Option<Vec<u8>>,
}

impl IdGenerator {
    /// The generator for `config` (`id_prefix`, `id_length`, `id_hash`).
    pub fn new(config: &Config) -> Self {
        IdGenerator {
            prefix: config.id_prefix.clone(),
            bytes: config.id_length,
            hmac_key: match &config.id_hash {
                IdHash::Random => None,
                IdHash::HmacSha1(key) => Some(key.as_bytes().to_vec()),
            },
        }
    }

    /// The prefix every id of this configuration starts with (`sessionIDPrefix`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The number of hex characters after the prefix.
    pub fn hex_len(&self) -> usize {
        if self.hmac_key.is_some() {
            40
        } else {
            self.bytes * 2
        }
    }

    /// A fresh id.
    ///
    /// # Errors
    /// Fails only when the entropy source fails; no weak id is ever issued.
    pub fn generate(&self, entropy: &dyn Entropy) -> Result<String> {
        let mut buf = [0u8; 64];
        // The config is validated before a manager uses it; a generator built from an
        // unvalidated one must still not panic.
        let random = buf
            .get_mut(..self.bytes)
            .filter(|r| r.len() >= 16)
            .ok_or_else(|| Error::bad_config("sessionIDLength", "must be 16 to 64 bytes"))?;
        entropy.fill(random)?;
        let mut id = String::with_capacity(self.prefix.len() + self.hex_len());
        id.push_str(&self.prefix);
        match &self.hmac_key {
            None => push_hex(&mut id, random),
            Some(key) => {
                let mut mac = Hmac::<Sha1>::new_from_slice(key).map_err(|_| {
                    Error::bad_config("sessionIDHashKey", "is not a usable HMAC key")
                })?;
                mac.update(random);
                push_hex(&mut id, &mac.finalize().into_bytes());
            }
        }
        Ok(id)
    }

    /// Whether `id` has exactly this configuration's shape: the prefix, then `hex_len`
    /// lowercase hex characters. Every incoming id passes here before any store sees it.
    pub fn is_valid(&self, id: &str) -> bool {
        match id.strip_prefix(self.prefix.as_str()) {
            Some(hex) => {
                hex.len() == self.hex_len() && hex.bytes().all(|b| LOWER_HEX[usize::from(b)])
            }
            None => false,
        }
    }
}

/// Which bytes are lowercase hex digits: one load per byte where a range test costs several.
static LOWER_HEX: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = matches!(b as u8, b'0'..=b'9' | b'a'..=b'f');
        b += 1;
    }
    table
};

fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::OsEntropy;

    #[test]
    fn random_ids_are_hex_of_configured_length_and_unique() {
        let ids = IdGenerator::new(&Config::default());
        let a = ids.generate(&OsEntropy).unwrap();
        let b = ids.generate(&OsEntropy).unwrap();
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(ids.is_valid(&a));
        let long = IdGenerator::new(&Config {
            id_length: 32,
            ..Config::default()
        });
        assert_eq!(long.generate(&OsEntropy).unwrap().len(), 64);
        assert!(!long.is_valid(&a));
    }

    #[test]
    fn only_lowercase_hex_digits_pass() {
        let ids = IdGenerator::new(&Config::default());
        let id = ids.generate(&OsEntropy).unwrap();
        for b in 0..=255u8 {
            let mut bytes = id.clone().into_bytes();
            bytes[5] = b;
            let Ok(other) = String::from_utf8(bytes) else {
                continue;
            };
            let hex = b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
            assert_eq!(ids.is_valid(&other), hex, "byte {b}");
        }
        assert!(
            !ids.is_valid(&format!("{}\u{e9}", &id[..id.len() - 2])),
            "a 2-byte char"
        );
    }

    #[test]
    fn an_unvalidated_length_is_an_error_not_a_panic() {
        for id_length in [0, 8, 65, 1 << 20] {
            let ids = IdGenerator::new(&Config {
                id_length,
                ..Config::default()
            });
            let err = ids.generate(&OsEntropy).unwrap_err();
            assert!(
                err.to_string().contains("sessionIDLength"),
                "{id_length}: {err}"
            );
        }
    }

    #[test]
    fn sha1_ids_are_40_hex() {
        let cfg = Config {
            id_hash: IdHash::HmacSha1("k".into()),
            ..Config::default()
        };
        let ids = IdGenerator::new(&cfg);
        let a = ids.generate(&OsEntropy).unwrap();
        assert_eq!(a.len(), 40);
        assert!(ids.is_valid(&a));
        assert!(!ids.is_valid(&a[..32]));
    }

    #[test]
    fn hmac_sha1_matches_known_vector() {
        // RFC 2202 test case 2: key "Jefe", data "what do ya want for nothing?".
        struct Fixed;
        impl Entropy for Fixed {
            fn fill(&self, buf: &mut [u8]) -> Result<()> {
                let data = b"what do ya want for nothing?";
                buf.copy_from_slice(&data[..buf.len()]);
                Ok(())
            }
        }
        let cfg = Config {
            id_hash: IdHash::HmacSha1("Jefe".into()),
            id_length: 28,
            ..Config::default()
        };
        let id = IdGenerator::new(&cfg).generate(&Fixed).unwrap();
        assert_eq!(id, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    }

    /// `tests/vectors/ids.json` (docs/wire-format.md): ids generated from given random bytes,
    /// and which ids a configuration accepts.
    #[test]
    fn id_vectors() {
        struct Fixed(Vec<u8>);
        impl Entropy for Fixed {
            fn fill(&self, buf: &mut [u8]) -> Result<()> {
                buf.copy_from_slice(&self.0);
                Ok(())
            }
        }
        let cases: Vec<serde_json::Value> =
            serde_json::from_str(include_str!("../../tests/vectors/ids.json")).unwrap();
        assert!(cases.len() >= 15);
        for case in &cases {
            let name = case["name"].as_str().unwrap();
            let config = Config {
                id_prefix: case["id_prefix"].as_str().unwrap().into(),
                id_length: usize::try_from(case["id_length"].as_u64().unwrap()).unwrap(),
                id_hash: match case["hash"].as_str().unwrap() {
                    "random" => IdHash::Random,
                    "sha1" => IdHash::HmacSha1(case["hash_key"].as_str().unwrap().into()),
                    other => panic!("{name}: hash {other}"),
                },
                ..Config::default()
            };
            config.validate().unwrap();
            let ids = IdGenerator::new(&config);
            let id = case["id"].as_str().unwrap();
            match case.get("random_hex") {
                Some(random) => {
                    let random = hex::decode(random.as_str().unwrap()).unwrap();
                    assert_eq!(random.len(), config.id_length, "{name}");
                    assert_eq!(ids.generate(&Fixed(random)).unwrap(), id, "{name}");
                    assert!(ids.is_valid(id), "{name}");
                }
                None => {
                    let valid = case["valid"].as_bool().unwrap();
                    assert_eq!(ids.is_valid(id), valid, "{name}");
                }
            }
        }
    }

    #[test]
    fn rejects_everything_else() {
        let ids = IdGenerator::new(&Config {
            id_prefix: "p".into(),
            ..Config::default()
        });
        let good = ids.generate(&OsEntropy).unwrap();
        let upper = good.to_uppercase().replacen('P', "p", 1);
        let long = "a".repeat(10_000);
        for bad in [
            "",
            "p",
            "x",
            "../../etc/passwd",
            &good[1..],
            &upper,
            &long,
            "p0123456789abcdef0123456789abcdeg",
        ] {
            assert!(!ids.is_valid(bad), "{bad}");
        }
        assert!(!ids.is_valid(&format!("{good}0")));
        assert!(!ids.is_valid("pé123456789abcdef0123456789abcde"));
    }
}

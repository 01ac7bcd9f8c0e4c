//! Id validation, the gate every incoming id passes before a store sees it, against a
//! plain restatement of the rule: the prefix, then exactly the id length in lowercase hex.
#![no_main]

use libfuzzer_sys::fuzz_target;
use polysession_core::{Config, IdGenerator, IdHash, OsEntropy};
use std::sync::OnceLock;

fn generators() -> &'static [IdGenerator] {
    static G: OnceLock<Vec<IdGenerator>> = OnceLock::new();
    G.get_or_init(|| {
        let configs = [
            Config::builder().build(),
            Config::builder().id_prefix("app-").id_length(32).build(),
            Config::builder().id_prefix("x.y_Z").id_length(64).build(),
            Config::builder()
                .id_hash(IdHash::HmacSha1("key".into()))
                .build(),
        ];
        configs
            .into_iter()
            .map(|c| match c {
                Ok(c) => IdGenerator::new(&c),
                Err(e) => panic!("fuzz id config: {e}"),
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for ids in generators() {
        let expected = text.strip_prefix(ids.prefix()).is_some_and(|hex| {
            hex.len() == ids.hex_len() && hex.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
        });
        assert_eq!(ids.is_valid(text), expected, "{text:?}");
        // An id of this shape spliced into the input is still judged by the rule.
        if let Ok(id) = ids.generate(&OsEntropy) {
            assert!(ids.is_valid(&id));
            let spliced = format!("{id}{text}");
            assert_eq!(ids.is_valid(&spliced), text.is_empty(), "{spliced:?}");
        }
    }
});

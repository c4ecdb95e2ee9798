//! Arbitrary text through the code-spelling reader and the lookup.
#![no_main]

use std::sync::OnceLock;

use kmsdiag::rules::Rules;
use libfuzzer_sys::fuzz_target;

static RULES: OnceLock<Rules> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let rules = RULES.get_or_init(|| Rules::embedded().expect("the embedded rules load"));
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = kmsdiag::lookup::resolve(rules, text);
        let _ = kmsdiag::lookup::decode_flags(rules, text);
    }
});

//! Arbitrary text through the code-spelling reader and the lookup.
#![no_main]

use std::sync::OnceLock;

use kmsdiag::Rules;
use libfuzzer_sys::fuzz_target;

static RULES: OnceLock<Rules> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let rules = RULES.get_or_init(|| Rules::embedded().expect("the embedded rules load"));
    kmsdiag::harness::run(rules, "code_spelling", data);
});

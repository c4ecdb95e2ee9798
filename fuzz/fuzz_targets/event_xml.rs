//! Arbitrary text through the event XML reader and normalization.
#![no_main]

use std::sync::OnceLock;

use kmsdiag::Rules;
use kmsdiag::SlmgrReader;
use libfuzzer_sys::fuzz_target;

static RULES: OnceLock<Rules> = OnceLock::new();
static READER: OnceLock<SlmgrReader> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let rules = RULES.get_or_init(|| Rules::embedded().expect("the embedded rules load"));
    let reader = READER.get_or_init(|| SlmgrReader::new(rules));
    kmsdiag::harness::run_with(rules, reader, "event_xml", data);
});

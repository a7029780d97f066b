//! libFuzzer target: `citebot::fuzz::knowledge_file` (see `scripts/fuzz`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| citebot::fuzz::knowledge_file(data));

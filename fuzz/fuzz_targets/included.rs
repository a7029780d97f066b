//! libFuzzer target: `citebot::fuzz::included` (see `scripts/fuzz`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| citebot::fuzz::included(data));

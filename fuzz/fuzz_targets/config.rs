//! libFuzzer target: `citebot::fuzz::config` (see `scripts/fuzz`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| citebot::fuzz::config(data));

//! libFuzzer target: `citebot::fuzz::question` (see `scripts/fuzz`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| citebot::fuzz::question(data));

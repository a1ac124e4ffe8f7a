#![no_main]
//! See `fuzz/checks.rs` for what this target checks.

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::toml_config(data));

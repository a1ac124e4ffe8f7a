#![no_main]
//! See `fuzz/checks.rs` for what this target checks.

#[path = "../checks.rs"]
mod checks;

use std::sync::OnceLock;

static RUNTIME: OnceLock<clever_host::runtime::Runtime> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::component(RUNTIME.get_or_init(checks::publish_runtime), data)
});

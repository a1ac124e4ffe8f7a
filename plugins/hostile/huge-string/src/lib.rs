//! Refuses to start with a 48 MiB error string. The host must refuse the
//! oversized output (recorded as a fault) instead of logging or storing it.
use clever_sdk::prelude::*;

/// Length of the string returned.
pub const LEN: usize = 48 << 20;

struct HugeString;

impl Strategy for HugeString {
    fn init(_: &mut Context<'_>, _: &Params) -> Result<Self, String> {
        Err("x".repeat(LEN))
    }
}

export_strategy!(HugeString);

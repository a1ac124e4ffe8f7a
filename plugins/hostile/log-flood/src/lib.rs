//! Writes 2,000 log lines of 100 bytes on every update. The host must keep
//! only its per-call budget of lines and bytes and count the rest as dropped.
use clever_sdk::prelude::*;

/// Lines written per update.
pub const LINES: usize = 2_000;

struct LogFlood;

impl Strategy for LogFlood {
    fn init(_: &mut Context<'_>, _: &Params) -> Result<Self, String> {
        Ok(LogFlood)
    }

    fn on_market(&mut self, ctx: &mut Context<'_>, _: &Market) {
        let line = "x".repeat(100);
        for _ in 0..LINES {
            ctx.info(&line);
        }
    }
}

export_strategy!(LogFlood);

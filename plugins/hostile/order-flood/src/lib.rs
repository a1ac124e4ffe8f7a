//! Places 1,000 orders on every update. The host must accept no more than
//! its per-call order budget and refuse the rest as `rate-limited`. The
//! plugin reports what it saw as signals `accepted` and `rate_limited`.
use clever_sdk::prelude::*;

/// Orders attempted per update.
pub const ATTEMPTS: usize = 1_000;

struct OrderFlood;

impl Strategy for OrderFlood {
    fn init(_: &mut Context<'_>, _: &Params) -> Result<Self, String> {
        Ok(OrderFlood)
    }

    fn on_market(&mut self, ctx: &mut Context<'_>, market: &Market) {
        let Some(runner) = market.runners.first() else {
            return;
        };
        let (mut accepted, mut limited) = (0, 0);
        for _ in 0..ATTEMPTS {
            match ctx.back(&market.id, runner.selection_id, Price(1000.0), 2.0) {
                Ok(_) => accepted += 1,
                Err(RejectReason::RateLimited) => limited += 1,
                Err(_) => {}
            }
        }
        ctx.signal(Signal::new("accepted", accepted as f64));
        ctx.signal(Signal::new("rate_limited", limited as f64));
    }
}

export_strategy!(OrderFlood);

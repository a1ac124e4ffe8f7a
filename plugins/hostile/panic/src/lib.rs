//! Places an order, then panics, on every market update. A panic is a trap
//! in Wasm; the host must record it (with the panic message), rebuild the
//! instance, and on quarantine cancel the orders left open.
use clever_sdk::prelude::*;

struct Panic;

impl Strategy for Panic {
    fn init(_: &mut Context<'_>, _: &Params) -> Result<Self, String> {
        Ok(Panic)
    }

    fn on_market(&mut self, ctx: &mut Context<'_>, market: &Market) {
        if let Some(r) = market.runners.first() {
            let _ = ctx.back(&market.id, r.selection_id, Price(1000.0), 2.0);
        }
        panic!("hostile panic on market {}", market.id);
    }
}

export_strategy!(Panic);

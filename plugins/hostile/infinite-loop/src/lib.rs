//! Loops forever on every market update. The host must cut it off with its
//! fuel budget, rebuild it, and quarantine it after repeated faults.
use clever_sdk::prelude::*;

struct Loop;

impl Strategy for Loop {
    fn init(_: &mut Context<'_>, _: &Params) -> Result<Self, String> {
        Ok(Loop)
    }

    fn on_market(&mut self, _: &mut Context<'_>, _: &Market) {
        let mut n: u64 = 0;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }
}

export_strategy!(Loop);

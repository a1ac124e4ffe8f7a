//! Key-value state abuse, chosen by parameters: `init` stores a value of
//! `value_kib` KiB (default 1,000) under `big`; each update then reads it `reads`
//! times (default 0: until stopped) and signals `reads`, or, if `entries` is set,
//! stores that many new empty entries instead (default 0) and signals `stored`.
//! Reading must cost fuel by the byte; entries must stop at the caps.
use clever_sdk::prelude::*;

struct StateAbuse {
    reads: u64,
    entries: u64,
    next: u64,
}

impl Strategy for StateAbuse {
    fn init(ctx: &mut Context<'_>, params: &Params) -> Result<Self, String> {
        let kib = params.u64_or("value_kib", 1_000)? as usize;
        if !ctx.state_set("big", &vec![1u8; kib * 1024]) {
            return Err(format!("a value of {kib} KiB was refused"));
        }
        Ok(StateAbuse {
            reads: params.u64_or("reads", 0)?,
            entries: params.u64_or("entries", 0)?,
            next: 0,
        })
    }

    fn on_market(&mut self, ctx: &mut Context<'_>, _: &Market) {
        if self.entries > 0 {
            let mut stored = 0;
            for _ in 0..self.entries {
                stored += u64::from(ctx.state_set(&self.next.to_string(), &[]));
                self.next += 1;
            }
            ctx.signal(Signal::new("stored", stored as f64));
            return;
        }
        let mut reads: u64 = 0;
        let mut sum: u64 = 0;
        while self.reads == 0 || reads < self.reads {
            sum += ctx.state_get("big").map_or(0, |v| v.len() as u64);
            reads += 1;
        }
        std::hint::black_box(sum);
        ctx.signal(Signal::new("reads", reads as f64));
    }
}

export_strategy!(StateAbuse);

//! Timer abuse, chosen by parameters (each a number):
//! `timers` set per update (default 2,000), each `after_ms` later (default 60,000), only on
//! the first update if `once` is 1 (default 0); `rearm` 1 sets each fired timer
//! again for now (default 0); `burn` loop iterations in each `on-timer` (default 0).
//! A flood must be capped (`pending_timers`), a re-armed timer must wait
//! for the next event, and many heavy timers due at once must share the
//! event's fuel. Each fired timer is signalled as `fired`.
use clever_sdk::prelude::*;

struct TimerFlood {
    timers: u64,
    after_ms: u64,
    once: bool,
    rearm: bool,
    burn: u64,
    next: u64,
    armed: bool,
}

impl Strategy for TimerFlood {
    fn init(_: &mut Context<'_>, params: &Params) -> Result<Self, String> {
        Ok(TimerFlood {
            timers: params.u64_or("timers", 2_000)?,
            after_ms: params.u64_or("after_ms", 60_000)?,
            once: params.u64_or("once", 0)? == 1,
            rearm: params.u64_or("rearm", 0)? == 1,
            burn: params.u64_or("burn", 0)?,
            next: 0,
            armed: false,
        })
    }

    fn on_market(&mut self, ctx: &mut Context<'_>, _: &Market) {
        if self.once && self.armed {
            return;
        }
        self.armed = true;
        for _ in 0..self.timers {
            ctx.set_timer(self.after_ms, self.next);
            self.next += 1;
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_>, token: u64) {
        let mut n: u64 = 0;
        for _ in 0..self.burn {
            n = std::hint::black_box(n.wrapping_add(1));
        }
        ctx.signal(Signal::new("fired", token as f64));
        if self.rearm {
            ctx.set_timer(0, token);
        }
    }
}

export_strategy!(TimerFlood);

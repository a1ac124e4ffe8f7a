//! Logs and signals a string of `bytes` bytes (default 1 MiB), `calls` times per
//! update (default 0: until stopped). The host must charge fuel for every byte it
//! is handed and refuse more than `import_bytes` in one call before
//! copying it.
use clever_sdk::prelude::*;

struct HugeStrings {
    text: String,
    calls: u64,
}

impl Strategy for HugeStrings {
    fn init(_: &mut Context<'_>, params: &Params) -> Result<Self, String> {
        let bytes = params.u64_or("bytes", 1 << 20)? as usize;
        Ok(HugeStrings {
            text: "x".repeat(bytes),
            calls: params.u64_or("calls", 0)?,
        })
    }

    fn on_market(&mut self, ctx: &mut Context<'_>, market: &Market) {
        let mut calls = 0;
        while self.calls == 0 || calls < self.calls {
            ctx.info(&self.text);
            let mut signal = Signal::new(self.text.as_str(), 1.0);
            signal.market_id = Some(market.id.clone());
            ctx.signal(signal);
            calls += 1;
        }
    }
}

export_strategy!(HugeStrings);

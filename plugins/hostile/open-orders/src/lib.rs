//! Rests `orders` back orders at 1000 on each update (default 50), then lists its
//! open orders `reads` times (default 0: until stopped) and signals `seen` (the
//! last count). The host builds and copies the list each time; that work
//! must cost the plugin fuel.
use clever_sdk::prelude::*;

struct OpenOrders {
    orders: u64,
    reads: u64,
}

impl Strategy for OpenOrders {
    fn init(_: &mut Context<'_>, params: &Params) -> Result<Self, String> {
        Ok(OpenOrders {
            orders: params.u64_or("orders", 50)?,
            reads: params.u64_or("reads", 0)?,
        })
    }

    fn on_market(&mut self, ctx: &mut Context<'_>, market: &Market) {
        let Some(runner) = market.active_runners().next() else {
            return;
        };
        let selection = runner.selection_id;
        for _ in 0..self.orders {
            let request =
                OrderRequest::limit(market.id.clone(), selection, Side::Back, Price(1000.0), 2.0)
                    .with_persistence(Persistence::Persist);
            let _ = ctx.place(request);
        }
        let mut reads = 0;
        let mut seen = 0;
        while self.reads == 0 || reads < self.reads {
            seen = ctx.open_orders(&market.id).len();
            reads += 1;
        }
        ctx.signal(Signal::new("seen", seen as f64));
    }
}

export_strategy!(OpenOrders);

//! `lay-low-inplay`: in play, on every update, for each active runner whose
//! last traded price is below 2.0, lay 2.00 at the best price available to
//! lay; cancel any of its orders still unmatched 2 seconds after placing.
//!
//! Build: `clever build plugins/lay-low-inplay`.
use clever_sdk::prelude::*;

/// Stake of each lay.
const STAKE: Parameter = Parameter::number("stake", 2.0, "stake of each lay");
/// The last traded price under which a runner is laid.
const BELOW: Parameter =
    Parameter::number("below", 2.0, "lay runners last traded below this price");
/// How long an unmatched lay may wait.
const CANCEL_AFTER_MS: Parameter = Parameter::whole(
    "cancel_after_ms",
    2_000,
    "cancel a lay still unmatched after this many ms",
);

/// The strategy; its parameters are the constants above.
pub struct LayLowInPlay {
    stake: f64,
    below: f64,
    cancel_after_ms: u64,
}

impl Strategy for LayLowInPlay {
    fn parameters() -> Option<&'static [Parameter]> {
        Some(&[STAKE, BELOW, CANCEL_AFTER_MS])
    }

    fn init(_: &mut Context<'_>, params: &Params) -> Result<Self, String> {
        let stake = params.number(&STAKE)?;
        if stake <= 0.0 {
            return Err(format!(
                "parameter `stake` must be more than 0, not {stake}"
            ));
        }
        Ok(LayLowInPlay {
            stake,
            below: params.number(&BELOW)?,
            cancel_after_ms: params.whole(&CANCEL_AFTER_MS)?,
        })
    }

    fn on_market(&mut self, ctx: &mut Context<'_>, market: &Market) {
        if !market.in_play {
            // Nothing to do before the off: the host skips those updates.
            ctx.skip_until_in_play(&market.id);
            return;
        }
        if !market.is_open() {
            return;
        }
        for runner in market.active_runners() {
            let low = runner.last_traded.is_some_and(|p| p.get() < self.below);
            let Some(best_lay) = runner.best_lay() else {
                continue;
            };
            if !low {
                continue;
            }
            // The order id is the timer's token: one timer per order.
            if let Ok(id) = ctx.lay(&market.id, runner.selection_id, best_lay.price, self.stake) {
                ctx.set_timer(self.cancel_after_ms, id.0);
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_>, token: u64) {
        // Already matched or gone: the host says unknown-order, nothing to do.
        let _ = ctx.cancel(OrderId(token));
    }
}

export_strategy!(LayLowInPlay);

#[cfg(test)]
mod tests {
    use super::*;
    use clever_sdk::harness::Harness;

    fn market(in_play: bool, runners: &[(u64, Option<f64>, Option<f64>)]) -> Market {
        let mut m = Market::new("1.7");
        m.in_play = in_play;
        for &(id, ltp, lay) in runners {
            let mut r = Runner::new(id);
            r.last_traded = ltp.map(Price);
            if let Some(p) = lay {
                r.lay = Levels::from_slice(&[PriceSize::new(p, 100.0)]);
            }
            m.runners.push(r);
        }
        m
    }

    #[test]
    fn lays_every_low_runner_in_play_on_every_update() {
        let mut h = Harness::<LayLowInPlay>::new("{}").unwrap();
        let m = market(
            true,
            &[
                (1, Some(1.8), Some(1.82)),
                (2, Some(2.5), Some(2.6)),
                (3, Some(1.5), None),
            ],
        );
        h.market(&m);
        h.market(&m);
        let orders = h.orders();
        assert_eq!(
            orders.len(),
            2,
            "runner 1 on each update; 2 is not low, 3 has no lay price"
        );
        for o in orders {
            assert_eq!(o.request.selection_id, SelectionId(1));
            assert_eq!(o.request.side, Side::Lay);
            assert_eq!(o.request.price, Price(1.82));
            assert_eq!(o.request.size, 2.0);
        }
    }

    #[test]
    fn nothing_before_the_off_and_no_calls_until_it() {
        let mut h = Harness::<LayLowInPlay>::new("{}").unwrap();
        let pre_off = market(false, &[(1, Some(1.5), Some(1.52))]);
        assert!(h.market(&pre_off));
        assert!(!h.market(&pre_off), "skipped until in play");
        assert!(h.orders().is_empty());
        assert!(h.market(&market(true, &[(1, Some(1.5), Some(1.52))])));
        assert_eq!(h.orders().len(), 1);
        assert!(h.market(&pre_off), "in play once: every update again");
    }

    #[test]
    fn cancels_what_is_unmatched_after_two_seconds() {
        let mut h = Harness::<LayLowInPlay>::new("{}").unwrap();
        h.market(&market(true, &[(1, Some(1.8), Some(1.82))]));
        let id = h.orders()[0].id;
        h.fill(id, 0.5, 1.82).unwrap();
        h.advance(1_999);
        assert!(h.orders()[0].is_open(), "not yet");
        h.advance(1);
        let o = &h.orders()[0];
        assert!(!o.is_open());
        assert_eq!(o.size_matched, 0.5);
        assert_eq!(o.size_cancelled, 1.5);
    }
}

//! A breakout on a perpetual (WIT 1.1): when a one-minute candle closes
//! above the highest high of the `lookback` candles before it, buy; below
//! their lowest low, sell. The stop goes at the other side of that range,
//! the target `target_r` times the risk beyond the entry, and the size is
//! what loses `risk` (USDC) if the stop is hit. Exits are reduce-only IOC
//! orders when the book touches the stop or the target; each closed trade
//! is logged and signalled in R multiples.
//!
//! Parameters: `instrument` ("ETH"), `lookback` (20), `risk` (20.0),
//! `target_r` (2.0), `slippage` (0.001: how far past the touch an IOC
//! order may fill).
use clever_sdk::book::{r_multiple, r_target, size_for_risk};
use clever_sdk::prelude::*;

/// An open trade: its side, entry, stop and target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trade {
    /// Long (buy) or short (sell).
    pub side: BookSide,
    /// Average entry price.
    pub entry: f64,
    /// Where it is closed at a loss of 1R.
    pub stop: f64,
    /// Where it is closed at a profit of `target_r` R.
    pub target: f64,
    /// Size held.
    pub size: f64,
}

/// Where the strategy is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    /// No position and no order.
    Flat,
    /// An entry order is out: its id, side, stop and target.
    Entering(OrderId, BookSide, f64, f64),
    /// In a trade.
    In(Trade),
    /// An exit order is out for this trade.
    Exiting(OrderId, Trade),
}

/// The strategy.
pub struct PerpBreakout {
    instrument: String,
    lookback: usize,
    risk: f64,
    target_r: f64,
    slippage: f64,
    /// (high, low) of the latest closed candles, oldest first.
    range: Vec<(f64, f64)>,
    book: Option<Book>,
    /// Where it is.
    pub phase: Phase,
    /// R multiples of the closed trades.
    pub results: Vec<f64>,
}

const INSTRUMENT: Parameter = Parameter::text("instrument", "ETH", "the coin traded");
const LOOKBACK: Parameter = Parameter::whole(
    "lookback",
    20,
    "candles whose range a close must break (2 to 1000)",
);
const RISK: Parameter = Parameter::number("risk", 20.0, "money lost if the stop is hit");
const TARGET_R: Parameter =
    Parameter::number("target_r", 2.0, "take profit at this many times the risk");
const SLIPPAGE: Parameter = Parameter::number(
    "slippage",
    0.001,
    "share of the price an IOC order may pay over the book",
);

impl Strategy for PerpBreakout {
    fn parameters() -> Option<&'static [Parameter]> {
        Some(&[INSTRUMENT, LOOKBACK, RISK, TARGET_R, SLIPPAGE])
    }

    fn instruments() -> InstrumentFilter {
        // The instrument is a parameter; the host routes what the filter
        // names, so the filter lists the coins this example may trade.
        InstrumentFilter::instruments(&["BTC", "ETH", "SOL"]).candles(&["1m"])
    }

    fn init(_: &mut Context<'_>, params: &Params) -> Result<Self, String> {
        let lookback = params.whole(&LOOKBACK)?;
        if !(2..=1000).contains(&lookback) {
            return Err(format!(
                "lookback must be 2 to 1000 candles, not {lookback}"
            ));
        }
        Ok(PerpBreakout {
            instrument: params.text(&INSTRUMENT)?,
            lookback: lookback as usize,
            risk: params.number(&RISK)?,
            target_r: params.number(&TARGET_R)?,
            slippage: params.number(&SLIPPAGE)?,
            range: Vec::new(),
            book: None,
            phase: Phase::Flat,
            results: Vec::new(),
        })
    }

    fn on_book(&mut self, ctx: &mut Context<'_>, book: &Book) {
        if book.instrument != self.instrument {
            return;
        }
        self.book = Some(book.clone());
        if let Phase::In(trade) = self.phase {
            let touch = match trade.side {
                BookSide::Buy => book.best_bid(),
                BookSide::Sell => book.best_ask(),
            };
            let Some(touch) = touch else { return };
            let (stop_hit, target_hit) = match trade.side {
                BookSide::Buy => (touch.price <= trade.stop, touch.price >= trade.target),
                BookSide::Sell => (touch.price >= trade.stop, touch.price <= trade.target),
            };
            if stop_hit || target_hit {
                self.exit(ctx, trade, touch.price);
            }
        }
    }

    fn on_candle(&mut self, ctx: &mut Context<'_>, candle: &Candle) {
        if candle.instrument != self.instrument || candle.interval != "1m" {
            return;
        }
        if self.phase == Phase::Flat && self.range.len() >= self.lookback {
            let high = self.range.iter().map(|r| r.0).fold(f64::MIN, f64::max);
            let low = self.range.iter().map(|r| r.1).fold(f64::MAX, f64::min);
            if candle.close > high {
                self.enter(ctx, BookSide::Buy, low);
            } else if candle.close < low {
                self.enter(ctx, BookSide::Sell, high);
            }
        }
        self.range.push((candle.high, candle.low));
        if self.range.len() > self.lookback {
            self.range.remove(0);
        }
    }

    fn on_book_order(&mut self, ctx: &mut Context<'_>, order: &BookOrder) {
        if order.status != OrderStatus::ExecutionComplete && order.status != OrderStatus::Rejected {
            return;
        }
        match self.phase {
            Phase::Entering(id, side, stop, target) if id == order.id => {
                self.phase = match order.average_price {
                    Some(entry) if order.size_filled > 0.0 => {
                        let size = order.size_filled;
                        ctx.info(&format!(
                            "{side:?} {size} at {entry}, stop {stop}, target {target}"
                        ));
                        Phase::In(Trade {
                            side,
                            entry,
                            stop,
                            target,
                            size,
                        })
                    }
                    _ => Phase::Flat,
                };
            }
            Phase::Exiting(id, trade) if id == order.id => {
                let filled = order.size_filled;
                if let (Some(exit), true) = (order.average_price, filled >= trade.size) {
                    self.closed(ctx, trade, exit);
                } else {
                    // Not (all) filled: still in the trade, for what is left.
                    self.phase = Phase::In(Trade {
                        size: trade.size - filled,
                        ..trade
                    });
                }
            }
            _ => {}
        }
    }
}

impl PerpBreakout {
    /// An IOC price `slippage` past the touch, on the tick.
    fn aggressive(&self, info: &InstrumentInfo, side: BookSide, touch: f64) -> f64 {
        let price = touch * (1.0 + side.sign() * self.slippage);
        info.round_price(price, side == BookSide::Buy)
    }

    fn enter(&mut self, ctx: &mut Context<'_>, side: BookSide, stop: f64) {
        let Some(info) = ctx.instrument_info(&self.instrument) else {
            return;
        };
        let touch = self.book.as_ref().and_then(|b| match side {
            BookSide::Buy => b.best_ask(),
            BookSide::Sell => b.best_bid(),
        });
        let Some(touch) = touch else { return };
        // The market may have gone back through the range since the candle
        // closed: entering beyond the stop would be stopped out at once.
        if (touch.price - stop) * side.sign() <= 0.0 {
            ctx.info(&format!(
                "{side:?} skipped: the touch {} is past the stop {stop}",
                touch.price
            ));
            return;
        }
        let Some(size) = size_for_risk(&info, touch.price, stop, self.risk) else {
            return;
        };
        let price = self.aggressive(&info, side, touch.price);
        let target = r_target(touch.price, stop, self.target_r);
        let request =
            (BookOrderRequest::limit(&self.instrument, side, price, size).ioc()).with_stop(stop);
        match ctx.place_book(request) {
            Ok(id) => self.phase = Phase::Entering(id, side, stop, target),
            Err(e) => ctx.warn(&format!("entry refused: {e:?}")),
        }
    }

    fn exit(&mut self, ctx: &mut Context<'_>, trade: Trade, touch: f64) {
        let Some(info) = ctx.instrument_info(&self.instrument) else {
            return;
        };
        let side = trade.side.opposite();
        let price = self.aggressive(&info, side, touch);
        let request = BookOrderRequest::limit(&self.instrument, side, price, trade.size)
            .ioc()
            .reduce_only();
        match ctx.place_book(request) {
            Ok(id) => self.phase = Phase::Exiting(id, trade),
            Err(e) => ctx.warn(&format!("exit refused: {e:?}")),
        }
    }

    fn closed(&mut self, ctx: &mut Context<'_>, trade: Trade, exit: f64) {
        self.phase = Phase::Flat;
        let Some(r) = r_multiple(trade.side, trade.entry, trade.stop, exit) else {
            return;
        };
        self.results.push(r);
        ctx.info(&format!("closed {:?} at {exit}: {r:.2}R", trade.side));
        ctx.signal(Signal::new("r-multiple", r));
    }
}

clever_sdk::export_strategy!(PerpBreakout);

#[cfg(test)]
mod tests {
    use super::*;
    use clever_sdk::harness::Harness;
    use clever_sdk::harness_book::book;

    fn candle(minute: i64, high: f64, low: f64, close: f64) -> Candle {
        clever_sdk::harness_book::candle_1m("ETH", minute, (high, low, close))
    }

    fn harness() -> Harness<PerpBreakout> {
        let mut h = Harness::<PerpBreakout>::new(r#"{"lookback": 3, "risk": 20}"#).unwrap();
        h.set_instrument(InstrumentInfo::hyperliquid_perp("ETH", 4, 25));
        for m in 0..3 {
            h.book(&book("ETH", m * 60_000, (3499.9, 3500.0)));
            h.candle(&candle(m, 3510.0, 3490.0, 3500.0));
        }
        h
    }

    #[test]
    fn a_close_above_the_range_buys_what_risks_the_stake_and_the_target_takes_two_r() {
        let mut h = harness();
        h.book(&book("ETH", 3 * 60_000, (3519.9, 3520.0)));
        assert!(
            h.book_orders().is_empty(),
            "nothing before a candle breaks out"
        );
        h.candle(&candle(3, 3521.0, 3505.0, 3520.5));
        let entry = h.book_orders()[0].clone();
        assert_eq!(entry.request.side, BookSide::Buy);
        assert_eq!(entry.request.time_in_force, TimeInForce::Ioc);
        assert_eq!(entry.request.stop, Some(3490.0));
        // Entry 3520 at the ask, stop 3490 (the range's low): 30 a unit, 20 at risk.
        assert_eq!(entry.request.size, 0.6666);
        assert_eq!(
            entry.request.price, 3523.6,
            "0.1% past the ask, rounded up to the tick"
        );
        h.fill_book(entry.id, 0.6666, 3520.0).unwrap();
        assert!(matches!(h.strategy().phase, Phase::In(t) if t.target == 3580.0));

        h.book(&book("ETH", 4 * 60_000, (3560.0, 3560.1)));
        assert_eq!(h.book_orders().len(), 1, "between stop and target: hold");
        h.book(&book("ETH", 5 * 60_000, (3580.0, 3580.1)));
        let exit = h.book_orders()[1].clone();
        assert_eq!(
            (exit.request.side, exit.request.reduce_only),
            (BookSide::Sell, true)
        );
        h.fill_book(exit.id, 0.6666, 3580.0).unwrap();
        assert_eq!(h.strategy().results, vec![2.0]);
        assert_eq!(h.signals()[0].value, 2.0);
        assert!(h.book_position("ETH").is_none_or(|p| p.size.abs() < 1e-9));
    }

    #[test]
    fn a_close_below_the_range_sells_and_the_stop_loses_one_r() {
        let mut h = harness();
        h.book(&book("ETH", 3 * 60_000, (3480.0, 3480.1)));
        h.candle(&candle(3, 3495.0, 3479.0, 3480.0));
        let entry = h.book_orders()[0].clone();
        assert_eq!(entry.request.side, BookSide::Sell);
        h.fill_book(entry.id, entry.request.size, 3480.0).unwrap();
        h.book(&book("ETH", 4 * 60_000, (3509.9, 3510.0)));
        let exit = h.book_orders()[1].clone();
        assert_eq!(
            (exit.request.side, exit.request.reduce_only),
            (BookSide::Buy, true)
        );
        h.fill_book(exit.id, entry.request.size, 3510.0).unwrap();
        let r = h.strategy().results[0];
        assert!((r + 1.0).abs() < 1e-9, "{r}");
    }

    #[test]
    fn no_entry_when_the_market_is_already_past_the_stop() {
        let mut h = harness();
        // The candle broke out above 3510, but the book is back below 3490.
        h.book(&book("ETH", 3 * 60_000, (3485.0, 3485.1)));
        h.candle(&candle(3, 3521.0, 3505.0, 3520.5));
        assert!(h.book_orders().is_empty());
        assert_eq!(h.strategy().phase, Phase::Flat);
    }

    #[test]
    fn an_unfilled_entry_goes_back_to_flat_and_a_bad_lookback_is_refused() {
        let mut h = harness();
        h.book(&book("ETH", 3 * 60_000, (3519.9, 3520.0)));
        h.candle(&candle(3, 3521.0, 3505.0, 3520.5));
        let id = h.book_orders()[0].id;
        h.expire_book(id).unwrap();
        assert_eq!(h.strategy().phase, Phase::Flat);
        assert!(Harness::<PerpBreakout>::new(r#"{"lookback": 1}"#).is_err());
    }
}

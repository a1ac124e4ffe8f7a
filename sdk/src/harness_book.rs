//! The native harness's order-book side (WIT 1.1): instruments with their
//! rules, book orders checked against them as the host checks them (tick,
//! lot, minimum value, reduce-only), fills you make, and the position they
//! build, with fees.
//!
//! ```
//! use clever_sdk::prelude::*;
//! use clever_sdk::harness::Harness;
//!
//! /// Buys 0.01 ETH at the best bid of the first book it sees.
//! struct Bid(bool);
//! impl Strategy for Bid {
//!     fn instruments() -> InstrumentFilter { InstrumentFilter::instruments(&["ETH"]) }
//!     fn init(_: &mut Context<'_>, _: &Params) -> Result<Self, String> { Ok(Bid(false)) }
//!     fn on_book(&mut self, ctx: &mut Context<'_>, book: &Book) {
//!         if let (false, Some(bid)) = (self.0, book.best_bid()) {
//!             self.0 = ctx.buy("ETH", bid.price, 0.01).is_ok();
//!         }
//!     }
//! }
//!
//! let mut h = Harness::<Bid>::new("{}").unwrap();
//! h.set_instrument(InstrumentInfo::hyperliquid_perp("ETH", 4, 25));
//! h.book(&clever_sdk::harness_book::book("ETH", 1_000, (3500.1, 3500.2)));
//! let id = h.book_orders()[0].id;
//! h.fill_book(id, 0.01, 3500.1).unwrap();
//! assert_eq!(h.book_position("ETH").unwrap().size, 0.01);
//! ```

use std::collections::BTreeMap;

use crate::book::{
    Book, BookOrder, BookOrderRequest, BookPosition, BookSide, Candle, InstrumentInfo,
    InstrumentState, Level, Trade,
};
use crate::context::Context;
use crate::harness::Harness;
use crate::strategy::Strategy;
use crate::types::{OrderId, OrderStatus, RejectReason, Timestamp};

/// The fee the harness charges a fill, of its value (Hyperliquid's maker
/// rate; set [`BookHost::fee_rate`] for another).
const FEE_RATE: f64 = 0.00015;

/// A one-level book of `instrument` at `time` with bid and ask, 10 each.
pub fn book(instrument: &str, time: i64, (bid, ask): (f64, f64)) -> Book {
    let level = |price| Level { price, size: 10.0 };
    Book {
        instrument: instrument.to_owned(),
        time: Timestamp(time),
        bids: vec![level(bid)],
        asks: vec![level(ask)],
    }
}

/// The one-minute candle of `instrument` opened at `minute` (since the
/// epoch) with this high, low and close (opening at the close), volume 1.
pub fn candle_1m(instrument: &str, minute: i64, (high, low, close): (f64, f64, f64)) -> Candle {
    Candle {
        instrument: instrument.to_owned(),
        interval: "1m".into(),
        open_time: Timestamp(minute * 60_000),
        close_time: Timestamp(minute * 60_000 + 59_999),
        open: close,
        high,
        low,
        close,
        volume: 1.0,
    }
}

/// Instruments, book orders and positions of the harness's host.
#[derive(Debug, Default)]
pub struct BookHost {
    /// Rules per instrument ([`Harness::set_instrument`]).
    pub rules: BTreeMap<String, InstrumentInfo>,
    /// Every book order placed, in order.
    pub orders: Vec<BookOrder>,
    /// Requests refused, with the reason.
    pub rejections: Vec<(BookOrderRequest, RejectReason)>,
    /// Positions per instrument.
    pub positions: BTreeMap<String, BookPosition>,
    /// Fee per fill, of its value; 0.015% (a maker fill on Hyperliquid) if none is set.
    pub fee_rate: Option<f64>,
}

impl BookHost {
    pub(crate) fn place(
        &mut self,
        id: OrderId,
        request: &BookOrderRequest,
        now: Timestamp,
    ) -> Result<OrderId, RejectReason> {
        if let Err(reason) = self.check(request) {
            self.rejections.push((request.clone(), reason.clone()));
            return Err(reason);
        }
        self.orders.push(BookOrder::new(
            id,
            request.clone(),
            OrderStatus::Executable,
            now,
        ));
        Ok(id)
    }

    /// The host's checks: a known instrument, price on the tick, size on
    /// the lot, the minimum value, reduce-only against the position.
    fn check(&self, r: &BookOrderRequest) -> Result<(), RejectReason> {
        let info = self
            .rules
            .get(&r.instrument)
            .ok_or(RejectReason::UnknownMarket)?;
        let on_tick = r.price > 0.0 && info.round_price(r.price, false) == r.price;
        if !on_tick {
            return Err(RejectReason::InvalidPrice);
        }
        if r.size <= 0.0
            || info.round_size(r.size) != r.size
            || r.price * r.size < info.min_notional
        {
            return Err(RejectReason::InvalidSize);
        }
        let held = self.positions.get(&r.instrument).map_or(0.0, |p| p.size);
        if r.reduce_only && (held == 0.0 || (held > 0.0) == (r.side == BookSide::Buy)) {
            return Err(RejectReason::VenueError(
                "reduce only order would increase position".into(),
            ));
        }
        Ok(())
    }

    /// Cancel an open book order.
    pub fn cancel(&mut self, id: OrderId) -> Result<(), RejectReason> {
        let order = (self.orders.iter_mut())
            .find(|o| o.id == id && o.status == OrderStatus::Executable)
            .ok_or(RejectReason::UnknownOrder)?;
        order.status = OrderStatus::ExecutionComplete;
        Ok(())
    }

    /// Open book orders in an instrument.
    pub fn open(&self, instrument: &str) -> Vec<BookOrder> {
        (self.orders.iter())
            .filter(|o| o.request.instrument == instrument && o.status == OrderStatus::Executable)
            .cloned()
            .collect()
    }

    /// Fill `size` of order `id` at `price`: the order and the position.
    fn fill(&mut self, id: OrderId, size: f64, price: f64) -> Result<BookOrder, RejectReason> {
        let rate = self.fee_rate.unwrap_or(FEE_RATE);
        let order = (self.orders.iter_mut())
            .find(|o| o.id == id && o.status == OrderStatus::Executable)
            .ok_or(RejectReason::UnknownOrder)?;
        let size = size.min(order.request.size - order.size_filled);
        let before = order.size_filled * order.average_price.unwrap_or(0.0);
        order.size_filled += size;
        order.average_price = Some((before + size * price) / order.size_filled);
        let fee = size * price * rate;
        order.fees += fee;
        if order.request.size - order.size_filled <= 1e-12 {
            order.status = OrderStatus::ExecutionComplete;
        }
        let order = order.clone();
        let position = (self.positions)
            .entry(order.request.instrument.clone())
            .or_insert_with(|| BookPosition {
                instrument: order.request.instrument.clone(),
                size: 0.0,
                entry_price: 0.0,
                unrealised_pnl: 0.0,
                realised_pnl: 0.0,
                leverage: 1,
                margin: 0.0,
            });
        apply_fill(position, order.request.side.sign() * size, price, fee);
        if position.size == 0.0 && position.realised_pnl == 0.0 {
            self.positions.remove(&order.request.instrument);
        }
        Ok(order)
    }
}

/// A fill of signed `delta` at `price` paying `fee`: averages in, or
/// realises the part that closes.
fn apply_fill(p: &mut BookPosition, delta: f64, price: f64, fee: f64) {
    let same_way = p.size == 0.0 || (p.size > 0.0) == (delta > 0.0);
    if same_way {
        p.entry_price =
            (p.entry_price * p.size.abs() + price * delta.abs()) / (p.size + delta).abs();
    } else {
        let closed = delta.abs().min(p.size.abs());
        p.realised_pnl += (price - p.entry_price) * closed * p.size.signum();
        if delta.abs() > p.size.abs() {
            p.entry_price = price;
        }
    }
    p.realised_pnl -= fee;
    p.size += delta;
}

impl<S: Strategy> Harness<S> {
    /// Make an instrument tradable with these rules.
    pub fn set_instrument(&mut self, info: InstrumentInfo) {
        self.host.books.rules.insert(info.instrument.clone(), info);
    }

    /// Every book order placed (refused ones are in
    /// [`BookHost::rejections`]).
    pub fn book_orders(&self) -> &[BookOrder] {
        &self.host.books.orders
    }

    /// The book side of the harness's host.
    pub fn book_host(&self) -> &BookHost {
        &self.host.books
    }

    /// The position held in an instrument.
    pub fn book_position(&self, instrument: &str) -> Option<&BookPosition> {
        self.host.books.positions.get(instrument)
    }

    fn wants(&self, instrument: &str) -> bool {
        S::instruments().instruments.iter().any(|i| i == instrument)
    }

    /// Deliver a book at its time (timers due before fire first), if the
    /// strategy trades the instrument. Returns whether it was delivered.
    pub fn book(&mut self, book: &Book) -> bool {
        self.advance_to(book.time);
        if !self.wants(&book.instrument) {
            return false;
        }
        self.strategy
            .on_book(&mut Context::new(&mut self.host), book);
        true
    }

    /// Deliver trades (of one instrument) at the last one's time.
    pub fn trades(&mut self, trades: &[Trade]) -> bool {
        let Some(last) = trades.last() else {
            return false;
        };
        self.advance_to(last.time);
        if !self.wants(&last.instrument) {
            return false;
        }
        self.strategy
            .on_trades(&mut Context::new(&mut self.host), trades);
        true
    }

    /// Deliver a closed candle at its close time, if the strategy wants its
    /// instrument and interval.
    pub fn candle(&mut self, candle: &Candle) -> bool {
        self.advance_to(candle.close_time);
        let intervals = S::instruments().candle_intervals;
        if !self.wants(&candle.instrument) || !intervals.contains(&candle.interval) {
            return false;
        }
        self.strategy
            .on_candle(&mut Context::new(&mut self.host), candle);
        true
    }

    /// Deliver a mark price and funding rate.
    pub fn instrument_state(&mut self, state: &InstrumentState) -> bool {
        self.advance_to(state.time);
        if !self.wants(&state.instrument) {
            return false;
        }
        self.strategy
            .on_instrument(&mut Context::new(&mut self.host), state);
        true
    }

    /// Fill `size` of a book order at `price` (with the fee) and tell the
    /// strategy.
    pub fn fill_book(&mut self, id: OrderId, size: f64, price: f64) -> Result<(), RejectReason> {
        let order = self.host.books.fill(id, size, price)?;
        self.strategy
            .on_book_order(&mut Context::new(&mut self.host), &order);
        Ok(())
    }

    /// The venue cancels what is left of a book order (an IOC's unfilled
    /// part, say): it completes, and the strategy is told.
    pub fn expire_book(&mut self, id: OrderId) -> Result<(), RejectReason> {
        self.host.books.cancel(id)?;
        let order = (self.host.books.orders.iter())
            .find(|o| o.id == id)
            .cloned()
            .ok_or(RejectReason::UnknownOrder)?;
        self.strategy
            .on_book_order(&mut Context::new(&mut self.host), &order);
        Ok(())
    }
}

//! Order-book instruments (WIT 1.1; Hyperliquid perpetuals first): the
//! book, trades, candles, mark price and funding a strategy receives, the
//! orders it places (buy or sell; GTC, IOC or post-only; reduce-only), its
//! position, and the instrument's trading rules with the tick and lot
//! helpers. Prices and sizes are `f64` at the boundary; the host checks
//! them against the rules exactly (see `wit/strategy.wit`, `book-types`),
//! so round with [`InstrumentInfo::round_price`] and
//! [`InstrumentInfo::round_size`] before placing.

use crate::types::{OrderId, OrderStatus, RejectReason, Timestamp};

/// The venue's name for an instrument, e.g. `BTC`.
pub type InstrumentId = String;

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BookSide {
    /// Buy.
    Buy,
    /// Sell.
    Sell,
}

impl BookSide {
    /// +1 for a buy, -1 for a sell: the sign of the position it adds.
    pub fn sign(self) -> f64 {
        match self {
            BookSide::Buy => 1.0,
            BookSide::Sell => -1.0,
        }
    }

    /// The other side.
    pub fn opposite(self) -> BookSide {
        match self {
            BookSide::Buy => BookSide::Sell,
            BookSide::Sell => BookSide::Buy,
        }
    }
}

/// One level of a book.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    /// Price.
    pub price: f64,
    /// Size resting there.
    pub size: f64,
}

/// An instrument's book, a full snapshot.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Book {
    /// The instrument.
    pub instrument: InstrumentId,
    /// The venue's time.
    pub time: Timestamp,
    /// Bids, best (highest) first.
    pub bids: Vec<Level>,
    /// Asks, best (lowest) first.
    pub asks: Vec<Level>,
}

impl Book {
    /// The best bid.
    pub fn best_bid(&self) -> Option<Level> {
        self.bids.first().copied()
    }

    /// The best ask.
    pub fn best_ask(&self) -> Option<Level> {
        self.asks.first().copied()
    }

    /// Halfway between the best bid and ask.
    pub fn mid(&self) -> Option<f64> {
        Some((self.best_bid()?.price + self.best_ask()?.price) / 2.0)
    }

    /// Best ask less best bid.
    pub fn spread(&self) -> Option<f64> {
        Some(self.best_ask()?.price - self.best_bid()?.price)
    }
}

/// One trade printed by the venue.
#[derive(Debug, Clone, PartialEq)]
pub struct Trade {
    /// The instrument.
    pub instrument: InstrumentId,
    /// When.
    pub time: Timestamp,
    /// Price.
    pub price: f64,
    /// Size.
    pub size: f64,
    /// The side that took liquidity.
    pub aggressor: BookSide,
}

/// A closed candle.
#[derive(Debug, Clone, PartialEq)]
pub struct Candle {
    /// The instrument.
    pub instrument: InstrumentId,
    /// `1m`, `1h`, ...
    pub interval: String,
    /// Open time.
    pub open_time: Timestamp,
    /// Close time.
    pub close_time: Timestamp,
    /// Open.
    pub open: f64,
    /// High.
    pub high: f64,
    /// Low.
    pub low: f64,
    /// Close.
    pub close: f64,
    /// Volume, in the instrument.
    pub volume: f64,
}

/// Mark price and funding.
#[derive(Debug, Clone, PartialEq)]
pub struct InstrumentState {
    /// The instrument.
    pub instrument: InstrumentId,
    /// When.
    pub time: Timestamp,
    /// Mark price.
    pub mark_price: f64,
    /// Funding per hour (positive: longs pay).
    pub funding_rate: f64,
}

/// How long an order may rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeInForce {
    /// Good till cancelled.
    Gtc,
    /// Immediate or cancel.
    Ioc,
    /// Post only: refused if it would match at once.
    PostOnly,
}

/// An order for a book.
#[derive(Debug, Clone, PartialEq)]
pub struct BookOrderRequest {
    /// The instrument.
    pub instrument: InstrumentId,
    /// Buy or sell.
    pub side: BookSide,
    /// Limit price (on the tick).
    pub price: f64,
    /// Size (on the lot).
    pub size: f64,
    /// How long it may rest.
    pub time_in_force: TimeInForce,
    /// Only reduce the position.
    pub reduce_only: bool,
    /// Where the strategy means to cut the trade this order opens (not
    /// placed; the host measures the trade in R multiples of it).
    pub stop: Option<f64>,
    /// The strategy's own reference.
    pub client_ref: Option<String>,
}

impl BookOrderRequest {
    /// A good-till-cancelled limit order.
    pub fn limit(instrument: &str, side: BookSide, price: f64, size: f64) -> BookOrderRequest {
        BookOrderRequest {
            instrument: instrument.to_owned(),
            side,
            price,
            size,
            time_in_force: TimeInForce::Gtc,
            reduce_only: false,
            stop: None,
            client_ref: None,
        }
    }

    /// The same order, immediate or cancel.
    pub fn ioc(mut self) -> Self {
        self.time_in_force = TimeInForce::Ioc;
        self
    }

    /// The same order, post only.
    pub fn post_only(mut self) -> Self {
        self.time_in_force = TimeInForce::PostOnly;
        self
    }

    /// The same order, with the stop that measures its trade in R.
    pub fn with_stop(mut self, stop: f64) -> Self {
        self.stop = Some(stop);
        self
    }

    /// The same order, reduce only.
    pub fn reduce_only(mut self) -> Self {
        self.reduce_only = true;
        self
    }
}

/// A book order of this strategy.
#[derive(Debug, Clone, PartialEq)]
pub struct BookOrder {
    /// Host-assigned id.
    pub id: OrderId,
    /// What was asked.
    pub request: BookOrderRequest,
    /// Where it is in its life.
    pub status: OrderStatus,
    /// Size filled.
    pub size_filled: f64,
    /// Average fill price.
    pub average_price: Option<f64>,
    /// Fees paid.
    pub fees: f64,
    /// When accepted.
    pub placed_at: Timestamp,
    /// Why refused.
    pub rejection: Option<RejectReason>,
}

impl BookOrder {
    /// A new order with nothing filled yet, in `status`, accepted `now`.
    pub fn new(
        id: OrderId,
        request: BookOrderRequest,
        status: OrderStatus,
        now: Timestamp,
    ) -> BookOrder {
        BookOrder {
            id,
            request,
            status,
            size_filled: 0.0,
            average_price: None,
            fees: 0.0,
            placed_at: now,
            rejection: None,
        }
    }
}

/// A position in one instrument.
#[derive(Debug, Clone, PartialEq)]
pub struct BookPosition {
    /// The instrument.
    pub instrument: InstrumentId,
    /// Signed size: positive long, negative short.
    pub size: f64,
    /// Average entry price.
    pub entry_price: f64,
    /// Profit if closed at the mark now.
    pub unrealised_pnl: f64,
    /// Profit taken, after fees and funding.
    pub realised_pnl: f64,
    /// Leverage in force.
    pub leverage: u32,
    /// Margin held.
    pub margin: f64,
}

/// An instrument's trading rules.
#[derive(Debug, Clone, PartialEq)]
pub struct InstrumentInfo {
    /// The instrument.
    pub instrument: InstrumentId,
    /// Its venue.
    pub venue: String,
    /// Decimals a size may have.
    pub size_decimals: u32,
    /// Significant figures a non-integer price may have.
    pub price_significant_figures: u32,
    /// Decimals a price may have at most.
    pub price_decimals: u32,
    /// Smallest order value.
    pub min_notional: f64,
    /// Highest leverage.
    pub max_leverage: u32,
}

impl InstrumentInfo {
    /// Hyperliquid's rules for a perpetual with `size_decimals`: five
    /// significant figures, at most `6 - size_decimals` price decimals, $10
    /// minimum.
    pub fn hyperliquid_perp(
        instrument: &str,
        size_decimals: u32,
        max_leverage: u32,
    ) -> InstrumentInfo {
        InstrumentInfo {
            instrument: instrument.to_owned(),
            venue: "hyperliquid".into(),
            size_decimals,
            price_significant_figures: 5,
            price_decimals: 6u32.saturating_sub(size_decimals),
            min_notional: 10.0,
            max_leverage,
        }
    }

    /// The decimals a price near `price` may have.
    fn decimals_at(&self, price: f64) -> u32 {
        if price <= 0.0 {
            return self.price_decimals;
        }
        let leading = price.log10().floor() as i64;
        let by_figures = (i64::from(self.price_significant_figures) - 1 - leading).max(0);
        (by_figures as u32).min(self.price_decimals)
    }

    /// `price` on the tick, rounded down (`up` false) or up. Integer
    /// prices are always on the tick.
    pub fn round_price(&self, price: f64, up: bool) -> f64 {
        round_to(price, self.decimals_at(price), up)
    }

    /// `size` on the lot, rounded down (never more than asked).
    pub fn round_size(&self, size: f64) -> f64 {
        round_to(size, self.size_decimals, false)
    }

    /// The price step near `price`.
    pub fn tick(&self, price: f64) -> f64 {
        10f64.powi(-(self.decimals_at(price) as i32))
    }
}

fn round_to(x: f64, decimals: u32, up: bool) -> f64 {
    let scale = 10f64.powi(decimals as i32);
    // Printed and read back, so the result is the shortest decimal (what
    // the host reads it as), free of binary noise like 0.30000000000000004.
    let scaled = (x * scale * 1e9).round() / 1e9;
    let stepped = if up { scaled.ceil() } else { scaled.floor() };
    format!("{:.*}", decimals as usize, stepped / scale)
        .parse()
        .unwrap_or(x)
}

/// Which instruments a strategy wants.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct InstrumentFilter {
    /// Venues (empty: any).
    pub venues: Vec<String>,
    /// Instruments (empty: none).
    pub instruments: Vec<InstrumentId>,
    /// Candle intervals wanted.
    pub candle_intervals: Vec<String>,
}

impl InstrumentFilter {
    /// These instruments on any venue.
    pub fn instruments(instruments: &[&str]) -> InstrumentFilter {
        InstrumentFilter {
            instruments: instruments.iter().map(|s| (*s).to_owned()).collect(),
            ..InstrumentFilter::default()
        }
    }

    /// Only on these venues.
    pub fn venues(mut self, venues: &[&str]) -> Self {
        self.venues = venues.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    /// And candles of these intervals.
    pub fn candles(mut self, intervals: &[&str]) -> Self {
        self.candle_intervals = intervals.iter().map(|s| (*s).to_owned()).collect();
        self
    }
}

/// A trade's result in R multiples: what it made per unit of what it
/// risked. R is the distance from entry to the stop; a long entered at 100
/// with its stop at 95 that exits at 110 made 2R; one stopped out, -1R.
/// `None` when the stop is not on the losing side of the entry.
pub fn r_multiple(side: BookSide, entry: f64, stop: f64, exit: f64) -> Option<f64> {
    let risk = (entry - stop) * side.sign();
    (risk > 0.0).then(|| (exit - entry) * side.sign() / risk)
}

/// The price `r` multiples of risk beyond the entry, away from the stop:
/// the target of a trade aiming for `r` R (a long entered at 100 with its
/// stop at 95 aims for 110 at 2R; a short at 100 stopped at 104, for 92).
pub fn r_target(entry: f64, stop: f64, r: f64) -> f64 {
    entry + (entry - stop) * r
}

/// The size that loses `risk` (quote currency) if the stop is hit, cut to
/// the lot; `None` if entry and stop are equal.
pub fn size_for_risk(info: &InstrumentInfo, entry: f64, stop: f64, risk: f64) -> Option<f64> {
    let per_unit = (entry - stop).abs();
    (per_unit > 0.0).then(|| info.round_size(risk / per_unit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_and_sizes_round_onto_hyperliquids_ticks_and_lots() {
        let eth = InstrumentInfo::hyperliquid_perp("ETH", 4, 25);
        assert_eq!(eth.round_price(3500.123, false), 3500.1);
        assert_eq!(eth.round_price(3500.123, true), 3500.2);
        assert_eq!(eth.round_size(0.123456), 0.1234);
        assert_eq!(eth.tick(3500.0), 0.1);
        let btc = InstrumentInfo::hyperliquid_perp("BTC", 5, 40);
        assert_eq!(btc.round_price(95123.7, false), 95123.0);
        assert_eq!(btc.tick(95000.0), 1.0);
        let small = InstrumentInfo::hyperliquid_perp("X", 0, 3);
        assert_eq!(small.round_price(0.00123456, true), 0.001235);
        assert_eq!(
            InstrumentInfo::hyperliquid_perp("Y", 2, 3).round_price(0.1 + 0.2, false),
            0.3
        );
    }

    #[test]
    fn r_multiples_measure_a_trade_by_its_risk() {
        assert_eq!(r_multiple(BookSide::Buy, 100.0, 95.0, 110.0), Some(2.0));
        assert_eq!(r_multiple(BookSide::Buy, 100.0, 95.0, 95.0), Some(-1.0));
        assert_eq!(r_multiple(BookSide::Sell, 100.0, 104.0, 92.0), Some(2.0));
        assert_eq!(
            r_multiple(BookSide::Sell, 100.0, 96.0, 92.0),
            None,
            "a stop on the winning side"
        );
        assert_eq!(r_target(100.0, 95.0, 2.0), 110.0);
        assert_eq!(r_target(100.0, 104.0, 2.0), 92.0);
        let eth = InstrumentInfo::hyperliquid_perp("ETH", 4, 25);
        assert_eq!(size_for_risk(&eth, 3500.0, 3450.0, 100.0), Some(2.0));
    }
}

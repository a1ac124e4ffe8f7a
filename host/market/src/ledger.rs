//! What trading left: each strategy's result in a market, each settled
//! order and its fills. The venue that settles a market writes these; the
//! engine, reports and the store read them.

use clever_sdk::Timestamp;
use serde::Serialize;

/// One strategy's result in one market.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MarketResult {
    /// The market.
    pub market_id: String,
    /// Orders placed (accepted by risk and the venue).
    pub orders: u64,
    /// Stake matched and not voided.
    pub matched: f64,
    /// Profit before commission.
    pub gross_profit: f64,
    /// Commission charged on the net winnings.
    pub commission: f64,
    /// Profit after commission.
    pub profit: f64,
    /// Every order with its fills and share of the result, for saving a
    /// run (`clever backtest --save`); not part of the report.
    #[serde(skip)]
    pub settled: Vec<SettledOrder>,
}

/// One order as the market left it.
#[derive(Debug, Clone, PartialEq)]
pub struct SettledOrder {
    /// The order's final state.
    pub order: clever_sdk::Order,
    /// What matched, when and at what price (void pieces marked).
    pub fills: Vec<Fill>,
    /// When a cancel was asked to take effect, if one was.
    pub cancel_at: Option<clever_sdk::Timestamp>,
    /// Its profit before commission.
    pub profit: f64,
    /// Its share of the market's commission (in proportion to its winnings).
    pub commission: f64,
    /// When the market was settled.
    pub settled_at: clever_sdk::Timestamp,
}

/// One matched piece of an order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fill {
    /// When it matched.
    pub at: Timestamp,
    /// At what price (after any non-runner reduction).
    pub price: f64,
    /// Stake matched.
    pub size: f64,
    /// Void: its runner was removed.
    pub void: bool,
}

/// Round to hundredths (money and stakes in the simulation's f64 figures).
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

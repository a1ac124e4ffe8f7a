//! Order-book instruments (perpetuals first), beside betting markets: the
//! events a source delivers ([`InstrumentEvent`]) and the record of a
//! closed trade ([`TradeRecord`]), in money and in R multiples. Prices and
//! sizes arrive as the plugin sees them (`f64`, WIT 1.1); a venue reads
//! each as the shortest decimal that prints it ([`exact`]) and keeps its
//! ledger in exact decimals.

use clever_sdk::{Book, BookSide, Candle, InstrumentState, Timestamp, Trade};
use rust_decimal::Decimal;
use serde::Serialize;

/// One thing that happened to an instrument.
#[derive(Debug, Clone, PartialEq)]
pub enum InstrumentEvent {
    /// A full book snapshot.
    Book(Book),
    /// Trades printed (one instrument), oldest first.
    Trades(Vec<Trade>),
    /// A candle closed.
    Candle(Candle),
    /// Mark price and funding.
    State(InstrumentState),
}

impl InstrumentEvent {
    /// When it happened: a candle at its close (never earlier).
    pub fn time(&self) -> Timestamp {
        match self {
            InstrumentEvent::Book(b) => b.time,
            InstrumentEvent::Trades(t) => t.last().map_or(Timestamp(0), |t| t.time),
            InstrumentEvent::Candle(c) => c.close_time,
            InstrumentEvent::State(s) => s.time,
        }
    }

    /// Which instrument.
    pub fn instrument(&self) -> &str {
        match self {
            InstrumentEvent::Book(b) => &b.instrument,
            InstrumentEvent::Trades(t) => t.first().map_or("", |t| t.instrument.as_str()),
            InstrumentEvent::Candle(c) => &c.instrument,
            InstrumentEvent::State(s) => &s.instrument,
        }
    }
}

/// `x` as the shortest decimal that prints it (`0.1 + 0.2` is
/// `0.30000000000000004`, exactly that); `None` for NaN and infinities.
pub fn exact(x: f64) -> Option<Decimal> {
    if !x.is_finite() {
        return None;
    }
    format!("{x}").parse().ok()
}

/// A closed trade: from a flat position to flat again (a flip closes one
/// and opens the next).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TradeRecord {
    /// The instrument.
    pub instrument: String,
    /// `long` or `short`.
    pub direction: &'static str,
    /// When the first fill opened it (ms).
    pub opened_at: i64,
    /// When the last fill closed it (ms).
    pub closed_at: i64,
    /// The largest size held.
    pub size: Decimal,
    /// Average entry price.
    pub entry: Decimal,
    /// Average exit price.
    pub exit: Decimal,
    /// The stop the opening order named, if any.
    pub stop: Option<Decimal>,
    /// Profit in the quote currency, after fees and funding.
    pub pnl: Decimal,
    /// Fees paid, entry and exit.
    pub fees: Decimal,
    /// Funding paid while open (negative: received).
    pub funding: Decimal,
    /// The price result in R: (exit − entry) / (entry − stop), signed by
    /// direction; none without a stop on the losing side.
    pub r_multiple: Option<Decimal>,
}

impl TradeRecord {
    /// `long` or `short` for a position opened by `side`.
    pub fn direction_of(side: BookSide) -> &'static str {
        match side {
            BookSide::Buy => "long",
            BookSide::Sell => "short",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_read_as_their_shortest_decimal() {
        assert_eq!(exact(3500.1), Some("3500.1".parse().unwrap()));
        assert_eq!(
            exact(0.1 + 0.2),
            Some("0.30000000000000004".parse().unwrap())
        );
        assert_eq!(exact(f64::NAN), None);
    }
}

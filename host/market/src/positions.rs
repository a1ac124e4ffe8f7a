//! The exact ledger of order-book instruments, shared by the simulated
//! book and live venues: positions (signed size, average entry, realised
//! profit after fees and funding) and, for each position from flat to
//! flat, a [`TradeRecord`]; and the check of an order against an
//! instrument's rules ([`check_order`]).

use std::collections::HashMap;

use clever_sdk::{
    BookOrderRequest, BookPosition, BookSide, InstrumentInfo, RejectReason, Timestamp,
};
use rust_decimal::Decimal;
use rust_decimal::prelude::{Signed, ToPrimitive};

use crate::instrument::{TradeRecord, exact};

/// A trade being held: sums of what opened and closed it.
#[derive(Debug, Clone)]
struct Open {
    side: BookSide,
    opened_at: i64,
    size: Decimal,
    entry: (Decimal, Decimal),
    exit: (Decimal, Decimal),
    gross: Decimal,
    fees: Decimal,
    funding: Decimal,
    stop: Option<Decimal>,
}

#[derive(Debug, Clone, Default)]
struct Position {
    size: Decimal,
    entry: Decimal,
    realised: Decimal,
    open: Option<Open>,
}

/// Positions per instrument, and the trades closed so far.
#[derive(Debug, Clone, Default)]
pub struct Positions {
    positions: HashMap<String, Position>,
    trades: Vec<TradeRecord>,
}

impl Positions {
    /// The signed size held.
    pub fn held(&self, instrument: &str) -> Decimal {
        self.positions
            .get(instrument)
            .map_or(Decimal::ZERO, |p| p.size)
    }

    /// Profit realised over every instrument, after fees and funding.
    pub fn realised(&self) -> Decimal {
        self.positions.values().map(|p| p.realised).sum()
    }

    /// Instruments with a position (or a realised result).
    pub fn instruments(&self) -> Vec<String> {
        self.positions.keys().cloned().collect()
    }

    /// Trades closed so far, oldest first.
    pub fn trades(&self) -> &[TradeRecord] {
        &self.trades
    }

    /// A fill of signed `delta` at `price` paying `fee`: averages in, or
    /// realises the part that closes; a position back to flat closes its
    /// trade (a flip closes one and opens the next with `stop`).
    pub fn fill(
        &mut self,
        instrument: &str,
        (delta, price, fee): (Decimal, Decimal, Decimal),
        stop: Option<Decimal>,
        now: Timestamp,
    ) {
        let p = self.positions.entry(instrument.to_owned()).or_default();
        let same_way = p.size.is_zero() || (p.size > Decimal::ZERO) == (delta > Decimal::ZERO);
        let closing = if same_way {
            Decimal::ZERO
        } else {
            delta.abs().min(p.size.abs())
        };
        let opening = delta.abs() - closing;
        let fee_close = if delta.is_zero() {
            Decimal::ZERO
        } else {
            fee * closing / delta.abs()
        };
        if !closing.is_zero() {
            let gross = (price - p.entry) * closing * p.size.signum();
            p.realised += gross - fee_close;
            if let Some(open) = p.open.as_mut() {
                open.exit = (open.exit.0 + price * closing, open.exit.1 + closing);
                open.gross += gross;
                open.fees += fee_close;
            }
            p.size += closing * delta.signum();
            if p.size.is_zero()
                && let Some(open) = p.open.take()
            {
                self.trades.push(record(instrument, open, now));
            }
        }
        let p = self.positions.entry(instrument.to_owned()).or_default();
        if !opening.is_zero() {
            let side = if delta > Decimal::ZERO {
                BookSide::Buy
            } else {
                BookSide::Sell
            };
            p.realised -= fee - fee_close;
            let open = p.open.get_or_insert(Open {
                side,
                opened_at: now.0,
                size: Decimal::ZERO,
                entry: (Decimal::ZERO, Decimal::ZERO),
                exit: (Decimal::ZERO, Decimal::ZERO),
                gross: Decimal::ZERO,
                fees: Decimal::ZERO,
                funding: Decimal::ZERO,
                stop,
            });
            open.entry = (open.entry.0 + price * opening, open.entry.1 + opening);
            open.fees += fee - fee_close;
            p.entry = (p.entry * p.size.abs() + price * opening) / (p.size.abs() + opening);
            p.size += opening * delta.signum();
            open.size = open.size.max(p.size.abs());
        }
    }

    /// Take over a position the venue holds (after a restart): `size`
    /// (signed) at `entry`, as a trade opened `now` with no stop.
    pub fn adopt(&mut self, instrument: &str, size: Decimal, entry: Decimal, now: Timestamp) {
        if size.is_zero() {
            return;
        }
        let side = if size > Decimal::ZERO {
            BookSide::Buy
        } else {
            BookSide::Sell
        };
        let open = Open {
            side,
            opened_at: now.0,
            size: size.abs(),
            entry: (entry * size.abs(), size.abs()),
            exit: (Decimal::ZERO, Decimal::ZERO),
            gross: Decimal::ZERO,
            fees: Decimal::ZERO,
            funding: Decimal::ZERO,
            stop: None,
        };
        let position = Position {
            size,
            entry,
            realised: Decimal::ZERO,
            open: Some(open),
        };
        self.positions.insert(instrument.to_owned(), position);
    }

    /// Funding `paid` on `instrument`'s position (negative: received).
    pub fn fund(&mut self, instrument: &str, paid: Decimal) {
        if let Some(p) = self.positions.get_mut(instrument) {
            p.realised -= paid;
            if let Some(open) = p.open.as_mut() {
                open.funding += paid;
            }
        }
    }

    /// The position as a strategy sees it, valued at `mark` with
    /// `leverage`.
    pub fn view(
        &self,
        instrument: &str,
        mark: Option<Decimal>,
        leverage: u32,
    ) -> Option<BookPosition> {
        let p = (self.positions.get(instrument))
            .filter(|p| !p.size.is_zero() || !p.realised.is_zero())?;
        let mark = mark.unwrap_or(p.entry);
        let f = |x: Decimal| x.to_f64().unwrap_or(f64::NAN);
        Some(BookPosition {
            instrument: instrument.to_owned(),
            size: f(p.size),
            entry_price: f(p.entry),
            unrealised_pnl: f((mark - p.entry) * p.size),
            realised_pnl: f(p.realised),
            leverage,
            margin: f(p.size.abs() * mark / Decimal::from(leverage.max(1))),
        })
    }
}

fn record(instrument: &str, open: Open, now: Timestamp) -> TradeRecord {
    let entry = open.entry.0 / open.entry.1;
    let exit = if open.exit.1.is_zero() {
        entry
    } else {
        open.exit.0 / open.exit.1
    };
    let sign = if open.side == BookSide::Buy {
        Decimal::ONE
    } else {
        Decimal::NEGATIVE_ONE
    };
    let r_multiple = open.stop.and_then(|stop| {
        let risk = (entry - stop) * sign;
        (risk > Decimal::ZERO).then(|| ((exit - entry) * sign / risk).round_dp(4))
    });
    TradeRecord {
        instrument: instrument.to_owned(),
        direction: TradeRecord::direction_of(open.side),
        opened_at: open.opened_at,
        closed_at: now.0,
        size: open.size,
        entry: entry.round_dp(8).normalize(),
        exit: exit.round_dp(8).normalize(),
        stop: open.stop,
        pnl: (open.gross - open.fees - open.funding)
            .round_dp(6)
            .normalize(),
        fees: open.fees.round_dp(6).normalize(),
        funding: open.funding.round_dp(6).normalize(),
        r_multiple,
    }
}

/// Whether `price` is on the instrument's tick: an integer, or at most the
/// significant figures and decimals its rules allow.
pub fn on_tick(rules: &InstrumentInfo, price: Decimal) -> bool {
    let price = price.normalize();
    if price <= Decimal::ZERO {
        return false;
    }
    if price.scale() == 0 {
        return true;
    }
    let digits = price.mantissa().abs().to_string().len() as i64;
    let exponent = digits - 1 - i64::from(price.scale());
    let by_figures = (i64::from(rules.price_significant_figures) - 1 - exponent).max(0);
    i64::from(price.scale()) <= by_figures.min(i64::from(rules.price_decimals))
}

/// An order checked against its instrument's rules with `held` (the signed
/// position): its exact price and size (a reduce-only order cut to the
/// position), or why it is refused.
pub fn check_order(
    rules: &InstrumentInfo,
    r: &BookOrderRequest,
    held: Decimal,
) -> Result<(Decimal, Decimal), RejectReason> {
    let price = exact(r.price)
        .filter(|p| on_tick(rules, *p))
        .ok_or(RejectReason::InvalidPrice)?;
    let size = exact(r.size)
        .filter(|s| *s > Decimal::ZERO && s.normalize().scale() <= rules.size_decimals)
        .ok_or(RejectReason::InvalidSize)?;
    let min = exact(rules.min_notional).unwrap_or_default();
    let size = if r.reduce_only {
        let against = !held.is_zero() && (held > Decimal::ZERO) != (r.side == BookSide::Buy);
        if !against {
            let why = "reduce only order would increase position";
            return Err(RejectReason::VenueError(why.into()));
        }
        size.min(held.abs())
    } else {
        size
    };
    let value = price.checked_mul(size).ok_or(RejectReason::InvalidSize)?;
    if value < min && !r.reduce_only {
        return Err(RejectReason::InvalidSize);
    }
    Ok((price, size))
}

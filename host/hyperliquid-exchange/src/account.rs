//! One user's side of the local exchange: USDC balance, positions per
//! asset (signed size, entry price, leverage), the nonces it has used, and
//! its fills and funding payments. Money is exact decimals.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;

/// The nonces kept per signer; a new one must beat the smallest (D.7).
const NONCES_KEPT: usize = 100;
/// How far a nonce may be behind the venue's time, and ahead of it.
const NONCE_BEHIND_MS: i64 = 2 * 24 * 3600 * 1000;
const NONCE_AHEAD_MS: i64 = 24 * 3600 * 1000;
/// The leverage an asset starts with (capped at the asset's maximum).
pub const DEFAULT_LEVERAGE: u32 = 20;

/// A position in one asset.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Position {
    /// Signed size: positive long, negative short.
    pub szi: Decimal,
    /// Average entry price of the open size.
    pub entry_px: Decimal,
    /// Funding paid since opened (positive: paid out).
    pub funding: Decimal,
}

/// What one fill did to a position.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// Profit realised by the part that closed.
    pub closed_pnl: Decimal,
    /// The signed size before the fill.
    pub start_position: Decimal,
    /// `Open Long`, `Close Short`, `Long > Short`, ...
    pub dir: &'static str,
}

/// A user's account.
#[derive(Debug, Clone)]
pub struct Account {
    /// USDC, with realised profit, fees and funding.
    pub balance: Decimal,
    /// Open positions by asset id.
    pub positions: BTreeMap<u32, Position>,
    /// Leverage per asset id, and whether cross margin.
    pub leverage: BTreeMap<u32, (u32, bool)>,
    /// The highest nonces used.
    nonces: BTreeSet<u64>,
    /// Fills, oldest first, in the venue's JSON.
    pub fills: Vec<serde_json::Value>,
}

impl Account {
    /// An account holding `balance` USDC.
    pub fn new(balance: Decimal) -> Account {
        Account {
            balance,
            positions: BTreeMap::new(),
            leverage: BTreeMap::new(),
            nonces: BTreeSet::new(),
            fills: Vec::new(),
        }
    }

    /// Use `nonce` at venue time `now` (ms), or say why not.
    pub fn use_nonce(&mut self, nonce: u64, now: i64) -> Result<(), String> {
        let at = i64::try_from(nonce).unwrap_or(i64::MAX);
        if at <= now - NONCE_BEHIND_MS || at >= now + NONCE_AHEAD_MS {
            return Err(format!(
                "Invalid nonce: {nonce} is outside the window (T - 2 days, T + 1 day) of T = {now}"
            ));
        }
        if self.nonces.contains(&nonce) {
            return Err(format!("Invalid nonce: {nonce} was already used"));
        }
        let lowest = self.nonces.first().copied();
        if self.nonces.len() >= NONCES_KEPT && lowest.is_some_and(|low| nonce < low) {
            return Err(format!(
                "Invalid nonce: {nonce} is below the lowest of the last {NONCES_KEPT} used"
            ));
        }
        self.nonces.insert(nonce);
        if self.nonces.len() > NONCES_KEPT {
            self.nonces.pop_first();
        }
        Ok(())
    }

    /// The leverage of `asset` (the default, capped at `max`, until set).
    pub fn leverage_of(&self, asset: u32, max: u32) -> (u32, bool) {
        (self.leverage.get(&asset).copied()).unwrap_or((DEFAULT_LEVERAGE.min(max), true))
    }

    /// The signed size held in `asset`.
    pub fn szi(&self, asset: u32) -> Decimal {
        self.positions.get(&asset).map_or(Decimal::ZERO, |p| p.szi)
    }

    /// Book a fill of `sz` at `px` (bought if `is_buy`), paying `fee`.
    pub fn apply_fill(
        &mut self,
        asset: u32,
        (is_buy, px, sz): (bool, Decimal, Decimal),
        fee: Decimal,
    ) -> Applied {
        let position = self.positions.entry(asset).or_default();
        let start = position.szi;
        let delta = if is_buy { sz } else { -sz };
        let end = start + delta;
        let same_way = start.is_zero() || (start > Decimal::ZERO) == is_buy;
        let closed = if same_way {
            Decimal::ZERO
        } else {
            sz.min(start.abs())
        };
        // Closing a long at px earns (px - entry) a unit; a short the reverse.
        let closed_pnl = if start > Decimal::ZERO {
            (px - position.entry_px) * closed
        } else {
            (position.entry_px - px) * closed
        };
        position.entry_px = if same_way {
            (position.entry_px * start.abs() + px * sz) / end.abs()
        } else if (end > Decimal::ZERO) != (start > Decimal::ZERO) && !end.is_zero() {
            px // flipped: the rest opened at this price
        } else {
            position.entry_px
        };
        position.szi = end;
        if end.is_zero() {
            self.positions.remove(&asset);
        }
        self.balance += closed_pnl - fee;
        Applied {
            closed_pnl,
            start_position: start,
            dir: direction(start, end, is_buy),
        }
    }

    /// Pay (or receive) an hour's funding on `asset` at `rate` and oracle
    /// price `oracle`: longs pay a positive rate. The amount paid, if a
    /// position was held.
    pub fn pay_funding(&mut self, asset: u32, oracle: Decimal, rate: Decimal) -> Option<Decimal> {
        let position = self.positions.get_mut(&asset)?;
        let paid = position.szi * oracle * rate;
        position.funding += paid;
        self.balance -= paid;
        Some(paid)
    }
}

fn direction(start: Decimal, end: Decimal, is_buy: bool) -> &'static str {
    let zero = Decimal::ZERO;
    match (start.cmp(&zero), end.cmp(&zero)) {
        (std::cmp::Ordering::Less, std::cmp::Ordering::Greater) => "Short > Long",
        (std::cmp::Ordering::Greater, std::cmp::Ordering::Less) => "Long > Short",
        _ if is_buy && start >= zero => "Open Long",
        _ if is_buy => "Close Short",
        _ if start <= zero => "Open Short",
        _ => "Close Long",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn positions_average_in_close_with_profit_and_flip() {
        let mut account = Account::new(d("1000"));
        let a = account.apply_fill(1, (true, d("100"), d("2")), d("0.09"));
        assert_eq!(a.dir, "Open Long");
        account.apply_fill(1, (true, d("110"), d("2")), Decimal::ZERO);
        assert_eq!(account.positions[&1].entry_px, d("105"));
        let closed = account.apply_fill(1, (false, d("120"), d("1")), Decimal::ZERO);
        assert_eq!((closed.closed_pnl, closed.dir), (d("15"), "Close Long"));
        let flip = account.apply_fill(1, (false, d("90"), d("5")), Decimal::ZERO);
        assert_eq!((flip.closed_pnl, flip.dir), (d("-45"), "Long > Short"));
        assert_eq!(
            (account.szi(1), account.positions[&1].entry_px),
            (d("-2"), d("90"))
        );
        assert_eq!(account.balance, d("1000") - d("0.09") + d("15") - d("45"));
        let paid = account.pay_funding(1, d("100"), d("0.0001"));
        assert_eq!(paid, Some(d("-0.02")), "a short receives a positive rate");
        account.apply_fill(1, (true, d("80"), d("2")), Decimal::ZERO);
        assert!(account.positions.is_empty());
    }

    #[test]
    fn nonces_are_used_once_inside_the_window_and_above_the_kept_lowest() {
        let now = 1_800_000_000_000;
        let mut account = Account::new(Decimal::ZERO);
        assert!(account.use_nonce(now as u64, now).is_ok());
        assert!(
            account
                .use_nonce(now as u64, now)
                .unwrap_err()
                .contains("already used")
        );
        assert!(account.use_nonce(1, now).unwrap_err().contains("window"));
        for i in 1..=100 {
            account.use_nonce(now as u64 + i * 10, now).unwrap();
        }
        assert!(
            account
                .use_nonce(now as u64 + 5, now)
                .unwrap_err()
                .contains("lowest")
        );
        assert!(account.use_nonce(now as u64 + 2000, now).is_ok());
    }
}

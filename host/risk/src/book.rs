//! Order-book orders (WIT 1.1) under the same [`RiskBook`]: the kill
//! switch, the open and hourly counts and the day's loss are one strategy's,
//! whatever it trades; what an order-book order may add is its own value
//! and its instrument's position.
//!
//! The WIT's `risk-limit` has no case of its own for these (a new case
//! would be a new contract for every plugin), so a plugin hears of the
//! order's value as `max-stake` and of the position's as
//! `max-market-liability`: an instrument is the market of its own orders.

use clever_market::{Decimal, Money, exact};
use clever_sdk::{BookOrderRequest, BookSide, OrderId, RejectReason, RiskLimit};

use crate::RiskBook;

/// An instrument as risk sees it when an order comes: what the venue
/// holds for the strategy, what of its orders rests there, and the mark.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Holding {
    /// Signed position: positive long.
    pub position: Decimal,
    /// Unfilled size of its resting (or pending) buys.
    pub resting_buys: Decimal,
    /// Unfilled size of its resting (or pending) sells.
    pub resting_sells: Decimal,
    /// The venue's mark price, if it has one.
    pub mark: Option<Decimal>,
}

impl Holding {
    /// How far the position could go the order's way (long for a buy,
    /// short for a sell, as a size of 0 or more) if every resting order
    /// on that side filled, and `size` more: 0 or less when it cannot
    /// end up on that side at all.
    fn worst(&self, side: BookSide, size: Decimal) -> Option<Decimal> {
        let (position, resting) = match side {
            BookSide::Buy => (self.position, self.resting_buys),
            BookSide::Sell => (-self.position, self.resting_sells),
        };
        position.checked_add(resting)?.checked_add(size)
    }
}

impl RiskBook {
    /// Check an order-book order placed at `now` (epoch ms) in an
    /// instrument where the strategy holds `holding`.
    ///
    /// Every order passes the kill switch and the open and hourly counts.
    /// One that can only reduce the position (reduce-only, or one whose
    /// side the position cannot reach even if all resting orders on it
    /// filled) passes the rest, so a strategy can always get out: past the
    /// day's loss, and past value limits lowered while it held more.
    pub fn check_book(
        &mut self,
        request: &BookOrderRequest,
        holding: &Holding,
        now: i64,
    ) -> Result<(), RejectReason> {
        let refuse = |limit| Err(RejectReason::RiskLimit(limit));
        if self.killed {
            return refuse(RiskLimit::KillSwitch);
        }
        let price = exact(request.price).ok_or(RejectReason::InvalidPrice)?;
        let size = exact(request.size).ok_or(RejectReason::InvalidSize)?;
        // Sizes and prices past what exact money holds are no order.
        let worst = (holding.worst(request.side, size)).ok_or(RejectReason::InvalidSize)?;
        let adds = !request.reduce_only && worst > Decimal::ZERO;
        // A sell's value is not less for a low limit price.
        let value_price = holding.mark.map_or(price, |m| m.max(price));
        let over = |amount: Decimal, limit: f64| match amount.checked_mul(value_price) {
            Some(value) => Ok(Money::new(value) > Money::from_f64(limit)),
            None => Err(RejectReason::InvalidSize),
        };
        if adds {
            self.roll_day(now);
            if -self.day_profit >= Money::from_f64(self.limits.daily_loss_limit) {
                return refuse(RiskLimit::DailyLoss);
            }
            if over(size, self.limits.max_order_notional)? {
                return refuse(RiskLimit::MaxStake);
            }
        }
        self.check_counts(now)?;
        if adds && over(worst, self.limits.max_position_notional)? {
            return refuse(RiskLimit::MaxMarketLiability);
        }
        Ok(())
    }

    /// The venue took an order-book order under `id` at `now`.
    pub fn placed_book(&mut self, id: OrderId, now: i64) {
        self.placed_at.push_back(now);
        if self.book_open.insert(id) {
            self.open += 1;
        }
    }

    /// An order-book order rests no more (filled, cancelled or refused by
    /// the venue); a second call for it changes nothing.
    pub fn book_done(&mut self, id: OrderId) {
        if self.book_open.remove(&id) {
            self.open -= 1;
        }
    }

    /// An order-book order counted done is open again (the venue's answer
    /// refused it; its feed shows it resting): it counts among the open
    /// orders once more, not again toward the hourly count (it was placed
    /// once). Nothing changes for an order counted open already.
    pub fn book_open_again(&mut self, id: OrderId) {
        if self.book_open.insert(id) {
            self.open += 1;
        }
    }

    /// Order-book trading realised `profit` at `now` (closed size, fees,
    /// funding): it counts toward the day's loss.
    pub fn book_realised(&mut self, profit: Money, now: i64) {
        self.roll_day(now);
        self.day_profit += profit;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RiskLimits;

    fn order(side: BookSide, price: f64, size: f64) -> BookOrderRequest {
        BookOrderRequest::limit("ETH", side, price, size)
    }

    fn held(position: i64) -> Holding {
        Holding {
            position: Decimal::from(position),
            ..Holding::default()
        }
    }

    const LIMIT: fn(RiskLimit) -> Result<(), RejectReason> = |l| Err(RejectReason::RiskLimit(l));

    fn book() -> RiskBook {
        RiskBook::new(RiskLimits {
            max_order_notional: 10_000.0,
            max_position_notional: 25_000.0,
            ..RiskLimits::default()
        })
    }

    #[test]
    fn an_orders_value_is_limited_at_the_higher_of_its_price_and_the_mark() {
        let mut risk = book();
        let flat = held(0);
        assert_eq!(
            risk.check_book(&order(BookSide::Buy, 2_500.0, 4.0), &flat, 0),
            Ok(())
        );
        assert_eq!(
            risk.check_book(&order(BookSide::Buy, 2_500.0, 4.0001), &flat, 0),
            LIMIT(RiskLimit::MaxStake)
        );
        // A sell far below the market is worth what it sells at the mark.
        let marked = Holding {
            mark: Some(Decimal::from(2_500)),
            ..flat
        };
        assert_eq!(
            risk.check_book(&order(BookSide::Sell, 1.0, 5.0), &marked, 0),
            LIMIT(RiskLimit::MaxStake)
        );
    }

    #[test]
    fn a_position_counts_its_resting_orders_on_the_same_side() {
        let mut risk = book();
        let long = Holding {
            position: Decimal::from(6),
            resting_buys: Decimal::from(3),
            resting_sells: Decimal::from(100),
            mark: None,
        };
        // 6 held + 3 resting + 1 = 10 at 2,500 = 25,000: at the limit.
        assert_eq!(
            risk.check_book(&order(BookSide::Buy, 2_500.0, 1.0), &long, 0),
            Ok(())
        );
        assert_eq!(
            risk.check_book(&order(BookSide::Buy, 2_500.0, 1.5), &long, 0),
            LIMIT(RiskLimit::MaxMarketLiability)
        );
        // Resting sells do not make room for more buys.
        let short = Holding {
            position: Decimal::from(-8),
            resting_sells: Decimal::from(2),
            ..Holding::default()
        };
        assert_eq!(
            risk.check_book(&order(BookSide::Sell, 2_500.0, 0.5), &short, 0),
            LIMIT(RiskLimit::MaxMarketLiability)
        );
    }

    #[test]
    fn an_order_that_only_reduces_passes_the_value_and_loss_limits() {
        let mut risk = RiskBook::new(RiskLimits {
            max_order_notional: 100.0,
            max_position_notional: 100.0,
            daily_loss_limit: 50.0,
            ..RiskLimits::default()
        });
        risk.book_realised(Money::from_pennies(-5_000), 0);
        let long = held(40);
        let mut close = order(BookSide::Sell, 2_500.0, 40.0);
        assert_eq!(risk.check_book(&close, &long, 0), Ok(()));
        // One more than held would open a short: refused.
        close.size = 41.0;
        assert_eq!(
            risk.check_book(&close, &long, 0),
            LIMIT(RiskLimit::DailyLoss)
        );
        close.reduce_only = true;
        assert_eq!(risk.check_book(&close, &long, 0), Ok(()));
        // The kill switch stops even that.
        risk.set_kill_switch(true);
        assert_eq!(
            risk.check_book(&close, &long, 0),
            LIMIT(RiskLimit::KillSwitch)
        );
    }

    #[test]
    fn sizes_past_exact_money_are_refused_not_a_panic() {
        let mut risk = book();
        let huge = order(BookSide::Buy, 1e15, 1e15);
        assert_eq!(
            risk.check_book(&huge, &held(0), 0),
            Err(RejectReason::InvalidSize)
        );
        let full = Holding {
            resting_buys: Decimal::MAX,
            ..Holding::default()
        };
        let one = order(BookSide::Buy, 1.0, 1.0);
        assert_eq!(
            risk.check_book(&one, &full, 0),
            Err(RejectReason::InvalidSize)
        );
    }

    #[test]
    fn book_orders_share_the_open_and_hourly_counts_and_the_days_loss() {
        let mut risk = RiskBook::new(RiskLimits {
            max_open_orders: 2,
            max_orders_per_hour: 3,
            daily_loss_limit: 10.0,
            ..RiskLimits::default()
        });
        let flat = held(0);
        let buy = order(BookSide::Buy, 100.0, 1.0);
        risk.placed_book(OrderId(1), 0);
        risk.placed_book(OrderId(2), 0);
        assert_eq!(
            risk.check_book(&buy, &flat, 0),
            LIMIT(RiskLimit::MaxOpenOrders)
        );
        risk.book_done(OrderId(1));
        risk.book_done(OrderId(1));
        assert_eq!(risk.check_book(&buy, &flat, 0), Ok(()));
        risk.placed_book(OrderId(3), 0);
        risk.book_done(OrderId(3));
        assert_eq!(
            risk.check_book(&buy, &flat, 1),
            LIMIT(RiskLimit::MaxOrdersPerHour)
        );
        // Refused, then found resting after all: open again, once.
        risk.book_open_again(OrderId(3));
        risk.book_open_again(OrderId(3));
        risk.book_open_again(OrderId(2));
        assert_eq!(
            risk.check_book(&buy, &flat, 3_600_000),
            LIMIT(RiskLimit::MaxOpenOrders)
        );
        risk.book_done(OrderId(3));
        assert_eq!(risk.check_book(&buy, &flat, 3_600_000), Ok(()));
        // A loss realised today stops new exposure until tomorrow.
        risk.book_realised(Money::from_pennies(-1_000), 3_600_000);
        assert_eq!(
            risk.check_book(&buy, &flat, 3_600_001),
            LIMIT(RiskLimit::DailyLoss)
        );
        assert_eq!(risk.check_book(&buy, &flat, 86_400_000), Ok(()));
    }
}

//! [`Money`]: an exact amount in the account's currency (stakes, matched
//! stake, liabilities, profit, commission), to the penny where it is
//! booked.
//!
//! The database keeps money as whole pennies in integer columns
//! ([`Money::to_pennies`], [`Money::from_pennies`]), so its sums are exact
//! too. The conversion rule at the borders that speak `f64` (the WIT
//! boundary, the simulated exchange's sizes): an `f64` becomes money by
//! rounding it to the nearest penny, half away from zero
//! ([`Money::from_f64`]); money becomes the nearest `f64`
//! ([`Money::to_f64`]). Every whole-penny amount below 2^53 pennies
//! survives the round trip unchanged, so figures read back equal the ones
//! written. Sums and differences are exact; a product with a price or a
//! rate is rounded to the penny where it is booked ([`Money::pennies`]).

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// An exact amount of money. Serialized as a JSON number with at most two
/// decimals.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Money(Decimal);

impl Money {
    /// Nothing.
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// An exact decimal amount, kept as it is (see [`Money::pennies`]).
    pub fn new(amount: Decimal) -> Money {
        Money(amount)
    }

    /// `pennies` hundredths.
    pub fn from_pennies(pennies: i64) -> Money {
        Money(Decimal::new(pennies, 2))
    }

    /// The nearest penny to `x` (half away from zero); 0 if `x` is not finite.
    pub fn from_f64(x: f64) -> Money {
        Money(Decimal::from_f64(x).unwrap_or_default()).pennies()
    }

    /// Rounded to the penny, half away from zero.
    pub fn pennies(self) -> Money {
        Money(
            self.0
                .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero),
        )
    }

    /// Whole pennies, rounded as [`Money::pennies`] (how the database keeps
    /// money). Saturates beyond ±2^63 pennies, far past any real amount.
    pub fn to_pennies(self) -> i64 {
        let pennies = self.pennies().0 * Decimal::ONE_HUNDRED;
        pennies.to_i64().unwrap_or(if pennies.is_sign_negative() {
            i64::MIN
        } else {
            i64::MAX
        })
    }

    /// The nearest `f64`.
    pub fn to_f64(self) -> f64 {
        self.0.to_f64().unwrap_or_default()
    }

    /// The exact decimal.
    pub fn decimal(self) -> Decimal {
        self.0
    }

    /// `rate` percent of this, exact (round it where it is booked).
    pub fn percent(self, rate: Decimal) -> Money {
        Money(self.0 * rate / Decimal::ONE_HUNDRED)
    }

    /// This times `factor`, exact.
    pub fn times(self, factor: Decimal) -> Money {
        Money(self.0 * factor)
    }

    /// Zero if this is negative.
    pub fn or_zero(self) -> Money {
        self.max(Money::ZERO)
    }

    /// Greater than zero.
    pub fn is_positive(self) -> bool {
        self.0 > Decimal::ZERO
    }
}

/// A database or wire `f64` as money: the nearest penny; refused if not a
/// finite number.
impl TryFrom<f64> for Money {
    type Error = NotMoney;
    fn try_from(x: f64) -> Result<Money, NotMoney> {
        if x.is_finite() {
            Ok(Money::from_f64(x))
        } else {
            Err(NotMoney(x))
        }
    }
}

/// A number that is not an amount of money (NaN or infinite).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NotMoney(pub f64);

impl fmt::Display for NotMoney {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is not an amount of money", self.0)
    }
}

impl std::error::Error for NotMoney {}

/// Two decimals unless a precision is given; width and alignment as for
/// numbers (right-aligned by default).
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let places = f.precision().unwrap_or(2);
        let shown = self
            .0
            .round_dp_with_strategy(places as u32, RoundingStrategy::MidpointAwayFromZero);
        let s = format!("{shown:.places$}");
        let w = f.width().unwrap_or(0);
        match f.align() {
            Some(fmt::Alignment::Left) => write!(f, "{s:<w$}"),
            Some(fmt::Alignment::Center) => write!(f, "{s:^w$}"),
            _ => write!(f, "{s:>w$}"),
        }
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, o: Money) -> Money {
        Money(self.0 + o.0)
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, o: Money) -> Money {
        Money(self.0 - o.0)
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, o: Money) {
        self.0 += o.0;
    }
}

impl SubAssign for Money {
    fn sub_assign(&mut self, o: Money) {
        self.0 -= o.0;
    }
}

impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-self.0)
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

impl<'a> Sum<&'a Money> for Money {
    fn sum<I: Iterator<Item = &'a Money>>(iter: I) -> Money {
        iter.copied().sum()
    }
}

/// Split `total` over `weights` in proportion, to the penny, so that the
/// parts add up to `total` exactly: each part is rounded down, and the
/// pennies left go one each to the largest remainders (ties to the
/// earliest). All weights zero or negative: nothing is split.
pub fn allocate(total: Money, weights: &[Money]) -> Vec<Money> {
    let sum: Decimal = weights.iter().map(|w| w.0.max(Decimal::ZERO)).sum();
    if sum <= Decimal::ZERO {
        return vec![Money::ZERO; weights.len()];
    }
    let exact: Vec<Decimal> = weights
        .iter()
        .map(|w| total.0 * w.0.max(Decimal::ZERO) / sum)
        .collect();
    let mut parts: Vec<Decimal> = exact
        .iter()
        .map(|e| e.round_dp_with_strategy(2, RoundingStrategy::ToZero))
        .collect();
    let given: Decimal = parts.iter().sum();
    let penny = if total.0 < Decimal::ZERO {
        Decimal::new(-1, 2)
    } else {
        Decimal::new(1, 2)
    };
    let mut left = ((total.0 - given) / Decimal::new(1, 2))
        .abs()
        .to_i64()
        .unwrap_or(0);
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - parts[b])
            .abs()
            .cmp(&(exact[a] - parts[a]).abs())
            .then(a.cmp(&b))
    });
    for i in order {
        if left == 0 {
            break;
        }
        if weights[i].0 > Decimal::ZERO {
            parts[i] += penny;
            left -= 1;
        }
    }
    parts.into_iter().map(Money).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pennies_round_half_away_from_zero_and_round_trip_through_f64() {
        assert_eq!(Money::from_f64(0.125), Money::from_pennies(13));
        assert_eq!(Money::from_f64(-0.125), Money::from_pennies(-13));
        assert_eq!(Money::from_f64(f64::NAN), Money::ZERO);
        for pennies in [0, 1, -1, 404_687, 92_456_000_093, -92_456] {
            let m = Money::from_pennies(pennies);
            assert_eq!(Money::from_f64(m.to_f64()), m);
            assert_eq!(m.to_pennies(), pennies);
        }
        assert_eq!(Money::new(Decimal::new(-1005, 3)).to_pennies(), -101);
    }

    #[test]
    fn sums_are_exact_where_f64_drifts() {
        let tenths = [Money::from_pennies(10); 10];
        assert_eq!(tenths.iter().sum::<Money>(), Money::from_pennies(100));
        assert_ne!((0..10).map(|_| 0.1).sum::<f64>(), 1.0);
        assert_eq!(format!("{}", Money::from_pennies(404_687)), "4046.87");
        assert_eq!(
            format!("{:>9.1}|{:<6}|", Money::from_pennies(-5), Money::ZERO),
            "     -0.1|0.00  |"
        );
        assert_eq!(
            serde_json::to_string(&Money::from_pennies(404_687)).unwrap(),
            "4046.87"
        );
    }

    #[test]
    fn allocation_adds_up_to_the_total_exactly() {
        let total = Money::from_pennies(100);
        let w = [
            Money::from_pennies(1),
            Money::from_pennies(1),
            Money::from_pennies(1),
        ];
        let parts = allocate(total, &w);
        assert_eq!(parts.iter().sum::<Money>(), total);
        assert_eq!(
            parts,
            [
                Money::from_pennies(34),
                Money::from_pennies(33),
                Money::from_pennies(33)
            ]
        );
        let w = [
            Money::from_pennies(-5),
            Money::from_pennies(300),
            Money::from_pennies(100),
        ];
        let parts = allocate(Money::from_pennies(7), &w);
        assert_eq!(
            parts,
            [Money::ZERO, Money::from_pennies(5), Money::from_pennies(2)]
        );
        assert_eq!(allocate(total, &[Money::ZERO]), [Money::ZERO]);
    }
}

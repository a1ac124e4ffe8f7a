//! The Betfair price ladder (CLASSIC odds markets): 350 valid prices from
//! 1.01 to 1000 in bands of different tick sizes. Arithmetic is done in
//! exact integer hundredths, never in binary floats, so that snapping and
//! checking a price gives the same answer on every machine.

/// A decimal odds price, e.g. `2.5`. Not necessarily on the ladder: use
/// [`Price::is_on_ladder`] or [`round_to_ladder`] to check or snap it.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Price(pub f64);

impl Price {
    /// The lowest price on the ladder, 1.01.
    pub const MIN: Price = Price(1.01);
    /// The highest price on the ladder, 1000.
    pub const MAX: Price = Price(1000.0);

    /// The price as a float.
    #[inline]
    pub fn get(self) -> f64 {
        self.0
    }

    /// True if the price is exactly one of the ladder's 350 prices.
    pub fn is_on_ladder(self) -> bool {
        index_of(self).is_some()
    }

    /// The next price up the ladder, or `None` at 1000 or off the ladder.
    pub fn tick_up(self) -> Option<Price> {
        index_of(self).and_then(|i| price_at(i + 1))
    }

    /// The next price down the ladder, or `None` at 1.01 or off the ladder.
    pub fn tick_down(self) -> Option<Price> {
        index_of(self).and_then(|i| i.checked_sub(1).and_then(price_at))
    }

    /// The price `n` ticks away (negative: down), if that stays on the ladder.
    pub fn ticks(self, n: i32) -> Option<Price> {
        let i = index_of(self)? as i64 + n as i64;
        usize::try_from(i).ok().and_then(price_at)
    }
}

impl std::fmt::Display for Price {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Which way [`round_to_ladder`] snaps a price that lies between two ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// To the closer tick (ties go up).
    Nearest,
    /// To the tick at or above.
    Up,
    /// To the tick at or below.
    Down,
}

/// (upper bound of the band in hundredths, tick size in hundredths).
const BANDS: [(u32, u32); 10] = [
    (200, 1),
    (300, 2),
    (400, 5),
    (600, 10),
    (1000, 20),
    (2000, 50),
    (3000, 100),
    (5000, 200),
    (10000, 500),
    (100000, 1000),
];

/// Number of prices on the ladder.
pub const LADDER_LEN: usize = 350;

/// Every ladder price in hundredths, ascending.
const LADDER: [u32; LADDER_LEN] = build_ladder();

const fn build_ladder() -> [u32; LADDER_LEN] {
    let mut out = [0u32; LADDER_LEN];
    let mut n = 0;
    let mut price = 101;
    let mut band = 0;
    while band < BANDS.len() {
        let (upper, tick) = BANDS[band];
        while price <= upper {
            out[n] = price;
            n += 1;
            price += tick;
        }
        // The first price of the next band continues from the band's upper bound.
        price = upper
            + if band + 1 < BANDS.len() {
                BANDS[band + 1].1
            } else {
                0
            };
        band += 1;
    }
    out
}

/// The price in hundredths if it is within float noise of a whole number of
/// hundredths (prices off by a few ulps after arithmetic still count).
fn hundredths(price: Price) -> Option<u32> {
    let scaled = price.0 * 100.0;
    if !scaled.is_finite() || scaled < 0.0 || scaled > u32::MAX as f64 {
        return None;
    }
    let rounded = scaled.round();
    ((scaled - rounded).abs() < 1e-6).then_some(rounded as u32)
}

/// The position of `price` on the ladder (0 for 1.01), if it is on it.
pub fn index_of(price: Price) -> Option<usize> {
    let h = hundredths(price)?;
    LADDER.binary_search(&h).ok()
}

/// The ladder price at `index` (0 is 1.01, 349 is 1000).
pub fn price_at(index: usize) -> Option<Price> {
    LADDER.get(index).map(|&h| Price(h as f64 / 100.0))
}

/// Snap a price to the ladder. Prices below 1.01 give 1.01 and above 1000
/// give 1000; `None` only for NaN.
pub fn round_to_ladder(price: Price, rounding: Rounding) -> Option<Price> {
    if price.0.is_nan() {
        return None;
    }
    // Work in hundredths; a float within noise of a tick counts as that tick.
    let scaled = (price.0 * 100.0).clamp(LADDER[0] as f64, LADDER[LADDER_LEN - 1] as f64);
    let near = scaled.round();
    let exact = (scaled - near).abs() < 1e-6;
    let target = if exact { near } else { scaled };
    let upper = LADDER.partition_point(|&h| (h as f64) < target);
    let index = match LADDER.get(upper) {
        Some(&h) if h as f64 == target => upper,
        _ => {
            let (below, above) = (upper - 1, upper);
            match rounding {
                Rounding::Up => above,
                Rounding::Down => below,
                Rounding::Nearest => {
                    if target - (LADDER[below] as f64) < (LADDER[above] as f64) - target {
                        below
                    } else {
                        above
                    }
                }
            }
        }
    };
    price_at(index)
}

/// How many ticks from `from` up to `to` (negative if `to` is lower); both
/// must be on the ladder.
pub fn ticks_between(from: Price, to: Price) -> Option<i32> {
    Some(index_of(to)? as i32 - index_of(from)? as i32)
}

/// The tick size at a price: the step to the next price up (0.01 up to 2, ...).
pub fn tick_size(price: Price) -> Option<f64> {
    let h = hundredths(price)?;
    BANDS
        .iter()
        .find(|(upper, _)| h < *upper)
        .map(|(_, tick)| *tick as f64 / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ladder_has_350_prices_from_1_01_to_1000() {
        assert_eq!(LADDER[0], 101);
        assert_eq!(LADDER[LADDER_LEN - 1], 100000);
        assert!(LADDER.windows(2).all(|w| w[0] < w[1]));
        // Band edges: 2.00 then 2.02, 3.00 then 3.05, 100 then 110.
        let i = index_of(Price(2.0)).unwrap();
        assert_eq!(price_at(i + 1), Some(Price(2.02)));
        assert_eq!(Price(3.0).tick_up(), Some(Price(3.05)));
        assert_eq!(Price(100.0).tick_up(), Some(Price(110.0)));
        assert_eq!(Price(1000.0).tick_up(), None);
        assert_eq!(Price(1.01).tick_down(), None);
    }

    #[test]
    fn validity_uses_exact_hundredths() {
        assert!(Price(1.01).is_on_ladder());
        assert!(Price(0.1 + 0.2 + 1.7).is_on_ladder()); // 2.0 after float noise
        assert!(!Price(2.01).is_on_ladder());
        assert!(!Price(1.0).is_on_ladder());
        assert!(!Price(1010.0).is_on_ladder());
        assert!(!Price(f64::NAN).is_on_ladder());
        assert!(Price(4.1).is_on_ladder());
        assert!(!Price(4.15).is_on_ladder());
    }

    #[test]
    fn rounding_snaps_between_ticks() {
        assert_eq!(
            round_to_ladder(Price(2.01), Rounding::Up),
            Some(Price(2.02))
        );
        assert_eq!(
            round_to_ladder(Price(2.01), Rounding::Down),
            Some(Price(2.0))
        );
        assert_eq!(
            round_to_ladder(Price(3.02), Rounding::Nearest),
            Some(Price(3.0))
        );
        assert_eq!(
            round_to_ladder(Price(3.03), Rounding::Nearest),
            Some(Price(3.05))
        );
        assert_eq!(
            round_to_ladder(Price(0.5), Rounding::Nearest),
            Some(Price(1.01))
        );
        assert_eq!(
            round_to_ladder(Price(5000.0), Rounding::Down),
            Some(Price(1000.0))
        );
        assert_eq!(round_to_ladder(Price(7.4), Rounding::Up), Some(Price(7.4)));
        assert_eq!(round_to_ladder(Price(f64::NAN), Rounding::Up), None);
    }

    #[test]
    fn ticks_between_counts_across_bands() {
        assert_eq!(ticks_between(Price(1.98), Price(2.04)), Some(4));
        assert_eq!(ticks_between(Price(2.04), Price(1.98)), Some(-4));
        assert_eq!(ticks_between(Price(1.01), Price(1000.0)), Some(349));
        assert_eq!(ticks_between(Price(1.01), Price(2.01)), None);
        assert_eq!(Price(1.98).ticks(4), Some(Price(2.04)));
        assert_eq!(tick_size(Price(5.0)), Some(0.1));
        assert_eq!(tick_size(Price(2.0)), Some(0.02));
    }
}

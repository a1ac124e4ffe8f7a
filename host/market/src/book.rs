//! [`MarketBook`]: one market as it stands after an update, in the host's
//! own terms. A venue adapter keeps one per market and brings it up to date
//! in place as its feed changes it; the engine, the simulated exchange and
//! the store read it and never learn which venue it came from.

use clever_sdk::{Market, MarketId, Timestamp};

/// Levels from the best that [`Ladder`]'s search counts before it
/// searches by halves (docs/BENCHMARKS.md, nineteenth sitting).
const NEAR: usize = 16;

/// A price-keyed ladder of (price, size), kept sorted best first: highest
/// price first for offers to back, lowest first for offers to lay, and
/// ascending for traded volume.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ladder {
    levels: Vec<(f64, f64)>,
    descending: bool,
}

impl Ladder {
    /// A ladder whose best price is the highest (offers to back).
    pub fn descending() -> Self {
        Ladder {
            levels: Vec::new(),
            descending: true,
        }
    }

    /// A ladder whose best price is the lowest (offers to lay, traded volume).
    pub fn ascending() -> Self {
        Ladder::default()
    }

    /// Set the size at `price`; a size of 0 removes the level. Which level
    /// changed (0 the best), or `None` if none did (a price not held
    /// removed, or a price that is not a number).
    /// A change below the levels shown changes no view.
    pub fn set(&mut self, price: f64, size: f64) -> Option<usize> {
        if price.is_nan() {
            return None;
        }
        match (self.position(price), size == 0.0) {
            (Ok(i), true) => {
                self.levels.remove(i);
                Some(i)
            }
            (Ok(i), false) => {
                self.levels[i].1 = size;
                Some(i)
            }
            (Err(_), true) => None,
            (Err(i), false) => {
                self.levels.insert(i, (price, size));
                Some(i)
            }
        }
    }

    /// Where `price` is held (`Ok`) or would go (`Err`): after the levels
    /// better than it. Most changes of a feed land near the best (70%
    /// within the first 8 levels in the real race of docs/BENCHMARKS.md),
    /// so the first [`NEAR`] levels are counted with no branch on their
    /// prices: compares that run side by side, where a search by halves
    /// waits for each load before the next. Only when all of them are
    /// better is the rest searched by halves. (No price held is NaN, nor
    /// is `price`.)
    #[inline]
    fn position(&self, price: f64) -> Result<usize, usize> {
        // The direction is fixed before the loops, each compiled for its own.
        let lo = if self.descending {
            after_better(&self.levels, |held| held > price)
        } else {
            after_better(&self.levels, |held| held < price)
        };
        match self.levels.get(lo) {
            Some(&(held, _)) if held == price => Ok(lo),
            _ => Err(lo),
        }
    }

    /// Every level, best first.
    pub fn levels(&self) -> &[(f64, f64)] {
        &self.levels
    }

    /// No levels.
    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }

    /// Remove every level.
    pub fn clear(&mut self) {
        self.levels.clear();
    }

    /// The size at `price` (0 if none), comparing prices in hundredths.
    pub fn size_at(&self, price: f64) -> f64 {
        let key = cents(price);
        self.levels
            .iter()
            .find(|(p, _)| cents(*p) == key)
            .map_or(0.0, |(_, s)| *s)
    }
}

/// How many of `levels` (better ones first) hold a price `better` says
/// is better: those among the first [`NEAR`] counted, the rest, if all of
/// those are, found by halves (see `Ladder::position`).
#[inline(always)]
fn after_better(levels: &[(f64, f64)], better: impl Fn(f64) -> bool) -> usize {
    let near = &levels[..levels.len().min(NEAR)];
    let counted = near.iter().map(|l| usize::from(better(l.0))).sum();
    if counted < NEAR {
        counted
    } else {
        NEAR + levels[NEAR..].partition_point(|l| better(l.0))
    }
}

/// A price as an exact key: hundredths.
pub fn cents(price: f64) -> i64 {
    round_half_away(price * 100.0) as i64
}

/// `x.round()` (halves away from zero, the sign of zero kept), bit for
/// bit but for a NaN's payload (a NaN is returned as given), without the
/// library call `f64::round` becomes on baseline x86-64
/// (no SSE4.1 `roundsd`): the simulated exchange keys every price it
/// compares in hundredths, some 90,000 times in one race.
#[inline]
pub fn round_half_away(x: f64) -> f64 {
    // From 2^52 up every f64 is whole; NaN and the infinities pass too.
    if x.is_nan() || x.abs() >= 4_503_599_627_370_496.0 {
        return x;
    }
    // Below 2^52 the truncation is exact, and so is the fraction it leaves.
    let whole = x as i64 as f64;
    let fraction = x - whole;
    let rounded = if fraction >= 0.5 {
        whole + 1.0
    } else if fraction <= -0.5 {
        whole - 1.0
    } else {
        whole
    };
    rounded.copysign(x)
}

/// One runner's full depth, beyond the best levels plugins see.
#[derive(Debug, Clone, PartialEq)]
pub struct RunnerDepth {
    /// Offers available to back, best (highest) first.
    pub back: Ladder,
    /// Offers available to lay, best (lowest) first.
    pub lay: Ladder,
    /// Volume traded at each price.
    pub traded: Ladder,
    /// When the runner was withdrawn, if the venue said (bets matched
    /// after it are void).
    pub removed_at: Option<Timestamp>,
}

impl Default for RunnerDepth {
    fn default() -> Self {
        RunnerDepth {
            back: Ladder::descending(),
            lay: Ladder::ascending(),
            traded: Ladder::ascending(),
            removed_at: None,
        }
    }
}

/// One market after an update: the view plugins see, each runner's full
/// depth, and what the update changed.
#[derive(Debug, Clone, Default)]
pub struct MarketBook {
    /// The view plugins see, kept current.
    pub view: Market,
    /// Full depth, parallel to `view.runners`.
    pub depth: Vec<RunnerDepth>,
    /// Commission on net market winnings, percent, if the venue said.
    pub commission_rate: Option<f64>,
    /// The venue's version of the market's definition, if it says one
    /// (Betfair's `marketDefinition.version`): an order may carry it, so
    /// that it lapses if the definition changed before it arrived.
    pub version: Option<u64>,
    /// Indexes (into `view.runners`) of the runners the last update touched.
    pub changed: Vec<usize>,
    /// The last update replaced the market or changed its definition
    /// (status, in play, runners, results).
    pub definition_changed: bool,
}

impl MarketBook {
    /// An empty market `id` on `venue`.
    pub fn new(id: &str, venue: &str) -> Self {
        let view = Market {
            id: MarketId(id.to_owned()),
            venue: venue.to_owned(),
            ..Market::default()
        };
        MarketBook {
            view,
            ..MarketBook::default()
        }
    }

    /// Start an update: nothing changed yet.
    pub fn begin_update(&mut self, replaces: bool) {
        self.changed.clear();
        self.definition_changed = replaces;
        if replaces {
            self.view.runners.clear();
            self.depth.clear();
        }
    }

    /// Note that runner `i` changed in this update.
    pub fn touch(&mut self, i: usize) {
        if !self.changed.contains(&i) {
            self.changed.push(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_without_the_library_call_is_f64_round_bit_for_bit() {
        let two52 = 4_503_599_627_370_496.0_f64;
        let mut xs = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            -2.5,
            0.499_999_999_999_999_94,
            -0.499_999_999_999_999_94,
            two52 - 0.5,
            -(two52 - 0.5),
            two52,
            two52 * 3.0,
            f64::MAX,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            1.015 * 100.0,
            2.675 * 100.0,
        ];
        // Every hundredth of a price from 1.01 to 1000 as the exchange
        // computes it, and a spread of bit patterns from a fixed generator.
        xs.extend((101..=100_000).map(|c| c as f64 / 100.0 * 100.0));
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let x = f64::from_bits(state);
            xs.extend([x, x % 1e6, (state >> 11) as f64 / 1024.0 - 4e12]);
        }
        for x in xs {
            let (ours, std) = (round_half_away(x), x.round());
            assert!(
                ours.to_bits() == std.to_bits() || (ours.is_nan() && std.is_nan()),
                "{x:e}: {ours:e} against {std:e}"
            );
        }
    }

    #[test]
    fn ladders_insert_update_and_remove_in_price_order() {
        let mut back = Ladder::descending();
        // Each change says which level it changed, 0 the best.
        assert_eq!(back.set(2.0, 5.0), Some(0));
        assert_eq!(back.set(2.1, 3.0), Some(0));
        assert_eq!(back.set(1.9, 1.0), Some(2));
        assert_eq!(back.set(2.0, 7.0), Some(1));
        assert_eq!(back.levels(), &[(2.1, 3.0), (2.0, 7.0), (1.9, 1.0)]);
        assert_eq!(back.set(2.1, 0.0), Some(0));
        assert_eq!(back.set(5.0, 0.0), None);
        assert_eq!(back.levels(), &[(2.0, 7.0), (1.9, 1.0)]);
        assert_eq!(back.size_at(1.9000000001), 1.0);
        let mut lay = Ladder::ascending();
        lay.set(2.1, 3.0);
        lay.set(2.0, 5.0);
        assert_eq!(lay.levels(), &[(2.0, 5.0), (2.1, 3.0)]);
        // A price that is not a number changes nothing.
        assert_eq!(lay.set(f64::NAN, 1.0), None);
        assert_eq!(lay.levels(), &[(2.0, 5.0), (2.1, 3.0)]);
    }

    /// The search agrees with a sorted reference (std's binary search
    /// under `total_cmp`) over random changes on a price grid, both ways:
    /// a grid of 60 prices, whose ladders hover about the levels counted
    /// before the search by halves takes over, and one of 400, deeper.
    #[test]
    fn ladders_agree_with_a_sorted_reference() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for (descending, grid) in [(true, 60), (false, 60), (true, 400), (false, 400)] {
            let mut ladder = if descending {
                Ladder::descending()
            } else {
                Ladder::ascending()
            };
            let mut reference: Vec<(f64, f64)> = Vec::new();
            for _ in 0..20_000 {
                let price = 1.0 + f64::from(rng.random_range(0..grid)) / 20.0;
                let size = if rng.random_range(0..3) == 0 {
                    0.0
                } else {
                    f64::from(rng.random_range(1..100u32))
                };
                let at = reference.binary_search_by(|(p, _)| {
                    if descending {
                        price.total_cmp(p)
                    } else {
                        p.total_cmp(&price)
                    }
                });
                let expected = match (at, size == 0.0) {
                    (Ok(i), true) => {
                        reference.remove(i);
                        Some(i)
                    }
                    (Ok(i), false) => {
                        reference[i].1 = size;
                        Some(i)
                    }
                    (Err(_), true) => None,
                    (Err(i), false) => {
                        reference.insert(i, (price, size));
                        Some(i)
                    }
                };
                assert_eq!(ladder.set(price, size), expected);
                assert_eq!(ladder.levels(), reference.as_slice());
            }
        }
    }
}

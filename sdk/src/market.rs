//! The typed market view a strategy reads: a [`Market`] with its
//! [`Runner`]s and their best-price [`Levels`]. The SDK keeps one per market
//! inside the plugin and updates it from the host's packed deltas, so
//! reading it costs no host call.

use crate::ladder::Price;
use crate::types::{MarketId, MarketStatus, RunnerStatus, SelectionId, Timestamp};

/// Deepest ladder the view keeps per side (Betfair shows at most 10 levels).
pub const MAX_DEPTH: usize = 10;

/// A price and the stake available (or traded) at it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PriceSize {
    /// The price.
    pub price: Price,
    /// The stake.
    pub size: f64,
}

impl PriceSize {
    /// A level.
    pub fn new(price: f64, size: f64) -> Self {
        PriceSize {
            price: Price(price),
            size,
        }
    }
}

/// One side of a runner's ladder, best price first; fixed capacity so that
/// updating it never allocates. Slots past `len` are left as they were
/// (clearing is one store); equality and `Debug` see only the levels held.
#[derive(Clone, Copy, Default)]
pub struct Levels {
    len: u8,
    levels: [PriceSize; MAX_DEPTH],
}

impl PartialEq for Levels {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl std::fmt::Debug for Levels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl Levels {
    /// Levels from a slice, best first (extra levels past [`MAX_DEPTH`] are dropped).
    pub fn from_slice(levels: &[PriceSize]) -> Self {
        let mut out = Levels::default();
        for level in levels.iter().take(MAX_DEPTH) {
            out.push(*level);
        }
        out
    }

    /// The best [`MAX_DEPTH`] of `levels` as `(price, size)`, best first,
    /// in place of these (a view refreshed from a venue's full ladder).
    #[inline]
    pub fn set_pairs(&mut self, levels: &[(f64, f64)]) {
        let n = levels.len().min(MAX_DEPTH);
        for (to, &(price, size)) in self.levels.iter_mut().zip(&levels[..n]) {
            *to = PriceSize {
                price: Price(price),
                size,
            };
        }
        self.len = n as u8;
    }

    /// Append a level below the current worst; ignored once full.
    #[inline]
    pub fn push(&mut self, level: PriceSize) {
        if (self.len as usize) < MAX_DEPTH {
            self.levels[self.len as usize] = level;
            self.len += 1;
        }
    }

    /// Remove every level.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// The best level, if any.
    #[inline]
    pub fn best(&self) -> Option<PriceSize> {
        self.as_slice().first().copied()
    }

    /// The levels, best first.
    #[inline]
    pub fn as_slice(&self) -> &[PriceSize] {
        &self.levels[..self.len as usize]
    }

    /// Number of levels.
    #[inline]
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// True if there are none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Total stake over all levels.
    pub fn total_size(&self) -> f64 {
        self.as_slice().iter().map(|l| l.size).sum()
    }
}

/// One runner as last published.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Runner {
    /// The venue's id.
    pub selection_id: SelectionId,
    /// Its standing.
    pub status: RunnerStatus,
    /// Reduction factor (percent) if it is removed.
    pub adjustment_factor: f64,
    /// Last traded price.
    pub last_traded: Option<Price>,
    /// Total traded on it.
    pub traded_volume: f64,
    /// Available to back, best (highest) first.
    pub back: Levels,
    /// Available to lay, best (lowest) first.
    pub lay: Levels,
    /// Projected SP, near side.
    pub sp_near: Option<f64>,
    /// Projected SP, far side.
    pub sp_far: Option<f64>,
    /// Betfair Starting Price once reconciled.
    pub bsp: Option<f64>,
}

impl Runner {
    /// A runner with no prices.
    pub fn new(selection_id: u64) -> Self {
        Runner {
            selection_id: SelectionId(selection_id),
            ..Runner::default()
        }
    }

    /// The best price available to back.
    #[inline]
    pub fn best_back(&self) -> Option<PriceSize> {
        self.back.best()
    }

    /// The best price available to lay.
    #[inline]
    pub fn best_lay(&self) -> Option<PriceSize> {
        self.lay.best()
    }

    /// True while it is running and not settled.
    #[inline]
    pub fn is_active(&self) -> bool {
        self.status == RunnerStatus::Active
    }
}

/// A market as last published, with every runner.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Market {
    /// The venue's market id.
    pub id: MarketId,
    /// The venue, e.g. `betfair`.
    pub venue: String,
    /// Event type id (`7` horses, `4339` greyhounds).
    pub event_type: String,
    /// `WIN`, `PLACE`, ...
    pub market_type: String,
    /// Country code.
    pub country: Option<String>,
    /// Scheduled start.
    pub start_time: Timestamp,
    /// Status.
    pub status: MarketStatus,
    /// True once the event runs.
    pub in_play: bool,
    /// Seconds of in-play delay.
    pub bet_delay: u32,
    /// Winners paid (places for PLACE markets).
    pub number_of_winners: u32,
    /// Total matched.
    pub total_matched: f64,
    /// When the venue published this state.
    pub publish_time: Timestamp,
    /// Every runner in the venue's order.
    pub runners: Vec<Runner>,
}

impl Market {
    /// An open WIN market on Betfair with no runners yet.
    pub fn new(id: &str) -> Self {
        Market {
            id: MarketId::from(id),
            venue: "betfair".into(),
            event_type: "7".into(),
            market_type: "WIN".into(),
            status: MarketStatus::Open,
            number_of_winners: 1,
            ..Market::default()
        }
    }

    /// A runner by id.
    pub fn runner(&self, id: SelectionId) -> Option<&Runner> {
        self.runners.iter().find(|r| r.selection_id == id)
    }

    /// Runners still running.
    pub fn active_runners(&self) -> impl Iterator<Item = &Runner> {
        self.runners.iter().filter(|r| r.is_active())
    }

    /// True when orders can be placed.
    pub fn is_open(&self) -> bool {
        self.status == MarketStatus::Open
    }

    /// Book percentage of the best back prices of active runners.
    pub fn back_book_percentage(&self) -> f64 {
        crate::odds::book_percentage(
            self.active_runners()
                .filter_map(|r| r.best_back().map(|l| l.price)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_equal_by_the_levels_they_hold_not_by_cleared_slots() {
        let level = |price, size| PriceSize {
            price: Price(price),
            size,
        };
        let mut used = Levels::from_slice(&[level(2.0, 5.0), level(1.9, 3.0)]);
        used.clear();
        assert_eq!(used, Levels::default());
        assert_eq!(format!("{used:?}"), "[]");
        used.push(level(3.0, 1.0));
        assert_eq!(used, Levels::from_slice(&[level(3.0, 1.0)]));
        assert_ne!(
            used,
            Levels::from_slice(&[level(3.0, 1.0), level(1.9, 3.0)])
        );
    }

    #[test]
    fn set_pairs_keeps_the_best_max_depth_in_place_of_what_was_there() {
        let pairs: Vec<(f64, f64)> = (0..MAX_DEPTH + 3)
            .map(|i| (10.0 - i as f64, i as f64))
            .collect();
        let as_levels = |pairs: &[(f64, f64)]| -> Vec<PriceSize> {
            let level = |&(price, size)| PriceSize {
                price: Price(price),
                size,
            };
            pairs.iter().take(MAX_DEPTH).map(level).collect()
        };
        let mut levels = Levels::default();
        for n in [MAX_DEPTH + 3, MAX_DEPTH, 2, 0, 5] {
            levels.set_pairs(&pairs[..n]);
            assert_eq!(levels.as_slice(), as_levels(&pairs[..n]).as_slice(), "{n}");
        }
    }
}

//! What the simulated exchange reads off one runner of the market cache:
//! the offers an order can take, the size displayed where it would rest,
//! the volume traded at a price; and [`UsedVolume`], which stops one
//! strategy's orders from taking the same displayed volume twice.

use foldhash::HashMap;

use clever_sdk::{Levels, PriceSize, Runner, SelectionId, Side};

use clever_market::RunnerDepth;
pub use clever_market::{cents, round2};

/// One runner as the exchange sees it.
#[derive(Clone, Copy)]
pub struct RunnerView<'a> {
    /// Full ladders and traded volume.
    pub full: &'a RunnerDepth,
    /// The best levels (what plugins see).
    pub view: &'a Runner,
}

impl RunnerView<'_> {
    /// The offers an order on `side` can take, best first: a back takes
    /// what is available to back (layers' offers), a lay what is available
    /// to lay.
    pub fn offers(&self, side: Side) -> &[PriceSize] {
        match side {
            Side::Back => self.view.back.as_slice(),
            Side::Lay => self.view.lay.as_slice(),
        }
    }

    /// The size displayed at `price` on the side an unmatched order on
    /// `side` joins: a back rests among the backers' offers (available to
    /// lay), a lay among the layers' (available to back).
    pub fn resting_size(&self, side: Side, price: f64) -> f64 {
        let (full, levels) = match side {
            Side::Back => (&self.full.lay, &self.view.lay),
            Side::Lay => (&self.full.back, &self.view.back),
        };
        if full.is_empty() {
            size_in_levels(levels, price)
        } else {
            full.size_at(price)
        }
    }

    /// Total volume traded at `price` so far.
    pub fn traded_at(&self, price: f64) -> f64 {
        self.full.traded.size_at(price)
    }

    /// Total volume traded so far through an order resting at `price` on
    /// `side`: at prices worse, for the other side, than the order's (a
    /// lay's: lower; a back's: higher). On the exchange such volume trades
    /// only once everything resting at `price` has been filled, ours too.
    pub fn traded_through(&self, side: Side, price: f64) -> f64 {
        let key = cents(price);
        let through = |p: f64| match side {
            Side::Back => cents(p) > key,
            Side::Lay => cents(p) < key,
        };
        let levels = self.full.traded.levels().iter();
        levels.filter(|(p, _)| through(*p)).map(|(_, s)| *s).sum()
    }
}

fn size_in_levels(levels: &Levels, price: f64) -> f64 {
    let key = cents(price);
    levels
        .as_slice()
        .iter()
        .find(|l| cents(l.price.get()) == key)
        .map_or(0.0, |l| l.size)
}

/// Displayed volume one strategy has already taken, per runner, side and
/// price. It is remembered until the displayed size at that price changes
/// (the stream then shows the book after our fills, or a new offer).
#[derive(Debug, Default, Clone)]
pub struct UsedVolume {
    taken: HashMap<(SelectionId, Side, i64), Taken>,
}

#[derive(Debug, Clone, Copy)]
struct Taken {
    displayed: f64,
    used: f64,
}

impl UsedVolume {
    /// What is left of `displayed` at `price` for an order on `side`.
    pub fn available(&self, selection: SelectionId, side: Side, price: f64, displayed: f64) -> f64 {
        match self.taken.get(&(selection, side, cents(price))) {
            Some(t) if t.displayed == displayed => (displayed - t.used).max(0.0),
            _ => displayed,
        }
    }

    /// Record that `size` of `displayed` at `price` was taken.
    pub fn take(
        &mut self,
        selection: SelectionId,
        side: Side,
        price: f64,
        displayed: f64,
        size: f64,
    ) {
        let entry = self
            .taken
            .entry((selection, side, cents(price)))
            .or_insert(Taken {
                displayed,
                used: 0.0,
            });
        if entry.displayed != displayed {
            *entry = Taken {
                displayed,
                used: 0.0,
            };
        }
        entry.used += size;
    }
}

/// Match an order on `side` at limit `limit` for `size` against `offers`
/// (best first): every offer at the limit or better, at the offer's price,
/// up to what is still unused. Returns (price, size) fills, best first.
pub fn cross(
    side: Side,
    limit: f64,
    size: f64,
    selection: SelectionId,
    offers: &[PriceSize],
    used: &mut UsedVolume,
) -> Vec<(f64, f64)> {
    let mut fills = Vec::new();
    let mut left = round2(size);
    for offer in offers {
        let price = offer.price.get();
        let crosses = match side {
            Side::Back => cents(price) >= cents(limit),
            Side::Lay => cents(price) <= cents(limit),
        };
        if !crosses || left <= 0.0 {
            break;
        }
        let free = round2(used.available(selection, side, price, offer.size));
        let take = free.min(left);
        if take <= 0.0 {
            continue;
        }
        used.take(selection, side, price, offer.size, take);
        fills.push((price, take));
        left = round2(left - take);
    }
    fills
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offers(levels: &[(f64, f64)]) -> Vec<PriceSize> {
        levels.iter().map(|&(p, s)| PriceSize::new(p, s)).collect()
    }

    #[test]
    fn a_crossing_back_takes_every_price_at_or_above_its_limit_best_first() {
        let mut used = UsedVolume::default();
        let book = offers(&[(3.1, 5.0), (3.0, 4.0), (2.98, 100.0)]);
        let fills = cross(Side::Back, 3.0, 12.0, SelectionId(1), &book, &mut used);
        // Partly matched: 9 of 12 at 3.1 and 3.0; 2.98 is below the limit.
        assert_eq!(fills, vec![(3.1, 5.0), (3.0, 4.0)]);
    }

    #[test]
    fn a_crossing_lay_takes_every_price_at_or_below_its_limit() {
        let mut used = UsedVolume::default();
        let book = offers(&[(2.0, 3.0), (2.02, 10.0), (2.04, 10.0)]);
        let fills = cross(Side::Lay, 2.02, 5.0, SelectionId(1), &book, &mut used);
        assert_eq!(fills, vec![(2.0, 3.0), (2.02, 2.0)]);
    }

    #[test]
    fn the_same_displayed_volume_is_never_used_twice() {
        let mut used = UsedVolume::default();
        let book = offers(&[(2.0, 3.0)]);
        let first = cross(Side::Lay, 2.0, 2.0, SelectionId(1), &book, &mut used);
        let second = cross(Side::Lay, 2.0, 2.0, SelectionId(1), &book, &mut used);
        assert_eq!(first, vec![(2.0, 2.0)]);
        assert_eq!(second, vec![(2.0, 1.0)]);
        assert!(cross(Side::Lay, 2.0, 2.0, SelectionId(1), &book, &mut used).is_empty());
        // A new displayed size at that price is a new book: usable again.
        let refreshed = offers(&[(2.0, 7.0)]);
        let third = cross(Side::Lay, 2.0, 2.0, SelectionId(1), &refreshed, &mut used);
        assert_eq!(third, vec![(2.0, 2.0)]);
        // Another runner's volume is its own.
        let other = cross(Side::Lay, 2.0, 2.0, SelectionId(2), &book, &mut used);
        assert_eq!(other, vec![(2.0, 2.0)]);
    }
}

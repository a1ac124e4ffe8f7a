//! A seeded synthetic racing market: `runners` runners with `depth` ladder
//! levels a side, each update moving one runner's prices a tick or two.
//! The same seed gives the same sequence of updates, byte for byte.

use clever_sdk::ladder::{Rounding, round_to_ladder};
use clever_sdk::{Levels, Market, Price, PriceSize, Runner, Timestamp};
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Milliseconds between a synthetic market's updates.
pub const STEP_MS: i64 = 200;

/// A market that changes one runner per update.
pub struct SyntheticMarket {
    market: Market,
    rng: ChaCha8Rng,
    depth: usize,
    changed: [usize; 1],
}

impl SyntheticMarket {
    /// A pre-off WIN market `id` starting at `start`, with `runners` runners.
    pub fn new(id: &str, seed: u64, runners: usize, depth: usize, start: Timestamp) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut market = Market::new(id);
        market.country = Some("GB".into());
        market.start_time = start;
        market.publish_time = start.plus_millis(-600_000);
        // Win chances skewed like a real field (a few fancied, a long tail),
        // priced with a 4% overround.
        let weights: Vec<f64> = (0..runners)
            .map(|_| (0.05 + rng.random::<f64>() * 0.95).powi(3))
            .collect();
        let total: f64 = weights.iter().sum();
        for (i, w) in weights.iter().enumerate() {
            let mut runner = Runner::new(1000 + i as u64);
            let fair = total / (w * 1.04);
            let best_back = round_to_ladder(Price(fair), Rounding::Down).unwrap_or(Price::MIN);
            set_ladder(&mut runner, best_back, depth, &mut rng);
            market.runners.push(runner);
        }
        SyntheticMarket {
            market,
            rng,
            depth,
            changed: [0],
        }
    }

    /// The runner with the lowest best back price.
    pub fn favourite(&self) -> Option<usize> {
        (0..self.market.runners.len()).min_by(|&a, &b| {
            let price = |i: usize| {
                self.market.runners[i]
                    .best_back()
                    .map_or(f64::MAX, |l| l.price.get())
            };
            price(a).total_cmp(&price(b))
        })
    }

    /// Turn the market in play (or back): later updates carry the flag.
    pub fn set_in_play(&mut self, in_play: bool) {
        self.market.in_play = in_play;
    }

    /// The market as it stands.
    pub fn market(&self) -> &Market {
        &self.market
    }

    /// Advance [`STEP_MS`] and move one runner; returns the market and the
    /// index of the runner that changed.
    pub fn step(&mut self) -> (&Market, &[usize]) {
        // In play, every other update the favourite shortens a tick, as a
        // leader's price does through a race; otherwise a random walk.
        let lead = self.market.in_play && self.rng.random_range(0..2) == 0;
        let i = match self.favourite().filter(|_| lead) {
            Some(f) => f,
            None => self.rng.random_range(0..self.market.runners.len()),
        };
        let runner = &mut self.market.runners[i];
        let best = runner.best_back().map_or(Price(3.0), |l| l.price);
        let ticks = if lead {
            -1
        } else {
            self.rng.random_range(-2..=2)
        };
        let moved = best.ticks(ticks).unwrap_or(best);
        let traded = self.rng.random::<f64>() * 20.0;
        runner.traded_volume += traded;
        runner.last_traded = Some(moved);
        self.market.total_matched += traded;
        set_ladder(runner, moved, self.depth, &mut self.rng);
        self.market.publish_time = self.market.publish_time.plus_millis(STEP_MS);
        self.changed[0] = i;
        (&self.market, &self.changed)
    }
}

fn set_ladder(runner: &mut Runner, best_back: Price, depth: usize, rng: &mut impl Rng) {
    let mut back = Levels::default();
    let mut lay = Levels::default();
    for level in 0..depth {
        // Whole pennies, as the venue publishes them.
        let size = |rng: &mut dyn Rng| ((rng.random::<f64>() * 20_000.0).round() + 200.0) / 100.0;
        if let Some(p) = best_back.ticks(-(level as i32)) {
            back.push(PriceSize {
                price: p,
                size: size(rng),
            });
        }
        if let Some(p) = best_back.ticks(level as i32 + 1) {
            lay.push(PriceSize {
                price: p,
                size: size(rng),
            });
        }
    }
    runner.back = back;
    runner.lay = lay;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_updates_and_prices_stay_on_the_ladder() {
        let mut a = SyntheticMarket::new("1.1", 7, 14, 3, Timestamp(0));
        let mut b = SyntheticMarket::new("1.1", 7, 14, 3, Timestamp(0));
        for _ in 0..500 {
            let (ma, ca) = a.step();
            let (mb, cb) = b.step();
            assert_eq!(ma, mb);
            assert_eq!(ca, cb);
        }
        for r in &a.market().runners {
            assert_eq!(r.back.len(), 3);
            let best_back = r.best_back().unwrap().price;
            let best_lay = r.best_lay().unwrap().price;
            assert!(best_back.is_on_ladder() && best_lay.is_on_ladder());
            assert!(best_lay.get() > best_back.get());
        }
    }
}

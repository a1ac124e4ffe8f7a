//! [`MonteCarlo`]: how much of a result was the order and luck of the
//! markets. The traded markets' profits are resampled with replacement
//! (a bootstrap, as many markets as the run traded) `samples` times from
//! a seeded generator; each sample is played as an equity curve from the
//! bankroll. Same points, same seed: the same figures, on any machine.

use clever_market::Money;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::metrics::{Bankroll, MarketPoint};

/// The settings of one resampling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonteCarlo {
    /// Samples drawn.
    pub samples: u32,
    /// The generator's seed.
    pub seed: u64,
    /// The share of the bankroll (0 to 1) whose loss counts as ruin.
    pub ruin: f64,
}

/// Percentiles of one figure over the samples (nearest rank).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// 5th percentile.
    pub p5: Money,
    /// 25th.
    pub p25: Money,
    /// The median.
    pub p50: Money,
    /// 75th.
    pub p75: Money,
    /// 95th.
    pub p95: Money,
}

/// What the resampling found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resampled {
    /// Samples drawn.
    pub samples: u32,
    /// The seed.
    pub seed: u64,
    /// Markets in each sample (the markets the run traded).
    pub markets: u64,
    /// The final profit of the samples.
    pub final_profit: Percentiles,
    /// Their maximum drawdowns.
    pub max_drawdown: Percentiles,
    /// Share of samples that ended below zero profit.
    pub probability_of_loss: f64,
    /// The share of the bankroll whose loss counts as ruin.
    pub ruin: f64,
    /// Share of samples whose equity fell, at any point, to the bankroll
    /// less that share or below.
    pub probability_of_ruin: f64,
    /// Every sample's final profit, in ascending order (for charts; not
    /// saved).
    #[serde(skip)]
    pub final_profits: Vec<f64>,
    /// Every sample's maximum drawdown, in ascending order (not saved).
    #[serde(skip)]
    pub max_drawdowns: Vec<f64>,
}

impl MonteCarlo {
    /// Resample the traded markets of `points` against `bankroll`; none
    /// when nothing traded or no samples were asked for.
    pub fn run(&self, points: &[MarketPoint], bankroll: Bankroll) -> Option<Resampled> {
        let profits: Vec<i64> = (points.iter())
            .filter(|p| p.traded())
            .map(|p| p.profit.to_pennies())
            .collect();
        if profits.is_empty() || self.samples == 0 {
            return None;
        }
        let start = bankroll.money().to_pennies();
        let floor = start as f64 * (1.0 - self.ruin.clamp(0.0, 1.0));
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut finals = Vec::with_capacity(self.samples as usize);
        let mut drawdowns = Vec::with_capacity(self.samples as usize);
        let mut ruined = 0u32;
        for _ in 0..self.samples {
            let (mut equity, mut peak, mut deepest, mut lowest) = (start, start, 0i64, start);
            for _ in 0..profits.len() {
                equity += profits[rng.random_range(0..profits.len())];
                peak = peak.max(equity);
                deepest = deepest.max(peak - equity);
                lowest = lowest.min(equity);
            }
            finals.push(equity - start);
            drawdowns.push(deepest);
            ruined += u32::from(lowest as f64 <= floor);
        }
        let lost = finals.iter().filter(|&&f| f < 0).count();
        let (final_profit, max_drawdown) = (
            Percentiles::of(&mut finals),
            Percentiles::of(&mut drawdowns),
        );
        let amounts = |pennies: &[i64]| pennies.iter().map(|&p| p as f64 / 100.0).collect();
        Some(Resampled {
            samples: self.samples,
            seed: self.seed,
            markets: profits.len() as u64,
            final_profit,
            max_drawdown,
            probability_of_loss: lost as f64 / f64::from(self.samples),
            ruin: self.ruin,
            probability_of_ruin: f64::from(ruined) / f64::from(self.samples),
            final_profits: amounts(&finals),
            max_drawdowns: amounts(&drawdowns),
        })
    }
}

impl Percentiles {
    /// Nearest rank: the p-th percentile of n sorted values is the one at
    /// rank ⌈p/100 × n⌉.
    fn of(pennies: &mut [i64]) -> Percentiles {
        pennies.sort_unstable();
        let at = |p: usize| {
            let rank = (p * pennies.len()).div_ceil(100).max(1);
            Money::from_pennies(pennies[rank - 1])
        };
        Percentiles {
            p5: at(5),
            p25: at(25),
            p50: at(50),
            p75: at(75),
            p95: at(95),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(pennies: &[i64]) -> Vec<MarketPoint> {
        (pennies.iter().enumerate())
            .map(|(i, &p)| MarketPoint {
                at: i as i64,
                matched: Money::from_pennies(100),
                commission: Money::ZERO,
                profit: Money::from_pennies(p),
            })
            .collect()
    }

    fn bankroll(pennies: i64) -> Bankroll {
        Bankroll::new(Money::from_pennies(pennies)).unwrap()
    }

    #[test]
    fn nearest_rank_percentiles_of_one_to_a_hundred_are_the_ranks() {
        let mut values: Vec<i64> = (1..=100).rev().collect();
        let p = Percentiles::of(&mut values);
        let ranks = [p.p5, p.p25, p.p50, p.p75, p.p95].map(|m| m.to_pennies());
        assert_eq!(ranks, [5, 25, 50, 75, 95]);
        let p = Percentiles::of(&mut [7]);
        assert_eq!(
            (p.p5, p.p95),
            (Money::from_pennies(7), Money::from_pennies(7))
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_figures_and_another_seed_other_ones() {
        let pts = points(&[500, -300, -300, 1200, -100, 50, -700, 300]);
        let mc = |seed| MonteCarlo {
            samples: 2_000,
            seed,
            ruin: 0.5,
        };
        let a = mc(11).run(&pts, bankroll(2_000)).unwrap();
        assert_eq!(Some(a.clone()), mc(11).run(&pts, bankroll(2_000)));
        assert_ne!(Some(a.clone()), mc(12).run(&pts, bankroll(2_000)));
        assert_eq!(a.markets, 8);
        // Every sample draws 8 of these: no final profit outside 8 × the
        // extremes, percentiles in order, drawdowns never negative.
        let f = a.final_profit;
        assert!(f.p5 >= Money::from_pennies(-5_600) && f.p95 <= Money::from_pennies(9_600));
        assert!(f.p5 <= f.p25 && f.p25 <= f.p50 && f.p50 <= f.p75 && f.p75 <= f.p95);
        assert!(a.max_drawdown.p5 >= Money::ZERO);
        assert!(a.probability_of_loss > 0.0 && a.probability_of_loss < 1.0);
    }

    #[test]
    fn certain_outcomes_resample_to_themselves() {
        // One market, always +2: every sample ends +2 with no drawdown.
        let won = MonteCarlo {
            samples: 50,
            seed: 1,
            ruin: 0.1,
        };
        let r = won.run(&points(&[200]), bankroll(1_000)).unwrap();
        assert_eq!(r.final_profit.p5, Money::from_pennies(200));
        assert_eq!(r.max_drawdown.p95, Money::ZERO);
        assert_eq!((r.probability_of_loss, r.probability_of_ruin), (0.0, 0.0));
        // Two markets losing 6 each of a bankroll of 10: every sample
        // loses 12, past half the bankroll.
        let lost = MonteCarlo {
            samples: 50,
            seed: 1,
            ruin: 0.5,
        };
        let r = lost.run(&points(&[-600, -600]), bankroll(1_000)).unwrap();
        assert_eq!(r.final_profit.p95, Money::from_pennies(-1_200));
        assert_eq!(r.max_drawdown.p5, Money::from_pennies(1_200));
        assert_eq!((r.probability_of_loss, r.probability_of_ruin), (1.0, 1.0));
    }

    #[test]
    fn nothing_traded_or_no_samples_is_no_resampling() {
        let mc = MonteCarlo {
            samples: 10,
            seed: 1,
            ruin: 0.5,
        };
        assert_eq!(mc.run(&[], bankroll(100)), None);
        let none = MonteCarlo { samples: 0, ..mc };
        assert_eq!(none.run(&points(&[100]), bankroll(100)), None);
    }
}

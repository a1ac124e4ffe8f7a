//! Walk-forward analysis over the settled markets of a sweep's parameter
//! sets: the data is cut by time into in-sample windows, each followed by
//! an out-of-sample window; the set that ranks best in each in-sample
//! window is taken for the out-of-sample window after it, and the
//! out-of-sample markets are stitched into one result.
//!
//! Every market of a backtest runs on an engine of its own with fresh
//! plugin instances, so a set's result in a window is exactly the result
//! of its markets in that window: the windows are cut from one sweep over
//! all the data instead of backtesting each window again.

use serde::{Deserialize, Serialize};

use super::metrics::{Bankroll, DAY_MS, MarketPoint, Metrics};
use super::sweep::RankBy;

/// How the in-sample windows move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Windows {
    /// Each in-sample window has the same length and moves on by the
    /// out-of-sample length.
    Rolling,
    /// Each in-sample window starts at the beginning of the data and
    /// grows by the out-of-sample length.
    Anchored,
}

/// The settings of one walk-forward analysis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WalkForward {
    /// Rolling or anchored.
    pub windows: Windows,
    /// The in-sample length (the first, for anchored), ms.
    pub in_sample_ms: i64,
    /// The out-of-sample length, ms.
    pub out_of_sample_ms: i64,
    /// The metric the best set is chosen by.
    pub rank_by: RankBy,
    /// The bankroll the metrics measure against.
    pub bankroll: Bankroll,
}

/// One step: a window pair and the set chosen in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// The in-sample window, [from, to) epoch ms.
    pub in_sample: (i64, i64),
    /// The out-of-sample window, [from, to) epoch ms.
    pub out_of_sample: (i64, i64),
    /// The index of the set chosen (best in sample).
    pub chosen: usize,
    /// Its in-sample metrics.
    pub in_sample_metrics: Metrics,
    /// Its out-of-sample metrics.
    pub out_of_sample_metrics: Metrics,
}

/// What the analysis found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Every step, in time order.
    pub steps: Vec<Step>,
    /// The out-of-sample markets of every step, stitched together.
    pub out_of_sample: Metrics,
    /// The chosen sets' in-sample markets, stitched together (markets in
    /// overlapping in-sample windows count once per window).
    pub in_sample: Metrics,
    /// Out-of-sample profit per day over in-sample profit per day; none
    /// when the in-sample profit was not above zero.
    pub efficiency: Option<f64>,
}

impl WalkForward {
    /// Analyse `sets` (each set's traded markets); none if the data does
    /// not span one in-sample and one out-of-sample window.
    pub fn analyse(&self, sets: &[Vec<MarketPoint>]) -> Option<Analysis> {
        let times = sets.iter().flatten().map(|p| p.at);
        let (start, end) = (times.clone().min()?, times.max()?);
        // Windows start at the first market's UTC midnight.
        let start = start.div_euclid(DAY_MS) * DAY_MS;
        let (mut steps, mut oos, mut is) = (Vec::new(), Vec::new(), Vec::new());
        for k in 0.. {
            let (is_window, oos_window) = self.window(start, k);
            if oos_window.0 > end {
                break;
            }
            let within = |w: (i64, i64)| move |p: &&MarketPoint| p.at >= w.0 && p.at < w.1;
            let in_sample: Vec<Vec<MarketPoint>> = (sets.iter())
                .map(|s| s.iter().filter(within(is_window)).copied().collect())
                .collect();
            let measured: Vec<Metrics> = (in_sample.iter())
                .map(|points| Metrics::of(points, self.bankroll))
                .collect();
            let chosen = self.rank_by.rank(&measured.iter().collect::<Vec<_>>())[0];
            let out: Vec<MarketPoint> = (sets[chosen].iter())
                .filter(within(oos_window))
                .copied()
                .collect();
            is.extend(in_sample[chosen].iter().copied());
            oos.extend(out.iter().copied());
            steps.push(Step {
                in_sample: is_window,
                out_of_sample: oos_window,
                chosen,
                in_sample_metrics: measured[chosen].clone(),
                out_of_sample_metrics: Metrics::of(&out, self.bankroll),
            });
        }
        if steps.is_empty() {
            return None;
        }
        let is_days: i64 = steps.iter().map(|s| s.in_sample.1 - s.in_sample.0).sum();
        let oos_days: i64 = steps
            .iter()
            .map(|s| s.out_of_sample.1 - s.out_of_sample.0)
            .sum();
        let is_metrics = Metrics::of(&is, self.bankroll);
        let oos_metrics = Metrics::of(&oos, self.bankroll);
        let per_day = |m: &Metrics, ms: i64| m.net_profit.to_f64() / (ms as f64 / DAY_MS as f64);
        let efficiency = (is_metrics.net_profit.is_positive()).then(|| {
            let e = per_day(&oos_metrics, oos_days) / per_day(&is_metrics, is_days);
            (e * 1e6).round() / 1e6
        });
        Some(Analysis {
            steps,
            out_of_sample: oos_metrics,
            in_sample: is_metrics,
            efficiency,
        })
    }

    /// The k-th in-sample and out-of-sample windows.
    fn window(&self, start: i64, k: i64) -> ((i64, i64), (i64, i64)) {
        let shift = k * self.out_of_sample_ms;
        let is_from = match self.windows {
            Windows::Rolling => start + shift,
            Windows::Anchored => start,
        };
        let is_to = start + self.in_sample_ms + shift;
        ((is_from, is_to), (is_to, is_to + self.out_of_sample_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clever_market::Money;

    /// 2024-03-01 00:00 UTC.
    const MAR_1: i64 = 1_709_251_200_000;

    fn day(d: i64, profit: i64) -> MarketPoint {
        MarketPoint {
            at: MAR_1 + d * DAY_MS + 12 * 3_600_000,
            matched: Money::from_pennies(1000),
            commission: Money::ZERO,
            profit: Money::from_pennies(profit),
        }
    }

    fn settings(windows: Windows) -> WalkForward {
        WalkForward {
            windows,
            in_sample_ms: 2 * DAY_MS,
            out_of_sample_ms: DAY_MS,
            rank_by: RankBy::NetProfit,
            bankroll: Bankroll::new(Money::from_pennies(100_000)).unwrap(),
        }
    }

    /// Two sets over six days (one market a day). Set 0 wins early and
    /// loses late; set 1 the other way round.
    fn two_sets() -> Vec<Vec<MarketPoint>> {
        let a = [300, 300, 300, -100, -100, -100];
        let b = [-100, -100, -100, 300, 300, 300];
        [a, b]
            .iter()
            .map(|profits| (0..6).map(|d| day(d, profits[d as usize])).collect())
            .collect()
    }

    #[test]
    fn rolling_windows_pick_the_in_sample_best_for_the_next_day() {
        let a = settings(Windows::Rolling).analyse(&two_sets()).unwrap();
        // In-sample days 0-1, 1-2, 2-3, 3-4; out of sample 2, 3, 4, 5.
        let chosen: Vec<usize> = a.steps.iter().map(|s| s.chosen).collect();
        // Days 2-3 tie (+200 each): the first set keeps its place.
        assert_eq!(chosen, [0, 0, 0, 1]);
        let oos: Vec<i64> = (a.steps.iter())
            .map(|s| s.out_of_sample_metrics.net_profit.to_pennies())
            .collect();
        assert_eq!(oos, [300, -100, -100, 300]);
        assert_eq!(a.out_of_sample.net_profit, Money::from_pennies(400));
        assert_eq!(a.out_of_sample.markets, 4);
        // In sample: 600 + 600 + 200 + 600 over 8 window-days = 250 a
        // day; out of sample 400 over 4 days = 100 a day.
        assert_eq!(a.in_sample.net_profit, Money::from_pennies(2000));
        assert_eq!(a.efficiency, Some(0.4));
        assert_eq!(a.steps[0].in_sample, (MAR_1, MAR_1 + 2 * DAY_MS));
        assert_eq!(
            a.steps[3].out_of_sample,
            (MAR_1 + 5 * DAY_MS, MAR_1 + 6 * DAY_MS)
        );
    }

    #[test]
    fn anchored_windows_grow_from_the_start() {
        let a = settings(Windows::Anchored).analyse(&two_sets()).unwrap();
        let windows: Vec<(i64, i64)> = a.steps.iter().map(|s| s.in_sample).collect();
        let days = |d: i64| MAR_1 + d * DAY_MS;
        assert_eq!(
            windows,
            [
                (days(0), days(2)),
                (days(0), days(3)),
                (days(0), days(4)),
                (days(0), days(5))
            ]
        );
        // In sample, set 0 makes 600, 900, 800, 700 and set 1 -200,
        // -300, 0, 300: set 0 every time.
        let chosen: Vec<usize> = a.steps.iter().map(|s| s.chosen).collect();
        assert_eq!(chosen, [0, 0, 0, 0]);
    }

    #[test]
    fn too_little_data_for_one_window_pair_is_no_analysis() {
        let sets = vec![vec![day(0, 100), day(1, 100)]];
        assert_eq!(settings(Windows::Rolling).analyse(&sets), None);
        assert_eq!(settings(Windows::Rolling).analyse(&[]), None);
    }
}

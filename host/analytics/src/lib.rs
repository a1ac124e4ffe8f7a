//! # clever-analytics: what a run's results say
//!
//! A strategy version's run ends as a sequence of settled markets, each
//! with its time, matched stake, commission and net profit
//! ([`MarketPoint`]). From it this crate computes the performance
//! metrics traders decide by ([`Metrics`]: drawdown, strike rate, profit
//! factor, Sharpe, Sortino, Calmar, ...) and resamples it to see how
//! much of the result was luck ([`monte_carlo`]). Every definition, with
//! its edge cases, is written down in `docs/METRICS.md`. [`sweep`] makes
//! the parameter sets of a sweep from grids and ranks their results;
//! [`walk_forward`] cuts a sweep's markets into in-sample and
//! out-of-sample windows. [`compare`] pairs one run's orders with
//! another's (a live session against a backtest of its recording).
//!
//! Owns: the metric definitions, the bootstrap, grids and ranking, the
//! walk-forward windows, the pairing of two runs' orders.
//! Does not know: where the points came from (backtest, paper, live),
//! plugins, venues, the database, how figures are shown.

pub mod compare;
pub mod metrics;
pub mod monte_carlo;
pub mod sweep;
pub mod walk_forward;

pub use compare::{Comparison, Placed};
pub use metrics::{Bankroll, Day, MarketPoint, Metrics};
pub use monte_carlo::{MonteCarlo, Percentiles, Resampled};
pub use sweep::{Grid, RankBy};
pub use walk_forward::{Analysis, WalkForward, Windows};

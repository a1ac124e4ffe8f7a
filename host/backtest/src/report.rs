//! The backtest report: totals per strategy over every market, added up in
//! file order.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::run::FileOutcome;
use clever_analytics::{Bankroll, MarketPoint, Metrics, MonteCarlo, Resampled};
use clever_engine::desk::{FIRST_WARNINGS, keep_first_warning};
use clever_market::{Figures, MarketResult};
use clever_runtime::LoadedPlugin;

/// What `clever backtest --json` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Markets run.
    pub markets: u64,
    /// Market updates handled.
    pub updates: u64,
    /// Wall time, milliseconds (set by the caller).
    pub elapsed_ms: u64,
    /// One entry per plugin, in the order given.
    pub strategies: Vec<StrategyReport>,
}

/// One strategy's totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyReport {
    /// Strategy name.
    pub name: String,
    /// Its semver version.
    pub version: String,
    /// Orders, matched stake, profit: the sums of every market's.
    #[serde(flatten)]
    pub figures: Figures,
    /// Net profit over matched stake (0 when nothing matched).
    pub roi: f64,
    /// Refused orders by reason.
    pub rejected: BTreeMap<String, u64>,
    /// What the sandbox refused the plugin, by what (log lines, signals,
    /// rate-limited orders, state writes, timers); only those that happened.
    pub sandbox_refused: BTreeMap<String, u64>,
    /// Faults (trap, fuel, memory, ...).
    pub faults: u64,
    /// Quarantined in any market file.
    pub quarantined: bool,
    /// Log lines of level warn or error it wrote.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub warnings: u64,
    /// The first few different ones, in file order (every different one
    /// if there are fewer than three).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub first_warnings: Vec<String>,
    /// Its performance over the settled markets ([`Report::measure`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Metrics>,
    /// Its settled markets resampled ([`Report::measure`] with a
    /// [`MonteCarlo`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monte_carlo: Option<Resampled>,
    /// Each market it traded, in file order: what the metrics are made of.
    #[serde(skip)]
    pub points: Vec<MarketPoint>,
    /// The id of each market in `points`, in the same order.
    #[serde(skip)]
    pub market_ids: Vec<String>,
}

impl Report {
    /// Work out every strategy's metrics against `bankroll`, and resample
    /// its markets if `monte_carlo` is asked for.
    pub fn measure(&mut self, bankroll: Bankroll, monte_carlo: Option<MonteCarlo>) {
        for s in &mut self.strategies {
            s.metrics = Some(Metrics::of(&s.points, bankroll));
            s.monte_carlo = monte_carlo.and_then(|mc| mc.run(&s.points, bankroll));
        }
    }
}

/// A settled market as a point of the equity curve: settled when its last
/// order was; none if it had no order.
pub fn point(market: &MarketResult) -> Option<MarketPoint> {
    let at = market.settled.iter().map(|o| o.settled_at.0).max()?;
    Some(MarketPoint {
        at,
        matched: market.figures.matched,
        commission: market.figures.commission,
        profit: market.figures.profit,
    })
}

/// Adds per-file outcomes up, strictly in file order (the sums are exact
/// anyway; the order keeps the report's lists stable).
pub struct Totals {
    report: Report,
}

impl Totals {
    /// Zero totals for these plugins.
    pub fn new(plugins: &[Arc<LoadedPlugin>]) -> Self {
        let strategies = plugins
            .iter()
            .map(|p| StrategyReport {
                name: p.descriptor().name.clone(),
                version: p.descriptor().version.clone(),
                figures: Figures::default(),
                roi: 0.0,
                rejected: BTreeMap::new(),
                sandbox_refused: BTreeMap::new(),
                faults: 0,
                quarantined: false,
                warnings: 0,
                first_warnings: Vec::new(),
                metrics: None,
                monte_carlo: None,
                points: Vec::new(),
                market_ids: Vec::new(),
            })
            .collect();
        Totals {
            report: Report {
                markets: 0,
                updates: 0,
                elapsed_ms: 0,
                strategies,
            },
        }
    }

    /// Add the next file's outcome.
    pub fn add(&mut self, file: &FileOutcome) {
        let r = &mut self.report;
        r.markets += file.markets;
        r.updates += file.updates;
        for (total, outcome) in r.strategies.iter_mut().zip(&file.strategies) {
            for m in &outcome.markets {
                total.figures += &m.figures;
                if let Some(p) = point(m).filter(MarketPoint::traded) {
                    total.points.push(p);
                    total.market_ids.push(m.market_id.clone());
                }
            }
            for (reason, n) in &outcome.tally.rejected {
                *total.rejected.entry(reason.clone()).or_default() += n;
            }
            for (what, n) in outcome.dropped.refusals() {
                *total.sandbox_refused.entry(what.to_owned()).or_default() += n;
            }
            total.faults += outcome.faults.len() as u64;
            total.quarantined |= outcome.quarantined;
            total.warnings += outcome.tally.warnings;
            for message in &outcome.tally.first_warnings {
                keep_first_warning(&mut total.first_warnings, message);
            }
        }
    }

    /// The report.
    pub fn finish(mut self) -> Report {
        for s in &mut self.report.strategies {
            s.roi = s.figures.roi();
        }
        self.report
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// What a strategy's warnings come to, to tell the user once at the end of
/// a backtest (where the host's log leaves them out): none if it wrote none.
/// `first` holds the first different ones; fewer than
/// [`FIRST_WARNINGS`] means every different one.
pub fn logged_warnings(
    name: &str,
    version: &str,
    warnings: u64,
    first: &[String],
) -> Option<String> {
    if warnings == 0 {
        return None;
    }
    let listed: Vec<String> = (first.iter())
        .map(|m| format!("\"{}\"", clever_runtime::printable(m)))
        .collect();
    let listed = listed.join(", ");
    let count = match warnings {
        1 => "a warning".to_owned(),
        n => format!("{n} warnings"),
    };
    let tag = format!("{name}@{version} logged {count}");
    Some(match first.len() {
        k if k as u64 == warnings => format!("{tag}: {listed}"),
        1 => format!("{tag}, each {listed}"),
        k if k < FIRST_WARNINGS => format!("{tag}, each one of {listed}"),
        _ => format!("{tag}, among them {listed}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_told_in_a_line() {
        let said = |n, first: &[&str]| {
            let first: Vec<String> = first.iter().map(|m| m.to_string()).collect();
            logged_warnings("p", "1.0.0", n, &first)
        };
        assert_eq!(said(0, &[]), None);
        assert_eq!(said(1, &["a"]).unwrap(), r#"p@1.0.0 logged a warning: "a""#);
        assert_eq!(
            said(2, &["a", "b"]).unwrap(),
            r#"p@1.0.0 logged 2 warnings: "a", "b""#
        );
        assert_eq!(
            said(9, &["a"]).unwrap(),
            r#"p@1.0.0 logged 9 warnings, each "a""#
        );
        assert_eq!(
            said(9, &["a", "b"]).unwrap(),
            r#"p@1.0.0 logged 9 warnings, each one of "a", "b""#
        );
        assert_eq!(
            said(9, &["a", "b", "c"]).unwrap(),
            r#"p@1.0.0 logged 9 warnings, among them "a", "b", "c""#
        );
    }
}

//! Backtests of strategies that trade order-book instruments (WIT 1.1):
//! the events of every instrument, in time order, through one engine and
//! a simulated order book per strategy ([`BookSim`]), under risk's limits
//! as in any mode. Instruments trade continuously, so there are no markets to
//! spread over threads: one run is one pass. The report is each
//! strategy's closed trades, in money and in R multiples.

use std::sync::Arc;

use anyhow::Context;
use clever_engine::{Desk, Engine, SimClock};
use clever_market::{Decimal, InstrumentEvent, TradeRecord};
use clever_risk::{RiskBook, RiskLimits};
use clever_runtime::{LoadedPlugin, Runtime};
use clever_sdk::{InstrumentInfo, Timestamp};
use clever_sim::{BookSim, BookSimConfig, SimConfig, SimVenue};
use serde::Serialize;

/// A backtest over instruments.
pub struct PerpBacktest<'a> {
    /// The runtime plugins run in.
    pub runtime: &'a Runtime,
    /// The strategies.
    pub plugins: Vec<Arc<LoadedPlugin>>,
    /// Their parameters (JSON).
    pub params: String,
    /// The instruments' rules.
    pub rules: Vec<InstrumentInfo>,
    /// Fees, funding, leverage.
    pub book: BookSimConfig,
    /// Each strategy's risk limits.
    pub risk: RiskLimits,
}

/// What one strategy did.
#[derive(Debug, Clone, Serialize)]
pub struct PerpReport {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Events delivered to it.
    pub events: u64,
    /// Orders accepted.
    pub orders: u64,
    /// Refusals by reason.
    pub rejected: std::collections::BTreeMap<String, u64>,
    /// Figures of its closed trades.
    pub summary: TradeSummary,
    /// Its closed trades, oldest first.
    pub trades: Vec<TradeRecord>,
    /// Faults, if any.
    pub faults: usize,
    /// Log lines of level warn or error it wrote.
    #[serde(skip_serializing_if = "is_zero")]
    pub warnings: u64,
    /// The first few of them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub first_warnings: Vec<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Figures over closed trades. Money is exact; R multiples are of trades
/// that named a stop.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TradeSummary {
    /// Trades closed.
    pub trades: usize,
    /// Of them, with a profit.
    pub wins: usize,
    /// Profit after fees and funding.
    pub pnl: Decimal,
    /// Fees.
    pub fees: Decimal,
    /// Funding paid (negative: received).
    pub funding: Decimal,
    /// Sum of R multiples.
    pub total_r: Decimal,
    /// Mean R multiple (expectancy in R), over trades with a stop.
    pub mean_r: Option<Decimal>,
}

impl TradeSummary {
    /// The figures of `trades`.
    pub fn of(trades: &[TradeRecord]) -> TradeSummary {
        let rs: Vec<Decimal> = trades.iter().filter_map(|t| t.r_multiple).collect();
        let total_r: Decimal = rs.iter().sum();
        TradeSummary {
            trades: trades.len(),
            wins: trades.iter().filter(|t| t.pnl > Decimal::ZERO).count(),
            pnl: trades.iter().map(|t| t.pnl).sum(),
            fees: trades.iter().map(|t| t.fees).sum(),
            funding: trades.iter().map(|t| t.funding).sum(),
            total_r,
            mean_r: (!rs.is_empty()).then(|| (total_r / Decimal::from(rs.len())).round_dp(4)),
        }
    }
}

impl PerpBacktest<'_> {
    /// Run `events` (in time order) through every strategy.
    pub fn run(
        &self,
        events: impl IntoIterator<Item = InstrumentEvent>,
    ) -> anyhow::Result<Vec<PerpReport>> {
        let mut engine = Engine::new(SimClock::default());
        for plugin in &self.plugins {
            let book = BookSim::new(self.book.clone(), self.rules.iter().cloned());
            // A betting venue too: a desk has one; these strategies leave it idle.
            let desk = Desk::new(
                RiskBook::new(self.risk.clone()),
                Box::new(SimVenue::new(SimConfig::default())),
            )
            .with_book_venue(Box::new(book));
            let instance = (self.runtime)
                .instantiate(plugin, &self.params, Timestamp(0), Box::new(desk))
                .with_context(|| format!("starting {}", plugin.descriptor().name))?;
            engine.add_strategy(instance);
        }
        engine.run_instruments(events);
        Ok(engine
            .outcomes()
            .into_iter()
            .map(|o| PerpReport {
                name: o.name,
                version: o.version,
                events: o.updates,
                orders: o.tally.placed,
                rejected: o.tally.rejected,
                summary: TradeSummary::of(&o.trades),
                trades: o.trades,
                faults: o.faults.len(),
                warnings: o.tally.warnings,
                first_warnings: o.tally.first_warnings,
            })
            .collect())
    }
}

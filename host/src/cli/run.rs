//! `clever run`: load plugins and drive them through the engine over a
//! seeded synthetic market (pre-off for the first half of the updates, in
//! play for the second, then closed with the favourite the winner), with
//! risk and the simulated exchange: orders are checked, matched and
//! settled as in a backtest, and timers fire as the clock passes them. A
//! quick way to see a plugin load, trade, log and (if hostile) get
//! contained.

use anyhow::Context as _;
use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;

use crate::engine::{Desk, Engine, SimClock, StrategyOutcome};
use crate::market::{Money, SettledOrder};
use crate::risk::{RiskBook, RiskLimits};
use crate::runtime::{Runtime, RuntimeConfig};
use crate::sim::{SimConfig, SimVenue, SyntheticSource};
use clever_sdk::Timestamp;

/// Drive plugins over a synthetic market.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A plugin component (.wasm); repeat for several.
    #[arg(long = "plugin", required = true)]
    plugins: Vec<PathBuf>,
    /// Market updates to deliver.
    #[arg(long, default_value_t = 10_000)]
    updates: usize,
    /// Runners in the market.
    #[arg(long, default_value_t = 14)]
    runners: usize,
    /// Seed of the synthetic market.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Strategy parameters as a JSON object, for every plugin.
    #[arg(long, default_value = "{}")]
    params: String,
    #[command(flatten)]
    settings: super::settings::Files,
    /// One JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct PluginReport {
    name: String,
    version: String,
    /// Market updates delivered to it.
    updates: u64,
    /// Orders accepted by risk and the venue.
    orders: u64,
    /// Refusals by risk, the venue rules or the venue.
    rejected: u64,
    /// Orders refused by the per-call rate limit.
    rate_limited: u64,
    /// Orders with stake cancelled (by the plugin, or at quarantine).
    cancelled: u64,
    /// Orders with stake lapsed (at the off, or at the close).
    lapsed: u64,
    matched: Money,
    profit: Money,
    logs: u64,
    logs_dropped: u64,
    signals: u64,
    faults: Vec<String>,
    quarantined: bool,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        anyhow::ensure!(self.runners > 0, "--runners must be at least 1");
        anyhow::ensure!(self.updates > 0, "--updates must be at least 1");
        let runtime = Runtime::new(RuntimeConfig {
            limits: self.settings.sandbox()?,
            ..RuntimeConfig::default()
        })?;
        let risk: RiskLimits = self.settings.risk()?;
        let sim: SimConfig = self.settings.simulation()?;
        let off = Timestamp(1_700_000_000_000);
        let mut source =
            SyntheticSource::new("1.000000001", self.seed, self.runners, self.updates, off);
        let mut engine = Engine::new(SimClock::default());
        let plugins = (self.plugins.iter())
            .map(|path| runtime.load_file(path).map_err(|e| super::named(path, e)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let params =
            serde_json::from_str(&self.params).context("--params must be a JSON object")?;
        super::backtest::check_params(&plugins, &params, "--params")?;
        for (path, plugin) in self.plugins.iter().zip(&plugins) {
            let desk = Desk::new(
                RiskBook::new(risk.clone()),
                Box::new(SimVenue::new(sim.clone())),
            );
            let start = off.plus_millis(-600_000);
            let instance = runtime
                .instantiate(plugin, &self.params, start, Box::new(desk))
                .map_err(|e| super::named(path, e))?;
            engine.add_strategy(instance);
        }
        let started = Instant::now();
        engine.run(&mut source, |e| tracing::warn!("{e}"));
        let took = started.elapsed();
        let reports: Vec<PluginReport> = engine.outcomes().iter().map(report).collect();
        let micros_per_update = took.as_secs_f64() * 1e6 / engine.updates().max(1) as f64;
        if self.json {
            return super::output::print_json(&serde_json::json!({
                "updates": self.updates,
                "micros_per_update": micros_per_update,
                "plugins": reports,
            }));
        }
        print_table(&reports);
        println!("{micros_per_update:.2} µs per update, all plugins");
        Ok(())
    }
}

fn print_table(reports: &[PluginReport]) {
    println!(
        "{:<24} {:>9} {:>7} {:>8} {:>10} {:>10} {:>6} {:>7} {:>6} {:>11}",
        "plugin",
        "updates",
        "orders",
        "rejected",
        "matched",
        "profit",
        "logs",
        "signals",
        "faults",
        "quarantined"
    );
    for r in reports {
        println!(
            "{:<24} {:>9} {:>7} {:>8} {:>10.2} {:>10.2} {:>6} {:>7} {:>6} {:>11}",
            format!("{}@{}", r.name, r.version),
            r.updates,
            r.orders,
            r.rejected,
            r.matched,
            r.profit,
            r.logs,
            r.signals,
            r.faults.len(),
            if r.quarantined { "yes" } else { "no" },
        );
        for f in &r.faults {
            println!("  fault: {f}");
        }
    }
}

fn report(o: &StrategyOutcome) -> PluginReport {
    PluginReport {
        name: o.name.clone(),
        version: o.version.clone(),
        updates: o.updates,
        orders: o.tally.placed,
        rejected: o.tally.rejected.values().sum(),
        rate_limited: o.dropped.orders,
        cancelled: settled(o, |s| s.order.size_cancelled > 0.0),
        lapsed: settled(o, |s| s.order.size_lapsed > 0.0),
        matched: o.markets.iter().map(|m| m.figures.matched).sum(),
        profit: o.markets.iter().map(|m| m.figures.profit).sum(),
        logs: o.tally.logs,
        logs_dropped: o.dropped.log_lines,
        signals: o.tally.signals,
        faults: o.faults.iter().map(|f| f.to_string()).collect(),
        quarantined: o.quarantined,
    }
}

/// Settled orders that `pass`.
fn settled(o: &StrategyOutcome, pass: impl Fn(&SettledOrder) -> bool) -> u64 {
    let all = o.markets.iter().flat_map(|m| &m.settled);
    all.filter(|s| pass(s)).count() as u64
}

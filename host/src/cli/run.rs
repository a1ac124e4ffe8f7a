//! `clever run`: load plugins and drive them over a seeded synthetic market
//! (pre-off for the first half of the updates, in play for the second),
//! with orders checked by the venue rules but never matched, and timers
//! fired as the clock passes them. A quick way to
//! see a plugin load, trade, log and (if hostile) get contained.

use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;

use crate::market::synthetic::SyntheticMarket;
use crate::runtime::{HookError, PluginInstance, RecordingServices, Runtime, RuntimeConfig};
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
    /// Sandbox limits: a TOML file with a `[sandbox]` table (see examples/sandbox.toml).
    #[arg(long)]
    limits: Option<PathBuf>,
    /// One JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct PluginReport {
    name: String,
    version: String,
    updates: u64,
    orders: usize,
    /// Orders still open at the end (the rest were cancelled by the plugin).
    open: usize,
    rejected: usize,
    rate_limited: u64,
    logs: usize,
    logs_dropped: u64,
    signals: usize,
    faults: Vec<String>,
    quarantined: bool,
    micros_per_update: f64,
}

struct Running {
    instance: PluginInstance,
    services: RecordingServices,
    delivered: u64,
    busy: std::time::Duration,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        anyhow::ensure!(self.runners > 0, "--runners must be at least 1");
        let limits = super::settings::sandbox(self.limits.as_deref())?;
        let runtime = Runtime::new(RuntimeConfig {
            limits,
            ..RuntimeConfig::default()
        })?;
        let off = Timestamp(1_700_000_000_000);
        let mut feed = SyntheticMarket::new("1.000000001", self.seed, self.runners, 3, off);
        let mut running = Vec::new();
        for path in &self.plugins {
            let plugin = runtime
                .load_file(path)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            let services = RecordingServices::new();
            services.set_now(feed.market().publish_time);
            services.set_market(feed.market());
            let instance = runtime
                .instantiate(&plugin, &self.params, Box::new(services.clone()))
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            running.push(Running {
                instance,
                services,
                delivered: 0,
                busy: Default::default(),
            });
        }
        for update in 0..self.updates {
            // The second half of the updates is in play, so in-play strategies act too.
            if update == self.updates / 2 {
                feed.set_in_play(true);
            }
            let (market, changed) = feed.step();
            for r in running.iter_mut() {
                r.services.set_now(market.publish_time);
                r.services.set_market(market);
                r.instance.begin_event();
                fire_due_timers(r);
                let start = Instant::now();
                let result = r.instance.on_market(1, market, Some(changed));
                r.busy += start.elapsed();
                match result {
                    Ok(()) => r.delivered += 1,
                    Err(HookError::Quarantined) => {}
                    Err(e) => tracing::warn!("{e}"),
                }
            }
        }
        let reports: Vec<PluginReport> = running.iter().map(report).collect();
        if self.json {
            return super::output::print_json(&serde_json::json!({
                "updates": self.updates,
                "plugins": reports,
            }));
        }
        println!(
            "{:<24} {:>9} {:>7} {:>6} {:>8} {:>6} {:>7} {:>6} {:>11} {:>9}",
            "plugin",
            "updates",
            "orders",
            "open",
            "rejected",
            "logs",
            "signals",
            "faults",
            "quarantined",
            "µs/update"
        );
        for r in &reports {
            println!(
                "{:<24} {:>9} {:>7} {:>6} {:>8} {:>6} {:>7} {:>6} {:>11} {:>9.2}",
                format!("{}@{}", r.name, r.version),
                r.updates,
                r.orders,
                r.open,
                r.rejected,
                r.logs,
                r.signals,
                r.faults.len(),
                if r.quarantined { "yes" } else { "no" },
                r.micros_per_update
            );
            for f in &r.faults {
                println!("  fault: {f}");
            }
        }
        Ok(())
    }
}

/// Call `on-timer` for every timer due by now, earliest first. Timers
/// set while these fire wait for the next update, as in the engine.
fn fire_due_timers(r: &mut Running) {
    let due: Vec<u64> = {
        let mut recorded = r.services.recorded();
        let now = recorded.now();
        std::iter::from_fn(|| recorded.take_due_timer(now))
            .map(|(token, _)| token)
            .collect()
    };
    for token in due {
        if let Err(e) = r.instance.on_timer(token) {
            tracing::warn!("{e}");
        }
    }
}

fn report(r: &Running) -> PluginReport {
    let recorded = r.services.recorded();
    let d = r.instance.descriptor();
    let calls = r.instance.stats().calls.max(1);
    PluginReport {
        name: d.name.clone(),
        version: d.version.clone(),
        updates: r.delivered,
        orders: recorded.orders.len(),
        open: recorded.orders.iter().filter(|o| o.is_open()).count(),
        rejected: recorded.rejections.len(),
        rate_limited: r.instance.dropped().orders,
        logs: recorded.logs.len(),
        logs_dropped: r.instance.dropped().log_lines,
        signals: recorded.signals.len(),
        faults: r.instance.faults().iter().map(|f| f.to_string()).collect(),
        quarantined: r.instance.is_quarantined(),
        micros_per_update: r.busy.as_secs_f64() * 1e6 / calls as f64,
    }
}

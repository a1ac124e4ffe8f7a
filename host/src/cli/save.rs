//! `clever backtest --save`: the run, its configuration, the strategy
//! versions (with their components), every simulated order with its life,
//! and the results, written to the database as the run goes.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::backtest::Report;
use crate::engine::StrategyOutcome;
use crate::market::MarketResult;
use crate::market::SettledOrder;
use crate::runtime::LoadedPlugin;
use crate::serve::handle::version_row;
use crate::store::{ResultRow, Store};

/// Orders held before they are written.
const PENDING: usize = 1_000;

/// Saves one run.
pub struct Saver {
    runtime: tokio::runtime::Runtime,
    store: Store,
    run: i64,
    /// (name, version, row id) of each plugin, in plugin order.
    versions: Vec<(String, String, i64)>,
    markets: HashMap<String, i64>,
    pending: Vec<(i64, String, SettledOrder)>,
    error: Option<anyhow::Error>,
}

impl Saver {
    /// Open `url`, save the strategy versions and start the run.
    pub fn start(
        url: &str,
        plugins: &[(PathBuf, Arc<LoadedPlugin>)],
        params: &str,
        config: &serde_json::Value,
    ) -> anyhow::Result<Saver> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (store, run, versions) = runtime.block_on(async {
            let store = Store::open(url).await?;
            let mut versions = Vec::new();
            for (path, plugin) in plugins {
                let component =
                    std::fs::read(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                let d = plugin.descriptor();
                let row = store
                    .save_version(&version_row(plugin, &component, params))
                    .await?;
                versions.push((d.name.clone(), d.version.clone(), row));
            }
            let run = store.start_run(&config.to_string(), None).await?;
            anyhow::Ok((store, run, versions))
        })?;
        Ok(Saver {
            runtime,
            store,
            run,
            versions,
            markets: HashMap::new(),
            pending: Vec::new(),
            error: None,
        })
    }

    /// Keep a settled market's orders; written in batches.
    pub fn add(&mut self, strategy: &StrategyOutcome, market: &MarketResult) {
        let version = self
            .versions
            .iter()
            .find(|(n, v, _)| *n == strategy.name && *v == strategy.version)
            .map(|(_, _, id)| *id);
        let Some(version) = version else { return };
        for order in &market.settled {
            self.pending
                .push((version, market.market_id.clone(), order.clone()));
        }
        if self.pending.len() >= PENDING {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.error.is_some() || self.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        let (store, run, markets) = (&self.store, self.run, &mut self.markets);
        let result = self.runtime.block_on(async {
            for (version, market_id, order) in &pending {
                let market = match markets.get(market_id) {
                    Some(&row) => row,
                    None => {
                        let row = store.market_row("betfair", market_id).await?;
                        markets.insert(market_id.clone(), row);
                        row
                    }
                };
                store.save_order(run, *version, market, order).await?;
            }
            anyhow::Ok(())
        });
        if let Err(e) = result {
            self.error = Some(e);
        }
    }

    /// Write what is left and the results; the run's id.
    pub fn finish(mut self, report: &Report) -> anyhow::Result<i64> {
        self.flush();
        if let Some(e) = self.error.take() {
            return Err(e.context(format!("saving run {}", self.run)));
        }
        let ids: Vec<i64> = self.versions.iter().map(|(_, _, id)| *id).collect();
        let results = result_rows(&ids, report);
        let totals = (
            report.markets as i64,
            report.updates as i64,
            report.elapsed_ms as i64,
        );
        self.runtime.block_on(async {
            self.store.finish_run(self.run, totals, &results).await?;
            self.store.close().await;
            anyhow::Ok(())
        })?;
        Ok(self.run)
    }
}

/// Each strategy's result in `report` as the database keeps it, beside
/// its version's row id (`versions`, in plugin order).
pub fn result_rows(versions: &[i64], report: &Report) -> Vec<(i64, ResultRow)> {
    versions
        .iter()
        .zip(&report.strategies)
        .map(|(id, s)| {
            let row = ResultRow {
                name: s.name.clone(),
                version: s.version.clone(),
                orders: s.figures.orders as i64,
                matched: s.figures.matched,
                gross_profit: s.figures.gross_profit,
                commission: s.figures.commission,
                profit: s.figures.profit,
                roi: s.roi,
                rejected: serde_json::to_string(&s.rejected).unwrap_or_default(),
                faults: s.faults as i64,
                quarantined: s.quarantined,
                metrics: json(&s.metrics),
                monte_carlo: json(&s.monte_carlo),
            };
            (*id, row)
        })
        .collect()
}

/// A figure as the JSON document the database keeps.
fn json<T: serde::Serialize>(figure: &Option<T>) -> Option<String> {
    figure.as_ref().and_then(|f| serde_json::to_string(f).ok())
}

//! `clever backtest --venue hyperliquid`: order-book strategies (WIT 1.1)
//! over Hyperliquid recordings (`clever record hyperliquid`, `clever gen
//! --venue hyperliquid`) through the engine and a simulated order book;
//! each strategy's closed trades, in money and in R multiples.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clever_hyperliquid::Universe;
use clever_hyperliquid::data::{files_in, read_recording};
use clever_hyperliquid::events::instrument_events;

use crate::backtest::{PerpBacktest, PerpReport, logged_warnings};
use crate::risk::RiskLimits;
use crate::runtime::{LoadedPlugin, Runtime};
use crate::sim::BookSimConfig;
use crate::store::{Store, TradeSource};

/// One `clever backtest --venue hyperliquid`.
pub struct Run<'a> {
    /// `--data`.
    pub data: &'a [PathBuf],
    /// `--params`.
    pub params: &'a str,
    /// Where `--save` stores the run and its trades.
    pub save: Option<String>,
    /// `--json`.
    pub json: bool,
    /// `--risk`.
    pub risk: RiskLimits,
}

impl Run<'_> {
    /// Run `plugins` over the recordings and print (and save) the report.
    pub fn go(
        &self,
        runtime: &Runtime,
        plugins: Vec<Arc<LoadedPlugin>>,
        started: Instant,
    ) -> anyhow::Result<()> {
        for plugin in &plugins {
            anyhow::ensure!(
                plugin.instruments().is_some(),
                "{} trades no order-book instrument (it needs clever:strategy@1.1 and `instruments`)",
                plugin.descriptor().name
            );
        }
        let (events, refused) = read(self.data)?;
        let count = events.len();
        let backtest = PerpBacktest {
            runtime,
            plugins: plugins.clone(),
            params: self.params.to_owned(),
            rules: Universe::standard().instrument_rules(),
            book: BookSimConfig::default(),
            risk: self.risk.clone(),
        };
        let reports = backtest.run(events)?;
        for r in &reports {
            let said = logged_warnings(&r.name, &r.version, r.warnings, &r.first_warnings);
            if let Some(message) = said {
                eprintln!("warning: {message}");
            }
        }
        let saved = match &self.save {
            Some(url) => Some(self.save(url, &plugins, &reports, (count, started))?),
            None => None,
        };
        if self.json {
            return super::output::print_json(&serde_json::json!({
                "events": count, "refused_lines": refused, "run": saved, "strategies": reports,
            }));
        }
        print(&reports, count, refused);
        if let Some(id) = saved {
            println!("saved as run {id} (clever notes list NAME shows its trades)");
        }
        Ok(())
    }

    fn save(
        &self,
        url: &str,
        plugins: &[Arc<LoadedPlugin>],
        reports: &[PerpReport],
        (events, started): (usize, Instant),
    ) -> anyhow::Result<i64> {
        let config = serde_json::json!({
            "venue": "hyperliquid", "data": self.data, "params": serde_json::from_str::<serde_json::Value>(self.params)?,
            "risk": self.risk,
            "plugins": plugins.iter().map(|p| serde_json::json!({
                "name": p.descriptor().name, "version": p.descriptor().version, "sha256": p.sha256(),
            })).collect::<Vec<_>>(),
        });
        super::block_on(async {
            let store = Store::open(url).await?;
            let run = store.start_run(&config.to_string(), None).await?;
            for r in reports {
                let source = TradeSource {
                    mode: "backtest",
                    run: Some(run),
                    session: None,
                    venue: "hyperliquid",
                    strategy: &r.name,
                    version: &r.version,
                };
                store.save_trades(source, &r.trades).await?;
            }
            let elapsed = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
            store
                .finish_run(run, (0, events as i64, elapsed), &[])
                .await?;
            store.close().await;
            anyhow::Ok(run)
        })
    }
}

/// Every recorded message of `data` as engine events, and how many lines
/// were refused. Each file's first three refused lines are warned about
/// by line, then how many in all, as a Betfair backtest does: a wrong file
/// must not bury the report under a warning per line.
fn read(data: &[PathBuf]) -> anyhow::Result<(Vec<clever_market::InstrumentEvent>, usize)> {
    let files = files_in(data, &["jsonl"]).map_err(|e| anyhow::anyhow!(e))?;
    anyhow::ensure!(!files.is_empty(), "--data: no .jsonl recordings found");
    let mut messages = Vec::new();
    let mut refused = 0;
    for file in &files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?;
        let (before, mut bad) = (messages.len(), 0);
        for read in read_recording(&text) {
            match read {
                Ok(message) => messages.push(message),
                Err((line, e)) => {
                    bad += 1;
                    if bad <= 3 {
                        eprintln!("warning: {}:{line}: {e}", file.display());
                    }
                }
            }
        }
        if bad > 3 {
            eprintln!("warning: {}: {bad} lines refused in all", file.display());
        }
        if messages.len() == before {
            eprintln!(
                "warning: {}: no recorded message in it, so it adds nothing to the report",
                file.display()
            );
        }
        refused += bad;
    }
    Ok((instrument_events(messages), refused))
}

fn print(reports: &[PerpReport], events: usize, refused: usize) {
    println!("{events} events ({refused} lines refused)");
    println!(
        "{:<20} {:>7} {:>7} {:>6} {:>5} {:>12} {:>10} {:>10} {:>8} {:>7}",
        "strategy",
        "version",
        "orders",
        "trades",
        "wins",
        "pnl",
        "fees",
        "funding",
        "total R",
        "mean R"
    );
    for r in reports {
        let s = &r.summary;
        let mean = s.mean_r.map_or("-".to_owned(), |m| m.to_string());
        println!(
            "{:<20} {:>7} {:>7} {:>6} {:>5} {:>12} {:>10} {:>10} {:>8} {:>7}",
            r.name,
            r.version,
            r.orders,
            s.trades,
            s.wins,
            s.pnl.round_dp(2),
            s.fees.round_dp(2),
            s.funding.round_dp(2),
            s.total_r.round_dp(2),
            mean
        );
    }
    for r in reports {
        for t in &r.trades {
            let r_text = t
                .r_multiple
                .map_or("-".to_owned(), |x| format!("{}R", x.round_dp(2)));
            println!(
                "  {} {} {} {} at {} -> {} : {} ({r_text})",
                r.name,
                t.instrument,
                t.direction,
                t.size,
                t.entry,
                t.exit,
                t.pnl.round_dp(2)
            );
        }
    }
}

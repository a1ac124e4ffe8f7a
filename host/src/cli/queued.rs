//! `clever sweep --queue postgres://...`: the coordinator. It saves the
//! plugin and the sweep in the queue's database, queues one job per
//! parameter set, waits while `clever worker`s run them, and saves each
//! done set as a run of the sweep. Sets that failed on every attempt are
//! named with their reason.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

use super::sweep::{Args, SetRun};
use super::worker::{Outcome, Payload};
use crate::runtime::{Runtime, RuntimeConfig};
use crate::store::{JobRow, MarketQuery, Store};

/// Run `args`' sets on the workers of the queue at `url`.
pub fn run(args: &Args, url: &str) -> anyhow::Result<(Option<i64>, Vec<SetRun>)> {
    let sets = args.sets()?;
    let component = std::fs::read(&args.plugin)
        .with_context(|| format!("reading {}", args.plugin.display()))?;
    let plugin = Runtime::new(RuntimeConfig::default())?
        .load_bytes(&component)
        .map_err(|e| super::named(&args.plugin, e))?;
    args.check_params(std::slice::from_ref(&plugin))?;
    let day = |d: &Option<chrono::NaiveDate>| d.map(|d| d.to_string());
    let payloads: Vec<String> = (sets.iter())
        .map(|params| {
            let payload = Payload {
                sha256: plugin.sha256().to_owned(),
                params: params.clone(),
                markets: args.markets.clone(),
                from: day(&args.from),
                to: day(&args.to),
                risk: args.settings.risk()?,
                simulation: args.settings.simulation()?,
                bankroll: args.bankroll,
            };
            Ok(serde_json::to_string(&payload)?)
        })
        .collect::<anyhow::Result<_>>()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = Store::open(url).await?;
        // Checked here, not by each worker's every attempt at every set.
        let query = MarketQuery {
            market_ids: args.markets.clone(),
            from: args.from,
            to: args.to,
            ..MarketQuery::default()
        };
        super::selection::selected(&store, &query).await?;
        let row = crate::serve::handle::version_row(&plugin, &component, &args.params);
        let version = store.save_version(&row).await?;
        let sweep = store.start_sweep(&args.config().to_string()).await?;
        store.enqueue(sweep, &payloads, args.attempts).await?;
        eprintln!(
            "sweep {sweep}: {} sets queued in {}; start `clever worker --queue URL` anywhere",
            sets.len(),
            store.url()
        );
        let jobs = wait(&store, sweep, sets.len() as u64).await?;
        let mut runs = Vec::new();
        for (job, params) in jobs.iter().zip(sets) {
            let Some(result) = &job.result else {
                let why = job.error.as_deref().unwrap_or("no reason given");
                eprintln!(
                    "warning: set {} {} failed after {} attempt(s): {why}",
                    job.position,
                    Value::Object(params),
                    job.attempts
                );
                continue;
            };
            let outcome: Outcome = serde_json::from_str(result)
                .with_context(|| format!("reading the result of set {}", job.position))?;
            let report = outcome.into_report();
            let config = serde_json::json!({ "sweep": sweep, "params": params });
            let rows = super::save::result_rows(&[version], &report);
            let totals = (
                report.markets as i64,
                report.updates as i64,
                report.elapsed_ms as i64,
            );
            let run = store.start_run(&config.to_string(), Some(sweep)).await?;
            store.finish_run(run, totals, &rows).await?;
            runs.push((params, Some(run), report));
        }
        store.close().await;
        anyhow::ensure!(!runs.is_empty(), "sweep {sweep}: every set failed");
        eprintln!("saved as sweep {sweep}: `clever runs list --sweep {sweep} --db URL`");
        Ok((Some(sweep), runs))
    })
}

/// Wait until every job of `sweep` is done or failed; the jobs.
async fn wait(store: &Store, sweep: i64, total: u64) -> anyhow::Result<Vec<JobRow>> {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} sets, {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let started = Instant::now();
    loop {
        let jobs = store.sweep_jobs(sweep).await?;
        let count = |status: &str| jobs.iter().filter(|j| j.status == status).count();
        let (done, failed, running) = (count("done"), count("failed"), count("running"));
        bar.set_position((done + failed) as u64);
        bar.set_message(format!("{running} running, {failed} failed"));
        if done + failed == jobs.len() {
            bar.finish_and_clear();
            eprintln!(
                "sweep {sweep}: {done} sets done, {failed} failed in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            return Ok(jobs);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

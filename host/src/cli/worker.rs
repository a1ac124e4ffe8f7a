//! `clever worker --queue postgres://...`: claim a sweep's jobs from the
//! queue (`Store::claim`), fetch each job's plugin from the database by
//! its SHA-256 and its markets from the stored streams, backtest it, and
//! write the result back; any number of workers on any machines. A lease
//! renewed while the job runs lets a killed worker's job be claimed again.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::analytics::{Bankroll, MarketPoint};
use crate::backtest::{Backtest, Job, Progress, Report, Stored};
use crate::risk::RiskLimits;
use crate::runtime::{LoadedPlugin, Runtime, RuntimeConfig};
use crate::sim::SimConfig;
use crate::store::{Claimed, MarketQuery, Store};

/// What one queued job runs: a parameter set of a sweep.
#[derive(Debug, Serialize, Deserialize)]
pub struct Payload {
    /// The plugin's component, by SHA-256 (saved in the database).
    pub sha256: String,
    /// The set's parameters.
    pub params: Map<String, Value>,
    /// The stored markets to run: these ids (all when empty) ...
    pub markets: Vec<String>,
    /// ... scheduled on or after this day (YYYY-MM-DD) ...
    pub from: Option<String>,
    /// ... and on or before this one.
    pub to: Option<String>,
    /// Risk limits.
    pub risk: RiskLimits,
    /// The simulated exchange's settings.
    pub simulation: SimConfig,
    /// The bankroll the metrics measure against.
    pub bankroll: Bankroll,
}

/// What a done job gives back: the set's report, with each strategy's
/// traded markets (which the report's JSON leaves out).
#[derive(Debug, Serialize, Deserialize)]
pub struct Outcome {
    /// The report, metrics measured.
    pub report: Report,
    /// Per strategy, its traded markets.
    pub points: Vec<Vec<MarketPoint>>,
    /// Per strategy, their market ids.
    pub market_ids: Vec<Vec<String>>,
}

impl Outcome {
    /// The report with its markets put back.
    pub fn into_report(self) -> Report {
        let mut report = self.report;
        let markets = self.points.into_iter().zip(self.market_ids);
        for (s, (points, ids)) in report.strategies.iter_mut().zip(markets) {
            (s.points, s.market_ids) = (points, ids);
        }
        report
    }
}

/// Work through a sweep queue.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The queue: the sweep's PostgreSQL database.
    #[arg(long)]
    queue: String,
    /// How long a claimed job is held without word from this worker before
    /// another may claim it; renewed every third of it while the job runs.
    #[arg(long, default_value_t = 60.0)]
    lease_secs: f64,
    /// Stop after this many seconds with nothing to claim (default: never).
    #[arg(long)]
    exit_when_idle: Option<f64>,
    /// Worker threads for each backtest; default: every core.
    #[arg(long)]
    threads: Option<usize>,
    /// Sandbox limits: a TOML file with a `[sandbox]` table.
    #[arg(long)]
    limits: Option<std::path::PathBuf>,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.lease_secs.is_finite() && self.lease_secs >= 1.0,
            "--lease-secs must be at least 1"
        );
        let lease = Duration::from_secs_f64(self.lease_secs);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let store = runtime.block_on(Store::open(&self.queue))?;
        let stored = Stored { store, runtime };
        let wasm = Runtime::new(RuntimeConfig {
            limits: super::settings::sandbox(self.limits.as_deref())?,
            ..RuntimeConfig::default()
        })?;
        let me = worker_id();
        let threads = super::backtest::threads(self.threads)?;
        let mut plugins: HashMap<String, Arc<LoadedPlugin>> = HashMap::new();
        let mut idle_since = Instant::now();
        eprintln!("worker {me}: waiting for jobs in {}", stored.store.url());
        loop {
            let claimed = stored.runtime.block_on(stored.store.claim(&me, lease))?;
            let Some(job) = claimed else {
                let idle = idle_since.elapsed().as_secs_f64();
                if self.exit_when_idle.is_some_and(|limit| idle >= limit) {
                    eprintln!("worker {me}: nothing to do for {idle:.0} s; stopping");
                    return Ok(());
                }
                std::thread::sleep(Duration::from_millis(500));
                continue;
            };
            eprintln!(
                "worker {me}: claimed sweep {} set {} (attempt {})",
                job.sweep, job.position, job.attempt
            );
            let kept = self.work(&stored, (&me, lease), &job, (&wasm, &mut plugins, threads));
            idle_since = Instant::now();
            if let Err(e) = kept {
                eprintln!("worker {me}: {e:#}");
            }
        }
    }

    /// Run `job` under a renewed lease and write its outcome.
    fn work(
        &self,
        stored: &Stored,
        (me, lease): (&str, Duration),
        job: &Claimed,
        (wasm, plugins, threads): (&Runtime, &mut HashMap<String, Arc<LoadedPlugin>>, usize),
    ) -> anyhow::Result<()> {
        let lost = Arc::new(AtomicBool::new(false));
        let renewing = stored.runtime.spawn(renew(
            stored.store.clone(),
            (job.id, me.to_owned(), lease),
            lost.clone(),
        ));
        let outcome = run(stored, &job.payload, wasm, plugins, threads);
        renewing.abort();
        let store = &stored.store;
        let kept = match outcome {
            Ok(outcome) => {
                let text = serde_json::to_string(&outcome)?;
                stored
                    .runtime
                    .block_on(store.finish_job(job.id, me, &text))?
            }
            Err(e) => {
                let reason = format!("{e:#}");
                eprintln!("worker {me}: set {} failed: {reason}", job.position);
                stored
                    .runtime
                    .block_on(store.fail_job(job.id, me, &reason))?
            }
        };
        if !kept || lost.load(Ordering::Relaxed) {
            anyhow::bail!(
                "lost the lease on set {}: another worker has it",
                job.position
            );
        }
        Ok(())
    }
}

/// Renew the lease every third of it until aborted or lost.
async fn renew(store: Store, (job, me, lease): (i64, String, Duration), lost: Arc<AtomicBool>) {
    loop {
        tokio::time::sleep(lease / 3).await;
        if !matches!(store.renew(job, &me, lease).await, Ok(true)) {
            lost.store(true, Ordering::Relaxed);
            return;
        }
    }
}

/// Backtest one payload over its stored markets.
fn run(
    stored: &Stored,
    payload: &str,
    wasm: &Runtime,
    plugins: &mut HashMap<String, Arc<LoadedPlugin>>,
    threads: usize,
) -> anyhow::Result<Outcome> {
    let p: Payload = serde_json::from_str(payload).context("reading the job")?;
    let plugin = match plugins.get(&p.sha256) {
        Some(plugin) => plugin.clone(),
        None => {
            let bytes = stored
                .runtime
                .block_on(stored.store.component_by_sha256(&p.sha256))?;
            let plugin = wasm
                .load_bytes(&bytes)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            plugins.insert(p.sha256.clone(), plugin.clone());
            plugin
        }
    };
    let day = |d: &Option<String>| {
        let parse = |d: &String| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d");
        d.as_ref()
            .map(parse)
            .transpose()
            .context("a day in the job")
    };
    let query = MarketQuery {
        market_ids: p.markets.clone(),
        from: day(&p.from)?,
        to: day(&p.to)?,
        ..MarketQuery::default()
    };
    let markets = (stored.runtime).block_on(super::selection::selected(&stored.store, &query))?;
    let ids: Vec<String> = markets.iter().map(|m| m.market_id.clone()).collect();
    // The store's own pool: its `url()` is for showing, without a password.
    let predictions =
        (stored.runtime).block_on(super::predictions::book_from(&stored.store, Some(&ids)))?;
    let jobs: Vec<Job> = markets.into_iter().map(Job::Stored).collect();
    let started = Instant::now();
    let mut report = Backtest {
        runtime: wasm,
        format: &crate::betfair::StreamFormat::ONE_CORE,
        plugins: vec![plugin],
        params: Value::Object(p.params).to_string(),
        risk: p.risk,
        sim: p.simulation,
        threads,
        stored: Some(stored),
        predictions,
    }
    .run_jobs(&jobs, &Silent)?;
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    report.measure(p.bankroll, None);
    let points = report.strategies.iter().map(|s| s.points.clone()).collect();
    let market_ids = report
        .strategies
        .iter()
        .map(|s| s.market_ids.clone())
        .collect();
    Ok(Outcome {
        report,
        points,
        market_ids,
    })
}

struct Silent;

impl Progress for Silent {
    fn file_done(&self, _: &std::path::Path, _: u64) {}
    fn warn(&self, message: String) {
        eprintln!("warning: {message}");
    }
}

/// `host:pid:nanos`: unique among the workers of a queue.
fn worker_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{}:{}:{nanos}", host.trim(), std::process::id())
}

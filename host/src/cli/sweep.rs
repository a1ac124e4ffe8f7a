//! `clever sweep`: one backtest per parameter set (every combination of
//! the grids, or a seeded random draw of them), each on every core, ranked
//! by a chosen metric; with `--save`, stored as the runs of one sweep.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use serde_json::{Map, Value};

use super::backtest::{bankroll, check_params, load, threads};
use crate::analytics::sweep::{every_set, idle_grids, random_sets};
use crate::analytics::{Bankroll, Grid, Metrics, RankBy};
use crate::backtest::{
    Backtest, Job, Progress, Report, StrategyReport, data_files, logged_warnings,
};
use crate::engine::desk::keep_first_warning;
use crate::runtime::{LoadedPlugin, Runtime, RuntimeConfig};
use crate::store::{Store, database_url};

/// Run one plugin over the data once per parameter set and rank the sets.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The plugin component (.wasm).
    #[arg(long)]
    pub(super) plugin: PathBuf,
    /// Stream files or directories of them; repeatable.
    #[arg(
        long = "data",
        required_unless_present = "queue",
        conflicts_with = "queue"
    )]
    data: Vec<PathBuf>,
    /// Spread the sets over `clever worker`s on any machines through this
    /// PostgreSQL database, which holds the markets (`clever ingest`), the
    /// plugin and the results; the sweep is saved there.
    #[arg(long, value_name = "postgres://...", conflicts_with_all = ["save", "db"])]
    queue: Option<String>,
    /// With --queue: this stored market (venue id); repeatable. Default:
    /// every stored market in the date range.
    #[arg(long = "market", requires = "queue")]
    pub(super) markets: Vec<String>,
    /// With --queue: markets scheduled on or after this day (YYYY-MM-DD).
    #[arg(long, requires = "queue")]
    pub(super) from: Option<chrono::NaiveDate>,
    /// With --queue: markets scheduled on or before this day.
    #[arg(long, requires = "queue")]
    pub(super) to: Option<chrono::NaiveDate>,
    /// With --queue: claims a set may have (a worker killed or a run that
    /// fails uses one) before it is given up as failed.
    #[arg(long, default_value_t = 3, requires = "queue")]
    pub(super) attempts: i32,
    /// A parameter's values: NAME=LOW..HIGH:STEP (both ends included) or
    /// NAME=A,B,...; repeat for each parameter swept.
    #[arg(long = "grid", required = true)]
    pub(super) grids: Vec<Grid>,
    /// Instead of every combination, this many drawn at random from them.
    #[arg(long, value_name = "N")]
    random: Option<usize>,
    /// The random draw's seed.
    #[arg(long, default_value_t = 1, requires = "random")]
    seed: u64,
    /// The metric the sets are ranked by (see docs/METRICS.md).
    #[arg(long, default_value = "net_profit")]
    pub rank_by: RankBy,
    /// Parameters every set shares (a JSON object); the grids override them.
    #[arg(long, default_value = "{}")]
    pub(super) params: String,
    /// The bankroll the metrics measure against.
    #[arg(long, default_value = "1000", value_parser = bankroll)]
    pub bankroll: Bankroll,
    #[command(flatten)]
    pub(super) settings: super::settings::Files,
    /// Worker threads for each backtest; default: every core.
    #[arg(long)]
    threads: Option<usize>,
    /// Print only the best N sets (all are saved).
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// Save the sweep and one run per set (results and metrics, not
    /// orders) to the database (--db, else $DATABASE_URL, else
    /// sqlite://clever.db).
    #[arg(long)]
    save: bool,
    /// Where --save writes.
    #[arg(long, requires = "save")]
    db: Option<String>,
    /// Also write a self-contained HTML report of the sweep to this file
    /// (the ranking, a heat map of two swept parameters, the best sets).
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
    /// One JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// What `clever sweep --json` prints.
#[derive(Debug, Serialize)]
struct SweepReport {
    /// The sweep's id, when saved.
    sweep: Option<i64>,
    rank_by: &'static str,
    markets: u64,
    elapsed_ms: u64,
    /// Every set, best first.
    sets: Vec<SetResult>,
}

#[derive(Debug, Serialize)]
struct SetResult {
    rank: usize,
    /// The saved run, when saved.
    run: Option<i64>,
    params: Map<String, Value>,
    /// The ranking metric's value; none where it is undefined.
    score: Option<f64>,
    orders: u64,
    metrics: Metrics,
}

/// What each strategy logged as warnings over every set, said once: the
/// count, in how many sets, and the first three different messages.
pub(super) fn warn_logged(reports: &[SetRun]) {
    /// One strategy's warnings over the sets.
    struct Logged<'a> {
        strategy: &'a StrategyReport,
        count: u64,
        sets: usize,
        first: Vec<String>,
    }
    let mut logged: Vec<Logged> = Vec::new();
    for (_, _, report) in reports {
        for s in report.strategies.iter().filter(|s| s.warnings > 0) {
            let same = |l: &Logged| l.strategy.name == s.name && l.strategy.version == s.version;
            let at = match logged.iter().position(same) {
                Some(at) => at,
                None => {
                    let first = Vec::new();
                    logged.push(Logged {
                        strategy: s,
                        count: 0,
                        sets: 0,
                        first,
                    });
                    logged.len() - 1
                }
            };
            let l = &mut logged[at];
            l.count += s.warnings;
            l.sets += 1;
            for message in &s.first_warnings {
                keep_first_warning(&mut l.first, message);
            }
        }
    }
    for l in logged {
        let (name, version) = (&l.strategy.name, &l.strategy.version);
        if let Some(said) = logged_warnings(name, version, l.count, &l.first) {
            eprintln!("warning: {said} (in {} of {} sets)", l.sets, reports.len());
        }
    }
}

/// One parameter set's backtest: its parameters, its saved run, its report
/// (with each strategy's metrics and traded markets).
pub type SetRun = (Map<String, Value>, Option<i64>, Report);

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let started = Instant::now();
        let (sweep, reports) = self.run_sets()?;
        warn_logged(&reports);
        self.warn_idle(&reports);
        let out = self.ranked(sweep, reports, started.elapsed().as_millis() as u64);
        if let Some(path) = &self.report {
            self.page(&out).write(path)?;
            eprintln!("report written to {}", path.display());
        }
        if self.json {
            return super::output::print_json(&out);
        }
        print_table(&out, self.top);
        Ok(())
    }

    /// Warn about each swept parameter that changed no result: a
    /// misspelt name is swept as faithfully as a real one.
    pub(super) fn warn_idle(&self, reports: &[SetRun]) {
        // Results, not what the plugin logged about them.
        let figures = |report: &Report| -> Vec<StrategyReport> {
            let unlogged = |mut s: StrategyReport| {
                s.warnings = 0;
                s.first_warnings.clear();
                s
            };
            report.strategies.iter().cloned().map(unlogged).collect()
        };
        let compared: Vec<_> = reports.iter().map(|(_, _, r)| figures(r)).collect();
        let results: Vec<_> = (reports.iter().zip(&compared))
            .map(|((params, _, _), strategies)| (params, strategies))
            .collect();
        if results.len() > 1 && results.iter().all(|(_, r)| *r == results[0].1) {
            // The data, not a name: one warning, not one per grid.
            let orders: u64 = results[0].1.iter().map(|s| s.figures.orders).sum();
            eprintln!(
                "warning: every set gave the same result ({orders} orders): no swept \
                 parameter changed anything on this data"
            );
            return;
        }
        let plugin = (reports.first())
            .and_then(|(_, _, r)| r.strategies.first())
            .map_or("the plugin", |s| s.name.as_str());
        let idle = idle_grids(&self.grids, &results);
        // A plugin that declares its parameters had every name checked.
        let declared = !idle.is_empty() && self.declares_parameters();
        for name in idle {
            if declared {
                eprintln!(
                    "warning: every value of `{name}` gave the same result: on this data, \
                     {plugin}'s `{name}` changes nothing"
                );
            } else {
                eprintln!(
                    "warning: every value of `{name}` gave the same result: is it a parameter \
                     {plugin} reads? (a misspelt one changes nothing)"
                );
            }
        }
    }

    /// Whether the plugin declares its parameters (WIT 1.3), from the
    /// compile cache the sweep filled; false if that cannot be told.
    fn declares_parameters(&self) -> bool {
        let config = |limits| RuntimeConfig {
            limits,
            ..RuntimeConfig::default()
        };
        let runtime = (self.settings.sandbox().ok()).and_then(|l| Runtime::new(config(l)).ok());
        let plugin = runtime.and_then(|r| r.load_file_cached(&self.plugin).ok().flatten());
        plugin.is_some_and(|p| p.parameters().is_some())
    }

    /// `--params` and each `--grid` value checked against the parameters
    /// the plugin declares (WIT 1.3), before any set runs.
    pub(super) fn check_params(&self, plugins: &[Arc<LoadedPlugin>]) -> anyhow::Result<()> {
        let base: Map<String, Value> =
            serde_json::from_str(&self.params).context("--params must be a JSON object")?;
        check_params(plugins, &base, "--params")?;
        for grid in &self.grids {
            for value in &grid.values {
                let one = Map::from_iter([(grid.name.clone(), value.clone())]);
                check_params(plugins, &one, "--grid")?;
            }
        }
        Ok(())
    }

    /// The parameter sets: every combination of the grids, or a draw.
    pub(super) fn sets(&self) -> anyhow::Result<Vec<Map<String, Value>>> {
        let base: Map<String, Value> =
            serde_json::from_str(&self.params).context("--params must be a JSON object")?;
        Ok(match self.random {
            Some(n) => random_sets(&base, &self.grids, n, self.seed),
            None => every_set(&base, &self.grids).map_err(anyhow::Error::msg)?,
        })
    }

    /// Backtest every parameter set, one after another, each on every
    /// core (or on the workers of `--queue`); with `--save`, each as a run
    /// of one sweep (its id).
    pub fn run_sets(&self) -> anyhow::Result<(Option<i64>, Vec<SetRun>)> {
        if let Some(url) = &self.queue {
            return super::queued::run(self, url);
        }
        let sets = self.sets()?;
        let files = data_files("--data", &self.data)?;
        let jobs: Vec<Job> = files.into_iter().map(Job::File).collect();
        let runtime = Runtime::new(RuntimeConfig {
            limits: self.settings.sandbox()?,
            ..RuntimeConfig::default()
        })?;
        let plugins = load(&runtime, std::slice::from_ref(&self.plugin))?;
        self.check_params(&plugins)?;
        let mut saver = match self.save {
            true => Some(SweepSaver::start(self, &plugins[0])?),
            false => None,
        };
        let (risk, sim) = (self.settings.risk()?, self.settings.simulation()?);
        let threads = threads(self.threads)?;
        // Every set reads the predictions of --db (or $DATABASE_URL).
        let db = self
            .db
            .clone()
            .or_else(|| std::env::var("DATABASE_URL").ok());
        let predictions = super::predictions::book(db.as_deref(), None)?;
        let backtest = |params: String| Backtest {
            runtime: &runtime,
            format: &crate::betfair::StreamFormat::ONE_CORE,
            plugins: plugins.clone(),
            params,
            risk: risk.clone(),
            sim: sim.clone(),
            threads,
            stored: None,
            predictions: predictions.clone(),
        };
        let bar = sets_bar(sets.len() as u64);
        let quiet = Quiet {
            bar: &bar,
            told: Mutex::default(),
        };
        let mut reports = Vec::with_capacity(sets.len());
        for set in &sets {
            let params = Value::Object(set.clone()).to_string();
            bar.set_message(params.clone());
            let set_started = Instant::now();
            let mut report = backtest(params.clone())
                .run_jobs(&jobs, &quiet)
                .with_context(|| format!("the set {params}"))?;
            report.elapsed_ms = set_started.elapsed().as_millis() as u64;
            report.measure(self.bankroll, None);
            let run = match &mut saver {
                Some(s) => Some(s.save(&params, &report)?),
                None => None,
            };
            reports.push((set.clone(), run, report));
            bar.inc(1);
        }
        bar.finish_and_clear();
        let sweep = saver.map(SweepSaver::finish).transpose()?;
        if let Some(id) = sweep {
            eprintln!("saved as sweep {id}: `clever runs list --sweep {id}`");
        }
        Ok((sweep, reports))
    }

    fn page(&self, out: &SweepReport) -> super::report::Page {
        let sets: Vec<super::report::SetRow<'_>> = (out.sets.iter())
            .map(|s| super::report::SetRow {
                name: format!("#{} {}", s.rank, Value::Object(s.params.clone())),
                params: &s.params,
                score: s.score,
                metrics: &s.metrics,
            })
            .collect();
        let grids: Vec<String> = self.grids.iter().map(|g| g.name.clone()).collect();
        super::report::sweep(out.rank_by, &grids, &sets)
    }

    pub(super) fn config(&self) -> Value {
        serde_json::json!({
            "plugin": self.plugin,
            "data": self.data,
            "grids": (self.grids.iter())
                .map(|g| (g.name.clone(), Value::Array(g.values.clone())))
                .collect::<Map<_, _>>(),
            "random": self.random.map(|n| serde_json::json!({"count": n, "seed": self.seed})),
            "rank_by": self.rank_by.name(),
            "params": self.params,
            "bankroll": self.bankroll,
        })
    }

    fn ranked(&self, sweep: Option<i64>, reports: Vec<SetRun>, elapsed_ms: u64) -> SweepReport {
        let markets = reports.first().map_or(0, |(_, _, r)| r.markets);
        let mut sets: Vec<SetResult> = reports
            .into_iter()
            .filter_map(|(params, run, mut report)| {
                let s = report.strategies.pop()?;
                Some(SetResult {
                    rank: 0,
                    run,
                    params,
                    score: None,
                    orders: s.figures.orders,
                    metrics: s.metrics?,
                })
            })
            .collect();
        let order = self
            .rank_by
            .rank(&sets.iter().map(|s| &s.metrics).collect::<Vec<_>>());
        let mut ranked: Vec<Option<SetResult>> = sets.drain(..).map(Some).collect();
        let sets = (order.into_iter().enumerate())
            .filter_map(|(rank, i)| {
                let mut set = ranked[i].take()?;
                set.rank = rank + 1;
                set.score = self.rank_by.score(&set.metrics).filter(|x| x.is_finite());
                Some(set)
            })
            .collect();
        SweepReport {
            sweep,
            rank_by: self.rank_by.name(),
            markets,
            elapsed_ms,
            sets,
        }
    }
}

fn sets_bar(sets: u64) -> ProgressBar {
    let bar = ProgressBar::new(sets);
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} sets, eta {eta}: {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

/// Warnings above the sets' bar, each once a sweep (every set reads the
/// same files); no per-file progress.
struct Quiet<'a> {
    bar: &'a ProgressBar,
    told: Mutex<HashSet<String>>,
}

impl Progress for Quiet<'_> {
    fn file_done(&self, _: &std::path::Path, _: u64) {}
    fn warn(&self, message: String) {
        let mut told = self.told.lock().unwrap_or_else(|p| p.into_inner());
        if !told.contains(&message) {
            self.bar.suspend(|| eprintln!("warning: {message}"));
            told.insert(message);
        }
    }
}

/// Saves the sweep and one run per set, with results and metrics.
struct SweepSaver {
    runtime: tokio::runtime::Runtime,
    store: Store,
    sweep: i64,
    version: i64,
}

impl SweepSaver {
    fn start(args: &Args, loaded: &Arc<LoadedPlugin>) -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let path = &args.plugin;
        let component =
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let config = args.config();
        let (store, sweep, version) = runtime.block_on(async {
            let store = Store::open(&database_url(args.db.as_deref())).await?;
            let row = crate::serve::handle::version_row(loaded, &component, &args.params);
            let version = store.save_version(&row).await?;
            let sweep = store.start_sweep(&config.to_string()).await?;
            anyhow::Ok((store, sweep, version))
        })?;
        Ok(SweepSaver {
            runtime,
            store,
            sweep,
            version,
        })
    }

    /// Save one set's run; its id.
    fn save(&mut self, params: &str, report: &Report) -> anyhow::Result<i64> {
        let config = serde_json::json!({ "sweep": self.sweep, "params": serde_json::from_str::<Value>(params)? });
        let rows = super::save::result_rows(&[self.version], report);
        let totals = (
            report.markets as i64,
            report.updates as i64,
            report.elapsed_ms as i64,
        );
        self.runtime.block_on(async {
            let run = self
                .store
                .start_run(&config.to_string(), Some(self.sweep))
                .await?;
            self.store.finish_run(run, totals, &rows).await?;
            anyhow::Ok(run)
        })
    }

    fn finish(self) -> anyhow::Result<i64> {
        self.runtime.block_on(self.store.close());
        Ok(self.sweep)
    }
}

fn print_table(r: &SweepReport, top: usize) {
    println!(
        "{} parameter sets over {} markets in {:.1} s, ranked by {}",
        r.sets.len(),
        r.markets,
        r.elapsed_ms as f64 / 1000.0,
        r.rank_by
    );
    println!(
        "{:>4} {:>10} {:>10} {:>8} {:>9} {:>8} {:>8}  params",
        "rank", r.rank_by, "profit", "roi %", "max dd", "strike %", "markets"
    );
    for s in r.sets.iter().take(top) {
        let m = &s.metrics;
        let score = s.score.map_or("-".into(), |x| format!("{x:.4}"));
        let strike = (m.strike_rate).map_or("-".into(), |x| format!("{:.2}", x * 100.0));
        println!(
            "{:>4} {:>10} {:>10} {:>8.2} {:>9} {:>8} {:>8}  {}",
            s.rank,
            score,
            m.net_profit,
            m.roi_on_turnover * 100.0,
            m.max_drawdown,
            strike,
            m.markets,
            Value::Object(s.params.clone())
        );
    }
    if r.sets.len() > top {
        println!("... {} more (--top N, or --json)", r.sets.len() - top);
    }
}

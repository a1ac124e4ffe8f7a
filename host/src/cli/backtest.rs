//! `clever backtest`: run plugins over Betfair market files through the
//! engine, the simulated exchange and risk, and report per strategy.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};

use crate::analytics::{Bankroll, MonteCarlo};
use crate::backtest::{
    Backtest, Job, OpenedAhead, Progress, Report, Stored, data_files, logged_warnings,
};
use crate::engine::{Predictions, StrategyOutcome};
use crate::market::MarketResult;
use crate::runtime::{LoadedPlugin, Runtime, RuntimeConfig};
use crate::store::{MarketQuery, Store, database_url};

use super::save::Saver;

/// Run plugins over historical market files.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The venue of the data: Betfair stream files, or Hyperliquid
    /// recordings (order-book strategies, WIT 1.1; the options marked
    /// "Betfair" do not apply).
    #[arg(long, value_enum, default_value = "betfair")]
    venue: super::hyperliquid::VenueName,
    /// A plugin component (.wasm); repeat for several.
    #[arg(long = "plugin", required = true)]
    plugins: Vec<PathBuf>,
    /// A stream file (plain, .gz, .bz2) or a directory of them; repeatable.
    #[arg(long = "data", required_unless_present = "db")]
    data: Vec<PathBuf>,
    /// Without --data: replay markets stored in this database (see `clever
    /// ingest`), every one or those the filters below select. With --data:
    /// only where --save writes.
    #[arg(long)]
    db: Option<String>,
    /// With --db: this market (venue id, e.g. 1.206064380); repeatable.
    #[arg(long = "market", requires = "db")]
    markets: Vec<String>,
    /// With --db: markets scheduled on or after this day (YYYY-MM-DD, UTC).
    #[arg(long, requires = "db")]
    from: Option<chrono::NaiveDate>,
    /// With --db: markets scheduled on or before this day (YYYY-MM-DD, UTC).
    #[arg(long, requires = "db")]
    to: Option<chrono::NaiveDate>,
    /// With --db: markets at this track.
    #[arg(long, requires = "db")]
    track: Option<String>,
    /// With --db: markets of this event type (7 horses, 4339 greyhounds).
    #[arg(long, requires = "db")]
    event_type: Option<String>,
    /// With --db: markets of this type (WIN, PLACE).
    #[arg(long, requires = "db")]
    market_type: Option<String>,
    /// Strategy parameters as a JSON object, for every plugin.
    #[arg(long, default_value = "{}")]
    params: String,
    #[command(flatten)]
    settings: super::settings::Files,
    /// Worker threads; default: every core.
    #[arg(long)]
    threads: Option<usize>,
    /// Save the run, its configuration, its simulated orders and results
    /// to the database (--db, else $DATABASE_URL, else sqlite://clever.db);
    /// `clever runs list` and `clever runs show ID` read them back.
    #[arg(long)]
    save: bool,
    /// Also write each market's result per strategy to this CSV file.
    #[arg(long)]
    markets_csv: Option<PathBuf>,
    /// The bankroll the metrics measure against (drawdown share, ROI on
    /// bankroll, the daily returns of Sharpe, Sortino and Calmar).
    #[arg(long, default_value = "1000", value_parser = bankroll)]
    bankroll: Bankroll,
    /// Resample each strategy's settled markets this many times (a
    /// seeded bootstrap): percentiles of final profit and drawdown.
    #[arg(long, value_name = "N")]
    monte_carlo: Option<u32>,
    /// The Monte Carlo generator's seed: the same seed, the same figures.
    #[arg(long, default_value_t = 1, requires = "monte_carlo")]
    seed: u64,
    /// With --monte-carlo: the share of the bankroll (0 to 1) whose loss
    /// at any point counts as ruin.
    #[arg(long, default_value = "0.5", requires = "monte_carlo", value_parser = share)]
    ruin: f64,
    /// Also write a self-contained HTML report of the run to this file
    /// (metrics, equity and drawdown charts, Monte Carlo, per market).
    #[arg(long, value_name = "FILE.html")]
    report: Option<PathBuf>,
    /// One JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let started = Instant::now();
        let params =
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&self.params)
                .context("--params must be a JSON object")?;
        if self.venue == super::hyperliquid::VenueName::Hyperliquid {
            anyhow::ensure!(
                self.markets_csv.is_none() && self.report.is_none() && !self.data.is_empty(),
                "--venue hyperliquid needs --data; --markets-csv and --report are not yet for it"
            );
            let runtime = Runtime::new(RuntimeConfig {
                limits: self.settings.sandbox()?,
                ..RuntimeConfig::default()
            })?;
            let plugins = load(&runtime, &self.plugins)?;
            check_params(&plugins, &params, "--params")?;
            let save = self
                .save
                .then(|| crate::store::database_url(self.db.as_deref()));
            let run = super::backtest_perp::Run {
                data: &self.data,
                params: &self.params,
                save,
                json: self.json,
                risk: self.settings.risk()?,
            };
            return run.go(&runtime, plugins, started);
        }
        let risk = self.settings.risk()?;
        let sim = self.settings.simulation()?;
        let limits = self.settings.sandbox()?;
        let cores = cores();
        let threads = threads_or(self.threads, cores)?;
        let (jobs, stored) = self.jobs()?;
        let format = stream_format(cores, threads, jobs.len());
        // The first files start decompressing while the plugins load.
        let ahead = OpenedAhead::open(&format, &jobs, threads);
        let runtime = Runtime::new(RuntimeConfig {
            limits,
            ..RuntimeConfig::default()
        })?;
        let plugins = load(&runtime, &self.plugins)?;
        check_params(&plugins, &params, "--params")?;
        let saver = if self.save {
            let with_paths: Vec<_> = self.plugins.iter().cloned().zip(plugins.clone()).collect();
            let config = serde_json::json!({
                "data": self.data,
                "db": stored.as_ref().map(|s| s.store.url().to_owned()),
                "markets": self.markets,
                "from": self.from.map(|d| d.to_string()),
                "to": self.to.map(|d| d.to_string()),
                "track": self.track,
                "event_type": self.event_type,
                "market_type": self.market_type,
                "params": serde_json::from_str::<serde_json::Value>(&self.params)?,
                "risk": risk,
                "simulation": sim,
                "threads": threads,
                "plugins": plugins.iter().map(|p| serde_json::json!({
                    "name": p.descriptor().name,
                    "version": p.descriptor().version,
                    "sha256": p.sha256(),
                })).collect::<Vec<_>>(),
            });
            let url = database_url(self.db.as_deref());
            Some(Mutex::new(Saver::start(
                &url,
                &with_paths,
                &self.params,
                &config,
            )?))
        } else {
            None
        };
        let backtest = Backtest {
            runtime: &runtime,
            format: &format,
            plugins,
            params: self.params.clone(),
            risk,
            sim,
            threads,
            stored: stored.as_ref(),
            predictions: self.predictions(&jobs)?,
        };
        let csv = match &self.markets_csv {
            Some(path) => Some(MarketsCsv::create(path)?),
            None => None,
        };
        let bar = Bar {
            bar: progress_bar(jobs.len() as u64),
            csv: csv.map(Mutex::new),
            saver,
        };
        let mut report = backtest.run_jobs_ahead(&jobs, &ahead, &bar)?;
        bar.bar.finish_and_clear();
        for s in &report.strategies {
            let said = logged_warnings(&s.name, &s.version, s.warnings, &s.first_warnings);
            if let Some(message) = said {
                eprintln!("warning: {message}");
            }
        }
        if let Some(csv) = bar.csv {
            csv.into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .finish()?;
        }
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        report.measure(self.bankroll, self.monte_carlo());
        if let Some(path) = &self.report {
            super::report::backtest(&report).write(path)?;
            eprintln!("report written to {}", path.display());
        }
        if let Some(saver) = bar.saver {
            let run = saver
                .into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .finish(&report)?;
            eprintln!("saved as run {run}: `clever runs show {run}`");
        }
        if self.json {
            super::output::print_json(&report)
        } else {
            print_table(&report);
            Ok(())
        }
    }
}

impl Args {
    /// The predictions the plugins may read: those in the database of
    /// `--db` (or $DATABASE_URL) for the markets of `jobs` if they are
    /// stored, else all; none without a database.
    fn predictions(&self, jobs: &[Job]) -> anyhow::Result<Arc<dyn Predictions>> {
        let url = self
            .db
            .clone()
            .or_else(|| std::env::var("DATABASE_URL").ok());
        let stored: Vec<String> = (jobs.iter())
            .filter_map(|j| match j {
                Job::Stored(m) => Some(m.market_id.clone()),
                Job::File(_) => None,
            })
            .collect();
        let markets = (stored.len() == jobs.len()).then_some(stored.as_slice());
        super::predictions::book(url.as_deref(), markets)
    }

    fn monte_carlo(&self) -> Option<MonteCarlo> {
        self.monte_carlo.map(|samples| MonteCarlo {
            samples,
            seed: self.seed,
            ruin: self.ruin,
        })
    }

    /// The files to run, or the stored markets the filters select (with
    /// the database they come from).
    fn jobs(&self) -> anyhow::Result<(Vec<Job>, Option<Stored>)> {
        let filtered = !self.markets.is_empty()
            || self.from.is_some()
            || self.to.is_some()
            || self.track.is_some()
            || self.event_type.is_some()
            || self.market_type.is_some();
        anyhow::ensure!(
            !filtered || self.data.is_empty(),
            "--market, --from, --to, --track, --event-type and --market-type select stored \
             markets; they do not go with --data"
        );
        let db = match &self.db {
            Some(db) if self.data.is_empty() => db,
            // With --data, --db is only where --save writes.
            _ => {
                let files = data_files("--data", &self.data)?;
                return Ok((files.into_iter().map(Job::File).collect(), None));
            }
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let query = MarketQuery {
            market_ids: self.markets.clone(),
            from: self.from,
            to: self.to,
            track: self.track.clone(),
            event_type: self.event_type.clone(),
            market_type: self.market_type.clone(),
        };
        let (store, found) = runtime.block_on(async {
            let store = Store::open(&database_url(Some(db))).await?;
            let found = super::selection::selected(&store, &query).await?;
            anyhow::Ok((store, found))
        })?;
        let jobs = found.into_iter().map(Job::Stored).collect();
        Ok((jobs, Some(Stored { store, runtime })))
    }
}

/// Betfair's format, each file given its share of the cores: the cores
/// divided by the files running at once (one file on two cores gets both;
/// two files on eight cores, four each). A bzip2 file is inflated on its
/// share; a plain one given two or more is scanned on a thread of its own
/// and handed over flat (see docs/BENCHMARKS.md, eleventh sitting); with
/// as many files as cores, each is read on the thread that runs it. One
/// file at a time runs on this thread, which opens it: its scanning
/// thread and this one are then kept apart (twentieth sitting).
fn stream_format(cores: usize, threads: usize, files: usize) -> crate::betfair::StreamFormat {
    let running = threads.min(files);
    let format = crate::betfair::StreamFormat::spare_cores(cores_per_file(cores, running));
    if running == 1 {
        format.one_runner()
    } else {
        format
    }
}

/// The threads for each of `running` files on `cores` cores.
fn cores_per_file(cores: usize, running: usize) -> usize {
    (cores / running.max(1)).max(1)
}

/// The cores this process may use, as std reads them (its affinity and
/// any cgroup quota: a dozen system calls, so read once).
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `--threads`: at least one; every core if not given.
pub fn threads(asked: Option<usize>) -> anyhow::Result<usize> {
    threads_or(asked, cores())
}

/// `--threads`, `cores` if not given.
fn threads_or(asked: Option<usize>, cores: usize) -> anyhow::Result<usize> {
    match asked {
        Some(0) => anyhow::bail!("--threads must be at least 1"),
        Some(n) => Ok(n),
        None => Ok(cores),
    }
}

/// Load every plugin at `paths`, naming the one that fails; the first
/// error in the order given is reported.
///
/// One the compile cache holds is loaded on the calling thread: about a
/// millisecond, where handing it to a thread of its own cost a short
/// backtest more than it saved. The caller, asleep until that thread
/// ended, was woken onto the core a plain file's scanning thread had
/// taken meanwhile, and queued there for up to 4 ms while the other
/// core idled (docs/BENCHMARKS.md, twentieth sitting). Those that must
/// be compiled (a second or more each) compile side by side.
pub fn load(runtime: &Runtime, paths: &[PathBuf]) -> anyhow::Result<Vec<Arc<LoadedPlugin>>> {
    let mut loaded: Vec<_> = (paths.iter())
        .map(|path| {
            (runtime
                .load_file_cached(path)
                .map_err(|e| super::named(path, e)))
            .transpose()
        })
        .collect();
    let uncompiled: Vec<usize> = (0..paths.len()).filter(|&i| loaded[i].is_none()).collect();
    let compiled = compile_side_by_side(runtime, uncompiled.iter().map(|&i| &paths[i]));
    for (i, plugin) in uncompiled.into_iter().zip(compiled) {
        loaded[i] = Some(plugin);
    }
    loaded.into_iter().flatten().collect()
}

/// `params` checked against the parameters `plugins` declare (WIT 1.3),
/// an error naming `flag`: a misspelt name would otherwise run with its
/// default, unseen.
pub fn check_params(
    plugins: &[Arc<LoadedPlugin>],
    params: &serde_json::Map<String, serde_json::Value>,
    flag: &str,
) -> anyhow::Result<()> {
    crate::runtime::check_params(plugins, params).map_err(|e| anyhow::anyhow!("{flag}: {e}"))
}

/// Each plugin at `paths`, which the compile cache did not hold, compiled
/// (or loaded, if compiled meanwhile), each after the first on a thread
/// of its own; the results in order.
fn compile_side_by_side<'a>(
    runtime: &Runtime,
    paths: impl Iterator<Item = &'a PathBuf>,
) -> Vec<anyhow::Result<Arc<LoadedPlugin>>> {
    let load = |path: &PathBuf| {
        runtime
            .load_file_bytes(path)
            .map_err(|e| super::named(path, e))
    };
    let paths: Vec<&PathBuf> = paths.collect();
    let Some((first, rest)) = paths.split_first() else {
        return Vec::new();
    };
    std::thread::scope(|scope| {
        // A thread the system will not give loads its plugin here instead.
        let others: Vec<_> = (rest.iter())
            .map(|&path| {
                let thread = std::thread::Builder::new().spawn_scoped(scope, move || load(path));
                thread.map_err(|_| path)
            })
            .collect();
        let mut loaded = vec![load(first)];
        for other in others {
            loaded.push(match other {
                Ok(thread) => (thread.join())
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("loading a plugin panicked"))),
                Err(path) => load(path),
            });
        }
        loaded
    })
}

/// `--bankroll`: an amount of money above zero.
pub fn bankroll(text: &str) -> Result<Bankroll, String> {
    let amount: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not an amount"))?;
    let money = crate::market::Money::try_from(amount).map_err(|e| e.to_string())?;
    Bankroll::new(money).ok_or_else(|| format!("{text} is not above zero"))
}

/// `--ruin`: a share from 0 to 1.
pub fn share(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if (0.0..=1.0).contains(&x) => Ok(x),
        _ => Err(format!("{text:?} is not a share from 0 to 1 (0.5 is half)")),
    }
}

fn progress_bar(files: u64) -> ProgressBar {
    let bar = ProgressBar::new(files);
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} files, {msg} updates, eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message("0");
    bar
}

/// The progress bar on stderr (hidden when stderr is not a terminal), and
/// the per-market CSV if asked for.
struct Bar {
    bar: ProgressBar,
    csv: Option<Mutex<MarketsCsv>>,
    saver: Option<Mutex<Saver>>,
}

impl Progress for Bar {
    fn file_done(&self, _: &Path, updates: u64) {
        let done: u64 = self.bar.message().parse().unwrap_or(0);
        self.bar.set_message((done + updates).to_string());
        self.bar.inc(1);
    }
    fn warn(&self, message: String) {
        self.bar.suspend(|| eprintln!("warning: {message}"));
    }
    fn market_settled(&self, strategy: &StrategyOutcome, market: &MarketResult) {
        if let Some(saver) = &self.saver {
            saver
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .add(strategy, market);
        }
        if let Some(csv) = &self.csv {
            csv.lock()
                .unwrap_or_else(|p| p.into_inner())
                .row(strategy, market);
        }
    }
}

/// `--markets-csv`: one row per market and strategy, written as files finish.
struct MarketsCsv {
    path: PathBuf,
    out: std::io::BufWriter<std::fs::File>,
    error: Option<std::io::Error>,
}

impl MarketsCsv {
    fn create(path: &Path) -> anyhow::Result<Self> {
        let file = std::fs::File::create(path)
            .with_context(|| format!("--markets-csv {}", path.display()))?;
        let mut csv = MarketsCsv {
            path: path.to_owned(),
            out: std::io::BufWriter::new(file),
            error: None,
        };
        csv.line(format_args!(
            "market_id,strategy,version,orders,matched,gross_profit,commission,profit"
        ));
        Ok(csv)
    }

    fn row(&mut self, s: &StrategyOutcome, m: &MarketResult) {
        self.line(format_args!(
            "{},{},{},{},{:.2},{:.2},{:.2},{:.2}",
            m.market_id,
            s.name,
            s.version,
            m.figures.orders,
            m.figures.matched,
            m.figures.gross_profit,
            m.figures.commission,
            m.figures.profit
        ));
    }

    fn line(&mut self, args: std::fmt::Arguments<'_>) {
        if self.error.is_none()
            && let Err(e) = writeln!(self.out, "{args}")
        {
            self.error = Some(e);
        }
    }

    fn finish(mut self) -> anyhow::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e).with_context(|| format!("writing {}", self.path.display()));
        }
        self.out
            .flush()
            .with_context(|| format!("writing {}", self.path.display()))
    }
}

fn print_table(r: &Report) {
    println!(
        "{} markets, {} updates in {:.2} s ({:.0} updates/s)",
        r.markets,
        r.updates,
        r.elapsed_ms as f64 / 1000.0,
        r.updates as f64 / (r.elapsed_ms.max(1) as f64 / 1000.0)
    );
    println!(
        "{:<28} {:>7} {:>10} {:>10} {:>10} {:>10} {:>8} {:>8} {:>6} {:>11}",
        "strategy",
        "orders",
        "matched",
        "gross",
        "commission",
        "profit",
        "roi %",
        "rejected",
        "faults",
        "quarantined"
    );
    for s in &r.strategies {
        println!(
            "{:<28} {:>7} {:>10.2} {:>10.2} {:>10.2} {:>10.2} {:>8.2} {:>8} {:>6} {:>11}",
            format!("{}@{}", s.name, s.version),
            s.figures.orders,
            s.figures.matched,
            s.figures.gross_profit,
            s.figures.commission,
            s.figures.profit,
            s.roi * 100.0,
            s.rejected.values().sum::<u64>(),
            s.faults,
            if s.quarantined { "yes" } else { "no" }
        );
        for (reason, n) in &s.rejected {
            println!("  rejected {reason}: {n}");
        }
        for (what, n) in &s.sandbox_refused {
            println!("  refused by the sandbox, {what}: {n}");
        }
    }
    println!();
    let columns: Vec<super::metrics::Column<'_>> = (r.strategies.iter())
        .map(|s| (format!("{}@{}", s.name, s.version), s.metrics.as_ref()))
        .collect();
    super::metrics::print(&columns);
    for s in &r.strategies {
        if let Some(mc) = &s.monte_carlo {
            println!();
            super::metrics::print_monte_carlo(&format!("{}@{}", s.name, s.version), mc);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::cores_per_file;

    #[test]
    fn each_running_file_gets_its_share_of_the_cores() {
        // (cores, files running at once) -> threads for each file
        let cases = [
            (2, 1, 2),
            (2, 2, 1),
            (8, 2, 4),
            (8, 3, 2),
            (1, 4, 1),
            (4, 0, 4),
        ];
        for (cores, running, each) in cases {
            assert_eq!(
                cores_per_file(cores, running),
                each,
                "{cores} cores, {running} files"
            );
        }
    }
}

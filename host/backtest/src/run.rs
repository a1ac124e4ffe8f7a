//! [`Backtest`]: each file runs on its own engine with fresh plugin
//! instances, desks and simulated venues, on a pool of threads (one
//! worker is the calling thread). Results are
//! put back in file order before they are added up, so neither the thread
//! count nor the scheduling can change a figure.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context as _;

use super::report::{Report, Totals};
use clever_engine::{
    Clock, Desk, Engine, Format, MarketSource, Predictions, SimClock, StrategyOutcome,
};
use clever_market::MarketResult;
use clever_risk::{RiskBook, RiskLimits};
use clever_runtime::{LoadedPlugin, Runtime};
use clever_sdk::Timestamp;
use clever_sim::{SimConfig, SimVenue};
use clever_store::{Store, StoredMarket};

/// Told as the backtest goes.
pub trait Progress: Sync {
    /// A file is done.
    fn file_done(&self, path: &Path, updates: u64);
    /// Each market's result per strategy, in file order (after the files
    /// before it were told). Ignored unless wanted.
    fn market_settled(&self, _strategy: &StrategyOutcome, _market: &MarketResult) {}
    /// Something the user should know (a bad line, say).
    fn warn(&self, message: String);
}

/// One unit of work: a file, or a market stored in the database.
#[derive(Debug, Clone, PartialEq)]
pub enum Job {
    /// A stream file.
    File(PathBuf),
    /// A stored market, replayed from its stored stream.
    Stored(StoredMarket),
}

impl Job {
    fn name(&self) -> &Path {
        match self {
            Job::File(path) => path,
            Job::Stored(m) => Path::new(&m.market_id),
        }
    }
}

/// Files opened before a run starts, so that their decompression (on a
/// thread of its own) overlaps what comes first, such as loading plugins.
/// A file that fails to open is left to fail, with the same error, when
/// its job runs.
#[derive(Default)]
pub struct OpenedAhead(Mutex<Vec<(PathBuf, Box<dyn MarketSource + Send>)>>);

impl OpenedAhead {
    /// Open the first `count` file jobs of `jobs`.
    pub fn open(format: &dyn Format, jobs: &[Job], count: usize) -> Self {
        let opened = jobs
            .iter()
            .filter_map(|job| match job {
                Job::File(path) => Some(path),
                Job::Stored(_) => None,
            })
            .take(count)
            .filter_map(|path| Some((path.clone(), format.open_file(path).ok()?)))
            .collect();
        OpenedAhead(Mutex::new(opened))
    }

    fn take(&self, path: &Path) -> Option<Box<dyn MarketSource + Send>> {
        let mut opened = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let at = opened.iter().position(|(p, _)| p == path)?;
        Some(opened.swap_remove(at).1)
    }
}

/// The database stored markets are read from, with the runtime its pool
/// lives on (workers block on it for each market's lines).
pub struct Stored {
    /// The database.
    pub store: Store,
    /// A multi-threaded runtime (so any worker thread may block on it).
    pub runtime: tokio::runtime::Runtime,
}

/// A backtest's settings.
pub struct Backtest<'a> {
    /// The runtime the plugins were loaded into.
    pub runtime: &'a Runtime,
    /// The format of the market files and stored lines.
    pub format: &'a dyn Format,
    /// The plugins, in report order.
    pub plugins: Vec<Arc<LoadedPlugin>>,
    /// Parameters (a JSON object) for every plugin's `init`.
    pub params: String,
    /// Risk limits per strategy.
    pub risk: RiskLimits,
    /// The simulated exchange's settings.
    pub sim: SimConfig,
    /// Workers (at least 1): with one, the calling thread does the work.
    pub threads: usize,
    /// Where stored markets come from, for [`Job::Stored`].
    pub stored: Option<&'a Stored>,
    /// The model predictions the plugins may read (each as of its `now`).
    pub predictions: Arc<dyn Predictions>,
}

/// What one file gave.
pub struct FileOutcome {
    /// Markets in it.
    pub markets: u64,
    /// Updates in it.
    pub updates: u64,
    /// Per strategy, in plugin order.
    pub strategies: Vec<StrategyOutcome>,
}

impl Backtest<'_> {
    /// Run every file; the report adds them up in file order. Outcomes are
    /// folded in as soon as every earlier file is done, so memory does not
    /// grow with the number of files.
    pub fn run(&self, files: &[PathBuf], progress: &dyn Progress) -> anyhow::Result<Report> {
        let jobs: Vec<Job> = files.iter().cloned().map(Job::File).collect();
        self.run_jobs(&jobs, progress)
    }

    /// Run every job; the report adds them up in job order. It blocks
    /// (stored markets are read by blocking on the store's runtime): call
    /// it from a thread that may block, not from an async task.
    pub fn run_jobs(&self, files: &[Job], progress: &dyn Progress) -> anyhow::Result<Report> {
        self.run_jobs_ahead(files, &OpenedAhead::default(), progress)
    }

    /// [`Backtest::run_jobs`], taking the files in `ahead` as they were opened.
    pub fn run_jobs_ahead(
        &self,
        files: &[Job],
        ahead: &OpenedAhead,
        progress: &dyn Progress,
    ) -> anyhow::Result<Report> {
        let next = AtomicUsize::new(0);
        let fold = Mutex::new(Fold {
            totals: Totals::new(&self.plugins),
            next: 0,
            waiting: BTreeMap::new(),
            failed: None,
        });
        let threads = self.threads.clamp(1, files.len().max(1));
        let work = || {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= files.len() || lock(&fold).failed.is_some() {
                    return;
                }
                let outcome = self.run_job_ahead(&files[i], ahead, progress);
                if let Ok(o) = &outcome {
                    progress.file_done(files[i].name(), o.updates);
                }
                lock(&fold).put(i, outcome, progress);
            }
        };
        if threads == 1 {
            // One worker is the calling thread: no thread to start and stop.
            work();
        } else {
            std::thread::scope(|scope| {
                for _ in 0..threads {
                    scope.spawn(work);
                }
            });
        }
        let fold = fold.into_inner().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = fold.failed {
            return Err(e);
        }
        anyhow::ensure!(fold.next == files.len(), "a worker thread stopped early");
        Ok(fold.totals.finish())
    }

    /// Run one file on its own engine.
    pub fn run_file(&self, path: &Path, progress: &dyn Progress) -> anyhow::Result<FileOutcome> {
        self.run_job(&Job::File(path.to_owned()), progress)
    }

    /// Run one job on its own engine.
    pub fn run_job(&self, job: &Job, progress: &dyn Progress) -> anyhow::Result<FileOutcome> {
        self.run_job_ahead(job, &OpenedAhead::default(), progress)
    }

    fn run_job_ahead(
        &self,
        job: &Job,
        ahead: &OpenedAhead,
        progress: &dyn Progress,
    ) -> anyhow::Result<FileOutcome> {
        let mut engine = Engine::new(SimClock::default());
        for plugin in &self.plugins {
            let desk = Desk::new(
                RiskBook::new(self.risk.clone()),
                Box::new(SimVenue::new(self.sim.clone())),
            )
            .with_predictions(self.predictions.clone());
            let instance = self
                .runtime
                .instantiate(plugin, &self.params, Timestamp(0), Box::new(desk))
                .with_context(|| format!("starting {}", plugin.descriptor().name))?;
            engine.add_strategy(instance);
        }
        let name = job.name();
        match job {
            Job::File(path) => {
                let mut source = match ahead.take(path) {
                    Some(source) => source,
                    None => self
                        .format
                        .open_file(path)
                        .map_err(|e| anyhow::anyhow!("{e}"))?,
                };
                drive(&mut engine, source.as_mut(), name, progress);
            }
            Job::Stored(market) => {
                let stored = self
                    .stored
                    .context("a stored market needs a database to read it from")?;
                let mut lines = stored.store.stream_lines(stored.runtime.handle(), market);
                let origin = format!("stored market {}", market.market_id);
                let mut source =
                    self.format
                        .replay(Box::new(&mut lines), &origin, &market.market_id);
                drive(&mut engine, source.as_mut(), name, progress);
                drop(source);
                if let Some(e) = lines.failure() {
                    return Err(e.into());
                }
            }
        }
        // The wrong kind of file, say: it would otherwise add nothing unseen.
        if engine.markets() == 0 {
            progress.warn(format!(
                "{}: no market in it, so it adds nothing to the report",
                name.display()
            ));
        }
        Ok(FileOutcome {
            markets: engine.markets(),
            updates: engine.updates(),
            strategies: engine.outcomes(),
        })
    }
}

/// Run a source to its end, warning about its bad lines (the first three,
/// then how many in all).
fn drive<C: Clock>(
    engine: &mut Engine<C>,
    source: &mut dyn MarketSource,
    name: &Path,
    progress: &dyn Progress,
) {
    let mut bad_lines = 0u64;
    engine.run(source, |e| {
        bad_lines += 1;
        if bad_lines <= 3 {
            progress.warn(format!("skipped: {e}"));
        }
    });
    if bad_lines > 3 {
        progress.warn(format!(
            "{}: {bad_lines} lines skipped in all",
            name.display()
        ));
    }
}

/// Outcomes waiting for the files before them, and the totals so far.
struct Fold {
    totals: Totals,
    next: usize,
    waiting: BTreeMap<usize, FileOutcome>,
    failed: Option<anyhow::Error>,
}

impl Fold {
    fn put(&mut self, i: usize, outcome: anyhow::Result<FileOutcome>, progress: &dyn Progress) {
        match outcome {
            Ok(o) => {
                self.waiting.insert(i, o);
            }
            Err(e) => {
                self.failed.get_or_insert(e);
                return;
            }
        }
        while let Some(o) = self.waiting.remove(&self.next) {
            for strategy in &o.strategies {
                for market in &strategy.markets {
                    progress.market_settled(strategy, market);
                }
            }
            self.totals.add(&o);
            self.next += 1;
        }
    }
}

fn lock(fold: &Mutex<Fold>) -> std::sync::MutexGuard<'_, Fold> {
    fold.lock().unwrap_or_else(|p| p.into_inner())
}

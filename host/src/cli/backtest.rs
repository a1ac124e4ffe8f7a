//! `clever backtest`: run plugins over Betfair market files through the
//! engine, the simulated exchange and risk, and report per strategy.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};

use crate::backtest::{Backtest, Progress, Report, data_files};
use crate::engine::StrategyOutcome;
use crate::exec::MarketResult;
use crate::exec::SimConfig;
use crate::risk::RiskLimits;
use crate::runtime::{Limits, Runtime, RuntimeConfig};

/// Run plugins over historical market files.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A plugin component (.wasm); repeat for several.
    #[arg(long = "plugin", required = true)]
    plugins: Vec<PathBuf>,
    /// A stream file (plain, .gz, .bz2) or a directory of them; repeatable.
    #[arg(long = "data", required = true)]
    data: Vec<PathBuf>,
    /// Strategy parameters as a JSON object, for every plugin.
    #[arg(long, default_value = "{}")]
    params: String,
    /// Risk limits: a TOML file with a `[risk]` table (see examples/risk.toml).
    #[arg(long)]
    risk: Option<PathBuf>,
    /// Simulated exchange settings: a TOML file with a `[simulation]` table
    /// (see examples/simulation.toml).
    #[arg(long)]
    simulation: Option<PathBuf>,
    /// Sandbox limits: a TOML file with a `[sandbox]` table.
    #[arg(long)]
    limits: Option<PathBuf>,
    /// Worker threads; default: every core.
    #[arg(long)]
    threads: Option<usize>,
    /// Also write each market's result per strategy to this CSV file.
    #[arg(long)]
    markets_csv: Option<PathBuf>,
    /// One JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let started = Instant::now();
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&self.params)
            .context("--params must be a JSON object")?;
        let risk = match &self.risk {
            Some(path) => RiskLimits::from_toml_str(&read(path)?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
            None => RiskLimits::default(),
        };
        let sim = match &self.simulation {
            Some(path) => SimConfig::from_toml_str(&read(path)?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
            None => SimConfig::default(),
        };
        let limits = match &self.limits {
            Some(path) => Limits::from_toml_file(path)?,
            None => Limits::default(),
        };
        let threads = match self.threads {
            Some(0) => anyhow::bail!("--threads must be at least 1"),
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        let files = data_files(&self.data)?;
        let runtime = Runtime::new(RuntimeConfig {
            limits,
            ..RuntimeConfig::default()
        })?;
        let mut plugins = Vec::new();
        for path in &self.plugins {
            let plugin = runtime
                .load_file(path)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            plugins.push(plugin);
        }
        let backtest = Backtest {
            runtime: &runtime,
            plugins,
            params: self.params.clone(),
            risk,
            sim,
            threads,
        };
        let csv = match &self.markets_csv {
            Some(path) => Some(MarketsCsv::create(path)?),
            None => None,
        };
        let bar = Bar {
            bar: progress_bar(files.len() as u64),
            csv: csv.map(Mutex::new),
        };
        let mut report = backtest.run(&files, &bar)?;
        bar.bar.finish_and_clear();
        if let Some(csv) = bar.csv {
            csv.into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .finish()?;
        }
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        if self.json {
            super::output::print_json(&report)
        } else {
            print_table(&report);
            Ok(())
        }
    }
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
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
            m.orders,
            m.matched,
            m.gross_profit,
            m.commission,
            m.profit
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
            s.orders,
            s.matched,
            s.gross_profit,
            s.commission,
            s.profit,
            s.roi * 100.0,
            s.rejected.values().sum::<u64>(),
            s.faults,
            if s.quarantined { "yes" } else { "no" }
        );
        for (reason, n) in &s.rejected {
            println!("  rejected {reason}: {n}");
        }
    }
}

//! `clever ingest`: Betfair stream files (or, with `--venue hyperliquid`,
//! recorded Hyperliquid lines and candle snapshots) into the database,
//! validated, with refused records kept as dead letters.

use std::path::PathBuf;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::hyperliquid::VenueName;
use crate::backtest::data_files;
use crate::store::{Store, database_url};

/// Read market files into the database.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Betfair: stream files (plain, .gz, .bz2) or directories of them.
    /// Hyperliquid: recorded lines (.jsonl) or REST candle snapshots
    /// (.json), or directories of them.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The venue the files are from.
    #[arg(long, value_enum, default_value = "betfair")]
    venue: VenueName,
    /// Database URL: sqlite://FILE or postgres://USER@HOST/DB
    /// [default: $DATABASE_URL, else sqlite://clever.db]
    #[arg(long)]
    db: Option<String>,
    /// One JSON object instead of a summary.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Report {
    markets: u64,
    snapshots: u64,
    dead_letters: u64,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        if self.venue == VenueName::Hyperliquid {
            return self.run_perp();
        }
        let files = data_files("ingest", &self.paths)?;
        let started = Instant::now();
        let bar = progress(files.len());
        // Two threads: the database writes a batch while the next is parsed.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let total = runtime.block_on(async {
            let store = Store::open(&database_url(self.db.as_deref())).await?;
            let mut ingester = store.ingester().await?;
            for file in &files {
                let name = file.display().to_string();
                let mut on_lines = |lines| bar.set_message(format!("{name}: {lines} lines"));
                let markets =
                    crate::betfair::ingest::ingest_into(&mut ingester, file, &mut on_lines).await?;
                if markets == 0 {
                    let why = "no market in it, so nothing of it is stored";
                    bar.suspend(|| eprintln!("warning: {name}: {why}"));
                }
                bar.inc(1);
            }
            let total = ingester.finish().await?;
            store.close().await;
            anyhow::Ok(total)
        })?;
        bar.finish_and_clear();
        let seconds = started.elapsed().as_secs_f64();
        if self.json {
            super::output::print_json(&Report {
                markets: total.markets,
                snapshots: total.snapshots,
                dead_letters: total.dead_letters,
            })?;
        } else {
            println!(
                "{} files: {} markets, {} odds snapshots, {} stream lines, {} dead letters in {:.2} s ({:.0} snapshots/s)",
                files.len(),
                total.markets,
                total.snapshots,
                total.changes,
                total.dead_letters,
                seconds,
                total.snapshots as f64 / seconds.max(1e-9)
            );
        }
        if total.dead_letters > 0 {
            eprintln!(
                "warning: {} record(s) refused; see the dead_letters table for why and where",
                total.dead_letters
            );
        }
        Ok(())
    }

    /// `--venue hyperliquid`: candles and book snapshots.
    fn run_perp(&self) -> anyhow::Result<()> {
        let files = clever_hyperliquid::data::files_in(&self.paths, &["jsonl", "json"])
            .map_err(|e| anyhow::anyhow!(e))?;
        anyhow::ensure!(
            !files.is_empty(),
            "no .jsonl or .json files in the paths given"
        );
        let started = Instant::now();
        let bar = progress(files.len());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let total = runtime.block_on(async {
            let store = Store::open(&database_url(self.db.as_deref())).await?;
            let total = super::ingest_perp::ingest(&store, &files, || bar.inc(1)).await;
            store.close().await;
            total
        })?;
        bar.finish_and_clear();
        if self.json {
            super::output::print_json(&total)?;
        } else {
            println!(
                "{} files: {} candles, {} new book snapshots, {} dead letters in {:.2} s",
                files.len(),
                total.candles,
                total.books,
                total.dead_letters,
                started.elapsed().as_secs_f64()
            );
        }
        if total.dead_letters > 0 {
            eprintln!(
                "warning: {} record(s) refused; see the dead_letters table for why and where",
                total.dead_letters
            );
        }
        Ok(())
    }
}

fn progress(files: usize) -> ProgressBar {
    let bar = ProgressBar::new(files as u64);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} files, {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

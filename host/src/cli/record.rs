//! `clever record hyperliquid`: write Hyperliquid's live feed (books,
//! trades, one-minute candles) to files, a line per WebSocket message as
//! it came, a file per coin, so that `clever exchange --venue hyperliquid`
//! and backtests can replay it.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use clever_hyperliquid::feed::{FeedEvent, follow};
use serde_json::{Value, json};

/// Record a venue's live market data.
#[derive(Debug, clap::Subcommand)]
pub enum Args {
    /// Hyperliquid's books, trades and candles, one file per coin.
    Hyperliquid(HyperliquidArgs),
}

/// What to record from Hyperliquid.
#[derive(Debug, clap::Args)]
pub struct HyperliquidArgs {
    /// Coins, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    coins: Vec<String>,
    /// Directory to write into (created if missing): COIN.jsonl, appended to.
    #[arg(long)]
    out: PathBuf,
    /// The venue's WebSocket.
    #[arg(long, default_value = "wss://api.hyperliquid.xyz/ws")]
    url: String,
    /// Candle interval to record.
    #[arg(long, default_value = "1m")]
    interval: String,
    /// Stop after this many seconds (by default at Ctrl-C).
    #[arg(long)]
    seconds: Option<u64>,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let Args::Hyperliquid(args) = self;
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        tokio.block_on(args.record())
    }
}

impl HyperliquidArgs {
    async fn record(self) -> anyhow::Result<()> {
        let coins: Vec<String> = self.coins.iter().map(|c| c.trim().to_owned()).collect();
        std::fs::create_dir_all(&self.out)
            .with_context(|| format!("creating {}", self.out.display()))?;
        let mut files = HashMap::new();
        for coin in &coins {
            files.insert(coin.clone(), CoinFile::open(&self.out, coin)?);
        }
        let subscriptions: Vec<Value> = (coins.iter())
            .flat_map(|coin| {
                [
                    json!({"type": "l2Book", "coin": coin}),
                    json!({"type": "trades", "coin": coin}),
                    json!({"type": "candle", "coin": coin, "interval": self.interval}),
                ]
            })
            .collect();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let seconds = self.seconds;
        tokio::spawn(async move {
            match seconds {
                Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
                None => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
            let _ = stop.send(true);
        });
        eprintln!(
            "recording {} from {} into {} ({})",
            coins.join(", "),
            self.url,
            self.out.display(),
            seconds.map_or("Ctrl-C stops".into(), |s| format!("for {s} s"))
        );
        let mut failed = None;
        let mut progress = Instant::now();
        follow(&self.url, &subscriptions, stopped, |event| match event {
            FeedEvent::Data { text, value, .. } => {
                let Some(file) = coin_of(value).and_then(|c| files.get_mut(c)) else {
                    return;
                };
                if let Err(e) = file.write(text) {
                    failed.get_or_insert(e);
                }
                if progress.elapsed() >= Duration::from_secs(10) {
                    progress = Instant::now();
                    let counts: Vec<String> = files
                        .iter()
                        .map(|(c, f)| format!("{c} {}", f.lines))
                        .collect();
                    eprintln!("recorded lines: {}", counts.join(", "));
                }
            }
            FeedEvent::Connected => {
                eprintln!("connected; subscribed to {} feeds", subscriptions.len())
            }
            // The feed logs why, and when it tries again.
            FeedEvent::Lost { .. } => {}
        })
        .await;
        for (coin, file) in &mut files {
            file.out
                .flush()
                .with_context(|| format!("writing {coin}"))?;
            eprintln!("{coin}: {} lines in {}", file.lines, file.path.display());
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// The coin a data frame is about.
fn coin_of(value: &Value) -> Option<&str> {
    let data = &value["data"];
    match value["channel"].as_str()? {
        "l2Book" => data["coin"].as_str(),
        "trades" => data[0]["coin"].as_str(),
        "candle" => data["s"].as_str().or_else(|| data[0]["s"].as_str()),
        _ => None,
    }
}

struct CoinFile {
    path: PathBuf,
    out: BufWriter<File>,
    lines: u64,
}

impl CoinFile {
    fn open(dir: &Path, coin: &str) -> anyhow::Result<CoinFile> {
        anyhow::ensure!(
            !coin.is_empty()
                && coin
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "coin {coin:?}: letters and digits only (it names a file)"
        );
        let path = dir.join(format!("{coin}.jsonl"));
        let file = (File::options().create(true).append(true).open(&path))
            .with_context(|| format!("opening {}", path.display()))?;
        Ok(CoinFile {
            path,
            out: BufWriter::new(file),
            lines: 0,
        })
    }

    fn write(&mut self, text: &str) -> anyhow::Result<()> {
        writeln!(self.out, "{text}").with_context(|| format!("writing {}", self.path.display()))?;
        self.lines += 1;
        Ok(())
    }
}

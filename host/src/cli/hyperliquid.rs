//! The Hyperliquid halves of `clever gen` and `clever exchange`: generated
//! perpetual markets as recorded WebSocket lines, and a local Hyperliquid
//! that replays them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clever_hyperliquid::generate::{GenConfig, generate};
use clever_hyperliquid::{Address, Universe};
use clever_hyperliquid_exchange::{Exchange, IDLE, Rates};
use rust_decimal::Decimal;

/// Which venue a command is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VenueName {
    /// The Betfair Exchange.
    Betfair,
    /// Hyperliquid perpetuals.
    Hyperliquid,
}

/// What `clever gen --venue hyperliquid` takes.
#[derive(Debug, clap::Args)]
pub struct GenArgs {
    /// Hyperliquid: coins to generate, comma-separated (BTC, ETH, SOL).
    #[arg(long, value_delimiter = ',', default_value = "BTC,ETH")]
    pub coins: Vec<String>,
    /// Hyperliquid: minutes of market.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..))]
    pub minutes: u32,
    /// Hyperliquid: milliseconds between books.
    #[arg(long, default_value_t = 1000)]
    pub step_ms: i64,
    /// Hyperliquid: when the market starts (RFC 3339); by default
    /// 2026-01-01T00:00:00Z, so the same seed writes the same bytes.
    #[arg(long)]
    pub start: Option<chrono::DateTime<chrono::Utc>>,
}

/// Write generated perpetual markets into `out`, a file per coin.
pub fn gen_markets(args: &GenArgs, seed: u64, out: &Path) -> anyhow::Result<()> {
    let start = args
        .start
        .map_or(1_767_225_600_000, |t| t.timestamp_millis());
    let config = GenConfig {
        coins: args.coins.iter().map(|c| c.trim().to_uppercase()).collect(),
        minutes: args.minutes,
        seed,
        start_ms: start,
        step_ms: args.step_ms,
    };
    let coins = generate(&config, &Universe::standard()).map_err(|e| anyhow::anyhow!(e))?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    for (coin, lines) in coins {
        let path = out.join(format!("{coin}.jsonl"));
        let text = lines.join("\n") + "\n";
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        eprintln!(
            "wrote {} lines of {coin} into {}",
            lines.len(),
            path.display()
        );
    }
    Ok(())
}

/// What `clever exchange --venue hyperliquid` takes.
#[derive(Debug, clap::Args)]
pub struct ExchangeArgs {
    /// Hyperliquid: where /info, /exchange and /ws listen (plain HTTP).
    #[arg(long, default_value = "127.0.0.1:3001")]
    pub listen: SocketAddr,
    /// Hyperliquid: an account, `0xADDRESS` or `0xADDRESS=USDC` (10000 USDC
    /// if not given); repeat for more. Actions signed by any other key are
    /// refused, as the venue refuses an unknown signer.
    #[arg(long = "account")]
    pub accounts: Vec<String>,
    /// Hyperliquid: the perpetuals listed, as an /info `meta` reply (JSON);
    /// BTC, ETH and SOL by default.
    #[arg(long)]
    pub meta: Option<PathBuf>,
    /// Hyperliquid: funding each position pays an hour, of its value.
    #[arg(long, default_value_t = Rates::default().funding_hourly)]
    pub funding_hourly: Decimal,
    /// Hyperliquid: seconds a WebSocket the exchange has sent nothing to
    /// stays open.
    #[arg(long, default_value_t = IDLE.as_secs())]
    pub idle_secs: u64,
    /// Hyperliquid: check signatures as mainnet does (source `a`); by
    /// default as testnet (`b`), which the official SDK signs for any URL
    /// but mainnet's.
    #[arg(long)]
    pub mainnet_signatures: bool,
}

/// Parse `0xADDRESS[=USDC]`.
fn account(text: &str) -> anyhow::Result<(Address, Decimal)> {
    let (address, usdc) = text.split_once('=').unwrap_or((text, "10000"));
    let address: Address =
        (address.trim().to_lowercase().parse()).with_context(|| format!("--account {text:?}"))?;
    let usdc: Decimal = (usdc.trim().parse())
        .with_context(|| format!("--account {text:?}: the USDC after = is not a number"))?;
    anyhow::ensure!(
        usdc >= Decimal::ZERO,
        "--account {text:?}: USDC must not be negative"
    );
    Ok((address, usdc))
}

/// Run a local Hyperliquid until Ctrl-C.
pub async fn serve_exchange(
    args: &ExchangeArgs,
    replay: Vec<PathBuf>,
    speed: f64,
    wait_for_subscriber: bool,
) -> anyhow::Result<()> {
    let accounts: Vec<(Address, Decimal)> = args
        .accounts
        .iter()
        .map(|a| account(a))
        .collect::<Result<_, _>>()?;
    anyhow::ensure!(
        !accounts.is_empty(),
        "give the exchange at least one --account 0xADDRESS"
    );
    let universe = match &args.meta {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let json = serde_json::from_str(&text)
                .with_context(|| format!("{}: not JSON", path.display()))?;
            Universe::from_json(json).map_err(|e| super::named(path, e))?
        }
        None => Universe::standard(),
    };
    let exchange = Exchange {
        universe,
        rates: Rates {
            funding_hourly: args.funding_hourly,
            ..Rates::default()
        },
        speed,
        listen: args.listen,
        mainnet: args.mainnet_signatures,
        idle: Duration::from_secs(args.idle_secs),
        wait_for_subscriber,
        ..Exchange::local(replay, accounts)
    };
    // Ctrl-C or SIGTERM stops it, from the moment it says where it listens.
    let mut stop = super::serve::signalled();
    let running = exchange.start().await.map_err(|e| anyhow::anyhow!(e))?;
    if running.skipped > 0 {
        eprintln!(
            "skipped {} lines that were not messages (see the log)",
            running.skipped
        );
    }
    // One line for scripts to read where to connect.
    println!(
        "{}",
        serde_json::json!({"http": format!("http://{}", running.addr), "ws": format!("ws://{}/ws", running.addr)})
    );
    if wait_for_subscriber {
        eprintln!("waiting for a WebSocket subscription before replaying");
    }
    tokio::select! {
        () = running.shared.replayed() => {}
        () = &mut stop => return Ok(()),
    }
    eprintln!("replay done; still serving (Ctrl-C stops)");
    println!("{}", serde_json::json!({"replayed": true}));
    std::io::Write::flush(&mut std::io::stdout()).context("writing to stdout")?;
    stop.await;
    Ok(())
}

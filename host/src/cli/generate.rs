//! `clever gen`: write generated racing markets as Betfair stream files,
//! or perpetual markets as recorded Hyperliquid WebSocket lines.

use std::path::PathBuf;

use super::hyperliquid::{GenArgs, VenueName, gen_markets};
use crate::betfair::generate::{GenConfig, generate};

/// Write plausible markets: racing as Betfair stream files, or perpetuals
/// as Hyperliquid WebSocket lines.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The venue whose markets to write.
    #[arg(long, value_enum, default_value = "betfair")]
    venue: VenueName,
    #[command(flatten)]
    hyperliquid: GenArgs,
    /// Betfair: markets to generate.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    markets: u32,
    /// Seed: the same seed writes the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Directory to write into (created if missing); one file per market (Betfair) or coin (Hyperliquid).
    #[arg(long)]
    out: PathBuf,
    /// Betfair: price updates before the off, per market.
    #[arg(long, default_value_t = 120)]
    pre_off_updates: usize,
    /// Betfair: price updates in play, per market.
    #[arg(long, default_value_t = 60)]
    in_play_updates: usize,
    /// Betfair: seconds between one market's off and the next's (0: all at once).
    #[arg(long, default_value_t = 900)]
    spacing_secs: u32,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        if self.venue == VenueName::Hyperliquid {
            return gen_markets(&self.hyperliquid, self.seed, &self.out);
        }
        anyhow::ensure!(
            self.in_play_updates > 0,
            "--in-play-updates must be at least 1"
        );
        let config = GenConfig {
            markets: self.markets as usize,
            seed: self.seed,
            pre_off_updates: self.pre_off_updates,
            in_play_updates: self.in_play_updates,
            spacing_ms: i64::from(self.spacing_secs) * 1000,
        };
        let paths = generate(&config, &self.out)
            .map_err(|e| anyhow::anyhow!("writing into {}: {e}", self.out.display()))?;
        eprintln!("wrote {} markets into {}", paths.len(), self.out.display());
        Ok(())
    }
}

//! `clever gen`: write generated racing markets as Betfair stream files.

use std::path::PathBuf;

use crate::betfair::generate::{GenConfig, generate};

/// Write plausible racing markets as Betfair stream files.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Markets to generate.
    #[arg(long, default_value_t = 10)]
    markets: usize,
    /// Seed: the same seed writes the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Directory to write into (created if missing); one file per market.
    #[arg(long)]
    out: PathBuf,
    /// Price updates before the off, per market.
    #[arg(long, default_value_t = 120)]
    pre_off_updates: usize,
    /// Price updates in play, per market.
    #[arg(long, default_value_t = 60)]
    in_play_updates: usize,
    /// Seconds between one market's off and the next's (0: all at once).
    #[arg(long, default_value_t = 900)]
    spacing_secs: u32,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.in_play_updates > 0,
            "--in-play-updates must be at least 1"
        );
        let config = GenConfig {
            markets: self.markets,
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

//! `clever odds latest MARKET`: each runner's latest stored odds.

use crate::store::{Store, database_url};

/// Stored odds.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Each runner's latest odds in a market (from `clever ingest`).
    Latest {
        /// The market id, e.g. 1.197931750.
        market: String,
        /// Database URL [default: $DATABASE_URL, else sqlite://clever.db]
        #[arg(long)]
        db: Option<String>,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let Command::Latest { market, db, json } = self.command;
        let url = database_url(db.as_deref());
        let odds = super::block_on(async {
            let store = Store::open(&url).await?;
            let odds = store.latest_odds("betfair", &market).await;
            store.close().await;
            anyhow::Ok(odds?)
        })?;
        if odds.is_empty() {
            anyhow::bail!(
                "{}: no stored odds for market {market} (ingest it with `clever ingest`)",
                crate::store::without_password(&url)
            );
        }
        if json {
            return super::output::print_json(&odds);
        }
        let price = |p: Option<f64>| p.map_or("-".into(), |p| p.to_string());
        println!(
            "{:>12} {:>8} {:>8} {:>8} {:>12}  published",
            "runner", "back", "lay", "last", "traded"
        );
        for o in &odds {
            let when = chrono::DateTime::from_timestamp_millis(o.published_at)
                .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string())
                .unwrap_or_default();
            println!(
                "{:>12} {:>8} {:>8} {:>8} {:>12.2}  {when}",
                o.selection_id,
                price(o.back_price),
                price(o.lay_price),
                price(o.last_traded),
                o.traded_volume
            );
        }
        Ok(())
    }
}

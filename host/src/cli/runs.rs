//! `clever runs list | show ID`: saved backtest runs.

use crate::store::{RunRow, Store, database_url};

/// Saved backtest runs.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
    /// Database URL [default: $DATABASE_URL, else sqlite://clever.db]
    #[arg(long, global = true)]
    db: Option<String>,
    /// JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Every saved run, newest first.
    List,
    /// One run: its configuration, results and order count.
    Show {
        /// The run's id.
        id: i64,
    },
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let url = database_url(self.db.as_deref());
        let runs = super::block_on(async {
            let store = Store::open(&url).await?;
            let runs = match self.command {
                Command::List => store.runs().await?,
                Command::Show { id } => match store.run(id).await? {
                    Some(run) => vec![run],
                    None => anyhow::bail!("{}: no run {id} (see `clever runs list`)", store.url()),
                },
            };
            store.close().await;
            anyhow::Ok(runs)
        })?;
        if self.json {
            return super::output::print_json(&runs);
        }
        for run in &runs {
            print_run(run);
        }
        if runs.is_empty() {
            println!("no saved runs (save one with `clever backtest --save`)");
        }
        Ok(())
    }
}

fn print_run(run: &RunRow) {
    let started = chrono::DateTime::from_timestamp_millis(run.started_at)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default();
    println!(
        "run {}: {started}, {} markets, {} updates, {} orders, {:.2} s",
        run.id,
        run.markets,
        run.updates,
        run.orders,
        run.elapsed_ms as f64 / 1000.0
    );
    println!("  config: {}", run.config);
    for r in &run.results {
        println!(
            "  {:<28} orders {:>6}  matched {:>10.2}  gross {:>9.2}  commission {:>7.2}  profit {:>9.2}  roi {:>7.2}%",
            format!("{}@{}", r.name, r.version),
            r.orders,
            r.matched,
            r.gross_profit,
            r.commission,
            r.profit,
            r.roi * 100.0
        );
    }
}

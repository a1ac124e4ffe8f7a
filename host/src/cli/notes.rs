//! `clever notes`: what was learned from a strategy version's trades (the
//! seed's learning entries): add a note, optionally about one trade, and
//! list a version's trades (in money and in R multiples) and notes.

use crate::store::{Store, database_url};

/// Notes on strategy versions, and the trades they are about.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    out: super::output::DbAndFormat,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Add a note to NAME@VERSION.
    Add {
        /// The strategy version, NAME@VERSION.
        version: String,
        /// What was learned.
        text: String,
        /// The trade it is about (an id from `clever notes list`).
        #[arg(long)]
        trade: Option<i64>,
    },
    /// A strategy's (or one version's) trades and notes.
    List {
        /// NAME or NAME@VERSION.
        strategy: String,
    },
}

fn split(text: &str) -> (&str, Option<&str>) {
    match text.split_once('@') {
        Some((name, version)) => (name, Some(version)),
        None => (text, None),
    }
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let url = database_url(self.out.db.as_deref());
        let json = self.out.json;
        super::block_on(async move {
            let store = Store::open(&url).await?;
            let result = match self.command {
                Command::Add {
                    version,
                    text,
                    trade,
                } => add(&store, &version, &text, trade, json).await,
                Command::List { strategy } => list(&store, &strategy, json).await,
            };
            store.close().await;
            result
        })
    }
}

async fn add(
    store: &Store,
    version: &str,
    text: &str,
    trade: Option<i64>,
    json: bool,
) -> anyhow::Result<()> {
    let (name, Some(v)) = split(version) else {
        anyhow::bail!("{version:?}: name the version, NAME@VERSION");
    };
    anyhow::ensure!(!text.trim().is_empty(), "the note is empty");
    let id = store.add_note(name, v, trade, text).await?;
    if json {
        return super::output::print_json(&serde_json::json!({"note": id}));
    }
    println!("note {id} added to {name}@{v}");
    Ok(())
}

async fn list(store: &Store, strategy: &str, json: bool) -> anyhow::Result<()> {
    let (name, version) = split(strategy);
    let trades = store.trades(name, version).await?;
    let notes = store.notes(name, version).await?;
    if json {
        return super::output::print_json(&serde_json::json!({"trades": trades, "notes": notes}));
    }
    let day = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map_or(String::new(), |t| t.format("%Y-%m-%d %H:%M").to_string())
    };
    if !trades.is_empty() {
        println!(
            "{:>6} {:<8} {:<8} {:<6} {:<5} {:<16} {:>12} {:>12} {:>10} {:>7}",
            "trade", "version", "mode", "coin", "dir", "closed", "entry", "exit", "pnl", "R"
        );
    }
    for t in &trades {
        let r = t.r_multiple.as_deref().unwrap_or("-");
        println!(
            "{:>6} {:<8} {:<8} {:<6} {:<5} {:<16} {:>12} {:>12} {:>10} {:>7}",
            t.id,
            t.version,
            t.mode,
            t.instrument,
            t.direction,
            day(t.closed_at),
            t.entry,
            t.exit,
            t.pnl,
            r
        );
    }
    for n in &notes {
        let about = n.trade.map_or(String::new(), |t| format!(" (trade {t})"));
        println!(
            "note {} on {}@{}{about}, {}: {}",
            n.id,
            n.strategy,
            n.version,
            day(n.created_at),
            n.text
        );
    }
    if trades.is_empty() && notes.is_empty() {
        println!("no trades or notes for {strategy}");
    }
    Ok(())
}

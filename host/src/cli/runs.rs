//! `clever runs list | show ID | sessions | compare A B`: saved backtest
//! runs, and the sessions of running hosts to compare them with.

use super::compare::Source;
use crate::analytics::{Metrics, Resampled};
use crate::store::{ResultRow, RunRow, SessionRow, Store, database_url};

/// Saved backtest runs.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    out: super::output::DbAndFormat,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Every saved run, newest first.
    List {
        /// Only the runs of this sweep (`clever sweep --save`).
        #[arg(long)]
        sweep: Option<i64>,
    },
    /// One run: its configuration, results, metrics and order count.
    Show {
        /// The run's id.
        id: i64,
    },
    /// Every session of a running host (`clever live`, `--paper`,
    /// `clever serve`), newest first, with its recording.
    Sessions,
    /// Two runs side by side: their results and metrics. With a session
    /// on either side (`session:ID`), their orders paired by strategy,
    /// market, runner and time: fill rate, matched stake, average price
    /// and profit side by side, and the orders that filled in one and not
    /// the other.
    Compare {
        /// A run's id (12) or a session's (session:3).
        a: Source,
        /// The other's.
        b: Source,
        /// Orders placed this many milliseconds apart or closer may pair.
        #[arg(long, default_value_t = 1000, value_name = "MS")]
        within: i64,
    },
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let url = database_url(self.out.db.as_deref());
        match self.command {
            Command::Sessions => return self.sessions(&url),
            Command::Compare { a, b, within }
                if !matches!((a, b), (Source::Run(_), Source::Run(_))) =>
            {
                return self.orders_compared(&url, [a, b], within);
            }
            _ => {}
        }
        // `show` and `compare` print the metrics too, side by side.
        let with_metrics = !matches!(self.command, Command::List { .. });
        let runs = super::block_on(async {
            let store = Store::open(&url).await?;
            let one = async |id| match store.run(id).await? {
                Some(run) => Ok(run),
                None => anyhow::bail!("{}: no run {id} (see `clever runs list`)", store.url()),
            };
            let runs = match self.command {
                Command::List { sweep } => store.runs(sweep).await?,
                Command::Show { id } => vec![one(id).await?],
                Command::Compare {
                    a: Source::Run(a),
                    b: Source::Run(b),
                    ..
                } => vec![one(a).await?, one(b).await?],
                Command::Compare { .. } | Command::Sessions => Vec::new(),
            };
            store.close().await;
            anyhow::Ok(runs)
        })?;
        if self.out.json {
            return super::output::print_json(&runs);
        }
        for run in &runs {
            print_run(run);
        }
        if with_metrics {
            println!();
            print_metrics(&runs);
        }
        if runs.is_empty() {
            println!("no saved runs (save one with `clever backtest --save`)");
        }
        Ok(())
    }
}

impl Args {
    fn sessions(&self, url: &str) -> anyhow::Result<()> {
        let sessions = super::block_on(async {
            let store = Store::open(url).await?;
            let sessions = store.sessions(None).await;
            store.close().await;
            anyhow::Ok(sessions?)
        })?;
        if self.out.json {
            return super::output::print_json(&sessions);
        }
        if sessions.is_empty() {
            println!("no sessions (`clever live` and `clever serve` each start one)");
        }
        sessions.iter().for_each(print_session);
        if let Some(s) = sessions.first() {
            println!(
                "\nto see how far a backtest is from session {id}: back-test its recording \
                 with `clever backtest --data FILE --plugin ... --save`, then \
                 `clever runs compare session:{id} RUN`",
                id = s.id
            );
        }
        Ok(())
    }

    fn orders_compared(&self, url: &str, sides: [Source; 2], within: i64) -> anyhow::Result<()> {
        if within < 0 {
            anyhow::bail!("--within {within}: must be 0 ms or more");
        }
        let report = super::block_on(async {
            let store = Store::open(url).await?;
            let report = super::compare::load(&store, sides, within).await;
            store.close().await;
            report
        })?;
        if self.out.json {
            return super::output::print_json(&report);
        }
        super::compare::print(&report);
        Ok(())
    }
}

fn print_session(s: &SessionRow) {
    let at = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default()
    };
    let stopped = s
        .stopped_at
        .map_or("not stopped".into(), |t| format!("to {}", at(t)));
    println!(
        "session {}: {} on {}, {} {stopped}, {} orders (references {}-...)",
        s.id,
        s.mode,
        s.venue,
        at(s.started_at),
        s.orders,
        s.tag
    );
    for file in s.recording.iter().flat_map(|r| r.lines()) {
        println!("  recording {file}");
    }
}

/// The metrics of every version of `runs`, side by side, and any Monte
/// Carlo resampling saved with them.
fn print_metrics(runs: &[RunRow]) {
    let parsed: Vec<(String, Option<Metrics>, Option<Resampled>)> = (runs.iter())
        .flat_map(|run| run.results.iter().map(move |r| (run.id, r)))
        .map(|(id, r)| (format!("{id}: {}@{}", r.name, r.version), parse(r)))
        .map(|(heading, (m, mc))| (heading, m, mc))
        .collect();
    let columns: Vec<super::metrics::Column<'_>> = (parsed.iter())
        .map(|(heading, m, _)| (heading.clone(), m.as_ref()))
        .collect();
    super::metrics::print(&columns);
    for (heading, _, mc) in &parsed {
        if let Some(mc) = mc {
            println!();
            super::metrics::print_monte_carlo(&format!("run {heading}"), mc);
        }
    }
}

/// A result's saved metrics and resampling; none for runs saved before
/// they were kept.
fn parse(r: &ResultRow) -> (Option<Metrics>, Option<Resampled>) {
    let metrics = r
        .metrics
        .as_deref()
        .and_then(|m| serde_json::from_str(m).ok());
    let mc = r
        .monte_carlo
        .as_deref()
        .and_then(|m| serde_json::from_str(m).ok());
    (metrics, mc)
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
    if let Some(sweep) = run.sweep {
        println!("  a parameter set of sweep {sweep}");
    }
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

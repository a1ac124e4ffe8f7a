//! The `clever` command line: a clap enum, one file per subcommand with its
//! `Args` and `run`. Errors are `anyhow` here (and only here) and are
//! printed with their whole cause chain.

mod alerts;
mod backtest;
mod backtest_perp;
mod build;
mod compare;
mod db;
mod exchange;
mod generate;
mod hyperliquid;
mod ingest;
mod ingest_perp;
mod inspect;
mod kill;
mod lazy;
mod live;
mod live_perp;
mod metrics;
mod new;
mod notes;
mod odds;
mod orders;
mod output;
mod perp_records;
mod plugin;
mod predictions;
mod queued;
mod record;
mod remote;
mod report;
mod run;
mod runs;
mod save;
mod selection;
mod serve;
mod settings;
mod sweep;
mod walk_forward;
mod worker;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use lazy::Lazy;

/// Clever Better: sandboxed WebAssembly strategies for betting exchanges.
#[derive(Debug, Parser)]
#[command(name = "clever", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run plugins over historical market files and report profit and loss.
    Backtest(Lazy<Box<backtest::Args>>),
    /// Build a strategy project (Rust or Python) into a WebAssembly component.
    Build(Lazy<build::Args>),
    /// Make a strategy project from a template (Rust or Python).
    New(Lazy<new::Args>),
    /// Apply or show the database's migrations.
    Db(Lazy<db::Args>),
    /// Run a local exchange (Betfair or Hyperliquid) that replays recorded markets over the venue's protocols.
    Exchange(Lazy<Box<exchange::Args>>),
    /// Write generated markets: racing as Betfair stream files, or perpetuals as Hyperliquid lines.
    Gen(Lazy<generate::Args>),
    /// Read market files (Betfair stream files, Hyperliquid recordings) into the database, validated.
    Ingest(Lazy<ingest::Args>),
    /// Load a component and show what it declares.
    Inspect(Lazy<inspect::Args>),
    /// The alerts running hosts raised, and where each was delivered.
    Alerts(Lazy<alerts::Args>),
    /// Notes learned from a strategy version's trades, and its trades in money and R multiples.
    Notes(Lazy<notes::Args>),
    /// Each runner's latest stored odds in a market.
    Odds(Lazy<odds::Args>),
    /// Register the models whose predictions strategies read, or list them.
    Models(Lazy<predictions::ModelsArgs>),
    /// Import a model's predictions (CSV or JSON lines), validated.
    Predictions(Lazy<predictions::PredictionsArgs>),
    /// List saved backtest runs and sessions, show one, or compare two.
    Runs(Lazy<runs::Args>),
    /// Backtest one plugin once per parameter set and rank the sets by a metric.
    Sweep(Lazy<Box<sweep::Args>>),
    /// Pick the best parameter set in each in-sample window; judge it on the next.
    WalkForward(Lazy<Box<walk_forward::Args>>),
    /// Claim and run the jobs of `clever sweep --queue` from a PostgreSQL queue.
    Worker(Lazy<worker::Args>),
    /// The orders running hosts placed (live and paper), and each version's results.
    Orders(Lazy<orders::Args>),
    /// Pull the kill switch of every host on a database (or --release it).
    Kill(Lazy<kill::Args>),
    /// The plugin registry: publish, list, show, activate, roll back.
    Plugin(Lazy<plugin::Args>),
    /// Drive plugins over a synthetic market and report what they did.
    Run(Lazy<run::Args>),
    /// Record a venue's live market data to files that can be replayed.
    #[command(subcommand)]
    Record(Lazy<record::Args>),
    /// Run the host over a replay, in paper mode, with the HTTP API.
    Serve(Lazy<Box<serve::Args>>),
    /// Trade the registry's active strategies on the live Betfair stream (or paper).
    Live(Lazy<Box<live::Args>>),
}

/// Parse the arguments, run the command, print any error with its causes.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // A plugin's warnings go to the log as they come; a backtest's report
    // says them once at the end instead (`CLEVER_LOG=warn` shows both).
    // sqlx warns of a malformed ~/.pgpass line by printing it, password
    // and all: never by default.
    let default_filter = match cli.command {
        Command::Backtest(_) | Command::Sweep(_) | Command::WalkForward(_) | Command::Worker(_) => {
            "warn,plugin=off,sqlx_postgres::options::pgpass=off"
        }
        _ => "warn,sqlx_postgres::options::pgpass=off",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CLEVER_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter)),
        )
        .with_writer(std::io::stderr)
        // Colour for a person at a terminal (unless NO_COLOR says not), not
        // escape codes in a log file.
        .with_ansi(
            std::io::IsTerminal::is_terminal(&std::io::stderr())
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        )
        .init();
    let result = match cli.command {
        Command::Backtest(Lazy(args)) => args.run(),
        Command::Build(Lazy(args)) => args.run(),
        Command::New(Lazy(args)) => args.run(),
        Command::Db(Lazy(args)) => args.run(),
        Command::Exchange(Lazy(args)) => args.run(),
        Command::Gen(Lazy(args)) => args.run(),
        Command::Record(Lazy(args)) => args.run(),
        Command::Notes(Lazy(args)) => args.run(),
        Command::Ingest(Lazy(args)) => args.run(),
        Command::Inspect(Lazy(args)) => args.run(),
        Command::Models(Lazy(args)) => args.run(),
        Command::Alerts(Lazy(args)) => args.run(),
        Command::Odds(Lazy(args)) => args.run(),
        Command::Predictions(Lazy(args)) => args.run(),
        Command::Plugin(Lazy(args)) => args.run(),
        Command::Run(Lazy(args)) => args.run(),
        Command::Runs(Lazy(args)) => args.run(),
        Command::Sweep(Lazy(args)) => args.run(),
        Command::WalkForward(Lazy(args)) => args.run(),
        Command::Worker(Lazy(args)) => args.run(),
        Command::Orders(Lazy(args)) => args.run(),
        Command::Kill(Lazy(args)) => args.run(),
        Command::Serve(Lazy(args)) => args.run(),
        Command::Live(Lazy(args)) => args.run(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            // Many errors already end with their cause's words
            // ("cannot open URL: <what sqlx said>"): say each thing once.
            let mut last = e.to_string();
            for cause in e.chain().skip(1).map(|c| c.to_string()) {
                if !last.ends_with(&cause) {
                    eprintln!("  caused by: {cause}");
                    last = cause;
                }
            }
            ExitCode::FAILURE
        }
    }
}

/// An error named by the file it is about: `path: cause`.
fn named(path: &std::path::Path, e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{}: {e}", path.display())
}

/// Run async store work on a small runtime of its own: the CLI is
/// otherwise synchronous, and the engine never waits on the database.
fn block_on<T>(work: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(work)
}

#[cfg(test)]
mod tests {
    /// clap's own checks of every subcommand's arguments (unique names and
    /// groups, valid defaults), which otherwise run only when a command is
    /// first used.
    #[test]
    fn every_command_line_is_well_formed() {
        use clap::CommandFactory as _;
        super::Cli::command().debug_assert();
    }
}

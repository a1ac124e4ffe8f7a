//! One way to print `--json` output: a single JSON object on stdout.

use std::io::Write;

use serde::Serialize;

/// `--db` and `--json`, for the commands that read the database and print
/// a table or JSON.
#[derive(Debug, clap::Args)]
pub struct DbAndFormat {
    /// Database URL [default: $DATABASE_URL, else sqlite://clever.db]
    #[arg(long, global = true)]
    pub db: Option<String>,
    /// JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

/// Print `value` as one line of JSON. A closed pipe is an error, not a panic.
pub fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

//! One way to print `--json` output: a single JSON object on stdout.

use std::io::Write;

use serde::Serialize;

/// Print `value` as one line of JSON. A closed pipe is an error, not a panic.
pub fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

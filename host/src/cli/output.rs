//! One way to print `--json` output: a single JSON object on stdout.

use serde::Serialize;

/// Print `value` as one line of JSON.
pub fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(value)?);
    Ok(())
}

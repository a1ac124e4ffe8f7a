//! Settings files shared by the commands that run strategies: risk limits,
//! the simulated exchange's settings and the sandbox's limits.

use std::path::Path;

use anyhow::Context;

use crate::risk::RiskLimits;
use crate::runtime::Limits;
use crate::sim::SimConfig;

/// Risk limits from a TOML file with a `[risk]` table, or the defaults.
pub fn risk(path: Option<&Path>) -> anyhow::Result<RiskLimits> {
    match path {
        Some(path) => RiskLimits::from_toml_str(&read(path)?)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display())),
        None => Ok(RiskLimits::default()),
    }
}

/// Simulated exchange settings from a TOML file with a `[simulation]`
/// table, or the defaults.
pub fn simulation(path: Option<&Path>) -> anyhow::Result<SimConfig> {
    match path {
        Some(path) => SimConfig::from_toml_str(&read(path)?)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display())),
        None => Ok(SimConfig::default()),
    }
}

/// Sandbox limits from a TOML file with a `[sandbox]` table, or the defaults.
pub fn sandbox(path: Option<&Path>) -> anyhow::Result<Limits> {
    match path {
        Some(path) => Ok(Limits::from_toml_file(path)?),
        None => Ok(Limits::default()),
    }
}

/// A text file, with its name in the error.
pub fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

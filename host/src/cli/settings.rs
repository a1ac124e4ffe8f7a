//! Settings files shared by the commands that run strategies: risk limits,
//! the simulated exchange's settings and the sandbox's limits.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::risk::RiskLimits;
use crate::runtime::Limits;
use crate::sim::SimConfig;

/// The settings files of a command that runs strategies on the simulated
/// exchange (`backtest`, `sweep`, `walk-forward`, `run`).
#[derive(Debug, clap::Args)]
pub struct Files {
    /// Risk limits: a TOML file with a `[risk]` table (see examples/risk.toml).
    #[arg(long)]
    risk: Option<PathBuf>,
    /// Simulated exchange settings: a TOML file with a `[simulation]` table
    /// (see examples/simulation.toml).
    #[arg(long)]
    simulation: Option<PathBuf>,
    /// Sandbox limits: a TOML file with a `[sandbox]` table (see examples/sandbox.toml).
    #[arg(long)]
    limits: Option<PathBuf>,
}

impl Files {
    /// The risk limits.
    pub fn risk(&self) -> anyhow::Result<RiskLimits> {
        risk(self.risk.as_deref())
    }

    /// The simulated exchange's settings.
    pub fn simulation(&self) -> anyhow::Result<SimConfig> {
        simulation(self.simulation.as_deref())
    }

    /// The sandbox's limits.
    pub fn sandbox(&self) -> anyhow::Result<Limits> {
        sandbox(self.limits.as_deref())
    }
}

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

/// Alert rules and webhooks from a TOML file (`[[rule]]`, `[[webhook]]`;
/// see examples/alerts.toml), started writing to `store`; none without
/// a file. Call it inside the tokio runtime.
pub fn alerts(
    path: Option<&Path>,
    store: &crate::store::Store,
) -> anyhow::Result<Option<crate::serve::alerts::Alerter>> {
    let Some(path) = path else {
        return Ok(None);
    };
    let config: crate::serve::alerts::AlertConfig = toml::from_str(&read(path)?)
        .map_err(|e| anyhow::anyhow!("{}: not an alert file: {e}", path.display()))?;
    (config.check()).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let alerter = crate::serve::alerts::Alerter::start(store.clone(), config, "betfair");
    Ok(Some(alerter))
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

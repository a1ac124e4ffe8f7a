//! The simulated exchange's settings, with the defaults docs/SIMULATION.md
//! explains.

use serde::Deserialize;

/// How the simulated exchange models the venue. A TOML `[simulation]` table
/// may set any of these.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// Milliseconds from placing an order to its reaching the book. Default 120.
    pub placement_latency_ms: i64,
    /// Milliseconds from cancelling to the cancel taking effect. Default 120.
    pub cancel_latency_ms: i64,
    /// Share of each traded amount at a price credited to the queue on our
    /// side of the book. Default 0.5: every trade has a backer and a layer
    /// and the stream does not say which one was resting.
    pub trade_share: f64,
    /// Commission in percent instead of each market's base rate.
    pub commission_rate: Option<f64>,
    /// Commission in percent where a market states no base rate. Default 5.
    pub default_commission_rate: f64,
    /// Smallest reduction factor, percent, that re-prices matched bets on a
    /// removal. Default 2.5.
    pub reduction_threshold: f64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            placement_latency_ms: 120,
            cancel_latency_ms: 120,
            trade_share: 0.5,
            commission_rate: None,
            default_commission_rate: 5.0,
            reduction_threshold: 2.5,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SimFile {
    #[serde(default)]
    simulation: SimConfig,
}

impl SimConfig {
    /// Parse the `[simulation]` table of a TOML text; missing keys keep defaults.
    pub fn from_toml_str(text: &str) -> Result<SimConfig, String> {
        toml::from_str::<SimFile>(text)
            .map(|f| f.simulation)
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_matches_the_defaults() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/simulation.toml");
        let text = std::fs::read_to_string(path).unwrap();
        assert_eq!(
            SimConfig::from_toml_str(&text).unwrap(),
            SimConfig::default()
        );
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = SimConfig::from_toml_str(
            "[simulation]
latency = 5
",
        )
        .unwrap_err();
        assert!(err.contains("latency"), "{err}");
    }
}

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
        let config = toml::from_str::<SimFile>(text)
            .map(|f| f.simulation)
            .map_err(|e| e.to_string())?;
        config.checked()
    }

    /// Refuse settings no venue has: a negative latency would fill an
    /// order before it was placed (a look-ahead), and shares and percents
    /// run from 0 to all.
    fn checked(self) -> Result<SimConfig, String> {
        let latencies = [
            ("placement_latency_ms", self.placement_latency_ms),
            ("cancel_latency_ms", self.cancel_latency_ms),
        ];
        if let Some((key, ms)) = latencies.iter().find(|(_, ms)| *ms < 0) {
            return Err(format!(
                "[simulation] {key} = {ms}: a latency must be 0 or more"
            ));
        }
        let shares = [
            ("trade_share", self.trade_share, 1.0),
            (
                "default_commission_rate",
                self.default_commission_rate,
                100.0,
            ),
            ("reduction_threshold", self.reduction_threshold, 100.0),
            (
                "commission_rate",
                self.commission_rate.unwrap_or(0.0),
                100.0,
            ),
        ];
        match shares.iter().find(|(_, v, all)| !(0.0..=*all).contains(v)) {
            Some((key, v, all)) => {
                Err(format!("[simulation] {key} = {v}: must be from 0 to {all}"))
            }
            None => Ok(self),
        }
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
    fn settings_no_venue_has_are_refused_by_name() {
        for (line, said) in [
            (
                "placement_latency_ms = -5",
                "[simulation] placement_latency_ms = -5: a latency",
            ),
            (
                "trade_share = 1.5",
                "[simulation] trade_share = 1.5: must be from 0 to 1",
            ),
            (
                "commission_rate = -2",
                "[simulation] commission_rate = -2: must be from 0 to 100",
            ),
            (
                "reduction_threshold = nan",
                "[simulation] reduction_threshold = NaN: must be",
            ),
        ] {
            let err = SimConfig::from_toml_str(&format!("[simulation]\n{line}\n")).unwrap_err();
            assert!(err.starts_with(said), "{err}");
        }
        let edges = "[simulation]\ntrade_share = 1\ncancel_latency_ms = 0\ncommission_rate = 0\n";
        assert!(SimConfig::from_toml_str(edges).is_ok());
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

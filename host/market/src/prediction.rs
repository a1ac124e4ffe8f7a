//! A model's published probability for a runner, as every mode holds it.

use clever_sdk::{MarketId, SelectionId, Timestamp};

/// One published probability.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    /// The model's name.
    pub model: String,
    /// Its version.
    pub version: String,
    /// The market.
    pub market: MarketId,
    /// The runner.
    pub selection: SelectionId,
    /// When it was published (epoch ms).
    pub at: Timestamp,
    /// The probability, 0 to 1.
    pub probability: f64,
}

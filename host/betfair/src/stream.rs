//! Betfair Stream API market messages (`op = "mcm"`) as they appear in
//! historical files and on the wire. Field names are Betfair's; conversion
//! to our types happens in the cache. Every field is optional because a
//! delta carries only what changed.

use serde::{Deserialize, Deserializer};

/// A number that Betfair may also write as the string `"NaN"`,
/// `"Infinity"` or `"-Infinity"` (seen on `spn`/`spf`); those read as NaN:
/// present (the value changed) but no usable projection.
fn finite_or_nan<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberOrText {
        Number(f64),
        Text(String),
    }
    Ok(match Option::<NumberOrText>::deserialize(d)? {
        Some(NumberOrText::Number(v)) => Some(v),
        Some(NumberOrText::Text(t)) if matches!(t.as_str(), "NaN" | "Infinity" | "-Infinity") => {
            Some(f64::NAN)
        }
        Some(NumberOrText::Text(t)) => {
            return Err(serde::de::Error::custom(format!(
                "expected a number, got \"{t}\""
            )));
        }
        None => None,
    })
}

/// One line of a stream file.
#[derive(Debug, Clone, Deserialize)]
pub struct Message {
    /// `mcm` for market changes (others are skipped).
    pub op: String,
    /// Publish time, epoch milliseconds.
    #[serde(default)]
    pub pt: i64,
    /// Change type: `SUB_IMAGE`, `RESUB_DELTA`, `HEARTBEAT`, or absent.
    #[serde(default)]
    pub ct: Option<String>,
    /// Market changes.
    #[serde(default)]
    pub mc: Vec<MarketChange>,
}

/// A change to one market.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketChange {
    /// Market id.
    pub id: String,
    /// True: replace the cached market.
    #[serde(default)]
    pub img: bool,
    /// Market total matched.
    #[serde(default)]
    pub tv: Option<f64>,
    /// The full definition, when it changed.
    #[serde(default)]
    pub market_definition: Option<MarketDefinition>,
    /// Runner changes.
    #[serde(default)]
    pub rc: Vec<RunnerChange>,
}

/// A price-keyed ladder entry: `[price, size]`.
pub type PricePoint = [f64; 2];
/// A level-keyed ladder entry: `[level, price, size]`.
pub type LevelPoint = [f64; 3];

/// A change to one runner; every key only when its value changed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RunnerChange {
    /// Selection id.
    pub id: u64,
    /// Handicap (runner key is (id, hc)).
    #[serde(default)]
    pub hc: Option<f64>,
    /// Available to back, all depths, by price.
    #[serde(default)]
    pub atb: Option<Vec<PricePoint>>,
    /// Available to lay, all depths, by price.
    #[serde(default)]
    pub atl: Option<Vec<PricePoint>>,
    /// Best available to back, by level.
    #[serde(default)]
    pub batb: Option<Vec<LevelPoint>>,
    /// Best available to lay, by level.
    #[serde(default)]
    pub batl: Option<Vec<LevelPoint>>,
    /// Best display available to back (virtual included), by level.
    #[serde(default)]
    pub bdatb: Option<Vec<LevelPoint>>,
    /// Best display available to lay (virtual included), by level.
    #[serde(default)]
    pub bdatl: Option<Vec<LevelPoint>>,
    /// Traded volume by price.
    #[serde(default)]
    pub trd: Option<Vec<PricePoint>>,
    /// Last traded price.
    #[serde(default)]
    pub ltp: Option<f64>,
    /// Runner total matched.
    #[serde(default)]
    pub tv: Option<f64>,
    /// Projected SP, near (NaN when Betfair sends NaN or Infinity).
    #[serde(default, deserialize_with = "finite_or_nan")]
    pub spn: Option<f64>,
    /// Projected SP, far (NaN when Betfair sends NaN or Infinity).
    #[serde(default, deserialize_with = "finite_or_nan")]
    pub spf: Option<f64>,
}

/// The market definition, sent in full whenever it changes.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketDefinition {
    /// `INACTIVE`, `OPEN`, `SUSPENDED`, `CLOSED`.
    #[serde(default)]
    pub status: String,
    /// In play.
    #[serde(default)]
    pub in_play: bool,
    /// Seconds of in-play delay.
    #[serde(default)]
    pub bet_delay: u32,
    /// Event type id.
    #[serde(default)]
    pub event_type_id: String,
    /// `WIN`, `PLACE`, ...
    #[serde(default)]
    pub market_type: String,
    /// Country code.
    #[serde(default)]
    pub country_code: Option<String>,
    /// Track.
    #[serde(default)]
    pub venue: Option<String>,
    /// Scheduled start, ISO-8601.
    #[serde(default)]
    pub market_time: Option<String>,
    /// Winners (places for PLACE markets).
    #[serde(default)]
    pub number_of_winners: u32,
    /// Active runners.
    #[serde(default)]
    pub number_of_active_runners: Option<u32>,
    /// Commission rate, percent.
    #[serde(default)]
    pub market_base_rate: Option<f64>,
    /// BSP reconciled.
    #[serde(default)]
    pub bsp_reconciled: bool,
    /// Runners.
    #[serde(default)]
    pub runners: Vec<RunnerDefinition>,
}

/// A runner in the market definition.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunnerDefinition {
    /// Selection id.
    pub id: u64,
    /// Handicap.
    #[serde(default)]
    pub hc: Option<f64>,
    /// `ACTIVE`, `WINNER`, `LOSER`, `PLACED`, `REMOVED`, `REMOVED_VACANT`, `HIDDEN`.
    #[serde(default)]
    pub status: String,
    /// Reduction factor, percent.
    #[serde(default)]
    pub adjustment_factor: Option<f64>,
    /// When it was removed, ISO-8601.
    #[serde(default)]
    pub removal_date: Option<String>,
    /// Betfair Starting Price.
    #[serde(default)]
    pub bsp: Option<f64>,
    /// Sort order.
    #[serde(default)]
    pub sort_priority: Option<u32>,
    /// Name (present in historical files).
    #[serde(default)]
    pub name: Option<String>,
}

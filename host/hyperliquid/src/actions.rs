//! Actions as the venue hashes them. The msgpack of an action is a map
//! whose keys come in the order the venue's own SDKs write them, `type`
//! first; the field order of each struct here is that order. Optional
//! fields are left out when absent (a key present with `false` or `null`
//! hashes differently and is refused).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A signed action's body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Action {
    /// Place orders.
    Order {
        /// The orders.
        orders: Vec<OrderWire>,
        /// `na`, `normalTpsl` or `positionTpsl`.
        grouping: String,
    },
    /// Cancel orders by the venue's order id.
    Cancel {
        /// Asset and order id of each.
        cancels: Vec<CancelWire>,
    },
    /// Cancel orders by client order id.
    CancelByCloid {
        /// Asset and client order id of each.
        cancels: Vec<CancelByCloidWire>,
    },
    /// Change one resting order.
    Modify {
        /// The order: the venue's id, or a client order id.
        oid: OrderRef,
        /// What it becomes.
        order: OrderWire,
    },
    /// Change several resting orders.
    BatchModify {
        /// Each order and what it becomes.
        modifies: Vec<ModifyWire>,
    },
    /// Set an asset's leverage.
    UpdateLeverage {
        /// The asset.
        asset: u32,
        /// Cross (true) or isolated margin.
        #[serde(rename = "isCross")]
        is_cross: bool,
        /// The leverage.
        leverage: u32,
    },
}

/// One order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderWire {
    /// Asset index.
    pub a: u32,
    /// Buy (true) or sell.
    pub b: bool,
    /// Limit price, as [`wire_number`] writes it.
    pub p: String,
    /// Size, as [`wire_number`] writes it.
    pub s: String,
    /// Reduce only.
    pub r: bool,
    /// Limit or trigger.
    pub t: OrderType,
    /// Client order id, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub c: Option<Cloid>,
}

/// How an order rests or triggers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderType {
    /// A limit order.
    Limit(Limit),
    /// A stop or take-profit.
    Trigger(Trigger),
}

/// A limit order's time in force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limit {
    /// Its time in force.
    pub tif: Tif,
}

/// Time in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tif {
    /// Post only: cancelled if it would match at once.
    Alo,
    /// Immediate or cancel.
    Ioc,
    /// Good till cancelled.
    Gtc,
}

/// A trigger order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trigger {
    /// A market order when triggered (else a limit at the order's price).
    #[serde(rename = "isMarket")]
    pub is_market: bool,
    /// The trigger price, as [`wire_number`] writes it.
    #[serde(rename = "triggerPx")]
    pub trigger_px: String,
    /// `tp` or `sl`.
    pub tpsl: String,
}

/// A cancel by order id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CancelWire {
    /// Asset index.
    pub a: u32,
    /// The venue's order id.
    pub o: u64,
}

/// A cancel by client order id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CancelByCloidWire {
    /// Asset index.
    pub asset: u32,
    /// The client order id.
    pub cloid: Cloid,
}

/// One change of a batch modify.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModifyWire {
    /// The order: the venue's id, or a client order id.
    pub oid: OrderRef,
    /// What it becomes.
    pub order: OrderWire,
}

/// Which order a modify changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OrderRef {
    /// The venue's order id.
    Oid(u64),
    /// A client order id.
    Cloid(Cloid),
}

/// A client order id: 128 bits, written `0x` and 32 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cloid(pub u128);

impl Serialize for Cloid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("0x{:032x}", self.0))
    }
}

impl<'de> Deserialize<'de> for Cloid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let digits = text
            .strip_prefix("0x")
            .filter(|h| h.len() == 32)
            .ok_or_else(|| {
                serde::de::Error::custom(format!("cloid {text:?}: not 0x and 32 hex digits"))
            })?;
        u128::from_str_radix(digits, 16)
            .map(Cloid)
            .map_err(|_| serde::de::Error::custom(format!("cloid {text:?}: not hex")))
    }
}

/// A price or size as the venue hashes it: at most 8 decimals, no
/// trailing zeros (`100`, `1670.1`, `0.0147`); more decimals than 8 is an
/// error, not a rounding.
pub fn wire_number(x: Decimal) -> Result<String, String> {
    let rounded = x.round_dp(8);
    if rounded != x {
        return Err(format!("{x} has more than 8 decimals"));
    }
    let text = rounded.normalize().to_string();
    Ok(if text == "-0" { "0".into() } else { text })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_lose_trailing_zeros_and_keep_eight_decimals_at_most() {
        let n = |s: &str| wire_number(s.parse().unwrap());
        assert_eq!(n("100.0"), Ok("100".into()));
        assert_eq!(n("1670.10"), Ok("1670.1".into()));
        assert_eq!(n("0.0147"), Ok("0.0147".into()));
        assert_eq!(n("0.00000001"), Ok("0.00000001".into()));
        assert!(n("0.000000001").unwrap_err().contains("more than 8"));
    }

    #[test]
    fn an_order_reads_and_writes_the_venues_json() {
        let text = r#"{"type":"order","orders":[{"a":4,"b":true,"p":"3499","s":"0.5","r":false,"t":{"limit":{"tif":"Gtc"}},"c":"0x0000000000000000000000000000abcd"}],"grouping":"na"}"#;
        let action: Action = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&action).unwrap(), text);
        let leverage = r#"{"type":"updateLeverage","asset":4,"isCross":true,"leverage":10}"#;
        let action: Action = serde_json::from_str(leverage).unwrap();
        assert_eq!(serde_json::to_string(&action).unwrap(), leverage);
        assert!(serde_json::from_str::<Cloid>("\"0xabc\"").is_err());
    }
}

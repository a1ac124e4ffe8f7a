//! The venue's JSON shapes for numbers, orders and candles.

use clever_hyperliquid::data::Candle;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::book::Resting;

/// A price, size or amount as the venue writes it: a decimal string
/// without trailing zeros.
pub fn num(x: Decimal) -> String {
    let text = x.normalize().to_string();
    if text == "-0" { "0".into() } else { text }
}

/// An order as `openOrders`, `orderUpdates` and `orderStatus` show it
/// (`sz` is what is left).
pub fn order_json(coin: &str, order: &Resting) -> Value {
    let mut value = json!({
        "coin": coin, "side": if order.is_buy { "B" } else { "A" },
        "limitPx": num(order.px), "sz": num(order.sz.max(Decimal::ZERO)), "oid": order.oid,
        "timestamp": order.timestamp, "origSz": num(order.orig_sz),
        "reduceOnly": order.reduce_only,
    });
    if let (Some(cloid), Some(map)) = (order.cloid, value.as_object_mut()) {
        map.insert("cloid".into(), json!(cloid));
    }
    value
}

/// A candle as the REST snapshot and the `candle` channel send it.
pub fn candle_json(c: &Candle) -> Value {
    json!({"t": c.open_time, "T": c.close_time, "s": c.coin, "i": c.interval,
           "o": num(c.open), "c": num(c.close), "h": num(c.high), "l": num(c.low),
           "v": num(c.volume), "n": c.trades})
}

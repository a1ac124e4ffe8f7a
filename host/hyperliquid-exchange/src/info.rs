//! `POST /info`: the read-only requests of protocol notes D.5, answered
//! from the exchange's state in the venue's shapes.

use clever_hyperliquid::Address;
use clever_hyperliquid::Tif;
use clever_hyperliquid::actions::OrderRef;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::json::{candle_json, num, order_json};
use crate::venue::Venue;

/// Items a time-range query returns at most (the venue pages by 500).
const PAGE: usize = 500;

/// The reply to one `/info` request, or why it is refused.
pub fn answer(venue: &Venue, request: &Value) -> Result<Value, String> {
    let kind = request["type"]
        .as_str()
        .ok_or("an info request needs a \"type\"")?;
    match kind {
        "meta" => Ok(json!(venue.universe())),
        "spotMeta" => Ok(json!({"universe": [], "tokens": []})),
        "metaAndAssetCtxs" => Ok(json!([venue.universe(), asset_ctxs(venue)])),
        "allMids" => Ok(mids(venue)),
        "l2Book" => {
            let coin = text(request, "coin")?;
            venue
                .book_json(coin)
                .ok_or_else(|| format!("unknown coin {coin:?}"))
        }
        "candleSnapshot" => candle_snapshot(venue, &request["req"]),
        "openOrders" | "frontendOpenOrders" => {
            let user = user(request)?;
            let open = venue.orders_of(&user).filter(|o| o.3 == "open");
            Ok(Value::Array(
                open.map(|(asset, order, ..)| order_json(coin(venue, asset), order))
                    .collect(),
            ))
        }
        "orderStatus" => order_status(venue, request),
        "userFills" => {
            let user = user(request)?;
            let fills = venue.account(&user).map_or(&[][..], |a| a.fills.as_slice());
            Ok(Value::Array(
                fills.iter().rev().take(2000).cloned().collect(),
            ))
        }
        "clearinghouseState" => clearinghouse(venue, &user(request)?),
        _ => Err(format!("unknown info request type {kind:?}")),
    }
}

fn text<'a>(request: &'a Value, field: &str) -> Result<&'a str, String> {
    request[field]
        .as_str()
        .ok_or_else(|| format!("{field:?} is missing or not a string"))
}

fn user(request: &Value) -> Result<Address, String> {
    text(request, "user")?
        .to_lowercase()
        .parse()
        .map_err(|e| format!("user: {e}"))
}

fn coin(venue: &Venue, asset: u32) -> &str {
    venue.universe().get(asset).map_or("?", |a| a.name.as_str())
}

fn mids(venue: &Venue) -> Value {
    let mut map = serde_json::Map::new();
    for (i, asset) in venue.universe().universe.iter().enumerate() {
        let mid = u32::try_from(i)
            .ok()
            .and_then(|i| venue.book(i))
            .and_then(|b| b.mid());
        if let Some(mid) = mid {
            map.insert(asset.name.clone(), json!(num(mid)));
        }
    }
    Value::Object(map)
}

fn asset_ctxs(venue: &Venue) -> Value {
    let rate = num(venue.rates().funding_hourly);
    let ctxs = (0..venue.universe().universe.len()).map(|i| {
        let book = u32::try_from(i).ok().and_then(|i| venue.book(i));
        let mid = book.and_then(|b| b.mid()).map(num);
        let (bid, ask) = book.map_or((None, None), |b| b.bbo());
        json!({"dayNtlVlm": "0", "funding": rate, "impactPxs": [bid.map(num), ask.map(num)],
               "markPx": mid, "midPx": mid, "openInterest": "0", "oraclePx": mid,
               "premium": "0", "prevDayPx": mid})
    });
    Value::Array(ctxs.collect())
}

fn candle_snapshot(venue: &Venue, req: &Value) -> Result<Value, String> {
    let coin = text(req, "coin")?;
    let interval = text(req, "interval")?;
    let start = req["startTime"]
        .as_i64()
        .ok_or("\"startTime\" (ms) is missing")?;
    let end = req["endTime"].as_i64().unwrap_or(i64::MAX);
    let candles = venue.candles(coin, interval).iter();
    let within = candles.filter(|c| c.open_time >= start && c.open_time <= end);
    Ok(Value::Array(within.take(PAGE).map(candle_json).collect()))
}

fn order_status(venue: &Venue, request: &Value) -> Result<Value, String> {
    let user = user(request)?;
    let which: OrderRef = serde_json::from_value(request["oid"].clone())
        .map_err(|_| "\"oid\" must be an order id or a 0x cloid".to_string())?;
    let Some((asset, order, tif, status, at)) = venue.order_by(&user, &which) else {
        return Ok(json!({"status": "unknownOid"}));
    };
    let mut shown = order_json(coin(venue, asset), order);
    if let Some(map) = shown.as_object_mut() {
        map.insert("orderType".into(), json!("Limit"));
        map.insert(
            "tif".into(),
            json!(match tif {
                Tif::Alo => "Alo",
                Tif::Ioc => "Ioc",
                Tif::Gtc => "Gtc",
            }),
        );
    }
    Ok(
        json!({"status": "order", "order": {"order": shown, "status": status, "statusTimestamp": at}}),
    )
}

fn clearinghouse(venue: &Venue, user: &Address) -> Result<Value, String> {
    let account = venue
        .account(user)
        .ok_or_else(|| format!("User {user} does not exist."))?;
    let mut positions = Vec::new();
    let (mut value, mut ntl, mut used) = (account.balance, Decimal::ZERO, Decimal::ZERO);
    for (asset, p) in &account.positions {
        let max = venue.universe().get(*asset).map_or(1, |a| a.max_leverage);
        let (leverage, cross) = account.leverage_of(*asset, max);
        let mark = venue
            .book(*asset)
            .and_then(|b| b.mid())
            .unwrap_or(p.entry_px);
        let pnl = p.szi * (mark - p.entry_px);
        let margin = p.szi.abs() * mark / Decimal::from(leverage);
        value += pnl;
        ntl += p.szi.abs() * mark;
        used += margin;
        positions.push(json!({"type": "oneWay", "position": {
            "coin": coin(venue, *asset), "szi": num(p.szi), "entryPx": num(p.entry_px),
            "positionValue": num((p.szi.abs() * mark).round_dp(6)), "unrealizedPnl": num(pnl.round_dp(6)),
            "returnOnEquity": num(if margin.is_zero() { Decimal::ZERO } else { (pnl / margin).round_dp(6) }),
            "leverage": {"type": if cross { "cross" } else { "isolated" }, "value": leverage},
            "liquidationPx": null, "marginUsed": num(margin.round_dp(6)), "maxLeverage": max,
            "cumFunding": {"allTime": num(p.funding), "sinceOpen": num(p.funding), "sinceChange": num(p.funding)}}}));
    }
    let summary = json!({"accountValue": num(value.round_dp(6)), "totalNtlPos": num(ntl.round_dp(6)),
                         "totalRawUsd": num(account.balance), "totalMarginUsed": num(used.round_dp(6))});
    Ok(
        json!({"assetPositions": positions, "marginSummary": summary, "crossMarginSummary": summary,
              "crossMaintenanceMarginUsed": "0",
              "withdrawable": num(venue.free_margin_of(*user).max(Decimal::ZERO).round_dp(6)),
              "time": venue.now()}),
    )
}

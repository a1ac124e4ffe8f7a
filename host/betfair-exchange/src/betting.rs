//! The Betting API as JSON-RPC (venue-protocols B.1 to B.7): `placeOrders`,
//! `cancelOrders`, `replaceOrders`, `listCurrentOrders`,
//! `listClearedOrders` and `listMarketCatalogue`, one call or a batch per
//! request. Every call needs the account's app key and a live session; a
//! refusal is Betfair's `APINGException` envelope with HTTP 200, as
//! clients expect. Orders live in [`crate::orders`]; this module reads
//! the wire and writes the reports.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use clever_sdk::{Order, OrderId, OrderStatus, Persistence, Side};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::faults::CallFault;
use crate::https::header;
use crate::markets::Market;
use crate::orders::{Booked, MAX_CANCEL, Orders, Placement, Refused};
use crate::replay::Shared;
use crate::sessions::Sessions;

/// What the Betting API endpoint needs.
#[derive(Clone)]
pub struct Betting {
    /// Who may call.
    pub sessions: Arc<Sessions>,
    /// The markets and orders.
    pub shared: Arc<Shared>,
}

/// The route of the JSON-RPC endpoint.
pub fn betting_routes(betting: Betting) -> Router {
    Router::new()
        .route("/exchange/betting/json-rpc/v1", post(json_rpc))
        .with_state(betting)
}

/// A refusal of a whole call: an `APINGException` code and its words.
struct Fault(&'static str, String);

type Outcome = Result<Value, Fault>;

async fn json_rpc(State(betting): State<Betting>, headers: HeaderMap, body: Bytes) -> Json<Value> {
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(e) => {
            let error = json!({"code": -32700, "message": format!("Parse error: {e}")});
            return Json(json!({"jsonrpc": "2.0", "error": error, "id": null}));
        }
    };
    let access = betting.sessions.check(
        header(&headers, "X-Application"),
        header(&headers, "X-Authentication"),
    );
    let fault = betting.shared.faults.take_call();
    if let Some(CallFault::Slow(wait)) = fault {
        tokio::time::sleep(wait).await;
    }
    let answer = |call: &Value| match (access, fault) {
        (Err(refused), _) => reply(call, Err(Fault(refused.api_code(), String::new()))),
        (Ok(()), Some(fault)) => reply(call, betting.faulty(call, fault)),
        (Ok(()), None) => reply(call, betting.call(call)),
    };
    Json(match &parsed {
        Value::Array(calls) => Value::Array(calls.iter().map(answer).collect()),
        call => answer(call),
    })
}

/// One call's JSON-RPC reply.
fn reply(call: &Value, outcome: Outcome) -> Value {
    let id = call.get("id").cloned().unwrap_or(Value::Null);
    match outcome {
        Ok(result) => json!({"jsonrpc": "2.0", "result": result, "id": id}),
        Err(Fault("METHOD_NOT_FOUND", words)) => {
            json!({"jsonrpc": "2.0", "error": {"code": -32601, "message": words}, "id": id})
        }
        Err(Fault(code, words)) => {
            let exception = json!({"errorCode": code, "errorDetails": words,
                "requestUUID": format!("local-{}", std::process::id())});
            let error = json!({"code": -32099, "message": angx(code),
                "data": {"exceptionname": "APINGException", "APINGException": exception}});
            json!({"jsonrpc": "2.0", "error": error, "id": id})
        }
    }
}

/// The `ANGX-nnnn` message of an `APINGException` code (B.1).
fn angx(code: &str) -> String {
    const CODES: [&str; 12] = [
        "TOO_MUCH_DATA",
        "INVALID_INPUT_DATA",
        "INVALID_SESSION_INFORMATION",
        "NO_APP_KEY",
        "NO_SESSION",
        "UNEXPECTED_ERROR",
        "INVALID_APP_KEY",
        "TOO_MANY_REQUESTS",
        "SERVICE_BUSY",
        "TIMEOUT_ERROR",
        "REQUEST_SIZE_EXCEEDS_LIMIT",
        "ACCESS_DENIED",
    ];
    let n = CODES.iter().position(|c| *c == code).map_or(6, |i| i + 1);
    format!("ANGX-{n:04}")
}

fn params<T: for<'de> Deserialize<'de>>(call: &Value) -> Result<T, Fault> {
    let params = call.get("params").cloned().unwrap_or_else(|| json!({}));
    serde_json::from_value(params).map_err(|e| Fault("INVALID_INPUT_DATA", e.to_string()))
}

impl Betting {
    /// A call answered the way `fault` says (see [`CallFault`]).
    fn faulty(&self, call: &Value, fault: CallFault) -> Outcome {
        let placing = call
            .get("method")
            .and_then(Value::as_str)
            .is_some_and(|m| m.ends_with("placeOrders"));
        let market = call
            .pointer("/params/marketId")
            .cloned()
            .unwrap_or(Value::Null);
        match fault {
            CallFault::Slow(_) => self.call(call),
            CallFault::TooManyRequests => Err(Fault("TOO_MANY_REQUESTS", "fault injected".into())),
            CallFault::InvalidSession => Err(Fault("INVALID_SESSION_INFORMATION", String::new())),
            CallFault::DuplicateTransaction if placing => Ok(json!({"status": "FAILURE",
                "errorCode": "DUPLICATE_TRANSACTION", "marketId": market, "instructionReports": []})),
            CallFault::DuplicateTransaction => self.call(call),
            CallFault::Timeout if placing => {
                let mut report = self.call(call)?;
                report["status"] = json!("TIMEOUT");
                if let Some(list) = report["instructionReports"].as_array_mut() {
                    for r in list {
                        *r = json!({"status": "TIMEOUT", "instruction": r["instruction"].clone()});
                    }
                }
                Ok(report)
            }
            CallFault::Timeout => {
                self.call(call)?;
                Err(Fault("TIMEOUT_ERROR", "fault injected".into()))
            }
        }
    }

    fn call(&self, call: &Value) -> Outcome {
        let method = call.get("method").and_then(Value::as_str).unwrap_or("");
        let operation = method.strip_prefix("SportsAPING/v1.0/").unwrap_or(method);
        match operation {
            "placeOrders" => self.place(params(call)?),
            "cancelOrders" => self.cancel(params(call)?),
            "replaceOrders" => self.replace(params(call)?),
            "listCurrentOrders" => self.current(params(call)?),
            "listClearedOrders" => self.cleared(params(call)?),
            "listMarketCatalogue" => self.catalogue(params(call)?),
            _ => Err(Fault("METHOD_NOT_FOUND", format!("no method {method:?}"))),
        }
    }

    fn place(&self, p: PlaceParams) -> Outcome {
        let placements = p
            .instructions
            .iter()
            .map(placement)
            .collect::<Result<Vec<_>, _>>()?;
        let now = self.shared.now();
        let mut orders = self.shared.orders();
        let refs = (
            p.customer_strategy_ref.as_deref(),
            p.customer_ref.as_deref(),
        );
        let version = p.market_version.map(|v| v.version);
        let placed = orders.place(&p.market_id, &placements, refs, version, now);
        let tick = orders.tick;
        drop(orders);
        let mut report = json!({"marketId": p.market_id});
        if let Some(r) = &p.customer_ref {
            report["customerRef"] = json!(r);
        }
        match placed {
            Ok(placed) => {
                self.shared.orders_changed(tick);
                report["status"] = json!("SUCCESS");
                let reports = (placed.iter().zip(&p.instructions))
                    .map(|(order, echo)| place_report(echo, Ok(order)));
                report["instructionReports"] = Value::Array(reports.collect());
            }
            Err(Refused { code, instructions }) => {
                report["status"] = json!("FAILURE");
                report["errorCode"] = json!(code);
                let reports = instructions
                    .iter()
                    .zip(&p.instructions)
                    .map(|(fault, echo)| {
                        let mut r = json!({"status": "FAILURE", "instruction": echo});
                        if let Some(fault) = fault {
                            r["errorCode"] = json!(fault);
                        }
                        r
                    });
                report["instructionReports"] = Value::Array(reports.collect());
            }
        }
        Ok(report)
    }

    fn cancel(&self, p: CancelParams) -> Outcome {
        let now = self.shared.now();
        let mut orders = self.shared.orders();
        let ids: Vec<(OrderId, Option<f64>)> = match &p.instructions {
            Some(list) if list.len() > MAX_CANCEL => {
                return Ok(execution_failure(&p.market_id, "TOO_MANY_INSTRUCTIONS"));
            }
            Some(list) => list
                .iter()
                .map(|i| (bet_id(&i.bet_id), i.size_reduction))
                .collect(),
            None => (orders.open_in(p.market_id.as_deref()).into_iter())
                .map(|id| (id, None))
                .collect(),
        };
        let mut reports = Vec::new();
        for (id, reduction) in ids {
            let market = match &p.market_id {
                Some(m) => m.clone(),
                None => orders
                    .booked
                    .get(&id)
                    .map_or_else(String::new, |b| b.order.request.market_id.0.clone()),
            };
            let done = match reduction {
                // The simulated exchange cancels whole remainders only.
                Some(_) => Err("INVALID_BET_SIZE"),
                None => orders.cancel(&market, id, now),
            };
            let instruction = json!({"betId": id.0.to_string()});
            reports.push(match done {
                Ok(size) => json!({"status": "SUCCESS", "instruction": instruction,
                    "sizeCancelled": size, "cancelledDate": date(now)}),
                Err(code) => json!({"status": "FAILURE", "errorCode": code,
                    "instruction": instruction, "sizeCancelled": 0.0}),
            });
        }
        Ok(batch_report(
            p.market_id.as_deref(),
            p.customer_ref.as_deref(),
            reports,
        ))
    }

    fn replace(&self, p: ReplaceParams) -> Outcome {
        if p.instructions.len() > MAX_CANCEL {
            return Ok(execution_failure(
                &Some(p.market_id.clone()),
                "TOO_MANY_INSTRUCTIONS",
            ));
        }
        let now = self.shared.now();
        let mut orders = self.shared.orders();
        let reports = (p.instructions.iter())
            .map(|i| replace_one(&mut orders, &p.market_id, i, now))
            .collect();
        self.shared.orders_changed(orders.tick);
        Ok(batch_report(
            Some(&p.market_id),
            p.customer_ref.as_deref(),
            reports,
        ))
    }

    fn current(&self, p: CurrentParams) -> Outcome {
        let orders = self.shared.orders();
        let wanted = |b: &&Booked| {
            let o = &b.order;
            let status_ok = match p.order_projection.as_deref() {
                Some("EXECUTABLE") => o.is_open(),
                Some("EXECUTION_COMPLETE") => !o.is_open(),
                _ => true,
            };
            b.settled.is_none()
                && status_ok
                && among(&p.bet_ids, &o.id.0.to_string())
                && among(&p.market_ids, &o.request.market_id.0)
                && among(
                    &p.customer_strategy_refs,
                    b.strategy_ref.as_deref().unwrap_or(""),
                )
                && among(
                    &p.customer_order_refs,
                    o.request.customer_ref.as_deref().unwrap_or(""),
                )
        };
        let list: Vec<Value> = orders
            .booked
            .values()
            .filter(wanted)
            .map(current_order)
            .collect();
        Ok(page(list, p.from_record, p.record_count, "currentOrders"))
    }

    fn cleared(&self, p: ClearedParams) -> Outcome {
        let markets = self.shared.markets();
        let orders = self.shared.orders();
        let mut list = Vec::new();
        for b in orders.booked.values() {
            let o = &b.order;
            let keep = among(&p.market_ids, &o.request.market_id.0)
                && among(&p.bet_ids, &o.id.0.to_string())
                && among(
                    &p.customer_strategy_refs,
                    b.strategy_ref.as_deref().unwrap_or(""),
                )
                && among(
                    &p.customer_order_refs,
                    o.request.customer_ref.as_deref().unwrap_or(""),
                );
            if let Some(row) = keep
                .then(|| cleared_order(b, &p.bet_status, markets.get(&o.request.market_id.0)))
                .flatten()
            {
                list.push(row);
            }
        }
        Ok(page(list, p.from_record, p.record_count, "clearedOrders"))
    }

    fn catalogue(&self, p: CatalogueParams) -> Outcome {
        if !(1..=1000).contains(&p.max_results) {
            return Err(Fault(
                "INVALID_INPUT_DATA",
                "maxResults must be 1 to 1000".into(),
            ));
        }
        let markets = self.shared.markets();
        let f = &p.filter;
        let list = markets.list.iter().filter(|m| {
            among(&f.market_ids, &m.id)
                && among_text(&f.event_type_ids, m, "eventTypeId")
                && among_text(&f.event_ids, m, "eventId")
                && among_text(&f.market_countries, m, "countryCode")
                && among_text(&f.market_type_codes, m, "marketType")
                && among_text(&f.venues, m, "venue")
        });
        Ok(Value::Array(
            list.take(p.max_results)
                .filter_map(catalogue_entry)
                .collect(),
        ))
    }
}

/// Cancel a bet and place its remaining stake at a new price (B.4): the
/// cancel is not undone if the placement fails (`CANCELLED_NOT_PLACED`).
fn replace_one(orders: &mut Orders, market: &str, i: &ReplaceInstruction, now: i64) -> Value {
    let id = bet_id(&i.bet_id);
    let cancel_echo = json!({"betId": i.bet_id});
    let old = orders.booked.get(&id).cloned();
    let cancelled = orders.cancel(market, id, now);
    let (Ok(size), Some(old)) = (cancelled, old) else {
        let code = cancelled.err().unwrap_or("INVALID_BET_ID");
        let cancel = json!({"status": "FAILURE", "errorCode": code, "instruction": cancel_echo});
        let place = json!({"status": "FAILURE", "errorCode": "RELATED_ACTION_FAILED"});
        return json!({"status": "FAILURE", "errorCode": code,
            "cancelInstructionReport": cancel, "placeInstructionReport": place});
    };
    let cancel = json!({"status": "SUCCESS", "instruction": cancel_echo,
        "sizeCancelled": size, "cancelledDate": date(now)});
    let placement = replacement(&old, i.new_price, size);
    let limit = json!({"size": size, "price": i.new_price,
        "persistenceType": persistence_name(placement.persistence)});
    let echo = json!({"selectionId": placement.selection_id, "handicap": placement.handicap,
        "side": side_name(placement.side), "orderType": "LIMIT", "limitOrder": limit});
    let strategy = old.strategy_ref.as_deref();
    let placed = orders.place(market, &[placement], (strategy, None), None, now);
    let place = match &placed {
        Ok(placed) => place_report(&echo, Ok(&placed[0])),
        Err(refused) => {
            let own = refused.instructions.first().copied().flatten();
            place_report(&echo, Err(own.unwrap_or(refused.code)))
        }
    };
    let mut report = json!({"status": if placed.is_ok() { "SUCCESS" } else { "FAILURE" },
        "cancelInstructionReport": cancel, "placeInstructionReport": place});
    if placed.is_err() {
        report["errorCode"] = json!("CANCELLED_NOT_PLACED");
    }
    report
}

/// A placement's instruction report: its new bet, or why it failed.
fn place_report(echo: &Value, placed: Result<&Order, &str>) -> Value {
    match placed {
        Ok(order) => json!({"status": "SUCCESS", "instruction": echo,
            "betId": order.id.0.to_string(), "placedDate": date(order.placed_at.0),
            "averagePriceMatched": 0.0, "sizeMatched": 0.0, "orderStatus": "EXECUTABLE"}),
        Err(code) => json!({"status": "FAILURE", "instruction": echo, "errorCode": code}),
    }
}

fn among(list: &Option<Vec<String>>, value: &str) -> bool {
    list.as_ref().is_none_or(|l| l.iter().any(|v| v == value))
}

fn among_text(list: &Option<Vec<String>>, market: &Market, key: &str) -> bool {
    list.is_none() || market.definition_text(key).is_some_and(|v| among(list, &v))
}

/// A bet id as the exchange numbers them; anything else names no bet.
fn bet_id(text: &str) -> OrderId {
    OrderId(text.parse().unwrap_or(0))
}

/// An ISO-8601 UTC date with milliseconds, as the Betting API writes them.
fn date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Back => "BACK",
        Side::Lay => "LAY",
    }
}

fn persistence_name(p: Persistence) -> &'static str {
    match p {
        Persistence::Lapse => "LAPSE",
        Persistence::Persist => "PERSIST",
        Persistence::MarketOnClose => "MARKET_ON_CLOSE",
    }
}

fn execution_failure(market: &Option<String>, code: &str) -> Value {
    json!({"status": "FAILURE", "errorCode": code, "marketId": market, "instructionReports": []})
}

/// A cancel or replace report: SUCCESS, or PROCESSED_WITH_ERRORS when any
/// instruction failed.
fn batch_report(market: Option<&str>, customer_ref: Option<&str>, reports: Vec<Value>) -> Value {
    let failed = reports.iter().any(|r| r["status"] != "SUCCESS");
    let mut report = json!({"status": if failed { "PROCESSED_WITH_ERRORS" } else { "SUCCESS" },
        "instructionReports": reports});
    if failed {
        report["errorCode"] = json!("PROCESSED_WITH_ERRORS");
    }
    if let Some(m) = market {
        report["marketId"] = json!(m);
    }
    if let Some(r) = customer_ref {
        report["customerRef"] = json!(r);
    }
    report
}

fn page(list: Vec<Value>, from: Option<usize>, count: Option<usize>, key: &str) -> Value {
    let from = from.unwrap_or(0);
    let count = count.unwrap_or(1000).clamp(1, 1000);
    let more = list.len() > from + count;
    let list: Vec<Value> = list.into_iter().skip(from).take(count).collect();
    json!({key: list, "moreAvailable": more})
}

fn current_order(b: &Booked) -> Value {
    let o = &b.order;
    let status = match o.status {
        OrderStatus::ExecutionComplete => "EXECUTION_COMPLETE",
        _ => "EXECUTABLE",
    };
    let mut row = json!({"betId": o.id.0.to_string(), "marketId": o.request.market_id.0,
        "selectionId": o.request.selection_id.0, "handicap": b.handicap,
        "priceSize": {"price": o.request.price.0, "size": o.request.size}, "bspLiability": 0.0,
        "side": side_name(o.request.side), "status": status,
        "persistenceType": persistence_name(o.request.persistence), "orderType": "LIMIT",
        "placedDate": date(o.placed_at.0), "averagePriceMatched": o.average_price_matched.unwrap_or(0.0),
        "sizeMatched": o.size_matched, "sizeRemaining": o.size_remaining(),
        "sizeLapsed": o.size_lapsed, "sizeCancelled": o.size_cancelled, "sizeVoided": 0.0,
        "regulatorCode": "LOCAL EXCHANGE"});
    if let Some(at) = b.matched_at {
        row["matchedDate"] = json!(date(at));
    }
    if let Some(r) = &o.request.customer_ref {
        row["customerOrderRef"] = json!(r);
    }
    if let Some(r) = &b.strategy_ref {
        row["customerStrategyRef"] = json!(r);
    }
    row
}

/// A cleared order of `status` (B.6), if this order has one.
fn cleared_order(b: &Booked, status: &str, market: Option<&Market>) -> Option<Value> {
    let o = &b.order;
    let (profit, voided, settled_at) = b.settled?;
    let settled = o.size_matched - voided;
    let (size_cancelled, outcome) = match status {
        "SETTLED" if settled > 0.0 => (0.0, if profit > 0.0 { "WON" } else { "LOST" }),
        "VOIDED" if voided > 0.0 => (0.0, "VOIDED"),
        "LAPSED" if o.size_lapsed > 0.0 => (o.size_lapsed, "LAPSED"),
        "CANCELLED" if o.size_cancelled > 0.0 => (o.size_cancelled, "CANCELLED"),
        _ => return None,
    };
    let text = |key| market.and_then(|m| m.definition_text(key));
    let mut row = json!({"eventTypeId": text("eventTypeId"), "eventId": text("eventId"),
        "marketId": o.request.market_id.0, "selectionId": o.request.selection_id.0,
        "handicap": b.handicap, "betId": o.id.0.to_string(), "placedDate": date(o.placed_at.0),
        "persistenceType": persistence_name(o.request.persistence), "orderType": "LIMIT",
        "side": side_name(o.request.side), "betOutcome": outcome, "priceRequested": o.request.price.0,
        "settledDate": date(settled_at), "betCount": 1, "priceReduced": false,
        "sizeCancelled": size_cancelled});
    if status == "SETTLED" {
        row["priceMatched"] = json!(o.average_price_matched.unwrap_or(0.0));
        row["sizeSettled"] = json!(settled);
        row["profit"] = json!(profit);
    }
    if let Some(at) = b.matched_at {
        row["lastMatchedDate"] = json!(date(at));
    }
    if let Some(r) = &o.request.customer_ref {
        row["customerOrderRef"] = json!(r);
    }
    if let Some(r) = &b.strategy_ref {
        row["customerStrategyRef"] = json!(r);
    }
    Some(row)
}

/// A market's catalogue entry, from its latest definition.
fn catalogue_entry(m: &Market) -> Option<Value> {
    let (definition, _) = m.definition.as_ref()?;
    let text = |key: &str| definition.get(key).cloned().unwrap_or(Value::Null);
    let or = |key: &str, fallback: &str| definition.get(key).cloned().unwrap_or(text(fallback));
    let runners = definition.get("runners").and_then(Value::as_array);
    let runners: Vec<Value> = runners
        .into_iter()
        .flatten()
        .map(catalogue_runner)
        .collect();
    let event = json!({"id": text("eventId"), "name": or("eventName", "venue"),
        "countryCode": text("countryCode"), "timezone": text("timezone"),
        "venue": text("venue"), "openDate": text("openDate")});
    let description = json!({"bettingType": text("bettingType"), "bspMarket": text("bspMarket"),
        "marketTime": text("marketTime"), "suspendTime": text("suspendTime"),
        "turnInPlayEnabled": text("turnInPlayEnabled"), "marketType": text("marketType"),
        "raceType": text("raceType")});
    let total = m.tv.as_ref().map_or(json!(0.0), |(tv, _)| tv.clone());
    let event_type = json!({"id": text("eventTypeId"), "name": text("eventTypeId")});
    Some(
        json!({"marketId": m.id, "marketName": or("name", "marketType"),
        "marketStartTime": text("marketTime"), "totalMatched": total, "runners": runners,
        "eventType": event_type, "event": event, "description": description}),
    )
}

fn catalogue_runner(r: &Value) -> Value {
    let id = r.get("id").cloned().unwrap_or(Value::Null);
    let name = r
        .get("name")
        .cloned()
        .unwrap_or_else(|| json!(id.to_string()));
    json!({"selectionId": id, "runnerName": name,
        "handicap": r.get("hc").cloned().unwrap_or(json!(0.0)),
        "sortPriority": r.get("sortPriority")})
}

/// One placement from its wire form; a shape the exchange does not take
/// is `INVALID_INPUT_DATA` for the whole call.
fn placement(raw: &Value) -> Result<Placement, Fault> {
    let i: PlaceInstruction = serde_json::from_value(raw.clone())
        .map_err(|e| Fault("INVALID_INPUT_DATA", format!("instruction: {e}")))?;
    let bad = |why: &str| Fault("INVALID_INPUT_DATA", why.to_owned());
    if i.order_type != "LIMIT" {
        return Err(bad("only LIMIT orders are taken by the local exchange"));
    }
    let limit = i
        .limit_order
        .ok_or_else(|| bad("a LIMIT order needs limitOrder"))?;
    if limit.time_in_force.is_some() || limit.min_fill_size.is_some() {
        return Err(bad(
            "timeInForce and minFillSize are not taken by the local exchange",
        ));
    }
    let side = match i.side.as_str() {
        "BACK" => Side::Back,
        "LAY" => Side::Lay,
        other => return Err(bad(&format!("side {other:?}"))),
    };
    let persistence = match limit.persistence_type.as_deref() {
        None | Some("LAPSE") => Persistence::Lapse,
        Some("PERSIST") => Persistence::Persist,
        Some("MARKET_ON_CLOSE") => Persistence::MarketOnClose,
        Some(other) => return Err(bad(&format!("persistenceType {other:?}"))),
    };
    Ok(Placement {
        selection_id: i.selection_id,
        handicap: i.handicap.unwrap_or(0.0),
        side,
        price: limit.price,
        size: limit.size,
        persistence,
        customer_order_ref: i.customer_order_ref,
    })
}

fn replacement(old: &Booked, price: f64, size: f64) -> Placement {
    let request = &old.order.request;
    Placement {
        selection_id: request.selection_id.0,
        handicap: old.handicap,
        side: request.side,
        price,
        size,
        persistence: request.persistence,
        customer_order_ref: request.customer_ref.clone(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlaceParams {
    market_id: String,
    instructions: Vec<Value>,
    customer_ref: Option<String>,
    customer_strategy_ref: Option<String>,
    market_version: Option<MarketVersion>,
}

#[derive(Deserialize)]
struct MarketVersion {
    version: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlaceInstruction {
    order_type: String,
    selection_id: u64,
    handicap: Option<f64>,
    side: String,
    limit_order: Option<LimitOrder>,
    customer_order_ref: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LimitOrder {
    size: f64,
    price: f64,
    persistence_type: Option<String>,
    time_in_force: Option<String>,
    min_fill_size: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CancelParams {
    market_id: Option<String>,
    instructions: Option<Vec<CancelInstruction>>,
    customer_ref: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CancelInstruction {
    bet_id: String,
    size_reduction: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReplaceParams {
    market_id: String,
    instructions: Vec<ReplaceInstruction>,
    customer_ref: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReplaceInstruction {
    bet_id: String,
    new_price: f64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CurrentParams {
    bet_ids: Option<Vec<String>>,
    market_ids: Option<Vec<String>>,
    order_projection: Option<String>,
    customer_order_refs: Option<Vec<String>>,
    customer_strategy_refs: Option<Vec<String>>,
    from_record: Option<usize>,
    record_count: Option<usize>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClearedParams {
    bet_status: String,
    market_ids: Option<Vec<String>>,
    bet_ids: Option<Vec<String>>,
    customer_strategy_refs: Option<Vec<String>>,
    customer_order_refs: Option<Vec<String>>,
    from_record: Option<usize>,
    record_count: Option<usize>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CatalogueParams {
    #[serde(default)]
    filter: CatalogueFilter,
    max_results: usize,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CatalogueFilter {
    market_ids: Option<Vec<String>>,
    event_type_ids: Option<Vec<String>>,
    event_ids: Option<Vec<String>>,
    market_countries: Option<Vec<String>>,
    market_type_codes: Option<Vec<String>>,
    venues: Option<Vec<String>>,
}

//! One order subscription's view of the account's orders (venue-protocols
//! A.6, A.10): the `oc` items of its image (orders still executable, and
//! the matched position) and of its deltas (every order that changed, sent
//! whole, and the position of its runner). Matched volume is kept per
//! order as a stake and an average price, so a runner's `mb`/`ml` ladder
//! is that stake at that price, order by order.

use std::collections::BTreeMap;

use clever_betfair::esa::OrderSubscription;
use clever_sdk::{OrderStatus, Persistence, Side};
use serde_json::{Map, Value, json};

use crate::orders::{Booked, Orders};

/// What an order subscription is sent.
#[derive(Debug, Clone)]
pub struct OrderView {
    strategy_refs: Option<Vec<String>>,
    position: bool,
    partition: bool,
}

/// One runner's orders in a view: (market, selection, handicap bits).
type RunnerKey = (String, u64, u64);

impl OrderView {
    /// The view of `subscription`.
    pub fn new(subscription: &OrderSubscription) -> OrderView {
        let filter = subscription.order_filter.clone().unwrap_or_default();
        OrderView {
            strategy_refs: filter.customer_strategy_refs,
            position: filter.include_overall_position.unwrap_or(true),
            partition: filter.partition_matched_by_strategy_ref.unwrap_or(false),
        }
    }

    fn selects(&self, b: &Booked) -> bool {
        let of = b.strategy_ref.as_deref().unwrap_or("");
        (self.strategy_refs.as_ref()).is_none_or(|refs| refs.iter().any(|r| r == of))
    }

    /// Executable orders and every position, by market and runner.
    pub fn image(&self, orders: &Orders) -> Vec<Value> {
        self.items(orders, None)
    }

    /// Orders changed after `tick`, and their runners' positions.
    pub fn delta(&self, orders: &Orders, tick: u64) -> Vec<Value> {
        self.items(orders, Some(tick))
    }

    fn items(&self, orders: &Orders, since: Option<u64>) -> Vec<Value> {
        let image = since.is_none();
        // Runners to report: those with a changed order (or, for an
        // image, any order of this view that is live or matched).
        let mut runners: BTreeMap<RunnerKey, Vec<&Booked>> = BTreeMap::new();
        for b in orders.booked.values() {
            let key = runner_key(b);
            if self.selects(b) || self.position {
                runners.entry(key).or_default().push(b);
            }
        }
        let mut markets: BTreeMap<String, (Vec<Value>, bool)> = BTreeMap::new();
        for ((market, selection, _), all) in runners {
            let changed = |b: &&&Booked| since.is_none_or(|s| b.tick > s);
            if !all.iter().any(|b| changed(&b)) {
                continue;
            }
            let mine = |b: &&&Booked| self.selects(b);
            let sent: Vec<Value> = (all.iter().filter(mine))
                .filter(|b| if image { b.order.is_open() } else { changed(b) })
                .map(|b| order(b))
                .collect();
            let closed = all.iter().all(|b| b.settled.is_some());
            let (mb, ml) = matched(all.iter().copied());
            let nothing = sent.is_empty() && mb == json!([]) && ml == json!([]);
            if image && (closed || nothing) {
                continue;
            }
            let mut orc = Map::new();
            orc.insert("id".into(), json!(selection));
            if image {
                orc.insert("fullImage".into(), json!(true));
            }
            if !sent.is_empty() {
                orc.insert("uo".into(), Value::Array(sent));
            }
            if self.position {
                orc.insert("mb".into(), mb);
                orc.insert("ml".into(), ml);
            }
            if self.partition {
                orc.insert(
                    "smc".into(),
                    by_strategy(all.iter().copied().filter(|b| self.selects(b))),
                );
            }
            let entry = markets.entry(market).or_insert((Vec::new(), true));
            entry.0.push(Value::Object(orc));
            entry.1 &= closed;
        }
        let items = markets.into_iter().map(|(id, (orc, closed))| {
            let mut item = json!({"id": id, "orc": orc});
            if image {
                item["fullImage"] = json!(true);
            }
            if closed {
                item["closed"] = json!(true);
            }
            item
        });
        items.collect()
    }
}

fn runner_key(b: &Booked) -> RunnerKey {
    let r = &b.order.request;
    (
        r.market_id.0.clone(),
        r.selection_id.0,
        b.handicap.to_bits(),
    )
}

/// Matched backs and lays as `[price, size]` ladders.
fn matched<'a>(orders: impl Iterator<Item = &'a Booked>) -> (Value, Value) {
    let mut sides: [BTreeMap<u64, (f64, f64)>; 2] = Default::default();
    for b in orders {
        let o = &b.order;
        let (Some(price), true) = (o.average_price_matched, o.size_matched > 0.0) else {
            continue;
        };
        let side = usize::from(o.request.side == Side::Lay);
        let at = sides[side].entry(price.to_bits()).or_insert((price, 0.0));
        at.1 = ((at.1 + o.size_matched) * 100.0).round() / 100.0;
    }
    let ladder = |m: &BTreeMap<u64, (f64, f64)>| {
        let mut points: Vec<(f64, f64)> = m.values().copied().collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        Value::Array(points.into_iter().map(|(p, s)| json!([p, s])).collect())
    };
    (ladder(&sides[0]), ladder(&sides[1]))
}

fn by_strategy<'a>(orders: impl Iterator<Item = &'a Booked>) -> Value {
    let mut refs: BTreeMap<String, Vec<&Booked>> = BTreeMap::new();
    for b in orders {
        let r = b.strategy_ref.clone().unwrap_or_default();
        refs.entry(r).or_default().push(b);
    }
    let mut smc = Map::new();
    for (r, list) in refs {
        let (mb, ml) = matched(list.into_iter());
        smc.insert(r, json!({"mb": mb, "ml": ml}));
    }
    Value::Object(smc)
}

/// An order as the order stream sends it, whole (A.10).
fn order(b: &Booked) -> Value {
    let o = &b.order;
    let r = &o.request;
    let status = match o.status {
        OrderStatus::Executable | OrderStatus::Pending => "E",
        _ => "EC",
    };
    let persistence = match r.persistence {
        Persistence::Lapse => "L",
        Persistence::Persist => "P",
        Persistence::MarketOnClose => "MOC",
    };
    let voided = b.settled.map_or(0.0, |(_, voided, _)| voided);
    let mut uo = json!({"id": o.id.0.to_string(), "p": r.price.0, "s": r.size,
        "side": if r.side == Side::Back { "B" } else { "L" }, "status": status,
        "pt": persistence, "ot": "L", "pd": o.placed_at.0,
        "sm": o.size_matched, "sr": o.size_remaining(), "sl": o.size_lapsed,
        "sc": o.size_cancelled, "sv": voided, "rac": "", "rc": "REG_LOCAL",
        "rfo": r.customer_ref.clone().unwrap_or_default(),
        "rfs": b.strategy_ref.clone().unwrap_or_default()});
    if let Some(avp) = o.average_price_matched {
        uo["avp"] = json!(avp);
    }
    if let Some(at) = b.matched_at {
        uo["md"] = json!(at);
    }
    uo
}

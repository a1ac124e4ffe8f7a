//! [`BetfairVenue`]: one strategy's orders on Betfair. `place` and `cancel`
//! return at once (the engine's thread never waits on the network); the
//! requests run on tokio and their news is taken in by `poll`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc::Receiver;

use clever_engine::{MarketState, OrderChange, Venue};
use clever_market::{Fill, MarketBook, MarketResult, Money, round2};
use clever_risk::Approved;
use clever_sdk::{
    MarketId, Order, OrderId, OrderRequest, OrderStatus, OrderType, Persistence, RejectReason,
    Side, Timestamp,
};
use clever_sim::order::SimOrder;
use clever_sim::settle::settle;
use clever_store::NewOrder;
use serde_json::{Value, json};

use crate::news::{News, OrderRef, Reported};
use crate::trading::Shared;

/// One order as the venue knows it.
struct Live {
    order: Order,
    bet_id: Option<String>,
    /// A cancel was asked for (sent once the bet id is known).
    cancel_asked: bool,
}

/// One strategy's orders on Betfair (see the module's doc).
pub struct BetfairVenue {
    shared: Arc<Shared>,
    desk: u32,
    news: Receiver<News>,
    orders: HashMap<OrderId, Live>,
    markets: HashMap<MarketId, Vec<OrderId>>,
    /// The strategy placing, and its running version (journalled with
    /// each order).
    strategy: String,
    version: String,
}

impl BetfairVenue {
    pub(crate) fn new(
        shared: Arc<Shared>,
        desk: u32,
        news: Receiver<News>,
        strategy: &str,
    ) -> Self {
        BetfairVenue {
            shared,
            desk,
            news,
            orders: HashMap::new(),
            markets: HashMap::new(),
            strategy: strategy.to_owned(),
            version: String::new(),
        }
    }

    /// The journal's record of an order about to be sent as `reference`,
    /// placed at `now` (the market's clock, which risk limits count by).
    fn journalled(&self, reference: String, r: &OrderRequest, now: Timestamp) -> NewOrder {
        NewOrder {
            customer_ref: reference,
            strategy_ref: self.shared.strategy_ref.clone(),
            mode: "live",
            strategy: self.strategy.clone(),
            version: self.version.clone(),
            venue: "betfair",
            market_id: r.market_id.0.clone(),
            selection_id: r.selection_id.0,
            side: r.side,
            order_type: r.order_type,
            persistence: r.persistence,
            price: r.price.0,
            size: Money::from_f64(round2(r.size)),
            placed_at: now.0,
        }
    }

    /// The `placeOrders` params of one order sent as `reference`, placed
    /// in a market whose definition is at `version` (the bet lapses if it
    /// has moved on).
    fn body(&self, reference: &str, r: &OrderRequest, version: Option<u64>) -> Value {
        let persistence = match r.persistence {
            Persistence::Lapse => "LAPSE",
            Persistence::Persist => "PERSIST",
            Persistence::MarketOnClose => "MARKET_ON_CLOSE",
        };
        let side = match r.side {
            Side::Back => "BACK",
            Side::Lay => "LAY",
        };
        let size = round2(r.size);
        let mut instruction = json!({"selectionId": r.selection_id.0, "handicap": 0,
            "side": side, "customerOrderRef": reference});
        match r.order_type {
            OrderType::Limit => {
                instruction["orderType"] = json!("LIMIT");
                instruction["limitOrder"] =
                    json!({"size": size, "price": r.price.0, "persistenceType": persistence});
            }
            OrderType::LimitOnClose => {
                instruction["orderType"] = json!("LIMIT_ON_CLOSE");
                instruction["limitOnCloseOrder"] = json!({"liability": size, "price": r.price.0});
            }
            OrderType::MarketOnClose => {
                instruction["orderType"] = json!("MARKET_ON_CLOSE");
                instruction["marketOnCloseOrder"] = json!({"liability": size});
            }
        }
        let mut body = json!({"marketId": r.market_id.0, "instructions": [instruction],
            "customerRef": reference, "customerStrategyRef": self.shared.strategy_ref});
        if let Some(version) = version {
            body["marketVersion"] = json!({ "version": version });
        }
        body
    }

    fn take(&mut self, news: News, changes: &mut Vec<OrderChange>) {
        match news {
            News::Placed { id, bet_id } => {
                let Some(live) = self.orders.get_mut(&id) else {
                    return;
                };
                // The order stream may have told first (and sent the cancel).
                let first = live.bet_id.replace(bet_id.clone()).is_none();
                if live.order.status == OrderStatus::Pending {
                    live.order.status = OrderStatus::Executable;
                    changes.push(change(&live.order, 0.0));
                }
                if first && live.cancel_asked && live.order.is_open() {
                    let market = live.order.request.market_id.0.clone();
                    self.shared.cancel((self.desk, id), market, bet_id);
                }
            }
            News::CancelFailed { id, why } => {
                if let Some(live) = self.orders.get_mut(&id) {
                    tracing::warn!(
                        "order {}: cancel not done ({why}); it may be asked again",
                        id.0
                    );
                    live.cancel_asked = false;
                }
            }
            News::Refused { id, code } => {
                let Some(live) = self.orders.get_mut(&id) else {
                    return;
                };
                if live.order.status != OrderStatus::Pending {
                    return;
                }
                let reduced = live.order.size_remaining();
                live.order.status = OrderStatus::Rejected;
                live.order.rejection = Some(RejectReason::VenueError(code));
                changes.push(change(&live.order, reduced));
            }
            News::Unknown { .. } => {}
            News::Reported(reported) => self.reported(reported, changes),
        }
    }

    /// The order stream's word on an order: cumulative sizes and status.
    fn reported(&mut self, r: Reported, changes: &mut Vec<OrderChange>) {
        let Some(live) = self.orders.get_mut(&r.id) else {
            return;
        };
        let cancel_now = live.bet_id.is_none() && live.cancel_asked && !r.complete;
        live.bet_id = Some(r.bet_id.clone());
        let o = &mut live.order;
        if o.status == OrderStatus::Rejected {
            // Refused by a code that should mean nothing was done, yet on
            // the book: risk released its stake when it was refused.
            tracing::error!(
                "order {}: refused, yet the exchange has it as bet {} (its stake is not \
                 counted by risk)",
                r.id.0,
                r.bet_id
            );
            o.rejection = None;
        }
        let gone_before = o.size_cancelled + o.size_lapsed;
        let status = if r.complete {
            OrderStatus::ExecutionComplete
        } else {
            OrderStatus::Executable
        };
        let same = o.size_matched == r.matched
            && o.average_price_matched == r.average_price
            && gone_before == r.cancelled + r.lapsed
            && o.status == status;
        if same {
            return;
        }
        (o.size_matched, o.average_price_matched) = (r.matched, r.average_price);
        (o.size_cancelled, o.size_lapsed, o.status) = (r.cancelled, r.lapsed, status);
        let reduced = round2((r.cancelled + r.lapsed - gone_before).max(0.0));
        changes.push(change(o, reduced));
        if cancel_now {
            let market = o.request.market_id.0.clone();
            self.shared.cancel((self.desk, r.id), market, r.bet_id);
        }
    }
}

fn change(order: &Order, reduced: f64) -> OrderChange {
    OrderChange {
        order: order.clone(),
        reduced,
    }
}

impl Venue for BetfairVenue {
    fn place(
        &mut self,
        id: OrderId,
        order: Approved,
        now: Timestamp,
        state: &MarketState,
    ) -> Result<Order, RejectReason> {
        let request = order.into_request();
        let reference = OrderRef {
            desk: self.desk,
            order: id,
        }
        .text(&self.shared.run);
        let body = self.body(&reference, &request, state.version);
        let journalled = self.journalled(reference, &request, now);
        let order = Order::pending(id, request, now);
        let market = order.request.market_id.clone();
        self.markets.entry(market).or_default().push(id);
        self.orders.insert(
            id,
            Live {
                order: order.clone(),
                bet_id: None,
                cancel_asked: false,
            },
        );
        self.shared.place(self.desk, id, body, journalled);
        Ok(order)
    }

    fn cancel(&mut self, id: OrderId, _now: Timestamp) -> Result<(), RejectReason> {
        let live = self.orders.get_mut(&id);
        let Some(live) = live.filter(|l| l.order.is_open() && !l.cancel_asked) else {
            return Err(RejectReason::UnknownOrder);
        };
        live.cancel_asked = true;
        if let Some(bet_id) = &live.bet_id {
            let market = live.order.request.market_id.0.clone();
            self.shared.cancel((self.desk, id), market, bet_id.clone());
        }
        Ok(())
    }

    fn poll(&mut self, _now: Timestamp, changes: &mut Vec<OrderChange>) {
        while let Ok(news) = self.news.try_recv() {
            self.take(news, changes);
        }
    }

    fn on_market(&mut self, now: Timestamp, _book: &MarketBook, changes: &mut Vec<OrderChange>) {
        self.poll(now, changes);
    }

    fn switch_version(&mut self, version: &str) {
        self.version = version.to_owned();
    }

    fn order(&self, id: OrderId) -> Option<Order> {
        self.orders.get(&id).map(|l| l.order.clone())
    }

    fn orders(&self, market: &MarketId) -> Vec<Order> {
        let ids = self.markets.get(market).map_or(&[][..], Vec::as_slice);
        ids.iter()
            .filter_map(|id| self.orders.get(id).map(|l| l.order.clone()))
            .collect()
    }

    /// What matched is settled as the market's result says; stake still
    /// unmatched lapses (the exchange lapses it at the close, and the order
    /// stream's word on it may come after the market's).
    fn settle(&mut self, book: &MarketBook, changes: &mut Vec<OrderChange>) -> MarketResult {
        self.poll(book.view.publish_time, changes);
        let ids = self.markets.remove(&book.view.id).unwrap_or_default();
        let mut settled = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(mut live) = self.orders.remove(&id) else {
                continue;
            };
            let o = &mut live.order;
            if o.is_open() {
                let reduced = o.size_remaining();
                o.size_lapsed += reduced;
                o.status = OrderStatus::ExecutionComplete;
                changes.push(change(o, reduced));
            }
            settled.push(matched(&live.order));
        }
        let rate = (book.commission_rate).unwrap_or(self.shared.default_commission_rate);
        settle(&book.view, &settled, rate)
    }
}

/// An order's matched stake as one fill at its average price (the order
/// stream's figures), for settlement.
fn matched(order: &Order) -> SimOrder {
    let mut sim = SimOrder::new(order.clone(), order.placed_at, false);
    if let (Some(price), true) = (order.average_price_matched, order.size_matched > 0.0) {
        sim.fills.push(Fill {
            at: order.placed_at,
            price,
            size: order.size_matched,
            void: false,
        });
    }
    sim
}

impl Drop for BetfairVenue {
    fn drop(&mut self) {
        self.shared.forget(self.desk);
    }
}

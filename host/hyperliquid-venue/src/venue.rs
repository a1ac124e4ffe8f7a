//! [`HyperliquidVenue`]: the engine's book venue on Hyperliquid. An order
//! is checked against the instrument's rules, sent with a cloid, and is
//! `pending` until the venue answers; fills come from the account's feed
//! and are booked in the exact ledger ([`Positions`]), so the position and
//! trade records follow what the venue did, not what was asked.

use std::collections::HashMap;

use clever_engine::BookVenue;
use clever_hyperliquid::actions::CancelByCloidWire;
use clever_hyperliquid::{Action, Cloid, Limit, OrderType, OrderWire, Tif, wire_number};
use clever_market::{Decimal, InstrumentEvent, Positions, TradeRecord, check_order, exact};
use clever_sdk::{
    BookOrder, BookOrderRequest, BookPosition, BookSide, InstrumentInfo, OrderId, OrderStatus,
    RejectReason, TimeInForce, Timestamp,
};
use rust_decimal::prelude::ToPrimitive;

use crate::link::{Link, Reply, Request};

/// What an IOC order that took nothing is told; not a refusal, just done.
const NO_MATCH: &str = "could not immediately match";
/// How the venue answers a cancel of an order it no longer holds.
const GONE: &str = "never placed, already canceled, or filled";

#[derive(Debug)]
struct Live {
    order: BookOrder,
    asset: u32,
    cloid: Cloid,
    oid: Option<u64>,
    left: Decimal,
    value: Decimal,
    fees: Decimal,
    stop: Option<Decimal>,
    /// The size the venue said it filled of an IOC (the rest is gone).
    done_at: Option<Decimal>,
}

/// A venue of one account on Hyperliquid (or the local one).
#[derive(Debug)]
pub struct HyperliquidVenue {
    instruments: HashMap<String, (u32, InstrumentInfo)>,
    /// The high 64 bits of every cloid this venue sends.
    session: u64,
    orders: HashMap<OrderId, Live>,
    by_oid: HashMap<u64, OrderId>,
    positions: Positions,
    marks: HashMap<String, Decimal>,
    leverage: u32,
    link: Link,
    /// Fills of orders whose venue id is not known yet.
    early: Vec<Reply>,
}

impl HyperliquidVenue {
    /// A venue trading `instruments` (rules with their asset ids) through
    /// `link`; `session` marks its cloids.
    pub fn new(
        instruments: Vec<(u32, InstrumentInfo)>,
        session: u64,
        link: Link,
    ) -> HyperliquidVenue {
        HyperliquidVenue {
            instruments: instruments
                .into_iter()
                .map(|(a, i)| (i.instrument.clone(), (a, i)))
                .collect(),
            session,
            orders: HashMap::new(),
            by_oid: HashMap::new(),
            positions: Positions::default(),
            marks: HashMap::new(),
            leverage: 20,
            link,
            early: Vec::new(),
        }
    }

    /// The same venue, its positions valued at `leverage` (what the
    /// account is set to at the venue).
    pub fn with_leverage(self, leverage: u32) -> Self {
        HyperliquidVenue {
            leverage: leverage.max(1),
            ..self
        }
    }

    /// Take over a position the account holds at the venue (a restart).
    pub fn adopt(&mut self, instrument: &str, size: Decimal, entry: Decimal, now: Timestamp) {
        self.positions.adopt(instrument, size, entry, now);
    }

    fn cloid(&self, id: OrderId) -> Cloid {
        Cloid((u128::from(self.session) << 64) | u128::from(id.0))
    }

    /// Apply one answer or account event; the order it changed, if any.
    fn apply(&mut self, reply: Reply) -> Option<BookOrder> {
        match reply {
            Reply::Placed { id, status } => self.placed(id, &status),
            Reply::Failed { id, why } => self.refused(id, why),
            // Gone already (filled or cancelled, its news perhaps missed
            // while the account feed reconnected): it rests no more.
            Reply::Cancelled {
                id,
                error: Some(why),
            } if why.contains(GONE) => self.cancelled(id),
            Reply::Cancelled {
                id,
                error: Some(why),
            } => {
                tracing::warn!("cancelling order {}: {why}", id.0);
                None
            }
            // The venue says it is gone: done now, not when (or if) the
            // account feed says so too (a stopping host waits on this).
            Reply::Cancelled { id, error: None } => self.cancelled(id),
            Reply::Fill { oid, .. } if !self.by_oid.contains_key(&oid) => {
                self.early.push(reply);
                None
            }
            Reply::Fill {
                oid,
                coin: _,
                buy,
                px,
                sz,
                fee,
                time,
            } => self.filled(oid, (buy, px, sz, fee), time),
            Reply::Update { oid, status } => self.updated(oid, &status),
            Reply::Funding { coin, usdc } => {
                self.positions.fund(&coin, -usdc);
                None
            }
        }
    }

    fn placed(&mut self, id: OrderId, status: &serde_json::Value) -> Option<BookOrder> {
        let live = self.orders.get_mut(&id)?;
        if let Some(error) = status["error"].as_str() {
            let taken_nothing = error.contains(NO_MATCH);
            live.order.status = if taken_nothing {
                OrderStatus::ExecutionComplete
            } else {
                OrderStatus::Rejected
            };
            if !taken_nothing {
                live.order.rejection = Some(RejectReason::VenueError(error.to_owned()));
            }
            return Some(live.order.clone());
        }
        let (oid, filled) = match (&status["resting"]["oid"], &status["filled"]) {
            (resting, _) if resting.is_u64() => (resting.as_u64(), None),
            (_, filled) => (
                filled["oid"].as_u64(),
                filled["totalSz"].as_str().and_then(|s| s.parse().ok()),
            ),
        };
        let oid = oid?;
        live.oid = Some(oid);
        live.done_at = filled;
        if live.order.status == OrderStatus::Pending {
            live.order.status = OrderStatus::Executable;
        }
        self.by_oid.insert(oid, id);
        self.settle_if_done(id);
        Some(self.orders.get(&id)?.order.clone())
    }

    /// The venue holds `id` no more: done, if it was open (a fill heard
    /// of later is still booked).
    fn cancelled(&mut self, id: OrderId) -> Option<BookOrder> {
        let live = self.orders.get_mut(&id)?;
        let open = matches!(
            live.order.status,
            OrderStatus::Pending | OrderStatus::Executable
        );
        open.then(|| {
            live.order.status = OrderStatus::ExecutionComplete;
            live.order.clone()
        })
    }

    fn refused(&mut self, id: OrderId, why: String) -> Option<BookOrder> {
        let live = self.orders.get_mut(&id)?;
        live.order.status = OrderStatus::Rejected;
        live.order.rejection = Some(RejectReason::VenueError(why));
        Some(live.order.clone())
    }

    fn filled(
        &mut self,
        oid: u64,
        (buy, px, sz, fee): (bool, Decimal, Decimal, Decimal),
        time: i64,
    ) -> Option<BookOrder> {
        let id = *self.by_oid.get(&oid)?;
        // A fill no venue could make (no size or price, or past what
        // exact money holds) is logged and left out, not a panic.
        let most = Decimal::from(1_000_000_000_000_i64);
        if !(Decimal::ZERO < px && px <= most && Decimal::ZERO < sz && sz <= most) {
            tracing::error!(
                "a fill of order {} at {px} for {sz} left out: not a fill",
                id.0
            );
            return None;
        }
        let live = self.orders.get_mut(&id)?;
        live.left -= sz;
        live.value += px * sz;
        live.fees += fee;
        let filled = exact(live.order.request.size).unwrap_or_default() - live.left;
        live.order.size_filled = filled.to_f64().unwrap_or(f64::NAN);
        live.order.average_price = (live.value / filled).to_f64();
        live.order.fees = live.fees.to_f64().unwrap_or(f64::NAN);
        let (instrument, stop) = (live.order.request.instrument.clone(), live.stop);
        let delta = if buy { sz } else { -sz };
        self.positions
            .fill(&instrument, (delta, px, fee), stop, Timestamp(time));
        self.settle_if_done(id);
        Some(self.orders.get(&id)?.order.clone())
    }

    /// Complete an order with nothing left, or an IOC filled as far as the
    /// venue said it would be.
    fn settle_if_done(&mut self, id: OrderId) {
        if let Some(live) = self.orders.get_mut(&id) {
            let filled = exact(live.order.request.size).unwrap_or_default() - live.left;
            let ioc_done = live.done_at.is_some_and(|total| filled >= total);
            if live.left <= Decimal::ZERO || ioc_done {
                live.order.status = OrderStatus::ExecutionComplete;
            }
        }
    }

    fn updated(&mut self, oid: u64, status: &str) -> Option<BookOrder> {
        let id = *self.by_oid.get(&oid)?;
        let live = self.orders.get_mut(&id)?;
        let gone = status.ends_with("anceled") || status.ends_with("ejected");
        if !gone || live.order.status != OrderStatus::Executable {
            return None;
        }
        live.order.status = OrderStatus::ExecutionComplete;
        Some(live.order.clone())
    }
}

impl BookVenue for HyperliquidVenue {
    fn rules(&self, instrument: &str) -> Option<InstrumentInfo> {
        self.instruments.get(instrument).map(|(_, i)| i.clone())
    }

    fn place(
        &mut self,
        id: OrderId,
        request: BookOrderRequest,
        now: Timestamp,
    ) -> Result<BookOrder, RejectReason> {
        let (asset, rules) = self
            .instruments
            .get(&request.instrument)
            .ok_or(RejectReason::UnknownMarket)?;
        let (price, size) = check_order(rules, &request, self.positions.held(&request.instrument))?;
        let tif = match request.time_in_force {
            TimeInForce::Gtc => Tif::Gtc,
            TimeInForce::Ioc => Tif::Ioc,
            TimeInForce::PostOnly => Tif::Alo,
        };
        let number = |x: Decimal| wire_number(x).map_err(|_| RejectReason::InvalidPrice);
        let cloid = self.cloid(id);
        let wire = OrderWire {
            a: *asset,
            b: request.side == BookSide::Buy,
            p: number(price)?,
            s: number(size)?,
            r: request.reduce_only,
            t: OrderType::Limit(Limit { tif }),
            c: Some(cloid),
        };
        let action = Action::Order {
            orders: vec![wire],
            grouping: "na".into(),
        };
        let request = BookOrderRequest {
            size: size.to_f64().unwrap_or(request.size),
            ..request
        };
        let order = BookOrder::new(id, request, OrderStatus::Pending, now);
        let stop = order.request.stop.and_then(exact);
        (self.link.requests.send(Request::Place { id, action }))
            .map_err(|_| RejectReason::VenueError("the link to the venue is down".into()))?;
        let live = Live {
            order: order.clone(),
            asset: *asset,
            cloid,
            oid: None,
            left: size,
            value: Decimal::ZERO,
            fees: Decimal::ZERO,
            stop,
            done_at: None,
        };
        self.orders.insert(id, live);
        Ok(order)
    }

    fn cancel(&mut self, id: OrderId, _: Timestamp) -> Result<(), RejectReason> {
        let live = (self.orders.get(&id))
            .filter(|l| {
                matches!(
                    l.order.status,
                    OrderStatus::Pending | OrderStatus::Executable
                )
            })
            .ok_or(RejectReason::UnknownOrder)?;
        let cancels = vec![CancelByCloidWire {
            asset: live.asset,
            cloid: live.cloid,
        }];
        let request = Request::Cancel {
            id,
            action: Action::CancelByCloid { cancels },
        };
        (self.link.requests.send(request))
            .map_err(|_| RejectReason::VenueError("the link to the venue is down".into()))
    }

    fn on_event(&mut self, event: &InstrumentEvent, _: &mut Vec<BookOrder>) {
        if let InstrumentEvent::Book(book) = event
            && let Some(mid) = book.mid().and_then(exact)
        {
            self.marks.insert(book.instrument.clone(), mid);
        }
    }

    fn poll(&mut self, _: Timestamp, changes: &mut Vec<BookOrder>) {
        let early = std::mem::take(&mut self.early);
        let mut replies: Vec<Reply> = early;
        while let Ok(reply) = self.link.replies.try_recv() {
            replies.push(reply);
        }
        for reply in replies {
            if let Some(order) = self.apply(reply) {
                changes.push(order);
            }
        }
    }

    fn open_orders(&self, instrument: &str) -> Vec<BookOrder> {
        (self.orders.values())
            .filter(|l| l.order.request.instrument == instrument)
            .filter(|l| {
                matches!(
                    l.order.status,
                    OrderStatus::Pending | OrderStatus::Executable
                )
            })
            .map(|l| l.order.clone())
            .collect()
    }

    fn open_ids(&self) -> Vec<OrderId> {
        (self.orders.values())
            .filter(|l| {
                matches!(
                    l.order.status,
                    OrderStatus::Pending | OrderStatus::Executable
                )
            })
            .map(|l| l.order.id)
            .collect()
    }

    fn position(&self, instrument: &str) -> Option<BookPosition> {
        (self.positions).view(
            instrument,
            self.marks.get(instrument).copied(),
            self.leverage,
        )
    }

    fn trades(&self) -> Vec<TradeRecord> {
        self.positions.trades().to_vec()
    }

    fn mark(&self, instrument: &str) -> Option<Decimal> {
        self.marks.get(instrument).copied()
    }

    fn realised(&self) -> Decimal {
        self.positions.realised()
    }
}

//! [`HyperliquidVenue`]: the engine's book venue on Hyperliquid. An order
//! is checked against the instrument's rules, sent with a cloid, and is
//! `pending` until the venue answers; fills come from the account's feed
//! and are booked in the exact ledger ([`Positions`]), so the position and
//! trade records follow what the venue did, not what was asked.

use std::collections::{HashMap, VecDeque};

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
/// Finished orders kept, newest, so a fill heard of after its order
/// finished still finds it (the account feed may lag the answers); older
/// ones are forgotten, or a long session's orders would grow without end.
const KEEP_FINISHED: usize = 1_024;
/// How long a fill of an unknown venue id (and no cloid of ours) waits
/// for an order of ours to be given that id, while some order awaits one.
const EARLY_FILL_WAIT_MS: i64 = 300_000;
/// The most such fills kept waiting.
const EARLY_FILLS_KEPT: usize = 1_000;
/// How soon after a failed answer a cancel of an order whose placement
/// got no answer is sent again; doubled each time, up to a minute.
const UNSURE_RETRY_MS: i64 = 5_000;
/// The host's order ids fill a cloid's low 48 bits; the strategy's index
/// in the host the 16 above them; the session's mark (the host's start
/// time, unique to each start on an account) the high 64.
const ORDER_BITS: u32 = 48;

/// Whose a cloid is.
enum Whose {
    /// This strategy's order.
    Mine(OrderId),
    /// Another strategy's of this host (session).
    Sibling,
    /// Neither.
    Stranger,
}

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
    /// Counted among the finished orders kept.
    retired: bool,
    /// The trade ids of its fills booked: none is booked twice.
    tids: Vec<u64>,
}

/// A venue of one account on Hyperliquid (or the local one).
#[derive(Debug)]
pub struct HyperliquidVenue {
    instruments: HashMap<String, (u32, InstrumentInfo)>,
    /// The high 64 bits of every cloid this venue sends.
    session: u64,
    /// The strategy's index among the host's (each has a venue of its
    /// own, and their cloids must differ).
    strategy: u16,
    /// Some order is still waiting for the venue's id (as the current
    /// poll began): a fill of an unknown id may yet be one of ours.
    awaiting: bool,
    orders: HashMap<OrderId, Live>,
    /// Finished orders still kept, oldest first (see [`KEEP_FINISHED`]).
    finished: VecDeque<OrderId>,
    by_oid: HashMap<u64, OrderId>,
    positions: Positions,
    marks: HashMap<String, Decimal>,
    leverage: u32,
    link: Link,
    /// Fills of orders whose venue id is not known yet.
    early: Vec<Reply>,
    /// Orders whose placement got no answer that says, being cancelled by
    /// cloid until the venue says they are gone: when to ask again (none
    /// while a cancel awaits its answer), and the wait before the next.
    unsure: HashMap<OrderId, (Option<i64>, i64)>,
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
            strategy: 0,
            awaiting: false,
            orders: HashMap::new(),
            finished: VecDeque::new(),
            by_oid: HashMap::new(),
            positions: Positions::default(),
            marks: HashMap::new(),
            leverage: 20,
            link,
            early: Vec::new(),
            unsure: HashMap::new(),
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

    /// The same venue for the strategy at `index` among the host's: its
    /// cloids are its own (the venue refuses a cloid used before).
    pub fn for_strategy(self, index: u16) -> Self {
        HyperliquidVenue {
            strategy: index,
            ..self
        }
    }

    /// Take over a position the account holds at the venue (a restart).
    pub fn adopt(&mut self, instrument: &str, size: Decimal, entry: Decimal, now: Timestamp) {
        self.positions.adopt(instrument, size, entry, now);
    }

    fn cloid(&self, id: OrderId) -> Option<Cloid> {
        (id.0 < 1 << ORDER_BITS).then(|| {
            let strategy = u128::from(self.strategy) << ORDER_BITS;
            Cloid((u128::from(self.session) << 64) | strategy | u128::from(id.0))
        })
    }

    /// Whose `cloid` is: this strategy's order, another strategy's of this
    /// session, or neither.
    fn whose(&self, cloid: Cloid) -> Whose {
        let low = cloid.0 as u64;
        match ((cloid.0 >> 64) as u64 == self.session, low >> ORDER_BITS) {
            (true, strategy) if strategy == u64::from(self.strategy) => {
                Whose::Mine(OrderId(low & ((1 << ORDER_BITS) - 1)))
            }
            (true, _) => Whose::Sibling,
            (false, _) => Whose::Stranger,
        }
    }

    /// Apply one answer or account event; the order it changed, if any.
    /// `now` dates a fill that is waiting for its order.
    fn apply(&mut self, reply: Reply, now: Timestamp) -> Option<BookOrder> {
        let changed = self.applied(reply, now)?;
        if !changed.status.is_open() {
            self.retire(changed.id);
        }
        Some(changed)
    }

    fn applied(&mut self, reply: Reply, now: Timestamp) -> Option<BookOrder> {
        match reply {
            Reply::Placed { id, status } => self.placed(id, &status, now),
            Reply::Failed { id, why } => self.refused(id, why),
            Reply::Unanswered { id, why } => {
                self.make_sure_gone(id, &format!("no answer from the venue ({why})"), now);
                None
            }
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
                self.ask_again_later(id, now);
                None
            }
            // The venue says it is gone: done now, not when (or if) the
            // account feed says so too (a stopping host waits on this).
            Reply::Cancelled { id, error: None } => self.cancelled(id),
            // A subscription's snapshot, the account's past: only a fill of
            // an order of ours counts, missed while the feed (re)connected
            // and booked once, by its trade id; the rest is not news.
            Reply::Fill {
                history: true,
                cloid,
                tid,
                ..
            } if tid.is_none() || cloid.and_then(|c| self.known_mine(c)).is_none() => None,
            Reply::Fill { oid, cloid, .. } if !self.by_oid.contains_key(&oid) => {
                match cloid.map(|c| self.whose(c)) {
                    // Its placement's answer has not come yet: the cloid says whose.
                    Some(Whose::Mine(id)) if self.orders.contains_key(&id) => {
                        self.learn_oid(id, oid);
                        self.applied(reply, now)
                    }
                    // Another strategy of this host's: its own venue books it.
                    Some(Whose::Sibling) => None,
                    Some(_) => {
                        self.stranger(&reply);
                        None
                    }
                    None => {
                        self.early_fill(reply, now);
                        None
                    }
                }
            }
            Reply::Fill {
                oid,
                buy,
                px,
                sz,
                fee,
                time,
                tid,
                ..
            } => self.filled(oid, (buy, px, sz, fee), (time, tid)),
            // An update of an order whose placement's answer has not come
            // (or never will): its cloid says whose.
            Reply::Update {
                oid,
                cloid: Some(cloid),
                ..
            } if !self.by_oid.contains_key(&oid) => {
                let id = self.known_mine(cloid)?;
                self.learn_oid(id, oid);
                self.applied(reply, now)
            }
            Reply::Update { oid, status, .. } => self.updated(oid, &status),
            Reply::Funding { coin, usdc } => {
                self.positions.fund(&coin, -usdc);
                None
            }
        }
    }

    /// The order `cloid` names, if it is one of this strategy's still known.
    fn known_mine(&self, cloid: Cloid) -> Option<OrderId> {
        match self.whose(cloid) {
            Whose::Mine(id) if self.orders.contains_key(&id) => Some(id),
            _ => None,
        }
    }

    /// Order `id` is `oid` at the venue (a fill or an update carrying its
    /// cloid came before its placement's answer).
    fn learn_oid(&mut self, id: OrderId, oid: u64) {
        if let Some(live) = self.orders.get_mut(&id) {
            live.oid = Some(oid);
        }
        self.by_oid.insert(oid, id);
    }

    /// A fill of a venue id no order of ours has (yet), without a cloid to
    /// say whose: kept while one of ours may still be given that id (its
    /// placement's answer can come after the account feed's fill), for
    /// [`EARLY_FILL_WAIT_MS`] at most; else it is another's.
    fn early_fill(&mut self, reply: Reply, now: Timestamp) {
        let Reply::Fill { time, .. } = reply else {
            return;
        };
        if !self.awaiting || now.0.saturating_sub(time) >= EARLY_FILL_WAIT_MS {
            self.stranger(&reply);
            return;
        }
        if self.early.len() >= EARLY_FILLS_KEPT {
            let oldest = self.early.remove(0);
            self.stranger(&oldest);
        }
        self.early.push(reply);
    }

    /// A fill in an order this strategy did not place: left out of its
    /// positions, with a warning (the account's position at the venue now
    /// differs from what this strategy holds).
    fn stranger(&self, reply: &Reply) {
        if let Reply::Fill {
            oid,
            coin,
            buy,
            px,
            sz,
            ..
        } = reply
        {
            let side = if *buy { "bought" } else { "sold" };
            tracing::warn!(
                "the account {side} {sz} {coin} at {px} in venue order {oid}, which is not \
                 this strategy's: left out of its positions"
            );
        }
    }

    /// `id` has finished: keep it among the newest finished orders, and
    /// forget the oldest beyond [`KEEP_FINISHED`].
    fn retire(&mut self, id: OrderId) {
        let Some(live) = self.orders.get_mut(&id) else {
            return;
        };
        if live.retired {
            return;
        }
        live.retired = true;
        self.finished.push_back(id);
        while self.finished.len() > KEEP_FINISHED {
            let Some(old) = self.finished.pop_front() else {
                break;
            };
            if let Some(oid) = self.orders.remove(&old).and_then(|l| l.oid) {
                self.by_oid.remove(&oid);
            }
        }
    }

    fn placed(
        &mut self,
        id: OrderId,
        status: &serde_json::Value,
        now: Timestamp,
    ) -> Option<BookOrder> {
        let live = self.orders.get_mut(&id)?;
        // A fill or an update carrying its cloid may have told the
        // strategy already (it rests, or it finished): not told twice.
        let before = live.order.status;
        if let Some(error) = status["error"].as_str() {
            match before {
                OrderStatus::Pending => {}
                // The account feed said it rests; the answer says it does
                // not: it is cancelled by its cloid until the venue says.
                OrderStatus::Executable => {
                    let why =
                        format!("the venue refused it ({error}) though its feed says it rests");
                    self.make_sure_gone(id, &why, now);
                    return None;
                }
                // Ended already, as the feed told.
                _ => return None,
            }
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
        let order = &self.orders.get(&id)?.order;
        (order.status != before).then(|| order.clone())
    }

    /// The venue holds `id` no more: done, if it was open (a fill heard
    /// of later is still booked).
    fn cancelled(&mut self, id: OrderId) -> Option<BookOrder> {
        let live = self.orders.get_mut(&id)?;
        live.order.status.is_open().then(|| {
            live.order.status = OrderStatus::ExecutionComplete;
            live.order.clone()
        })
    }

    /// A placement that got no answer that says (or one the venue's answer
    /// and its feed disagree on, `why`): it may rest at the venue or never
    /// have arrived. Cancel it by its cloid, which the venue
    /// answers either way, and again until it does (`retry_unsure`); it
    /// counts open (pending) until then, and a fill in the meantime is
    /// booked by its cloid.
    fn make_sure_gone(&mut self, id: OrderId, why: &str, now: Timestamp) {
        if !self.is_open(id) {
            return;
        }
        tracing::warn!(
            "order {}: {why}; cancelling it by its cloid in case it rests",
            id.0
        );
        self.send_cancel(id, now);
        self.unsure.insert(id, (None, UNSURE_RETRY_MS));
    }

    /// Cancel `id`, warning if the cancel cannot be sent (the link is
    /// down: the host is stopping, and its next start cancels by cloid).
    fn send_cancel(&mut self, id: OrderId, now: Timestamp) {
        if let Err(e) = self.cancel(id, now) {
            tracing::warn!("order {}: its cancel could not be sent: {e:?}", id.0);
        }
    }

    /// A cancel of `id` failed: if it is unsure, ask again after a wait
    /// (one cancel at a time, so none queue up behind a slow venue).
    fn ask_again_later(&mut self, id: OrderId, now: Timestamp) {
        if let Some((at, wait)) = self.unsure.get_mut(&id) {
            *at = Some(now.0 + *wait);
            *wait = (*wait * 2).min(60_000);
        }
    }

    /// Ask again to cancel each unsure order still open whose time has
    /// come; forget the ones the venue has said are gone.
    fn retry_unsure(&mut self, now: Timestamp) {
        let orders = &self.orders;
        (self.unsure).retain(|id, _| orders.get(id).is_some_and(|l| l.order.status.is_open()));
        let due: Vec<OrderId> = (self.unsure.iter())
            .filter(|(_, (at, _))| at.is_some_and(|at| at <= now.0))
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            self.send_cancel(id, now);
            if let Some((at, _)) = self.unsure.get_mut(&id) {
                *at = None;
            }
        }
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
        (time, tid): (i64, Option<u64>),
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
        if let Some(tid) = tid {
            if live.tids.contains(&tid) {
                return None;
            }
            live.tids.push(tid);
        }
        live.left -= sz;
        let refused = live.order.status == OrderStatus::Rejected;
        // An IOC never rests: one counted refused that filled is done.
        let ioc = live.order.request.time_in_force == TimeInForce::Ioc;
        if refused {
            live.order.rejection = None;
            if ioc {
                live.order.status = OrderStatus::ExecutionComplete;
            }
        }
        let reopen = refused && !ioc && live.left > Decimal::ZERO;
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
        if reopen {
            self.reopen(id);
        }
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

    /// The venue's word on an order's status (an IOC's is left to its
    /// answer). `open`: an order waiting for its placement's answer rests
    /// for sure, and one counted refused is open again. A refusal (`tickRejected`, `perpMarginRejected`, ...)
    /// refuses one still waiting; a cancel (`canceled`, `marginCanceled`,
    /// `scheduledCancel`, ...) or a refusal ends an open one. Fills come as
    /// fills.
    fn updated(&mut self, oid: u64, status: &str) -> Option<BookOrder> {
        let id = *self.by_oid.get(&oid)?;
        let live = self.orders.get_mut(&id)?;
        // An IOC ends by its answer, which says how much it filled: its
        // update may come before its fills do.
        if live.order.request.time_in_force == TimeInForce::Ioc {
            return None;
        }
        let refused = status.ends_with("ejected");
        let gone = refused || status.ends_with("anceled") || status == "scheduledCancel";
        match live.order.status {
            OrderStatus::Pending if status == "open" => {
                live.order.status = OrderStatus::Executable;
            }
            OrderStatus::Rejected if status == "open" => self.reopen(id),
            // Refused before anything filled; one partly filled just ended.
            OrderStatus::Pending if refused && live.value.is_zero() => {
                live.order.status = OrderStatus::Rejected;
                live.order.rejection = Some(RejectReason::VenueError(status.to_owned()));
            }
            open if open.is_open() && gone => live.order.status = OrderStatus::ExecutionComplete,
            _ => return None,
        }
        Some(self.orders.get(&id)?.order.clone())
    }

    /// Counted refused, but the venue shows it has `id` (a fill, or an
    /// `open` update: its answer and its feed disagreeing): open again, so
    /// a kill or a stop cancels its rest (and risk, told by the change,
    /// counts it open again).
    fn reopen(&mut self, id: OrderId) {
        if let Some(live) = self.orders.get_mut(&id) {
            live.order.status = OrderStatus::Executable;
            live.order.rejection = None;
            live.retired = false;
            self.finished.retain(|f| *f != id);
        }
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
        let cloid = (self.cloid(id))
            .ok_or_else(|| RejectReason::VenueError("past the orders a session can name".into()))?;
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
            retired: false,
            tids: Vec::new(),
        };
        self.orders.insert(id, live);
        Ok(order)
    }

    fn cancel(&mut self, id: OrderId, _: Timestamp) -> Result<(), RejectReason> {
        let live = (self.orders.get(&id))
            .filter(|l| l.order.status.is_open())
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

    fn poll(&mut self, now: Timestamp, changes: &mut Vec<BookOrder>) {
        let early = std::mem::take(&mut self.early);
        let mut replies: Vec<Reply> = early;
        while let Ok(reply) = self.link.replies.try_recv() {
            replies.push(reply);
        }
        // Only a fill of an unknown venue id asks: most polls hear none.
        let unknown =
            |r: &Reply| matches!(r, Reply::Fill { oid, .. } if !self.by_oid.contains_key(oid));
        self.awaiting = replies.iter().any(unknown)
            && (self.orders.values())
                .any(|l| l.oid.is_none() && l.order.status == OrderStatus::Pending);
        for reply in replies {
            if let Some(order) = self.apply(reply, now) {
                changes.push(order);
            }
        }
        if !self.unsure.is_empty() {
            self.retry_unsure(now);
        }
    }

    fn open_orders(&self, instrument: &str) -> Vec<BookOrder> {
        (self.orders.values())
            .filter(|l| l.order.request.instrument == instrument && l.order.status.is_open())
            .map(|l| l.order.clone())
            .collect()
    }

    fn open_ids(&self) -> Vec<OrderId> {
        (self.orders.values())
            .filter(|l| l.order.status.is_open())
            .map(|l| l.order.id)
            .collect()
    }

    fn is_open(&self, id: OrderId) -> bool {
        self.orders
            .get(&id)
            .is_some_and(|l| l.order.status.is_open())
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A venue trading ETH (asset 0) whose link goes nowhere: the test
    /// plays the exchange, reading the requests and writing the replies.
    fn venue() -> (
        HyperliquidVenue,
        tokio::sync::mpsc::UnboundedReceiver<Request>,
        std::sync::mpsc::Sender<Reply>,
    ) {
        let (requests, sent) = tokio::sync::mpsc::unbounded_channel();
        let (answer, replies) = std::sync::mpsc::channel();
        let rules = vec![(0, InstrumentInfo::hyperliquid_perp("ETH", 4, 25))];
        let venue = HyperliquidVenue::new(rules, 7, Link { requests, replies });
        (venue, sent, answer)
    }

    fn buy(venue: &mut HyperliquidVenue, id: u64, size: f64) -> OrderId {
        let request = BookOrderRequest::limit("ETH", BookSide::Buy, 3000.0, size);
        let placed = venue.place(OrderId(id), request, Timestamp(1_000));
        assert_eq!(placed.map(|o| o.status), Ok(OrderStatus::Pending));
        OrderId(id)
    }

    fn fill(oid: u64, sz: Decimal, time: i64) -> Reply {
        Reply::Fill {
            oid,
            cloid: None,
            coin: "ETH".into(),
            buy: true,
            px: d("3000"),
            sz,
            fee: d("0.5"),
            time,
            tid: None,
            history: false,
        }
    }

    /// The venue's answer that order `id` rests as `oid`.
    fn resting(id: OrderId, oid: u64) -> Reply {
        let status = json!({"resting": {"oid": oid}});
        Reply::Placed { id, status }
    }

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn poll(venue: &mut HyperliquidVenue, now: i64) -> Vec<BookOrder> {
        let mut changes = Vec::new();
        venue.poll(Timestamp(now), &mut changes);
        changes
    }

    fn held(venue: &HyperliquidVenue) -> Decimal {
        venue.positions.held("ETH")
    }

    #[test]
    fn an_order_rests_fills_in_parts_and_completes() {
        let (mut venue, mut sent, answer) = venue();
        let id = buy(&mut venue, 1, 0.2);
        assert!(matches!(
            sent.try_recv(),
            Ok(Request::Place { id: OrderId(1), .. })
        ));
        assert!(venue.is_open(id));
        answer.send(resting(id, 55)).unwrap();
        answer.send(fill(55, d("0.05"), 2_000)).unwrap();
        let changes = poll(&mut venue, 2_000);
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[1].status, OrderStatus::Executable);
        assert_eq!(changes[1].size_filled, 0.05);
        assert_eq!(held(&venue), d("0.05"));
        answer.send(fill(55, d("0.15"), 3_000)).unwrap();
        let changes = poll(&mut venue, 3_000);
        assert_eq!(changes[0].status, OrderStatus::ExecutionComplete);
        assert_eq!(changes[0].fees, 1.0);
        assert!(!venue.is_open(id));
        assert_eq!(held(&venue), d("0.2"));
        assert!(venue.open_ids().is_empty());
    }

    #[test]
    fn a_fill_heard_before_its_order_is_answered_is_booked_once_it_is() {
        let (mut venue, _sent, answer) = venue();
        let id = buy(&mut venue, 1, 0.1);
        answer.send(fill(77, d("0.1"), 2_000)).unwrap();
        assert!(poll(&mut venue, 2_000).is_empty());
        assert_eq!(held(&venue), Decimal::ZERO);
        let status = json!({"filled": {"oid": 77, "totalSz": "0.1", "avgPx": "3000"}});
        answer.send(Reply::Placed { id, status }).unwrap();
        poll(&mut venue, 2_100);
        let changes = poll(&mut venue, 2_200);
        assert_eq!(
            changes.len(),
            1,
            "the early fill, applied once: {changes:?}"
        );
        assert_eq!(changes[0].status, OrderStatus::ExecutionComplete);
        assert_eq!(held(&venue), d("0.1"));
        assert!(venue.early.is_empty());
    }

    #[test]
    fn a_fill_of_an_order_not_ours_is_left_out_not_kept_forever() {
        let (mut venue, _sent, answer) = venue();
        // No order of ours awaits an id: it is another's at once.
        answer.send(fill(900, d("1"), 2_000)).unwrap();
        assert!(poll(&mut venue, 2_000).is_empty());
        assert!(venue.early.is_empty());
        // While one does, it waits, but not past EARLY_FILL_WAIT_MS.
        buy(&mut venue, 1, 0.1);
        answer.send(fill(901, d("1"), 3_000)).unwrap();
        poll(&mut venue, 3_000);
        assert_eq!(venue.early.len(), 1);
        poll(&mut venue, 3_000 + EARLY_FILL_WAIT_MS - 1);
        assert_eq!(venue.early.len(), 1);
        poll(&mut venue, 3_000 + EARLY_FILL_WAIT_MS);
        assert!(venue.early.is_empty());
        assert_eq!(held(&venue), Decimal::ZERO);
    }

    #[test]
    fn a_cancel_frees_the_order_only_when_the_venue_says_it_is_gone() {
        let (mut venue, _sent, answer) = venue();
        let (a, b) = (buy(&mut venue, 1, 0.1), buy(&mut venue, 2, 0.1));
        for (id, oid) in [(a, 10), (b, 11)] {
            answer.send(resting(id, oid)).unwrap();
        }
        poll(&mut venue, 2_000);
        assert_eq!(venue.cancel(a, Timestamp(2_000)), Ok(()));
        assert_eq!(venue.cancel(b, Timestamp(2_000)), Ok(()));
        let busy = Some("the venue is busy".to_owned());
        answer
            .send(Reply::Cancelled { id: a, error: busy })
            .unwrap();
        let gone = Some(format!("Order was {GONE}. asset=0"));
        answer
            .send(Reply::Cancelled { id: b, error: gone })
            .unwrap();
        let changes = poll(&mut venue, 2_100);
        assert!(venue.is_open(a), "a cancel that failed leaves it resting");
        assert!(!venue.is_open(b), "gone already is gone");
        assert_eq!(changes.len(), 1);
        answer
            .send(Reply::Cancelled { id: a, error: None })
            .unwrap();
        poll(&mut venue, 2_200);
        assert!(!venue.is_open(a));
        assert_eq!(
            venue.cancel(a, Timestamp(2_300)),
            Err(RejectReason::UnknownOrder)
        );
    }

    #[test]
    fn an_ioc_is_done_at_the_size_the_venue_said_it_filled() {
        let (mut venue, _sent, answer) = venue();
        let request = BookOrderRequest::limit("ETH", BookSide::Buy, 3000.0, 0.3).ioc();
        let id = venue
            .place(OrderId(1), request, Timestamp(1_000))
            .unwrap()
            .id;
        let status = json!({"filled": {"oid": 5, "totalSz": "0.1", "avgPx": "3000"}});
        answer.send(Reply::Placed { id, status }).unwrap();
        poll(&mut venue, 2_000);
        assert!(venue.is_open(id), "open until its fill is heard of");
        answer.send(fill(5, d("0.1"), 2_000)).unwrap();
        let changes = poll(&mut venue, 2_100);
        assert_eq!(changes[0].status, OrderStatus::ExecutionComplete);
        assert!(!venue.is_open(id));
    }

    #[test]
    fn finished_orders_are_forgotten_past_the_newest_kept_and_fills_still_find_them() {
        let (mut venue, _sent, answer) = venue();
        let total = KEEP_FINISHED as u64 + 50;
        for n in 1..=total {
            let id = buy(&mut venue, n, 0.01);
            let status =
                json!({"error": "Order could not immediately match against any resting orders"});
            answer.send(Reply::Placed { id, status }).unwrap();
        }
        let last = buy(&mut venue, total + 1, 0.1);
        answer.send(resting(last, 4242)).unwrap();
        answer
            .send(Reply::Cancelled {
                id: last,
                error: None,
            })
            .unwrap();
        poll(&mut venue, 2_000);
        assert_eq!(venue.orders.len(), KEEP_FINISHED);
        assert_eq!(venue.finished.len(), KEEP_FINISHED);
        assert!(!venue.orders.contains_key(&OrderId(1)));
        // A fill of the cancelled order, heard of after its cancel.
        answer.send(fill(4242, d("0.04"), 2_000)).unwrap();
        let changes = poll(&mut venue, 2_100);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].size_filled, 0.04);
        assert_eq!(held(&venue), d("0.04"));
    }

    #[test]
    fn a_fill_carrying_a_cloid_is_booked_by_it_and_strategies_cloids_differ() {
        let (first, _sent, answer) = venue();
        let mut second = venue().0.for_strategy(1);
        assert_ne!(first.cloid(OrderId(1)), second.cloid(OrderId(1)));
        let mut venue = first;
        let id = buy(&mut venue, 1, 0.1);
        let with = |cloid: Option<Cloid>, oid: u64| {
            let mut reply = fill(oid, d("0.1"), 2_000);
            if let Reply::Fill { cloid: c, .. } = &mut reply {
                *c = cloid;
            }
            reply
        };
        // Another strategy's of this host, and a stranger's: not booked here.
        answer.send(with(second.cloid(OrderId(1)), 30)).unwrap();
        answer.send(with(Some(Cloid(0xabc)), 31)).unwrap();
        // Ours, before the answer to its placement: booked at once.
        answer.send(with(venue.cloid(id), 32)).unwrap();
        let changes = poll(&mut venue, 2_000);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].status, OrderStatus::ExecutionComplete);
        assert_eq!(held(&venue), d("0.1"));
        assert!(venue.early.is_empty());
        // The answer that follows changes nothing more, and tells nothing.
        let status = json!({"filled": {"oid": 32, "totalSz": "0.1", "avgPx": "3000"}});
        answer.send(Reply::Placed { id, status }).unwrap();
        assert_eq!(poll(&mut venue, 2_100), []);
        assert_eq!(held(&venue), d("0.1"));
        assert!(!venue.is_open(id));
        // Past the 48 bits a cloid gives an order id, an order is refused.
        let request = BookOrderRequest::limit("ETH", BookSide::Buy, 3000.0, 0.1);
        let refused = second.place(OrderId(1 << ORDER_BITS), request, Timestamp(3_000));
        assert!(
            matches!(refused, Err(RejectReason::VenueError(_))),
            "{refused:?}"
        );
    }

    #[test]
    fn a_placement_without_an_answer_is_cancelled_by_its_cloid_and_open_until_then() {
        let (mut venue, mut sent, answer) = venue();
        let id = buy(&mut venue, 1, 0.2);
        assert!(matches!(sent.try_recv(), Ok(Request::Place { .. })));
        let why = "operation timed out".to_owned();
        answer.send(Reply::Unanswered { id, why }).unwrap();
        assert_eq!(poll(&mut venue, 2_000), []);
        assert!(venue.is_open(id), "it may rest: open until the venue says");
        let Ok(Request::Cancel { id: asked, action }) = sent.try_recv() else {
            panic!("a cancel by cloid was sent");
        };
        assert_eq!(asked, id);
        let cloid = venue.cloid(id).unwrap();
        assert!(matches!(action, Action::CancelByCloid { cancels } if cancels[0].cloid == cloid));
        // Nothing more is asked while that cancel awaits its answer.
        poll(&mut venue, 60_000);
        assert!(sent.try_recv().is_err(), "one cancel at a time");
        // It gets no answer that says either: asked again 5 s after, then
        // 10 s after the next such answer.
        let lost = || Some("operation timed out".to_owned());
        answer.send(Reply::Cancelled { id, error: lost() }).unwrap();
        poll(&mut venue, 70_000);
        poll(&mut venue, 70_000 + UNSURE_RETRY_MS - 1);
        assert!(sent.try_recv().is_err(), "not yet");
        assert!(venue.is_open(id));
        poll(&mut venue, 70_000 + UNSURE_RETRY_MS);
        assert!(matches!(sent.try_recv(), Ok(Request::Cancel { .. })));
        answer.send(Reply::Cancelled { id, error: lost() }).unwrap();
        poll(&mut venue, 80_000);
        poll(&mut venue, 80_000 + 2 * UNSURE_RETRY_MS - 1);
        assert!(sent.try_recv().is_err(), "the wait doubles");
        poll(&mut venue, 80_000 + 2 * UNSURE_RETRY_MS);
        assert!(matches!(sent.try_recv(), Ok(Request::Cancel { .. })));
        let gone = Some(format!("Order was {GONE}. asset=0"));
        answer.send(Reply::Cancelled { id, error: gone }).unwrap();
        assert_eq!(
            poll(&mut venue, 100_000)[0].status,
            OrderStatus::ExecutionComplete
        );
        assert!(!venue.is_open(id));
        assert!(venue.unsure.is_empty());
        assert!(sent.try_recv().is_err(), "gone, so not asked again");
    }

    #[test]
    fn a_subscriptions_snapshot_books_only_our_missed_fills_once() {
        let (mut venue, _sent, answer) = venue();
        let id = buy(&mut venue, 1, 0.3);
        answer.send(resting(id, 55)).unwrap();
        let traded = |oid, tid, cloid, history| {
            let mut reply = fill(oid, d("0.1"), 2_000);
            if let Reply::Fill {
                tid: t,
                cloid: c,
                history: h,
                ..
            } = &mut reply
            {
                (*t, *c, *h) = (tid, cloid, history);
            }
            reply
        };
        let ours = venue.cloid(id);
        answer.send(traded(55, Some(5), ours, false)).unwrap();
        poll(&mut venue, 2_000);
        assert_eq!(held(&venue), d("0.1"));
        // The feed reconnects: its snapshot holds that fill, one made while
        // it was away, another's, one without a cloid, and one of ours
        // without a trade id (which could not be told from one booked).
        let another = Some(Cloid((8 << 64) | 1));
        let snapshot = [
            traded(55, Some(5), ours, true),
            traded(55, Some(6), ours, true),
            traded(900, Some(7), another, true),
            traded(901, Some(8), None, true),
            traded(55, None, ours, true),
        ];
        for reply in snapshot {
            answer.send(reply).unwrap();
        }
        let changes = poll(&mut venue, 3_000);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].size_filled, 0.2);
        assert_eq!(held(&venue), d("0.2"));
        assert!(venue.early.is_empty(), "history is not kept waiting");
        // Heard again live, the missed fill is not booked twice.
        answer.send(traded(55, Some(6), ours, false)).unwrap();
        assert_eq!(poll(&mut venue, 4_000), []);
        assert_eq!(held(&venue), d("0.2"));
    }

    #[test]
    fn order_updates_carrying_our_cloid_are_matched_before_the_answer() {
        let (mut venue, mut sent, answer) = venue();
        let id = buy(&mut venue, 1, 0.2);
        let why = "operation timed out".to_owned();
        answer.send(Reply::Unanswered { id, why }).unwrap();
        assert_eq!(poll(&mut venue, 2_000), []);
        assert!(matches!(sent.try_recv(), Ok(Request::Place { .. })));
        assert!(matches!(sent.try_recv(), Ok(Request::Cancel { .. })));
        let update = |oid, cloid, status: &str| Reply::Update {
            oid,
            cloid,
            status: status.to_owned(),
        };
        // Another's order, and another strategy's of this host: not ours.
        let stranger = Some(Cloid((8 << 64) | 1));
        let sibling = Some(Cloid((7 << 64) | (1 << ORDER_BITS) | 1));
        answer.send(update(90, stranger, "open")).unwrap();
        answer.send(update(91, sibling, "open")).unwrap();
        assert_eq!(poll(&mut venue, 2_100), []);
        // The venue says ours rests: it is resting for sure, under its id.
        answer.send(update(92, venue.cloid(id), "open")).unwrap();
        let changes = poll(&mut venue, 2_200);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].status, OrderStatus::Executable);
        assert_eq!(venue.by_oid.get(&92), Some(&id));
        // The placement's answer, late, tells nothing new.
        answer.send(resting(id, 92)).unwrap();
        assert_eq!(poll(&mut venue, 2_300), []);
        // Cancelled (the cancel's own answer lost): ended by the update.
        answer
            .send(update(92, venue.cloid(id), "canceled"))
            .unwrap();
        let changes = poll(&mut venue, 2_400);
        assert_eq!(changes[0].status, OrderStatus::ExecutionComplete);
        assert!(!venue.is_open(id));
        poll(&mut venue, 120_000);
        assert!(venue.unsure.is_empty(), "not asked to cancel again");
        assert!(sent.try_recv().is_err());
    }

    #[test]
    fn updates_and_answers_that_disagree_leave_nothing_resting_unwatched() {
        let (mut venue, mut sent, answer) = venue();
        let update = |oid, cloid, status: &str| Reply::Update {
            oid,
            cloid,
            status: status.to_owned(),
        };
        // Refused on the feed before the answer: refused, with the reason,
        // and the answer after tells nothing.
        let a = buy(&mut venue, 1, 0.1);
        answer
            .send(update(70, venue.cloid(a), "perpMarginRejected"))
            .unwrap();
        let changes = poll(&mut venue, 2_000);
        assert_eq!(changes[0].status, OrderStatus::Rejected);
        let why = RejectReason::VenueError("perpMarginRejected".into());
        assert_eq!(changes[0].rejection, Some(why));
        let error = json!({"error": "Insufficient margin to place order."});
        answer
            .send(Reply::Placed {
                id: a,
                status: error.clone(),
            })
            .unwrap();
        assert_eq!(poll(&mut venue, 2_100), []);
        // Counted refused, then the feed says it rests: open again.
        answer.send(update(70, venue.cloid(a), "open")).unwrap();
        assert_eq!(poll(&mut venue, 2_200)[0].status, OrderStatus::Executable);
        assert!(venue.is_open(a) && !venue.finished.contains(&a));
        // The feed says it rests, then the answer says it was refused: it
        // stays open and is cancelled by its cloid until the venue says.
        let b = buy(&mut venue, 2, 0.1);
        while sent.try_recv().is_ok() {}
        answer.send(update(71, venue.cloid(b), "open")).unwrap();
        answer
            .send(Reply::Placed {
                id: b,
                status: error,
            })
            .unwrap();
        let changes = poll(&mut venue, 2_300);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert!(venue.is_open(b));
        assert!(matches!(sent.try_recv(), Ok(Request::Cancel { id, .. }) if id == b));
        // An IOC's update comes before its fills may: its answer ends it.
        let request = BookOrderRequest::limit("ETH", BookSide::Buy, 3000.0, 0.1).ioc();
        let c = venue
            .place(OrderId(3), request, Timestamp(2_400))
            .map(|o| o.id);
        let c = c.unwrap();
        answer.send(update(72, venue.cloid(c), "canceled")).unwrap();
        assert_eq!(poll(&mut venue, 2_500), []);
        assert!(venue.is_open(c));
        let status = json!({"filled": {"oid": 72, "totalSz": "0.05", "avgPx": "3000"}});
        answer.send(Reply::Placed { id: c, status }).unwrap();
        assert_eq!(poll(&mut venue, 2_600)[0].status, OrderStatus::Executable);
        answer.send(fill(72, d("0.05"), 2_700)).unwrap();
        let changes = poll(&mut venue, 2_700);
        assert_eq!(changes[0].status, OrderStatus::ExecutionComplete);
        assert_eq!(changes[0].size_filled, 0.05);
        // An IOC counted refused that a fill shows executed is done, not
        // open again: it never rests.
        let request = BookOrderRequest::limit("ETH", BookSide::Buy, 3000.0, 0.1).ioc();
        let e = venue
            .place(OrderId(4), request, Timestamp(2_800))
            .map(|o| o.id);
        let e = e.unwrap();
        let why = "a refusal the venue took back".to_owned();
        answer.send(Reply::Failed { id: e, why }).unwrap();
        poll(&mut venue, 2_800);
        let mut reply = fill(73, d("0.05"), 2_900);
        if let Reply::Fill { cloid, .. } = &mut reply {
            *cloid = venue.cloid(e);
        }
        answer.send(reply).unwrap();
        let changes = poll(&mut venue, 2_900);
        assert_eq!(changes[0].status, OrderStatus::ExecutionComplete);
        assert_eq!(changes[0].size_filled, 0.05);
        assert!(!venue.is_open(e));
    }

    #[test]
    fn an_order_counted_refused_opens_again_when_a_fill_shows_it_rests() {
        let (mut venue, _sent, answer) = venue();
        let id = buy(&mut venue, 1, 0.2);
        let why = "a refusal the venue took back".to_owned();
        answer.send(Reply::Failed { id, why }).unwrap();
        assert_eq!(poll(&mut venue, 2_000)[0].status, OrderStatus::Rejected);
        assert!(!venue.is_open(id));
        let mut reply = fill(40, d("0.05"), 2_500);
        if let Reply::Fill { cloid, .. } = &mut reply {
            *cloid = venue.cloid(id);
        }
        answer.send(reply).unwrap();
        let changes = poll(&mut venue, 2_500);
        assert_eq!(changes[0].status, OrderStatus::Executable);
        assert!(
            venue.is_open(id),
            "its rest is cancelled by a kill or a stop"
        );
        assert_eq!(venue.open_ids(), [id]);
        assert!(!venue.finished.contains(&id));
        assert_eq!(held(&venue), d("0.05"));
        // One that a fill shows executed whole is done, and no longer says
        // why it was refused.
        let whole = buy(&mut venue, 2, 0.1);
        let why = "another refusal taken back".to_owned();
        answer.send(Reply::Failed { id: whole, why }).unwrap();
        poll(&mut venue, 3_000);
        let mut reply = fill(41, d("0.1"), 3_100);
        if let Reply::Fill { cloid, .. } = &mut reply {
            *cloid = venue.cloid(whole);
        }
        answer.send(reply).unwrap();
        let changes = poll(&mut venue, 3_100);
        assert_eq!(changes[0].status, OrderStatus::ExecutionComplete);
        assert_eq!(changes[0].rejection, None);
    }
}

//! [`SimVenue`]: the simulated exchange, one per strategy, so that two
//! strategies in one backtest never change each other's fills. Each update
//! of a market it trades in is applied in this order:
//!
//! 1. definition changes: removals (void, lapse, reduce), the turn in play
//!    (LAPSE lapses, MARKET_ON_CLOSE converts to SP), suspension;
//! 2. orders whose placement latency has passed reach the book, cross it
//!    against displayed volume, and rest with a queue position;
//! 3. cancels whose latency has passed take effect;
//! 4. traded volume at a resting order's price eats its queue, then fills it;
//! 5. once the Starting Price is known, SP orders match at it.
//!
//! The rules and their reasons are docs/SIMULATION.md.

use foldhash::HashMap;

use clever_sdk::{
    MarketId, MarketStatus, Order, OrderId, OrderType, Persistence, RejectReason, RunnerStatus,
    SelectionId, Side, Timestamp,
};

use super::book::{RunnerView, UsedVolume, cents, cross, round2};
use super::config::SimConfig;
use super::order::SimOrder;
use super::settle::settle;
use clever_engine::{MarketState, OrderChange, Venue};
use clever_market::{MarketBook, MarketMap, MarketResult};
use clever_risk::Approved;

/// One market's orders and what the exchange remembers of it.
#[derive(Debug, Default)]
struct SimMarket {
    orders: Vec<SimOrder>,
    /// Indexes of the orders still open, oldest first (the hot loop's list).
    open: Vec<usize>,
    used: UsedVolume,
    status: Option<MarketStatus>,
    in_play: bool,
    runners: Vec<(SelectionId, RunnerStatus)>,
}

/// The simulated exchange for one strategy.
#[derive(Debug, Default)]
pub struct SimVenue {
    config: SimConfig,
    markets: MarketMap<SimMarket>,
    /// Market of each live order id.
    index: HashMap<OrderId, String>,
}

impl SimVenue {
    /// An exchange with these settings.
    pub fn new(config: SimConfig) -> Self {
        SimVenue {
            config,
            ..SimVenue::default()
        }
    }

    fn find(&mut self, id: OrderId) -> Option<&mut SimOrder> {
        let market = self.index.get(&id)?;
        let m = self.markets.get_mut(market)?;
        m.orders.iter_mut().find(|o| o.order.id == id)
    }
}

impl Venue for SimVenue {
    fn place(
        &mut self,
        id: OrderId,
        approved: Approved,
        now: Timestamp,
        state: &MarketState,
    ) -> Result<Order, RejectReason> {
        let request = approved.into_request();
        state.check(request.selection_id)?;
        let delay = if state.in_play {
            i64::from(state.bet_delay) * 1000
        } else {
            0
        };
        let arrives_at = now.plus_millis(self.config.placement_latency_ms + delay);
        let market = request.market_id.0.clone();
        let order = Order::pending(id, request, now);
        let m = self.markets.get_or_insert_with(&market, || SimMarket {
            status: Some(state.status),
            in_play: state.in_play,
            runners: state.runners.clone(),
            ..SimMarket::default()
        });
        m.open.push(m.orders.len());
        m.orders
            .push(SimOrder::new(order.clone(), arrives_at, state.in_play));
        self.index.insert(id, market);
        Ok(order)
    }

    fn cancel(&mut self, id: OrderId, now: Timestamp) -> Result<(), RejectReason> {
        let latency = self.config.cancel_latency_ms;
        let order = self.find(id).ok_or(RejectReason::UnknownOrder)?;
        if !order.is_open() || order.at_sp && order.arrived {
            return Err(RejectReason::UnknownOrder);
        }
        if order.cancel_at.is_none() {
            // An order still in its latency or bet delay has no bet id on
            // the exchange yet: it can be cancelled only once it is there,
            // and the cancel then takes its own latency.
            let from = now.max(order.arrives_at);
            order.cancel_at = Some(from.plus_millis(latency));
        }
        Ok(())
    }

    fn on_market(&mut self, now: Timestamp, book: &MarketBook, changes: &mut Vec<OrderChange>) {
        let Some(m) = self.markets.get_mut(book.view.id.as_str()) else {
            return;
        };
        let config = &self.config;
        let first = changes.len();
        if book.definition_changed {
            m.on_definition(now, book, config, changes);
        }
        if !m.open.is_empty() {
            m.arrivals_and_cancels(now, book, changes);
            m.trades(now, book, config, changes);
            m.starting_price(now, book, changes);
            let orders = &m.orders;
            m.open.retain(|&i| orders[i].is_open());
        }
        dedupe_latest(changes, first);
    }

    fn before_update(
        &mut self,
        next: Timestamp,
        book: &MarketBook,
        changes: &mut Vec<OrderChange>,
    ) {
        let Some(m) = self.markets.get_mut(book.view.id.as_str()) else {
            return;
        };
        // Rule 2: an order arriving before the next update meets the book
        // published last before it arrived, which is this one.
        for k in 0..m.open.len() {
            let i = m.open[k];
            let o = &m.orders[i];
            if o.is_open() && !o.arrived && o.arrives_at < next {
                let at = o.arrives_at;
                m.arrive(i, at, book, changes);
            }
        }
    }

    fn order(&self, id: OrderId) -> Option<Order> {
        let market = self.index.get(&id)?;
        self.markets
            .get(market)?
            .orders
            .iter()
            .find(|o| o.order.id == id)
            .map(|o| o.order.clone())
    }

    fn orders(&self, market: &MarketId) -> Vec<Order> {
        self.markets
            .get(market.as_str())
            .map(|m| m.orders.iter().map(|o| o.order.clone()).collect())
            .unwrap_or_default()
    }

    fn settle(&mut self, book: &MarketBook, changes: &mut Vec<OrderChange>) -> MarketResult {
        let Some(mut m) = self.markets.remove(book.view.id.as_str()) else {
            return MarketResult {
                market_id: book.view.id.0.clone(),
                ..MarketResult::default()
            };
        };
        for o in m.orders.iter_mut().filter(|o| o.is_open()) {
            let reduced = o.lapse();
            changes.push(change(o, reduced));
        }
        for o in &m.orders {
            self.index.remove(&o.order.id);
        }
        let rate = self
            .config
            .commission_rate
            .or(book.commission_rate)
            .unwrap_or(self.config.default_commission_rate);
        settle(&book.view, &m.orders, rate)
    }
}

fn change(order: &SimOrder, reduced: f64) -> OrderChange {
    OrderChange {
        order: order.order.clone(),
        reduced: round2(reduced),
    }
}

/// Keep one change per order (the latest state, with the reductions summed),
/// in the order the orders first changed.
fn dedupe_latest(changes: &mut Vec<OrderChange>, first: usize) {
    let mut i = first;
    while i < changes.len() {
        let id = changes[i].order.id;
        if let Some(j) = (first..i).find(|&j| changes[j].order.id == id) {
            let later = changes.remove(i);
            changes[j].reduced = round2(changes[j].reduced + later.reduced);
            changes[j].order = later.order;
        } else {
            i += 1;
        }
    }
}

fn runner<'a>(book: &'a MarketBook, selection: SelectionId) -> Option<RunnerView<'a>> {
    let i = book
        .view
        .runners
        .iter()
        .position(|r| r.selection_id == selection)?;
    Some(RunnerView {
        full: &book.depth[i],
        view: &book.view.runners[i],
    })
}

/// A matched price after a removal with reduction factor `rf` percent.
pub fn reduced_price(price: f64, rf: f64, place_market: bool) -> f64 {
    let keep = 1.0 - rf / 100.0;
    let reduced = if place_market {
        1.0 + (price - 1.0) * keep
    } else {
        price * keep
    };
    round2(reduced).max(1.01)
}

impl SimMarket {
    fn on_definition(
        &mut self,
        now: Timestamp,
        book: &MarketBook,
        config: &SimConfig,
        changes: &mut Vec<OrderChange>,
    ) {
        let view = &book.view;
        for (i, r) in view.runners.iter().enumerate() {
            let was = self
                .runners
                .iter()
                .find(|(id, _)| *id == r.selection_id)
                .map(|(_, s)| *s);
            if r.status == RunnerStatus::Removed && was != Some(RunnerStatus::Removed) {
                let at = book.depth[i].removed_at.unwrap_or(now);
                let place = view.market_type.contains("PLACE") || view.number_of_winners > 1;
                self.removal(
                    r.selection_id,
                    r.adjustment_factor,
                    at,
                    place,
                    config,
                    changes,
                );
            }
        }
        self.runners = view
            .runners
            .iter()
            .map(|r| (r.selection_id, r.status))
            .collect();
        if view.in_play && !self.in_play {
            self.turn_in_play(changes);
        }
        self.in_play = view.in_play;
        let suspended = view.status == MarketStatus::Suspended;
        if suspended && self.status != Some(MarketStatus::Suspended) {
            for o in self.orders.iter_mut().filter(|o| lapses(o)) {
                let reduced = o.lapse();
                changes.push(change(o, reduced));
            }
        }
        self.status = Some(view.status);
    }

    /// A runner was removed: bets on it are void, unmatched orders lapse,
    /// and bets matched on the others before `at` are re-priced.
    fn removal(
        &mut self,
        selection: SelectionId,
        rf: f64,
        at: Timestamp,
        place_market: bool,
        config: &SimConfig,
        changes: &mut Vec<OrderChange>,
    ) {
        for o in self.orders.iter_mut() {
            let mut touched = false;
            if o.order.request.selection_id == selection {
                for f in o.fills.iter_mut() {
                    f.void = true;
                    touched = true;
                }
            } else if rf >= config.reduction_threshold {
                for f in o.fills.iter_mut().filter(|f| !f.void && f.at < at) {
                    f.price = reduced_price(f.price, rf, place_market);
                    touched = true;
                }
            }
            let open_limit = o.is_open() && !o.at_sp;
            let reduced = if open_limit || o.is_open() && o.order.request.selection_id == selection
            {
                o.lapse()
            } else {
                0.0
            };
            if touched || reduced > 0.0 {
                o.refresh();
                changes.push(change(o, reduced));
            }
        }
    }

    /// At the off, unmatched LAPSE orders placed before it lapse and
    /// MARKET_ON_CLOSE ones wait for the Starting Price.
    fn turn_in_play(&mut self, changes: &mut Vec<OrderChange>) {
        for o in self.orders.iter_mut() {
            if !o.is_open() || o.at_sp || o.placed_in_play {
                continue;
            }
            match o.persistence() {
                Persistence::Lapse => {
                    let reduced = o.lapse();
                    changes.push(change(o, reduced));
                }
                Persistence::MarketOnClose => o.at_sp = true,
                Persistence::Persist => {}
            }
        }
    }

    fn arrivals_and_cancels(
        &mut self,
        now: Timestamp,
        book: &MarketBook,
        changes: &mut Vec<OrderChange>,
    ) {
        for k in 0..self.open.len() {
            let i = self.open[k];
            let o = &self.orders[i];
            if !o.is_open() {
                continue;
            }
            // A cancel cannot overtake its order (Betfair will not cancel
            // a bet still in its in-play delay): it lands after arrival.
            if !o.arrived && o.arrives_at <= now {
                self.arrive(i, now, book, changes);
            }
            let o = &mut self.orders[i];
            if o.arrived && o.is_open() && o.cancel_at.is_some_and(|c| c <= now) {
                let reduced = o.cancel();
                let (key, left) = (queue_key(o), reduced);
                changes.push(change(o, reduced));
                self.leave_queue(i, key, left);
            }
        }
    }

    /// Order `i` reaches the book at `now`.
    fn arrive(
        &mut self,
        i: usize,
        now: Timestamp,
        book: &MarketBook,
        changes: &mut Vec<OrderChange>,
    ) {
        let selection = self.orders[i].order.request.selection_id;
        let tradeable = book.view.status == MarketStatus::Open;
        let Some(r) = runner(book, selection).filter(|r| r.view.is_active() && tradeable) else {
            let o = &mut self.orders[i];
            o.arrived = true;
            o.order.rejection = Some(RejectReason::MarketNotOpen);
            let reduced = o.lapse();
            changes.push(change(o, reduced));
            return;
        };
        // Queue ahead: what is displayed at our price, plus our own earlier
        // orders resting there (the stream never shows those).
        let key = queue_key(&self.orders[i]);
        let ours: f64 = self
            .open
            .iter()
            .filter(|&&j| j < i)
            .map(|&j| &self.orders[j])
            .filter(|o| o.arrived && o.is_open() && !o.at_sp && queue_key(o) == key)
            .map(SimOrder::remaining)
            .sum();
        let o = &mut self.orders[i];
        o.arrived = true;
        if !o.at_sp {
            let req = &o.order.request;
            let (side, price) = (req.side, req.price.get());
            let fills = cross(
                side,
                price,
                o.remaining(),
                selection,
                r.offers(side),
                &mut self.used,
            );
            for (p, s) in fills {
                o.fill(now, p, s);
            }
            o.queue_ahead = r.resting_size(side, price) + ours;
            o.traded_seen = r.traded_at(price);
            o.through_seen = r.traded_through(side, price);
        }
        o.refresh();
        changes.push(change(o, 0.0));
    }

    /// Order `i` left the queue with `size` unmatched: later orders of ours
    /// at the same price move up.
    fn leave_queue(&mut self, i: usize, key: QueueKey, size: f64) {
        for &j in self.open.iter().filter(|&&j| j > i) {
            let o = &mut self.orders[j];
            if o.arrived && queue_key(o) == key {
                o.queue_ahead = (o.queue_ahead - size).max(0.0);
            }
        }
    }

    /// Volume traded at a resting order's price since it last looked: a
    /// share of it eats the queue ahead, then fills the order. Volume
    /// traded through its price means the queue at the price is gone: a
    /// share of that fills the order too.
    fn trades(
        &mut self,
        now: Timestamp,
        book: &MarketBook,
        config: &SimConfig,
        changes: &mut Vec<OrderChange>,
    ) {
        if book.changed.is_empty() {
            return;
        }
        // Volume traded through a price fills our orders resting there
        // once, oldest first: what one order took, the next cannot.
        let mut through_left: Vec<(QueueKey, f64)> = Vec::new();
        for &i in &self.open {
            let o = &mut self.orders[i];
            if !o.arrived || o.at_sp || !o.is_open() {
                continue;
            }
            let selection = o.order.request.selection_id;
            let Some(r) = runner(book, selection) else {
                continue;
            };
            let (side, price) = (o.order.request.side, o.order.request.price.get());
            let (traded, through) = (r.traded_at(price), r.traded_through(side, price));
            let delta = (traded - o.traded_seen).max(0.0);
            let delta_through = (through - o.through_seen).max(0.0);
            o.traded_seen = traded;
            o.through_seen = through;
            if delta <= 0.0 && delta_through <= 0.0 {
                continue;
            }
            let credit = delta * config.trade_share;
            let eaten = credit.min(o.queue_ahead);
            o.queue_ahead -= eaten;
            let mut credit = credit - eaten;
            if delta_through > 0.0 {
                o.queue_ahead = 0.0;
                let key = queue_key(o);
                let share = delta_through * config.trade_share;
                let at = match through_left.iter().position(|(k, _)| *k == key) {
                    Some(at) => at,
                    None => {
                        through_left.push((key, share));
                        through_left.len() - 1
                    }
                };
                let left = &mut through_left[at].1;
                let take = left.min((o.remaining() - credit).max(0.0));
                *left -= take;
                credit += take;
            }
            let fill = round2(credit);
            if fill > 0.0 {
                o.fill(now, price, fill);
                changes.push(change(o, 0.0));
            }
        }
    }

    /// Once a runner's Starting Price is known, its SP orders match at it.
    fn starting_price(
        &mut self,
        now: Timestamp,
        book: &MarketBook,
        changes: &mut Vec<OrderChange>,
    ) {
        for &i in &self.open {
            let o = &mut self.orders[i];
            if !o.at_sp || !o.is_open() {
                continue;
            }
            let Some(bsp) = runner(book, o.order.request.selection_id).and_then(|r| r.view.bsp)
            else {
                continue;
            };
            let req = &o.order.request;
            let (side, limit) = (req.side, req.price.get());
            let in_limit = match (req.order_type, side) {
                (OrderType::LimitOnClose, Side::Back) => bsp >= limit,
                (OrderType::LimitOnClose, Side::Lay) => bsp <= limit,
                _ => true,
            };
            let moc_lay = (req.order_type, side) == (OrderType::MarketOnClose, Side::Lay);
            let reduced = if !in_limit || bsp <= 1.0 {
                o.lapse()
            } else if moc_lay {
                // Its size is a liability: the stake is what that buys at BSP.
                let stake = round2(o.remaining() / (bsp - 1.0));
                o.fill_stake(now, bsp, stake);
                0.0
            } else {
                let size = o.remaining();
                o.fill(now, bsp, size);
                0.0
            };
            changes.push(change(o, reduced));
        }
    }
}

/// Where a limit order queues: runner, side and price.
type QueueKey = (SelectionId, Side, i64);

fn queue_key(o: &SimOrder) -> QueueKey {
    let r = &o.order.request;
    (r.selection_id, r.side, cents(r.price.get()))
}

fn lapses(o: &SimOrder) -> bool {
    o.is_open() && !o.at_sp && o.persistence() == Persistence::Lapse
}

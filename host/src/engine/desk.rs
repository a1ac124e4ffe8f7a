//! [`Desk`]: one strategy's side of the engine: its clock reading, risk
//! book, venue, the markets it may trade, its timers and its tally.
//! [`DeskServices`] is the plugin's door to it (the runtime's
//! [`HostServices`]); the engine holds the same desk to feed it updates.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};

use clever_sdk::rules::{market_position, validate_price_and_size};
use clever_sdk::{
    LogLevel, Market, MarketId, Order, OrderId, OrderRequest, Price, RejectReason, Runner,
    RunnerPosition, SelectionId, Signal, Timestamp,
};

use super::venue::{MarketState, OrderChange, Venue};
use super::versions::VersionBook;
use crate::risk::RiskBook;
use crate::runtime::HostServices;

/// What a strategy did that is counted, not stored.
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize)]
pub struct Tally {
    /// Orders accepted by risk and the venue.
    pub placed: u64,
    /// Refusals by reason code (`risk-limit:max-stake`, `invalid-price`, ...).
    pub rejected: BTreeMap<String, u64>,
    /// Log lines.
    pub logs: u64,
    /// Signals.
    pub signals: u64,
    /// The latest value of each signal name (the first
    /// [`MAX_SIGNAL_NAMES`] names only).
    pub last_signals: BTreeMap<String, f64>,
}

/// Where a pass over the due timers stands (see [`Desk::take_due_timer`]).
#[derive(Debug, Clone, Copy)]
pub struct TimerPass {
    /// Timers set from this sequence number on wait for the next pass.
    mark: u64,
    /// The last timer taken in this pass.
    after: Option<(Timestamp, u64)>,
}

/// How many signal names a desk keeps the latest value of.
pub const MAX_SIGNAL_NAMES: usize = 64;

/// One strategy's desk.
pub struct Desk {
    now: Timestamp,
    risk: RiskBook,
    venue: Box<dyn Venue>,
    markets: HashMap<String, MarketState>,
    next_order: u64,
    timers: BTreeSet<(Timestamp, u64)>,
    /// Each pending timer's due time and when it was set (a sequence).
    timer_at: HashMap<u64, (Timestamp, u64)>,
    next_timer_seq: u64,
    tally: Tally,
    versions: VersionBook,
}

impl Desk {
    /// A desk trading through `venue` under `risk`.
    pub fn new(risk: RiskBook, venue: Box<dyn Venue>) -> Self {
        Desk {
            now: Timestamp(0),
            risk,
            venue,
            markets: HashMap::new(),
            next_order: 1,
            timers: BTreeSet::new(),
            timer_at: HashMap::new(),
            next_timer_seq: 0,
            tally: Tally::default(),
            versions: VersionBook::default(),
        }
    }

    /// Set the time the plugin sees.
    pub fn set_now(&mut self, now: Timestamp) {
        self.now = now;
    }

    /// The counts so far.
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// Which version placed what, and each version's figures.
    pub fn versions(&self) -> &VersionBook {
        &self.versions
    }

    /// The version book, to switch versions or count events.
    pub fn versions_mut(&mut self) -> &mut VersionBook {
        &mut self.versions
    }

    /// Stop trading: risk refuses every new order from now on, and every
    /// open order is asked to cancel. Returns how many were asked.
    pub fn kill(&mut self) -> usize {
        self.risk.set_kill_switch(true);
        self.cancel_all()
    }

    /// Orders open now, in every market.
    pub fn open_order_count(&self) -> usize {
        let markets = self.markets.keys();
        markets
            .map(|m| self.open_orders(&MarketId(m.clone())).len())
            .sum()
    }

    /// Ask every open order to cancel (the venue's cancel latency applies).
    /// Returns how many were asked.
    fn cancel_all(&mut self) -> usize {
        let markets: Vec<String> = self.markets.keys().cloned().collect();
        let mut asked = 0;
        for market in markets {
            for order in self.open_orders(&MarketId(market)) {
                if self.venue.cancel(order.id, self.now).is_ok() {
                    asked += 1;
                }
            }
        }
        asked
    }

    /// The risk book (the kill switch lives there).
    pub fn risk_mut(&mut self) -> &mut RiskBook {
        &mut self.risk
    }

    /// A market update: refresh what orders are checked against, let the
    /// venue match, and keep risk in step with every order that changed.
    pub fn on_market(
        &mut self,
        book: &crate::market::betfair::MarketBook,
        changes: &mut Vec<OrderChange>,
    ) {
        let id = book.view.id.as_str();
        if book.definition_changed || !self.markets.contains_key(id) {
            self.markets
                .insert(id.to_owned(), MarketState::of(&book.view));
        }
        let first = changes.len();
        self.venue.on_market(self.now, book, changes);
        self.follow(&changes[first..]);
    }

    /// The market closed: settle it with the venue, book the profit with
    /// risk, and forget it. Returns the result.
    pub fn settle(
        &mut self,
        book: &crate::market::betfair::MarketBook,
        changes: &mut Vec<OrderChange>,
    ) -> crate::exec::MarketResult {
        let first = changes.len();
        let result = self.venue.settle(book, changes);
        self.follow(&changes[first..]);
        self.risk.settled(&book.view.id, result.profit, self.now.0);
        self.versions.settled(&result);
        self.markets.remove(book.view.id.as_str());
        result
    }

    fn follow(&mut self, changes: &[OrderChange]) {
        for c in changes {
            if c.reduced > 0.0 {
                self.risk.reduced(c.order.id, c.reduced);
            }
            if !c.order.is_open() {
                self.risk.completed(c.order.id);
            }
        }
    }

    /// Timers pending now.
    pub fn pending_timers(&self) -> usize {
        self.timer_at.len()
    }

    /// Start a pass over the timers due at an event.
    pub fn timer_pass(&self) -> TimerPass {
        TimerPass {
            mark: self.next_timer_seq,
            after: None,
        }
    }

    /// Take the earliest timer due at or before `by` that was set before
    /// `pass` began and comes after the last one it took. A timer set (or
    /// moved) while timers fire waits for the next event, so a plugin
    /// re-arming a timer from `on-timer` cannot keep the loop on one event
    /// forever; resuming after the last one taken keeps a pass linear in
    /// the timers pending.
    pub fn take_due_timer(
        &mut self,
        by: Timestamp,
        pass: &mut TimerPass,
    ) -> Option<(Timestamp, u64)> {
        let from = match pass.after {
            Some(last) => Bound::Excluded(last),
            None => Bound::Unbounded,
        };
        let (at, token) = self
            .timers
            .range((from, Bound::Unbounded))
            .take_while(|(at, _)| *at <= by)
            .find(|(_, token)| {
                self.timer_at
                    .get(token)
                    .is_some_and(|(_, set)| *set < pass.mark)
            })
            .copied()?;
        self.timers.remove(&(at, token));
        self.timer_at.remove(&token);
        pass.after = Some((at, token));
        Some((at, token))
    }

    fn place(&mut self, request: OrderRequest) -> Result<OrderId, RejectReason> {
        let state = self
            .markets
            .get(request.market_id.as_str())
            .ok_or(RejectReason::UnknownMarket)?;
        validate_price_and_size(&request)?;
        state.check(request.selection_id)?;
        let approved = self.risk.check(request, self.now.0)?;
        let id = OrderId(self.next_order);
        self.venue.place(id, approved.clone(), self.now, state)?;
        self.next_order += 1;
        self.risk.placed(id, &approved, self.now.0);
        self.tally.placed += 1;
        self.versions.placed(id);
        Ok(id)
    }

    fn refused<T>(&mut self, result: Result<T, RejectReason>) -> Result<T, RejectReason> {
        if let Err(reason) = &result {
            *self.tally.rejected.entry(reason.code()).or_default() += 1;
        }
        result
    }

    fn open_orders(&self, market: &MarketId) -> Vec<Order> {
        let mut orders = self.venue.orders(market);
        orders.retain(Order::is_open);
        orders
    }

    fn position(&self, market: &MarketId) -> Vec<RunnerPosition> {
        let Some(state) = self.markets.get(market.as_str()) else {
            return Vec::new();
        };
        let mut view = Market::new(market.as_str());
        view.runners = state
            .runners
            .iter()
            .map(|(id, _)| Runner::new(id.0))
            .collect();
        market_position(&view, &self.venue.orders(market))
    }
}

/// The plugin's door to its desk. Clones share the desk.
#[derive(Clone)]
pub struct DeskServices {
    desk: Arc<Mutex<Desk>>,
}

impl DeskServices {
    /// Services over a desk.
    pub fn new(desk: Desk) -> Self {
        DeskServices {
            desk: Arc::new(Mutex::new(desk)),
        }
    }

    /// The desk. Not held across plugin calls: the plugin locks it too.
    pub fn desk(&self) -> MutexGuard<'_, Desk> {
        // A poisoned lock only means a panic elsewhere; the desk is still whole.
        self.desk.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl HostServices for DeskServices {
    fn now(&self) -> Timestamp {
        self.desk().now
    }

    fn place_order(&mut self, request: OrderRequest) -> Result<OrderId, RejectReason> {
        let mut desk = self.desk();
        let result = desk.place(request);
        desk.refused(result)
    }

    fn cancel_order(&mut self, id: OrderId) -> Result<(), RejectReason> {
        let mut desk = self.desk();
        let now = desk.now;
        desk.venue.cancel(id, now)
    }

    fn replace_order(&mut self, id: OrderId, price: Price) -> Result<OrderId, RejectReason> {
        let mut desk = self.desk();
        let now = desk.now;
        let order = desk.venue.order(id).filter(Order::is_open);
        let Some(order) = order else {
            return desk.refused(Err(RejectReason::UnknownOrder));
        };
        // Betfair replaces as cancel-then-place; the new order takes what
        // is unmatched now.
        desk.venue.cancel(id, now)?;
        let request = OrderRequest {
            price,
            size: order.size_remaining(),
            ..order.request
        };
        let result = desk.place(request);
        desk.refused(result)
    }

    fn open_orders(&self, market: &MarketId) -> Vec<Order> {
        self.desk().open_orders(market)
    }

    fn position(&self, market: &MarketId) -> Vec<RunnerPosition> {
        self.desk().position(market)
    }

    fn prediction(&self, _: &str, _: &MarketId, _: SelectionId) -> Option<f64> {
        // Model predictions arrive with the store (issue 4); none yet.
        None
    }

    fn set_timer(&mut self, at: Timestamp, token: u64, max_pending: usize) -> bool {
        let mut desk = self.desk();
        if desk.timer_at.len() >= max_pending && !desk.timer_at.contains_key(&token) {
            return false;
        }
        let set = desk.next_timer_seq;
        desk.next_timer_seq += 1;
        if let Some((old, _)) = desk.timer_at.insert(token, (at, set)) {
            desk.timers.remove(&(old, token));
        }
        desk.timers.insert((at, token));
        true
    }

    fn cancel_timer(&mut self, token: u64) {
        let mut desk = self.desk();
        if let Some((at, _)) = desk.timer_at.remove(&token) {
            desk.timers.remove(&(at, token));
        }
    }

    fn log(&mut self, level: LogLevel, message: &str) {
        self.desk().tally.logs += 1;
        tracing::debug!(?level, "plugin: {message}");
    }

    fn signal(&mut self, signal: Signal) {
        let mut desk = self.desk();
        let last = &mut desk.tally.last_signals;
        if last.len() < MAX_SIGNAL_NAMES || last.contains_key(&signal.name) {
            last.insert(signal.name.clone(), signal.value);
        }
        desk.tally.signals += 1;
        tracing::debug!(name = %signal.name, value = signal.value, "plugin signal");
    }

    fn cancel_all_orders(&mut self) {
        self.desk().cancel_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::{SimConfig, SimVenue};
    use crate::market::betfair::{Message, StreamCache};
    use crate::risk::RiskLimits;
    use clever_sdk::{RiskLimit, Side};

    fn desk_with_market() -> DeskServices {
        let risk = RiskBook::new(RiskLimits {
            max_stake: 50.0,
            ..RiskLimits::default()
        });
        let services = DeskServices::new(Desk::new(
            risk,
            Box::new(SimVenue::new(SimConfig::default())),
        ));
        let json = r#"{"op":"mcm","pt":1,"mc":[{"id":"1.5","img":true,"marketDefinition":{"status":"OPEN","inPlay":false,"runners":[{"id":1,"status":"ACTIVE"},{"id":2,"status":"REMOVED"}]}}]}"#;
        let message: Message = serde_json::from_str(json).unwrap();
        let mut cache = StreamCache::new();
        let book = cache.apply(1, &message.mc[0]);
        services.desk().on_market(book, &mut Vec::new());
        services
    }

    fn back(selection: u64, price: f64, size: f64) -> OrderRequest {
        OrderRequest::limit(
            MarketId::from("1.5"),
            SelectionId(selection),
            Side::Back,
            Price(price),
            size,
        )
    }

    #[test]
    fn only_ladder_prices_legal_stakes_and_known_runners_are_accepted() {
        let mut s = desk_with_market();
        assert_eq!(
            s.place_order(back(1, 3.03, 2.0)),
            Err(RejectReason::InvalidPrice)
        );
        assert_eq!(
            s.place_order(back(1, 3.05, 0.5)),
            Err(RejectReason::InvalidSize)
        );
        assert_eq!(
            s.place_order(back(1, 3.05, 2.001)),
            Err(RejectReason::InvalidSize)
        );
        assert_eq!(
            s.place_order(back(2, 3.05, 2.0)),
            Err(RejectReason::UnknownSelection)
        );
        let mut elsewhere = back(1, 3.05, 2.0);
        elsewhere.market_id = MarketId::from("1.6");
        assert_eq!(s.place_order(elsewhere), Err(RejectReason::UnknownMarket));
        assert_eq!(
            s.place_order(back(1, 3.05, 60.0)),
            Err(RejectReason::RiskLimit(RiskLimit::MaxStake))
        );
        assert_eq!(s.place_order(back(1, 3.05, 2.0)), Ok(OrderId(1)));
        // Below the minimum stake, legal when the payout reaches 10.
        assert_eq!(s.place_order(back(1, 20.0, 0.5)), Ok(OrderId(2)));
        let tally = s.desk().tally().clone();
        assert_eq!(tally.placed, 2);
        let rejected: Vec<(&str, u64)> = tally
            .rejected
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        assert_eq!(
            rejected,
            [
                ("invalid-price", 1),
                ("invalid-size", 2),
                ("risk-limit:max-stake", 1),
                ("unknown-market", 1),
                ("unknown-selection", 1)
            ]
        );
    }

    #[test]
    fn timers_come_out_earliest_first_and_can_be_moved_or_cancelled() {
        let mut s = desk_with_market();
        for (at, token) in [(300, 1), (100, 2), (200, 3), (50, 1)] {
            assert!(s.set_timer(Timestamp(at), token, 10));
        }
        s.cancel_timer(3);
        let mut desk = s.desk();
        let mut early = desk.timer_pass();
        assert_eq!(desk.take_due_timer(Timestamp(40), &mut early), None);
        let mut pass = desk.timer_pass();
        assert_eq!(
            desk.take_due_timer(Timestamp(500), &mut pass),
            Some((Timestamp(50), 1))
        );
        assert_eq!(
            desk.take_due_timer(Timestamp(500), &mut pass),
            Some((Timestamp(100), 2))
        );
        assert_eq!(desk.take_due_timer(Timestamp(500), &mut pass), None);
    }

    #[test]
    fn pending_timers_are_capped_and_timers_set_while_firing_wait() {
        let mut s = desk_with_market();
        assert!(s.set_timer(Timestamp(10), 1, 2));
        assert!(s.set_timer(Timestamp(20), 2, 2));
        assert!(!s.set_timer(Timestamp(30), 3, 2), "a third is over the cap");
        assert!(s.set_timer(Timestamp(5), 2, 2), "moving one is not adding");
        let mut pass = s.desk().timer_pass();
        assert_eq!(
            s.desk().take_due_timer(Timestamp(100), &mut pass),
            Some((Timestamp(5), 2))
        );
        // Re-armed from on-timer, due already: not in this pass.
        assert!(s.set_timer(Timestamp(6), 2, 2));
        assert_eq!(
            s.desk().take_due_timer(Timestamp(100), &mut pass),
            Some((Timestamp(10), 1))
        );
        assert_eq!(s.desk().take_due_timer(Timestamp(100), &mut pass), None);
        let mut next = s.desk().timer_pass();
        assert_eq!(
            s.desk().take_due_timer(Timestamp(100), &mut next),
            Some((Timestamp(6), 2))
        );
    }
}

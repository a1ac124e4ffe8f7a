//! [`Desk`]: one strategy's side of the engine: its risk book, venue, the
//! markets it may trade, its timers and its tally. It is the plugin's
//! [`HostServices`], owned by the plugin's instance: the plugin reaches it
//! during its calls, the engine between them
//! ([`PluginInstance::services_mut`](clever_runtime::PluginInstance::services_mut)),
//! never both at once. It keeps no clock: every call that needs the time
//! is given it.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::sync::Arc;

// Looked up on every update: std's SipHash showed in profiles.
use foldhash::{HashMap, HashMapExt as _};

use clever_sdk::rules::{market_position, validate_price_and_size};
use clever_sdk::{
    BookOrder, BookOrderRequest, BookPosition, BookSide, InstrumentInfo, LogLevel, Market,
    MarketId, MarketInterest, MarketStatus, Order, OrderId, OrderRequest, Price, RejectReason,
    RiskLimit, Runner, RunnerPosition, SelectionId, Signal, Timestamp,
};

use super::book_log::BookLog;
use super::book_venue::BookVenue;
use super::predictions::{NoPredictions, Predictions};
use super::venue::{MarketState, OrderChange, Venue};
use super::versions::VersionBook;
use clever_market::{Decimal, MarketBook, MarketMap, MarketResult, Money, exact};
use clever_risk::{Holding, RiskBook};
use clever_runtime::HostServices;

/// What a strategy did that is counted, not stored.
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize)]
pub struct Tally {
    /// Orders accepted by risk and the venue.
    pub placed: u64,
    /// Refusals by reason code (`risk-limit:max-stake`, `invalid-price`, ...).
    pub rejected: BTreeMap<String, u64>,
    /// Log lines.
    pub logs: u64,
    /// Log lines of level warn or error.
    pub warnings: u64,
    /// The first [`FIRST_WARNINGS`] different ones, as the plugin wrote
    /// them: while there is room, every different one.
    pub first_warnings: Vec<String>,
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

/// How many different warnings of a plugin a desk keeps the text of.
pub const FIRST_WARNINGS: usize = 3;

/// Keep `message` among `first` if it is new there and there is room: the
/// one rule for a desk's warnings and for any sum of them.
pub fn keep_first_warning(first: &mut Vec<String>, message: &str) {
    if first.len() < FIRST_WARNINGS && !first.iter().any(|m| m == message) {
        first.push(message.to_owned());
    }
}

/// How many signal names a desk keeps the latest value of.
pub const MAX_SIGNAL_NAMES: usize = 64;

/// One strategy's desk.
pub struct Desk {
    risk: RiskBook,
    venue: Box<dyn Venue>,
    markets: MarketMap<MarketState>,
    /// What the plugin asked with `set-interest` (WIT 1.2), per market in
    /// `markets`: none for most, so most updates look nothing up.
    interest: MarketMap<MarketInterest>,
    next_order: u64,
    timers: BTreeSet<(Timestamp, u64)>,
    /// Each pending timer's due time and when it was set (a sequence).
    timer_at: HashMap<u64, (Timestamp, u64)>,
    next_timer_seq: u64,
    tally: Tally,
    versions: VersionBook,
    predictions: Arc<dyn Predictions>,
    events: Option<Arc<dyn DeskEvents>>,
    /// The day the host was last told the loss limit stopped trading.
    limit_told: Option<i64>,
    /// Where order-book orders go (WIT 1.1), if this desk trades any.
    book: Option<Box<dyn BookVenue>>,
    /// The book venue's realised profit when risk was last told of it.
    book_realised: Decimal,
    /// Book orders placed or changed since the host last took them, if
    /// it keeps a record of them (a running host; not a backtest).
    book_journal: Option<BookLog>,
}

/// What a desk tells the host besides orders: its plugin's signals, and a
/// risk limit that stops it (the day's loss: once a day). Called on the
/// engine's thread; an implementation hands them on and returns.
pub trait DeskEvents: Send + Sync {
    /// The plugin signalled at `now`.
    fn signal(&self, now: Timestamp, signal: &Signal);
    /// `limit` refused an order at `now`.
    fn limit_reached(&self, now: Timestamp, limit: RiskLimit);
}

impl Desk {
    /// A desk trading through `venue` under `risk`.
    pub fn new(risk: RiskBook, venue: Box<dyn Venue>) -> Self {
        Desk {
            risk,
            venue,
            markets: MarketMap::new(),
            interest: MarketMap::new(),
            next_order: 1,
            timers: BTreeSet::new(),
            timer_at: HashMap::new(),
            next_timer_seq: 0,
            tally: Tally::default(),
            versions: VersionBook::default(),
            predictions: Arc::new(NoPredictions),
            events: None,
            limit_told: None,
            book: None,
            book_realised: Decimal::ZERO,
            book_journal: None,
        }
    }

    /// The same desk, trading order-book instruments through `venue`.
    pub fn with_book_venue(self, venue: Box<dyn BookVenue>) -> Self {
        Desk {
            book: Some(venue),
            ..self
        }
    }

    /// The same desk, keeping each book order it places and each change
    /// to one until [`Desk::take_book_journal`] takes them.
    pub fn journalling_book_orders(self) -> Self {
        Desk {
            book_journal: Some(BookLog::default()),
            ..self
        }
    }

    /// Book orders placed or changed since the last call, in that order
    /// (an order may be listed more than once); none unless journalling.
    pub fn take_book_journal(&mut self) -> Vec<BookOrder> {
        self.book_journal
            .as_mut()
            .map(BookLog::take)
            .unwrap_or_default()
    }

    /// Its order-book venue, if it has one (for its trades).
    pub fn book_venue(&self) -> Option<&dyn BookVenue> {
        self.book.as_deref()
    }

    /// Something happened to an instrument: the book venue matches what
    /// it allows; every book order that changed goes onto `changes`.
    pub fn on_instrument(
        &mut self,
        now: Timestamp,
        event: &clever_market::InstrumentEvent,
        changes: &mut Vec<BookOrder>,
    ) {
        let first = changes.len();
        if let Some(venue) = self.book.as_mut() {
            venue.on_event(event, changes);
        }
        self.follow_book(now, &changes[first..]);
    }

    /// Keep risk in step with the book venue: orders that rest no more,
    /// and profit realised since it last looked (dated `now`, the engine's
    /// clock, which risk's checks use too).
    fn follow_book(&mut self, now: Timestamp, changes: &[BookOrder]) {
        for order in changes {
            match order.status.is_open() {
                // Most are open already; one counted refused may be again.
                true => self.risk.book_open_again(order.id),
                false => self.risk.book_done(order.id),
            }
            if let Some(journal) = self.book_journal.as_mut() {
                journal.record(order);
            }
        }
        self.note_realised(now);
    }

    /// Tell risk of the profit the book venue realised since it last did.
    fn note_realised(&mut self, now: Timestamp) {
        let Some(venue) = self.book.as_ref() else {
            return;
        };
        let realised = venue.realised();
        if realised != self.book_realised {
            let profit = Money::new(realised - self.book_realised);
            self.risk.book_realised(profit, now.0);
            self.book_realised = realised;
        }
    }

    /// What risk needs of `instrument` to check a book order in it.
    fn holding(venue: &dyn BookVenue, instrument: &str) -> Holding {
        let mut holding = Holding {
            position: (venue.position(instrument))
                .and_then(|p| exact(p.size))
                .unwrap_or_default(),
            mark: venue.mark(instrument),
            ..Holding::default()
        };
        for order in venue.open_orders(instrument) {
            let left = exact(order.request.size - order.size_filled).unwrap_or_default();
            let side = match order.request.side {
                BookSide::Buy => &mut holding.resting_buys,
                BookSide::Sell => &mut holding.resting_sells,
            };
            *side = side.checked_add(left).unwrap_or(Decimal::MAX);
        }
        holding
    }

    /// The venue says `id` is gone, or takes no order of it: risk counts it
    /// open no more. A cancel the venue has only been asked (a live
    /// venue's) is counted open until its answer comes as a change.
    fn release_if_gone(&mut self, id: OrderId) {
        let gone = (self.book.as_ref()).is_none_or(|v| !v.is_open(id));
        if gone {
            self.risk.book_done(id);
            if let Some(journal) = self.book_journal.as_mut() {
                journal.gone(id);
            }
        }
    }

    fn place_book(
        &mut self,
        now: Timestamp,
        request: BookOrderRequest,
    ) -> Result<OrderId, RejectReason> {
        let Some(venue) = self.book.as_mut() else {
            return Err(RejectReason::UnknownMarket);
        };
        if venue.rules(&request.instrument).is_none() {
            return Err(RejectReason::UnknownMarket);
        }
        let holding = Self::holding(venue.as_ref(), &request.instrument);
        self.risk.check_book(&request, &holding, now.0)?;
        let id = OrderId(self.next_order);
        let order = venue.place(id, request, now)?;
        self.next_order += 1;
        self.risk.placed_book(id, now.0);
        if !order.status.is_open() {
            self.risk.book_done(id);
        }
        if let Some(journal) = self.book_journal.as_mut() {
            journal.record(&order);
        }
        // A fill at once may have closed a trade: the next check counts it.
        self.note_realised(now);
        self.tally.placed += 1;
        self.versions.placed(id);
        Ok(id)
    }

    /// The same desk, telling `events` of its signals and limits.
    pub fn with_events(self, events: Arc<dyn DeskEvents>) -> Self {
        Desk {
            events: Some(events),
            ..self
        }
    }

    /// The same desk, its strategy reading model predictions from
    /// `predictions` (none by default).
    pub fn with_predictions(self, predictions: Arc<dyn Predictions>) -> Self {
        Desk {
            predictions,
            ..self
        }
    }

    /// The counts so far.
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// Which version placed what, and each version's figures.
    pub fn versions(&self) -> &VersionBook {
        &self.versions
    }

    /// The strategy now runs `version`: what it places from now on is
    /// counted, and sent, as that version's.
    pub fn switch_version(&mut self, version: &str) {
        self.versions.switch_to(version);
        self.venue.switch_version(version);
    }

    /// The version book, to switch versions or count events.
    pub fn versions_mut(&mut self) -> &mut VersionBook {
        &mut self.versions
    }

    /// Stop trading at `now`: risk refuses every new order from now on,
    /// and every open order is asked to cancel. Returns how many were asked.
    pub fn kill(&mut self, now: Timestamp) -> usize {
        self.risk.set_kill_switch(true);
        self.cancel_all(now)
    }

    /// Orders open now, in every market.
    pub fn open_order_count(&self) -> usize {
        self.open_orders_in(None).len()
    }

    /// Orders open now, in `market` or in every market.
    pub fn open_orders_in(&self, market: Option<&MarketId>) -> Vec<Order> {
        match market {
            Some(m) => self.open_orders(m),
            None => (self.markets.keys())
                .flat_map(|m| self.open_orders(&MarketId(m.to_owned())))
                .collect(),
        }
    }

    /// Ask every open order to cancel, betting and order-book alike (the
    /// venue's cancel latency applies). Returns how many were asked.
    fn cancel_all(&mut self, now: Timestamp) -> usize {
        let open = self.open_orders_in(None);
        let asked = open.iter().filter(|o| self.venue.cancel(o.id, now).is_ok());
        asked.count() + self.cancel_book_orders(now)
    }

    /// Ask every open order-book order to cancel; how many were asked.
    fn cancel_book_orders(&mut self, now: Timestamp) -> usize {
        let Some(venue) = self.book.as_mut() else {
            return 0;
        };
        let asked: Vec<OrderId> = (venue.open_ids().into_iter())
            .filter(|id| venue.cancel(*id, now).is_ok())
            .collect();
        for id in &asked {
            self.release_if_gone(*id);
        }
        asked.len()
    }

    /// Order-book orders open now (pending or resting), in every instrument.
    pub fn open_book_orders(&self) -> usize {
        self.book.as_ref().map_or(0, |v| v.open_ids().len())
    }

    /// The risk book (the kill switch lives there).
    pub fn risk_mut(&mut self) -> &mut RiskBook {
        &mut self.risk
    }

    /// A market update at `now`: refresh what orders are checked against,
    /// let the venue match, and keep risk in step with every order that
    /// changed.
    pub fn on_market(&mut self, now: Timestamp, book: &MarketBook, changes: &mut Vec<OrderChange>) {
        let id = book.view.id.as_str();
        if book.definition_changed || !self.markets.contains_key(id) {
            self.markets.insert(id, MarketState::of(book));
        }
        let first = changes.len();
        self.venue.on_market(now, book, changes);
        self.follow(&changes[first..]);
    }

    /// An update to `book`'s market is next, at `next`: let the venue
    /// take the orders that arrive before it, and keep risk in step.
    pub fn before_update(
        &mut self,
        next: Timestamp,
        book: &MarketBook,
        changes: &mut Vec<OrderChange>,
    ) {
        let first = changes.len();
        self.venue.before_update(next, book, changes);
        self.follow(&changes[first..]);
    }

    /// Take what the venue did on its own since the last call (a live
    /// venue's news), and keep risk in step.
    pub fn poll(&mut self, now: Timestamp, changes: &mut Vec<OrderChange>) {
        let first = changes.len();
        self.venue.poll(now, changes);
        self.follow(&changes[first..]);
    }

    /// Take what the book venue did on its own since the last call (a live
    /// venue's answers and fills).
    pub fn poll_book(&mut self, now: Timestamp, changes: &mut Vec<BookOrder>) {
        let first = changes.len();
        if let Some(venue) = self.book.as_mut() {
            venue.poll(now, changes);
        }
        self.follow_book(now, &changes[first..]);
    }

    /// When the earliest pending timer is due.
    pub fn next_timer(&self) -> Option<Timestamp> {
        self.timers.first().map(|(at, _)| *at)
    }

    /// The market closed (seen at `now`): settle it with the venue, book
    /// the profit with risk, and forget it. Returns the result.
    pub fn settle(
        &mut self,
        now: Timestamp,
        book: &MarketBook,
        changes: &mut Vec<OrderChange>,
    ) -> MarketResult {
        let first = changes.len();
        let result = self.venue.settle(book, changes);
        self.follow(&changes[first..]);
        self.risk
            .settled(&book.view.id, result.figures.profit, now.0);
        self.versions.settled(&result);
        self.markets.remove(book.view.id.as_str());
        self.interest.remove(book.view.id.as_str());
        result
    }

    /// Whether the plugin still wants updates of `market`, by what it
    /// asked with `set-interest` (its filter is the engine's to check).
    /// Once a market it skipped until the off is in play, it wants every
    /// update again, whatever the flag says later.
    pub fn wants(&mut self, market: &Market) -> bool {
        self.interest.is_empty()
            || (self.interest.get_mut(market.id.as_str()))
                .is_none_or(|interest| interest.wants_update(market.in_play))
    }

    /// Forget every interest the plugin asked for (a new version starts
    /// wanting every update its filter lets through).
    pub fn clear_interest(&mut self) {
        self.interest.clear();
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
        // Asked at every update, and most find nothing due.
        if self.timers.first().is_none_or(|(at, _)| *at > by) {
            return None;
        }
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

    fn place(&mut self, now: Timestamp, request: OrderRequest) -> Result<OrderId, RejectReason> {
        let state = self
            .markets
            .get(request.market_id.as_str())
            .ok_or(RejectReason::UnknownMarket)?;
        validate_price_and_size(&request)?;
        state.check(request.selection_id)?;
        let approved = self.risk.check(request, now.0)?;
        let id = OrderId(self.next_order);
        self.venue.place(id, approved.clone(), now, state)?;
        self.next_order += 1;
        self.risk.placed(id, &approved, now.0);
        self.tally.placed += 1;
        self.versions.placed(id);
        Ok(id)
    }

    fn refused<T>(
        &mut self,
        now: Timestamp,
        result: Result<T, RejectReason>,
    ) -> Result<T, RejectReason> {
        if let Err(reason) = &result {
            *self.tally.rejected.entry(reason.code()).or_default() += 1;
            if let RejectReason::RiskLimit(RiskLimit::DailyLoss) = reason {
                self.daily_loss_reached(now);
            }
        }
        result
    }

    /// Tell the host, once a (UTC) day, that the day's loss limit stops
    /// this strategy.
    fn daily_loss_reached(&mut self, now: Timestamp) {
        const DAY_MS: i64 = 86_400_000;
        let day = now.0.div_euclid(DAY_MS);
        if self.limit_told == Some(day) {
            return;
        }
        self.limit_told = Some(day);
        if let Some(events) = &self.events {
            events.limit_reached(now, RiskLimit::DailyLoss);
        }
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

impl HostServices for Desk {
    fn place_order(
        &mut self,
        now: Timestamp,
        request: OrderRequest,
    ) -> Result<OrderId, RejectReason> {
        let result = self.place(now, request);
        self.refused(now, result)
    }

    fn cancel_order(&mut self, now: Timestamp, id: OrderId) -> Result<(), RejectReason> {
        self.venue.cancel(id, now)
    }

    fn replace_order(
        &mut self,
        now: Timestamp,
        id: OrderId,
        price: Price,
    ) -> Result<OrderId, RejectReason> {
        let order = self.venue.order(id).filter(Order::is_open);
        let Some(order) = order else {
            return self.refused(now, Err(RejectReason::UnknownOrder));
        };
        // Betfair replaces as cancel-then-place; the new order takes what
        // is unmatched now.
        self.venue.cancel(id, now)?;
        let request = OrderRequest {
            price,
            size: order.size_remaining(),
            ..order.request
        };
        let result = self.place(now, request);
        self.refused(now, result)
    }

    fn open_orders(&self, market: &MarketId) -> Vec<Order> {
        Desk::open_orders(self, market)
    }

    fn position(&self, market: &MarketId) -> Vec<RunnerPosition> {
        Desk::position(self, market)
    }

    fn prediction(
        &self,
        now: Timestamp,
        model: &str,
        market: &MarketId,
        selection: SelectionId,
    ) -> Option<f64> {
        self.predictions.latest(now, model, market, selection)
    }

    fn pending_timers(&self) -> usize {
        Desk::pending_timers(self)
    }

    fn has_timer(&self, token: u64) -> bool {
        self.timer_at.contains_key(&token)
    }

    fn set_timer(&mut self, at: Timestamp, token: u64) -> bool {
        let set = self.next_timer_seq;
        self.next_timer_seq += 1;
        if let Some((old, _)) = self.timer_at.insert(token, (at, set)) {
            self.timers.remove(&(old, token));
        }
        self.timers.insert((at, token));
        true
    }

    fn cancel_timer(&mut self, token: u64) {
        if let Some((at, _)) = self.timer_at.remove(&token) {
            self.timers.remove(&(at, token));
        }
    }

    fn log(&mut self, level: LogLevel, message: &str) {
        // The runtime has put the line in the host's log if its filter and
        // rate allow; here every line counts: a report says how many were
        // warnings, and the first few.
        self.tally.logs += 1;
        if level >= LogLevel::Warn {
            self.tally.warnings += 1;
            keep_first_warning(&mut self.tally.first_warnings, message);
        }
    }

    fn signal(&mut self, now: Timestamp, signal: Signal) {
        if let Some(events) = &self.events {
            events.signal(now, &signal);
        }
        let last = &mut self.tally.last_signals;
        if last.len() < MAX_SIGNAL_NAMES || last.contains_key(&signal.name) {
            last.insert(signal.name.clone(), signal.value);
        }
        self.tally.signals += 1;
        tracing::debug!(name = %signal.name, value = signal.value, "plugin signal");
    }

    fn cancel_all_orders(&mut self, now: Timestamp) {
        self.cancel_all(now);
    }

    fn set_interest(&mut self, market: &MarketId, interest: MarketInterest) -> bool {
        // Only open markets the desk follows, so the map stays as small as
        // they (a market closing in this very update is settled next).
        let open =
            (self.markets.get(market.as_str())).is_some_and(|m| m.status != MarketStatus::Closed);
        if open {
            self.interest.insert(market.as_str(), interest);
        }
        open
    }

    fn place_book_order(
        &mut self,
        now: Timestamp,
        request: BookOrderRequest,
    ) -> Result<OrderId, RejectReason> {
        let result = self.place_book(now, request);
        self.refused(now, result)
    }

    fn cancel_book_order(&mut self, now: Timestamp, id: OrderId) -> Result<(), RejectReason> {
        let venue = self.book.as_mut().ok_or(RejectReason::UnknownOrder)?;
        venue.cancel(id, now)?;
        self.release_if_gone(id);
        Ok(())
    }

    fn open_book_orders(&self, instrument: &str) -> Vec<BookOrder> {
        self.book
            .as_ref()
            .map_or_else(Vec::new, |v| v.open_orders(instrument))
    }

    fn book_position(&self, instrument: &str) -> Option<BookPosition> {
        self.book.as_ref().and_then(|v| v.position(instrument))
    }

    fn instrument_info(&self, instrument: &str) -> Option<InstrumentInfo> {
        self.book.as_ref().and_then(|v| v.rules(instrument))
    }
}

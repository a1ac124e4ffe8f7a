//! A native test harness: run a [`Strategy`] with `cargo test`, no Wasm
//! involved. Feed it markets, move its clock, fill its orders; then assert
//! on the orders, logs, signals and timers it recorded. It applies the same
//! order rules as the host ([`crate::rules`]), so a price off the ladder is
//! refused here exactly as it would be in a backtest.

use std::collections::BTreeMap;

use crate::context::{Context, HostApi};
use crate::ladder::Price;
use crate::market::{Levels, Market, PriceSize, Runner};
use crate::params::Params;
use crate::rules;
use crate::strategy::Strategy;
use crate::types::{
    LogLevel, MarketId, MarketInterest, MarketStatus, Order, OrderId, OrderRequest, OrderStatus,
    RejectReason, RunnerPosition, SelectionId, Signal, Timestamp,
};

/// Market `id` whose runners (selection, price) each offer that price to
/// back, 50 available: where most strategy tests start.
pub fn market_with_backs(id: &str, backs: &[(u64, f64)]) -> Market {
    let mut m = Market::new(id);
    for &(selection, price) in backs {
        let mut r = Runner::new(selection);
        r.back = Levels::from_slice(&[PriceSize::new(price, 50.0)]);
        m.runners.push(r);
    }
    m
}

/// What the harness's host has recorded.
#[derive(Debug, Default)]
pub struct Recorded {
    now: Timestamp,
    next_order: u64,
    /// Every order placed, in order, including refused ones.
    pub orders: Vec<Order>,
    /// Requests the rules refused, with the reason.
    pub rejections: Vec<(OrderRequest, RejectReason)>,
    /// Log lines.
    pub logs: Vec<(LogLevel, String)>,
    /// Signals.
    pub signals: Vec<Signal>,
    /// Pending timers: token to due time.
    pub timers: BTreeMap<u64, Timestamp>,
    /// The key-value state.
    pub state: BTreeMap<String, Vec<u8>>,
    predictions: BTreeMap<(String, MarketId, SelectionId), f64>,
    markets: BTreeMap<MarketId, Market>,
    /// What the strategy asked with [`Context::set_interest`], per market
    /// still open.
    pub interest: BTreeMap<MarketId, MarketInterest>,
    /// Order-book instruments (WIT 1.1): see [`crate::harness_book`].
    pub(crate) books: crate::harness_book::BookHost,
}

impl Recorded {
    fn order_mut(&mut self, id: OrderId) -> Result<&mut Order, RejectReason> {
        self.orders
            .iter_mut()
            .find(|o| o.id == id && o.is_open())
            .ok_or(RejectReason::UnknownOrder)
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Move the clock (never backwards).
    pub fn set_now(&mut self, now: Timestamp) {
        self.now = self.now.max(now);
    }

    /// Make a market known (orders are checked against its latest state).
    pub fn set_market(&mut self, market: &Market) {
        self.markets.insert(market.id.clone(), market.clone());
    }

    /// Record the strategy's interest in an open market it was shown;
    /// false (and nothing recorded) for any other.
    pub fn set_interest(&mut self, market: &MarketId, interest: MarketInterest) -> bool {
        let open = (self.markets.get(market)).is_some_and(|m| m.status != MarketStatus::Closed);
        if open {
            self.interest.insert(market.clone(), interest);
        }
        open
    }

    /// Whether the strategy still wants `market`'s updates, by its interest
    /// (as the host decides: once a market skipped until the off is in
    /// play, every update again).
    pub fn wants(&mut self, market: &Market) -> bool {
        (self.interest.get_mut(&market.id)).is_none_or(|i| i.wants_update(market.in_play))
    }

    /// Check an order with [`rules::validate_order`] and record it as executable.
    pub fn place_order(&mut self, request: &OrderRequest) -> Result<OrderId, RejectReason> {
        let checked = match self.markets.get(&request.market_id) {
            Some(market) => rules::validate_order(market, request),
            None => Err(RejectReason::UnknownMarket),
        };
        if let Err(reason) = checked {
            self.rejections.push((request.clone(), reason.clone()));
            return Err(reason);
        }
        self.next_order += 1;
        let id = OrderId(self.next_order);
        self.orders.push(Order {
            status: OrderStatus::Executable,
            ..Order::pending(id, request.clone(), self.now)
        });
        Ok(id)
    }

    /// Cancel an open order's remainder.
    pub fn cancel_order(&mut self, id: OrderId) -> Result<(), RejectReason> {
        let order = self.order_mut(id)?;
        order.size_cancelled += order.size_remaining();
        order.status = OrderStatus::ExecutionComplete;
        Ok(())
    }

    /// Cancel every open order.
    pub fn cancel_all_orders(&mut self) {
        let open: Vec<OrderId> = self
            .orders
            .iter()
            .filter(|o| o.is_open())
            .map(|o| o.id)
            .collect();
        for id in open {
            let _ = self.cancel_order(id);
        }
    }

    /// Cancel an order and place its remainder at a new price.
    pub fn replace_order(&mut self, id: OrderId, price: Price) -> Result<OrderId, RejectReason> {
        let order = self.order_mut(id)?;
        let mut request = order.request.clone();
        request.price = price;
        request.size = (order.size_remaining() * 100.0).round() / 100.0;
        rules::validate_price_and_size(&request)?;
        self.cancel_order(id)?;
        self.place_order(&request)
    }

    /// Open orders in a market.
    pub fn open_orders(&self, market: &MarketId) -> Vec<Order> {
        self.orders
            .iter()
            .filter(|o| &o.request.market_id == market && o.is_open())
            .cloned()
            .collect()
    }

    /// Matched position in a market.
    pub fn position(&self, market: &MarketId) -> Vec<RunnerPosition> {
        match self.markets.get(market) {
            Some(m) => rules::market_position(m, &self.orders),
            None => Vec::new(),
        }
    }

    /// A prediction set with [`Harness::set_prediction`].
    pub fn prediction(
        &self,
        model: &str,
        market: &MarketId,
        selection: SelectionId,
    ) -> Option<f64> {
        self.predictions
            .get(&(model.to_owned(), market.clone(), selection))
            .copied()
    }

    /// Publish a prediction.
    pub fn set_prediction(
        &mut self,
        model: &str,
        market: &MarketId,
        selection: SelectionId,
        p: f64,
    ) {
        self.predictions
            .insert((model.to_owned(), market.clone(), selection), p);
    }

    /// Remove and return the earliest timer due at or before `by` (ties go
    /// to the lower token), with its due time.
    pub fn take_due_timer(&mut self, by: Timestamp) -> Option<(u64, Timestamp)> {
        let (token, at) = self
            .timers
            .iter()
            .filter(|(_, at)| **at <= by)
            .min_by_key(|(token, at)| (**at, **token))
            .map(|(token, at)| (*token, *at))?;
        self.timers.remove(&token);
        Some((token, at))
    }

    /// Check a book order against the instrument's rules (see
    /// [`crate::harness_book`]) and record it as executable.
    pub fn place_book_order(
        &mut self,
        request: &crate::BookOrderRequest,
    ) -> Result<OrderId, RejectReason> {
        self.next_order += 1;
        let id = OrderId(self.next_order);
        self.books.place(id, request, self.now)
    }

    /// The book side: instruments, book orders, positions.
    pub fn books(&mut self) -> &mut crate::harness_book::BookHost {
        &mut self.books
    }

    /// Set (or move) a timer to fire at `at`.
    pub fn set_timer_at(&mut self, at: Timestamp, token: u64) {
        self.timers.insert(token, at);
    }
}

impl HostApi for Recorded {
    fn place_order(&mut self, request: &OrderRequest) -> Result<OrderId, RejectReason> {
        Recorded::place_order(self, request)
    }

    fn cancel_order(&mut self, id: OrderId) -> Result<(), RejectReason> {
        Recorded::cancel_order(self, id)
    }

    fn replace_order(&mut self, id: OrderId, price: Price) -> Result<OrderId, RejectReason> {
        Recorded::replace_order(self, id, price)
    }

    fn open_orders(&mut self, market: &MarketId) -> Vec<Order> {
        Recorded::open_orders(self, market)
    }

    fn position(&mut self, market: &MarketId) -> Vec<RunnerPosition> {
        Recorded::position(self, market)
    }

    fn now(&mut self) -> Timestamp {
        self.now
    }

    fn log(&mut self, level: LogLevel, message: &str) {
        self.logs.push((level, message.to_owned()));
    }

    fn signal(&mut self, signal: &Signal) {
        self.signals.push(signal.clone());
    }

    fn prediction(
        &mut self,
        model: &str,
        market: &MarketId,
        selection: SelectionId,
    ) -> Option<f64> {
        Recorded::prediction(self, model, market, selection)
    }

    fn set_timer(&mut self, after_ms: u64, token: u64) {
        let after = i64::try_from(after_ms).unwrap_or(i64::MAX);
        self.set_timer_at(self.now.plus_millis(after), token);
    }

    fn cancel_timer(&mut self, token: u64) {
        self.timers.remove(&token);
    }

    fn state_get(&mut self, key: &str) -> Option<Vec<u8>> {
        self.state.get(key).cloned()
    }

    fn state_set(&mut self, key: &str, value: &[u8]) -> bool {
        self.state.insert(key.to_owned(), value.to_vec());
        true
    }

    fn state_delete(&mut self, key: &str) {
        self.state.remove(key);
    }

    fn set_interest(&mut self, market: &MarketId, interest: MarketInterest) -> bool {
        Recorded::set_interest(self, market, interest)
    }

    fn place_book_order(
        &mut self,
        request: &crate::BookOrderRequest,
    ) -> Result<OrderId, RejectReason> {
        Recorded::place_book_order(self, request)
    }

    fn cancel_book_order(&mut self, id: OrderId) -> Result<(), RejectReason> {
        self.books.cancel(id)
    }

    fn open_book_orders(&mut self, instrument: &str) -> Vec<crate::BookOrder> {
        self.books.open(instrument)
    }

    fn book_position(&mut self, instrument: &str) -> Option<crate::BookPosition> {
        self.books.positions.get(instrument).cloned()
    }

    fn instrument_info(&mut self, instrument: &str) -> Option<crate::InstrumentInfo> {
        self.books.rules.get(instrument).cloned()
    }
}

/// Runs one strategy natively and records what it does.
///
/// ```
/// use clever_sdk::prelude::*;
/// use clever_sdk::harness::Harness;
///
/// struct BackAll;
/// impl Strategy for BackAll {
///     fn init(_: &mut Context<'_>, _: &Params) -> Result<Self, String> { Ok(BackAll) }
///     fn on_market(&mut self, ctx: &mut Context<'_>, m: &Market) {
///         for r in m.active_runners() {
///             if let Some(best) = r.best_back() {
///                 let _ = ctx.back(&m.id, r.selection_id, best.price, 2.0);
///             }
///         }
///     }
/// }
///
/// let mut h = Harness::<BackAll>::new("{}").unwrap();
/// let mut market = Market::new("1.1");
/// let mut runner = Runner::new(7);
/// runner.back = Levels::from_slice(&[PriceSize::new(3.5, 20.0)]);
/// market.runners.push(runner);
/// h.market(&market);
/// assert_eq!(h.orders().len(), 1);
/// assert_eq!(h.orders()[0].request.price, Price(3.5));
/// ```
pub struct Harness<S: Strategy> {
    pub(crate) strategy: S,
    pub(crate) host: Recorded,
}

impl<S: Strategy> Harness<S> {
    /// Start the strategy with parameters given as JSON text. A strategy
    /// that declares its parameters is given only those, each of its kind,
    /// as the host checks them.
    pub fn new(params: &str) -> Result<Self, String> {
        let params = Params::parse(params)?;
        if let Some(declared) = S::parameters() {
            params.check(declared)?;
        }
        let mut host = Recorded::default();
        let strategy = S::init(&mut Context::new(&mut host), &params)?;
        Ok(Harness { strategy, host })
    }

    /// The strategy itself, to inspect its fields.
    pub fn strategy(&self) -> &S {
        &self.strategy
    }

    /// Everything recorded so far.
    pub fn recorded(&self) -> &Recorded {
        &self.host
    }

    /// Every order placed (refused requests are in [`Recorded::rejections`]).
    pub fn orders(&self) -> &[Order] {
        &self.host.orders
    }

    /// Log lines written.
    pub fn logs(&self) -> &[(LogLevel, String)] {
        &self.host.logs
    }

    /// Signals emitted.
    pub fn signals(&self) -> &[Signal] {
        &self.host.signals
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        self.host.now
    }

    /// Publish a prediction the strategy can read.
    pub fn set_prediction(&mut self, model: &str, market: &str, selection: u64, p: f64) {
        self.host
            .set_prediction(model, &MarketId::from(market), SelectionId(selection), p);
    }

    /// Deliver a market update at its publish time (timers due before it
    /// fire first), if the strategy's [`Strategy::markets`] filter and its
    /// [`Context::set_interest`] want it, as the host's engine would.
    /// Returns whether it was delivered.
    pub fn market(&mut self, market: &Market) -> bool {
        if market.publish_time > self.host.now {
            self.advance_to(market.publish_time);
        }
        self.host.set_market(market);
        if !S::markets().wants(market, self.host.now) || !self.host.wants(market) {
            return false;
        }
        let mut ctx = Context::new(&mut self.host);
        self.strategy.on_market(&mut ctx, market);
        true
    }

    /// Move the clock forward by `ms`, firing due timers in time order.
    pub fn advance(&mut self, ms: i64) {
        let to = self.host.now.plus_millis(ms);
        self.advance_to(to);
    }

    /// Move the clock to `to`, firing due timers in time order.
    pub fn advance_to(&mut self, to: Timestamp) {
        while let Some((token, at)) = self.host.take_due_timer(to) {
            self.host.now = self.host.now.max(at);
            let mut ctx = Context::new(&mut self.host);
            self.strategy.on_timer(&mut ctx, token);
        }
        self.host.now = self.host.now.max(to);
    }

    /// Match `size` of an order at `price` and tell the strategy.
    pub fn fill(&mut self, id: OrderId, size: f64, price: f64) -> Result<(), RejectReason> {
        let order = self.host.order_mut(id)?;
        let size = size.min(order.size_remaining());
        let before = order.size_matched * order.average_price_matched.unwrap_or(0.0);
        order.size_matched += size;
        order.average_price_matched = Some((before + size * price) / order.size_matched);
        if order.size_remaining() <= 1e-9 {
            order.status = OrderStatus::ExecutionComplete;
        }
        let order = order.clone();
        let mut ctx = Context::new(&mut self.host);
        self.strategy.on_order(&mut ctx, &order);
        Ok(())
    }

    /// Close a market: settle with `market`'s runner statuses and tell the strategy.
    pub fn close(&mut self, market: &Market) {
        let mut closed = market.clone();
        closed.status = MarketStatus::Closed;
        self.host.set_market(&closed);
        self.host.interest.remove(&closed.id);
        let mut ctx = Context::new(&mut self.host);
        self.strategy.on_market_closed(&mut ctx, &closed);
    }

    /// The strategy's snapshot, as a hot swap would take it.
    pub fn snapshot(&self) -> Vec<u8> {
        self.strategy.snapshot()
    }

    /// Hand a snapshot to the strategy, as a hot swap would (the new
    /// version starts wanting every update, as on the host).
    pub fn restore(&mut self, state: &[u8]) -> Result<(), String> {
        self.host.interest.clear();
        let mut ctx = Context::new(&mut self.host);
        self.strategy.restore(&mut ctx, state)
    }
}

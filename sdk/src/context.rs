//! [`Context`]: how strategy code reaches the host. In a plugin it calls
//! the WIT imports; under the native [`crate::harness`] it records into the
//! harness. Strategy code cannot tell the two apart.

use crate::book::{BookOrder, BookOrderRequest, BookPosition, BookSide, InstrumentInfo};
use crate::ladder::Price;
use crate::types::{
    LogLevel, MarketId, MarketInterest, Order, OrderId, OrderRequest, RejectReason, RunnerPosition,
    SelectionId, Side, Signal, Timestamp,
};

/// What the host provides; one implementation per place a strategy runs.
pub(crate) trait HostApi {
    fn place_order(&mut self, request: &OrderRequest) -> Result<OrderId, RejectReason>;
    fn cancel_order(&mut self, id: OrderId) -> Result<(), RejectReason>;
    fn replace_order(&mut self, id: OrderId, price: Price) -> Result<OrderId, RejectReason>;
    fn open_orders(&mut self, market: &MarketId) -> Vec<Order>;
    fn position(&mut self, market: &MarketId) -> Vec<RunnerPosition>;
    fn now(&mut self) -> Timestamp;
    fn log(&mut self, level: LogLevel, message: &str);
    fn signal(&mut self, signal: &Signal);
    fn prediction(&mut self, model: &str, market: &MarketId, selection: SelectionId)
    -> Option<f64>;
    fn set_timer(&mut self, after_ms: u64, token: u64);
    fn cancel_timer(&mut self, token: u64);
    fn state_get(&mut self, key: &str) -> Option<Vec<u8>>;
    fn state_set(&mut self, key: &str, value: &[u8]) -> bool;
    fn state_delete(&mut self, key: &str);
    fn set_interest(&mut self, market: &MarketId, interest: MarketInterest) -> bool;
    fn place_book_order(&mut self, request: &BookOrderRequest) -> Result<OrderId, RejectReason>;
    fn cancel_book_order(&mut self, id: OrderId) -> Result<(), RejectReason>;
    fn open_book_orders(&mut self, instrument: &str) -> Vec<BookOrder>;
    fn book_position(&mut self, instrument: &str) -> Option<BookPosition>;
    fn instrument_info(&mut self, instrument: &str) -> Option<InstrumentInfo>;
}

/// The host, as a strategy sees it during one hook call.
pub struct Context<'a> {
    host: &'a mut dyn HostApi,
}

impl<'a> Context<'a> {
    pub(crate) fn new(host: &'a mut dyn HostApi) -> Self {
        Context { host }
    }

    /// Place an order; risk limits and venue rules are checked first.
    pub fn place(&mut self, request: OrderRequest) -> Result<OrderId, RejectReason> {
        self.host.place_order(&request)
    }

    /// Back `selection` for `size` at `price` (a lapsing limit order).
    pub fn back(
        &mut self,
        market: &MarketId,
        selection: SelectionId,
        price: Price,
        size: f64,
    ) -> Result<OrderId, RejectReason> {
        self.limit(Side::Back, market, selection, price, size)
    }

    /// Lay `selection` for a backer's stake of `size` at `price` (lapsing limit).
    pub fn lay(
        &mut self,
        market: &MarketId,
        selection: SelectionId,
        price: Price,
        size: f64,
    ) -> Result<OrderId, RejectReason> {
        self.limit(Side::Lay, market, selection, price, size)
    }

    fn limit(
        &mut self,
        side: Side,
        market: &MarketId,
        selection: SelectionId,
        price: Price,
        size: f64,
    ) -> Result<OrderId, RejectReason> {
        let request = OrderRequest::limit(market.clone(), selection, side, price, size);
        self.place(request)
    }

    /// Cancel an order's unmatched remainder.
    pub fn cancel(&mut self, id: OrderId) -> Result<(), RejectReason> {
        self.host.cancel_order(id)
    }

    /// Move an order's unmatched remainder to a new price (a new order id).
    pub fn replace(&mut self, id: OrderId, price: Price) -> Result<OrderId, RejectReason> {
        self.host.replace_order(id, price)
    }

    /// This strategy's open orders in a market.
    pub fn open_orders(&mut self, market: &MarketId) -> Vec<Order> {
        self.host.open_orders(market)
    }

    /// This strategy's matched position in a market.
    pub fn position(&mut self, market: &MarketId) -> Vec<RunnerPosition> {
        self.host.position(market)
    }

    /// The host's clock (simulated in a backtest).
    pub fn now(&mut self) -> Timestamp {
        self.host.now()
    }

    /// Log a line at a level.
    pub fn log(&mut self, level: LogLevel, message: &str) {
        self.host.log(level, message)
    }

    /// Log at info level.
    pub fn info(&mut self, message: &str) {
        self.log(LogLevel::Info, message)
    }

    /// Log at warn level.
    pub fn warn(&mut self, message: &str) {
        self.log(LogLevel::Warn, message)
    }

    /// Emit an alert or metric.
    pub fn signal(&mut self, signal: Signal) {
        self.host.signal(&signal)
    }

    /// A model's probability for a runner, if published by now.
    pub fn prediction(
        &mut self,
        model: &str,
        market: &MarketId,
        selection: SelectionId,
    ) -> Option<f64> {
        self.host.prediction(model, market, selection)
    }

    /// Call `on_timer(token)` after `after_ms` (resets an existing timer).
    pub fn set_timer(&mut self, after_ms: u64, token: u64) {
        self.host.set_timer(after_ms, token)
    }

    /// Forget a timer.
    pub fn cancel_timer(&mut self, token: u64) {
        self.host.cancel_timer(token)
    }

    /// Read from the host-kept key-value state (survives a faulted instance).
    pub fn state_get(&mut self, key: &str) -> Option<Vec<u8>> {
        self.host.state_get(key)
    }

    /// Write to the key-value state; false if over its byte budget.
    pub fn state_set(&mut self, key: &str, value: &[u8]) -> bool {
        self.host.state_set(key, value)
    }

    /// Delete from the key-value state.
    pub fn state_delete(&mut self, key: &str) {
        self.host.state_delete(key)
    }

    /// How much more of `market` this strategy wants (WIT 1.2): the host
    /// then skips the calls it would ignore, until the market closes.
    /// False if the host knows no open market `market` (nothing changes).
    pub fn set_interest(&mut self, market: &MarketId, interest: MarketInterest) -> bool {
        self.host.set_interest(market, interest)
    }

    /// No updates of `market` until it is in play.
    pub fn skip_until_in_play(&mut self, market: &MarketId) -> bool {
        self.set_interest(market, MarketInterest::InPlay)
    }

    /// No more updates of `market` (its orders and its close still come).
    pub fn done_with(&mut self, market: &MarketId) -> bool {
        self.set_interest(market, MarketInterest::NothingMore)
    }

    /// Place an order on an instrument's book (WIT 1.1); the risk limits
    /// and the instrument's tick, lot and minimum are checked first.
    pub fn place_book(&mut self, request: BookOrderRequest) -> Result<OrderId, RejectReason> {
        self.host.place_book_order(&request)
    }

    /// Buy `size` of `instrument` at `price` or better (good till cancelled).
    pub fn buy(
        &mut self,
        instrument: &str,
        price: f64,
        size: f64,
    ) -> Result<OrderId, RejectReason> {
        self.place_book(BookOrderRequest::limit(
            instrument,
            BookSide::Buy,
            price,
            size,
        ))
    }

    /// Sell `size` of `instrument` at `price` or better (good till cancelled).
    pub fn sell(
        &mut self,
        instrument: &str,
        price: f64,
        size: f64,
    ) -> Result<OrderId, RejectReason> {
        self.place_book(BookOrderRequest::limit(
            instrument,
            BookSide::Sell,
            price,
            size,
        ))
    }

    /// Cancel the unfilled rest of a book order.
    pub fn cancel_book(&mut self, id: OrderId) -> Result<(), RejectReason> {
        self.host.cancel_book_order(id)
    }

    /// This strategy's open book orders in an instrument.
    pub fn open_book_orders(&mut self, instrument: &str) -> Vec<BookOrder> {
        self.host.open_book_orders(instrument)
    }

    /// This strategy's position in an instrument, if any.
    pub fn book_position(&mut self, instrument: &str) -> Option<BookPosition> {
        self.host.book_position(instrument)
    }

    /// An instrument's trading rules (tick, lot, minimum, leverage).
    pub fn instrument_info(&mut self, instrument: &str) -> Option<InstrumentInfo> {
        self.host.instrument_info(instrument)
    }
}

//! [`HostServices`]: what the engine gives one plugin instance (orders,
//! timers, predictions, logs, signals). The runtime enforces the sandbox
//! budgets before anything reaches these methods, and passes the time the
//! engine set on the instance ([`PluginInstance::set_time`]) to those that
//! need it: the runtime keeps no clock of its own, and neither do services.
//!
//! [`PluginInstance::set_time`]: crate::PluginInstance::set_time

use std::any::Any;

use clever_sdk::{
    BookOrder, BookOrderRequest, BookPosition, InstrumentInfo, LogLevel, MarketId, MarketInterest,
    Order, OrderId, OrderRequest, Price, RejectReason, RunnerPosition, SelectionId, Signal,
    Timestamp,
};

/// The engine's side of a plugin's imports. One value per plugin instance,
/// owned by it (the engine reaches its own through
/// [`PluginInstance::services_mut`](crate::PluginInstance::services_mut)).
pub trait HostServices: Any + Send {
    /// Risk-check and place an order at `now`.
    fn place_order(
        &mut self,
        now: Timestamp,
        request: OrderRequest,
    ) -> Result<OrderId, RejectReason>;
    /// Cancel an order's unmatched remainder, asked at `now`.
    fn cancel_order(&mut self, now: Timestamp, id: OrderId) -> Result<(), RejectReason>;
    /// Move an order to a new price, asked at `now`.
    fn replace_order(
        &mut self,
        now: Timestamp,
        id: OrderId,
        price: Price,
    ) -> Result<OrderId, RejectReason>;
    /// The strategy's open orders in a market.
    fn open_orders(&self, market: &MarketId) -> Vec<Order>;
    /// The strategy's matched position in a market.
    fn position(&self, market: &MarketId) -> Vec<RunnerPosition>;
    /// `model`'s probability for a runner, the latest published at or
    /// before `now` (the plugin's clock).
    fn prediction(
        &self,
        now: Timestamp,
        model: &str,
        market: &MarketId,
        selection: SelectionId,
    ) -> Option<f64>;
    /// Timers pending (the runtime caps them: see `Limits::pending_timers`).
    fn pending_timers(&self) -> usize;
    /// Whether `token` is a pending timer (moving one adds none).
    fn has_timer(&self, token: u64) -> bool;
    /// Call the plugin's `on-timer(token)` at `at`, moving it if pending;
    /// false if this host keeps no timers.
    fn set_timer(&mut self, at: Timestamp, token: u64) -> bool;
    /// Forget a timer.
    fn cancel_timer(&mut self, token: u64);
    /// A log line (already within the per-call budget).
    fn log(&mut self, level: LogLevel, message: &str);
    /// A signal (already within the per-call budget).
    fn signal(&mut self, now: Timestamp, signal: Signal);
    /// The plugin was quarantined at `now`: cancel its open orders.
    fn cancel_all_orders(&mut self, now: Timestamp);

    /// WIT 1.2: how much more of `market` the plugin wants; false if these
    /// services know no open market `market`. Services that deliver no
    /// markets know none.
    fn set_interest(&mut self, market: &MarketId, interest: MarketInterest) -> bool {
        let _ = (market, interest);
        false
    }

    /// WIT 1.1: risk-check and place a book order at `now`. Services of a
    /// host that trades no order-book instrument refuse it.
    fn place_book_order(
        &mut self,
        now: Timestamp,
        request: BookOrderRequest,
    ) -> Result<OrderId, RejectReason> {
        let _ = (now, request);
        Err(RejectReason::UnknownMarket)
    }
    /// Cancel a book order's unfilled rest, asked at `now`.
    fn cancel_book_order(&mut self, now: Timestamp, id: OrderId) -> Result<(), RejectReason> {
        let _ = (now, id);
        Err(RejectReason::UnknownOrder)
    }
    /// The strategy's open book orders in an instrument.
    fn open_book_orders(&self, instrument: &str) -> Vec<BookOrder> {
        let _ = instrument;
        Vec::new()
    }
    /// The strategy's position in an instrument.
    fn book_position(&self, instrument: &str) -> Option<BookPosition> {
        let _ = instrument;
        None
    }
    /// An instrument's trading rules, if this host trades it.
    fn instrument_info(&self, instrument: &str) -> Option<InstrumentInfo> {
        let _ = instrument;
        None
    }
}

/// Services that refuse every order and know nothing: used to call
/// `describe` when a plugin is loaded, and to start a version that will
/// take over a running strategy's services (its `init` cannot trade).
#[derive(Debug, Default)]
pub struct InertServices;

impl HostServices for InertServices {
    fn place_order(&mut self, _: Timestamp, _: OrderRequest) -> Result<OrderId, RejectReason> {
        Err(RejectReason::UnknownMarket)
    }
    fn cancel_order(&mut self, _: Timestamp, _: OrderId) -> Result<(), RejectReason> {
        Err(RejectReason::UnknownOrder)
    }
    fn replace_order(
        &mut self,
        _: Timestamp,
        _: OrderId,
        _: Price,
    ) -> Result<OrderId, RejectReason> {
        Err(RejectReason::UnknownOrder)
    }
    fn open_orders(&self, _: &MarketId) -> Vec<Order> {
        Vec::new()
    }
    fn position(&self, _: &MarketId) -> Vec<RunnerPosition> {
        Vec::new()
    }
    fn prediction(&self, _: Timestamp, _: &str, _: &MarketId, _: SelectionId) -> Option<f64> {
        None
    }
    fn pending_timers(&self) -> usize {
        0
    }
    fn has_timer(&self, _: u64) -> bool {
        false
    }
    fn set_timer(&mut self, _: Timestamp, _: u64) -> bool {
        false
    }
    fn cancel_timer(&mut self, _: u64) {}
    fn log(&mut self, _: LogLevel, _: &str) {}
    fn signal(&mut self, _: Timestamp, _: Signal) {}
    fn cancel_all_orders(&mut self, _: Timestamp) {}
}

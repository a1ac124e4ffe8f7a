//! [`RecordingServices`]: host services that check orders with the venue
//! rules and record everything, without matching. They serve `clever run`,
//! the benchmarks and the runtime's tests; the engine brings real venues.

use std::sync::{Arc, Mutex, MutexGuard};

use clever_sdk::harness::Recorded;
use clever_sdk::{
    LogLevel, Market, MarketId, MarketInterest, Order, OrderId, OrderRequest, Price, RejectReason,
    RunnerPosition, SelectionId, Signal, Timestamp,
};

use super::services::HostServices;

/// A cloneable handle: give one clone to the plugin, keep one to inspect.
#[derive(Clone, Default)]
pub struct RecordingServices {
    inner: Arc<Mutex<Recorded>>,
    cancelled_all: Arc<Mutex<u32>>,
}

impl RecordingServices {
    /// Empty.
    pub fn new() -> Self {
        Self::default()
    }

    /// What has been recorded so far.
    pub fn recorded(&self) -> MutexGuard<'_, Recorded> {
        // A poisoned lock only means a panic elsewhere; the data is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Make a market known, so orders in it are checked against its state.
    pub fn set_market(&self, market: &Market) {
        self.recorded().set_market(market);
    }

    /// How many times the runtime asked to cancel everything (quarantine).
    pub fn cancel_all_calls(&self) -> u32 {
        *self.cancelled_all.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl HostServices for RecordingServices {
    fn place_order(
        &mut self,
        now: Timestamp,
        request: OrderRequest,
    ) -> Result<OrderId, RejectReason> {
        let mut recorded = self.recorded();
        recorded.set_now(now);
        recorded.place_order(&request)
    }
    fn cancel_order(&mut self, now: Timestamp, id: OrderId) -> Result<(), RejectReason> {
        let mut recorded = self.recorded();
        recorded.set_now(now);
        recorded.cancel_order(id)
    }
    fn replace_order(
        &mut self,
        now: Timestamp,
        id: OrderId,
        price: Price,
    ) -> Result<OrderId, RejectReason> {
        let mut recorded = self.recorded();
        recorded.set_now(now);
        recorded.replace_order(id, price)
    }
    fn open_orders(&self, market: &MarketId) -> Vec<Order> {
        self.recorded().open_orders(market)
    }
    fn position(&self, market: &MarketId) -> Vec<RunnerPosition> {
        self.recorded().position(market)
    }
    fn prediction(
        &self,
        _: Timestamp,
        model: &str,
        market: &MarketId,
        selection: SelectionId,
    ) -> Option<f64> {
        self.recorded().prediction(model, market, selection)
    }
    fn pending_timers(&self) -> usize {
        self.recorded().timers.len()
    }
    fn has_timer(&self, token: u64) -> bool {
        self.recorded().timers.contains_key(&token)
    }
    fn set_timer(&mut self, at: Timestamp, token: u64) -> bool {
        self.recorded().set_timer_at(at, token);
        true
    }
    fn cancel_timer(&mut self, token: u64) {
        self.recorded().timers.remove(&token);
    }
    fn log(&mut self, level: LogLevel, message: &str) {
        self.recorded().logs.push((level, message.to_owned()));
    }
    fn signal(&mut self, _: Timestamp, signal: Signal) {
        self.recorded().signals.push(signal);
    }
    fn cancel_all_orders(&mut self, now: Timestamp) {
        let mut recorded = self.recorded();
        recorded.set_now(now);
        recorded.cancel_all_orders();
        drop(recorded);
        *self.cancelled_all.lock().unwrap_or_else(|p| p.into_inner()) += 1;
    }
    fn set_interest(&mut self, market: &MarketId, interest: MarketInterest) -> bool {
        self.recorded().set_interest(market, interest)
    }
    fn place_book_order(
        &mut self,
        now: Timestamp,
        request: clever_sdk::BookOrderRequest,
    ) -> Result<OrderId, RejectReason> {
        let mut recorded = self.recorded();
        recorded.set_now(now);
        recorded.place_book_order(&request)
    }
    fn cancel_book_order(&mut self, _: Timestamp, id: OrderId) -> Result<(), RejectReason> {
        self.recorded().books().cancel(id)
    }
    fn open_book_orders(&self, instrument: &str) -> Vec<clever_sdk::BookOrder> {
        self.recorded().books().open(instrument)
    }
    fn book_position(&self, instrument: &str) -> Option<clever_sdk::BookPosition> {
        self.recorded().books().positions.get(instrument).cloned()
    }
    fn instrument_info(&self, instrument: &str) -> Option<clever_sdk::InstrumentInfo> {
        self.recorded().books().rules.get(instrument).cloned()
    }
}

//! WIT 1.1's order-book hooks on a [`PluginInstance`]: the same budgets,
//! deadlines and fault handling as the betting hooks. A plugin without
//! book hooks (every 1.0 component, and 1.1 ones trading no instrument)
//! is simply not called.

use clever_sdk::{Book, BookOrder, Candle, InstrumentFilter, InstrumentState, Trade};

use super::bindings::book::wit;
use super::fault::Hook;
use super::instance::{HookError, PluginInstance, ask};
use super::plugin::LoadedPlugin;
use super::services::HostServices;

impl PluginInstance {
    /// Call `instruments` on a throwaway instance: the instruments a 1.1
    /// plugin wants; `None` if it has no book hooks.
    pub(crate) fn instruments(
        plugin: &LoadedPlugin,
        services: Box<dyn HostServices>,
    ) -> Result<Option<InstrumentFilter>, HookError> {
        let Some(indices) = &plugin.book else {
            return Ok(None);
        };
        let filter = ask(plugin, services, Hook::Instruments, |store, instance| {
            indices.load(&mut *store, instance)?.call_instruments(store)
        })?;
        Ok(Some(filter.into()))
    }

    /// Whether the plugin has the 1.1 book hooks.
    pub fn trades_books(&self) -> bool {
        self.plugin().book.is_some()
    }

    /// Run a book hook, if the plugin has them.
    fn book_call(
        &mut self,
        hook: Hook,
        f: impl FnOnce(
            &super::bindings::book::BookHooks,
            &mut wasmtime::Store<super::sandbox::PluginState>,
        ) -> wasmtime::Result<()>,
    ) -> Result<(), HookError> {
        if !self.trades_books() {
            return Ok(());
        }
        let fuel = self.plugin().config.limits.fuel_per_call;
        self.call(hook, fuel, |live, store| match &live.book {
            Some(book) => f(book, store),
            None => Ok(()),
        })
    }

    /// An instrument's book changed.
    pub fn on_book(&mut self, book: &Book) -> Result<(), HookError> {
        let book: wit::Book = book.into();
        self.book_call(Hook::OnBook, |h, s| h.call_on_book(s, &book))
    }

    /// Trades printed.
    pub fn on_trades(&mut self, trades: &[Trade]) -> Result<(), HookError> {
        let trades: Vec<wit::Trade> = trades.iter().map(Into::into).collect();
        self.book_call(Hook::OnTrades, |h, s| h.call_on_trades(s, &trades))
    }

    /// A candle closed.
    pub fn on_candle(&mut self, candle: &Candle) -> Result<(), HookError> {
        let candle: wit::Candle = candle.into();
        self.book_call(Hook::OnCandle, |h, s| h.call_on_candle(s, &candle))
    }

    /// An instrument's mark price or funding changed.
    pub fn on_instrument(&mut self, state: &InstrumentState) -> Result<(), HookError> {
        let state: wit::InstrumentState = state.into();
        self.book_call(Hook::OnInstrument, |h, s| h.call_on_instrument(s, &state))
    }

    /// One of the plugin's book orders changed.
    pub fn on_book_order(&mut self, order: &BookOrder) -> Result<(), HookError> {
        let order: wit::BookOrder = order.into();
        self.book_call(Hook::OnBookOrder, |h, s| h.call_on_book_order(s, &order))
    }
}

//! The WIT imports (`clever:strategy/host`) as the plugin calls them:
//! per-call budgets and host-held caps are enforced here, the host work
//! each call causes is added to the plugin's fuel debt (see
//! [`rates`]; [`charge_calls`] collects it), then the call goes to the
//! engine's [`HostServices`](super::HostServices) in clever-sdk's types.

use std::time::Instant;

use clever_sdk as sdk;
use wasmtime::{CallHook, Store, StoreContextMut, Trap};

use super::bindings::book;
use super::bindings::clever::strategy::host;
use super::bindings::wit;
use super::limits::rates;
use super::sandbox::PluginState;

/// Make every call into the host pay: a flat fee on the way in (every
/// import, WASI's too), and the work the import recorded on the way out.
/// A plugin without the fuel traps with `OutOfFuel`.
pub(crate) fn charge_calls(store: &mut Store<PluginState>) {
    store.call_hook(|mut store, hook| match hook {
        CallHook::CallingHost => charge(&mut store, rates::IMPORT_CALL),
        CallHook::ReturningFromHost => {
            let debt = std::mem::take(&mut store.data_mut().host.debt);
            charge(&mut store, debt)
        }
        CallHook::CallingWasm | CallHook::ReturningFromWasm => Ok(()),
    });
}

fn charge(store: &mut StoreContextMut<'_, PluginState>, fuel: u64) -> wasmtime::Result<()> {
    if fuel == 0 {
        return Ok(());
    }
    let left = store.get_fuel()?;
    store.set_fuel(left.saturating_sub(fuel))?;
    if fuel > left {
        return Err(Trap::OutOfFuel.into());
    }
    Ok(())
}

clever_sdk::__wit_conversions!(crate::bindings::wit);

impl wit::Host for PluginState {}

impl host::Host for PluginState {
    fn place_order(&mut self, request: wit::OrderRequest) -> Result<u64, wit::RejectReason> {
        self.owe_orders(1);
        self.owe_text(
            request.market_id.len() + request.customer_ref.as_ref().map_or(0, String::len),
        );
        if !self.take_order_budget() {
            return Err(wit::RejectReason::RateLimited);
        }
        let now = self.host.now();
        self.host
            .services
            .place_order(now, request.into())
            .map(|id| id.0)
            .map_err(Into::into)
    }

    fn cancel_order(&mut self, id: u64) -> Result<(), wit::RejectReason> {
        self.owe_orders(1);
        let now = self.host.now();
        self.host
            .services
            .cancel_order(now, sdk::OrderId(id))
            .map_err(Into::into)
    }

    fn replace_order(&mut self, id: u64, new_price: f64) -> Result<u64, wit::RejectReason> {
        self.owe_orders(1);
        if !self.take_order_budget() {
            return Err(wit::RejectReason::RateLimited);
        }
        let now = self.host.now();
        self.host
            .services
            .replace_order(now, sdk::OrderId(id), sdk::Price(new_price))
            .map(|id| id.0)
            .map_err(Into::into)
    }

    fn open_orders(&mut self, market: String) -> Vec<wit::Order> {
        self.owe_text(market.len());
        let market = sdk::MarketId(market);
        let orders = self.host.services.open_orders(&market);
        // Each order is scanned, converted and copied out with its strings.
        let strings: usize = orders
            .iter()
            .map(|o| {
                o.request.market_id.as_str().len()
                    + o.request.customer_ref.as_ref().map_or(0, String::len)
            })
            .sum();
        self.owe_orders(orders.len());
        self.owe_text(strings);
        orders.iter().map(Into::into).collect()
    }

    fn position(&mut self, market: String) -> Vec<wit::RunnerPosition> {
        self.owe_text(market.len());
        let market = sdk::MarketId(market);
        let positions = self.host.services.position(&market);
        self.owe_orders(positions.len());
        positions.into_iter().map(Into::into).collect()
    }

    fn now(&mut self) -> i64 {
        self.host.clock.millis()
    }

    fn log(&mut self, level: wit::LogLevel, message: String) {
        self.owe_text(message.len());
        let budget = &mut self.host.budget;
        if budget.log_lines == 0 || budget.log_bytes < message.len() {
            self.host.dropped.log_lines += 1;
            return;
        }
        budget.log_lines -= 1;
        budget.log_bytes -= message.len();
        let level = level.into();
        if shown(level)
            && let Some(hidden) = self.host.log_gate.admit(Instant::now())
        {
            if hidden > 0 {
                self.host.log_gate.say_hidden(hidden);
            }
            trace_plugin_log(&self.host.tag, level, &message);
        }
        self.host.services.log(level, &message);
    }

    fn signal(&mut self, signal: wit::SignalEvent) {
        self.owe_text(signal.name.len() + signal.market_id.as_ref().map_or(0, String::len));
        let too_long = signal.name.len() > self.host.limits.signal_name_bytes;
        if self.host.budget.signals == 0 || too_long {
            self.host.dropped.signals += 1;
            return;
        }
        self.host.budget.signals -= 1;
        let now = self.host.now();
        self.host.services.signal(now, signal.into());
    }

    fn prediction(&mut self, model: String, market: String, selection: u64) -> Option<f64> {
        self.owe_text(model.len() + market.len());
        let now = self.host.now();
        (self.host.services).prediction(
            now,
            &model,
            &sdk::MarketId(market),
            sdk::SelectionId(selection),
        )
    }

    fn set_timer(&mut self, after_ms: u64, token: u64) {
        let at = self
            .host
            .now()
            .plus_millis(i64::try_from(after_ms).unwrap_or(i64::MAX));
        self.owe_entries(1);
        // The cap is the sandbox's: a new timer beyond it is refused and
        // counted; moving a pending one is always allowed.
        let services = &mut self.host.services;
        let full = services.pending_timers() >= self.host.limits.pending_timers
            && !services.has_timer(token);
        if full || !services.set_timer(at, token) {
            self.host.dropped.timers += 1;
        }
    }

    fn cancel_timer(&mut self, token: u64) {
        self.owe_entries(1);
        self.host.services.cancel_timer(token);
    }

    fn state_get(&mut self, key: String) -> Option<Vec<u8>> {
        let value = self.host.kv.entries.get(&key).cloned();
        self.owe_bytes(key.len() + value.as_ref().map_or(0, Vec::len));
        value
    }

    fn state_set(&mut self, key: String, value: Vec<u8>) -> bool {
        self.owe_bytes(key.len() + value.len());
        self.owe_entries(1);
        let stored = self.host.kv.set(key, value, &self.host.limits);
        if !stored {
            self.host.dropped.state_writes += 1;
        }
        stored
    }

    fn state_delete(&mut self, key: String) {
        self.owe_text(key.len());
        self.owe_entries(1);
        self.host.kv.delete(&key);
    }

    fn set_interest(&mut self, market: String, interest: wit::MarketInterest) -> bool {
        self.owe_text(market.len());
        self.owe_entries(1);
        let market = sdk::MarketId(market);
        self.host.services.set_interest(&market, interest.into())
    }
}

clever_sdk::__wit_book_conversions!(crate::bindings::book::wit);

impl book::wit::Host for PluginState {}

/// WIT 1.1's order-book imports: the same budgets as the betting ones.
impl book::clever::strategy::book_host::Host for PluginState {
    fn place_book_order(
        &mut self,
        request: book::wit::BookOrderRequest,
    ) -> Result<u64, wit::RejectReason> {
        self.owe_orders(1);
        self.owe_text(
            request.instrument.len() + request.client_ref.as_ref().map_or(0, String::len),
        );
        if !self.take_order_budget() {
            return Err(wit::RejectReason::RateLimited);
        }
        let now = self.host.now();
        (self.host.services)
            .place_book_order(now, request.into())
            .map(|id| id.0)
            .map_err(Into::into)
    }

    fn cancel_book_order(&mut self, id: u64) -> Result<(), wit::RejectReason> {
        self.owe_orders(1);
        let now = self.host.now();
        (self.host.services)
            .cancel_book_order(now, sdk::OrderId(id))
            .map_err(Into::into)
    }

    fn open_book_orders(&mut self, instrument: String) -> Vec<book::wit::BookOrder> {
        self.owe_text(instrument.len());
        let orders = self.host.services.open_book_orders(&instrument);
        let strings: usize = (orders.iter())
            .map(|o| {
                o.request.instrument.len() + o.request.client_ref.as_ref().map_or(0, String::len)
            })
            .sum();
        self.owe_orders(orders.len());
        self.owe_text(strings);
        orders.iter().map(Into::into).collect()
    }

    fn instrument_position(&mut self, instrument: String) -> Option<book::wit::BookPosition> {
        self.owe_text(instrument.len());
        self.owe_orders(1);
        self.host
            .services
            .book_position(&instrument)
            .as_ref()
            .map(Into::into)
    }

    fn instrument_rules(&mut self, instrument: String) -> Option<book::wit::InstrumentInfo> {
        self.owe_text(instrument.len());
        self.host
            .services
            .instrument_info(&instrument)
            .as_ref()
            .map(Into::into)
    }
}

impl PluginState {
    fn owe_bytes(&mut self, bytes: usize) {
        self.host.debt = self.host.debt.saturating_add(rates::bytes(bytes));
    }

    fn owe_text(&mut self, bytes: usize) {
        self.host.debt = self.host.debt.saturating_add(rates::text(bytes));
    }

    fn owe_orders(&mut self, n: usize) {
        self.host.debt = self.host.debt.saturating_add(rates::orders(n));
    }

    fn owe_entries(&mut self, n: usize) {
        self.host.debt = self.host.debt.saturating_add(rates::entries(n));
    }

    fn take_order_budget(&mut self) -> bool {
        if self.host.budget.orders == 0 {
            self.host.dropped.orders += 1;
            return false;
        }
        self.host.budget.orders -= 1;
        true
    }
}

/// Whether the host's log filter would print a plugin line at `level`:
/// lines it drops anyway do not use up the rate of those it prints.
fn shown(level: sdk::LogLevel) -> bool {
    match level {
        sdk::LogLevel::Trace => tracing::enabled!(target: "plugin", tracing::Level::TRACE),
        sdk::LogLevel::Debug => tracing::enabled!(target: "plugin", tracing::Level::DEBUG),
        sdk::LogLevel::Info => tracing::enabled!(target: "plugin", tracing::Level::INFO),
        sdk::LogLevel::Warn => tracing::enabled!(target: "plugin", tracing::Level::WARN),
        sdk::LogLevel::Error => tracing::enabled!(target: "plugin", tracing::Level::ERROR),
    }
}

/// A plugin's log line as an event at its own level, under the target
/// `plugin`: a host's log filter (`CLEVER_LOG`) shows or hides it like any
/// other, and by default a warning or error is shown.
fn trace_plugin_log(tag: &str, level: sdk::LogLevel, message: &str) {
    let message = super::parameters::printable(message);
    match level {
        sdk::LogLevel::Trace => tracing::trace!(target: "plugin", plugin = %tag, "{message}"),
        sdk::LogLevel::Debug => tracing::debug!(target: "plugin", plugin = %tag, "{message}"),
        sdk::LogLevel::Info => tracing::info!(target: "plugin", plugin = %tag, "{message}"),
        sdk::LogLevel::Warn => tracing::warn!(target: "plugin", plugin = %tag, "{message}"),
        sdk::LogLevel::Error => tracing::error!(target: "plugin", plugin = %tag, "{message}"),
    }
}

//! The WIT imports (`clever:strategy/host`) as the plugin calls them:
//! per-call budgets are enforced here, then the call goes to the engine's
//! [`HostServices`](super::HostServices) in clever-sdk's types.

use clever_sdk as sdk;

use super::bindings::clever::strategy::host;
use super::bindings::wit;
use super::sandbox::PluginState;

clever_sdk::__wit_conversions!(crate::runtime::bindings::wit);

impl wit::Host for PluginState {}

impl host::Host for PluginState {
    fn place_order(&mut self, request: wit::OrderRequest) -> Result<u64, wit::RejectReason> {
        if !self.take_order_budget() {
            return Err(wit::RejectReason::RateLimited);
        }
        self.host
            .services
            .place_order(request.into())
            .map(|id| id.0)
            .map_err(Into::into)
    }

    fn cancel_order(&mut self, id: u64) -> Result<(), wit::RejectReason> {
        self.host
            .services
            .cancel_order(sdk::OrderId(id))
            .map_err(Into::into)
    }

    fn replace_order(&mut self, id: u64, new_price: f64) -> Result<u64, wit::RejectReason> {
        if !self.take_order_budget() {
            return Err(wit::RejectReason::RateLimited);
        }
        self.host
            .services
            .replace_order(sdk::OrderId(id), sdk::Price(new_price))
            .map(|id| id.0)
            .map_err(Into::into)
    }

    fn open_orders(&mut self, market: String) -> Vec<wit::Order> {
        let market = sdk::MarketId(market);
        self.host
            .services
            .open_orders(&market)
            .iter()
            .map(Into::into)
            .collect()
    }

    fn position(&mut self, market: String) -> Vec<wit::RunnerPosition> {
        let market = sdk::MarketId(market);
        self.host
            .services
            .position(&market)
            .into_iter()
            .map(Into::into)
            .collect()
    }

    fn now(&mut self) -> i64 {
        self.host.services.now().0
    }

    fn log(&mut self, level: wit::LogLevel, message: String) {
        let budget = &mut self.host.budget;
        if budget.log_lines == 0 || budget.log_bytes < message.len() {
            self.host.dropped.log_lines += 1;
            return;
        }
        budget.log_lines -= 1;
        budget.log_bytes -= message.len();
        self.host.services.log(level.into(), &message);
    }

    fn signal(&mut self, signal: wit::SignalEvent) {
        if self.host.budget.signals == 0 {
            self.host.dropped.signals += 1;
            return;
        }
        self.host.budget.signals -= 1;
        self.host.services.signal(signal.into());
    }

    fn prediction(&mut self, model: String, market: String, selection: u64) -> Option<f64> {
        self.host
            .services
            .prediction(&model, &sdk::MarketId(market), sdk::SelectionId(selection))
    }

    fn set_timer(&mut self, after_ms: u64, token: u64) {
        let at = self
            .host
            .services
            .now()
            .plus_millis(i64::try_from(after_ms).unwrap_or(i64::MAX));
        self.host.services.set_timer(at, token);
    }

    fn cancel_timer(&mut self, token: u64) {
        self.host.services.cancel_timer(token);
    }

    fn state_get(&mut self, key: String) -> Option<Vec<u8>> {
        self.host.kv.entries.get(&key).cloned()
    }

    fn state_set(&mut self, key: String, value: Vec<u8>) -> bool {
        let kv = &mut self.host.kv;
        let old = kv.entries.get(&key).map_or(0, |v| key.len() + v.len());
        let new_total = kv.bytes - old + key.len() + value.len();
        if new_total > self.host.limits.state_bytes {
            self.host.dropped.state_writes += 1;
            return false;
        }
        kv.bytes = new_total;
        kv.entries.insert(key, value);
        true
    }

    fn state_delete(&mut self, key: String) {
        let kv = &mut self.host.kv;
        if let Some(v) = kv.entries.remove(&key) {
            kv.bytes -= key.len() + v.len();
        }
    }
}

impl PluginState {
    fn take_order_budget(&mut self) -> bool {
        if self.host.budget.orders == 0 {
            self.host.dropped.orders += 1;
            return false;
        }
        self.host.budget.orders -= 1;
        true
    }
}

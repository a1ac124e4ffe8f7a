//! The WIT imports (`clever:strategy/host`) as the plugin calls them:
//! per-call budgets are enforced here, then the call goes to the engine's
//! [`HostServices`](super::HostServices) in clever-sdk's types.

use clever_sdk as sdk;

use super::bindings::clever::strategy::host;
use super::bindings::wit;
use super::sandbox::PluginState;

impl wit::Host for PluginState {}

impl host::Host for PluginState {
    fn place_order(&mut self, request: wit::OrderRequest) -> Result<u64, wit::RejectReason> {
        if !self.take_order_budget() {
            return Err(wit::RejectReason::RateLimited);
        }
        let request = from_wit_request(request);
        self.host
            .services
            .place_order(request)
            .map(|id| id.0)
            .map_err(to_wit_reject)
    }

    fn cancel_order(&mut self, id: u64) -> Result<(), wit::RejectReason> {
        self.host
            .services
            .cancel_order(sdk::OrderId(id))
            .map_err(to_wit_reject)
    }

    fn replace_order(&mut self, id: u64, new_price: f64) -> Result<u64, wit::RejectReason> {
        if !self.take_order_budget() {
            return Err(wit::RejectReason::RateLimited);
        }
        self.host
            .services
            .replace_order(sdk::OrderId(id), sdk::Price(new_price))
            .map(|id| id.0)
            .map_err(to_wit_reject)
    }

    fn open_orders(&mut self, market: String) -> Vec<wit::Order> {
        let market = sdk::MarketId(market);
        self.host
            .services
            .open_orders(&market)
            .iter()
            .map(to_wit_order)
            .collect()
    }

    fn position(&mut self, market: String) -> Vec<wit::RunnerPosition> {
        let market = sdk::MarketId(market);
        self.host
            .services
            .position(&market)
            .into_iter()
            .map(|p| wit::RunnerPosition {
                selection_id: p.selection_id.0,
                back_matched: p.back_matched,
                lay_matched: p.lay_matched,
                if_win: p.if_win,
                if_lose: p.if_lose,
            })
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
        let level = match level {
            wit::LogLevel::Trace => sdk::LogLevel::Trace,
            wit::LogLevel::Debug => sdk::LogLevel::Debug,
            wit::LogLevel::Info => sdk::LogLevel::Info,
            wit::LogLevel::Warn => sdk::LogLevel::Warn,
            wit::LogLevel::Error => sdk::LogLevel::Error,
        };
        self.host.services.log(level, &message);
    }

    fn signal(&mut self, signal: wit::SignalEvent) {
        if self.host.budget.signals == 0 {
            self.host.dropped.signals += 1;
            return;
        }
        self.host.budget.signals -= 1;
        self.host.services.signal(sdk::Signal {
            name: signal.name,
            value: signal.value,
            market_id: signal.market_id.map(sdk::MarketId),
            selection_id: signal.selection_id.map(sdk::SelectionId),
        });
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

fn from_wit_request(r: wit::OrderRequest) -> sdk::OrderRequest {
    sdk::OrderRequest {
        market_id: sdk::MarketId(r.market_id),
        selection_id: sdk::SelectionId(r.selection_id),
        side: match r.side {
            wit::Side::Back => sdk::Side::Back,
            wit::Side::Lay => sdk::Side::Lay,
        },
        order_type: match r.order_type {
            wit::OrderType::Limit => sdk::OrderType::Limit,
            wit::OrderType::LimitOnClose => sdk::OrderType::LimitOnClose,
            wit::OrderType::MarketOnClose => sdk::OrderType::MarketOnClose,
        },
        price: sdk::Price(r.price),
        size: r.size,
        persistence: match r.persistence {
            wit::Persistence::Lapse => sdk::Persistence::Lapse,
            wit::Persistence::Persist => sdk::Persistence::Persist,
            wit::Persistence::MarketOnClose => sdk::Persistence::MarketOnClose,
        },
        customer_ref: r.customer_ref,
    }
}

fn to_wit_request(r: &sdk::OrderRequest) -> wit::OrderRequest {
    wit::OrderRequest {
        market_id: r.market_id.0.clone(),
        selection_id: r.selection_id.0,
        side: match r.side {
            sdk::Side::Back => wit::Side::Back,
            sdk::Side::Lay => wit::Side::Lay,
        },
        order_type: match r.order_type {
            sdk::OrderType::Limit => wit::OrderType::Limit,
            sdk::OrderType::LimitOnClose => wit::OrderType::LimitOnClose,
            sdk::OrderType::MarketOnClose => wit::OrderType::MarketOnClose,
        },
        price: r.price.0,
        size: r.size,
        persistence: match r.persistence {
            sdk::Persistence::Lapse => wit::Persistence::Lapse,
            sdk::Persistence::Persist => wit::Persistence::Persist,
            sdk::Persistence::MarketOnClose => wit::Persistence::MarketOnClose,
        },
        customer_ref: r.customer_ref.clone(),
    }
}

pub(crate) fn to_wit_reject(r: sdk::RejectReason) -> wit::RejectReason {
    use sdk::RiskLimit as L;
    match r {
        sdk::RejectReason::RiskLimit(limit) => wit::RejectReason::RiskLimit(match limit {
            L::MaxStake => wit::RiskLimit::MaxStake,
            L::MaxSelectionLiability => wit::RiskLimit::MaxSelectionLiability,
            L::MaxMarketLiability => wit::RiskLimit::MaxMarketLiability,
            L::MaxOpenOrders => wit::RiskLimit::MaxOpenOrders,
            L::MaxOrdersPerHour => wit::RiskLimit::MaxOrdersPerHour,
            L::DailyLoss => wit::RiskLimit::DailyLoss,
            L::KillSwitch => wit::RiskLimit::KillSwitch,
        }),
        sdk::RejectReason::InvalidPrice => wit::RejectReason::InvalidPrice,
        sdk::RejectReason::InvalidSize => wit::RejectReason::InvalidSize,
        sdk::RejectReason::MarketNotOpen => wit::RejectReason::MarketNotOpen,
        sdk::RejectReason::UnknownMarket => wit::RejectReason::UnknownMarket,
        sdk::RejectReason::UnknownSelection => wit::RejectReason::UnknownSelection,
        sdk::RejectReason::UnknownOrder => wit::RejectReason::UnknownOrder,
        sdk::RejectReason::RateLimited => wit::RejectReason::RateLimited,
        sdk::RejectReason::VenueError(code) => wit::RejectReason::VenueError(code),
    }
}

pub(crate) fn to_wit_order(o: &sdk::Order) -> wit::Order {
    wit::Order {
        id: o.id.0,
        request: to_wit_request(&o.request),
        status: match o.status {
            sdk::OrderStatus::Pending => wit::OrderStatus::Pending,
            sdk::OrderStatus::Executable => wit::OrderStatus::Executable,
            sdk::OrderStatus::ExecutionComplete => wit::OrderStatus::ExecutionComplete,
            sdk::OrderStatus::Rejected => wit::OrderStatus::Rejected,
        },
        size_matched: o.size_matched,
        average_price_matched: o.average_price_matched,
        size_cancelled: o.size_cancelled,
        size_lapsed: o.size_lapsed,
        placed_at: o.placed_at.0,
        rejection: o.rejection.clone().map(to_wit_reject),
    }
}

pub(crate) fn to_wit_market(m: &sdk::Market) -> wit::Market {
    let levels = |l: &sdk::Levels| {
        l.as_slice()
            .iter()
            .map(|p| wit::PriceSize {
                price: p.price.0,
                size: p.size,
            })
            .collect()
    };
    wit::Market {
        id: m.id.0.clone(),
        venue: m.venue.clone(),
        event_type: m.event_type.clone(),
        market_type: m.market_type.clone(),
        country: m.country.clone(),
        start_time: m.start_time.0,
        status: match m.status {
            sdk::MarketStatus::Inactive => wit::MarketStatus::Inactive,
            sdk::MarketStatus::Open => wit::MarketStatus::Open,
            sdk::MarketStatus::Suspended => wit::MarketStatus::Suspended,
            sdk::MarketStatus::Closed => wit::MarketStatus::Closed,
        },
        in_play: m.in_play,
        bet_delay: m.bet_delay,
        number_of_winners: m.number_of_winners,
        total_matched: m.total_matched,
        runners: m
            .runners
            .iter()
            .map(|r| wit::Runner {
                selection_id: r.selection_id.0,
                status: match r.status {
                    sdk::RunnerStatus::Active => wit::RunnerStatus::Active,
                    sdk::RunnerStatus::Winner => wit::RunnerStatus::Winner,
                    sdk::RunnerStatus::Loser => wit::RunnerStatus::Loser,
                    sdk::RunnerStatus::Placed => wit::RunnerStatus::Placed,
                    sdk::RunnerStatus::Removed => wit::RunnerStatus::Removed,
                    sdk::RunnerStatus::Hidden => wit::RunnerStatus::Hidden,
                },
                adjustment_factor: r.adjustment_factor,
                last_traded: r.last_traded.map(|p| p.0),
                traded_volume: r.traded_volume,
                back: levels(&r.back),
                lay: levels(&r.lay),
                sp_near: r.sp_near,
                sp_far: r.sp_far,
                bsp: r.bsp,
            })
            .collect(),
    }
}

pub(crate) fn from_wit_descriptor(d: wit::Descriptor) -> sdk::Descriptor {
    let f = d.markets;
    sdk::Descriptor {
        name: d.name,
        version: d.version,
        sdk_version: d.sdk_version,
        markets: sdk::MarketFilter {
            venues: f.venues,
            event_types: f.event_types,
            market_types: f.market_types,
            countries: f.countries,
            window: f.window.map(|w| sdk::Window {
                opens: w.opens,
                closes: w.closes,
            }),
            in_play: f.in_play,
        },
    }
}

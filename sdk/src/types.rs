//! The vocabulary shared by strategies and the host: ids, sides, orders,
//! rejections, signals and market filters. These mirror `wit/strategy.wit`;
//! the SDK converts at the Wasm border so authors never see generated code.

use crate::ladder::Price;

/// Milliseconds since the Unix epoch (UTC) on the host's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Milliseconds since the epoch.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// This time plus `ms` milliseconds.
    pub fn plus_millis(self, ms: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(ms))
    }
}

/// The venue's market identifier, e.g. Betfair's `1.206064380`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MarketId(pub String);

impl MarketId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for MarketId {
    fn from(s: &str) -> Self {
        MarketId(s.to_owned())
    }
}

impl std::fmt::Display for MarketId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The venue's runner identifier within a market (Betfair selection id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SelectionId(pub u64);

/// An order id assigned by the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct OrderId(pub u64);

/// Back (bet for) or lay (bet against).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// Wins if the runner wins.
    Back,
    /// Wins if the runner loses; the order's size is the backer's stake.
    Lay,
}

/// Where a market is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MarketStatus {
    /// Not yet open.
    #[default]
    Inactive,
    /// Open for orders.
    Open,
    /// Temporarily closed to orders.
    Suspended,
    /// Finished.
    Closed,
}

/// A runner's standing in its market.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RunnerStatus {
    /// Running.
    #[default]
    Active,
    /// Settled as winner.
    Winner,
    /// Settled as loser.
    Loser,
    /// Settled as placed.
    Placed,
    /// Withdrawn (non-runner).
    Removed,
    /// Hidden by the venue.
    Hidden,
}

/// How an order is priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OrderType {
    /// A limit order at its price.
    #[default]
    Limit,
    /// Starting Price, with the price as a limit.
    LimitOnClose,
    /// Starting Price, whatever it is.
    MarketOnClose,
}

/// What happens to the unmatched part of an order at the off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Persistence {
    /// Lapsed at the off or on suspension.
    #[default]
    Lapse,
    /// Kept in play.
    Persist,
    /// Converted to a Starting Price bet at the off.
    MarketOnClose,
}

/// An order a strategy asks the host to place.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderRequest {
    /// The market.
    pub market_id: MarketId,
    /// The runner.
    pub selection_id: SelectionId,
    /// Back or lay.
    pub side: Side,
    /// How it is priced.
    pub order_type: OrderType,
    /// Limit price (ignored for market-on-close).
    pub price: Price,
    /// Stake; for a lay, the backer's stake.
    pub size: f64,
    /// What happens at the off.
    pub persistence: Persistence,
    /// The strategy's own reference.
    pub customer_ref: Option<String>,
}

impl OrderRequest {
    /// A lapsing limit order.
    pub fn limit(
        market_id: MarketId,
        selection_id: SelectionId,
        side: Side,
        price: Price,
        size: f64,
    ) -> Self {
        OrderRequest {
            market_id,
            selection_id,
            side,
            order_type: OrderType::Limit,
            price,
            size,
            persistence: Persistence::Lapse,
            customer_ref: None,
        }
    }

    /// The same order with another persistence.
    pub fn with_persistence(mut self, persistence: Persistence) -> Self {
        self.persistence = persistence;
        self
    }

    /// The same order with a customer reference.
    pub fn with_customer_ref(mut self, reference: impl Into<String>) -> Self {
        self.customer_ref = Some(reference.into());
        self
    }
}

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OrderStatus {
    /// Accepted, on its way to the venue.
    #[default]
    Pending,
    /// At the venue with an unmatched remainder.
    Executable,
    /// Nothing left unmatched.
    ExecutionComplete,
    /// Refused.
    Rejected,
}

impl OrderStatus {
    /// Still open: on its way to the venue or resting there, so it may
    /// yet be matched, and counts against the open-order limit.
    pub fn is_open(self) -> bool {
        matches!(self, OrderStatus::Pending | OrderStatus::Executable)
    }
}

/// A risk limit the host enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RiskLimit {
    /// Stake per order (an order-book order: its value).
    MaxStake,
    /// Worst-case liability on one runner.
    MaxSelectionLiability,
    /// Worst-case liability on one market (an order-book instrument: the
    /// value of its position with the resting orders on the new one's side).
    MaxMarketLiability,
    /// Open orders.
    MaxOpenOrders,
    /// Orders in the last hour.
    MaxOrdersPerHour,
    /// The day's loss.
    DailyLoss,
    /// The operator's kill switch.
    KillSwitch,
}

/// Why an order, cancel or replace was refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// A risk limit would be broken.
    RiskLimit(RiskLimit),
    /// The price is not on the ladder or out of range.
    InvalidPrice,
    /// The stake is not legal.
    InvalidSize,
    /// The market is not open.
    MarketNotOpen,
    /// No such market (or not subscribed).
    UnknownMarket,
    /// No such runner, or it was removed.
    UnknownSelection,
    /// No such open order.
    UnknownOrder,
    /// Over the sandbox's per-call order budget.
    RateLimited,
    /// The venue's own error code.
    VenueError(String),
}

impl RejectReason {
    /// A short stable name for reports, e.g. `invalid-price` or `risk-limit:max-stake`.
    pub fn code(&self) -> String {
        match self {
            RejectReason::RiskLimit(limit) => format!("risk-limit:{}", limit.code()),
            RejectReason::InvalidPrice => "invalid-price".into(),
            RejectReason::InvalidSize => "invalid-size".into(),
            RejectReason::MarketNotOpen => "market-not-open".into(),
            RejectReason::UnknownMarket => "unknown-market".into(),
            RejectReason::UnknownSelection => "unknown-selection".into(),
            RejectReason::UnknownOrder => "unknown-order".into(),
            RejectReason::RateLimited => "rate-limited".into(),
            RejectReason::VenueError(code) => format!("venue-error:{code}"),
        }
    }
}

impl RiskLimit {
    /// A short stable name, e.g. `max-stake`.
    pub fn code(self) -> &'static str {
        match self {
            RiskLimit::MaxStake => "max-stake",
            RiskLimit::MaxSelectionLiability => "max-selection-liability",
            RiskLimit::MaxMarketLiability => "max-market-liability",
            RiskLimit::MaxOpenOrders => "max-open-orders",
            RiskLimit::MaxOrdersPerHour => "max-orders-per-hour",
            RiskLimit::DailyLoss => "daily-loss",
            RiskLimit::KillSwitch => "kill-switch",
        }
    }
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.code())
    }
}

/// One of the strategy's orders as the host knows it now.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// Host-assigned id.
    pub id: OrderId,
    /// What was asked for.
    pub request: OrderRequest,
    /// Where it is in its life.
    pub status: OrderStatus,
    /// Stake matched so far.
    pub size_matched: f64,
    /// Average matched price, if anything matched.
    pub average_price_matched: Option<f64>,
    /// Stake cancelled on request.
    pub size_cancelled: f64,
    /// Stake lapsed by the venue.
    pub size_lapsed: f64,
    /// When the host accepted it.
    pub placed_at: Timestamp,
    /// Why it was refused, if it was.
    pub rejection: Option<RejectReason>,
}

impl Order {
    /// A new order `id` for `request`, accepted at `placed_at`, nothing
    /// matched yet.
    pub fn pending(id: OrderId, request: OrderRequest, placed_at: Timestamp) -> Order {
        Order {
            id,
            request,
            status: OrderStatus::Pending,
            size_matched: 0.0,
            average_price_matched: None,
            size_cancelled: 0.0,
            size_lapsed: 0.0,
            placed_at,
            rejection: None,
        }
    }

    /// Stake neither matched, cancelled nor lapsed.
    pub fn size_remaining(&self) -> f64 {
        if self.status == OrderStatus::Rejected {
            return 0.0;
        }
        (self.request.size - self.size_matched - self.size_cancelled - self.size_lapsed).max(0.0)
    }

    /// True while part of it can still match.
    pub fn is_open(&self) -> bool {
        matches!(self.status, OrderStatus::Pending | OrderStatus::Executable)
    }
}

/// The strategy's matched exposure on one runner.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RunnerPosition {
    /// The runner.
    pub selection_id: SelectionId,
    /// Back stake matched.
    pub back_matched: f64,
    /// Lay (backer's) stake matched.
    pub lay_matched: f64,
    /// Net market profit if this runner wins.
    pub if_win: f64,
    /// Net market profit if this runner loses.
    pub if_lose: f64,
}

/// How much more of one market a strategy wants (WIT 1.2, see
/// [`Context::set_interest`](crate::Context::set_interest)). Every market
/// starts at [`MarketInterest::EveryUpdate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MarketInterest {
    /// Every update the strategy's filter lets through.
    #[default]
    EveryUpdate,
    /// Nothing until the market is in play; then every update, the first
    /// a full image of the market.
    InPlay,
    /// No more updates; order changes and `on_market_closed` still come.
    NothingMore,
}

impl MarketInterest {
    /// Whether a strategy with this interest wants an update of a market
    /// that is (or is not) in play. The first update in play turns
    /// [`MarketInterest::InPlay`] into [`MarketInterest::EveryUpdate`], so
    /// the strategy gets every update from then on, whatever the flag says
    /// later. The host and both harnesses decide by this.
    pub fn wants_update(&mut self, in_play: bool) -> bool {
        match self {
            MarketInterest::EveryUpdate => true,
            MarketInterest::InPlay if in_play => {
                *self = MarketInterest::EveryUpdate;
                true
            }
            MarketInterest::InPlay | MarketInterest::NothingMore => false,
        }
    }
}

/// Severity of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Very detailed.
    Trace,
    /// Diagnostic.
    Debug,
    /// Normal.
    Info,
    /// Something looks wrong.
    Warn,
    /// Something is wrong.
    Error,
}

/// An alert or metric for the host to store and forward.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    /// Short machine-readable name.
    pub name: String,
    /// Its value.
    pub value: f64,
    /// The market it concerns.
    pub market_id: Option<MarketId>,
    /// The runner it concerns.
    pub selection_id: Option<SelectionId>,
}

impl Signal {
    /// A signal with a name and value, about nothing in particular.
    pub fn new(name: impl Into<String>, value: f64) -> Self {
        Signal {
            name: name.into(),
            value,
            market_id: None,
            selection_id: None,
        }
    }
}

/// A window relative to the scheduled off, in seconds (negative: before).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Window {
    /// When updates start.
    pub opens: i64,
    /// When updates stop.
    pub closes: i64,
}

/// Which markets a strategy wants routed to it. Empty lists mean "any".
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MarketFilter {
    /// Venues, e.g. `betfair`.
    pub venues: Vec<String>,
    /// Event type ids (`7` horses, `4339` greyhounds).
    pub event_types: Vec<String>,
    /// Market types (`WIN`, `PLACE`).
    pub market_types: Vec<String>,
    /// Country codes.
    pub countries: Vec<String>,
    /// Time window around the off; `None` for the whole market.
    pub window: Option<Window>,
    /// Whether in-play updates are wanted.
    pub in_play: bool,
}

impl Default for MarketFilter {
    /// Every market, pre-off and in play.
    fn default() -> Self {
        MarketFilter {
            venues: Vec::new(),
            event_types: Vec::new(),
            market_types: Vec::new(),
            countries: Vec::new(),
            window: None,
            in_play: true,
        }
    }
}

impl MarketFilter {
    /// Only these event types.
    pub fn event_types(mut self, types: &[&str]) -> Self {
        self.event_types = types.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Only these market types.
    pub fn market_types(mut self, types: &[&str]) -> Self {
        self.market_types = types.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Only these countries.
    pub fn countries(mut self, countries: &[&str]) -> Self {
        self.countries = countries.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Only within this window around the off.
    pub fn window(mut self, opens: i64, closes: i64) -> Self {
        self.window = Some(Window { opens, closes });
        self
    }

    /// Pre-off updates only.
    pub fn pre_off_only(mut self) -> Self {
        self.in_play = false;
        self
    }

    /// Whether an update of `market` published at `now` is one this filter
    /// wants: every non-empty list must name the market's value, `now` must
    /// lie in the window around the scheduled off, and in-play updates only
    /// if asked for. The engine routes by this; nothing else decides.
    pub fn wants(&self, market: &crate::Market, now: Timestamp) -> bool {
        let listed =
            |list: &[String], value: &str| list.is_empty() || list.iter().any(|v| v == value);
        let country = market.country.as_deref().unwrap_or("");
        let in_window = self.window.is_none_or(|w| {
            let from_off = now.0.saturating_sub(market.start_time.0);
            from_off >= w.opens.saturating_mul(1000) && from_off <= w.closes.saturating_mul(1000)
        });
        listed(&self.venues, &market.venue)
            && listed(&self.event_types, &market.event_type)
            && listed(&self.market_types, &market.market_type)
            && listed(&self.countries, country)
            && in_window
            && (self.in_play || !market.in_play)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Market;

    #[test]
    fn interest_in_play_latches_at_the_first_update_in_play() {
        let mut every = MarketInterest::EveryUpdate;
        assert!(every.wants_update(false) && every.wants_update(true));
        let mut done = MarketInterest::NothingMore;
        assert!(!done.wants_update(false) && !done.wants_update(true));
        let mut in_play = MarketInterest::InPlay;
        assert!(!in_play.wants_update(false));
        assert_eq!(in_play, MarketInterest::InPlay);
        assert!(in_play.wants_update(true));
        assert!(in_play.wants_update(false), "every update once in play");
        assert_eq!(in_play, MarketInterest::EveryUpdate);
    }

    #[test]
    fn filters_route_by_lists_window_and_in_play() {
        let mut m = Market::new("1.1");
        m.country = Some("GB".into());
        m.start_time = Timestamp(1_000_000);
        let at = |secs: i64| Timestamp(1_000_000 + secs * 1000);
        assert!(MarketFilter::default().wants(&m, at(0)));
        let horses_gb = MarketFilter::default()
            .event_types(&["7"])
            .countries(&["GB", "IE"]);
        assert!(horses_gb.wants(&m, at(0)));
        assert!(
            !MarketFilter::default()
                .event_types(&["4339"])
                .wants(&m, at(0))
        );
        assert!(
            !MarketFilter::default()
                .market_types(&["PLACE"])
                .wants(&m, at(0))
        );
        assert!(!MarketFilter::default().countries(&["AU"]).wants(&m, at(0)));
        let last_ten_minutes = MarketFilter::default().window(-600, 0);
        assert!(!last_ten_minutes.wants(&m, at(-601)));
        assert!(last_ten_minutes.wants(&m, at(-600)));
        assert!(last_ten_minutes.wants(&m, at(0)));
        assert!(!last_ten_minutes.wants(&m, at(1)));
        m.in_play = true;
        assert!(!MarketFilter::default().pre_off_only().wants(&m, at(5)));
        assert!(MarketFilter::default().wants(&m, at(5)));
    }
}

/// Who a plugin is and what it wants. (Serializable, so a host can keep
/// what a component declared beside its compiled code.)
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Descriptor {
    /// The strategy's name.
    pub name: String,
    /// Its semver version.
    pub version: String,
    /// The clever-sdk version it was built with.
    pub sdk_version: String,
    /// The markets it wants.
    pub markets: MarketFilter,
}

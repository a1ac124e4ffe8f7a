//! The account's orders at the exchange: placed, cancelled and replaced
//! through the Betting API, matched against the replayed markets by the
//! simulated exchange (`clever_sim::SimVenue`, the same rules as every
//! backtest: latency, bet delay, queue position, lapses, non-runners,
//! settlement), and kept with the tick of their last change for the order
//! stream. Betfair's checks come first and answer with Betfair's codes
//! (venue-protocols B.3, B.4, B.7).

use std::collections::{BTreeMap, HashSet, VecDeque};

use clever_betfair::{Message, StreamCache};
use clever_engine::{MarketState, OrderChange, Venue};
use clever_market::SettledOrder;
use clever_risk::{RiskBook, RiskLimits};
use clever_sdk::rules::validate_price_and_size;
use clever_sdk::{
    MarketId, MarketStatus, Order, OrderId, OrderRequest, OrderStatus, OrderType, Persistence,
    Price, RejectReason, RunnerStatus, SelectionId, Side, Timestamp,
};
use clever_sim::{SimConfig, SimVenue};

/// How long a `customerRef` keeps a placement from being repeated (B.3).
pub const DUPLICATE_WINDOW_MS: i64 = 60_000;
/// Instructions one request may carry (B.7).
pub const MAX_PLACE: usize = 200;
/// Cancel and replace instructions one request may carry.
pub const MAX_CANCEL: usize = 60;

/// One order a client asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// The runner.
    pub selection_id: u64,
    /// Handicap (0 on odds markets).
    pub handicap: f64,
    /// Back or lay.
    pub side: Side,
    /// Limit price.
    pub price: f64,
    /// Stake (the backer's, for a lay).
    pub size: f64,
    /// What happens at the off.
    pub persistence: Persistence,
    /// The client's reference for the order (`rfo`).
    pub customer_order_ref: Option<String>,
}

/// Why a whole request was refused, in Betfair's report-level codes, and
/// each instruction's own code where it had one.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    /// The `errorCode` of the report.
    pub code: &'static str,
    /// Per instruction: its `errorCode`, if it was at fault.
    pub instructions: Vec<Option<&'static str>>,
}

impl Refused {
    fn whole(code: &'static str, count: usize) -> Refused {
        Refused {
            code,
            instructions: vec![None; count],
        }
    }
}

/// What the exchange keeps of an order besides the simulated exchange's
/// own record.
#[derive(Debug, Clone)]
pub struct Booked {
    /// The order as last changed.
    pub order: Order,
    /// Handicap of the runner.
    pub handicap: f64,
    /// The strategy reference it was placed with (`rfs`).
    pub strategy_ref: Option<String>,
    /// Tick of its last change (for the order stream).
    pub tick: u64,
    /// When it last matched.
    pub matched_at: Option<i64>,
    /// Once its market settled: its profit, stake voided and when.
    pub settled: Option<(f64, f64, i64)>,
}

/// The account's side of the exchange.
#[derive(Debug)]
pub struct Orders {
    venue: SimVenue,
    /// Wide open: it only turns requests into the `Approved` orders the
    /// venue takes; Betfair's own checks are done here first.
    risk: RiskBook,
    cache: StreamCache,
    closed: HashSet<String>,
    next_bet: u64,
    /// Every order placed, by bet id.
    pub booked: BTreeMap<OrderId, Booked>,
    /// `customerRef`s of the last minute, oldest first.
    recent_refs: VecDeque<(i64, String)>,
    /// Advances with every batch of order changes.
    pub tick: u64,
    changes: Vec<OrderChange>,
}

impl Orders {
    /// An account whose orders match with `config`.
    pub fn new(config: SimConfig) -> Orders {
        // Far beyond any stake, and still exact as money.
        let unlimited = 1e12;
        let open = RiskLimits {
            max_stake: unlimited,
            max_selection_liability: unlimited,
            max_market_liability: unlimited,
            max_open_orders: usize::MAX,
            max_orders_per_hour: usize::MAX,
            daily_loss_limit: unlimited,
            max_order_notional: unlimited,
            max_position_notional: unlimited,
        };
        Orders {
            venue: SimVenue::new(config),
            risk: RiskBook::new(open),
            cache: StreamCache::new(),
            closed: HashSet::new(),
            next_bet: 100_000_000_001,
            booked: BTreeMap::new(),
            recent_refs: VecDeque::new(),
            tick: 0,
            changes: Vec::new(),
        }
    }

    /// The replay published `message`: move the market, match, lapse,
    /// settle. True if any order changed.
    pub fn on_message(&mut self, message: &Message) -> bool {
        let now = Timestamp(message.pt);
        let mut results = Vec::new();
        for change in &message.mc {
            if self.closed.contains(&change.id) {
                continue;
            }
            if let Some(market) = self.cache.get(&change.id) {
                self.venue
                    .before_update(now, &market.book, &mut self.changes);
            }
            let book = &self.cache.apply(message.pt, change).book;
            self.venue.on_market(now, book, &mut self.changes);
            if book.view.status == MarketStatus::Closed {
                results.push(self.venue.settle(book, &mut self.changes));
                // `closed` answers for it from now on: memory stays bounded.
                self.cache.remove(&change.id);
                self.closed.insert(change.id.clone());
            }
        }
        let changed = !self.changes.is_empty() || !results.is_empty();
        if changed {
            self.tick += 1;
        }
        // Drained through a taken buffer (record needs `self`), kept for reuse.
        let mut changes = std::mem::take(&mut self.changes);
        for change in changes.drain(..) {
            self.record(&change.order, message.pt);
        }
        self.changes = changes;
        for result in results {
            for settled in &result.settled {
                self.settle(settled, message.pt);
            }
        }
        changed
    }

    fn record(&mut self, order: &Order, now: i64) {
        let tick = self.tick;
        if let Some(booked) = self.booked.get_mut(&order.id) {
            if order.size_matched > booked.order.size_matched {
                booked.matched_at = Some(now);
            }
            booked.order = order.clone();
            booked.tick = tick;
        }
    }

    fn settle(&mut self, settled: &SettledOrder, now: i64) {
        let tick = self.tick;
        if let Some(booked) = self.booked.get_mut(&settled.order.id) {
            booked.order = settled.order.clone();
            let voided = (settled.order.size_matched - settled.matched.to_f64()).max(0.0);
            booked.settled = Some((settled.profit.to_f64(), voided, now));
            booked.tick = tick;
        }
    }

    /// The market as the exchange has it now, for a placement.
    fn state(&self, market: &str) -> Result<MarketState, &'static str> {
        if self.closed.contains(market) {
            return Err("MARKET_NOT_OPEN_FOR_BETTING");
        }
        let book = &self.cache.get(market).ok_or("INVALID_MARKET_ID")?.book;
        match book.view.status {
            MarketStatus::Open => Ok(MarketState::of(book)),
            MarketStatus::Suspended => Err("MARKET_SUSPENDED"),
            _ => Err("MARKET_NOT_OPEN_FOR_BETTING"),
        }
    }

    /// Place `placements` in `market` at `now`, all or none (B.3). With
    /// a `market_version` older than the market's, every bet is placed
    /// lapsed (B.3's `marketVersion`).
    pub fn place(
        &mut self,
        market: &str,
        placements: &[Placement],
        (strategy_ref, customer_ref): (Option<&str>, Option<&str>),
        market_version: Option<u64>,
        now: i64,
    ) -> Result<Vec<Order>, Refused> {
        let count = placements.len();
        if count == 0 || count > MAX_PLACE {
            return Err(Refused::whole("TOO_MANY_INSTRUCTIONS", count));
        }
        if strategy_ref.is_some_and(|r| r.len() > 15) {
            return Err(Refused::whole("INVALID_ORDER", count));
        }
        self.forget_refs(now);
        if let Some(r) = customer_ref
            && self.recent_refs.iter().any(|(_, seen)| seen == r)
        {
            return Err(Refused::whole("DUPLICATE_TRANSACTION", count));
        }
        let state = self
            .state(market)
            .map_err(|code| Refused::whole(code, count))?;
        let requests: Vec<OrderRequest> = placements.iter().map(|p| request(market, p)).collect();
        let faults: Vec<Option<&'static str>> = requests
            .iter()
            .map(|r| instruction_fault(&state, r))
            .collect();
        if faults.iter().any(Option::is_some) {
            return Err(Refused {
                code: "BET_ACTION_ERROR",
                instructions: faults,
            });
        }
        if let Some(r) = customer_ref {
            self.recent_refs.push_back((now, r.to_owned()));
        }
        self.tick += 1;
        let stale = market_version.is_some_and(|v| state.version.is_some_and(|now| now > v));
        let mut placed = Vec::with_capacity(count);
        for (request, p) in requests.into_iter().zip(placements) {
            let order = if stale {
                self.lapsed_one(request, now)
            } else {
                self.place_one(request, &state, now)?
            };
            self.booked.insert(
                order.id,
                Booked {
                    order: order.clone(),
                    handicap: p.handicap,
                    strategy_ref: strategy_ref.map(str::to_owned),
                    tick: self.tick,
                    matched_at: None,
                    settled: None,
                },
            );
            placed.push(order);
        }
        Ok(placed)
    }

    fn place_one(
        &mut self,
        request: OrderRequest,
        state: &MarketState,
        now: i64,
    ) -> Result<Order, Refused> {
        let error = |why: RejectReason| {
            tracing::warn!("exchange: a checked order was refused: {why:?}");
            Refused::whole("ERROR_IN_MATCHER", 1)
        };
        let approved = self.risk.check(request, now).map_err(error)?;
        let id = OrderId(self.next_bet);
        self.next_bet += 1;
        self.venue
            .place(id, approved, Timestamp(now), state)
            .map_err(error)
    }

    /// A bet placed on a market version that has moved on: booked, and
    /// lapsed whole at once, never matched.
    fn lapsed_one(&mut self, request: OrderRequest, now: i64) -> Order {
        let id = OrderId(self.next_bet);
        self.next_bet += 1;
        let mut order = Order::pending(id, request, Timestamp(now));
        order.size_lapsed = order.request.size;
        order.status = OrderStatus::ExecutionComplete;
        order
    }

    fn forget_refs(&mut self, now: i64) {
        while self
            .recent_refs
            .front()
            .is_some_and(|(at, _)| *at <= now - DUPLICATE_WINDOW_MS)
        {
            self.recent_refs.pop_front();
        }
    }

    /// Cancel what remains of bet `id` in `market` (B.4): the stake that
    /// will be cancelled, or Betfair's code for why not.
    pub fn cancel(&mut self, market: &str, id: OrderId, now: i64) -> Result<f64, &'static str> {
        let booked = self.booked.get(&id).ok_or("INVALID_BET_ID")?;
        if booked.order.request.market_id.0 != market {
            return Err("INVALID_BET_ID");
        }
        let remaining = booked.order.size_remaining();
        if remaining <= 0.0 {
            return Err("BET_TAKEN_OR_LAPSED");
        }
        self.venue
            .cancel(id, Timestamp(now))
            .map_err(|_| "BET_TAKEN_OR_LAPSED")?;
        Ok(remaining)
    }

    /// The open bets of `market` (all markets if `None`).
    pub fn open_in(&self, market: Option<&str>) -> Vec<OrderId> {
        let of = |b: &&Booked| market.is_none_or(|m| b.order.request.market_id.0 == m);
        let open = self.booked.values().filter(of);
        open.filter(|b| b.order.is_open())
            .map(|b| b.order.id)
            .collect()
    }
}

fn request(market: &str, p: &Placement) -> OrderRequest {
    OrderRequest {
        market_id: MarketId(market.to_owned()),
        selection_id: SelectionId(p.selection_id),
        side: p.side,
        order_type: OrderType::Limit,
        price: Price(p.price),
        size: p.size,
        persistence: p.persistence,
        customer_ref: p.customer_order_ref.clone(),
    }
}

/// An instruction's own fault, in Betfair's instruction codes.
fn instruction_fault(state: &MarketState, request: &OrderRequest) -> Option<&'static str> {
    match state
        .runners
        .iter()
        .find(|(id, _)| *id == request.selection_id)
    {
        None => return Some("INVALID_RUNNER"),
        Some((_, RunnerStatus::Active)) => {}
        Some(_) => return Some("RUNNER_REMOVED"),
    }
    match validate_price_and_size(request) {
        Ok(()) => None,
        Err(RejectReason::InvalidPrice) => Some("INVALID_ODDS"),
        Err(RejectReason::InvalidSize) => Some("INVALID_BET_SIZE"),
        Err(RejectReason::VenueError(_)) => Some("INVALID_CUSTOMER_ORDER_REF"),
        Err(_) => Some("ERROR_IN_ORDER"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPEN: &str = r#"{"op":"mcm","pt":1000,"mc":[{"id":"1.2","img":true,
        "marketDefinition":{"status":"OPEN","inPlay":false,"betDelay":0,
            "runners":[{"id":7,"status":"ACTIVE","sortPriority":1},{"id":8,"status":"REMOVED","sortPriority":2}]},
        "rc":[{"id":7,"atb":[[2.0,10]],"atl":[[2.1,30]]}]}]}"#;

    fn message(text: &str) -> Message {
        let mut m = Message::default();
        m.parse(&text.replace('\n', "")).unwrap();
        m
    }

    fn back(selection: u64, price: f64, size: f64) -> Placement {
        Placement {
            selection_id: selection,
            handicap: 0.0,
            side: Side::Back,
            price,
            size,
            persistence: Persistence::Lapse,
            customer_order_ref: None,
        }
    }

    #[test]
    fn a_bet_on_a_market_version_that_has_moved_on_is_placed_lapsed() {
        let mut orders = Orders::new(SimConfig::default());
        let versioned = OPEN.replace(r#""betDelay":0,"#, r#""betDelay":0,"version":7,"#);
        orders.on_message(&message(&versioned));
        let (none, old, current) = (None, Some(6), Some(7));
        let mut place = |version| {
            let placed = orders.place("1.2", &[back(7, 2.0, 2.0)], (None, None), version, 1000);
            placed.unwrap().remove(0)
        };
        let lapsed = place(old);
        assert_eq!((lapsed.size_lapsed, lapsed.is_open()), (2.0, false));
        for version in [none, current] {
            let live = place(version);
            assert_eq!((live.size_lapsed, live.is_open()), (0.0, true));
        }
    }

    #[test]
    fn placements_are_checked_with_betfairs_codes_then_matched_by_the_simulated_exchange() {
        let mut orders = Orders::new(SimConfig::default());
        let refused = orders.place("1.2", &[back(7, 2.1, 2.0)], (None, None), None, 1000);
        assert_eq!(refused.unwrap_err().code, "INVALID_MARKET_ID");
        assert!(!orders.on_message(&message(OPEN)));
        let faults = orders
            .place(
                "1.2",
                &[back(7, 3.33, 2.0), back(8, 2.1, 2.0), back(9, 2.1, 2.0)],
                (None, None),
                None,
                1000,
            )
            .unwrap_err();
        assert_eq!(faults.code, "BET_ACTION_ERROR");
        assert_eq!(
            faults.instructions,
            [
                Some("INVALID_ODDS"),
                Some("RUNNER_REMOVED"),
                Some("INVALID_RUNNER")
            ]
        );
        let placed = orders
            .place(
                "1.2",
                &[back(7, 2.0, 2.0)],
                (Some("s1"), Some("r1")),
                None,
                1000,
            )
            .unwrap();
        let again = orders.place(
            "1.2",
            &[back(7, 2.1, 2.0)],
            (None, Some("r1")),
            None,
            30_000,
        );
        assert_eq!(again.unwrap_err().code, "DUPLICATE_TRANSACTION");
        // The next update comes after the placement latency: the back at
        // 2.0 meets the 10 available to back at 2.0 and matches.
        let later =
            r#"{"op":"mcm","pt":2000,"mc":[{"id":"1.2","rc":[{"id":7,"atb":[[2.0,11]]}]}]}"#;
        assert!(orders.on_message(&message(later)));
        let order = &orders.booked[&placed[0].id].order;
        assert_eq!(
            (order.size_matched, order.average_price_matched),
            (2.0, Some(2.0))
        );
        assert_eq!(
            orders.cancel("1.2", placed[0].id, 2000),
            Err("BET_TAKEN_OR_LAPSED")
        );
        // A minute on, the customerRef may be used again.
        assert!(
            orders
                .place(
                    "1.2",
                    &[back(7, 1000.0, 2.0)],
                    (None, Some("r1")),
                    None,
                    61_001
                )
                .is_ok()
        );
    }
}

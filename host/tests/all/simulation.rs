//! One test per rule of docs/SIMULATION.md, each driving the simulated
//! exchange with Betfair stream messages through the real market cache
//! (the adapter's), as a backtest does.

use clever_sdk::{
    MarketId, OrderId, OrderRequest, OrderStatus, OrderType, Persistence, Price, RejectReason,
    SelectionId, Side, Timestamp,
};

use clever_host::betfair::{Message, StreamCache};
use clever_host::engine::{MarketState, OrderChange, Venue};
use clever_host::market::{MarketResult, Money};

fn m(x: f64) -> Money {
    Money::from_f64(x)
}
use clever_host::risk::{RiskBook, RiskLimits};
use clever_host::sim::sim::reduced_price;
use clever_host::sim::{SimConfig, SimVenue};

const MARKET: &str = "1.5";

/// A market of runners 1, 2 and 3 and one strategy's exchange.
struct Bench {
    cache: StreamCache,
    venue: SimVenue,
    risk: RiskBook,
    now: i64,
    next: u64,
}

fn definition(status: &str, in_play: bool, runners: &str) -> String {
    format!(
        r#""marketDefinition":{{"status":"{status}","inPlay":{in_play},"betDelay":5,"marketType":"WIN","numberOfWinners":1,"marketBaseRate":5,"runners":[{runners}]}}"#
    )
}

const ACTIVE: &str = r#"{"id":1,"status":"ACTIVE","adjustmentFactor":50},{"id":2,"status":"ACTIVE","adjustmentFactor":30},{"id":3,"status":"ACTIVE","adjustmentFactor":20}"#;

impl Bench {
    fn new() -> Self {
        Self::with(SimConfig::default())
    }

    fn with(config: SimConfig) -> Self {
        let mut b = Bench {
            cache: StreamCache::new(),
            venue: SimVenue::new(config),
            risk: RiskBook::new(RiskLimits::default()),
            now: 0,
            next: 1,
        };
        b.update(
            0,
            &format!(
                r#"{},"img":true,"rc":[{{"id":1,"atb":[[3.0,10],[2.98,50]],"atl":[[3.05,8],[3.1,40]]}}]"#,
                definition("OPEN", false, ACTIVE)
            ),
        );
        b
    }

    /// Apply `{"id":MARKET, <body>}` published at `pt`; the venue's changes.
    fn update(&mut self, pt: i64, body: &str) -> Vec<OrderChange> {
        let json = format!(r#"{{"op":"mcm","pt":{pt},"mc":[{{"id":"{MARKET}",{body}}}]}}"#);
        let message: Message = serde_json::from_str(&json).unwrap();
        self.now = pt;
        let mut changes = Vec::new();
        // As the engine does: the venue sees the book before the update.
        if let Some(before) = self.cache.get(MARKET) {
            self.venue
                .before_update(Timestamp(pt), &before.book, &mut changes);
        }
        let book = &self.cache.apply(pt, &message.mc[0]).book;
        self.venue.on_market(Timestamp(pt), book, &mut changes);
        changes
    }

    fn place(&mut self, request: OrderRequest) -> OrderId {
        let state = MarketState::of(&self.cache.get(MARKET).unwrap().book);
        let approved = self.risk.check(request, self.now).unwrap();
        let id = OrderId(self.next);
        self.next += 1;
        self.venue
            .place(id, approved, Timestamp(self.now), &state)
            .unwrap();
        id
    }

    fn order(&self, id: OrderId) -> clever_sdk::Order {
        self.venue.order(id).unwrap()
    }

    fn settle(&mut self) -> MarketResult {
        let book = &self.cache.get(MARKET).unwrap().book;
        self.venue.settle(book, &mut Vec::new())
    }
}

fn limit(selection: u64, side: Side, price: f64, size: f64) -> OrderRequest {
    OrderRequest::limit(
        MarketId::from(MARKET),
        SelectionId(selection),
        side,
        Price(price),
        size,
    )
}

#[test]
fn an_order_reaches_the_book_after_the_placement_latency() {
    let mut b = Bench::new();
    let id = b.place(limit(1, Side::Back, 3.0, 4.0));
    // 100 ms later the order is still on its way: nothing matches.
    assert!(b.update(100, r#""rc":[{"id":1,"ltp":3.0}]"#).is_empty());
    assert_eq!(b.order(id).status, OrderStatus::Pending);
    let changes = b.update(120, r#""rc":[{"id":1,"ltp":3.0}]"#);
    assert_eq!(changes.len(), 1);
    let o = b.order(id);
    assert_eq!(
        (o.size_matched, o.status),
        (4.0, OrderStatus::ExecutionComplete)
    );
}

#[test]
fn an_order_arriving_between_updates_meets_the_book_published_before_it() {
    let mut b = Bench::new();
    let id = b.place(limit(1, Side::Back, 3.0, 4.0));
    // It arrives at 120; the update at 200 takes the 3.0 offer away and
    // shows a better one, which the order could not have seen.
    let changes = b.update(200, r#""rc":[{"id":1,"atb":[[3.0,0],[3.1,5]]}]"#);
    assert_eq!(changes.len(), 1);
    let o = b.order(id);
    assert_eq!((o.size_matched, o.average_price_matched), (4.0, Some(3.0)));
}

#[test]
fn an_order_arriving_as_an_update_is_published_meets_that_update() {
    let mut b = Bench::new();
    let id = b.place(limit(1, Side::Back, 3.0, 4.0));
    b.update(120, r#""rc":[{"id":1,"atb":[[3.0,0],[3.1,5]]}]"#);
    let o = b.order(id);
    assert_eq!((o.size_matched, o.average_price_matched), (4.0, Some(3.1)));
}

#[test]
fn in_play_the_bet_delay_is_added_to_the_latency() {
    let mut b = Bench::new();
    b.update(10, &definition("OPEN", true, ACTIVE));
    b.now = 1_000;
    let id = b.place(limit(1, Side::Back, 3.0, 4.0));
    b.update(6_000, r#""rc":[{"id":1,"ltp":3.0}]"#);
    assert_eq!(b.order(id).status, OrderStatus::Pending);
    b.update(6_120, r#""rc":[{"id":1,"ltp":3.0}]"#);
    assert_eq!(b.order(id).size_matched, 4.0);
}

#[test]
fn a_crossing_order_matches_displayed_volume_up_to_its_limit_partly() {
    let mut b = Bench::new();
    // Back 70 at 2.98: takes 10 at 3.0 (price improvement), 50 at 2.98.
    let id = b.place(limit(1, Side::Back, 2.98, 70.0));
    b.update(200, r#""rc":[{"id":1,"ltp":3.0}]"#);
    let o = b.order(id);
    assert_eq!(o.size_matched, 60.0);
    assert_eq!(o.status, OrderStatus::Executable);
    let avg = o.average_price_matched.unwrap();
    assert!((avg - (10.0 * 3.0 + 50.0 * 2.98) / 60.0).abs() < 1e-9);
}

#[test]
fn the_same_displayed_volume_is_not_used_twice_by_one_strategy() {
    let mut b = Bench::new();
    let first = b.place(limit(1, Side::Back, 3.0, 6.0));
    let second = b.place(limit(1, Side::Back, 3.0, 6.0));
    b.update(200, r#""rc":[{"id":1,"ltp":3.0}]"#);
    assert_eq!(b.order(first).size_matched, 6.0);
    assert_eq!(b.order(second).size_matched, 4.0);
}

#[test]
fn a_resting_order_queues_behind_displayed_volume_and_is_filled_by_trades() {
    let mut b = Bench::new();
    // A lay at 2.98 rests among the layers' offers (available to back),
    // behind the 50 displayed there.
    let id = b.place(limit(1, Side::Lay, 2.98, 10.0));
    b.update(200, r#""rc":[{"id":1,"ltp":3.0}]"#);
    assert_eq!(b.order(id).size_matched, 0.0);
    // 60 traded at 2.98: half (30) is credited to our side; it eats 30 of the queue.
    b.update(300, r#""rc":[{"id":1,"trd":[[2.98,60]]}]"#);
    assert_eq!(b.order(id).size_matched, 0.0);
    // 50 more: 25 credited, 20 finish the queue, 5 fill us.
    b.update(400, r#""rc":[{"id":1,"trd":[[2.98,110]]}]"#);
    assert_eq!(b.order(id).size_matched, 5.0);
    // Trades at other prices do not fill us.
    b.update(500, r#""rc":[{"id":1,"trd":[[3.0,500]]}]"#);
    assert_eq!(b.order(id).size_matched, 5.0);
    b.update(600, r#""rc":[{"id":1,"trd":[[2.98,200]]}]"#);
    let o = b.order(id);
    assert_eq!(
        (o.size_matched, o.status),
        (10.0, OrderStatus::ExecutionComplete)
    );
}

#[test]
fn the_trade_share_is_a_setting() {
    let mut b = Bench::with(SimConfig {
        trade_share: 1.0,
        ..SimConfig::default()
    });
    let id = b.place(limit(1, Side::Lay, 2.98, 10.0));
    b.update(200, r#""rc":[{"id":1,"ltp":3.0}]"#);
    b.update(300, r#""rc":[{"id":1,"trd":[[2.98,55]]}]"#);
    assert_eq!(b.order(id).size_matched, 5.0);
}

#[test]
fn our_own_earlier_order_at_a_price_is_ahead_in_the_queue() {
    let mut b = Bench::with(SimConfig {
        trade_share: 1.0,
        ..SimConfig::default()
    });
    let first = b.place(limit(1, Side::Lay, 2.98, 10.0));
    let second = b.place(limit(1, Side::Lay, 2.98, 10.0));
    b.update(200, r#""rc":[{"id":1,"ltp":3.0}]"#);
    b.update(300, r#""rc":[{"id":1,"trd":[[2.98,65]]}]"#);
    assert_eq!(b.order(first).size_matched, 10.0);
    assert_eq!(b.order(second).size_matched, 5.0);
}

#[test]
fn a_cancel_takes_effect_after_its_own_latency() {
    let mut b = Bench::with(SimConfig {
        trade_share: 1.0,
        ..SimConfig::default()
    });
    let id = b.place(limit(1, Side::Lay, 2.98, 10.0));
    b.update(200, r#""rc":[{"id":1,"ltp":3.0}]"#);
    b.venue.cancel(id, Timestamp(200)).unwrap();
    // Before the cancel lands, a trade still fills part of the order.
    b.update(250, r#""rc":[{"id":1,"trd":[[2.98,54]]}]"#);
    assert_eq!(b.order(id).size_matched, 4.0);
    let changes = b.update(320, r#""rc":[{"id":1,"ltp":3.0}]"#);
    assert_eq!(changes[0].reduced, 6.0);
    let o = b.order(id);
    assert_eq!(
        (o.size_cancelled, o.status),
        (6.0, OrderStatus::ExecutionComplete)
    );
    assert_eq!(
        b.venue.cancel(id, Timestamp(400)),
        Err(RejectReason::UnknownOrder)
    );
}

#[test]
fn lapse_orders_lapse_at_the_off_and_persist_orders_stay() {
    let mut b = Bench::new();
    let lapse = b.place(limit(1, Side::Lay, 2.5, 10.0));
    let keep = b.place(limit(1, Side::Lay, 2.5, 10.0).with_persistence(Persistence::Persist));
    b.update(200, r#""rc":[{"id":1,"ltp":3.0}]"#);
    b.update(300, &definition("OPEN", true, ACTIVE));
    assert_eq!(b.order(lapse).size_lapsed, 10.0);
    assert_eq!(b.order(keep).status, OrderStatus::Executable);
}

#[test]
fn lapse_orders_lapse_when_the_market_suspends() {
    let mut b = Bench::new();
    b.update(10, &definition("OPEN", true, ACTIVE));
    b.now = 20;
    let lapse = b.place(limit(1, Side::Lay, 2.5, 10.0));
    let keep = b.place(limit(1, Side::Lay, 2.5, 10.0).with_persistence(Persistence::Persist));
    b.update(6_000, r#""rc":[{"id":1,"ltp":3.0}]"#);
    b.update(7_000, &definition("SUSPENDED", true, ACTIVE));
    assert_eq!(b.order(lapse).size_lapsed, 10.0);
    assert_eq!(b.order(keep).status, OrderStatus::Executable);
}

#[test]
fn an_order_arriving_at_a_suspended_market_lapses() {
    let mut b = Bench::new();
    let id = b.place(limit(1, Side::Back, 3.0, 4.0).with_persistence(Persistence::Persist));
    b.update(50, &definition("SUSPENDED", false, ACTIVE));
    b.update(200, r#""rc":[{"id":1,"ltp":3.0}]"#);
    let o = b.order(id);
    assert_eq!((o.size_lapsed, o.size_matched), (4.0, 0.0));
}

#[test]
fn a_removal_voids_its_bets_lapses_unmatched_and_reduces_other_win_prices() {
    let mut b = Bench::new();
    b.update(
        1,
        r#""rc":[{"id":2,"atb":[[5.0,100]]},{"id":3,"atl":[[8.0,100]]}]"#,
    );
    let on_removed = b.place(limit(3, Side::Lay, 8.0, 10.0));
    let matched = b.place(limit(2, Side::Back, 5.0, 10.0));
    let unmatched = b.place(limit(1, Side::Lay, 2.0, 10.0));
    b.update(200, r#""rc":[{"id":1,"ltp":3.0}]"#);
    assert_eq!(b.order(on_removed).size_matched, 10.0);
    let removed = r#"{"id":1,"status":"ACTIVE","adjustmentFactor":50},{"id":2,"status":"ACTIVE","adjustmentFactor":30},{"id":3,"status":"REMOVED","adjustmentFactor":20,"removalDate":"1970-01-01T00:00:00.500Z"}"#;
    b.update(600, &definition("OPEN", false, removed));
    // 5.0 reduced by 20%: 4.0.
    assert_eq!(b.order(matched).average_price_matched, Some(4.0));
    assert_eq!(b.order(unmatched).size_lapsed, 10.0);
    // Runner 3 void, runner 2 loses when runner 1 wins: -10.
    let won = r#"{"id":1,"status":"WINNER"},{"id":2,"status":"LOSER"},{"id":3,"status":"REMOVED","adjustmentFactor":20}"#;
    b.update(700, &definition("CLOSED", true, won));
    let r = b.settle();
    assert_eq!(
        (r.figures.matched, r.figures.gross_profit),
        (m(10.0), m(-10.0))
    );
}

#[test]
fn a_small_reduction_factor_leaves_prices_alone() {
    assert_eq!(reduced_price(5.0, 20.0, false), 4.0);
    assert_eq!(reduced_price(8.6, 16.2, false), 7.21);
    assert_eq!(reduced_price(5.0, 20.0, true), 4.2);
    assert_eq!(reduced_price(1.02, 50.0, false), 1.01);
    let mut b = Bench::new();
    b.update(1, r#""rc":[{"id":2,"atb":[[5.0,100]]}]"#);
    let id = b.place(limit(2, Side::Back, 5.0, 10.0));
    b.update(200, r#""rc":[{"id":1,"ltp":3.0}]"#);
    let removed = r#"{"id":1,"status":"ACTIVE"},{"id":2,"status":"ACTIVE"},{"id":3,"status":"REMOVED","adjustmentFactor":2.0}"#;
    b.update(600, &definition("OPEN", false, removed));
    assert_eq!(b.order(id).average_price_matched, Some(5.0));
}

#[test]
fn starting_price_orders_match_at_bsp_and_limits_are_respected() {
    let mut b = Bench::new();
    let on_close = |selection, side, order_type, price, size| OrderRequest {
        order_type,
        ..limit(selection, side, price, size)
    };
    let moc = b.place(on_close(
        1,
        Side::Back,
        OrderType::MarketOnClose,
        1.01,
        10.0,
    ));
    let loc_in = b.place(on_close(1, Side::Back, OrderType::LimitOnClose, 3.0, 10.0));
    let loc_out = b.place(on_close(1, Side::Back, OrderType::LimitOnClose, 4.0, 10.0));
    let moc_lay = b.place(on_close(2, Side::Lay, OrderType::MarketOnClose, 1.01, 20.0));
    let converts =
        b.place(limit(1, Side::Lay, 2.0, 10.0).with_persistence(Persistence::MarketOnClose));
    b.update(200, r#""rc":[{"id":1,"ltp":3.0}]"#);
    b.update(300, &definition("OPEN", true, ACTIVE));
    assert_eq!(b.order(converts).status, OrderStatus::Executable);
    let bsp = r#"{"id":1,"status":"ACTIVE","bsp":3.5},{"id":2,"status":"ACTIVE","bsp":5.0},{"id":3,"status":"ACTIVE","bsp":9.0}"#;
    b.update(400, &definition("OPEN", true, bsp));
    assert_eq!(b.order(moc).average_price_matched, Some(3.5));
    assert_eq!(b.order(loc_in).size_matched, 10.0);
    assert_eq!(b.order(loc_out).size_lapsed, 10.0);
    // A market-on-close lay risks its size: 20 of liability at 5.0 is a 5 stake.
    assert_eq!(b.order(moc_lay).size_matched, 5.0);
    assert_eq!(b.order(converts).average_price_matched, Some(3.5));
}

#[test]
fn commission_is_the_market_base_rate_unless_overridden() {
    for (config, commission) in [
        (SimConfig::default(), 1.0),
        (
            SimConfig {
                commission_rate: Some(2.0),
                ..SimConfig::default()
            },
            0.4,
        ),
    ] {
        let mut b = Bench::with(config);
        let id = b.place(limit(1, Side::Back, 3.0, 10.0));
        b.update(200, r#""rc":[{"id":1,"ltp":3.0}]"#);
        assert_eq!(b.order(id).size_matched, 10.0);
        let won =
            r#"{"id":1,"status":"WINNER"},{"id":2,"status":"LOSER"},{"id":3,"status":"LOSER"}"#;
        b.update(900, &definition("CLOSED", true, won));
        let r = b.settle();
        assert_eq!(
            (r.figures.gross_profit, r.figures.commission),
            (m(20.0), m(commission))
        );
    }
}

#[test]
fn a_cancel_asked_in_the_bet_delay_lands_its_latency_after_the_order_arrives() {
    let mut b = Bench::new();
    b.update(10, &definition("OPEN", true, ACTIVE));
    b.now = 1_000;
    let matches = b.place(limit(1, Side::Back, 3.0, 4.0));
    let rests = b.place(limit(1, Side::Back, 3.5, 4.0));
    b.venue.cancel(matches, Timestamp(1_100)).unwrap();
    b.venue.cancel(rests, Timestamp(1_100)).unwrap();
    // Both arrive at 6,120: one matches, the other rests; the cancels can
    // only be made once the orders are there, and take 120 ms.
    b.update(6_120, r#""rc":[{"id":1,"ltp":3.0}]"#);
    assert_eq!(b.order(matches).size_matched, 4.0);
    assert_eq!(b.order(rests).status, OrderStatus::Executable);
    b.update(6_200, r#""rc":[{"id":1,"ltp":3.0}]"#);
    assert_eq!(b.order(rests).size_cancelled, 0.0);
    b.update(6_240, r#""rc":[{"id":1,"ltp":3.0}]"#);
    assert_eq!(b.order(rests).size_cancelled, 4.0);
}

#[test]
fn a_trade_through_a_resting_order_s_price_fills_it_past_the_queue() {
    let mut b = Bench::with(SimConfig {
        trade_share: 1.0,
        ..SimConfig::default()
    });
    // A lay at 2.98 rests behind the 50 displayed there (available to back).
    let lay = b.place(limit(1, Side::Lay, 2.98, 10.0));
    // A back at 3.1 rests behind the 40 available to lay there.
    let back = b.place(limit(1, Side::Back, 3.1, 10.0));
    b.update(200, r#""rc":[{"id":1,"ltp":3.0}]"#);
    // Trades at prices no worse for the other side do not fill us: 3.0
    // for the lay (backers got more than our 2.98), 3.05 for the back.
    b.update(300, r#""rc":[{"id":1,"trd":[[3.0,100],[3.05,100]]}]"#);
    assert_eq!(b.order(lay).size_matched, 0.0);
    assert_eq!(b.order(back).size_matched, 0.0);
    // Backers taking 2.96 while our 2.98 was on offer means everything at
    // 2.98 was gone, ours too; layers taking 3.2 the same for our back.
    b.update(400, r#""rc":[{"id":1,"trd":[[2.96,4],[3.2,6]]}]"#);
    assert_eq!(b.order(lay).size_matched, 4.0);
    assert_eq!(b.order(back).size_matched, 6.0);
    // The queue at the price is gone: the next trade at it fills us.
    b.update(500, r#""rc":[{"id":1,"trd":[[2.98,6]]}]"#);
    assert_eq!(b.order(lay).size_matched, 10.0);
}

#[test]
fn volume_traded_through_a_price_fills_our_orders_there_once_oldest_first() {
    let mut b = Bench::with(SimConfig {
        trade_share: 1.0,
        ..SimConfig::default()
    });
    let first = b.place(limit(1, Side::Lay, 2.98, 3.0));
    let second = b.place(limit(1, Side::Lay, 2.98, 3.0));
    b.update(200, r#""rc":[{"id":1,"ltp":3.0}]"#);
    // 4 traded through 2.98: 3 fill the older order, 1 the newer; the
    // same volume does not fill both.
    b.update(300, r#""rc":[{"id":1,"trd":[[2.96,4]]}]"#);
    assert_eq!(b.order(first).size_matched, 3.0);
    assert_eq!(b.order(second).size_matched, 1.0);
}

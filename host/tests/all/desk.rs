//! A strategy's desk as its plugin reaches it: venue rules, then risk,
//! then the venue; timers in due order, capped.

use clever_host::betfair::{Message, StreamCache};
use clever_host::engine::Desk;
use clever_host::market::InstrumentEvent;
use clever_host::risk::{RiskBook, RiskLimits};
use clever_host::runtime::HostServices;
use clever_host::sim::{BookSim, BookSimConfig, SimConfig, SimVenue};
use clever_sdk::{
    Book, BookOrderRequest, BookSide, InstrumentInfo, Level, MarketId, OrderId, OrderRequest,
    Price, RejectReason, RiskLimit, SelectionId, Side, Timestamp,
};

const NOW: Timestamp = Timestamp(1);

fn desk_with_market() -> Desk {
    desk_on_market(RiskBook::new(RiskLimits {
        max_stake: 50.0,
        ..RiskLimits::default()
    }))
}

/// A desk under `risk` that has seen market 1.5 (runner 1 active, 2 removed).
fn desk_on_market(risk: RiskBook) -> Desk {
    let mut desk = Desk::new(risk, Box::new(SimVenue::new(SimConfig::default())));
    show(
        &mut desk,
        NOW,
        r#"{"op":"mcm","pt":1,"mc":[{"id":"1.5","img":true,"marketDefinition":{"status":"OPEN","inPlay":false,"runners":[{"id":1,"status":"ACTIVE"},{"id":2,"status":"REMOVED"}]}}]}"#,
    );
    desk
}

/// Hand the desk the first market change of the stream line `json`.
fn show(desk: &mut Desk, now: Timestamp, json: &str) {
    let message: Message = serde_json::from_str(json).unwrap();
    let mut cache = StreamCache::new();
    let book = &cache.apply(now.0, &message.mc[0]).book;
    desk.on_market(now, book, &mut Vec::new());
}

fn back(selection: u64, price: f64, size: f64) -> OrderRequest {
    OrderRequest::limit(
        MarketId::from("1.5"),
        SelectionId(selection),
        Side::Back,
        Price(price),
        size,
    )
}

#[test]
fn only_ladder_prices_legal_stakes_and_known_runners_are_accepted() {
    let mut s = desk_with_market();
    assert_eq!(
        s.place_order(NOW, back(1, 3.03, 2.0)),
        Err(RejectReason::InvalidPrice)
    );
    assert_eq!(
        s.place_order(NOW, back(1, 3.05, 0.5)),
        Err(RejectReason::InvalidSize)
    );
    assert_eq!(
        s.place_order(NOW, back(1, 3.05, 2.001)),
        Err(RejectReason::InvalidSize)
    );
    assert_eq!(
        s.place_order(NOW, back(2, 3.05, 2.0)),
        Err(RejectReason::UnknownSelection)
    );
    let mut elsewhere = back(1, 3.05, 2.0);
    elsewhere.market_id = MarketId::from("1.6");
    assert_eq!(
        s.place_order(NOW, elsewhere),
        Err(RejectReason::UnknownMarket)
    );
    assert_eq!(
        s.place_order(NOW, back(1, 3.05, 60.0)),
        Err(RejectReason::RiskLimit(RiskLimit::MaxStake))
    );
    assert_eq!(s.place_order(NOW, back(1, 3.05, 2.0)), Ok(OrderId(1)));
    // Below the minimum stake, legal when the payout reaches 10.
    assert_eq!(s.place_order(NOW, back(1, 20.0, 0.5)), Ok(OrderId(2)));
    let tally = s.tally().clone();
    assert_eq!(tally.placed, 2);
    let rejected: Vec<(&str, u64)> = tally
        .rejected
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        rejected,
        [
            ("invalid-price", 1),
            ("invalid-size", 2),
            ("risk-limit:max-stake", 1),
            ("unknown-market", 1),
            ("unknown-selection", 1)
        ]
    );
}

#[test]
fn timers_come_out_earliest_first_and_can_be_moved_or_cancelled() {
    let mut s = desk_with_market();
    for (at, token) in [(300, 1), (100, 2), (200, 3), (50, 1)] {
        assert!(s.set_timer(Timestamp(at), token));
    }
    s.cancel_timer(3);
    let desk = &mut s;
    let mut early = desk.timer_pass();
    assert_eq!(desk.take_due_timer(Timestamp(40), &mut early), None);
    let mut pass = desk.timer_pass();
    assert_eq!(
        desk.take_due_timer(Timestamp(500), &mut pass),
        Some((Timestamp(50), 1))
    );
    assert_eq!(
        desk.take_due_timer(Timestamp(500), &mut pass),
        Some((Timestamp(100), 2))
    );
    assert_eq!(desk.take_due_timer(Timestamp(500), &mut pass), None);
}

#[test]
fn a_timer_moves_and_timers_set_while_firing_wait() {
    // The cap on pending timers is the runtime's (hostile::timer_flood).
    let mut s = desk_with_market();
    assert!(s.set_timer(Timestamp(10), 1));
    assert!(s.set_timer(Timestamp(20), 2));
    assert!(s.set_timer(Timestamp(5), 2), "moving one is not adding");
    assert_eq!((s.pending_timers(), s.has_timer(2)), (2, true));
    let mut pass = s.timer_pass();
    assert_eq!(
        s.take_due_timer(Timestamp(100), &mut pass),
        Some((Timestamp(5), 2))
    );
    // Re-armed from on-timer, due already: not in this pass.
    assert!(s.set_timer(Timestamp(6), 2));
    assert_eq!(
        s.take_due_timer(Timestamp(100), &mut pass),
        Some((Timestamp(10), 1))
    );
    assert_eq!(s.take_due_timer(Timestamp(100), &mut pass), None);
    let mut next = s.timer_pass();
    assert_eq!(
        s.take_due_timer(Timestamp(100), &mut next),
        Some((Timestamp(6), 2))
    );
}

/// What a desk told the host.
#[derive(Default)]
struct Told(std::sync::Mutex<Vec<String>>);

impl clever_host::engine::DeskEvents for Told {
    fn signal(&self, now: Timestamp, signal: &clever_sdk::Signal) {
        let told = format!("signal {} {} at {}", signal.name, signal.value, now.0);
        self.0.lock().unwrap().push(told);
    }

    fn limit_reached(&self, now: Timestamp, limit: RiskLimit) {
        self.0
            .lock()
            .unwrap()
            .push(format!("limit {} at {}", limit.code(), now.0));
    }
}

/// The day's loss limit is told to the host once a day, however many
/// orders it refuses; a signal is told with the plugin's time.
#[test]
fn a_desk_tells_the_host_of_signals_and_of_the_loss_limit_once_a_day() {
    use clever_host::market::Money;
    let mut risk = RiskBook::new(RiskLimits {
        daily_loss_limit: 5.0,
        ..RiskLimits::default()
    });
    risk.carry_over(&[], (NOW.0, Money::from_pennies(-1_000)));
    let told = std::sync::Arc::new(Told::default());
    let mut desk = desk_on_market(risk).with_events(told.clone());
    for _ in 0..3 {
        let refused = desk.place_order(NOW, back(1, 3.05, 2.0));
        assert_eq!(refused, Err(RejectReason::RiskLimit(RiskLimit::DailyLoss)));
    }
    desk.signal(Timestamp(7), clever_sdk::Signal::new("edge", 0.5));
    let told = told.0.lock().unwrap().clone();
    assert_eq!(told, ["limit daily-loss at 1", "signal edge 0.5 at 7"]);
}

#[test]
fn interest_is_kept_for_open_markets_only() {
    use clever_sdk::MarketInterest::NothingMore;
    let mut desk = desk_with_market();
    let (open, unknown) = (MarketId::from("1.5"), MarketId::from("1.6"));
    assert!(
        !desk.set_interest(&unknown, NothingMore),
        "a market never shown"
    );
    assert!(desk.set_interest(&open, NothingMore));
    // The update that closes the market: the plugin is shown it, but the
    // market is settled next, so (as the WIT says, and as the SDKs'
    // harnesses answer) there is no open market to be interested in.
    show(
        &mut desk,
        Timestamp(2),
        r#"{"op":"mcm","pt":2,"mc":[{"id":"1.5","marketDefinition":{"status":"CLOSED","inPlay":true,"runners":[{"id":1,"status":"WINNER"},{"id":2,"status":"REMOVED"}]}}]}"#,
    );
    assert!(!desk.set_interest(&open, NothingMore), "a closed market");
}

/// ETH's book at `time`: 10 bid at `bid`, 10 offered at `ask`.
fn eth_book(time: i64, bid: f64, ask: f64) -> InstrumentEvent {
    let level = |price| Level { price, size: 10.0 };
    InstrumentEvent::Book(Book {
        instrument: "ETH".into(),
        time: Timestamp(time),
        bids: vec![level(bid)],
        asks: vec![level(ask)],
    })
}

/// A desk trading ETH in the simulated book under `limits`, having seen
/// it at 2,999.9 / 3,000.1 (mid 3,000).
fn book_desk(limits: RiskLimits) -> Desk {
    let eth = InstrumentInfo::hyperliquid_perp("ETH", 4, 25);
    let book = BookSim::new(BookSimConfig::default(), [eth]);
    let venue = Box::new(SimVenue::new(SimConfig::default()));
    let mut desk = Desk::new(RiskBook::new(limits), venue).with_book_venue(Box::new(book));
    let at = Timestamp(1_000);
    desk.on_instrument(at, &eth_book(1_000, 2_999.9, 3_000.1), &mut Vec::new());
    desk
}

const REFUSED: fn(RiskLimit) -> Result<OrderId, RejectReason> =
    |limit| Err(RejectReason::RiskLimit(limit));

#[test]
fn book_orders_pass_risk_before_the_book_and_a_kill_cancels_the_resting_ones() {
    let mut desk = book_desk(RiskLimits {
        max_open_orders: 2,
        ..RiskLimits::default()
    });
    let now = Timestamp(2_000);
    let bid = |size| BookOrderRequest::limit("ETH", BookSide::Buy, 2_900.0, size);
    // Worth 3.5 × 3,000 (the mid, above its price): over 10,000.
    assert_eq!(
        desk.place_book_order(now, bid(3.5)),
        REFUSED(RiskLimit::MaxStake)
    );
    let first = desk.place_book_order(now, bid(1.0)).unwrap();
    desk.place_book_order(now, bid(1.0)).unwrap();
    assert_eq!(
        desk.place_book_order(now, bid(1.0)),
        REFUSED(RiskLimit::MaxOpenOrders)
    );
    desk.cancel_book_order(now, first).unwrap();
    desk.place_book_order(now, bid(1.0)).unwrap();
    assert_eq!(desk.open_book_orders(), 2);
    // The kill switch cancels the resting bids in the book itself.
    assert_eq!(desk.kill(now), 2);
    assert_eq!(desk.open_book_orders(), 0);
    assert_eq!(
        desk.place_book_order(now, bid(1.0)),
        REFUSED(RiskLimit::KillSwitch)
    );
    desk.risk_mut().set_kill_switch(false);
    desk.place_book_order(now, bid(1.0)).unwrap();
    desk.place_book_order(now, bid(1.0)).unwrap();
}

#[test]
fn a_book_position_and_the_loss_it_realised_are_limited() {
    let mut desk = book_desk(RiskLimits {
        daily_loss_limit: 1.0,
        ..RiskLimits::default()
    });
    let now = Timestamp(2_000);
    let order = |side, price, size| BookOrderRequest::limit("ETH", side, price, size);
    // Resting bids count as if filled: 3 + 3 + 3 at 3,000 is over 25,000.
    desk.place_book_order(now, order(BookSide::Buy, 2_900.0, 3.0))
        .unwrap();
    desk.place_book_order(now, order(BookSide::Buy, 2_900.0, 3.0))
        .unwrap();
    assert_eq!(
        desk.place_book_order(now, order(BookSide::Buy, 2_900.0, 3.0)),
        REFUSED(RiskLimit::MaxMarketLiability)
    );
    assert_eq!(desk.kill(now), 2);
    desk.risk_mut().set_kill_switch(false);
    // A round trip across the spread loses 0.2 and two taker fees.
    let ioc = |side, price| order(side, price, 1.0).ioc();
    desk.place_book_order(now, ioc(BookSide::Buy, 3_000.1))
        .unwrap();
    desk.place_book_order(now, ioc(BookSide::Sell, 2_999.9))
        .unwrap();
    // Counted as it is realised, before the strategy hears of the fills.
    assert_eq!(
        desk.place_book_order(now, ioc(BookSide::Buy, 3_000.1)),
        REFUSED(RiskLimit::DailyLoss)
    );
    let mut changes = Vec::new();
    let later = Timestamp(3_000);
    desk.on_instrument(later, &eth_book(3_000, 2_999.9, 3_000.1), &mut changes);
    assert_eq!(changes.len(), 2, "both filled: {changes:?}");
    // The next day starts afresh.
    let tomorrow = Timestamp(86_400_000);
    assert!(
        desk.place_book_order(tomorrow, ioc(BookSide::Buy, 3_000.1))
            .is_ok()
    );
}

/// An order the venue's answer refused, which its account feed then shows
/// resting, is open again for risk too: `max_open_orders` counts it.
#[test]
fn a_book_order_refused_then_found_resting_counts_open_again() {
    use clever_hyperliquid::Cloid;
    use clever_hyperliquid_venue::{HyperliquidVenue, Link, Reply};
    let (requests, _sent) = tokio::sync::mpsc::unbounded_channel();
    let (answer, replies) = std::sync::mpsc::channel();
    let eth = InstrumentInfo::hyperliquid_perp("ETH", 4, 25);
    let venue = HyperliquidVenue::new(vec![(0, eth)], 7, Link { requests, replies });
    let limits = RiskLimits {
        max_open_orders: 1,
        ..RiskLimits::default()
    };
    let sim = Box::new(SimVenue::new(SimConfig::default()));
    let mut desk = Desk::new(RiskBook::new(limits), sim).with_book_venue(Box::new(venue));
    let now = Timestamp(2_000);
    let bid = || BookOrderRequest::limit("ETH", BookSide::Buy, 2_900.0, 0.01);
    let id = desk.place_book_order(now, bid()).unwrap();
    let why = "refused".to_owned();
    answer.send(Reply::Failed { id, why }).unwrap();
    desk.poll_book(now, &mut Vec::new());
    // The cloid of the host's first strategy's order `id`, of session 7.
    let cloid = Some(Cloid((7 << 64) | u128::from(id.0)));
    let status = "open".to_owned();
    answer
        .send(Reply::Update {
            oid: 5,
            cloid,
            status,
        })
        .unwrap();
    let mut changes = Vec::new();
    desk.poll_book(now, &mut changes);
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(
        desk.place_book_order(now, bid()),
        REFUSED(RiskLimit::MaxOpenOrders),
        "the reopened order counts"
    );
}

/// On paper, an order that partly filled at once and was then cancelled
/// is told ended, with its fill, by the news the simulated book hands over
/// at the next event, and not counted open again: `max_open_orders` has
/// room.
#[test]
fn a_cancelled_paper_order_is_not_counted_open_again_by_late_news() {
    let mut desk = book_desk(RiskLimits {
        max_open_orders: 1,
        max_order_notional: 1e9,
        max_position_notional: 1e9,
        ..RiskLimits::default()
    });
    let now = Timestamp(2_000);
    // 12 at the offer, where 10 are offered: 10 fill, 2 rest.
    let take = BookOrderRequest::limit("ETH", BookSide::Buy, 3_000.1, 12.0);
    let id = desk.place_book_order(now, take).unwrap();
    desk.cancel_book_order(now, id).unwrap();
    let mut news = Vec::new();
    desk.on_instrument(now, &eth_book(2_000, 2_999.9, 3_000.1), &mut news);
    let ended = news
        .iter()
        .find(|o| o.id == id)
        .map(|o| (o.status, o.size_filled));
    let done = clever_sdk::OrderStatus::ExecutionComplete;
    assert_eq!(
        ended,
        Some((done, 10.0)),
        "the news tells how it ended: {news:?}"
    );
    let bid = BookOrderRequest::limit("ETH", BookSide::Buy, 2_900.0, 1.0);
    assert!(
        desk.place_book_order(now, bid).is_ok(),
        "room for one open order"
    );
}

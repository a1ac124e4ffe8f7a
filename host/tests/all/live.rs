//! The live path over the wire: the host's Betfair clients against the
//! local exchange (`clever-betfair-exchange`) running in-process on
//! loopback, with faults injected.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clever_host::betfair::client::betting::{
    BettingClient, BettingConfig, BettingError, Credentials,
};
use clever_host::betfair::client::record::Recorder;
use clever_host::betfair::client::stream::{
    Endpoint, Event, Retry, StreamError, Subscription, follow,
};
use clever_host::betfair::esa::{MarketDataFilter, MarketSubscription, Secret, Settings};
use clever_host::betfair::{Message, StreamCache, StreamFile};
use clever_host::betfair_exchange::{Account, CallFault, Exchange, Limits, Running};
use tokio::sync::{mpsc, watch};

fn greyhound_win() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/betfair/1.197931750")
}

fn account() -> Account {
    Account {
        username: "trader".into(),
        password: Secret::new("a password"),
        app_key: Secret::new("app-key"),
    }
}

pub(crate) async fn exchange(speed: f64, limits: Limits) -> (Running, Secret) {
    let mut exchange = Exchange::local(account()).unwrap();
    (exchange.speed, exchange.limits) = (speed, limits);
    let running = exchange.start().await.unwrap();
    let token = running.sessions.login("trader", "a password").unwrap();
    (running, token)
}

fn endpoint(running: &Running) -> Endpoint {
    Endpoint {
        address: running.stream.to_string(),
        server_name: "127.0.0.1".into(),
        extra_roots_pem: Some(running.certificate_pem.clone().into_bytes()),
        app_key: Secret::new("app-key"),
    }
}

fn quick() -> Retry {
    Retry {
        first: Duration::from_millis(50),
        most: Duration::from_millis(400),
        connect_timeout: Duration::from_secs(5),
    }
}

/// Every field, heartbeats every 500 ms (silence after 1 s).
fn all_markets(clk: Option<&str>) -> Subscription {
    Subscription::Markets(MarketSubscription {
        id: Some(1),
        market_filter: None,
        market_data_filter: Some(MarketDataFilter::full_book()),
        settings: Settings {
            heartbeat_ms: Some(500),
            clk: clk.map(str::to_owned),
            ..Settings::default()
        },
    })
}

/// The tick in one of the local exchange's clocks ("epoch-tick").
fn tick(clk: &str) -> u64 {
    clk.rsplit_once('-')
        .and_then(|(_, t)| t.parse().ok())
        .unwrap()
}

/// A cache fed straight from the file: what the client's must end as.
fn from_file(path: &Path) -> StreamCache {
    let mut cache = StreamCache::new();
    for record in StreamFile::open(path).unwrap() {
        let message = record.unwrap().message;
        for change in &message.mc {
            cache.apply(message.pt, change);
        }
    }
    cache
}

type Following = (
    Running,
    tokio::task::JoinHandle<Result<(), StreamError>>,
    mpsc::Receiver<Event>,
    watch::Sender<Secret>,
);

/// An exchange at `speed` and a stream client following all its markets.
async fn following(speed: f64) -> Following {
    let (running, token) = exchange(speed, Limits::default()).await;
    let (session_tx, session) = watch::channel(token);
    let (tx, events) = mpsc::channel(1024);
    let subscription = all_markets(None);
    let client = tokio::spawn(follow(
        endpoint(&running),
        quick(),
        session,
        subscription,
        tx,
    ));
    (running, client, events, session_tx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_client_rides_out_a_drop_and_a_stall_and_misses_nothing() {
    let (running, client, mut events, _session) = following(100.0).await;
    let mut cache = StreamCache::new();
    let mut message = Message::default();
    let (mut last_tick, mut changes, mut resumed, mut reconnects) = (0, 0, 0, 0);
    let replay = running.replay(vec![greyhound_win()]);
    let faults = &running.shared.faults;
    loop {
        let event = tokio::time::timeout(Duration::from_secs(20), events.recv()).await;
        match event
            .expect("an event within 20 s")
            .expect("the client stopped")
        {
            Event::Subscribed { resumed: r, .. } => resumed += usize::from(r),
            Event::Reconnecting { .. } => reconnects += 1,
            Event::Change(line) => {
                message.parse(&line).unwrap();
                let clk: serde_json::Value = serde_json::from_str(&line).unwrap();
                if let Some(clk) = clk["clk"].as_str()
                    && !message.mc.is_empty()
                {
                    // No update is sent twice: every data message moves on.
                    assert!(
                        tick(clk) > last_tick,
                        "tick {} after {last_tick}",
                        tick(clk)
                    );
                    last_tick = tick(clk);
                }
                for change in &message.mc {
                    cache.apply(message.pt, change);
                }
                changes += 1;
                match changes {
                    20 => faults.drop_streams(),
                    60 => faults.stall_streams(Duration::from_millis(1500)),
                    _ => {}
                }
                let closed = cache
                    .markets()
                    .all(|m| m.book.view.status == clever_sdk::MarketStatus::Closed);
                if closed && cache.markets().count() > 0 {
                    break;
                }
            }
        }
    }
    client.abort();
    replay.await.unwrap().unwrap();
    assert!(
        reconnects >= 2 && resumed >= 2,
        "{reconnects} reconnects, {resumed} resumed"
    );
    let want = from_file(&greyhound_win());
    for market in want.markets() {
        let got = cache.get(market.book.view.id.as_str()).unwrap();
        assert_eq!(
            got.book.depth, market.book.depth,
            "{}",
            market.book.view.id.0
        );
        // Merged deltas carry the latest publish time; the rest is equal.
        let mut view = got.book.view.clone();
        view.publish_time = market.book.view.publish_time;
        assert_eq!(view, market.book.view);
    }
}

#[tokio::test]
async fn a_clock_the_exchange_never_sent_gets_a_fresh_image() {
    let (running, token) = exchange(0.0, Limits::default()).await;
    running
        .replay(vec![greyhound_win()])
        .await
        .unwrap()
        .unwrap();
    let (_session_tx, session) = watch::channel(token);
    let (tx, mut events) = mpsc::channel(64);
    let stale = all_markets(Some("0-1"));
    let client = tokio::spawn(follow(endpoint(&running), quick(), session, stale, tx));
    let first = events.recv().await.unwrap();
    assert!(
        matches!(first, Event::Subscribed { resumed: false, .. }),
        "{first:?}"
    );
    let Some(Event::Change(image)) = events.recv().await else {
        panic!("no image");
    };
    assert!(image.contains("\"ct\":\"SUB_IMAGE\""), "{image}");
    client.abort();
}

#[tokio::test]
async fn limits_and_a_bad_app_key_stop_the_client_instead_of_retrying() {
    let limits = Limits {
        markets: 0,
        ..Limits::default()
    };
    let (running, token) = exchange(0.0, limits).await;
    // The market's first message only: it is open, so it counts.
    let text = std::fs::read_to_string(greyhound_win()).unwrap();
    running.shared.apply(text.lines().next().unwrap());
    let (_session_tx, session) = watch::channel(token);
    let (tx, _events) = mpsc::channel(64);
    let over = follow(
        endpoint(&running),
        quick(),
        session.clone(),
        all_markets(None),
        tx.clone(),
    );
    let over = tokio::time::timeout(Duration::from_secs(10), over)
        .await
        .expect("over: hung");
    let Err(StreamError::Fatal(why)) = over else {
        panic!("the client retried a subscription over the limit");
    };
    assert!(why.contains("SubscriptionLimitExceeded"), "{why}");
    let mut wrong = endpoint(&running);
    wrong.app_key = Secret::new("not-it");
    let refused = follow(wrong, quick(), session, all_markets(None), tx);
    let refused = tokio::time::timeout(Duration::from_secs(10), refused)
        .await
        .expect("key: hung");
    assert!(matches!(refused, Err(StreamError::Fatal(why)) if why.contains("InvalidAppKey")));
}

async fn betting_client(running: &Running) -> BettingClient {
    let pem = running.certificate_pem.clone().into_bytes();
    betting_client_at(&format!("127.0.0.1:{}", running.https.port()), pem).await
}

/// The trader's client of the exchange whose HTTPS side is at `https`.
pub(crate) async fn betting_client_at(https: &str, pem: Vec<u8>) -> BettingClient {
    let base = format!("https://{https}");
    let config = BettingConfig {
        identity_url: format!("{base}/api/"),
        betting_url: format!("{base}/exchange/betting/json-rpc/v1"),
        extra_root_pem: Some(pem),
        requests_per_second: 20,
        timeout: Duration::from_secs(10),
    };
    let credentials = Credentials {
        username: "trader".into(),
        password: Secret::new("a password"),
        app_key: Secret::new("app-key"),
    };
    BettingClient::connect(config, credentials).await.unwrap()
}

fn back(selection: u64, price: f64) -> serde_json::Value {
    serde_json::json!({"selectionId": selection, "side": "BACK", "orderType": "LIMIT",
        "limitOrder": {"size": 2.0, "price": price, "persistenceType": "LAPSE"}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_betting_client_logs_in_again_only_when_its_session_is_refused() {
    let (running, _) = exchange(0.0, Limits::default()).await;
    let text = std::fs::read_to_string(greyhound_win()).unwrap();
    running.shared.apply(text.lines().next().unwrap());
    let client = betting_client(&running).await;
    assert_eq!(client.logins(), 1);
    client.keep_alive().await.unwrap();
    let market = "1.197931750";
    let place = |price, r: &str| {
        serde_json::json!({"marketId": market, "customerRef": r,
            "instructions": [back(44331354, price)]})
    };
    let placed = client
        .call("placeOrders", place(1000.0, "r-1"))
        .await
        .unwrap();
    assert_eq!(placed["status"], "SUCCESS", "{placed}");

    // The session ends on the exchange: the next call logs in once more
    // and goes through; the stream client sees the new token.
    let session = client.session();
    running.sessions.expire_all();
    let current = client
        .call("listCurrentOrders", serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!(current["currentOrders"].as_array().map(Vec::len), Some(1));
    assert_eq!(client.logins(), 2);
    assert!(
        running
            .sessions
            .check(Some("app-key"), Some(session.borrow().expose()))
            .is_ok()
    );

    // A rate refusal is an error to the caller, not a re-login.
    running.shared.faults.next_call(CallFault::TooManyRequests);
    let refused = client
        .call("listCurrentOrders", serde_json::json!({}))
        .await;
    assert!(
        matches!(refused, Err(BettingError::Refused { ref code, .. }) if code == "TOO_MANY_REQUESTS")
    );
    assert_eq!(client.logins(), 2);

    // A placement answered TIMEOUT is on the book all the same: the
    // client must look before placing again (issue 13 builds on this).
    running.shared.faults.next_call(CallFault::Timeout);
    let unsure = client
        .call("placeOrders", place(990.0, "r-2"))
        .await
        .unwrap();
    assert_eq!(unsure["status"], "TIMEOUT");
    let current = client
        .call("listCurrentOrders", serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!(current["currentOrders"].as_array().map(Vec::len), Some(2));
}

/// An engine running `plugins`, each on its own desk with the simulated
/// exchange's defaults.
fn on_paper(plugins: &[&str]) -> clever_host::engine::Engine<clever_host::engine::SimClock> {
    use clever_host::engine::{Desk, Engine, SimClock};
    use clever_host::risk::{RiskBook, RiskLimits};
    use clever_host::sim::SimVenue;
    let rt = crate::support::runtime();
    let mut engine = Engine::new(SimClock::default());
    for path in plugins {
        let desk = Desk::new(
            RiskBook::new(RiskLimits::default()),
            Box::new(SimVenue::new(Default::default())),
        );
        let plugin = rt.load(path);
        let instance = rt
            .runtime
            .instantiate(&plugin, "{}", clever_sdk::Timestamp(0), Box::new(desk))
            .unwrap();
        engine.add_strategy(instance);
    }
    engine
}

/// Back-fav-preoff and steam-chaser through one engine with the simulated
/// exchange (paper trading) over `source`: their order counts, matched
/// stakes and profits.
fn paper(source: &mut dyn clever_host::engine::MarketSource) -> Vec<(String, u64, String, String)> {
    use clever_plugin_artifacts as artifacts;
    let mut engine = on_paper(&[artifacts::BACK_FAV_PREOFF, artifacts::STEAM_CHASER]);
    engine.run(source, |e| panic!("a bad line: {e}"));
    engine.finish(source);
    let outcomes = engine.outcomes();
    outcomes
        .iter()
        .map(|o| {
            let orders = o.tally.placed;
            let matched: clever_host::market::Money =
                o.markets.iter().map(|m| m.figures.matched).sum();
            let profit: clever_host::market::Money =
                o.markets.iter().map(|m| m.figures.profit).sum();
            (
                o.name.clone(),
                orders,
                matched.to_string(),
                profit.to_string(),
            )
        })
        .collect()
}

/// The engine keeps the data's clock (`SimClock`), and the stream carries
/// the recorded publish times, so both runs see the same times: equality
/// is exact. It holds while the client keeps up; a client that lags gets
/// merged deltas (`con`), its plugins see fewer updates, and orders may
/// then differ (live mode proper, on the wall clock, will need a stated
/// tolerance).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_trading_on_the_live_stream_and_its_recording_place_what_a_backtest_places() {
    use clever_host::betfair::{BetfairFileSource, StoredRecords, StreamSource};
    let file = greyhound_win();
    let backtest = {
        let file = file.clone();
        tokio::task::spawn_blocking(move || paper(&mut BetfairFileSource::open(&file).unwrap()))
            .await
            .unwrap()
    };
    let (running, client, mut events, _session) = following(40.0).await;
    // The live stream as lines for the engine's thread, until the last
    // tick of the replay has come through.
    let (lines_tx, lines) = std::sync::mpsc::channel::<(u64, String)>();
    let (last_tx, last) = watch::channel(u64::MAX);
    let folder = tempfile::tempdir().unwrap();
    let recording = folder.path().join("recorded");
    let mut recorder = Recorder::create(&recording).unwrap();
    let forward = tokio::spawn(async move {
        let mut n = 0;
        while let Some(event) = events.recv().await {
            let Event::Change(line) = event else { continue };
            let value: serde_json::Value = serde_json::from_str(&line).unwrap();
            recorder.record(&line).unwrap();
            recorder.flush().unwrap();
            n += 1;
            if lines_tx.send((n, line)).is_err() {
                return;
            }
            if value["clk"]
                .as_str()
                .is_some_and(|c| tick(c) >= *last.borrow())
            {
                return;
            }
        }
    });
    let live = tokio::task::spawn_blocking(move || {
        let mut source =
            StreamSource::new(StoredRecords::new(lines.into_iter(), "live stream"), None);
        paper(&mut source)
    });
    running.replay(vec![file]).await.unwrap().unwrap();
    last_tx.send_replace(running.shared.markets().tick);
    tokio::time::timeout(Duration::from_secs(30), forward)
        .await
        .unwrap()
        .unwrap();
    client.abort();
    let live = live.await.unwrap();
    assert!(
        backtest.iter().any(|(_, orders, _, _)| *orders > 0),
        "{backtest:?}"
    );
    eprintln!("paper vs backtest: {live:?}");
    assert_eq!(live, backtest);
    // The recorded stream is a file a backtest reads: the same orders again.
    let replayed = tokio::task::spawn_blocking(move || {
        paper(&mut BetfairFileSource::open(&recording).unwrap())
    });
    assert_eq!(replayed.await.unwrap(), backtest);
}

/// The greyhound race fed to an exchange one line at a time, and the same
/// lines into a cache of our own (for the desk's view of the market).
pub(crate) struct Stepped {
    lines: Vec<String>,
    next: usize,
    cache: StreamCache,
}

impl Stepped {
    pub(crate) fn new() -> Stepped {
        let text = std::fs::read_to_string(greyhound_win()).unwrap();
        Stepped {
            lines: text.lines().map(str::to_owned).collect(),
            next: 0,
            cache: StreamCache::new(),
        }
    }

    /// Apply the next line to the exchange and the cache.
    pub(crate) fn step(&mut self, running: &Running) -> &clever_host::market::MarketBook {
        let line = &self.lines[self.next];
        self.next += 1;
        running.shared.apply(line);
        let mut message = Message::default();
        message.parse(line).unwrap();
        for change in &message.mc {
            self.cache.apply(message.pt, change);
        }
        &self.cache.get("1.197931750").unwrap().book
    }
}

/// A desk trading through a `BetfairVenue` against the local exchange:
/// orders are placed, matched, cancelled and replaced over the wire, the
/// desk hears of each change from the order stream, and its view of every
/// order is the exchange's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_on_betfair_places_is_matched_cancels_and_replaces_over_the_wire() {
    use clever_host::betfair_venue::{Trading, TradingConfig};
    use clever_host::engine::Desk;
    use clever_host::risk::{RiskBook, RiskLimits};
    use clever_host::runtime::HostServices;
    use clever_sdk::{MarketId, Order, OrderId, OrderRequest, Price, SelectionId, Side, Timestamp};
    use std::collections::HashMap;

    let (running, _) = exchange(0.0, Limits::default()).await;
    let mut race = Stepped::new();
    race.step(&running);
    let client = std::sync::Arc::new(betting_client(&running).await);
    let db = crate::store::TestDb::sqlite();
    let (name, version) = published(&db.url, clever_plugin_artifacts::BACK_FAV_PREOFF);
    let store = clever_host::store::Store::open(&db.url).await.unwrap();
    let (_, run) = store.start_session("live", "betfair", None).await.unwrap();
    let trading = Trading::start(
        client.clone(),
        TradingConfig {
            run,
            strategy_ref: "test-host".into(),
            stream: endpoint(&running),
            retry: quick(),
            default_commission_rate: 5.0,
            wake: std::sync::Arc::new(|| {}),
            surprises: std::sync::Arc::new(|_, _| {}),
            store: store.clone(),
            pending_grace: Duration::from_secs(1),
            settle_every: Duration::from_millis(200),
        },
    );
    let mut desk = Desk::new(
        RiskBook::new(RiskLimits::default()),
        Box::new(trading.venue(&name)),
    );
    desk.switch_version(&version);
    let now = Timestamp(0);
    let mut changes = Vec::new();
    desk.on_market(now, race.step(&running), &mut changes);
    let market = MarketId("1.197931750".into());
    let back = |selection: u64, price: f64| {
        OrderRequest::limit(
            market.clone(),
            SelectionId(selection),
            Side::Back,
            Price(price),
            2.0,
        )
    };
    let mut seen: HashMap<OrderId, Order> = HashMap::new();
    // Poll the desk, stepping the race on, until `done` holds of what it
    // heard (20 s at most).
    let mut until = async |desk: &mut Desk,
                           race: &mut Stepped,
                           what: &str,
                           done: &dyn Fn(&HashMap<OrderId, Order>) -> bool| {
        let start = std::time::Instant::now();
        loop {
            changes.clear();
            desk.poll(now, &mut changes);
            for c in &changes {
                seen.insert(c.order.id, c.order.clone());
            }
            if done(&seen) {
                return seen.clone();
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "waiting for {what}: {seen:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
            race.step(&running);
        }
    };
    let start_journal = std::time::Instant::now();
    let resting = desk.place_order(now, back(42930960, 1000.0)).unwrap();
    let doomed = desk.place_order(now, back(40095374, 1000.0)).unwrap();
    let executable = |id| {
        move |s: &HashMap<OrderId, Order>| {
            s.get(&id)
                .is_some_and(|o| o.status == clever_sdk::OrderStatus::Executable)
        }
    };
    until(&mut desk, &mut race, "placed", &|s| {
        executable(resting)(s) && executable(doomed)(s)
    })
    .await;

    desk.cancel_order(now, doomed).unwrap();
    let cancelled = |id| {
        move |s: &HashMap<OrderId, Order>| {
            s.get(&id)
                .is_some_and(|o| o.size_cancelled == 2.0 && !o.is_open())
        }
    };
    until(&mut desk, &mut race, "cancelled", &cancelled(doomed)).await;

    // Replaced at 1.01: it matches at once against the best price on offer.
    let replaced = desk.replace_order(now, resting, Price(1.01)).unwrap();
    let matched = |id| {
        move |s: &HashMap<OrderId, Order>| {
            s.get(&id)
                .is_some_and(|o| o.size_matched == 2.0 && !o.is_open())
        }
    };
    let seen = until(&mut desk, &mut race, "replaced and matched", &|s| {
        cancelled(resting)(s) && matched(replaced)(s)
    })
    .await;
    let fill = seen[&replaced].average_price_matched.unwrap();
    assert!(
        fill > 1.01,
        "matched at the best price on offer, not the limit: {fill}"
    );

    // The exchange's own book agrees, bet by bet.
    let current = client
        .call(
            "listCurrentOrders",
            serde_json::json!({"customerStrategyRefs": ["test-host"]}),
        )
        .await
        .unwrap();
    let bets = current["currentOrders"].as_array().unwrap();
    assert_eq!(bets.len(), 3, "{current}");
    for bet in bets {
        let reference = bet["customerOrderRef"].as_str().unwrap();
        let id = OrderId(reference.rsplit('-').next().unwrap().parse().unwrap());
        let ours = &seen[&id];
        assert_eq!(
            bet["sizeMatched"].as_f64(),
            Some(ours.size_matched),
            "{bet}"
        );
        assert_eq!(
            bet["sizeCancelled"].as_f64(),
            Some(ours.size_cancelled),
            "{bet}"
        );
        assert!(reference.starts_with(trading.run()), "{reference}");
    }

    // A bet of the host's reference the desk never heard of (a placement
    // whose answer was lost): a stopping host's last sweep cancels it.
    let lost = serde_json::json!({"marketId": "1.197931750", "customerStrategyRef": "test-host",
        "instructions": [self::back(42930960, 1000.0)]});
    let placed = client.call("placeOrders", lost).await.unwrap();
    assert_eq!(placed["status"], "SUCCESS", "{placed}");
    assert_eq!(trading.cancel_remaining().await.unwrap(), 1);

    // Every order the desk placed is in the journal as the exchange has
    // it, under the strategy's version; the bet the journal never wrote
    // came by the order stream and was adopted, with no strategy.
    let journal = loop {
        let all = store.journal_orders(&Default::default()).await.unwrap();
        if all.len() == 4 && all.iter().all(|o| o.bet_id.is_some()) {
            break all;
        }
        assert!(start_journal.elapsed() < Duration::from_secs(20), "{all:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for order in &journal {
        let reference = &order.customer_ref;
        match reference.starts_with(trading.run()) {
            true => {
                assert_eq!(order.strategy.as_deref(), Some(name.as_str()));
                assert_eq!(order.version.as_deref(), Some(version.as_str()));
                let ours = &seen[&OrderId(reference.rsplit('-').next().unwrap().parse().unwrap())];
                assert_eq!(order.matched.to_f64(), ours.size_matched, "{order:?}");
            }
            false => assert_eq!(order.strategy, None, "adopted: {order:?}"),
        }
    }
    race.step(&running);
    race.step(&running);
    let executable = serde_json::json!({"customerStrategyRefs": ["test-host"],
        "orderProjection": "EXECUTABLE"});
    let left = client.call("listCurrentOrders", executable).await.unwrap();
    assert_eq!(left["currentOrders"], serde_json::json!([]), "{left}");
    assert_eq!(trading.cancel_remaining().await.unwrap(), 0);
}

/// Each strategy's (orders, matched, profit) as `clever backtest --json`
/// reports them for `file`.
fn backtested(file: &Path) -> Vec<(String, u64, f64, f64)> {
    let out = crate::serve::ok(&backtest_both(file, &["--json"]));
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut rows: Vec<_> = (report["strategies"].as_array().unwrap().iter())
        .map(|s| {
            let money = |key: &str| {
                s[key]
                    .as_str()
                    .map_or_else(|| s[key].as_f64().unwrap(), |t| t.parse().unwrap())
            };
            (
                s["name"].as_str().unwrap().to_owned(),
                s["orders"].as_u64().unwrap(),
                money("matched"),
                money("profit"),
            )
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

/// Publish `plugin` into the database at `url` and make it active; its
/// name and version.
pub(crate) fn published(url: &str, plugin: &str) -> (String, String) {
    use crate::serve::{clever, ok};
    // "NAME@VERSION published (sha256 ...)"
    let out = ok(&clever(&["plugin", "publish", plugin, "--db", url]));
    let spec = out.split_whitespace().next().unwrap();
    let (name, version) = spec.split_once('@').unwrap();
    ok(&clever(&[
        "plugin",
        "activate",
        &format!("{name}@{version}"),
        "--db",
        url,
    ]));
    (name.to_owned(), version.to_owned())
}

/// `clever exchange` counts the market changes it replayed, not the lines:
/// a race's count is its `mcm` lines that change a market, and files of
/// orders, a race's positions and cricket replay none, which it warns about.
#[test]
fn the_local_exchange_counts_market_changes_and_warns_when_there_are_none() {
    use std::io::BufRead;
    let replayed = |file: &Path| {
        let mut child = exchange_command(file, "0")
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let _addresses = lines.next().unwrap().unwrap();
        let end: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
        child.kill().unwrap();
        let out = child.wait_with_output().unwrap();
        let said = String::from_utf8_lossy(&out.stderr).into_owned();
        (end["replayed"].as_u64().unwrap(), said)
    };
    let data = crate::backtest::betfair_data();
    let race = data.join("1.197931750");
    let changes = std::fs::read_to_string(&race)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|l| l["op"] == "mcm" && l["mc"].as_array().is_some_and(|mc| !mc.is_empty()))
        .count() as u64;
    let (count, said) = replayed(&race);
    assert_eq!(count, changes);
    assert!(!said.contains("warning"), "{said}");
    for other in [
        "ORDER-1.177596575",
        "RACE-1.140075353",
        "CRICKET-1.179676557",
    ] {
        let (count, said) = replayed(&data.join(other));
        assert_eq!(count, 0, "{other}");
        assert!(
            said.contains("warning: no market change in the replayed files"),
            "{other}: {said}"
        );
    }
}

/// `clever exchange` replaying `file` at `speed` on ports of its choosing,
/// with an account's credentials; its stdout piped.
fn exchange_command(file: &Path, speed: &str) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_clever"));
    command
        .args(["exchange", "--speed", speed])
        .args(["--stream-listen", "127.0.0.1:0"])
        .args(["--https-listen", "127.0.0.1:0"])
        .arg("--replay")
        .arg(file)
        .env("CLEVER_EXCHANGE_USERNAME", "trader")
        .env("CLEVER_EXCHANGE_PASSWORD", "a password")
        .env("CLEVER_EXCHANGE_APP_KEY", "app-key")
        .stdout(std::process::Stdio::piped());
    command
}

/// `clever exchange` replaying `file` at `speed`, started on subscription;
/// its stream and HTTPS addresses, and its later stdout lines.
pub(crate) fn exchange_process(
    file: &Path,
    speed: &str,
    cert: &Path,
    extra: &[&str],
) -> (
    std::process::Child,
    String,
    String,
    std::sync::mpsc::Receiver<String>,
) {
    use std::io::BufRead;
    let mut child = exchange_command(file, speed)
        .arg("--wait-for-subscriber")
        .args(extra)
        .arg("--cert-out")
        .arg(cert)
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    let (tx, later) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let address = |key: &str| first[key].as_str().unwrap().to_owned();
    (child, address("stream"), address("https"), later)
}

/// The whole live path through the `clever` command: `clever live` runs
/// the registry's active strategies (back-fav-preoff and steam-chaser,
/// which places, is matched, and cancels on a timer) against
/// `clever exchange` replaying a real race at 10x; then again with
/// `--paper`. Each run places the orders a backtest of the file places,
/// and ends with the same matched stake and profit.
///
/// Tolerance, and why it holds: none is needed on the orders. The host's
/// clock is the stream's publish time, so the plugins see the times a
/// backtest sees; the exchange matches with the simulated exchange's rules
/// at its own clock, which a round trip on loopback (a few ms, 10x: tens of
/// ms of race time) moves less than the 120 ms placement latency both
/// model and far less than the 1 s between this race's updates. A slower
/// machine, or a faster replay, could push an order past an update: the
/// matched stake would then differ by what traded in between.
#[test]
fn clever_live_and_paper_on_the_local_exchange_place_what_a_backtest_places() {
    use crate::serve::Server;
    use clever_plugin_artifacts as artifacts;
    let file = greyhound_win();
    let want = backtested(&file);
    assert!(want.iter().all(|(_, orders, _, _)| *orders > 0), "{want:?}");
    let db = crate::store::TestDb::sqlite();
    for plugin in [artifacts::BACK_FAV_PREOFF, artifacts::STEAM_CHASER] {
        published(&db.url, plugin);
    }
    for paper in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("exchange.pem");
        let (mut exchange, stream, https, _) = exchange_process(&file, "10", &cert, &[]);
        let config = dir.path().join("live.toml");
        let recordings = dir.path().join("recorded");
        let top = format!("record_dir = \"{}\"", recordings.display());
        let at = ("e2e", (stream.as_str(), https.as_str()));
        crate::crash::live_config(&config, &db.url, at, (&top, "settle_every_ms = 300"));
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_clever"));
        cmd.arg("live").arg("--config").arg(&config);
        if paper {
            cmd.arg("--paper");
        }
        cmd.env("CLEVER_CACHE_DIR", crate::serve::cache_dir())
            .env("E2E_USER", "trader")
            .env("E2E_KEY", "app-key")
            .env_remove("CLEVER_API_TOKEN");
        let mode = if paper { "paper" } else { "live" };
        let server = Server::spawn(cmd, &format!("clever live ({mode}): listening on "));
        let start = std::time::Instant::now();
        let got = loop {
            let status = server.get("/strategies");
            let strategies = status.as_array().cloned().unwrap_or_default();
            let settled = strategies.len() == 2
                && strategies
                    .iter()
                    .all(|s| s["totals"]["markets"].as_u64() == Some(1));
            if settled {
                break strategies;
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "{mode}: {status}"
            );
            std::thread::sleep(Duration::from_millis(200));
        };
        // The journal has every order, settled, under its version: live as
        // Betfair's cleared orders settle them, on paper as the simulated
        // exchange did.
        let journal = loop {
            let orders = server.get("/orders");
            let versions: Vec<_> = (orders["versions"].as_array().cloned().unwrap_or_default())
                .into_iter()
                .filter(|v| v["mode"] == mode)
                .collect();
            let placed: u64 = got
                .iter()
                .map(|s| s["tally"]["placed"].as_u64().unwrap())
                .sum();
            let journalled: u64 = versions.iter().map(|v| v["orders"].as_u64().unwrap()).sum();
            if journalled == placed && versions.iter().all(|v| v["unsettled"] == 0) {
                break versions;
            }
            assert!(
                start.elapsed() < Duration::from_secs(150),
                "{mode}: {orders}"
            );
            std::thread::sleep(Duration::from_millis(200));
        };
        drop(server);
        let _ = exchange.kill();
        let _ = exchange.wait();
        let mut journalled: Vec<_> = (journal.iter())
            .map(|v| {
                let matched = v["matched"].as_f64().unwrap();
                let name = v["strategy"].as_str().unwrap().to_owned();
                (name, v["orders"].as_u64().unwrap(), matched)
            })
            .collect();
        journalled.sort_by(|a, b| a.0.cmp(&b.0));
        let placed: Vec<_> = want.iter().map(|w| (w.0.clone(), w.1, w.2)).collect();
        assert_eq!(journalled, placed, "{mode}: the journal");
        let mut got: Vec<_> = got
            .iter()
            .map(|s| {
                let t = &s["totals"];
                let money = |key: &str| {
                    t[key]
                        .as_str()
                        .map_or_else(|| t[key].as_f64().unwrap(), |t| t.parse().unwrap())
                };
                (
                    s["name"].as_str().unwrap().to_owned(),
                    s["tally"]["placed"].as_u64().unwrap(),
                    money("matched"),
                    money("profit"),
                )
            })
            .collect();
        got.sort_by(|a, b| a.0.cmp(&b.0));
        eprintln!("{mode}: {got:?}; backtest: {want:?}");
        assert_eq!(got, want, "{mode}");
        // The stream it recorded is a file a backtest reads: the same again.
        let recorded = std::fs::read_dir(&recordings)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        assert_eq!(backtested(&recorded), want, "{mode}: the recording");
        compared_with_its_backtest(&db.url, mode, &recorded);
    }
}

/// `clever runs compare` on the session `clever live` just ran, against a
/// saved backtest of its recording: every order pairs with its twin and
/// the two fill alike, strategy by strategy. Against a backtest whose
/// orders reach the book a day late (so none fills), every order the
/// session filled is listed as filled on its side only.
fn compared_with_its_backtest(url: &str, mode: &str, recorded: &Path) {
    use crate::serve::{clever, ok};
    let json = |text: String| -> serde_json::Value { serde_json::from_str(&text).unwrap() };
    let sessions = json(ok(&clever(&["runs", "sessions", "--db", url, "--json"])));
    let session = &sessions[0];
    assert_eq!(session["mode"], mode, "{sessions}");
    assert_eq!(session["recording"], recorded.display().to_string());
    let session = format!("session:{}", session["id"]);
    let compare = |run: i64| {
        let run = run.to_string();
        json(ok(&clever(&[
            "runs", "compare", &session, &run, "--db", url, "--json",
        ])))
    };
    let same = compare(saved_backtest(url, recorded, None));
    let strategies = same["comparison"]["strategies"].as_array().unwrap();
    assert_eq!(strategies.len(), 2, "{same}");
    for s in strategies {
        let orders = &s["totals"][0]["orders"];
        assert!(orders.as_u64().unwrap() > 0, "{s}");
        assert_eq!(s["totals"][0], s["totals"][1], "{mode}: {s}");
        assert_eq!(
            (&s["paired"], &s["unpaired"]),
            (orders, &serde_json::json!([0, 0]))
        );
    }
    assert_eq!(same["comparison"]["differences"], serde_json::json!([]));
    let run = same["b"]["name"]
        .as_str()
        .unwrap()
        .trim_start_matches("run ");
    let table = ok(&clever(&["runs", "compare", &session, run, "--db", url]));
    eprintln!("{table}");
    assert!(table.contains("every order has its twin, and each pair filled alike"));

    let late = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        late.path(),
        "[simulation]\nplacement_latency_ms = 86400000\n",
    )
    .unwrap();
    let late = compare(saved_backtest(url, recorded, Some(late.path())));
    let strategies = late["comparison"]["strategies"].as_array().unwrap();
    let filled = |side: usize| -> u64 {
        let each = strategies.iter().map(|s| &s["totals"][side]["filled"]);
        each.map(|n| n.as_u64().unwrap()).sum()
    };
    assert!(filled(0) > 0, "{late}");
    assert_eq!(filled(1), 0, "{late}");
    let differences = late["comparison"]["differences"].as_array().unwrap();
    let filled_in_session_only = (differences.iter())
        .filter(|d| d["a"]["matched"].as_f64().unwrap_or(0.0) > 0.0)
        .filter(|d| d["b"].is_null() || d["b"]["matched"].as_f64() == Some(0.0))
        .count();
    assert_eq!(filled_in_session_only as u64, filled(0), "{late}");
    let run = late["b"]["name"]
        .as_str()
        .unwrap()
        .trim_start_matches("run ");
    let table = ok(&clever(&["runs", "compare", &session, run, "--db", url]));
    eprintln!("{table}");
    let listed = format!(
        "{} orders filled on one side and not the other",
        differences.len()
    );
    assert!(table.contains(&listed), "{table}");
}

/// `clever backtest --save` of the two plugins over `file` into `url`,
/// with `simulation`'s settings if given; the saved run's id.
fn saved_backtest(url: &str, file: &Path, simulation: Option<&Path>) -> i64 {
    let mut args = vec!["--save", "--db", url];
    if let Some(path) = simulation {
        args.extend(["--simulation", path.to_str().unwrap()]);
    }
    let out = backtest_both(file, &args);
    crate::serve::ok(&out);
    // "saved as run N: ..."
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr.lines().find_map(|l| l.strip_prefix("saved as run "));
    let id = line.and_then(|l| l.split(':').next()).unwrap_or_default();
    id.parse()
        .unwrap_or_else(|_| panic!("no run id in {stderr}"))
}

/// Bad live settings are refused before anything starts, each with what
/// was wrong and where, and no credential is ever printed.
#[test]
fn clever_live_refuses_bad_settings_naming_them_and_never_prints_a_credential() {
    let dir = tempfile::tempdir().unwrap();
    let password = dir.path().join("password");
    std::fs::write(&password, "s3cret-pw-81\n").unwrap();
    let run = |config: &str, env: &[(&str, &str)]| {
        let path = dir.path().join("live.toml");
        std::fs::write(&path, config).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_clever"))
            .arg("live")
            .arg("--config")
            .arg(&path)
            .env_remove("BETFAIR_USERNAME")
            .env_remove("BETFAIR_APP_KEY")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(!out.status.success());
        let text = String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout);
        assert!(!text.contains("s3cret-pw-81"), "{text}");
        assert!(!text.contains("k3y-771"), "{text}");
        text
    };
    // Nothing listens on port 9 of loopback.
    let base = format!(
        "[betfair]\nidentity = \"https://127.0.0.1:9/api/\"\nstream = \"127.0.0.1:9\"\n\
         [betfair.credentials]\npassword_file = \"{}\"\n",
        password.display()
    );
    let typo = format!("{base}[markets]\neventTypeId = [\"7\"]\n");
    let text = run(&typo, &[]);
    assert!(text.contains("unknown key \"eventTypeId\""), "{text}");
    let text = run(&base, &[]);
    assert!(text.contains("$BETFAIR_USERNAME is not set"), "{text}");
    let creds = [
        ("BETFAIR_USERNAME", "trader"),
        ("BETFAIR_APP_KEY", "k3y-771"),
    ];
    let text = run(&format!("{base}[api]\ninsecure_local = true\n"), &creds);
    assert!(
        text.contains("logging in at https://127.0.0.1:9/api/"),
        "{text}"
    );
    let long = base.replace(
        "[betfair]\n",
        "[betfair]\nstrategy_ref = \"a-reference-too-long\"\n",
    );
    let text = run(&long, &creds);
    assert!(text.contains("1 to 15 characters"), "{text}");
}

/// A host that runs for weeks keeps nothing of a market once it has
/// closed: each plugin instance forgets what it last sent of it (it kept
/// every market it ever delivered, about 0.4 KiB each, before).
#[test]
fn a_running_host_forgets_each_market_when_it_closes() {
    use clever_host::betfair::BetfairFileSource;
    use clever_host::betfair::generate::{GenConfig, generate};
    use clever_plugin_artifacts as artifacts;
    let dir = tempfile::tempdir().unwrap();
    let config = GenConfig {
        markets: 12,
        ..GenConfig::default()
    };
    let files = generate(&config, dir.path()).unwrap();
    let mut engine = on_paper(&[
        artifacts::BACK_FAV_PREOFF,
        artifacts::LAY_LOW_INPLAY,
        artifacts::STEAM_CHASER,
    ]);
    for file in &files {
        let mut source = BetfairFileSource::open(file).unwrap();
        engine.run(&mut source, |e| panic!("a bad line: {e}"));
    }
    assert_eq!(engine.markets(), 12);
    for outcome in engine.outcomes() {
        assert!(outcome.updates > 0, "{}", outcome.name);
        assert_eq!(
            outcome.held.markets, 0,
            "{} kept closed markets",
            outcome.name
        );
    }
}

/// A test holding `clever exchange` as a process switches its faults over
/// HTTPS (`--fault-control`), with the account's app key only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_switched_from_outside_the_exchange_process() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("exchange.pem");
    let (mut process, _, https, _) =
        exchange_process(&greyhound_win(), "0", &cert, &["--fault-control"]);
    let pem = std::fs::read(&cert).unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let url = format!("https://{https}/_exchange/faults");
    let switch = |key: &'static str, body: serde_json::Value| {
        http.post(&url)
            .header("X-Application", key)
            .json(&body)
            .send()
    };
    let faults = serde_json::json!({"next_calls": ["TOO_MANY_REQUESTS"]});
    let refused = switch("not-the-key", faults.clone()).await.unwrap();
    assert_eq!(refused.status(), 403);
    let bad = switch("app-key", serde_json::json!({"next_calls": ["LATE"]}))
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(
        bad.text()
            .await
            .unwrap()
            .contains("unknown call fault \\\"LATE\\\"")
    );
    assert_eq!(switch("app-key", faults).await.unwrap().status(), 200);

    let client = betting_client_at(&https, pem).await;
    let call = || client.call("listCurrentOrders", serde_json::json!({}));
    let first = call().await;
    assert!(
        matches!(first, Err(BettingError::Refused { ref code, .. }) if code == "TOO_MANY_REQUESTS"),
        "{first:?}"
    );
    assert!(call().await.is_ok(), "one fault, then as usual");
    let _ = process.kill();
    let _ = process.wait();
}

/// `clever backtest` of back-fav-preoff and steam-chaser over `file`, with
/// `options`.
fn backtest_both(file: &Path, options: &[&str]) -> std::process::Output {
    use clever_plugin_artifacts as artifacts;
    let mut args = vec!["backtest", "--plugin", artifacts::BACK_FAV_PREOFF];
    args.extend(["--plugin", artifacts::STEAM_CHASER]);
    args.extend(["--data", file.to_str().unwrap()]);
    args.extend(options);
    crate::serve::clever(&args)
}

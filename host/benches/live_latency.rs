//! The live path's latency on loopback: from a market change leaving the
//! local exchange to the order a plugin places on it being booked there,
//! and the host's own share of it.
//!
//! The exchange (in this process, its own tokio tasks) applies one line of
//! a real horse race at a time; the host follows it over TLS exactly as
//! `clever live` does (stream client, event loop thread, `BetfairVenue`,
//! Betting API over HTTPS); the reader fixture backs the first runner at
//! 1000 on every update. Each line waits for its order before the next.
//!
//! * total: `apply` of the line to the order booked by the exchange;
//! * exchange → stream client: `apply` to the line out of the host's
//!   stream client (the exchange's delta, TLS both ways, the client's read);
//! * host: the line out of the stream client to the order handed to the
//!   Betting API client (event loop wake-up, parse, cache, plugin call,
//!   risk, venue);
//! * Betting API → booked: from there to the order booked by the exchange
//!   (the client's task and HTTPS request, the exchange's server and book).
//!
//! The client's request rate limit is set out of the way: a thousand
//! orders in a few seconds is far over Betfair's 20 a second, and a host
//! over its limit waits for its turn by design, which is not latency.
//!
//! Run: `cargo bench -p clever-host --bench live_latency` (LIVE_SAMPLES
//! lines, default 1000; LIVE_DB an empty PostgreSQL database for the
//! journal instead of a SQLite file).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clever_host::betfair::StreamFormat;
use clever_host::betfair::client::betting::{BettingClient, BettingConfig, Credentials};
use clever_host::betfair::client::stream::{Endpoint, Event, Retry, Subscription, follow};
use clever_host::betfair::esa::{MarketDataFilter, MarketSubscription, Secret, Settings};
use clever_host::betfair_exchange::{Account, Exchange, Running};
use clever_host::betfair_venue::{BetfairVenue, Trading, TradingConfig};
use clever_host::engine::{Desk, Engine, MarketState, OrderChange, SimClock, Venue};
use clever_host::market::{MarketBook, MarketResult};
use clever_host::risk::{Approved, RiskBook, RiskLimits};
use clever_host::runtime::{LoadedPlugin, Runtime, RuntimeConfig};
use clever_host::serve::handle::version_row;
use clever_host::serve::{Feed, Input, LiveLoop};
use clever_host::store::Store;
use clever_sdk::{MarketId, Order, OrderId, RejectReason, Timestamp};

type Stamps = Arc<Mutex<Vec<Instant>>>;

/// The `BetfairVenue`, noting when each order is handed to it.
struct Timed {
    inner: BetfairVenue,
    placed: Stamps,
}

impl Venue for Timed {
    fn place(
        &mut self,
        id: OrderId,
        order: Approved,
        now: Timestamp,
        state: &MarketState,
    ) -> Result<Order, RejectReason> {
        let placed = self.inner.place(id, order, now, state);
        self.placed.lock().unwrap().push(Instant::now());
        placed
    }
    fn cancel(&mut self, id: OrderId, now: Timestamp) -> Result<(), RejectReason> {
        self.inner.cancel(id, now)
    }
    fn poll(&mut self, now: Timestamp, changes: &mut Vec<OrderChange>) {
        self.inner.poll(now, changes)
    }
    fn on_market(&mut self, now: Timestamp, book: &MarketBook, changes: &mut Vec<OrderChange>) {
        self.inner.on_market(now, book, changes)
    }
    fn switch_version(&mut self, version: &str) {
        self.inner.switch_version(version)
    }
    fn order(&self, id: OrderId) -> Option<Order> {
        self.inner.order(id)
    }
    fn orders(&self, market: &MarketId) -> Vec<Order> {
        self.inner.orders(market)
    }
    fn settle(&mut self, book: &MarketBook, changes: &mut Vec<OrderChange>) -> MarketResult {
        self.inner.settle(book, changes)
    }
}

fn race() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/betfair/1.200806927"
    );
    let text = std::fs::read_to_string(path).expect("the shared horse race");
    text.lines()
        .filter(|l| l.contains("\"mc\""))
        .map(str::to_owned)
        .collect()
}

fn main() {
    let samples = std::env::var("LIVE_SAMPLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio");
    tokio.block_on(measure(samples));
}

async fn measure(samples: usize) {
    let account = Account {
        username: "bench".into(),
        password: Secret::new("a password"),
        app_key: Secret::new("app-key"),
    };
    let mut exchange = Exchange::local(account).expect("exchange");
    exchange.speed = 0.0;
    let running = exchange.start().await.expect("start the exchange");
    let lines = race();
    running.shared.apply(&lines[0]);
    let client = Arc::new(betting_client(&running).await);
    let endpoint = Endpoint {
        address: running.stream.to_string(),
        server_name: "127.0.0.1".into(),
        extra_roots_pem: Some(running.certificate_pem.clone().into_bytes()),
        app_key: Secret::new("app-key"),
    };
    let (inputs_tx, inputs) = flume::unbounded();
    let wake = inputs_tx.clone();
    // The order journal, written before each order is sent, is part of
    // what is measured: a SQLite file, or the empty database `LIVE_DB`
    // names (PostgreSQL), with the reader fixture published.
    let dir = tempfile::tempdir().expect("temp dir");
    let url = std::env::var("LIVE_DB")
        .unwrap_or_else(|_| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let store = Store::open(&url).await.expect("the journal's database");
    let (runtime, plugin) = reader();
    let bytes = std::fs::read(clever_plugin_artifacts::FIXTURE_READER).expect("reader");
    (store.publish(&version_row(&plugin, &bytes, "{}")).await).expect("publish the reader");
    let (_, run) = (store.start_session("live", "betfair", None).await).expect("a session");
    let trading = Trading::start(
        client.clone(),
        TradingConfig {
            run,
            strategy_ref: "bench".into(),
            stream: endpoint.clone(),
            retry: Retry::default(),
            default_commission_rate: 5.0,
            wake: Arc::new(move || {
                let _ = wake.send(Input::Venue);
            }),
            surprises: Arc::new(|_, _| {}),
            store,
            pending_grace: Duration::from_secs(10),
            settle_every: Duration::from_secs(5),
        },
    );
    let placed = Stamps::default();
    let engine = host_engine(&trading, &placed, (&runtime, &plugin));
    let (_commands, commands) = flume::unbounded();
    let looping = std::thread::spawn(move || {
        LiveLoop::new(
            engine,
            commands,
            Feed::Live(inputs),
            Box::new(StreamFormat::ONE_CORE),
            "live",
        )
        .run()
    });
    let received = Stamps::default();
    let market_stream = follow_markets(endpoint, client.session(), inputs_tx, received.clone());
    // The image is an update too: wait for its order.
    booked_after(&running, 0).await.expect("the first order");
    let (mut total, mut host) = (Vec::new(), Vec::new());
    let (mut out, mut back) = (Vec::new(), Vec::new());
    for line in lines[1..].iter().take(samples) {
        let before = running.shared.orders().booked.len();
        received.lock().unwrap().clear();
        placed.lock().unwrap().clear();
        let start = Instant::now();
        running.shared.apply(line);
        let Some(done) = booked_after(&running, before).await else {
            continue;
        };
        let (r, p) = (
            received.lock().unwrap().clone(),
            placed.lock().unwrap().clone(),
        );
        if let (Some(r), Some(p)) = (r.last(), p.last()) {
            total.push(done - start);
            host.push(*p - *r);
            out.push(*r - start);
            back.push(done - *p);
        }
    }
    market_stream.abort();
    // One HTTPS call on its own, for scale: the keep-alive's round trip.
    let mut call = Vec::new();
    for _ in 0..200 {
        let start = Instant::now();
        client.keep_alive().await.expect("keep-alive");
        call.push(start.elapsed());
    }
    drop(trading);
    drop(looping);
    report(&mut [
        ("total (exchange→exchange)", &mut total),
        ("  exchange → stream client", &mut out),
        ("  host (line in→order out)", &mut host),
        ("  Betting API → booked", &mut back),
        ("a keep-alive's round trip", &mut call),
    ]);
}

/// An engine with the reader fixture backing on every update through a
/// timed `BetfairVenue`.
fn host_engine(
    trading: &Trading,
    placed: &Stamps,
    (runtime, plugin): (&Runtime, &Arc<LoadedPlugin>),
) -> Engine<SimClock> {
    let limits = RiskLimits {
        max_open_orders: usize::MAX,
        max_orders_per_hour: usize::MAX,
        max_market_liability: 1e12,
        max_selection_liability: 1e12,
        ..RiskLimits::default()
    };
    let venue = Timed {
        inner: trading.venue(&plugin.descriptor().name),
        placed: placed.clone(),
    };
    let desk = Desk::new(RiskBook::new(limits), Box::new(venue));
    let instance = runtime
        .instantiate(plugin, r#"{"orders": true}"#, Timestamp(0), Box::new(desk))
        .expect("start reader");
    let mut engine = Engine::new(SimClock::default()).keep_totals_only();
    engine.add_strategy(instance);
    engine
}

/// The runtime, and the reader fixture loaded in it.
fn reader() -> (Runtime, Arc<LoadedPlugin>) {
    let runtime = Runtime::new(RuntimeConfig {
        cache_dir: Some(std::env::temp_dir().join("clever-bench-cache")),
        ..RuntimeConfig::default()
    })
    .expect("runtime");
    let plugin = runtime
        .load_file(std::path::Path::new(
            clever_plugin_artifacts::FIXTURE_READER,
        ))
        .expect("load reader");
    (runtime, plugin)
}

/// Follow every market, noting when each line comes out of the client.
fn follow_markets(
    endpoint: Endpoint,
    session: tokio::sync::watch::Receiver<Secret>,
    inputs: flume::Sender<Input>,
    received: Stamps,
) -> tokio::task::JoinHandle<()> {
    let subscription = Subscription::Markets(MarketSubscription {
        id: Some(1),
        market_filter: None,
        market_data_filter: Some(MarketDataFilter::full_book()),
        settings: Settings::default(),
    });
    let (tx, mut events) = tokio::sync::mpsc::channel(1024);
    tokio::spawn(follow(
        endpoint,
        Retry::default(),
        session,
        subscription,
        tx,
    ));
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            if let Event::Change(line) = event {
                received.lock().unwrap().push(Instant::now());
                let _ = inputs.send(Input::Line(line));
            }
        }
    })
}

/// When the exchange has booked more than `before` orders (`None` after 2 s).
async fn booked_after(running: &Running, before: usize) -> Option<Instant> {
    let mut changed = running.shared.watch_orders();
    let wait = async {
        loop {
            if running.shared.orders().booked.len() > before {
                return Instant::now();
            }
            let _ = changed.changed().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(2), wait)
        .await
        .ok()
}

async fn betting_client(running: &Running) -> BettingClient {
    let base = format!("https://127.0.0.1:{}", running.https.port());
    let config = BettingConfig {
        identity_url: format!("{base}/api/"),
        betting_url: format!("{base}/exchange/betting/json-rpc/v1"),
        extra_root_pem: Some(running.certificate_pem.clone().into_bytes()),
        requests_per_second: 1_000_000,
        timeout: Duration::from_secs(10),
    };
    let credentials = Credentials {
        username: "bench".into(),
        password: Secret::new("a password"),
        app_key: Secret::new("app-key"),
    };
    BettingClient::connect(config, credentials)
        .await
        .expect("log in")
}

fn report(legs: &mut [(&str, &mut Vec<Duration>)]) {
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let at = |v: &mut Vec<Duration>, q: f64| {
        v.sort();
        v.get(((v.len() as f64 - 1.0) * q).round() as usize)
            .map_or(0.0, |d| us(*d))
    };
    println!("live_latency: {} orders", legs[0].1.len());
    println!("{:<28} {:>9} {:>9}", "", "median µs", "p99 µs");
    for (name, v) in legs.iter_mut() {
        println!("{name:<28} {:>9.0} {:>9.0}", at(v, 0.5), at(v, 0.99));
    }
}

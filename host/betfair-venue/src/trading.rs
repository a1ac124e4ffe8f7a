//! [`Trading`]: what every strategy's [`BetfairVenue`] shares on one host:
//! the logged-in Betting API client, the order stream, and the routes that
//! bring each order's news to the venue that placed it.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clever_betfair::client::betting::{BettingClient, BettingError};
use clever_betfair::client::stream::{Endpoint, Event, Retry, Subscription, follow};
use clever_betfair::esa::{OrderFilter, OrderSubscription, Settings};
use clever_sdk::OrderId;
use clever_store::{BetReport, JournalStatus, NewOrder, Reported, Store};
use serde_json::Value;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::journal::{Journal, stop_trading};
use crate::news::{News, OrderRef, nothing_done, placed, read_bets, route};
use crate::reconcile::{reconcile, resolve};
use crate::venue::BetfairVenue;

/// Called whenever a venue has news, to wake the engine's thread (which
/// then polls the venues).
pub type Wake = Arc<dyn Fn() + Send + Sync>;

/// Told what a reconciliation found that the journal did not expect:
/// (bets adopted, orders never received).
pub type Surprises = Arc<dyn Fn(usize, usize) + Send + Sync>;

/// How the host trades.
pub struct TradingConfig {
    /// This host run's session tag (`Store::start_session`): the prefix
    /// of every `customerOrderRef` it sends.
    pub run: String,
    /// The host's `customerStrategyRef` (Betfair allows 15 characters):
    /// its order stream follows only orders placed with it.
    pub strategy_ref: String,
    /// The Stream API, for the order stream.
    pub stream: Endpoint,
    /// How the order stream reconnects.
    pub retry: Retry,
    /// Commission, percent, where a market does not say.
    pub default_commission_rate: f64,
    /// Wakes the engine's thread.
    pub wake: Wake,
    /// Told (adopted, never received) when a reconciliation found bets
    /// the journal never wrote, or orders Betfair never had.
    pub surprises: Surprises,
    /// The order journal's database.
    pub store: Store,
    /// How long a placement of unknown outcome may stay pending before
    /// the exchange is asked whether it has it (a request may still be in
    /// its queue until then).
    pub pending_grace: Duration,
    /// How often unsettled orders are looked for among cleared ones.
    pub settle_every: Duration,
}

/// What the venues share (see the module's doc).
pub(crate) struct Shared {
    pub client: Arc<BettingClient>,
    /// This host run's prefix of every `customerOrderRef`.
    pub run: String,
    pub strategy_ref: String,
    pub default_commission_rate: f64,
    routes: Mutex<HashMap<u32, Sender<News>>>,
    next_desk: AtomicU32,
    /// Requests sent and not yet answered.
    in_flight: AtomicUsize,
    wake: Wake,
    surprises: Surprises,
    pub tokio: Handle,
    pub journal: Journal,
    /// New orders wait while this is true (a reconciliation runs).
    held: watch::Sender<bool>,
    /// The `customerOrderRef`s of placements sent and not yet answered.
    sending: Mutex<HashSet<String>>,
    /// When this process first found each pending order's outcome unknown
    /// (the grace period runs from then).
    pending_since: Mutex<HashMap<String, std::time::Instant>>,
    pub pending_grace: Duration,
    /// Why trading must stop, once it must.
    fail: watch::Sender<Option<String>>,
}

impl Shared {
    /// Hand `news` to the venue of `desk` and wake the engine.
    pub fn tell(&self, desk: u32, news: News) {
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(to) = routes.get(&desk) {
            let _ = to.send(news);
        }
        drop(routes);
        (self.wake)();
    }

    pub fn forget(&self, desk: u32) {
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        routes.remove(&desk);
    }

    /// Place one instruction (`body` is the whole `placeOrders` params),
    /// journalled as `order` before it is sent, and tell the desk how it
    /// went. While a reconciliation runs it waits; an order the journal
    /// cannot write is refused unsent.
    pub fn place(self: &Arc<Self>, desk: u32, id: OrderId, body: Value, order: NewOrder) {
        let shared = self.clone();
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.tokio.spawn(async move {
            let news = shared.send(id, body, &order).await;
            shared.tell(desk, news);
            shared.in_flight.fetch_sub(1, Ordering::Relaxed);
        });
    }

    async fn send(&self, id: OrderId, body: Value, order: &NewOrder) -> News {
        let mut held = self.held.subscribe();
        let _ = held.wait_for(|held| !held).await;
        if let Err(e) = self.journal.order(order).await {
            tracing::error!(
                "order {}: not sent, as it could not be journalled: {e}",
                id.0
            );
            let code = "NOT_JOURNALLED".to_owned();
            return News::Refused { id, code };
        }
        let customer_ref = &order.customer_ref;
        self.sending_now(customer_ref, true);
        let news = match self.client.call("placeOrders", body).await {
            Ok(reply) => placed(id, &reply),
            Err(BettingError::Refused { code, .. }) if nothing_done(&code) => {
                News::Refused { id, code }
            }
            Err(e) => News::Unknown {
                id,
                why: e.to_string(),
            },
        };
        match &news {
            News::Placed { bet_id, .. } => self.journal.placed(customer_ref, bet_id).await,
            News::Refused { code, .. } => {
                (self.journal)
                    .ended(customer_ref, JournalStatus::Rejected, code)
                    .await
            }
            News::Unknown { why, .. } => tracing::warn!(
                "order {customer_ref}: outcome unknown ({why}); it stays pending until the \
                 exchange says"
            ),
            _ => {}
        }
        self.sending_now(customer_ref, false);
        news
    }

    fn sending_now(&self, customer_ref: &str, sending: bool) {
        let mut refs = self.sending.lock().unwrap_or_else(|e| e.into_inner());
        match sending {
            true => refs.insert(customer_ref.to_owned()),
            false => refs.remove(customer_ref),
        };
    }

    /// A placement of `customer_ref` is on its way (its outcome is not
    /// known yet, and must not be guessed).
    pub fn in_flight(&self, customer_ref: &str) -> bool {
        let refs = self.sending.lock().unwrap_or_else(|e| e.into_inner());
        refs.contains(customer_ref)
    }

    /// How long this process has known `customer_ref` pending with an
    /// unknown outcome (from now, the first time it is asked).
    pub fn pending_for(&self, customer_ref: &str) -> Duration {
        let mut since = self.pending_since.lock().unwrap_or_else(|e| e.into_inner());
        let first = since
            .entry(customer_ref.to_owned())
            .or_insert_with(std::time::Instant::now);
        first.elapsed()
    }

    /// `customer_ref` is pending no longer.
    pub fn not_pending(&self, customer_ref: &str) {
        let mut since = self.pending_since.lock().unwrap_or_else(|e| e.into_inner());
        since.remove(customer_ref);
    }

    /// The exchange's word on a bet: into the journal, then to its desk
    /// if this host run placed it. `None` if the journal failed.
    pub async fn report(&self, bet: &BetReport) -> Option<Reported> {
        let done = self.journal.report(bet).await?;
        self.not_pending(&bet.customer_ref);
        if let Some((desk, reported)) = route(&self.run, bet) {
            self.tell(desk, News::Reported(reported));
        }
        Some(done)
    }

    /// A pending order of this run the exchange never received: its desk
    /// hears it was refused, so risk releases its stake.
    pub fn never_received(&self, customer_ref: &str) {
        if let Some(to) = OrderRef::parse(&self.run, customer_ref) {
            let code = "NEVER_RECEIVED".to_owned();
            self.tell(to.desk, News::Refused { id: to.order, code });
        }
    }

    /// Stop trading for `why` (the first reason is kept).
    pub fn stop(&self, why: String) {
        stop_trading(&self.fail, why);
    }

    /// Cancel a bet's unmatched stake; the order stream reports the
    /// result. A cancel not done (refused, or no answer) is told to the
    /// desk, so it may be asked again.
    pub fn cancel(self: &Arc<Self>, (desk, id): (u32, OrderId), market: String, bet_id: String) {
        let shared = self.clone();
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.tokio.spawn(async move {
            let body = serde_json::json!({"marketId": market,
                "instructions": [{"betId": bet_id}]});
            let failed = match shared.client.call("cancelOrders", body).await {
                Ok(reply) => cancel_failed(&reply),
                Err(e) => Some(e.to_string()),
            };
            if let Some(why) = failed {
                tracing::warn!("cancelling bet {bet_id}: {why}");
                shared.tell(desk, News::CancelFailed { id, why });
            }
            shared.in_flight.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

/// Why a `cancelOrders` answer (one instruction) says the cancel was not
/// done; `None` if it was, or if there was nothing left to cancel.
fn cancel_failed(reply: &Value) -> Option<String> {
    let report = &reply["instructionReports"][0];
    let code = report["errorCode"].as_str().or(reply["errorCode"].as_str());
    match (reply["status"].as_str(), code) {
        (Some("SUCCESS"), _) | (_, Some("BET_TAKEN_OR_LAPSED")) => None,
        (status, code) => Some(format!(
            "cancelOrders answered {} {}",
            status.unwrap_or("nothing"),
            code.unwrap_or("")
        )),
    }
}

/// The host's trading on one Betfair account.
pub struct Trading {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl Trading {
    /// Follow the account's orders of `config.strategy_ref` and keep the
    /// session alive, on the current tokio runtime.
    pub fn start(client: Arc<BettingClient>, config: TradingConfig) -> Trading {
        let (fail, _) = watch::channel(None);
        // Orders are held until the first reconciliation is done.
        let (held, _) = watch::channel(true);
        let journal = Journal::new(config.store, config.strategy_ref.clone(), fail.clone());
        let shared = Arc::new(Shared {
            client,
            run: config.run.clone(),
            strategy_ref: config.strategy_ref.clone(),
            default_commission_rate: config.default_commission_rate,
            routes: Mutex::new(HashMap::new()),
            next_desk: AtomicU32::new(1),
            in_flight: AtomicUsize::new(0),
            wake: config.wake.clone(),
            surprises: config.surprises.clone(),
            tokio: Handle::current(),
            journal,
            held,
            sending: Mutex::new(HashSet::new()),
            pending_since: Mutex::new(HashMap::new()),
            pending_grace: config.pending_grace,
            fail,
        });
        let tasks = vec![
            tokio::spawn(order_stream(shared.clone(), config.stream, config.retry)),
            tokio::spawn(keep_settling(shared.clone(), config.settle_every)),
        ];
        Trading { shared, tasks }
    }

    /// A venue for one more strategy (`name`; the engine tells it its
    /// version), with a route of its own.
    pub fn venue(&self, name: &str) -> BetfairVenue {
        let desk = self.shared.next_desk.fetch_add(1, Ordering::Relaxed);
        let (tx, news) = std::sync::mpsc::channel();
        let mut routes = (self.shared.routes.lock()).unwrap_or_else(|e| e.into_inner());
        routes.insert(desk, tx);
        drop(routes);
        BetfairVenue::new(self.shared.clone(), desk, news, name)
    }

    /// This run's prefix of every `customerOrderRef`.
    pub fn run(&self) -> &str {
        &self.shared.run
    }

    /// Why the order stream stopped for good, once it has: trading must
    /// stop too, as fills, cancels and lapses would no longer be heard of.
    pub fn failed(&self) -> watch::Receiver<Option<String>> {
        self.shared.fail.subscribe()
    }

    /// Whether new orders are held (until a reconciliation is done).
    pub fn held(&self) -> watch::Receiver<bool> {
        self.shared.held.subscribe()
    }

    /// Cancel every bet of the host's strategy reference still
    /// executable at the exchange, whoever placed it (the last sweep of a
    /// stopping host, for orders whose cancel never went: placements of
    /// unknown outcome, cancels put off until a bet id that never came).
    /// How many were asked to cancel.
    pub async fn cancel_remaining(&self) -> Result<usize, BettingError> {
        let client = &self.shared.client;
        let query = serde_json::json!({"customerStrategyRefs": [self.shared.strategy_ref],
            "orderProjection": "EXECUTABLE"});
        let current = client.call("listCurrentOrders", query).await?;
        let mut by_market: HashMap<String, Vec<Value>> = HashMap::new();
        for bet in current["currentOrders"].as_array().into_iter().flatten() {
            if let (Some(market), Some(bet_id)) = (bet["marketId"].as_str(), bet["betId"].as_str())
            {
                let instruction = serde_json::json!({ "betId": bet_id });
                by_market
                    .entry(market.to_owned())
                    .or_default()
                    .push(instruction);
            }
        }
        let mut asked = 0;
        for (market, instructions) in by_market {
            asked += instructions.len();
            let body = serde_json::json!({"marketId": market, "instructions": instructions});
            client.call("cancelOrders", body).await?;
        }
        Ok(asked)
    }

    /// Requests sent and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight.load(Ordering::Relaxed)
    }

    /// Wait until every request sent has its answer, `most` at the longest;
    /// how many are still unanswered then.
    pub async fn answered(&self, most: Duration) -> usize {
        let start = tokio::time::Instant::now();
        while self.in_flight() > 0 && start.elapsed() < most {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.in_flight()
    }
}

impl Drop for Trading {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Follow the order stream of the host's strategy reference: journal each
/// order's state and route it to its venue. Each time the stream
/// subscribes (first, and after any reconnect), new orders are held until
/// a reconciliation is done; one that fails stops trading.
async fn order_stream(shared: Arc<Shared>, endpoint: Endpoint, retry: Retry) {
    let subscription = Subscription::Orders(OrderSubscription {
        id: Some(2),
        order_filter: Some(OrderFilter {
            include_overall_position: Some(false),
            customer_strategy_refs: Some(vec![shared.strategy_ref.clone()]),
            partition_matched_by_strategy_ref: None,
        }),
        settings: Settings {
            heartbeat_ms: Some(1_000),
            ..Settings::default()
        },
    });
    let (tx, mut events) = mpsc::channel(1024);
    let session = shared.client.session();
    let following = tokio::spawn(follow(endpoint, retry, session, subscription, tx));
    while let Some(event) = events.recv().await {
        match event {
            Event::Change(line) => match read_bets(&line) {
                Ok(bets) => {
                    for bet in bets {
                        if shared.report(&bet).await.is_none() {
                            return;
                        }
                    }
                }
                Err(e) => tracing::warn!("order stream: skipped {e}"),
            },
            Event::Subscribed { .. } => {
                shared.held.send_replace(true);
                match reconcile(&shared).await {
                    Ok(found) => {
                        tracing::info!(?found, "orders reconciled");
                        if found.adopted > 0 || found.failed > 0 {
                            eprintln!(
                                "reconciled: {} current orders, {} adopted (placed under this \
                                 strategy reference, unknown to the journal), {} never received",
                                found.current, found.adopted, found.failed
                            );
                            (shared.surprises)(found.adopted, found.failed);
                        }
                        shared.held.send_replace(false);
                    }
                    Err(why) => {
                        shared.stop(format!("reconciling orders failed: {why}"));
                        return;
                    }
                }
            }
            Event::Reconnecting { why, .. } => {
                tracing::warn!("order stream: {why}; orders will be held until it reconciles")
            }
        }
    }
    let why = match following.await {
        Ok(Err(e)) => e.to_string(),
        Ok(Ok(())) => "it ended".to_owned(),
        Err(e) => e.to_string(),
    };
    shared.stop(format!("the order stream stopped: {why}"));
}

/// Every `every`: settle what the exchange has cleared, and end pending
/// orders it never received. A call that fails is tried again next time.
async fn keep_settling(shared: Arc<Shared>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        if *shared.held.borrow() {
            continue;
        }
        let unsettled = match shared.journal.unsettled().await {
            Ok(unsettled) => unsettled,
            Err(e) => {
                shared.stop(format!("reading the order journal failed: {e}"));
                return;
            }
        };
        if let Err(e) = resolve(&shared, unsettled, false).await {
            tracing::warn!("settling orders: {e}; trying again in {every:?}");
        }
    }
}

//! [`Trading`]: what every strategy's [`BetfairVenue`] shares on one host:
//! the logged-in Betting API client, the order stream, and the routes that
//! bring each order's news to the venue that placed it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clever_betfair::client::betting::{BettingClient, BettingError};
use clever_betfair::client::stream::{Endpoint, Event, Retry, Subscription, follow};
use clever_betfair::esa::{OrderFilter, OrderSubscription, Settings};
use clever_sdk::OrderId;
use serde_json::Value;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::news::{News, nothing_done, placed, read_orders};
use crate::venue::BetfairVenue;

/// Called whenever a venue has news, to wake the engine's thread (which
/// then polls the venues).
pub type Wake = Arc<dyn Fn() + Send + Sync>;

/// How the host trades.
pub struct TradingConfig {
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
    pub tokio: Handle,
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

    /// Place one instruction (`body` is the whole `placeOrders` params)
    /// and tell the desk how it went.
    pub fn place(self: &Arc<Self>, desk: u32, id: OrderId, body: Value) {
        let shared = self.clone();
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.tokio.spawn(async move {
            let news = match shared.client.call("placeOrders", body).await {
                Ok(reply) => placed(id, &reply),
                Err(BettingError::Refused { code, .. }) if nothing_done(&code) => {
                    News::Refused { id, code }
                }
                Err(e) => News::Unknown {
                    id,
                    why: e.to_string(),
                },
            };
            if let News::Unknown { why, .. } = &news {
                tracing::warn!(
                    "order {}: outcome unknown ({why}); the order stream will tell",
                    id.0
                );
            }
            shared.tell(desk, news);
            shared.in_flight.fetch_sub(1, Ordering::Relaxed);
        });
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
    failed: watch::Receiver<Option<String>>,
}

impl Trading {
    /// Follow the account's orders of `config.strategy_ref` and keep the
    /// session alive, on the current tokio runtime.
    pub fn start(client: Arc<BettingClient>, config: TradingConfig) -> Trading {
        let shared = Arc::new(Shared {
            client,
            run: run_tag(),
            strategy_ref: config.strategy_ref.clone(),
            default_commission_rate: config.default_commission_rate,
            routes: Mutex::new(HashMap::new()),
            next_desk: AtomicU32::new(1),
            in_flight: AtomicUsize::new(0),
            wake: config.wake.clone(),
            tokio: Handle::current(),
        });
        let (failed_tx, failed) = watch::channel(None);
        let tasks = vec![tokio::spawn(order_stream(
            shared.clone(),
            config.stream,
            config.retry,
            failed_tx,
        ))];
        Trading {
            shared,
            tasks,
            failed,
        }
    }

    /// A venue for one more strategy, with a route of its own.
    pub fn venue(&self) -> BetfairVenue {
        let desk = self.shared.next_desk.fetch_add(1, Ordering::Relaxed);
        let (tx, news) = std::sync::mpsc::channel();
        let mut routes = (self.shared.routes.lock()).unwrap_or_else(|e| e.into_inner());
        routes.insert(desk, tx);
        drop(routes);
        BetfairVenue::new(self.shared.clone(), desk, news)
    }

    /// This run's prefix of every `customerOrderRef`.
    pub fn run(&self) -> &str {
        &self.shared.run
    }

    /// Why the order stream stopped for good, once it has: trading must
    /// stop too, as fills, cancels and lapses would no longer be heard of.
    pub fn failed(&self) -> watch::Receiver<Option<String>> {
        self.failed.clone()
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

/// A short tag unique to this host run: the start time in milliseconds,
/// base 36 (8 characters until the year 2059).
fn run_tag() -> String {
    let mut n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let mut tag = Vec::new();
    while n > 0 {
        tag.push(b"0123456789abcdefghijklmnopqrstuvwxyz"[(n % 36) as usize]);
        n /= 36;
    }
    tag.reverse();
    String::from_utf8(tag).unwrap_or_default()
}

/// Follow the order stream of the host's strategy reference, routing each
/// order's state to its venue.
async fn order_stream(
    shared: Arc<Shared>,
    endpoint: Endpoint,
    retry: Retry,
    failed: watch::Sender<Option<String>>,
) {
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
        let Event::Change(line) = event else { continue };
        match read_orders(&shared.run, &line) {
            Ok(orders) => {
                for (desk, reported) in orders {
                    shared.tell(desk, News::Reported(reported));
                }
            }
            Err(e) => tracing::warn!("order stream: skipped {e}"),
        }
    }
    let why = match following.await {
        Ok(Err(e)) => e.to_string(),
        Ok(Ok(())) => "it ended".to_owned(),
        Err(e) => e.to_string(),
    };
    tracing::error!("the order stream stopped: {why}");
    failed.send_replace(Some(format!("the order stream stopped: {why}")));
}

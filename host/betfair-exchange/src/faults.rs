//! Faults the exchange can be told to commit, so clients are tested against
//! what Betfair does on a bad day (issue 12): drop every stream connection,
//! stall them (nothing sent, not even heartbeats), flag stream data as
//! stale (`status: 503`), and answer the next Betting API calls slowly or
//! with `TIMEOUT`, `TOO_MANY_REQUESTS`, `DUPLICATE_TRANSACTION` or
//! `INVALID_SESSION_INFORMATION`. Each switch is set at run time, by the
//! test or the operator holding the exchange, or from outside the process
//! over HTTPS ([`fault_routes`], `clever exchange --fault-control`).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::replay::Shared;
use crate::sessions::Sessions;

/// How the next Betting API call goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallFault {
    /// Answered correctly, after this long.
    Slow(Duration),
    /// Done, but answered as timed out: a placement's report says
    /// `TIMEOUT` (the order is on the book all the same); other calls get
    /// `TIMEOUT_ERROR`.
    Timeout,
    /// Refused as `TOO_MANY_REQUESTS`, not done.
    TooManyRequests,
    /// A placement refused as `DUPLICATE_TRANSACTION`, not done.
    DuplicateTransaction,
    /// Refused as `INVALID_SESSION_INFORMATION`, not done.
    InvalidSession,
}

/// The exchange's fault switches.
#[derive(Debug)]
pub struct Faults {
    drops: watch::Sender<u64>,
    stalled_until: Mutex<Option<Instant>>,
    stale: AtomicBool,
    calls: Mutex<VecDeque<CallFault>>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            drops: watch::Sender::new(0),
            stalled_until: Mutex::new(None),
            stale: AtomicBool::new(false),
            calls: Mutex::new(VecDeque::new()),
        }
    }
}

impl Faults {
    /// Close every open stream connection now, without a word.
    pub fn drop_streams(&self) {
        self.drops.send_modify(|n| *n += 1);
    }

    /// Wakes when streams are to be dropped.
    pub fn watch_drops(&self) -> watch::Receiver<u64> {
        self.drops.subscribe()
    }

    /// Send nothing on any stream for `how_long` (from now).
    pub fn stall_streams(&self, how_long: Duration) {
        let until = Instant::now() + how_long;
        *self
            .stalled_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(until);
    }

    /// Until when streams are stalled, if they are.
    pub fn stalled_until(&self) -> Option<Instant> {
        let until = *self
            .stalled_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        until.filter(|t| *t > Instant::now())
    }

    /// Mark stream messages stale (`status: 503`) or current again.
    pub fn set_stale(&self, stale: bool) {
        self.stale.store(stale, Ordering::Relaxed);
    }

    /// Whether stream messages say their data may be stale.
    pub fn stale(&self) -> bool {
        self.stale.load(Ordering::Relaxed)
    }

    /// The next Betting API call goes wrong this way (queued in order).
    pub fn next_call(&self, fault: CallFault) {
        self.calls().push_back(fault);
    }

    /// The fault the call being answered now must commit, if any.
    pub fn take_call(&self) -> Option<CallFault> {
        self.calls().pop_front()
    }

    fn calls(&self) -> std::sync::MutexGuard<'_, VecDeque<CallFault>> {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Faults asked for over HTTPS (`POST /_exchange/faults`): every field is
/// optional, and those given are switched at once.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRequest {
    /// Close every open stream connection now.
    #[serde(default)]
    pub drop_streams: bool,
    /// Send nothing on any stream for this long, ms.
    pub stall_streams_ms: Option<u64>,
    /// Flag stream data as stale (`status: 503`), or current again.
    pub stale: Option<bool>,
    /// The next Betting API calls go wrong, in this order: `TIMEOUT`,
    /// `TOO_MANY_REQUESTS`, `DUPLICATE_TRANSACTION`,
    /// `INVALID_SESSION_INFORMATION`, or `SLOW:<ms>`.
    #[serde(default)]
    pub next_calls: Vec<String>,
}

impl FaultRequest {
    /// Switch what it asks for on `faults`; a call fault it does not know
    /// is refused whole, before anything is switched.
    pub fn apply(&self, faults: &Faults) -> Result<(), String> {
        let calls = self
            .next_calls
            .iter()
            .map(|c| call_fault(c))
            .collect::<Result<Vec<_>, _>>()?;
        if self.drop_streams {
            faults.drop_streams();
        }
        if let Some(ms) = self.stall_streams_ms {
            faults.stall_streams(Duration::from_millis(ms));
        }
        if let Some(stale) = self.stale {
            faults.set_stale(stale);
        }
        for call in calls {
            faults.next_call(call);
        }
        Ok(())
    }
}

fn call_fault(name: &str) -> Result<CallFault, String> {
    match name {
        "TIMEOUT" => Ok(CallFault::Timeout),
        "TOO_MANY_REQUESTS" => Ok(CallFault::TooManyRequests),
        "DUPLICATE_TRANSACTION" => Ok(CallFault::DuplicateTransaction),
        "INVALID_SESSION_INFORMATION" => Ok(CallFault::InvalidSession),
        other => match other.strip_prefix("SLOW:").map(str::parse::<u64>) {
            Some(Ok(ms)) => Ok(CallFault::Slow(Duration::from_millis(ms))),
            _ => Err(format!(
                "unknown call fault {other:?}: TIMEOUT, TOO_MANY_REQUESTS, \
                 DUPLICATE_TRANSACTION, INVALID_SESSION_INFORMATION or SLOW:<ms>"
            )),
        },
    }
}

/// `POST /_exchange/faults`, for tests that hold the exchange as a process:
/// the account's app key (`X-Application`) must come with it.
pub fn fault_routes(shared: Arc<Shared>, sessions: Arc<Sessions>) -> Router {
    Router::new()
        .route("/_exchange/faults", post(switch))
        .with_state((shared, sessions))
}

async fn switch(
    State((shared, sessions)): State<(Arc<Shared>, Arc<Sessions>)>,
    headers: HeaderMap,
    Json(request): Json<FaultRequest>,
) -> (StatusCode, Json<Value>) {
    let key = headers.get("X-Application").and_then(|v| v.to_str().ok());
    if key.is_none_or(|k| k != sessions.app_key().expose()) {
        let error = json!({"error": "the account's app key (X-Application) is needed"});
        return (StatusCode::FORBIDDEN, Json(error));
    }
    match request.apply(&shared.faults) {
        Ok(()) => (StatusCode::OK, Json(json!({"switched": true}))),
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({ "error": e }))),
    }
}

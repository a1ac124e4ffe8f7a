//! The exchange over HTTP: `POST /info`, `POST /exchange` (signed
//! actions, each signature recovered and its nonce checked before the
//! action is carried out) and the WebSocket at `/ws` ([`crate::ws`]).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use clever_hyperliquid::{Action, Address, Signature, recover_signer};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::venue::Venue;

/// What every handler and the replay share.
#[derive(Debug)]
pub struct Shared {
    venue: Mutex<Venue>,
    /// Signatures are checked with mainnet's source (`a`) if set, else
    /// testnet's (`b`, what the official SDK signs for any other URL).
    pub mainnet: bool,
    /// A connection the exchange has sent nothing for this long is closed.
    pub idle: Duration,
    subscribed: watch::Sender<u64>,
    done: watch::Sender<bool>,
}

impl Shared {
    /// State shared by the server's connections.
    pub fn new(venue: Venue, mainnet: bool, idle: Duration) -> Arc<Shared> {
        Arc::new(Shared {
            venue: Mutex::new(venue),
            mainnet,
            idle,
            subscribed: watch::Sender::new(0),
            done: watch::Sender::new(false),
        })
    }

    /// The exchange, locked (briefly).
    pub fn venue(&self) -> MutexGuard<'_, Venue> {
        // Every change is made whole under the lock; carry on after a panic.
        self.venue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn subscribed(&self) {
        self.subscribed.send_modify(|n| *n += 1);
    }

    /// Wait until a WebSocket subscription has been taken.
    pub async fn first_subscriber(&self) {
        let _ = self.subscribed.subscribe().wait_for(|n| *n > 0).await;
    }

    pub(crate) fn replay_done(&self) {
        self.done.send_replace(true);
    }

    /// Wait until the replay has applied its last message.
    pub async fn replayed(&self) {
        let _ = self.done.subscribe().wait_for(|done| *done).await;
    }
}

/// The routes of the exchange.
pub fn routes(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/info", post(info))
        .route("/exchange", post(exchange))
        .route("/ws", get(crate::ws::upgrade))
        .with_state(shared)
}

async fn info(
    State(shared): State<Arc<Shared>>,
    Json(request): Json<Value>,
) -> (StatusCode, Json<Value>) {
    match shared.venue().info(&request) {
        Ok(reply) => (StatusCode::OK, Json(reply)),
        // The shape the official SDK reads from a 4xx reply.
        Err(msg) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"code": 400, "msg": msg, "data": null})),
        ),
    }
}

/// A signed request as `/exchange` takes it (protocol notes D.6).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Signed {
    action: Value,
    nonce: u64,
    signature: Signature,
    #[serde(default)]
    vault_address: Option<Address>,
    #[serde(default)]
    expires_after: Option<u64>,
}

async fn exchange(State(shared): State<Arc<Shared>>, body: String) -> Json<Value> {
    let request =
        serde_json::from_str(&body).map_err(|e| format!("Failed to deserialize the request: {e}"));
    Json(match request.and_then(|request| act(&shared, request)) {
        Ok(reply) => reply,
        Err(e) => json!({"status": "err", "response": e}),
    })
}

/// Check a signed request and carry out its action.
pub(crate) fn act(shared: &Shared, request: Value) -> Result<Value, String> {
    let signed: Signed = serde_json::from_value(request)
        .map_err(|e| format!("Failed to deserialize the request: {e}"))?;
    let action: Action = serde_json::from_value(signed.action)
        .map_err(|e| format!("Failed to deserialize the action: {e}"))?;
    if signed.vault_address.is_some() {
        return Err("Vaults and sub-accounts are not supported by the local exchange.".into());
    }
    let wall = wall_ms();
    if let Some(at) = signed
        .expires_after
        .filter(|at| i64::try_from(*at).unwrap_or(i64::MAX) < wall)
    {
        return Err(format!("Action expired at {at}, before {wall}."));
    }
    let signer = recover_signer(
        &action,
        (signed.nonce, None, signed.expires_after),
        shared.mainnet,
        &signed.signature,
    )
    .map_err(|e| format!("Invalid signature: {e}"))?;
    let mut venue = shared.venue();
    // A wrong signature recovers some other address: the venue names it.
    venue.use_nonce(signer, signed.nonce, wall)?;
    Ok(venue.act(signer, action))
}

/// The wall clock, epoch ms: nonces are checked against it (the venue's
/// block time), whatever the replay's clock says.
pub fn wall_ms() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

//! Signed requests to `/exchange` and reads of `/info`. Nonces are the
//! wall clock in ms, never repeated (one more than the last when the clock
//! has not moved), as the venue wants them. The key stays in here and is
//! never printed.

use std::sync::Mutex;
use std::time::Duration;

use clever_hyperliquid::{Action, Address, PrivateKey, sign_l1_action};
use serde_json::{Value, json};

/// A client of one account.
pub struct ExchangeClient {
    http: reqwest::Client,
    base: String,
    key: PrivateKey,
    mainnet: bool,
    last_nonce: Mutex<u64>,
}

impl std::fmt::Debug for ExchangeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ExchangeClient({}, {})", self.base, self.key.address())
    }
}

/// Mainnet's REST base; signatures there use source `a`, anywhere else
/// `b` (as the official SDK decides).
pub const MAINNET: &str = "https://api.hyperliquid.xyz";

/// The longest a request to the venue may take, connection included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a signed order stays good: well inside [`REQUEST_TIMEOUT`],
/// so a copy that reaches the venue after its request timed out (and
/// after the cancel sent then) is refused rather than left resting.
pub const ORDER_GOOD_FOR: Duration = Duration::from_secs(10);

impl ExchangeClient {
    /// A client for `base` (e.g. `http://127.0.0.1:3001`) signing with
    /// `key`; an error if TLS cannot start.
    pub fn new(base: &str, key: PrivateKey) -> Result<ExchangeClient, String> {
        // A request the venue never answers must not hold up the ones
        // behind it (a kill's cancels among them).
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| format!("starting the HTTP client: {e}"))?;
        Ok(ExchangeClient {
            http,
            base: base.trim_end_matches('/').to_owned(),
            key,
            mainnet: base.trim_end_matches('/') == MAINNET,
            last_nonce: Mutex::new(0),
        })
    }

    /// The account's address.
    pub fn address(&self) -> Address {
        self.key.address()
    }

    /// The WebSocket URL of the same venue.
    pub fn ws_url(&self) -> String {
        format!(
            "ws{}/ws",
            self.base.strip_prefix("http").unwrap_or(&self.base)
        )
    }

    fn nonce(&self) -> u64 {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        let now = now.map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let mut last = self
            .last_nonce
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *last = now.max(*last + 1);
        *last
    }

    /// Sign and send `action`; the venue's answer (`status` ok or err).
    pub async fn act(&self, action: &Action) -> Result<Value, String> {
        let body = self.signed(action, None)?;
        self.send_signed(&body).await
    }

    /// The signed request of `action`, not sent, good for `good_for` if
    /// given (the venue refuses it after): an error here means nothing
    /// reached the venue.
    pub fn signed(&self, action: &Action, good_for: Option<Duration>) -> Result<Value, String> {
        let nonce = self.nonce();
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let expires = good_for.map(|d| nonce.saturating_add(ms(d)));
        let signature = sign_l1_action(&self.key, action, (nonce, None, expires), self.mainnet)
            .map_err(|e| format!("signing: {e}"))?;
        Ok(
            json!({"action": action, "nonce": nonce, "signature": signature,
                  "vaultAddress": null, "expiresAfter": expires}),
        )
    }

    /// Send a request [`signed`](Self::signed); the venue's answer.
    pub async fn send_signed(&self, body: &Value) -> Result<Value, String> {
        self.post("/exchange", body).await
    }

    /// An `/info` request.
    pub async fn info(&self, body: &Value) -> Result<Value, String> {
        self.post("/info", body).await
    }

    async fn post(&self, path: &str, body: &Value) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let reply =
            (self.http.post(&url).json(body).send().await).map_err(|e| format!("{url}: {e}"))?;
        let status = reply.status();
        let value: Value = reply
            .json()
            .await
            .map_err(|e| format!("{url}: not JSON: {e}"))?;
        if !status.is_success() {
            return Err(format!("{url}: HTTP {status}: {value}"));
        }
        Ok(value)
    }
}

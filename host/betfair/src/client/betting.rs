//! The host's Betting API client (venue-protocols B.1 to B.7), over reqwest:
//! interactive login for a session token, keep-alive before the session
//! expires, a re-login only when a call is refused for its session (and
//! then that call once more), requests held to a rate limit (bursts of a second's worth allowed), and
//! JSON-RPC calls whose `APINGException`s come back as typed errors. The
//! session token is published on a watch channel, so the stream client
//! always logs in with the current one.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{Mutex, watch};
use tokio::time::Instant;

use crate::esa::Secret;

/// Where the account lives and how to reach it.
#[derive(Debug, Clone)]
pub struct BettingConfig {
    /// The identity endpoints' base, ending in `/api/` (Betfair:
    /// `https://identitysso.betfair.com/api/`).
    pub identity_url: String,
    /// The JSON-RPC endpoint (Betfair:
    /// `https://api.betfair.com/exchange/betting/json-rpc/v1`).
    pub betting_url: String,
    /// A certificate to trust besides the public roots (PEM), for a local
    /// exchange.
    pub extra_root_pem: Option<Vec<u8>>,
    /// Most requests a second (a second's worth may go at once).
    pub requests_per_second: u32,
    /// Each request must be answered within this.
    pub timeout: Duration,
}

/// The account's credentials; never logged or shown.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// Login name.
    pub username: String,
    /// Password.
    pub password: Secret,
    /// Application key.
    pub app_key: Secret,
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum BettingError {
    /// The request did not get an answer (connection, timeout, TLS).
    #[error("no answer from {url}: {reason}")]
    Transport {
        /// Where it went.
        url: String,
        /// What went wrong (reqwest's words; no credentials in them).
        reason: String,
    },
    /// Login was refused.
    #[error("login refused: {0}")]
    Login(String),
    /// Betfair refused the call (`APINGException`'s `errorCode`).
    #[error("{method} refused: {code} {details}")]
    Refused {
        /// The operation.
        method: String,
        /// The `errorCode`.
        code: String,
        /// Betfair's details, if any.
        details: String,
    },
    /// An answer that is not what the API sends.
    #[error("{0}")]
    Malformed(String),
}

impl BettingError {
    fn session_lost(&self) -> bool {
        matches!(self, BettingError::Refused { code, .. }
            if code == "INVALID_SESSION_INFORMATION" || code == "NO_SESSION")
    }
}

/// A rate limit of `rate` requests a second where a second's worth may go
/// at once, then one every 1/rate s: a token bucket, kept as the time it
/// would be empty again (GCRA). A burst of orders on one update is not
/// spaced out, and a steady flow is held to the rate.
#[derive(Debug)]
struct RateLimit {
    gap: Duration,
    burst: u32,
    empty_at: Instant,
}

impl RateLimit {
    fn new(rate: u32, now: Instant) -> RateLimit {
        let rate = rate.max(1);
        RateLimit {
            gap: Duration::from_secs(1) / rate,
            burst: rate,
            empty_at: now,
        }
    }

    /// When a request asked for at `now` may go.
    fn take(&mut self, now: Instant) -> Instant {
        self.empty_at = self.empty_at.max(now) + self.gap;
        let at = self.empty_at.checked_sub(self.gap * self.burst);
        at.map_or(now, |at| at.max(now))
    }
}

/// A logged-in Betting API client.
pub struct BettingClient {
    http: reqwest::Client,
    config: BettingConfig,
    credentials: Credentials,
    session: watch::Sender<Secret>,
    /// The request rate limit.
    limit: Mutex<RateLimit>,
    logins: AtomicU32,
}

impl BettingClient {
    /// Log in and return the client.
    pub async fn connect(
        config: BettingConfig,
        credentials: Credentials,
    ) -> Result<BettingClient, BettingError> {
        let mut builder = reqwest::Client::builder()
            .timeout(config.timeout)
            .tcp_nodelay(true);
        if let Some(pem) = &config.extra_root_pem {
            let cert = reqwest::Certificate::from_pem(pem)
                .map_err(|e| BettingError::Malformed(format!("trusted certificate: {e}")))?;
            builder = builder.add_root_certificate(cert);
        }
        let http = builder
            .build()
            .map_err(|e| BettingError::Malformed(format!("http client: {e}")))?;
        let rate = config.requests_per_second;
        let client = BettingClient {
            http,
            config,
            credentials,
            session: watch::Sender::new(Secret::new("")),
            limit: Mutex::new(RateLimit::new(rate, Instant::now())),
            logins: AtomicU32::new(0),
        };
        client.login().await?;
        Ok(client)
    }

    /// The session token, current as it is renewed.
    pub fn session(&self) -> watch::Receiver<Secret> {
        self.session.subscribe()
    }

    /// How many times it has logged in.
    pub fn logins(&self) -> u32 {
        self.logins.load(Ordering::Relaxed)
    }

    /// Wait for this request's turn under the rate limit.
    async fn slot(&self) {
        let now = Instant::now();
        let at = self.limit.lock().await.take(now);
        // A sleep, even one already due, waits for the timer's next
        // millisecond tick: only sleep when there is a wait.
        if at > now {
            tokio::time::sleep_until(at).await;
        }
    }

    async fn post(
        &self,
        request: reqwest::RequestBuilder,
        url: &str,
    ) -> Result<Value, BettingError> {
        self.slot().await;
        let transport = |e: reqwest::Error| BettingError::Transport {
            url: url.to_owned(),
            reason: e.without_url().to_string(),
        };
        let response = request.send().await.map_err(transport)?;
        response.json().await.map_err(transport)
    }

    /// Interactive login: a new session token.
    pub async fn login(&self) -> Result<(), BettingError> {
        let url = format!("{}login", self.config.identity_url);
        let c = &self.credentials;
        let form = [
            ("username", c.username.as_str()),
            ("password", c.password.expose()),
        ];
        let request = (self.http.post(&url).form(&form))
            .header("X-Application", c.app_key.expose())
            .header("Accept", "application/json");
        let reply = self.post(request, &url).await?;
        match (reply["status"].as_str(), reply["token"].as_str()) {
            (Some("SUCCESS"), Some(token)) if !token.is_empty() => {
                self.logins.fetch_add(1, Ordering::Relaxed);
                self.session.send_replace(Secret::new(token));
                Ok(())
            }
            _ => Err(BettingError::Login(
                reply["error"]
                    .as_str()
                    .unwrap_or("no reason given")
                    .to_owned(),
            )),
        }
    }

    /// Extend the session (call well before it expires: Betfair's last 12
    /// hours, a local exchange's may be shorter).
    pub async fn keep_alive(&self) -> Result<(), BettingError> {
        let url = format!("{}keepAlive", self.config.identity_url);
        let request = self.authenticated(self.http.post(&url));
        let reply = self.post(request, &url).await?;
        match reply["status"].as_str() {
            Some("SUCCESS") => Ok(()),
            _ => Err(BettingError::Refused {
                method: "keepAlive".into(),
                code: reply["error"].as_str().unwrap_or("FAIL").to_owned(),
                details: String::new(),
            }),
        }
    }

    /// Keep the session alive every `every`, for as long as the task
    /// runs; a keep-alive that fails logs in again.
    pub async fn keep_alive_every(&self, every: Duration) {
        loop {
            tokio::time::sleep(every).await;
            if let Err(e) = self.keep_alive().await {
                tracing::warn!("keep-alive failed ({e}); logging in again");
                if let Err(e) = self.login().await {
                    tracing::error!("login failed: {e}");
                }
            }
        }
    }

    fn authenticated(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let token = self.session.borrow().clone();
        request
            .header("X-Application", self.credentials.app_key.expose())
            .header("X-Authentication", token.expose())
            .header("Accept", "application/json")
    }

    /// Call `SportsAPING/v1.0/<method>`; a call refused for its session
    /// logs in again and is made once more.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, BettingError> {
        match self.call_once(method, &params).await {
            Err(e) if e.session_lost() => {
                tracing::warn!("betting: {method} refused for the session; logging in again");
                self.login().await?;
                self.call_once(method, &params).await
            }
            other => other,
        }
    }

    async fn call_once(&self, method: &str, params: &Value) -> Result<Value, BettingError> {
        let url = &self.config.betting_url;
        let body = json!({"jsonrpc": "2.0", "method": format!("SportsAPING/v1.0/{method}"),
            "params": params, "id": 1});
        let reply = self
            .post(self.authenticated(self.http.post(url)).json(&body), url)
            .await?;
        if let Some(result) = reply.get("result") {
            return Ok(result.clone());
        }
        let error = reply.get("error").ok_or_else(|| {
            BettingError::Malformed(format!("{method}: neither result nor error"))
        })?;
        let exception = &error["data"]["APINGException"];
        let code = exception["errorCode"]
            .as_str()
            .or(error["message"].as_str());
        Err(BettingError::Refused {
            method: method.to_owned(),
            code: code.unwrap_or("UNKNOWN").to_owned(),
            details: exception["errorDetails"].as_str().unwrap_or("").to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seconds_worth_of_requests_goes_at_once_then_one_per_gap() {
        let start = Instant::now();
        let mut limit = RateLimit::new(4, start);
        for _ in 0..4 {
            assert_eq!(limit.take(start), start);
        }
        let gap = Duration::from_millis(250);
        assert_eq!(limit.take(start), start + gap);
        assert_eq!(limit.take(start), start + gap * 2);
        // After a quiet second the bucket is full again.
        let later = start + Duration::from_secs(3);
        for _ in 0..4 {
            assert_eq!(limit.take(later), later);
        }
        assert_eq!(limit.take(later), later + gap);
    }
}

//! Alerts: a running host turns its plugins' signals (through the rules
//! in its alert file) and its own events (a strategy faulted or
//! quarantined, the day's loss limit reached, the kill switch, bets
//! found at the exchange that the journal never wrote) into rows in
//! `alerts`, each with an outbox row per webhook written in the same
//! transaction. A deliverer posts each to its webhook, marks it sent with
//! the time, and retries a failure with doubling backoff until the
//! webhook's attempts run out. The outbox is in the database, so a
//! restarted host delivers what the last one did not.
//!
//! Delivery is once per alert and webhook: a delivery is marked sent as
//! soon as the webhook answers 2xx. Only a host killed between that
//! answer and the write that records it sends one again; every request
//! carries `Idempotency-Key: clever-alert-ID` so a receiver can drop it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clever_engine::DeskEvents;
use clever_sdk::{RiskLimit, Signal, Timestamp};
use clever_store::{AlertRow, NewAlert, Store};
use serde::Deserialize;
use tokio::sync::{Notify, mpsc};

/// The alert file (`clever serve --alerts FILE`, `alerts = FILE` in the
/// live config): rules over signals, and where alerts go.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertConfig {
    /// Rules: `[[rule]]` tables.
    #[serde(default, rename = "rule")]
    pub rules: Vec<Rule>,
    /// Webhooks: `[[webhook]]` tables.
    #[serde(default, rename = "webhook")]
    pub webhooks: Vec<Webhook>,
    /// The first retry waits this long; each next one twice as long.
    #[serde(default = "default_backoff")]
    pub backoff_ms: u64,
    /// The longest wait between two attempts.
    #[serde(default = "default_max_backoff")]
    pub max_backoff_ms: u64,
}

impl AlertConfig {
    /// Why the file cannot be used: two webhooks of one name, a URL that
    /// is not one, a rule on no signal.
    pub fn check(&self) -> Result<(), String> {
        let mut names: Vec<&str> = self.webhooks.iter().map(|w| w.name.as_str()).collect();
        names.sort();
        if let Some(twice) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("two webhooks are called {:?}", twice[0]));
        }
        for w in &self.webhooks {
            reqwest::Url::parse(&w.url).map_err(|e| format!("webhook {}: url: {e}", w.name))?;
            if w.max_attempts == 0 {
                return Err(format!(
                    "webhook {}: max_attempts must be 1 or more",
                    w.name
                ));
            }
        }
        match self
            .rules
            .iter()
            .find(|r| r.signal.is_empty() || r.name.is_empty())
        {
            Some(r) => Err(format!(
                "rule {:?}: a rule needs a name and a signal",
                r.name
            )),
            None => Ok(()),
        }
    }
}

fn default_backoff() -> u64 {
    1_000
}
fn default_max_backoff() -> u64 {
    300_000
}

/// A rule: a plugin's signal called `signal` whose value compares with
/// `threshold` raises the alert `name`, at most once per `cooldown_secs`
/// (of the market's clock) per market and runner.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The alert's name.
    pub name: String,
    /// The signal it watches.
    pub signal: String,
    /// `>`, `>=`, `<`, `<=` or `==`.
    pub comparison: Comparison,
    /// What the value is compared with.
    pub threshold: f64,
    /// Quiet time after an alert, per market and runner.
    #[serde(default)]
    pub cooldown_secs: u64,
    /// `info`, `warning` or `critical`.
    #[serde(default = "default_severity")]
    pub severity: String,
}

fn default_severity() -> String {
    "info".into()
}

/// How a signal's value is compared with a rule's threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Comparison {
    /// Above.
    #[serde(rename = ">")]
    Above,
    /// At or above.
    #[serde(rename = ">=")]
    AtLeast,
    /// Below.
    #[serde(rename = "<")]
    Below,
    /// At or below.
    #[serde(rename = "<=")]
    AtMost,
    /// Equal.
    #[serde(rename = "==")]
    Equal,
}

impl Comparison {
    fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::Above => value > threshold,
            Comparison::AtLeast => value >= threshold,
            Comparison::Below => value < threshold,
            Comparison::AtMost => value <= threshold,
            Comparison::Equal => value == threshold,
        }
    }
}

/// Where alerts are posted.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    /// Its name, as deliveries are recorded.
    pub name: String,
    /// The URL to POST to.
    pub url: String,
    /// `json` (the alert) or `slack` (`{"text": ...}`).
    #[serde(default)]
    pub format: Format,
    /// Attempts before a delivery is given up.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// Each attempt must be answered within this.
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
}

fn default_attempts() -> u32 {
    10
}
fn default_timeout() -> u64 {
    5_000
}

/// A webhook's body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// The alert as JSON.
    #[default]
    Json,
    /// A Slack-compatible message.
    Slack,
}

/// Raises alerts; cheap to clone, callable from any thread.
#[derive(Clone)]
pub struct Alerter {
    inner: Arc<Inner>,
}

/// What a rule's cool-down is kept per: (rule, market, runner).
type Quiet = (String, Option<String>, Option<u64>);

struct Inner {
    config: AlertConfig,
    /// The venue whose markets signals name.
    venue: &'static str,
    raise: mpsc::UnboundedSender<NewAlert>,
    /// When each (rule, market, runner) last alerted, on the market clock.
    quiet_until: Mutex<HashMap<Quiet, i64>>,
}

impl Alerter {
    /// Start writing alerts to `store` and delivering them, on the
    /// current tokio runtime; markets are named as `venue`'s.
    pub fn start(store: Store, config: AlertConfig, venue: &'static str) -> Alerter {
        let (raise, mut raised) = mpsc::unbounded_channel::<NewAlert>();
        let wake = Arc::new(Notify::new());
        let names: Vec<String> = config.webhooks.iter().map(|w| w.name.clone()).collect();
        tokio::spawn({
            let (store, wake) = (store.clone(), wake.clone());
            async move {
                while let Some(alert) = raised.recv().await {
                    match store.raise_alert(&alert, &names).await {
                        Ok(_) => wake.notify_one(),
                        Err(e) => tracing::error!("alert {} not stored: {e}", alert.name),
                    }
                }
            }
        });
        tokio::spawn(deliver(store, config.clone(), wake));
        let inner = Inner {
            config,
            venue,
            raise,
            quiet_until: Mutex::new(HashMap::new()),
        };
        Alerter {
            inner: Arc::new(inner),
        }
    }

    /// `strategy`'s plugin signalled at `now`: raise each rule it trips.
    pub fn signal(&self, strategy: &str, now: Timestamp, signal: &Signal) {
        let market = signal.market_id.as_ref().map(|m| m.0.clone());
        let selection = signal.selection_id.map(|s| s.0);
        for rule in &self.inner.config.rules {
            if rule.signal != signal.name || !rule.comparison.holds(signal.value, rule.threshold) {
                continue;
            }
            let key = (rule.name.clone(), market.clone(), selection);
            let mut quiet = self
                .inner
                .quiet_until
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if quiet.get(&key).is_some_and(|until| now.0 < *until) {
                continue;
            }
            quiet.insert(key, now.0 + (rule.cooldown_secs as i64) * 1000);
            drop(quiet);
            self.raise(NewAlert {
                source: "signal",
                name: rule.name.clone(),
                value: signal.value,
                threshold: Some(rule.threshold),
                severity: rule.severity.clone(),
                message: format!(
                    "{strategy}: {} = {} ({:?} {})",
                    signal.name, signal.value, rule.comparison, rule.threshold
                ),
                strategy: Some(strategy.to_owned()),
                market: market.clone().map(|m| (self.inner.venue, m)),
                selection_id: selection,
                raised_at: now.0,
            });
        }
    }

    /// The host's own event `name` (value, threshold), about `strategy`.
    pub fn host_event(
        &self,
        name: &str,
        (value, threshold): (f64, Option<f64>),
        strategy: Option<&str>,
        message: String,
        now: Timestamp,
    ) {
        self.raise(NewAlert {
            source: "host",
            name: name.to_owned(),
            value,
            threshold,
            severity: "warning".into(),
            message,
            strategy: strategy.map(str::to_owned),
            market: None,
            selection_id: None,
            raised_at: now.0,
        });
    }

    fn raise(&self, alert: NewAlert) {
        if self.inner.raise.send(alert).is_err() {
            tracing::error!("an alert was raised after the alert writer stopped");
        }
    }

    /// A desk's events, as `strategy`'s.
    pub fn for_desk(&self, strategy: &str) -> Arc<dyn DeskEvents> {
        Arc::new(StrategyEvents {
            alerter: self.clone(),
            strategy: strategy.to_owned(),
        })
    }
}

struct StrategyEvents {
    alerter: Alerter,
    strategy: String,
}

impl DeskEvents for StrategyEvents {
    fn signal(&self, now: Timestamp, signal: &Signal) {
        self.alerter.signal(&self.strategy, now, signal);
    }

    fn limit_reached(&self, now: Timestamp, limit: RiskLimit) {
        let message = format!(
            "{}: the {} limit stops its orders",
            self.strategy,
            limit.code()
        );
        let name = format!("{}-limit", limit.code());
        self.alerter
            .host_event(&name, (1.0, None), Some(&self.strategy), message, now);
    }
}

/// Post every due delivery, then wait for the next one to fall due (or
/// a new alert), for as long as the runtime runs.
async fn deliver(store: Store, config: AlertConfig, wake: Arc<Notify>) {
    let client = reqwest::Client::new();
    let webhooks: HashMap<&str, &Webhook> = config
        .webhooks
        .iter()
        .map(|w| (w.name.as_str(), w))
        .collect();
    loop {
        let due = match store.due_deliveries(100).await {
            Ok(due) => due,
            Err(e) => {
                tracing::error!("reading the alert outbox: {e}");
                Vec::new()
            }
        };
        for d in &due {
            let Some(webhook) = webhooks.get(d.webhook.as_str()) else {
                let why = "no such webhook in the alert file (any more)";
                let _ = store
                    .delivery_failed((d.alert.id, &d.webhook), why, None)
                    .await;
                continue;
            };
            let outcome = post(&client, webhook, &d.alert).await;
            let written = match outcome {
                Ok(()) => store.delivery_sent(d.alert.id, &d.webhook).await,
                Err(why) => {
                    let attempts = d.attempts as u32 + 1;
                    let retry = (attempts < webhook.max_attempts).then(|| {
                        let wait = config
                            .backoff_ms
                            .saturating_mul(1 << (attempts - 1).min(20));
                        chrono::Utc::now().timestamp_millis()
                            + wait.min(config.max_backoff_ms) as i64
                    });
                    tracing::warn!("alert {} to {}: {why}", d.alert.id, d.webhook);
                    store
                        .delivery_failed((d.alert.id, &d.webhook), &why, retry)
                        .await
                }
            };
            if let Err(e) = written {
                tracing::error!("recording a delivery of alert {}: {e}", d.alert.id);
            }
        }
        if due.len() == 100 {
            continue;
        }
        let next = store.next_delivery().await.ok().flatten();
        let now = chrono::Utc::now().timestamp_millis();
        let wait = next.map_or(60_000, |at| (at - now).clamp(0, 60_000)) as u64;
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(wait.max(10))) => {}
        }
    }
}

/// One attempt; why it failed if it did.
async fn post(client: &reqwest::Client, webhook: &Webhook, alert: &AlertRow) -> Result<(), String> {
    let body = match webhook.format {
        Format::Json => serde_json::to_value(alert).map_err(|e| e.to_string())?,
        Format::Slack => serde_json::json!({ "text": slack_text(alert) }),
    };
    let answer = client
        .post(&webhook.url)
        .header("Idempotency-Key", format!("clever-alert-{}", alert.id))
        .timeout(Duration::from_millis(webhook.timeout_ms))
        .json(&body)
        .send()
        .await
        .map_err(|e| format!("no answer: {e}"))?;
    match answer.status() {
        s if s.is_success() => Ok(()),
        s => Err(format!("answered {s}")),
    }
}

fn slack_text(a: &AlertRow) -> String {
    let about = [a.strategy.as_deref(), a.market_id.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    let message = a.message.as_deref().unwrap_or_default();
    format!("*{}* ({}): {message} [{about}]", a.name, a.severity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alert_file_reads_and_comparisons_hold() {
        let text = r#"
            [[rule]]
            name = "drift"
            signal = "price-drifted"
            comparison = ">="
            threshold = 0.1
            cooldown_secs = 60
            [[webhook]]
            name = "ops"
            url = "http://127.0.0.1:9/hook"
            format = "slack"
        "#;
        let config: AlertConfig = toml::from_str(text).unwrap();
        assert_eq!(config.rules[0].comparison, Comparison::AtLeast);
        assert_eq!(
            (config.webhooks[0].format, config.webhooks[0].max_attempts),
            (Format::Slack, 10)
        );
        assert!(Comparison::AtLeast.holds(0.1, 0.1) && !Comparison::Above.holds(0.1, 0.1));
        assert!(Comparison::Below.holds(1.0, 2.0) && Comparison::Equal.holds(2.0, 2.0));
        let example: AlertConfig =
            toml::from_str(include_str!("../../../examples/alerts.toml")).unwrap();
        assert_eq!((example.rules.len(), example.webhooks.len()), (1, 1));
        assert_eq!(example.check(), Ok(()));
        let mut twice = example.clone();
        twice.webhooks.push(twice.webhooks[0].clone());
        assert!(twice.check().unwrap_err().contains("two webhooks"));
        let bad = toml::from_str::<AlertConfig>(
            "[[rule]]\nname = \"x\"\nsignal = \"s\"\ncomparison = \"=>\"\nthreshold = 1\n",
        );
        assert!(bad.unwrap_err().to_string().contains("=>"));
    }
}

//! Alerts and their outbox. An alert is written with one delivery row
//! per webhook in one transaction, so none is lost; a delivery is marked
//! sent (with the time) once the webhook took it, else retried at
//! `next_at`, until its attempts run out and it is marked failed.

use chrono::Utc;
use serde::Serialize;

use super::connect::{Store, StoreError, timed, with_pool};
use super::journal::ms;

/// An alert to raise.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewAlert {
    /// `signal` (a rule over a plugin's signal) or `host` (the host's own
    /// event).
    pub source: &'static str,
    /// Its name: the rule's, or the event's (`strategy-faulted`, ...).
    pub name: String,
    /// The value that raised it.
    pub value: f64,
    /// The threshold it crossed, if any.
    pub threshold: Option<f64>,
    /// `info`, `warning` or `critical`.
    pub severity: String,
    /// What it says.
    pub message: String,
    /// The strategy it concerns.
    pub strategy: Option<String>,
    /// The venue and market it concerns.
    pub market: Option<(&'static str, String)>,
    /// The runner it concerns.
    pub selection_id: Option<u64>,
    /// When it was raised, on the host's clock (epoch ms).
    pub raised_at: i64,
}

/// An alert as stored, with its deliveries.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct AlertRow {
    /// Its id: the same in every delivery of it (an idempotency key).
    pub id: i64,
    /// `signal` or `host`.
    pub source: String,
    /// Its name.
    pub name: String,
    /// The value.
    pub value: f64,
    /// The threshold, if any.
    pub threshold: Option<f64>,
    /// Its severity.
    pub severity: String,
    /// What it says.
    pub message: Option<String>,
    /// The strategy.
    pub strategy: Option<String>,
    /// The market id.
    pub market_id: Option<String>,
    /// The runner.
    pub selection_id: Option<i64>,
    /// When it was raised, on the host's clock (epoch ms).
    pub raised_at: Option<i64>,
    /// When it was stored (epoch ms).
    pub created_at: i64,
    /// Each webhook's delivery.
    #[sqlx(skip)]
    pub deliveries: Vec<DeliveryRow>,
}

/// One delivery of an alert.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct DeliveryRow {
    /// The webhook's name.
    pub webhook: String,
    /// Attempts made.
    pub attempts: i64,
    /// When it was sent (epoch ms); none until it is.
    pub sent_at: Option<i64>,
    /// When it was given up (epoch ms).
    pub failed_at: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// A delivery that is due.
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    /// The alert.
    pub alert: AlertRow,
    /// The webhook to send it to.
    pub webhook: String,
    /// Attempts made so far.
    pub attempts: i64,
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

impl Store {
    /// Store `alert` with a delivery due now to each of `webhooks`; its id.
    pub async fn raise_alert(&self, a: &NewAlert, webhooks: &[String]) -> Result<i64, StoreError> {
        const ALERT: &str = "INSERT INTO alerts (created_at, market, selection_id, name, value, \
            severity, message, source, strategy, threshold, raised_at) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id";
        const DELIVERY: &str =
            "INSERT INTO alert_deliveries (alert, webhook, next_at) VALUES ($1, $2, $3)";
        let what = format!("raising alert {}", a.name);
        let market = match &a.market {
            Some((venue, id)) => Some(self.market_row(venue, id).await?),
            None => None,
        };
        let now = now_ms();
        with_pool!(self, |pool, time| {
            let mut tx = timed(&what, pool.begin()).await?;
            let q = sqlx::query_scalar(ALERT)
                .bind(time(now))
                .bind(market)
                .bind(a.selection_id.map(|s| s as i64))
                .bind(&a.name)
                .bind(a.value)
                .bind(&a.severity)
                .bind(&a.message)
                .bind(a.source)
                .bind(&a.strategy)
                .bind(a.threshold)
                .bind(time(a.raised_at));
            let id: i64 = timed(&what, q.fetch_one(&mut *tx)).await?;
            for webhook in webhooks {
                let q = sqlx::query(DELIVERY).bind(id).bind(webhook).bind(time(now));
                timed(&what, q.execute(&mut *tx)).await?;
            }
            timed(&what, tx.commit()).await?;
            Ok(id)
        })
    }

    /// Deliveries due by now, oldest first, at most `limit`.
    pub async fn due_deliveries(&self, limit: i64) -> Result<Vec<Due>, StoreError> {
        const SQL: &str = "SELECT alert, webhook, attempts FROM alert_deliveries \
            WHERE sent_at IS NULL AND failed_at IS NULL AND next_at <= $1 \
            ORDER BY next_at, alert LIMIT $2";
        let rows: Vec<(i64, String, i64)> = with_pool!(self, |pool, time| {
            let q = sqlx::query_as(SQL).bind(time(now_ms())).bind(limit);
            timed("reading the alert outbox", q.fetch_all(pool)).await?
        });
        let mut due = Vec::with_capacity(rows.len());
        for (id, webhook, attempts) in rows {
            if let Some(alert) = self.alerts(Some(id), 1).await?.pop() {
                due.push(Due {
                    alert,
                    webhook,
                    attempts,
                });
            }
        }
        Ok(due)
    }

    /// When the next delivery falls due (epoch ms), if any is waiting.
    pub async fn next_delivery(&self) -> Result<Option<i64>, StoreError> {
        let sql = format!(
            "SELECT min({}) FROM alert_deliveries WHERE sent_at IS NULL AND failed_at IS NULL",
            ms(self.dialect(), "next_at")
        );
        with_pool!(self, |pool| {
            let q = sqlx::query_scalar(&sql);
            timed("reading the alert outbox", q.fetch_one(pool)).await
        })
    }

    /// The webhook took alert `id`.
    pub async fn delivery_sent(&self, id: i64, webhook: &str) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE alert_deliveries SET sent_at = $3, attempts = attempts + 1 \
            WHERE alert = $1 AND webhook = $2 AND sent_at IS NULL";
        with_pool!(self, |pool, time| {
            let q = sqlx::query(SQL).bind(id).bind(webhook).bind(time(now_ms()));
            timed("marking an alert sent", q.execute(pool)).await?;
        });
        Ok(())
    }

    /// An attempt to send alert `id` failed with `error`: try again at
    /// `retry_at` (epoch ms), or give up if none.
    pub async fn delivery_failed(
        &self,
        (id, webhook): (i64, &str),
        error: &str,
        retry_at: Option<i64>,
    ) -> Result<(), StoreError> {
        const RETRY: &str = "UPDATE alert_deliveries SET attempts = attempts + 1, \
            last_error = $3, next_at = $4 WHERE alert = $1 AND webhook = $2 AND sent_at IS NULL";
        const GIVE_UP: &str = "UPDATE alert_deliveries SET attempts = attempts + 1, \
            last_error = $3, failed_at = $4 WHERE alert = $1 AND webhook = $2 AND sent_at IS NULL";
        let (sql, at) = match retry_at {
            Some(at) => (RETRY, at),
            None => (GIVE_UP, now_ms()),
        };
        with_pool!(self, |pool, time| {
            let q = sqlx::query(sql)
                .bind(id)
                .bind(webhook)
                .bind(error)
                .bind(time(at));
            timed("recording a failed delivery", q.execute(pool)).await?;
        });
        Ok(())
    }

    /// Deliveries sent, given up, and waiting.
    pub async fn delivery_counts(&self) -> Result<(i64, i64, i64), StoreError> {
        const SQL: &str = "SELECT count(sent_at), count(failed_at), \
            CAST(COALESCE(sum(CASE WHEN sent_at IS NULL AND failed_at IS NULL THEN 1 ELSE 0 END), 0) \
            AS BIGINT) FROM alert_deliveries";
        with_pool!(self, |pool| {
            timed("counting deliveries", sqlx::query_as(SQL).fetch_one(pool)).await
        })
    }

    /// Alert `id`, or the newest `limit` alerts, newest first.
    pub async fn alerts(&self, id: Option<i64>, limit: i64) -> Result<Vec<AlertRow>, StoreError> {
        let d = self.dialect();
        let sql = format!(
            "SELECT a.id, a.source, a.name, a.value, a.threshold, a.severity, a.message, \
             a.strategy, m.market_id, a.selection_id, {} AS raised_at, {} AS created_at \
             FROM alerts a LEFT JOIN markets m ON m.id = a.market \
             WHERE $1 IS NULL OR a.id = $1 ORDER BY a.id DESC LIMIT $2",
            ms(d, "a.raised_at"),
            ms(d, "a.created_at")
        );
        let deliveries = format!(
            "SELECT webhook, attempts, {} AS sent_at, {} AS failed_at, last_error \
             FROM alert_deliveries WHERE alert = $1 ORDER BY webhook",
            ms(d, "sent_at"),
            ms(d, "failed_at")
        );
        let mut rows: Vec<AlertRow> = with_pool!(self, |pool| {
            let q = sqlx::query_as(&sql).bind(id).bind(limit.max(0));
            timed("listing alerts", q.fetch_all(pool)).await?
        });
        for alert in &mut rows {
            alert.deliveries = with_pool!(self, |pool| {
                let q = sqlx::query_as(&deliveries).bind(alert.id);
                timed("listing alert deliveries", q.fetch_all(pool)).await?
            });
        }
        Ok(rows)
    }
}

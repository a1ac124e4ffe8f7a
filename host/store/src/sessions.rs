//! Sessions: each run of a trading host (live, paper, a replay), with the
//! recording of the market data it saw. A session's tag begins the
//! `customer_ref` of every order it journals (`TAG-DESK-ORDER`), so its
//! orders are found without a column of their own, including those
//! written before the session row was read back after a crash.

use chrono::Utc;
use serde::Serialize;

use super::connect::{Store, StoreError, timed, with_pool};
use super::journal::{JournalOrder, ms};

/// One session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionRow {
    /// Its id (`clever runs compare session:ID RUN`).
    pub id: i64,
    /// The prefix of its orders' references.
    pub tag: String,
    /// `live`, `paper` or `replay`.
    pub mode: String,
    /// The venue (`betfair`).
    pub venue: String,
    /// When it started (epoch ms).
    pub started_at: i64,
    /// When it stopped; none while it runs, or if it was killed.
    pub stopped_at: Option<i64>,
    /// The market data it saw, as files a backtest reads, one per line.
    pub recording: Option<String>,
    /// Orders it journalled.
    pub orders: i64,
}

/// A short tag for a session started at `ms` (epoch): the time in base 36,
/// 8 characters until the year 2059, well inside Betfair's 32 for a
/// `customerOrderRef` with the desk and order numbers after it.
pub fn session_tag(ms: i64) -> String {
    let mut n = ms.max(0) as u64;
    let mut tag = Vec::new();
    while n > 0 {
        tag.push(b"0123456789abcdefghijklmnopqrstuvwxyz"[(n % 36) as usize]);
        n /= 36;
    }
    tag.reverse();
    String::from_utf8(tag).unwrap_or_default()
}

/// The orders whose reference begins with a session's tag `$1`.
const OF_TAG: &str = "o.run IS NULL AND substr(o.customer_ref, 1, length(CAST($1 AS TEXT)) + 1) \
    = CAST($1 AS TEXT) || '-'";

impl Store {
    /// Record the start of a session in `mode` on `venue`, its market data
    /// recorded in `recording`; its id and tag. Two sessions started in
    /// the same millisecond get different tags.
    pub async fn start_session(
        &self,
        mode: &str,
        venue: &str,
        recording: Option<&str>,
    ) -> Result<(i64, String), StoreError> {
        const SQL: &str = "INSERT INTO sessions (tag, mode, venue, started_at, recording) \
            VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tag) DO NOTHING RETURNING id";
        let mut at = Utc::now().timestamp_millis();
        loop {
            let tag = session_tag(at);
            let id: Option<i64> = with_pool!(self, |pool, time| {
                let q = sqlx::query_scalar(SQL)
                    .bind(&tag)
                    .bind(mode)
                    .bind(venue)
                    .bind(time(at))
                    .bind(recording);
                timed("starting a session", q.fetch_optional(pool)).await?
            });
            if let Some(id) = id {
                return Ok((id, tag));
            }
            at += 1;
        }
    }

    /// Record that session `id` stopped.
    pub async fn stop_session(&self, id: i64) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE sessions SET stopped_at = $2 WHERE id = $1";
        let now = Utc::now().timestamp_millis();
        with_pool!(self, |pool, time| {
            let q = sqlx::query(SQL).bind(id).bind(time(now));
            timed("stopping the session", q.execute(pool)).await?;
        });
        Ok(())
    }

    /// Every session, newest first (or only session `id`).
    pub async fn sessions(&self, id: Option<i64>) -> Result<Vec<SessionRow>, StoreError> {
        let d = self.dialect();
        let sql = format!(
            "SELECT s.id, s.tag, s.mode, s.venue, {} AS started_at, {} AS stopped_at, \
             s.recording, (SELECT count(*) FROM orders o WHERE {}) AS orders \
             FROM sessions s WHERE $1 IS NULL OR s.id = $1 ORDER BY s.id DESC",
            ms(d, "s.started_at"),
            ms(d, "s.stopped_at"),
            OF_TAG.replace("$1", "s.tag"),
        );
        type Row = (
            i64,
            String,
            String,
            String,
            i64,
            Option<i64>,
            Option<String>,
            i64,
        );
        let rows: Vec<Row> = with_pool!(self, |pool| {
            let q = sqlx::query_as(&sql).bind(id);
            timed("listing sessions", q.fetch_all(pool)).await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(id, tag, mode, venue, started_at, stopped_at, recording, orders)| SessionRow {
                    id,
                    tag,
                    mode,
                    venue,
                    started_at,
                    stopped_at,
                    recording,
                    orders,
                },
            )
            .collect())
    }

    /// The orders session `tag` journalled, oldest first.
    pub async fn session_orders(&self, tag: &str) -> Result<Vec<JournalOrder>, StoreError> {
        let filter = format!("{OF_TAG} ORDER BY o.id");
        self.journal_list(&filter, &[tag], "listing a session's orders")
            .await
    }

    /// The orders of saved backtest run `run`, oldest first.
    pub async fn run_orders(&self, run: i64) -> Result<Vec<JournalOrder>, StoreError> {
        let run = run.to_string();
        let filter = "o.run = CAST($1 AS BIGINT) ORDER BY o.id";
        self.journal_list(filter, &[&run], "listing a run's orders")
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_is_the_start_in_base_36() {
        assert_eq!(session_tag(0), "");
        assert_eq!(session_tag(35), "z");
        assert_eq!(session_tag(36), "10");
        // 2026-12-01: eight characters.
        assert_eq!(session_tag(1_796_083_200_000).len(), 8);
    }
}

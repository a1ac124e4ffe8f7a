//! Reading markets back for a backtest: which stored markets a query
//! means, and one market's stream lines in order.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use sqlx::{Postgres, QueryBuilder, Sqlite};

use super::connect::{Store, StoreError, timed};

/// Which stored markets to replay; empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MarketQuery {
    /// Venue market ids.
    pub market_ids: Vec<String>,
    /// Scheduled to start on or after this day (UTC).
    pub from: Option<NaiveDate>,
    /// Scheduled to start on or before this day (UTC).
    pub to: Option<NaiveDate>,
    /// Track.
    pub track: Option<String>,
    /// Event type id.
    pub event_type: Option<String>,
    /// Market type.
    pub market_type: Option<String>,
}

/// A stored market: its row id and venue id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMarket {
    /// Row id.
    pub row: i64,
    /// The venue's market id.
    pub market_id: String,
}

fn day_ms(day: NaiveDate, plus_days: i64) -> i64 {
    let start = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    Utc.from_utc_datetime(&start).timestamp_millis() + plus_days * 86_400_000
}

fn ts(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// Push the query's filters; `$time` binds a time for this database.
macro_rules! filters {
    ($q:expr, $query:expr, $time:expr) => {{
        let q = $q;
        let query = $query;
        q.push(" WHERE 1 = 1");
        if !query.market_ids.is_empty() {
            q.push(" AND market_id IN (");
            let mut ids = q.separated(", ");
            for id in &query.market_ids {
                ids.push_bind(id.clone());
            }
            q.push(")");
        }
        if let Some(from) = query.from {
            q.push(" AND scheduled_start >= ")
                .push_bind($time(day_ms(from, 0)));
        }
        if let Some(to) = query.to {
            q.push(" AND scheduled_start < ")
                .push_bind($time(day_ms(to, 1)));
        }
        if let Some(track) = &query.track {
            q.push(" AND track = ").push_bind(track.clone());
        }
        if let Some(event_type) = &query.event_type {
            q.push(" AND event_type = ").push_bind(event_type.clone());
        }
        if let Some(market_type) = &query.market_type {
            q.push(" AND market_type = ").push_bind(market_type.clone());
        }
        q.push(" ORDER BY scheduled_start, market_id");
    }};
}

impl Store {
    /// The stored markets a query means, by scheduled start then id.
    pub async fn find_markets(&self, query: &MarketQuery) -> Result<Vec<StoredMarket>, StoreError> {
        let what = "finding markets";
        const SELECT: &str = "SELECT id, market_id FROM markets";
        let rows: Vec<(i64, String)> = match self {
            Store::Sqlite { pool, .. } => {
                let mut q = QueryBuilder::<Sqlite>::new(SELECT);
                filters!(&mut q, query, |ms: i64| ms);
                timed(what, q.build_query_as().fetch_all(pool)).await?
            }
            Store::Postgres { pool, .. } => {
                let mut q = QueryBuilder::<Postgres>::new(SELECT);
                filters!(&mut q, query, ts);
                timed(what, q.build_query_as().fetch_all(pool)).await?
            }
        };
        Ok(rows
            .into_iter()
            .map(|(row, market_id)| StoredMarket { row, market_id })
            .collect())
    }

    /// One market's stream lines, (sequence, text), in order.
    pub async fn market_lines(&self, market: i64) -> Result<Vec<(i64, String)>, StoreError> {
        let what = format!("reading the stream of market row {market}");
        const SQL: &str = "SELECT seq, change FROM market_changes WHERE market = $1 ORDER BY seq";
        match self {
            Store::Sqlite { pool, .. } => {
                timed(&what, sqlx::query_as(SQL).bind(market).fetch_all(pool)).await
            }
            Store::Postgres { pool, .. } => {
                timed(&what, sqlx::query_as(SQL).bind(market).fetch_all(pool)).await
            }
        }
    }
}

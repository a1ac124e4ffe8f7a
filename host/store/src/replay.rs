//! Reading markets back for a backtest: which stored markets a query
//! means, and one market's stream lines in order.

use chrono::{NaiveDate, TimeZone, Utc};
use sqlx::{Database, Encode, QueryBuilder, Type};

use super::connect::{QUERY_TIMEOUT, Store, StoreError, timed, with_pool};

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

/// Push the query's filters and order; `time` turns epoch milliseconds
/// into this database's time value.
fn push_filters<'a, DB, T>(
    q: &mut QueryBuilder<'a, DB>,
    query: &MarketQuery,
    time: impl Fn(i64) -> T,
) where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    T: Encode<'a, DB> + Type<DB> + 'a,
{
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
            .push_bind(time(day_ms(from, 0)));
    }
    if let Some(to) = query.to {
        q.push(" AND scheduled_start < ")
            .push_bind(time(day_ms(to, 1)));
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
}

impl Store {
    /// The stored markets a query means, by scheduled start then id.
    pub async fn find_markets(&self, query: &MarketQuery) -> Result<Vec<StoredMarket>, StoreError> {
        let what = "finding markets";
        const SELECT: &str = "SELECT id, market_id FROM markets";
        let rows: Vec<(i64, String)> = with_pool!(self, |pool, time| {
            let mut q = QueryBuilder::new(SELECT);
            push_filters(&mut q, query, time);
            timed(what, q.build_query_as().fetch_all(pool)).await?
        });
        Ok(rows
            .into_iter()
            .map(|(row, market_id)| StoredMarket { row, market_id })
            .collect())
    }

    /// One market's stream lines, as they arrive: the rows are
    /// fetched on `runtime` while the caller (the engine, on its own
    /// thread) works through the ones already here. A database error ends
    /// the stream and is kept in [`StoredLines::failure`].
    pub fn stream_lines(
        &self,
        runtime: &tokio::runtime::Handle,
        market: &StoredMarket,
    ) -> StoredLines {
        let (tx, rx) = tokio::sync::mpsc::channel(8);
        let store = self.clone();
        let row = market.row;
        runtime.spawn(async move {
            if let Err(e) = store.send_lines(row, &tx).await {
                let _ = tx.send(Err(e)).await;
            }
        });
        StoredLines {
            rx,
            batch: Vec::new().into_iter(),
            failure: None,
        }
    }

    async fn send_lines(
        &self,
        market: i64,
        tx: &tokio::sync::mpsc::Sender<Result<Vec<(i64, String)>, StoreError>>,
    ) -> Result<(), StoreError> {
        use futures_util::TryStreamExt;
        let what = format!("reading the stream of market row {market}");
        const SQL: &str = "SELECT seq, change FROM market_changes WHERE market = $1 ORDER BY seq";
        const BATCH: usize = 512;
        // Both databases give the same boxed stream: one loop reads either.
        let mut rows = with_pool!(self, |pool| {
            sqlx::query_as::<_, (i64, String)>(SQL)
                .bind(market)
                .fetch(pool)
        });
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            let next = tokio::time::timeout(QUERY_TIMEOUT, rows.try_next()).await;
            let row = match next {
                Ok(Ok(Some(row))) => row,
                Ok(Ok(None)) => break,
                Ok(Err(source)) => return Err(StoreError::Query { what, source }),
                Err(_) => return Err(StoreError::Timeout { what }),
            };
            batch.push(row);
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                if tx.send(Ok(full)).await.is_err() {
                    return Ok(());
                }
            }
        }
        // Give the connection back before waiting on the reader.
        drop(rows);
        if !batch.is_empty() {
            let _ = tx.send(Ok(batch)).await;
        }
        Ok(())
    }
}

/// A stored market's lines `(sequence, text)`, in order, read from the
/// database a batch ahead. If reading fails the lines stop early and
/// [`StoredLines::failure`] says why.
pub struct StoredLines {
    rx: tokio::sync::mpsc::Receiver<Result<Vec<(i64, String)>, StoreError>>,
    batch: std::vec::IntoIter<(i64, String)>,
    failure: Option<StoreError>,
}

impl StoredLines {
    /// Why the lines stopped early, if they did.
    pub fn failure(&mut self) -> Option<StoreError> {
        self.failure.take()
    }
}

impl Iterator for StoredLines {
    type Item = (u64, String);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((seq, text)) = self.batch.next() {
                return Some((seq as u64, text));
            }
            match self.rx.blocking_recv()? {
                Ok(batch) => self.batch = batch.into_iter(),
                Err(e) => {
                    self.failure = Some(e);
                    return None;
                }
            }
        }
    }
}

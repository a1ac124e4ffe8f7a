//! Order-book orders of running hosts (paper and live), each as the venue
//! last reported it: a restarted host counts the last hour's toward its
//! hourly order limit, and `clever orders` lists them.
//!
//! Unlike the Betfair journal, which writes an order before it is sent, a
//! host writes these after the fact, about once a second: what a restart
//! reconciles with the venue is the orders' cloids, read from the venue
//! itself; this table is the record, and the hourly count's memory.

use clever_sdk::{BookOrder, BookSide, TimeInForce};
use serde::Serialize;

use super::connect::{Store, StoreError, timed, with_pool};
use super::journal::{OrderQuery, ms};
use super::runs::status;

/// Whose orders, and where they were placed.
#[derive(Debug, Clone, Copy)]
pub struct BookOrderSource<'a> {
    /// `paper` or `live`.
    pub mode: &'a str,
    /// The host session's tag.
    pub session: &'a str,
    /// The venue, e.g. `hyperliquid`.
    pub venue: &'a str,
    /// The strategy's name.
    pub strategy: &'a str,
    /// Its version.
    pub version: &'a str,
}

/// A stored order-book order.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct BookOrderRow {
    /// The host's id of it, unique in its session and strategy.
    pub order_id: i64,
    /// `paper` or `live`.
    pub mode: String,
    /// The host session's tag.
    pub session: String,
    /// The venue.
    pub venue: String,
    /// The strategy.
    pub strategy: String,
    /// Its version.
    pub version: String,
    /// The instrument.
    pub instrument: String,
    /// `buy` or `sell`.
    pub side: String,
    /// `gtc`, `ioc` or `post-only`.
    pub time_in_force: String,
    /// Only reduces the position.
    pub reduce_only: bool,
    /// Limit price.
    pub price: String,
    /// Size asked.
    pub size: String,
    /// Placed (ms).
    pub placed_at: i64,
    /// `PENDING`, `EXECUTABLE`, `EXECUTION_COMPLETE` or `REJECTED`.
    pub status: String,
    /// Size filled.
    pub filled: String,
    /// Average fill price.
    pub average_price: Option<String>,
    /// Fees paid.
    pub fees: String,
    /// Why it was refused.
    pub reason: Option<String>,
}

/// Insert an order, or bring its row up to date: the key is the session,
/// the strategy and the host's id. What was asked never changes.
const UPSERT: &str = "INSERT INTO book_orders (mode, session, venue, strategy, version, \
    order_id, instrument, side, time_in_force, reduce_only, price, size, placed_at, status, \
    filled, average_price, fees, reason, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
    $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) \
    ON CONFLICT (session, strategy, order_id) DO UPDATE SET status = excluded.status, \
    filled = excluded.filled, average_price = excluded.average_price, fees = excluded.fees, \
    reason = excluded.reason, updated_at = excluded.updated_at";

impl Store {
    /// Store `orders` of one strategy as they stand now (`now`, ms): new
    /// ones are added, known ones brought up to date. An order listed
    /// twice ends as its last listing says.
    pub async fn save_book_orders(
        &self,
        source: BookOrderSource<'_>,
        orders: &[BookOrder],
        now: i64,
    ) -> Result<(), StoreError> {
        let what = format!(
            "saving {} order-book orders of {}@{}",
            orders.len(),
            source.strategy,
            source.version
        );
        let s = source;
        with_pool!(self, |pool, time| {
            let mut tx = timed(&what, pool.begin()).await?;
            for o in orders {
                let r = &o.request;
                let q = sqlx::query(UPSERT)
                    .bind(s.mode)
                    .bind(s.session)
                    .bind(s.venue)
                    .bind(s.strategy)
                    .bind(s.version)
                    .bind(i64::try_from(o.id.0).unwrap_or(i64::MAX))
                    .bind(&r.instrument)
                    .bind(side_text(r.side))
                    .bind(time_in_force_text(r.time_in_force))
                    .bind(r.reduce_only)
                    .bind(number(r.price))
                    .bind(number(r.size))
                    .bind(time(o.placed_at.0))
                    .bind(status(o.status))
                    .bind(number(o.size_filled))
                    .bind(o.average_price.map(number))
                    .bind(number(o.fees))
                    .bind(o.rejection.as_ref().map(|why| why.code()))
                    .bind(time(now));
                timed(&what, q.execute(&mut *tx)).await?;
            }
            timed(&what, tx.commit()).await?;
            Ok(())
        })
    }

    /// When `strategy`'s orders in `mode` placed at or after `since` (ms)
    /// were placed, oldest first: what counts toward a restarting host's
    /// hourly order limit.
    pub async fn book_orders_placed_since(
        &self,
        strategy: &str,
        mode: &str,
        since: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let sql = format!(
            "SELECT {} FROM book_orders WHERE strategy = $1 AND mode = $2 AND placed_at >= $3 \
             ORDER BY placed_at",
            ms(self.dialect(), "placed_at")
        );
        let times: Vec<i64> = with_pool!(self, |pool, time| {
            let q = sqlx::query_scalar(&sql)
                .bind(strategy)
                .bind(mode)
                .bind(time(since));
            timed("reading order-book orders", q.fetch_all(pool)).await?
        });
        Ok(times)
    }

    /// The order-book orders `q` picks (its market is the instrument),
    /// newest first.
    pub async fn book_orders(&self, q: &OrderQuery) -> Result<Vec<BookOrderRow>, StoreError> {
        let (mut filters, args) = q.conditions(["strategy", "version", "status", "instrument"]);
        filters.insert(0, "TRUE".to_owned());
        let limit = q.limit_clause();
        let sql = format!(
            "SELECT order_id, mode, session, venue, strategy, version, instrument, side, \
             time_in_force, reduce_only, price, size, {} AS placed_at, status, filled, \
             average_price, fees, reason FROM book_orders WHERE {} ORDER BY placed_at DESC, \
             id DESC{limit}",
            ms(self.dialect(), "placed_at"),
            filters.join(" AND ")
        );
        let rows: Vec<BookOrderRow> = with_pool!(self, |pool| {
            let mut query = sqlx::query_as(&sql);
            for arg in &args {
                query = query.bind(*arg);
            }
            timed("listing order-book orders", query.fetch_all(pool)).await?
        });
        Ok(rows)
    }
}

/// A price, size or fee as the shortest decimal that prints it (the
/// WIT boundary's rule: see `clever_market::exact`).
fn number(x: f64) -> String {
    format!("{x}")
}

fn side_text(side: BookSide) -> &'static str {
    match side {
        BookSide::Buy => "buy",
        BookSide::Sell => "sell",
    }
}

fn time_in_force_text(tif: TimeInForce) -> &'static str {
    match tif {
        TimeInForce::Gtc => "gtc",
        TimeInForce::Ioc => "ioc",
        TimeInForce::PostOnly => "post-only",
    }
}

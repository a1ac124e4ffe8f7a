//! Market data of order-book instruments (perpetuals): candles and book
//! snapshots, rows the adapter has read and checked. Writing a row again
//! changes nothing, except that a candle's later state (the same open time
//! seen again as it grew) replaces the earlier one. On PostgreSQL both
//! tables are partitioned by day, like the odds.

use std::collections::HashSet;

use serde::Serialize;

use super::connect::{Dialect, Store, StoreError, timed, with_pool};
use super::journal::ms;

/// One candle. Prices and sizes are exact decimal strings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CandleRow {
    /// The venue, e.g. `hyperliquid`.
    pub venue: String,
    /// The instrument, e.g. `BTC`.
    pub coin: String,
    /// `1m`, `1h`, ...
    pub interval: String,
    /// Open time (epoch ms).
    pub open_time: i64,
    /// Close time (epoch ms).
    pub close_time: i64,
    /// Open, high, low, close.
    pub ohlc: [String; 4],
    /// Volume, in the instrument.
    pub volume: String,
    /// Trades in it.
    pub trades: i64,
}

/// One book snapshot: the touch, and the levels as JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BookRow {
    /// The venue.
    pub venue: String,
    /// The instrument.
    pub coin: String,
    /// The venue's time (epoch ms).
    pub at: i64,
    /// Best bid price and size, if any bid.
    pub best_bid: Option<(String, String)>,
    /// Best ask price and size, if any ask.
    pub best_ask: Option<(String, String)>,
    /// `[[[px, sz], ...bids], [...asks]]`, best first.
    pub levels: String,
}

const CANDLE: &str = "INSERT INTO perp_candles (venue, coin, interval, open_time, close_time, \
    open, high, low, close, volume, trades) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
    ON CONFLICT (venue, coin, interval, open_time) DO UPDATE SET close_time = excluded.close_time, \
    open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close, \
    volume = excluded.volume, trades = excluded.trades";
const BOOK: &str = "INSERT INTO perp_books (venue, coin, at, best_bid, best_bid_size, best_ask, \
    best_ask_size, levels) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
    ON CONFLICT (venue, coin, at) DO NOTHING";

impl Store {
    /// Store candles and book snapshots in one transaction: how many book
    /// snapshots were new.
    pub async fn save_perp_data(
        &self,
        candles: &[CandleRow],
        books: &[BookRow],
    ) -> Result<u64, StoreError> {
        let day = |ms: i64| ms.div_euclid(86_400_000);
        self.perp_partitions("perp_candles", candles.iter().map(|c| day(c.open_time)))
            .await?;
        self.perp_partitions("perp_books", books.iter().map(|b| day(b.at)))
            .await?;
        let what = format!("saving {} candles and {} books", candles.len(), books.len());
        with_pool!(self, |pool, time| {
            let mut tx = timed(&what, pool.begin()).await?;
            for c in candles {
                let [o, h, l, cl] = &c.ohlc;
                let q = sqlx::query(CANDLE)
                    .bind(&c.venue)
                    .bind(&c.coin)
                    .bind(&c.interval)
                    .bind(time(c.open_time))
                    .bind(time(c.close_time))
                    .bind(o)
                    .bind(h)
                    .bind(l)
                    .bind(cl)
                    .bind(&c.volume)
                    .bind(c.trades);
                timed(&what, q.execute(&mut *tx)).await?;
            }
            let mut new = 0;
            for b in books {
                let (bid, ask) = (b.best_bid.as_ref(), b.best_ask.as_ref());
                let q = sqlx::query(BOOK)
                    .bind(&b.venue)
                    .bind(&b.coin)
                    .bind(time(b.at))
                    .bind(bid.map(|l| &l.0))
                    .bind(bid.map(|l| &l.1))
                    .bind(ask.map(|l| &l.0))
                    .bind(ask.map(|l| &l.1))
                    .bind(&b.levels);
                new += timed(&what, q.execute(&mut *tx)).await?.rows_affected();
            }
            timed(&what, tx.commit()).await?;
            Ok(new)
        })
    }

    /// Day partitions of `table` (PostgreSQL without TimescaleDB).
    async fn perp_partitions(
        &self,
        table: &'static str,
        days: impl Iterator<Item = i64>,
    ) -> Result<(), StoreError> {
        if self.dialect() != Dialect::Postgres || !self.partitioned_odds().await? {
            return Ok(());
        }
        let days: HashSet<i64> = days.collect();
        self.create_day_partitions(table, &days).await
    }

    /// The candles of `coin` at `interval` opened in `[from, to)` (ms),
    /// oldest first.
    pub async fn perp_candles(
        &self,
        venue: &str,
        coin: &str,
        interval: &str,
        (from, to): (i64, i64),
    ) -> Result<Vec<CandleRow>, StoreError> {
        let open = ms(self.dialect(), "open_time");
        let sql = format!(
            "SELECT {open}, {}, open, high, low, close, volume, trades FROM perp_candles \
             WHERE venue = $1 AND coin = $2 AND interval = $3 AND {open} >= $4 AND {open} < $5 \
             ORDER BY open_time",
            ms(self.dialect(), "close_time")
        );
        type Row = (i64, i64, String, String, String, String, String, i64);
        let rows: Vec<Row> = with_pool!(self, |pool| {
            let q = sqlx::query_as(&sql)
                .bind(venue)
                .bind(coin)
                .bind(interval)
                .bind(from)
                .bind(to);
            timed("reading candles", q.fetch_all(pool)).await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(open_time, close_time, o, h, l, c, volume, trades)| CandleRow {
                    venue: venue.into(),
                    coin: coin.into(),
                    interval: interval.into(),
                    open_time,
                    close_time,
                    ohlc: [o, h, l, c],
                    volume,
                    trades,
                },
            )
            .collect())
    }

    /// Book snapshots of `coin` taken in `[from, to)` (ms), oldest first.
    pub async fn perp_books(
        &self,
        venue: &str,
        coin: &str,
        (from, to): (i64, i64),
    ) -> Result<Vec<BookRow>, StoreError> {
        let at = ms(self.dialect(), "at");
        let sql = format!(
            "SELECT {at}, best_bid, best_bid_size, best_ask, best_ask_size, levels FROM perp_books \
             WHERE venue = $1 AND coin = $2 AND {at} >= $3 AND {at} < $4 ORDER BY at"
        );
        type Row = (
            i64,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            String,
        );
        let rows: Vec<Row> = with_pool!(self, |pool| {
            let q = sqlx::query_as(&sql)
                .bind(venue)
                .bind(coin)
                .bind(from)
                .bind(to);
            timed("reading books", q.fetch_all(pool)).await?
        });
        let pair = |p: Option<String>, s: Option<String>| p.zip(s);
        Ok(rows
            .into_iter()
            .map(|(at, bp, bs, ap, as_, levels)| BookRow {
                venue: venue.into(),
                coin: coin.into(),
                at,
                best_bid: pair(bp, bs),
                best_ask: pair(ap, as_),
                levels,
            })
            .collect())
    }
}

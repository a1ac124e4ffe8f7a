//! Trade records of order-book instruments (a position from flat to flat,
//! in money and in R multiples), from backtests, paper and live trading,
//! and the notes learned from them, per strategy version.

use chrono::Utc;
use clever_market::TradeRecord;
use serde::Serialize;

use super::connect::{Store, StoreError, timed, with_pool};
use super::journal::ms;

/// Whose trades, and where they were made.
#[derive(Debug, Clone, Copy)]
pub struct TradeSource<'a> {
    /// `backtest`, `paper` or `live`.
    pub mode: &'a str,
    /// The saved backtest run, if any.
    pub run: Option<i64>,
    /// The paper or live session's tag, if any.
    pub session: Option<&'a str>,
    /// The venue, e.g. `hyperliquid`.
    pub venue: &'a str,
    /// The strategy's name.
    pub strategy: &'a str,
    /// Its version.
    pub version: &'a str,
}

/// A stored trade.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct TradeRow {
    /// Its id (notes name it).
    pub id: i64,
    /// `backtest`, `paper` or `live`.
    pub mode: String,
    /// The run, for a backtest.
    pub run: Option<i64>,
    /// The strategy.
    pub strategy: String,
    /// Its version.
    pub version: String,
    /// The instrument.
    pub instrument: String,
    /// `long` or `short`.
    pub direction: String,
    /// Opened (ms).
    pub opened_at: i64,
    /// Closed (ms).
    pub closed_at: i64,
    /// Entry, exit, stop.
    pub entry: String,
    /// Exit price.
    pub exit: String,
    /// Profit after fees and funding.
    pub pnl: String,
    /// R multiple, if a stop was named.
    pub r_multiple: Option<String>,
}

/// A note on a strategy version.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct NoteRow {
    /// Its id.
    pub id: i64,
    /// The strategy.
    pub strategy: String,
    /// Its version.
    pub version: String,
    /// The trade it is about, if any.
    pub trade: Option<i64>,
    /// What was learned.
    pub text: String,
    /// When (ms).
    pub created_at: i64,
}

/// A trade numbered in its session (`seq`) that is there already is not
/// stored again.
const TRADE: &str = "INSERT INTO trade_records (mode, run, session, venue, strategy, version, \
    instrument, direction, opened_at, closed_at, size, entry, exit, stop, pnl, fees, funding, \
    r_multiple, seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
    $16, $17, $18, $19) ON CONFLICT (session, strategy, seq) WHERE seq IS NOT NULL DO NOTHING \
    RETURNING id";

impl Store {
    /// Store `trades` of one strategy version; their ids, in order.
    pub async fn save_trades(
        &self,
        source: TradeSource<'_>,
        trades: &[TradeRecord],
    ) -> Result<Vec<i64>, StoreError> {
        self.save_trades_from(source, None, trades).await
    }

    /// Store `trades` of one strategy version in a running host's session,
    /// numbered there from `first` (0 for its first trade): one stored
    /// already, by a write whose answer was lost, is not stored again.
    /// The ids of those stored now, in order.
    pub async fn save_session_trades(
        &self,
        source: TradeSource<'_>,
        first: i64,
        trades: &[TradeRecord],
    ) -> Result<Vec<i64>, StoreError> {
        self.save_trades_from(source, Some(first), trades).await
    }

    async fn save_trades_from(
        &self,
        source: TradeSource<'_>,
        first: Option<i64>,
        trades: &[TradeRecord],
    ) -> Result<Vec<i64>, StoreError> {
        let what = format!(
            "saving {} trades of {}@{}",
            trades.len(),
            source.strategy,
            source.version
        );
        let s = source;
        with_pool!(self, |pool, time| {
            let mut tx = timed(&what, pool.begin()).await?;
            let mut ids = Vec::with_capacity(trades.len());
            for (n, t) in (0_i64..).zip(trades) {
                let text = |d: clever_market::Decimal| d.normalize().to_string();
                let q = sqlx::query_scalar::<_, i64>(TRADE)
                    .bind(s.mode)
                    .bind(s.run)
                    .bind(s.session)
                    .bind(s.venue)
                    .bind(s.strategy)
                    .bind(s.version)
                    .bind(&t.instrument)
                    .bind(t.direction)
                    .bind(time(t.opened_at))
                    .bind(time(t.closed_at))
                    .bind(text(t.size))
                    .bind(text(t.entry))
                    .bind(text(t.exit))
                    .bind(t.stop.map(text))
                    .bind(text(t.pnl))
                    .bind(text(t.fees))
                    .bind(text(t.funding))
                    .bind(t.r_multiple.map(text))
                    .bind(first.map(|first| first + n));
                ids.extend(timed(&what, q.fetch_optional(&mut *tx)).await?);
            }
            timed(&what, tx.commit()).await?;
            Ok(ids)
        })
    }

    /// Trades of `strategy` (at `version`, if given), oldest first.
    pub async fn trades(
        &self,
        strategy: &str,
        version: Option<&str>,
    ) -> Result<Vec<TradeRow>, StoreError> {
        let sql =
            self.select_trades("strategy = $1 AND (CAST($2 AS TEXT) IS NULL OR version = $2)");
        let rows: Vec<TradeRow> = with_pool!(self, |pool| {
            let q = sqlx::query_as(&sql).bind(strategy).bind(version);
            timed("reading trades", q.fetch_all(pool)).await?
        });
        Ok(rows)
    }

    /// Trades of `strategy` made in `mode` that closed at or after `since`
    /// (ms), oldest first: a restarting host's trades of the day, say.
    pub async fn trades_since(
        &self,
        strategy: &str,
        mode: &str,
        since: i64,
    ) -> Result<Vec<TradeRow>, StoreError> {
        let sql = self.select_trades("strategy = $1 AND mode = $2 AND closed_at >= $3");
        let rows: Vec<TradeRow> = with_pool!(self, |pool, time| {
            let q = sqlx::query_as(&sql)
                .bind(strategy)
                .bind(mode)
                .bind(time(since));
            timed("reading trades", q.fetch_all(pool)).await?
        });
        Ok(rows)
    }

    /// A query of trades, times in ms, oldest first.
    fn select_trades(&self, condition: &str) -> String {
        format!(
            "SELECT id, mode, run, strategy, version, instrument, direction, {} AS opened_at, \
             {} AS closed_at, entry, exit, pnl, r_multiple FROM trade_records WHERE {condition} \
             ORDER BY closed_at, id",
            ms(self.dialect(), "opened_at"),
            ms(self.dialect(), "closed_at")
        )
    }

    /// Add a note to `strategy@version`, about `trade` if given (which
    /// must be one of that version's); its id.
    pub async fn add_note(
        &self,
        strategy: &str,
        version: &str,
        trade: Option<i64>,
        text: &str,
    ) -> Result<i64, StoreError> {
        if let Some(id) = trade {
            const OF: &str = "SELECT count(*) FROM trade_records WHERE id = $1 AND strategy = $2 AND version = $3";
            let found: i64 = with_pool!(self, |pool| {
                let q = sqlx::query_scalar(OF).bind(id).bind(strategy).bind(version);
                timed("finding the trade", q.fetch_one(pool)).await?
            });
            if found == 0 {
                return Err(StoreError::Invalid(format!(
                    "trade {id} is not a trade of {strategy}@{version}"
                )));
            }
        }
        const SQL: &str = "INSERT INTO strategy_notes (strategy, version, trade, text, created_at) \
            VALUES ($1, $2, $3, $4, $5) RETURNING id";
        let now = Utc::now().timestamp_millis();
        with_pool!(self, |pool, time| {
            let q = sqlx::query_scalar(SQL)
                .bind(strategy)
                .bind(version)
                .bind(trade)
                .bind(text)
                .bind(time(now));
            timed("saving the note", q.fetch_one(pool)).await
        })
    }

    /// Notes on `strategy` (at `version`, if given), oldest first.
    pub async fn notes(
        &self,
        strategy: &str,
        version: Option<&str>,
    ) -> Result<Vec<NoteRow>, StoreError> {
        let sql = format!(
            "SELECT id, strategy, version, trade, text, {} AS created_at FROM strategy_notes \
             WHERE strategy = $1 AND (CAST($2 AS TEXT) IS NULL OR version = $2) ORDER BY id",
            ms(self.dialect(), "created_at")
        );
        let rows: Vec<NoteRow> = with_pool!(self, |pool| {
            let q = sqlx::query_as(&sql).bind(strategy).bind(version);
            timed("reading notes", q.fetch_all(pool)).await?
        });
        Ok(rows)
    }
}

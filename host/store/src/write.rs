//! Writing rows, per database: multi-row inserts in one transaction per
//! batch on SQLite; COPY into a staging table on PostgreSQL, then one
//! insert from it. Every write is idempotent: writing the same rows twice
//! leaves the tables as after the first time.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use chrono::Utc;
use sqlx::postgres::{PgConnection, PgPool};
use sqlx::sqlite::SqlitePool;
use sqlx::{Database, Encode, QueryBuilder, Sqlite, Type};

use super::connect::{Store, StoreError, timed, ts, with_pool};
use super::rows::{Batch, ChangeRow, DeadLetter, MarketRow, RunnerRow, SnapshotRow};

/// Rows per multi-row insert (SQLite allows 32,766 bound values).
const ROWS_PER_INSERT: usize = 1_000;

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Keep the last row of each key, in first-seen order (a later state of the
/// same runner in the same millisecond replaces the earlier one).
fn last_per_key(rows: &mut Vec<SnapshotRow>) {
    let mut seen: HashMap<(i64, i64, i64), usize> = HashMap::with_capacity(rows.len());
    let mut out: Vec<SnapshotRow> = Vec::with_capacity(rows.len());
    for row in rows.drain(..) {
        let key = (row.market, row.selection_id, row.published_at);
        match seen.get(&key) {
            Some(&i) => out[i] = row,
            None => {
                seen.insert(key, out.len());
                out.push(row);
            }
        }
    }
    *rows = out;
}

impl Store {
    /// Insert or update a market; returns its row id.
    pub async fn upsert_market(&self, m: &MarketRow) -> Result<i64, StoreError> {
        let what = format!("saving market {}", m.market_id);
        let (scheduled, actual) = (m.scheduled_start, m.actual_start);
        const SQL: &str = "INSERT INTO markets (venue, market_id, event_type, country, track, \
            market_type, number_of_winners, scheduled_start, actual_start, status, base_rate, source) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
            ON CONFLICT (venue, market_id) DO UPDATE SET event_type = excluded.event_type, \
            country = excluded.country, track = excluded.track, market_type = excluded.market_type, \
            number_of_winners = excluded.number_of_winners, \
            scheduled_start = excluded.scheduled_start, \
            actual_start = COALESCE(excluded.actual_start, markets.actual_start), \
            status = excluded.status, base_rate = excluded.base_rate, source = excluded.source \
            RETURNING id";
        with_pool!(self, |pool, time| {
            let q = sqlx::query_scalar(SQL)
                .bind(&m.venue)
                .bind(&m.market_id)
                .bind(&m.event_type)
                .bind(&m.country)
                .bind(&m.track)
                .bind(&m.market_type)
                .bind(m.number_of_winners)
                .bind(scheduled.map(time))
                .bind(actual.map(time))
                .bind(&m.status)
                .bind(m.base_rate)
                .bind(&m.source);
            timed(&what, q.fetch_one(pool)).await
        })
    }

    /// Insert or update a market's runners.
    pub async fn upsert_runners(&self, market: i64, rows: &[RunnerRow]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let what = "saving runners";
        const HEAD: &str = "INSERT INTO runners (market, selection_id, handicap, name, \
            sort_priority, status, adjustment_factor, removal_time, result, bsp) ";
        const TAIL: &str = " ON CONFLICT (market, selection_id, handicap) DO UPDATE SET \
            name = COALESCE(excluded.name, runners.name), sort_priority = excluded.sort_priority, \
            status = excluded.status, adjustment_factor = excluded.adjustment_factor, \
            removal_time = excluded.removal_time, result = excluded.result, bsp = excluded.bsp";
        with_pool!(self, |pool, time| {
            let mut q = QueryBuilder::new(HEAD);
            q.push_values(rows, |mut b, r| {
                b.push_bind(market)
                    .push_bind(r.selection_id)
                    .push_bind(r.handicap)
                    .push_bind(r.name.clone())
                    .push_bind(r.sort_priority)
                    .push_bind(r.status.clone())
                    .push_bind(r.adjustment_factor)
                    .push_bind(r.removal_time.map(time))
                    .push_bind(r.result.clone())
                    .push_bind(r.bsp);
            });
            q.push(TAIL);
            timed(what, q.build().execute(pool)).await?;
        });
        Ok(())
    }

    /// Write a batch in one transaction and empty it; returns the odds
    /// snapshots written.
    pub async fn write_batch(&self, batch: &mut Batch) -> Result<usize, StoreError> {
        last_per_key(&mut batch.snapshots);
        let snapshots = batch.snapshots.len();
        // SQLite has no COPY: multi-row inserts there, COPY on PostgreSQL.
        match self {
            Store::Sqlite { pool, .. } => write_sqlite(pool, batch).await?,
            Store::Postgres { pool, .. } => write_postgres(pool, batch).await?,
        }
        batch.changes.clear();
        batch.snapshots.clear();
        batch.dead_letters.clear();
        Ok(snapshots)
    }

    /// True on PostgreSQL without TimescaleDB: the odds live in day
    /// partitions that must exist before rows are written into them.
    pub async fn partitioned_odds(&self) -> Result<bool, StoreError> {
        let Store::Postgres { pool, .. } = self else {
            return Ok(false);
        };
        let series: Option<String> = timed(
            "reading store settings",
            sqlx::query_scalar("SELECT value FROM store_settings WHERE key = 'time_series'")
                .fetch_optional(pool),
        )
        .await?;
        Ok(series.as_deref() == Some("partitions"))
    }

    /// Make the odds partitions of these days (epoch days, UTC).
    pub async fn create_partitions(&self, days: &HashSet<i64>) -> Result<(), StoreError> {
        self.create_day_partitions("odds_snapshots", days).await
    }

    /// Make day partitions of `table` (a table partitioned by range of
    /// time) for these days (epoch days, UTC).
    pub(crate) async fn create_day_partitions(
        &self,
        table: &'static str,
        days: &HashSet<i64>,
    ) -> Result<(), StoreError> {
        // Only PostgreSQL partitions.
        let Store::Postgres { pool, .. } = self else {
            return Ok(());
        };
        let what = format!("creating {table} partitions");
        let what = what.as_str();
        let mut days: Vec<i64> = days.iter().copied().collect();
        days.sort_unstable();
        for day in days {
            let from = ts(day * 86_400_000);
            let to = ts((day + 1) * 86_400_000);
            let name = format!("{table}_{}", from.format("%Y%m%d"));
            let sql = format!(
                "CREATE TABLE IF NOT EXISTS {name} PARTITION OF {table} \
                 FOR VALUES FROM ('{}') TO ('{}')",
                from.to_rfc3339(),
                to.to_rfc3339()
            );
            // Two writers creating the same day's partition at once is fine:
            // the loser's "already exists" is not an error to us.
            if let Err(e) = timed(what, sqlx::query(&sql).execute(pool)).await
                && !e.to_string().contains("already exists")
            {
                return Err(e);
            }
        }
        Ok(())
    }
}

/// Write a batch on SQLite: multi-row inserts in one transaction.
async fn write_sqlite(pool: &SqlitePool, batch: &Batch) -> Result<(), StoreError> {
    let what = "writing a batch";
    let mut tx = timed(what, pool.begin()).await?;
    for rows in batch.changes.chunks(ROWS_PER_INSERT) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO market_changes (market, seq, published_at, change) ",
        );
        q.push_values(rows, |mut b, r: &ChangeRow| {
            b.push_bind(r.market)
                .push_bind(r.seq)
                .push_bind(r.published_at)
                .push_bind(r.change.clone());
        });
        q.push(" ON CONFLICT DO NOTHING");
        timed(what, q.build().execute(&mut *tx)).await?;
    }
    for rows in batch.snapshots.chunks(ROWS_PER_INSERT) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO odds_snapshots (published_at, market, selection_id, back_price, \
             back_size, lay_price, lay_size, last_traded, traded_volume, ladder) ",
        );
        q.push_values(rows, |mut b, r: &SnapshotRow| {
            b.push_bind(r.published_at)
                .push_bind(r.market)
                .push_bind(r.selection_id)
                .push_bind(r.back.map(|l| l.0))
                .push_bind(r.back.map(|l| l.1))
                .push_bind(r.lay.map(|l| l.0))
                .push_bind(r.lay.map(|l| l.1))
                .push_bind(r.last_traded)
                .push_bind(r.traded_volume)
                .push_bind(r.ladder.clone());
        });
        q.push(SNAPSHOT_CONFLICT);
        timed(what, q.build().execute(&mut *tx)).await?;
    }
    for rows in batch.dead_letters.chunks(ROWS_PER_INSERT) {
        let mut q = insert_dead_letters(rows, now_ms());
        timed(what, q.build().execute(&mut *tx)).await?;
    }
    timed(what, tx.commit()).await
}

/// Write a batch on PostgreSQL: COPY into staging tables, then one insert
/// from each, in one transaction.
async fn write_postgres(pool: &PgPool, batch: &Batch) -> Result<(), StoreError> {
    let what = "writing a batch";
    let mut tx = timed(what, pool.begin()).await?;
    // A crash may lose the last batches, never corrupt: re-ingesting
    // restores them. Waiting for each commit's flush would halve the rate.
    timed(
        what,
        sqlx::query("SET LOCAL synchronous_commit = off").execute(&mut *tx),
    )
    .await?;
    if !batch.changes.is_empty() {
        copy_through_stage(
            &mut tx,
            "CREATE TEMP TABLE IF NOT EXISTS changes_stage \
             (LIKE market_changes INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
            "COPY changes_stage (market, seq, published_at, change) FROM STDIN",
            changes_copy_text(&batch.changes),
            "INSERT INTO market_changes SELECT * FROM changes_stage ON CONFLICT DO NOTHING",
        )
        .await?;
    }
    if !batch.snapshots.is_empty() {
        copy_through_stage(
            &mut tx,
            "CREATE TEMP TABLE IF NOT EXISTS odds_stage \
             (LIKE odds_snapshots INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
            "COPY odds_stage (published_at, market, selection_id, back_price, back_size, \
             lay_price, lay_size, last_traded, traded_volume, ladder) FROM STDIN",
            copy_text(&batch.snapshots),
            &format!("INSERT INTO odds_snapshots SELECT * FROM odds_stage{SNAPSHOT_CONFLICT}"),
        )
        .await?;
    }
    for rows in batch.dead_letters.chunks(ROWS_PER_INSERT) {
        let mut q = insert_dead_letters(rows, ts(now_ms()));
        timed(what, q.build().execute(&mut *tx)).await?;
    }
    timed(what, tx.commit()).await
}

/// Rows into a table through a temporary stage: `stage` creates it, `copy`
/// fills it from `text` (COPY is the fast way in), `insert` moves the rows
/// on, skipping those already there.
async fn copy_through_stage(
    tx: &mut PgConnection,
    stage: &str,
    copy: &str,
    text: String,
    insert: &str,
) -> Result<(), StoreError> {
    let what = "writing a batch";
    timed(what, sqlx::query(stage).execute(&mut *tx)).await?;
    let mut rows = timed(what, tx.copy_in_raw(copy)).await?;
    timed(what, rows.send(text.into_bytes())).await?;
    timed(what, rows.finish()).await?;
    timed(what, sqlx::query(insert).execute(&mut *tx)).await?;
    Ok(())
}

/// The insert of some dead letters, the same on both databases but for the
/// type of `now` (epoch ms on SQLite, a timestamp on PostgreSQL).
fn insert_dead_letters<'a, DB, T>(rows: &'a [DeadLetter], now: T) -> QueryBuilder<'a, DB>
where
    DB: Database,
    DB::Arguments<'a>: Default,
    String: Encode<'a, DB> + Type<DB>,
    T: Encode<'a, DB> + Type<DB> + Copy + 'a,
{
    let mut q =
        QueryBuilder::new("INSERT INTO dead_letters (source, position, reason, raw, created_at) ");
    q.push_values(rows, |mut b, r: &DeadLetter| {
        b.push_bind(r.source.clone())
            .push_bind(r.position.clone())
            .push_bind(r.reason.clone())
            .push_bind(r.raw.clone())
            .push_bind(now);
    });
    q.push(" ON CONFLICT DO NOTHING");
    q
}

const SNAPSHOT_CONFLICT: &str = " ON CONFLICT (market, selection_id, published_at) DO UPDATE SET \
    back_price = excluded.back_price, back_size = excluded.back_size, \
    lay_price = excluded.lay_price, lay_size = excluded.lay_size, \
    last_traded = excluded.last_traded, traded_volume = excluded.traded_volume, \
    ladder = excluded.ladder";

/// Stream lines in PostgreSQL's COPY text format: backslashes, tabs and
/// line ends in the text are escaped.
fn changes_copy_text(rows: &[ChangeRow]) -> String {
    let mut out = String::with_capacity(rows.iter().map(|r| r.change.len() + 48).sum());
    for r in rows {
        let _ = write!(
            out,
            "{}\t{}\t{}\t",
            r.market,
            r.seq,
            ts(r.published_at).format("%Y-%m-%d %H:%M:%S%.3f+00")
        );
        for c in r.change.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                c => out.push(c),
            }
        }
        out.push('\n');
    }
    out
}

/// Snapshot rows in PostgreSQL's COPY text format.
fn copy_text(rows: &[SnapshotRow]) -> String {
    let mut out = String::with_capacity(rows.len() * 160);
    let opt = |out: &mut String, v: Option<f64>| match v {
        Some(v) => {
            let _ = write!(out, "{v}\t");
        }
        None => out.push_str("\\N\t"),
    };
    for r in rows {
        let _ = write!(
            out,
            "{}\t{}\t{}\t",
            ts(r.published_at).format("%Y-%m-%d %H:%M:%S%.3f+00"),
            r.market,
            r.selection_id
        );
        opt(&mut out, r.back.map(|l| l.0));
        opt(&mut out, r.back.map(|l| l.1));
        opt(&mut out, r.lay.map(|l| l.0));
        opt(&mut out, r.lay.map(|l| l.1));
        opt(&mut out, r.last_traded);
        let _ = write!(out, "{}\t\\\\x", r.traded_volume);
        for b in &r.ladder {
            let _ = write!(out, "{b:02x}");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(t: i64, sel: i64, ltp: f64) -> SnapshotRow {
        SnapshotRow {
            published_at: t,
            market: 1,
            selection_id: sel,
            back: Some((2.0, 5.5)),
            lay: None,
            last_traded: Some(ltp),
            traded_volume: 10.0,
            ladder: vec![1, 0, 0xab],
        }
    }

    #[test]
    fn the_last_state_of_a_millisecond_wins() {
        let mut rows = vec![
            row(1, 7, 2.0),
            row(1, 8, 3.0),
            row(1, 7, 2.02),
            row(2, 7, 2.04),
        ];
        last_per_key(&mut rows);
        let ltps: Vec<f64> = rows.iter().filter_map(|r| r.last_traded).collect();
        assert_eq!(ltps, [2.02, 3.0, 2.04]);
    }

    #[test]
    fn copy_text_escapes_backslashes_in_stream_lines() {
        let row = ChangeRow {
            market: 3,
            seq: 7,
            published_at: 0,
            change: "{\"name\":\"a\\\"b\"}".into(),
        };
        assert_eq!(
            changes_copy_text(&[row]),
            "3\t7\t1970-01-01 00:00:00.000+00\t{\"name\":\"a\\\\\"b\"}\n"
        );
    }

    #[test]
    fn copy_text_escapes_nulls_and_bytes() {
        let text = copy_text(&[row(1_667_786_238_167, 7, 2.0)]);
        assert_eq!(
            text,
            "2022-11-07 01:57:18.167+00\t1\t7\t2\t5.5\t\\N\t\\N\t2\t10\t\\\\x0100ab\n"
        );
    }
}

//! Keeping the time series in shape: the hourly performance table and its
//! daily roll-up, and retention of old odds.
//!
//! Where TimescaleDB is installed the roll-up is a continuous aggregate and
//! retention a policy, both set by the migration; elsewhere this module does
//! the same work: the daily row is re-derived from the hours of its day, and
//! retention drops whole day partitions on PostgreSQL (deletes on SQLite).

use clever_market::Money;

use super::connect::{Dialect, Store, StoreError, timed, ts, with_pool};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// What a strategy version did in some period.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Performance {
    /// Orders placed.
    pub orders: i64,
    /// Stake matched.
    pub matched: Money,
    /// Profit before commission.
    pub gross_profit: Money,
    /// Commission.
    pub commission: Money,
    /// Net profit.
    pub profit: Money,
}

impl Store {
    /// Add `p` to a strategy version's hour containing `at` (epoch ms), and
    /// bring that day's roll-up up to date.
    pub async fn add_performance(
        &self,
        version: i64,
        at: i64,
        p: Performance,
    ) -> Result<(), StoreError> {
        let what = "recording performance";
        let hour = at.div_euclid(HOUR_MS) * HOUR_MS;
        let day = at.div_euclid(DAY_MS) * DAY_MS;
        const HOURLY: &str = "INSERT INTO strategy_performance_hourly \
            (strategy_version, hour, orders, matched_pennies, gross_profit_pennies, \
            commission_pennies, profit_pennies) VALUES ($1, $2, $3, $4, $5, $6, $7) \
            ON CONFLICT (strategy_version, hour) DO UPDATE SET \
            orders = strategy_performance_hourly.orders + excluded.orders, \
            matched_pennies = strategy_performance_hourly.matched_pennies \
                + excluded.matched_pennies, \
            gross_profit_pennies = strategy_performance_hourly.gross_profit_pennies \
                + excluded.gross_profit_pennies, \
            commission_pennies = strategy_performance_hourly.commission_pennies \
                + excluded.commission_pennies, \
            profit_pennies = strategy_performance_hourly.profit_pennies \
                + excluded.profit_pennies";
        const DAILY: &str = "INSERT INTO strategy_performance_daily \
            (strategy_version, day, orders, matched_pennies, gross_profit_pennies, \
            commission_pennies, profit_pennies) \
            SELECT $1, $2, sum(orders), sum(matched_pennies), sum(gross_profit_pennies), \
            sum(commission_pennies), sum(profit_pennies) FROM strategy_performance_hourly \
            WHERE strategy_version = $1 AND hour >= $2 AND hour < $3 \
            ON CONFLICT (strategy_version, day) DO UPDATE SET orders = excluded.orders, \
            matched_pennies = excluded.matched_pennies, \
            gross_profit_pennies = excluded.gross_profit_pennies, \
            commission_pennies = excluded.commission_pennies, \
            profit_pennies = excluded.profit_pennies";
        with_pool!(self, |pool, time| {
            let mut tx = timed(what, pool.begin()).await?;
            let q = sqlx::query(HOURLY).bind(version).bind(time(hour));
            let q = q.bind(p.orders).bind(p.matched.to_pennies());
            let q = q.bind(p.gross_profit.to_pennies());
            let q = q
                .bind(p.commission.to_pennies())
                .bind(p.profit.to_pennies());
            timed(what, q.execute(&mut *tx)).await?;
            // Under TimescaleDB the roll-up is a continuous aggregate; SQLite
            // and plain partitions roll up here.
            let by_hand = match self.dialect() {
                Dialect::Sqlite => true,
                Dialect::Postgres => self.partitioned_odds().await?,
            };
            if by_hand {
                let q = sqlx::query(DAILY)
                    .bind(version)
                    .bind(time(day))
                    .bind(time(day + DAY_MS));
                timed(what, q.execute(&mut *tx)).await?;
            }
            timed(what, tx.commit()).await
        })
    }

    /// Forget odds published before `cutoff` (epoch ms); returns how many
    /// day partitions (PostgreSQL) or rows (SQLite) went.
    pub async fn drop_odds_before(&self, cutoff: i64) -> Result<u64, StoreError> {
        let what = "dropping old odds";
        // SQLite deletes rows; PostgreSQL drops whole day partitions.
        match self {
            Store::Sqlite { pool, .. } => {
                let q = sqlx::query("DELETE FROM odds_snapshots WHERE published_at < $1");
                Ok(timed(what, q.bind(cutoff).execute(pool))
                    .await?
                    .rows_affected())
            }
            Store::Postgres { pool, .. } => {
                if !self.partitioned_odds().await? {
                    // TimescaleDB: its retention policy drops old chunks.
                    return Ok(0);
                }
                let names: Vec<String> = timed(
                    what,
                    sqlx::query_scalar(
                        "SELECT c.relname FROM pg_inherits i \
                         JOIN pg_class c ON c.oid = i.inhrelid \
                         JOIN pg_class p ON p.oid = i.inhparent \
                         WHERE p.relname = 'odds_snapshots' ORDER BY c.relname",
                    )
                    .fetch_all(pool),
                )
                .await?;
                let cutoff_day = ts(cutoff.div_euclid(DAY_MS) * DAY_MS)
                    .format("%Y%m%d")
                    .to_string();
                let mut dropped = 0;
                for name in names {
                    // odds_snapshots_YYYYMMDD holds that day only.
                    let Some(day) = name.strip_prefix("odds_snapshots_") else {
                        continue;
                    };
                    if day.len() == 8
                        && day.chars().all(|c| c.is_ascii_digit())
                        && *day < *cutoff_day
                    {
                        timed(
                            what,
                            sqlx::query(&format!("DROP TABLE {name}")).execute(pool),
                        )
                        .await?;
                        dropped += 1;
                    }
                }
                Ok(dropped)
            }
        }
    }
}

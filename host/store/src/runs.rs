//! Saved backtest runs: the strategy versions that ran (with their
//! component), the run's configuration, its simulated orders with their
//! life, and its results per strategy version.

use chrono::Utc;
use clever_sdk::{OrderStatus, OrderType, Persistence, Side};
use serde::Serialize;

use super::connect::{Dialect, Store, StoreError, timed, with_pool};
use clever_market::{Money, SettledOrder};

/// A strategy version as it is saved.
pub struct VersionRow<'a> {
    /// Strategy name.
    pub name: &'a str,
    /// Semver version.
    pub version: &'a str,
    /// The WIT version it exports.
    pub wit_version: &'a str,
    /// The component's bytes.
    pub component: &'a [u8],
    /// Their SHA-256.
    pub sha256: &'a str,
    /// Parameters it ran with (JSON).
    pub parameters: &'a str,
}

/// Money as the database keeps it: whole pennies in an integer column.
#[derive(Debug, Clone, Copy, sqlx::Type)]
#[sqlx(transparent)]
struct Pennies(i64);

impl From<Pennies> for Money {
    fn from(p: Pennies) -> Money {
        Money::from_pennies(p.0)
    }
}

/// A stake or size from the order model (`f64`), in pennies.
fn pennies(size: f64) -> i64 {
    Money::from_f64(size).to_pennies()
}

/// One strategy version's result in a run.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ResultRow {
    /// Strategy name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Orders accepted.
    pub orders: i64,
    /// Stake matched.
    #[sqlx(try_from = "Pennies")]
    pub matched: Money,
    /// Profit before commission.
    #[sqlx(try_from = "Pennies")]
    pub gross_profit: Money,
    /// Commission.
    #[sqlx(try_from = "Pennies")]
    pub commission: Money,
    /// Net profit.
    #[sqlx(try_from = "Pennies")]
    pub profit: Money,
    /// Net profit over matched stake.
    pub roi: f64,
    /// Refusals by reason (JSON).
    pub rejected: String,
    /// Faults.
    pub faults: i64,
    /// Quarantined.
    pub quarantined: bool,
    /// Its metrics (a JSON document; none for runs saved before them).
    #[serde(serialize_with = "as_json")]
    pub metrics: Option<String>,
    /// Its Monte Carlo resampling (JSON), if one was asked for.
    #[serde(serialize_with = "as_json")]
    pub monte_carlo: Option<String>,
}

/// A JSON document kept as text, written out as the document it is.
fn as_json<S: serde::Serializer>(text: &Option<String>, out: S) -> Result<S::Ok, S::Error> {
    use serde::Serialize as _;
    let value: Option<serde_json::Value> =
        text.as_deref().and_then(|t| serde_json::from_str(t).ok());
    value.serialize(out)
}

/// A saved run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRow {
    /// Its id.
    pub id: i64,
    /// When it started (epoch ms).
    pub started_at: i64,
    /// Wall time.
    pub elapsed_ms: i64,
    /// Markets run.
    pub markets: i64,
    /// Updates handled.
    pub updates: i64,
    /// Its configuration (JSON).
    pub config: String,
    /// The sweep it is a parameter set of, if it is one.
    pub sweep: Option<i64>,
    /// Orders saved.
    pub orders: i64,
    /// Results per strategy version.
    pub results: Vec<ResultRow>,
}

pub(crate) fn side(s: Side) -> &'static str {
    match s {
        Side::Back => "BACK",
        Side::Lay => "LAY",
    }
}

pub(crate) fn order_type(t: OrderType) -> &'static str {
    match t {
        OrderType::Limit => "LIMIT",
        OrderType::LimitOnClose => "LIMIT_ON_CLOSE",
        OrderType::MarketOnClose => "MARKET_ON_CLOSE",
    }
}

pub(crate) fn persistence(p: Persistence) -> &'static str {
    match p {
        Persistence::Lapse => "LAPSE",
        Persistence::Persist => "PERSIST",
        Persistence::MarketOnClose => "MARKET_ON_CLOSE",
    }
}

/// An order's status as the order tables write it.
pub(crate) fn status(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::Pending => "PENDING",
        OrderStatus::Executable => "EXECUTABLE",
        OrderStatus::ExecutionComplete => "EXECUTION_COMPLETE",
        OrderStatus::Rejected => "REJECTED",
    }
}

/// An order's life as events: (at, kind, price, amount in pennies).
fn events(o: &SettledOrder) -> Vec<(i64, &'static str, Option<f64>, i64)> {
    let r = &o.order.request;
    let mut out = vec![(
        o.order.placed_at.0,
        "placed",
        Some(r.price.get()),
        pennies(r.size),
    )];
    for f in &o.fills {
        let kind = if f.void { "voided" } else { "matched" };
        out.push((f.at.0, kind, Some(f.price), pennies(f.size)));
    }
    if o.order.size_cancelled > 0.0 {
        let at = o.cancel_at.unwrap_or(o.settled_at).0;
        out.push((at, "cancelled", None, pennies(o.order.size_cancelled)));
    }
    if o.order.size_lapsed > 0.0 {
        out.push((o.settled_at.0, "lapsed", None, pennies(o.order.size_lapsed)));
    }
    out.push((o.settled_at.0, "settled", None, o.profit.to_pennies()));
    out
}

impl Store {
    /// Save a strategy version (once per component and parameters);
    /// returns its row id.
    pub async fn save_version(&self, v: &VersionRow<'_>) -> Result<i64, StoreError> {
        let what = format!("saving strategy {}@{}", v.name, v.version);
        const STRATEGY: &str = "INSERT INTO strategies (name) VALUES ($1) \
            ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id";
        const VERSION: &str = "INSERT INTO strategy_versions \
            (strategy, version, wit_version, component, sha256, parameters, created_at) \
            VALUES ($1, $2, $3, $4, $5, $6, $7) \
            ON CONFLICT (sha256) DO UPDATE SET parameters = excluded.parameters \
            RETURNING id";
        with_pool!(self, |pool, time| {
            let q = sqlx::query_scalar(STRATEGY).bind(v.name);
            let strategy: i64 = timed(&what, q.fetch_one(pool)).await?;
            let now = Utc::now().timestamp_millis();
            let q = sqlx::query_scalar(VERSION)
                .bind(strategy)
                .bind(v.version)
                .bind(v.wit_version)
                .bind(v.component)
                .bind(v.sha256)
                .bind(v.parameters)
                .bind(time(now));
            timed(&what, q.fetch_one(pool)).await
        })
    }

    /// Record the start of a run (one of `sweep`'s parameter sets, if
    /// given); returns its id.
    pub async fn start_run(&self, config: &str, sweep: Option<i64>) -> Result<i64, StoreError> {
        const SQL: &str = "INSERT INTO backtest_runs \
            (started_at, elapsed_ms, config, markets, updates, sweep) \
            VALUES ($1, 0, $2, 0, 0, $3) RETURNING id";
        let now = Utc::now().timestamp_millis();
        with_pool!(self, |pool, time| {
            let q = sqlx::query_scalar(SQL)
                .bind(time(now))
                .bind(config)
                .bind(sweep);
            timed("saving the run", q.fetch_one(pool)).await
        })
    }

    /// Record the start of a parameter sweep; returns its id.
    pub async fn start_sweep(&self, config: &str) -> Result<i64, StoreError> {
        const SQL: &str = "INSERT INTO sweeps (started_at, config) VALUES ($1, $2) RETURNING id";
        let now = Utc::now().timestamp_millis();
        with_pool!(self, |pool, time| {
            let q = sqlx::query_scalar(SQL).bind(time(now)).bind(config);
            timed("saving the sweep", q.fetch_one(pool)).await
        })
    }

    /// The row id of a market, saving a bare row for one never ingested
    /// (a backtest from files). A market already there costs one read,
    /// not a write: the journal asks this before every order it writes.
    pub async fn market_row(&self, venue: &str, market_id: &str) -> Result<i64, StoreError> {
        let what = format!("saving market {market_id}");
        const SAVE: &str = "INSERT INTO markets (venue, market_id, event_type, market_type, \
            number_of_winners, status) VALUES ($1, $2, '', '', 0, 'UNKNOWN') \
            ON CONFLICT (venue, market_id) DO NOTHING RETURNING id";
        const FIND: &str = "SELECT id FROM markets WHERE venue = $1 AND market_id = $2";
        with_pool!(self, |pool| {
            let q = sqlx::query_scalar(FIND).bind(venue).bind(market_id);
            if let Some(row) = timed(&what, q.fetch_optional(pool)).await? {
                return Ok(row);
            }
            let q = sqlx::query_scalar(SAVE).bind(venue).bind(market_id);
            let _: Option<i64> = timed(&what, q.fetch_optional(pool)).await?;
            let q = sqlx::query_scalar(FIND).bind(venue).bind(market_id);
            timed(&what, q.fetch_one(pool)).await
        })
    }

    /// Save one settled order of a run with its events.
    pub async fn save_order(
        &self,
        run: i64,
        version: i64,
        market: i64,
        o: &SettledOrder,
    ) -> Result<(), StoreError> {
        let customer_ref = o.order.request.customer_ref.as_deref();
        self.insert_settled(Some(run), version, market, (None, customer_ref), o)
            .await
    }

    /// Journal one order a running host settled itself (paper: the
    /// simulated exchange matched it), with its events, under
    /// `customer_ref`, placed by `strategy` at `version` (a published one)
    /// in `mode`.
    pub async fn journal_settled_order(
        &self,
        (strategy, version): (&str, &str),
        (mode, customer_ref): (&str, &str),
        venue: &str,
        o: &SettledOrder,
    ) -> Result<(), StoreError> {
        const VERSION: &str = "SELECT v.id FROM strategy_versions v \
            JOIN strategies s ON s.id = v.strategy \
            WHERE s.name = $1 AND v.version = $2 AND v.published";
        let what = format!("journalling order {customer_ref}");
        let id: Option<i64> = with_pool!(self, |pool| {
            let q = sqlx::query_scalar(VERSION).bind(strategy).bind(version);
            timed(&what, q.fetch_optional(pool)).await?
        });
        let id = id.ok_or_else(|| {
            StoreError::Invalid(format!(
                "{what}: {strategy}@{version} is not a published version"
            ))
        })?;
        let market = self.market_row(venue, &o.order.request.market_id.0).await?;
        self.insert_settled(None, id, market, (Some(mode), Some(customer_ref)), o)
            .await
    }

    async fn insert_settled(
        &self,
        run: Option<i64>,
        version: i64,
        market: i64,
        (mode, customer_ref): (Option<&str>, Option<&str>),
        o: &SettledOrder,
    ) -> Result<(), StoreError> {
        let what = "saving an order";
        const ORDER: &str = "INSERT INTO orders (run, strategy_version, venue_order_id, market, \
            selection_id, side, order_type, persistence, price, size_pennies, customer_ref, \
            placed_at, status, size_matched_pennies, average_price_matched, \
            size_cancelled_pennies, size_lapsed_pennies, size_voided_pennies, settled_at, \
            profit_pennies, commission_pennies, mode) VALUES \
            ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
            $17, $18, $19, $20, $21, $22) RETURNING id";
        const EVENT: &str = "INSERT INTO order_events (order_id, seq, at, kind, price, amount_pennies) \
            VALUES ($1, $2, $3, $4, $5, $6) RETURNING order_id";
        let r = &o.order.request;
        let voided: f64 = o.fills.iter().filter(|f| f.void).map(|f| f.size).sum();
        with_pool!(self, |pool, time| {
            let q = sqlx::query_scalar(ORDER)
                .bind(run)
                .bind(version)
                .bind(o.order.id.0.to_string())
                .bind(market)
                .bind(r.selection_id.0 as i64)
                .bind(side(r.side))
                .bind(order_type(r.order_type))
                .bind(persistence(r.persistence))
                .bind(r.price.get())
                .bind(pennies(r.size))
                .bind(customer_ref)
                .bind(time(o.order.placed_at.0))
                .bind(status(o.order.status))
                .bind(pennies(o.order.size_matched - voided))
                .bind(o.order.average_price_matched)
                .bind(pennies(o.order.size_cancelled))
                .bind(pennies(o.order.size_lapsed))
                .bind(pennies(voided))
                .bind(time(o.settled_at.0))
                .bind(o.profit.to_pennies())
                .bind(o.commission.to_pennies())
                .bind(mode);
            let id: i64 = timed(what, q.fetch_one(pool)).await?;
            for (seq, (at, kind, price, size)) in events(o).into_iter().enumerate() {
                let q = sqlx::query_scalar(EVENT)
                    .bind(id)
                    .bind(seq as i64)
                    .bind(time(at))
                    .bind(kind)
                    .bind(price)
                    .bind(size);
                let _: Option<i64> = timed(what, q.fetch_optional(pool)).await?;
            }
            Ok(())
        })
    }

    /// Record how a run ended and its results per strategy version.
    pub async fn finish_run(
        &self,
        run: i64,
        (markets, updates, elapsed_ms): (i64, i64, i64),
        results: &[(i64, ResultRow)],
    ) -> Result<(), StoreError> {
        let what = "saving the run's results";
        const RUN: &str = "UPDATE backtest_runs SET markets = $1, updates = $2, elapsed_ms = $3 \
            WHERE id = $4 RETURNING id";
        const RESULT: &str = "INSERT INTO backtest_results (run, strategy_version, orders, \
            matched_pennies, gross_profit_pennies, commission_pennies, profit_pennies, roi, \
            rejected, faults, quarantined, metrics, monte_carlo) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING run";
        with_pool!(self, |pool| {
            let q = sqlx::query_scalar(RUN)
                .bind(markets)
                .bind(updates)
                .bind(elapsed_ms)
                .bind(run);
            let _: Option<i64> = timed(what, q.fetch_optional(pool)).await?;
            for (version, r) in results {
                let q = sqlx::query_scalar(RESULT)
                    .bind(run)
                    .bind(version)
                    .bind(r.orders)
                    .bind(r.matched.to_pennies())
                    .bind(r.gross_profit.to_pennies())
                    .bind(r.commission.to_pennies())
                    .bind(r.profit.to_pennies())
                    .bind(r.roi)
                    .bind(r.rejected.clone())
                    .bind(r.faults)
                    .bind(r.quarantined)
                    .bind(r.metrics.clone())
                    .bind(r.monte_carlo.clone());
                let _: Option<i64> = timed(what, q.fetch_optional(pool)).await?;
            }
            Ok(())
        })
    }

    /// Every saved run (or every run of one sweep), newest first, with
    /// its results.
    pub async fn runs(&self, sweep: Option<i64>) -> Result<Vec<RunRow>, StoreError> {
        const SQL: &str = "SELECT id FROM backtest_runs \
            WHERE $1 IS NULL OR sweep = $1 ORDER BY id DESC";
        let ids: Vec<i64> = with_pool!(self, |pool| {
            let q = sqlx::query_scalar(SQL).bind(sweep);
            timed("listing runs", q.fetch_all(pool)).await?
        });
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(run) = self.run(id).await? {
                out.push(run);
            }
        }
        Ok(out)
    }

    /// One saved run.
    pub async fn run(&self, id: i64) -> Result<Option<RunRow>, StoreError> {
        let what = format!("reading run {id}");
        const RUN_SQLITE: &str = "SELECT started_at, elapsed_ms, markets, updates, config, \
            (SELECT count(*) FROM orders WHERE run = $1), sweep FROM backtest_runs WHERE id = $1";
        const RUN_PG: &str = "SELECT (extract(epoch FROM started_at) * 1000)::bigint, elapsed_ms, \
            markets, updates, config, (SELECT count(*) FROM orders WHERE run = $1), sweep \
            FROM backtest_runs WHERE id = $1";
        const RESULTS: &str = "SELECT s.name, v.version, r.orders, \
            r.matched_pennies AS matched, r.gross_profit_pennies AS gross_profit, \
            r.commission_pennies AS commission, r.profit_pennies AS profit, \
            r.roi, r.rejected, r.faults, r.quarantined, r.metrics, r.monte_carlo \
            FROM backtest_results r JOIN strategy_versions v ON v.id = r.strategy_version \
            JOIN strategies s ON s.id = v.strategy WHERE r.run = $1 ORDER BY s.name, v.version";
        type Head = (i64, i64, i64, i64, String, i64, Option<i64>);
        // PostgreSQL keeps a timestamp; the run reads back epoch ms on both.
        let run = match self.dialect() {
            Dialect::Sqlite => RUN_SQLITE,
            Dialect::Postgres => RUN_PG,
        };
        let (head, results): (Option<Head>, Vec<ResultRow>) = with_pool!(self, |pool| {
            let head = timed(&what, sqlx::query_as(run).bind(id).fetch_optional(pool)).await?;
            let results = timed(&what, sqlx::query_as(RESULTS).bind(id).fetch_all(pool)).await?;
            (head, results)
        });
        Ok(head.map(
            |(started_at, elapsed_ms, markets, updates, config, orders, sweep)| RunRow {
                id,
                started_at,
                elapsed_ms,
                markets,
                updates,
                config,
                sweep,
                orders,
                results,
            },
        ))
    }
}

//! The order journal: every order a running host places (live or paper)
//! is written here before it is sent, and kept up to date from what the
//! venue says of it (its answer, its order stream, its lists of current
//! and cleared orders) until it is settled. Orders are found by their
//! `customer_ref`, the client order reference the venue echoes back.
//!
//! Every write is idempotent and moves an order forward only: sizes are
//! cumulative and never shrink, a status never goes back (pending,
//! executable, complete), and a report repeated, or read again after a
//! restart, changes nothing. Writers are expected to take turns (one
//! journal writer per host); readers may come at any time.

use clever_market::Money;
use clever_sdk::{OrderType, Persistence, Side};
use serde::Serialize;

use super::connect::{Dialect, Store, StoreError, timed, with_pool};
use super::runs::{order_type, persistence, side};

/// Where an order stands in the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JournalStatus {
    /// Written, sent or about to be; the venue has not said it has it.
    Pending,
    /// On the book, with stake left to match.
    Executable,
    /// Nothing left to match (matched, cancelled or lapsed in full).
    ExecutionComplete,
    /// Refused by the venue: nothing was placed.
    Rejected,
    /// Sent, and never received by the venue.
    Failed,
}

impl JournalStatus {
    /// Every status, in an order's life.
    pub const ALL: [JournalStatus; 5] = [
        JournalStatus::Pending,
        JournalStatus::Executable,
        JournalStatus::ExecutionComplete,
        JournalStatus::Rejected,
        JournalStatus::Failed,
    ];

    /// The column's text.
    pub fn text(self) -> &'static str {
        match self {
            JournalStatus::Pending => "PENDING",
            JournalStatus::Executable => "EXECUTABLE",
            JournalStatus::ExecutionComplete => "EXECUTION_COMPLETE",
            JournalStatus::Rejected => "REJECTED",
            JournalStatus::Failed => "FAILED",
        }
    }

    fn parse(text: &str) -> JournalStatus {
        match text {
            "EXECUTABLE" => JournalStatus::Executable,
            "EXECUTION_COMPLETE" => JournalStatus::ExecutionComplete,
            "REJECTED" => JournalStatus::Rejected,
            "FAILED" => JournalStatus::Failed,
            _ => JournalStatus::Pending,
        }
    }
}

/// An order about to be sent.
#[derive(Debug, Clone)]
pub struct NewOrder {
    /// Its client order reference: unique, and echoed by the venue.
    pub customer_ref: String,
    /// The host's strategy reference at the venue.
    pub strategy_ref: String,
    /// `live` or `paper`.
    pub mode: &'static str,
    /// The strategy that placed it and its version (a published one).
    pub strategy: String,
    /// Semver version.
    pub version: String,
    /// The venue (`betfair`).
    pub venue: &'static str,
    /// The venue's market id.
    pub market_id: String,
    /// The runner.
    pub selection_id: u64,
    /// Back or lay.
    pub side: Side,
    /// Limit, limit-on-close, market-on-close.
    pub order_type: OrderType,
    /// What happens to unmatched stake at the off.
    pub persistence: Persistence,
    /// Odds asked.
    pub price: f64,
    /// Stake (liability for the on-close types).
    pub size: Money,
    /// When the strategy placed it (epoch ms).
    pub placed_at: i64,
}

/// One bet as the venue reports it now; sizes are cumulative.
#[derive(Debug, Clone, PartialEq)]
pub struct BetReport {
    /// The client order reference it was placed with.
    pub customer_ref: String,
    /// The venue's bet id.
    pub bet_id: String,
    /// The venue's market id.
    pub market_id: String,
    /// The runner.
    pub selection_id: u64,
    /// Back or lay.
    pub side: Side,
    /// Odds asked.
    pub price: f64,
    /// Stake asked.
    pub size: Money,
    /// Lapse, persist, market-on-close.
    pub persistence: Persistence,
    /// When the venue took it (epoch ms).
    pub placed_at: i64,
    /// Stake matched so far.
    pub matched: Money,
    /// Their average odds.
    pub average_price: Option<f64>,
    /// Stake cancelled so far.
    pub cancelled: Money,
    /// Stake lapsed so far.
    pub lapsed: Money,
    /// Stake voided so far.
    pub voided: Money,
    /// Nothing left to match.
    pub complete: bool,
}

/// What the journal did with a [`BetReport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reported {
    /// A journalled order, brought up to date (`true` if anything changed).
    Updated(bool),
    /// An order the journal never wrote, now adopted (no strategy).
    Adopted,
    /// A journalled order already settled: nothing to do.
    Settled,
}

/// An order as the journal holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JournalOrder {
    /// Its client order reference.
    pub customer_ref: String,
    /// The venue's bet id, once known.
    pub bet_id: Option<String>,
    /// The strategy and version that placed it; none if adopted.
    pub strategy: Option<String>,
    /// Its version.
    pub version: Option<String>,
    /// `live` or `paper`.
    pub mode: Option<String>,
    /// The venue's market id.
    pub market_id: String,
    /// The runner.
    pub selection_id: i64,
    /// BACK or LAY.
    pub side: String,
    /// Odds asked.
    pub price: f64,
    /// Stake asked.
    pub size: Money,
    /// Where it stands.
    pub status: JournalStatus,
    /// Stake matched.
    pub matched: Money,
    /// Average odds matched.
    pub average_price: Option<f64>,
    /// Stake cancelled.
    pub cancelled: Money,
    /// Stake lapsed.
    pub lapsed: Money,
    /// Stake voided.
    pub voided: Money,
    /// When it was placed (epoch ms).
    pub placed_at: i64,
    /// When it was settled (epoch ms).
    pub settled_at: Option<i64>,
    /// Profit as the venue settled it.
    pub profit: Option<Money>,
    /// Why it was refused or failed.
    pub reason: Option<String>,
}

/// One strategy version's journalled orders, summed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionResult {
    /// Strategy; none for adopted orders.
    pub strategy: Option<String>,
    /// Version.
    pub version: Option<String>,
    /// `live` or `paper`.
    pub mode: Option<String>,
    /// Orders written.
    pub orders: i64,
    /// Of them, still open or not yet settled.
    pub unsettled: i64,
    /// Stake matched.
    pub matched: Money,
    /// Profit of the settled ones, as the venue settled them.
    pub profit: Money,
}

/// What a strategy's journalled orders say of its recent trading, for
/// risk limits that count across restarts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// The latest time the journal has of it (an order placed or
    /// settled), epoch ms; 0 if none.
    pub at: i64,
    /// When each of its orders in the hour up to `at` was placed.
    pub placed: Vec<i64>,
    /// Profit settled on the (UTC) day of `at`, as the venue settled it.
    pub day_profit: Money,
}

/// Which orders to list.
#[derive(Debug, Clone, Default)]
pub struct OrderQuery {
    /// Of this strategy only.
    pub strategy: Option<String>,
    /// Of this version only.
    pub version: Option<String>,
    /// With this status only (`PENDING`, ...).
    pub status: Option<String>,
    /// In this market only.
    pub market_id: Option<String>,
    /// The newest this many [default: all].
    pub limit: Option<i64>,
}

impl OrderQuery {
    /// Its conditions on the columns of its strategy, version, status and
    /// market (`column = $n`), and the values they bind, in order.
    pub(crate) fn conditions(&self, columns: [&str; 4]) -> (Vec<String>, Vec<&str>) {
        let (mut filters, mut args) = (Vec::new(), Vec::new());
        let values = [&self.strategy, &self.version, &self.status, &self.market_id];
        for (column, value) in columns.into_iter().zip(values) {
            if let Some(value) = value {
                args.push(value.as_str());
                filters.push(format!("{column} = ${}", args.len()));
            }
        }
        (filters, args)
    }

    /// ` LIMIT n`, if it has one.
    pub(crate) fn limit_clause(&self) -> String {
        (self.limit).map_or(String::new(), |n| format!(" LIMIT {}", n.max(0)))
    }
}

/// The row of an order as a journal write reads it first.
type Head = (i64, String, Option<String>, i64, i64, i64, i64, bool);

fn pennies(m: Money) -> i64 {
    m.to_pennies()
}

/// Epoch ms of a time column, on either database.
pub(crate) fn ms(dialect: Dialect, column: &str) -> String {
    match dialect {
        Dialect::Sqlite => column.to_owned(),
        Dialect::Postgres => format!("(extract(epoch FROM {column}) * 1000)::bigint"),
    }
}

const EVENT: &str = "INSERT INTO order_events (order_id, seq, at, kind, price, amount_pennies) \
    SELECT $1, COALESCE(MAX(seq), -1) + 1, $2, $3, $4, $5 FROM order_events WHERE order_id = $1";
const HEAD: &str = "SELECT id, status, venue_order_id, size_matched_pennies, \
    size_cancelled_pennies, size_lapsed_pennies, size_voided_pennies, \
    settled_at IS NOT NULL FROM orders WHERE customer_ref = $1 AND run IS NULL";

impl Store {
    /// Write an order before it is sent, with its `placed` event. An order
    /// of a strategy version the registry does not hold is refused.
    pub async fn journal_order(&self, o: &NewOrder) -> Result<(), StoreError> {
        let what = format!("journalling order {}", o.customer_ref);
        let market = self.market_row(o.venue, &o.market_id).await?;
        const ORDER: &str = "INSERT INTO orders (strategy_version, market, selection_id, side, \
            order_type, persistence, price, size_pennies, customer_ref, placed_at, status, mode, \
            strategy_ref) SELECT v.id, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'PENDING', $12, $13 \
            FROM strategy_versions v JOIN strategies s ON s.id = v.strategy \
            WHERE s.name = $1 AND v.version = $2 AND v.published RETURNING id";
        with_pool!(self, |pool, time| {
            let mut tx = timed(&what, pool.begin()).await?;
            let q = sqlx::query_scalar(ORDER)
                .bind(&o.strategy)
                .bind(&o.version)
                .bind(market)
                .bind(o.selection_id as i64)
                .bind(side(o.side))
                .bind(order_type(o.order_type))
                .bind(persistence(o.persistence))
                .bind(o.price)
                .bind(pennies(o.size))
                .bind(&o.customer_ref)
                .bind(time(o.placed_at))
                .bind(o.mode)
                .bind(&o.strategy_ref);
            let id: Option<i64> = timed(&what, q.fetch_optional(&mut *tx)).await?;
            let Some(id) = id else {
                return Err(StoreError::Invalid(format!(
                    "{what}: {}@{} is not a published version",
                    o.strategy, o.version
                )));
            };
            let q = sqlx::query(EVENT)
                .bind(id)
                .bind(time(o.placed_at))
                .bind("placed")
                .bind(Some(o.price))
                .bind(Some(pennies(o.size)));
            timed(&what, q.execute(&mut *tx)).await?;
            timed(&what, tx.commit()).await?;
        });
        Ok(())
    }

    /// The venue took the order as `bet_id`. Returns whether the journal
    /// holds it.
    pub async fn journal_placed(
        &self,
        customer_ref: &str,
        bet_id: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        let what = format!("journalling that order {customer_ref} was placed");
        const SQL: &str = "UPDATE orders SET venue_order_id = $2, status = CASE \
            WHEN status IN ('PENDING', 'REJECTED', 'FAILED') THEN 'EXECUTABLE' ELSE status END, \
            reason = NULL WHERE customer_ref = $1 AND run IS NULL RETURNING id";
        with_pool!(self, |pool, time| {
            let mut tx = timed(&what, pool.begin()).await?;
            let q = sqlx::query_scalar(SQL).bind(customer_ref).bind(bet_id);
            let id: Option<i64> = timed(&what, q.fetch_optional(&mut *tx)).await?;
            if let Some(id) = id {
                let q = sqlx::query(EVENT)
                    .bind(id)
                    .bind(time(at))
                    .bind("accepted")
                    .bind(None::<f64>)
                    .bind(None::<i64>);
                timed(&what, q.execute(&mut *tx)).await?;
            }
            timed(&what, tx.commit()).await?;
            Ok(id.is_some())
        })
    }

    /// A pending order ends without a bet: refused by the venue
    /// (`Rejected`) or never received by it (`Failed`), for `reason`. An
    /// order the venue has reported is left as it is. Returns whether it
    /// changed.
    pub async fn journal_ended(
        &self,
        customer_ref: &str,
        status: JournalStatus,
        reason: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        let what = format!("journalling that order {customer_ref} ended");
        const SQL: &str = "UPDATE orders SET status = $2, reason = $3 \
            WHERE customer_ref = $1 AND run IS NULL AND status = 'PENDING' RETURNING id";
        let kind = match status {
            JournalStatus::Failed => "failed",
            _ => "refused",
        };
        with_pool!(self, |pool, time| {
            let mut tx = timed(&what, pool.begin()).await?;
            let q = sqlx::query_scalar(SQL)
                .bind(customer_ref)
                .bind(status.text())
                .bind(reason);
            let id: Option<i64> = timed(&what, q.fetch_optional(&mut *tx)).await?;
            if let Some(id) = id {
                let q = sqlx::query(EVENT)
                    .bind(id)
                    .bind(time(at))
                    .bind(kind)
                    .bind(None::<f64>)
                    .bind(None::<i64>);
                timed(&what, q.execute(&mut *tx)).await?;
            }
            timed(&what, tx.commit()).await?;
            Ok(id.is_some())
        })
    }

    /// Bring an order up to date with the venue's report of it at `at`:
    /// each size that grew is an event (`matched`, `cancelled`, `lapsed`,
    /// `voided`, by how much). A bet the journal never wrote is adopted
    /// under `strategy_ref`, with no strategy version, in `mode`, its
    /// market `venue`'s.
    pub async fn journal_report(
        &self,
        r: &BetReport,
        (venue, strategy_ref, mode): (&str, &str, &str),
        at: i64,
    ) -> Result<Reported, StoreError> {
        let what = format!("journalling bet {} ({})", r.bet_id, r.customer_ref);
        let head: Option<Head> = with_pool!(self, |pool| {
            let q = sqlx::query_as(HEAD).bind(&r.customer_ref);
            timed(&what, q.fetch_optional(pool)).await?
        });
        let Some(head) = head else {
            self.adopt(r, (venue, strategy_ref, mode)).await?;
            return Ok(Reported::Adopted);
        };
        let (id, before, bet_id, matched, cancelled, lapsed, voided, settled) = head;
        if settled {
            return Ok(Reported::Settled);
        }
        let grew = |now: Money, before: i64| (pennies(now) - before).max(0);
        let events = [
            ("matched", grew(r.matched, matched), r.average_price),
            ("cancelled", grew(r.cancelled, cancelled), None),
            ("lapsed", grew(r.lapsed, lapsed), None),
            ("voided", grew(r.voided, voided), None),
        ];
        let status = forward(JournalStatus::parse(&before), r.complete);
        let changed = events.iter().any(|e| e.1 > 0)
            || bet_id.as_deref() != Some(r.bet_id.as_str())
            || status.text() != before;
        if !changed {
            return Ok(Reported::Updated(false));
        }
        const SQL: &str = "UPDATE orders SET venue_order_id = $2, status = $3, \
            size_matched_pennies = $4, average_price_matched = COALESCE($5, average_price_matched), \
            size_cancelled_pennies = $6, size_lapsed_pennies = $7, size_voided_pennies = $8, \
            reason = NULL WHERE id = $1";
        with_pool!(self, |pool, time| {
            let mut tx = timed(&what, pool.begin()).await?;
            let q = sqlx::query(SQL)
                .bind(id)
                .bind(&r.bet_id)
                .bind(status.text())
                .bind(matched.max(pennies(r.matched)))
                .bind(r.average_price)
                .bind(cancelled.max(pennies(r.cancelled)))
                .bind(lapsed.max(pennies(r.lapsed)))
                .bind(voided.max(pennies(r.voided)));
            timed(&what, q.execute(&mut *tx)).await?;
            for (kind, amount, price) in events.into_iter().filter(|e| e.1 > 0) {
                let q = sqlx::query(EVENT)
                    .bind(id)
                    .bind(time(at))
                    .bind(kind)
                    .bind(price)
                    .bind(Some(amount));
                timed(&what, q.execute(&mut *tx)).await?;
            }
            timed(&what, tx.commit()).await?;
        });
        Ok(Reported::Updated(true))
    }

    /// Write a bet the journal never wrote, as the venue reports it.
    async fn adopt(
        &self,
        r: &BetReport,
        (venue, strategy_ref, mode): (&str, &str, &str),
    ) -> Result<(), StoreError> {
        let what = format!("adopting bet {} ({})", r.bet_id, r.customer_ref);
        let market = self.market_row(venue, &r.market_id).await?;
        const SQL: &str = "INSERT INTO orders (market, selection_id, side, order_type, \
            persistence, price, size_pennies, customer_ref, placed_at, status, mode, strategy_ref, \
            venue_order_id, size_matched_pennies, average_price_matched, size_cancelled_pennies, \
            size_lapsed_pennies, size_voided_pennies, reason) VALUES ($1, $2, $3, 'LIMIT', $4, $5, \
            $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 'adopted') RETURNING id";
        let status = forward(JournalStatus::Executable, r.complete);
        with_pool!(self, |pool, time| {
            let mut tx = timed(&what, pool.begin()).await?;
            let q = sqlx::query_scalar(SQL)
                .bind(market)
                .bind(r.selection_id as i64)
                .bind(side(r.side))
                .bind(persistence(r.persistence))
                .bind(r.price)
                .bind(pennies(r.size))
                .bind(&r.customer_ref)
                .bind(time(r.placed_at))
                .bind(status.text())
                .bind(mode)
                .bind(strategy_ref)
                .bind(&r.bet_id)
                .bind(pennies(r.matched))
                .bind(r.average_price)
                .bind(pennies(r.cancelled))
                .bind(pennies(r.lapsed))
                .bind(pennies(r.voided));
            let id: i64 = timed(&what, q.fetch_one(&mut *tx)).await?;
            let q = sqlx::query(EVENT)
                .bind(id)
                .bind(time(r.placed_at))
                .bind("adopted")
                .bind(Some(r.price))
                .bind(Some(pennies(r.size)));
            timed(&what, q.execute(&mut *tx)).await?;
            timed(&what, tx.commit()).await?;
        });
        Ok(())
    }

    /// The venue settled the order at `at` with `profit` (what its cleared
    /// orders say; zero for a bet that never matched). Returns whether it
    /// was settled now (not before).
    pub async fn journal_settled(
        &self,
        customer_ref: &str,
        profit: Money,
        at: i64,
    ) -> Result<bool, StoreError> {
        let what = format!("journalling the settlement of order {customer_ref}");
        const SQL: &str = "UPDATE orders SET settled_at = $2, profit_pennies = $3, \
            status = CASE WHEN status IN ('PENDING', 'EXECUTABLE') THEN 'EXECUTION_COMPLETE' \
            ELSE status END WHERE customer_ref = $1 AND run IS NULL AND settled_at IS NULL \
            RETURNING id";
        with_pool!(self, |pool, time| {
            let mut tx = timed(&what, pool.begin()).await?;
            let q = sqlx::query_scalar(SQL)
                .bind(customer_ref)
                .bind(time(at))
                .bind(pennies(profit));
            let id: Option<i64> = timed(&what, q.fetch_optional(&mut *tx)).await?;
            if let Some(id) = id {
                let q = sqlx::query(EVENT)
                    .bind(id)
                    .bind(time(at))
                    .bind("settled")
                    .bind(None::<f64>)
                    .bind(Some(pennies(profit)));
                timed(&what, q.execute(&mut *tx)).await?;
            }
            timed(&what, tx.commit()).await?;
            Ok(id.is_some())
        })
    }

    /// The orders of `strategy_ref` not yet settled and not ended
    /// without a bet: what a reconciliation checks, and what waits for
    /// settlement. Oldest first.
    pub async fn journal_unsettled(
        &self,
        strategy_ref: &str,
    ) -> Result<Vec<JournalOrder>, StoreError> {
        self.journal_list(
            "o.run IS NULL AND o.strategy_ref = $1 AND o.settled_at IS NULL \
             AND o.status NOT IN ('REJECTED', 'FAILED') ORDER BY o.id",
            &[strategy_ref],
            "listing unsettled orders",
        )
        .await
    }

    /// The journal's orders as `q` asks, newest first.
    pub async fn journal_orders(&self, q: &OrderQuery) -> Result<Vec<JournalOrder>, StoreError> {
        let (mut filters, args) = q.conditions(["s.name", "v.version", "o.status", "m.market_id"]);
        filters.insert(0, "o.run IS NULL".to_owned());
        let filter = format!(
            "{} ORDER BY o.id DESC{}",
            filters.join(" AND "),
            q.limit_clause()
        );
        self.journal_list(&filter, &args, "listing orders").await
    }

    /// The orders `filter` (a condition on `o`, its market `m`, version
    /// `v` and strategy `s`, then any ORDER BY) picks, `args` bound to it.
    pub(crate) async fn journal_list(
        &self,
        filter: &str,
        args: &[&str],
        what: &str,
    ) -> Result<Vec<JournalOrder>, StoreError> {
        let d = self.dialect();
        let sql = format!(
            "SELECT o.customer_ref, o.venue_order_id AS bet_id, s.name AS strategy, v.version, \
             o.mode, m.market_id, o.selection_id, o.side, o.price, o.size_pennies AS size, \
             o.status, o.size_matched_pennies AS matched, o.average_price_matched AS average_price, \
             o.size_cancelled_pennies AS cancelled, o.size_lapsed_pennies AS lapsed, \
             o.size_voided_pennies AS voided, {} AS placed_at, {} AS settled_at, \
             o.profit_pennies AS profit, o.reason \
             FROM orders o JOIN markets m ON m.id = o.market \
             LEFT JOIN strategy_versions v ON v.id = o.strategy_version \
             LEFT JOIN strategies s ON s.id = v.strategy \
             WHERE {filter}",
            ms(d, "o.placed_at"),
            ms(d, "o.settled_at")
        );
        let rows: Vec<ListRow> = with_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql);
            for a in args {
                q = q.bind(*a);
            }
            timed(what, q.fetch_all(pool)).await?
        });
        Ok(rows.into_iter().map(JournalOrder::from).collect())
    }

    /// The recent trading of `strategy` (every version) in `mode`.
    pub async fn journal_history(&self, strategy: &str, mode: &str) -> Result<History, StoreError> {
        const HOUR_MS: i64 = 3_600_000;
        const DAY_MS: i64 = 86_400_000;
        let what = format!("reading the journal of {strategy}");
        let d = self.dialect();
        let from = "FROM orders o JOIN strategy_versions v ON v.id = o.strategy_version \
            JOIN strategies s ON s.id = v.strategy \
            WHERE s.name = $1 AND o.run IS NULL AND o.mode = $2";
        let (placed, settled) = (ms(d, "o.placed_at"), ms(d, "o.settled_at"));
        let latest = format!("SELECT max({placed}), max({settled}) {from}");
        let times = format!("SELECT {placed} {from} AND o.placed_at > $3 ORDER BY o.placed_at");
        let profit = format!(
            "SELECT CAST(COALESCE(sum(o.profit_pennies), 0) AS BIGINT) {from} \
             AND o.settled_at >= $3"
        );
        with_pool!(self, |pool, time| {
            let q = sqlx::query_as(&latest).bind(strategy).bind(mode);
            let (p, s): (Option<i64>, Option<i64>) = timed(&what, q.fetch_one(pool)).await?;
            let Some(at) = p.max(s) else {
                return Ok(History::default());
            };
            let q = sqlx::query_scalar(&times)
                .bind(strategy)
                .bind(mode)
                .bind(time(at - HOUR_MS));
            let placed: Vec<i64> = timed(&what, q.fetch_all(pool)).await?;
            let day = at.div_euclid(DAY_MS) * DAY_MS;
            let q = sqlx::query_scalar(&profit)
                .bind(strategy)
                .bind(mode)
                .bind(time(day));
            let day_profit: i64 = timed(&what, q.fetch_one(pool)).await?;
            Ok(History {
                at,
                placed,
                day_profit: Money::from_pennies(day_profit),
            })
        })
    }

    /// Journalled orders the venue never received, by strategy.
    pub async fn journal_failed(&self) -> Result<Vec<(String, i64)>, StoreError> {
        const SQL: &str = "SELECT s.name, count(*) FROM orders o \
            JOIN strategy_versions v ON v.id = o.strategy_version \
            JOIN strategies s ON s.id = v.strategy \
            WHERE o.run IS NULL AND o.status = 'FAILED' GROUP BY s.name ORDER BY s.name";
        with_pool!(self, |pool| {
            timed(
                "counting failed orders",
                sqlx::query_as(SQL).fetch_all(pool),
            )
            .await
        })
    }

    /// Each strategy version's journalled orders, summed.
    pub async fn journal_results(&self) -> Result<Vec<VersionResult>, StoreError> {
        const SQL: &str = "SELECT s.name, v.version, o.mode, count(*), \
            sum(CASE WHEN o.settled_at IS NULL AND o.status NOT IN ('REJECTED', 'FAILED') \
            THEN 1 ELSE 0 END), CAST(COALESCE(sum(o.size_matched_pennies), 0) AS BIGINT), \
            CAST(COALESCE(sum(o.profit_pennies), 0) AS BIGINT) \
            FROM orders o LEFT JOIN strategy_versions v ON v.id = o.strategy_version \
            LEFT JOIN strategies s ON s.id = v.strategy WHERE o.run IS NULL \
            GROUP BY s.name, v.version, o.mode ORDER BY s.name, v.version, o.mode";
        type Row = (
            Option<String>,
            Option<String>,
            Option<String>,
            i64,
            i64,
            i64,
            i64,
        );
        let rows: Vec<Row> = with_pool!(self, |pool| {
            timed("summing orders", sqlx::query_as(SQL).fetch_all(pool)).await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(strategy, version, mode, orders, unsettled, matched, profit)| VersionResult {
                    strategy,
                    version,
                    mode,
                    orders,
                    unsettled,
                    matched: Money::from_pennies(matched),
                    profit: Money::from_pennies(profit),
                },
            )
            .collect())
    }
}

/// A status moved forward by a report (`complete`: nothing left to
/// match). A refusal or failure the venue contradicts gives way to it.
fn forward(before: JournalStatus, complete: bool) -> JournalStatus {
    match (before, complete) {
        (_, true) => JournalStatus::ExecutionComplete,
        (JournalStatus::ExecutionComplete, false) => JournalStatus::ExecutionComplete,
        _ => JournalStatus::Executable,
    }
}

#[derive(sqlx::FromRow)]
struct ListRow {
    customer_ref: Option<String>,
    bet_id: Option<String>,
    strategy: Option<String>,
    version: Option<String>,
    mode: Option<String>,
    market_id: String,
    selection_id: i64,
    side: String,
    price: f64,
    size: i64,
    status: String,
    matched: i64,
    average_price: Option<f64>,
    cancelled: i64,
    lapsed: i64,
    voided: i64,
    placed_at: i64,
    settled_at: Option<i64>,
    profit: Option<i64>,
    reason: Option<String>,
}

impl From<ListRow> for JournalOrder {
    fn from(r: ListRow) -> JournalOrder {
        JournalOrder {
            customer_ref: r.customer_ref.unwrap_or_default(),
            bet_id: r.bet_id,
            strategy: r.strategy,
            version: r.version,
            mode: r.mode,
            market_id: r.market_id,
            selection_id: r.selection_id,
            side: r.side,
            price: r.price,
            size: Money::from_pennies(r.size),
            status: JournalStatus::parse(&r.status),
            matched: Money::from_pennies(r.matched),
            average_price: r.average_price,
            cancelled: Money::from_pennies(r.cancelled),
            lapsed: Money::from_pennies(r.lapsed),
            voided: Money::from_pennies(r.voided),
            placed_at: r.placed_at,
            settled_at: r.settled_at,
            profit: r.profit.map(Money::from_pennies),
            reason: r.reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_only_moves_forward_and_the_venue_overrules_a_refusal() {
        use JournalStatus::*;
        assert_eq!(forward(Pending, false), Executable);
        assert_eq!(forward(Executable, true), ExecutionComplete);
        assert_eq!(forward(ExecutionComplete, false), ExecutionComplete);
        assert_eq!(forward(Rejected, false), Executable);
        assert_eq!(forward(Failed, true), ExecutionComplete);
    }
}

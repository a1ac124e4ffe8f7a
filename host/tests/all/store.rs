//! The store on both databases: each test runs on a SQLite file and on the
//! PostgreSQL server at 127.0.0.1:5432 (or `CLEVER_TEST_PG`), each in a
//! database of its own that is dropped afterwards.

use std::sync::atomic::{AtomicU32, Ordering};

use clever_host::store::{IngestSummary, Store};

/// The server's maintenance database, for creating test databases.
pub(crate) fn pg_admin_url() -> String {
    std::env::var("CLEVER_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A database of a test's own.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

pub fn block_on<T>(work: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(work)
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("clever.db").display());
        TestDb {
            url,
            _dir: Some(dir),
            pg_name: None,
        }
    }

    pub fn postgres() -> TestDb {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "clever_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let admin = pg_admin_url();
        block_on(async {
            let pool = sqlx::PgPool::connect(&admin).await.unwrap_or_else(|e| {
                panic!("PostgreSQL at {admin} is needed for the store tests: {e}")
            });
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
                .execute(&pool)
                .await
                .expect("drop old test database");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&pool)
                .await
                .expect("create test database");
            pool.close().await;
        });
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        TestDb {
            url: format!("{base}/{name}"),
            _dir: None,
            pg_name: Some(name),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = &self.pg_name else { return };
        let admin = pg_admin_url();
        block_on(async {
            if let Ok(pool) = sqlx::PgPool::connect(&admin).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&pool)
                    .await;
                pool.close().await;
            }
        });
    }
}

/// Run `test` on a fresh SQLite file and a fresh PostgreSQL database.
pub fn on_both(test: impl Fn(&TestDb)) {
    test(&TestDb::sqlite());
    test(&TestDb::postgres());
}

const TABLES: &[&str] = &[
    "markets",
    "runners",
    "market_changes",
    "odds_snapshots",
    "strategies",
    "strategy_versions",
    "backtest_runs",
    "backtest_results",
    "orders",
    "order_events",
    "kill_switch",
    "strategy_performance_hourly",
    "strategy_performance_daily",
    "models",
    "predictions",
    "alerts",
    "dead_letters",
];

async fn count(store: &Store, table: &str) -> i64 {
    let sql = format!("SELECT count(*) FROM {table}");
    match store {
        Store::Sqlite { pool, .. } => sqlx::query_scalar(&sql).fetch_one(pool).await,
        Store::Postgres { pool, .. } => sqlx::query_scalar(&sql).fetch_one(pool).await,
    }
    .unwrap_or_else(|e| panic!("{table}: {e}"))
}

#[test]
fn migrations_apply_on_open_once_and_status_shows_them() {
    on_both(|db| {
        block_on(async {
            let fresh = Store::connect(&db.url).await.unwrap();
            let before = fresh.migration_status().await.unwrap();
            assert!(
                !before.is_empty() && before.iter().all(|m| !m.applied),
                "{before:?}"
            );
            assert_eq!(fresh.migrate().await.unwrap(), before.len());
            assert_eq!(fresh.migrate().await.unwrap(), 0, "{}", db.url);
            let after = fresh.migration_status().await.unwrap();
            assert!(after.iter().all(|m| m.applied), "{after:?}");
            fresh.close().await;
            // Opening again applies nothing and finds every table.
            let store = Store::open(&db.url).await.unwrap();
            for table in TABLES {
                assert_eq!(count(&store, table).await, 0, "{table} on {}", db.url);
            }
            store.close().await;
        })
    });
}

/// The kill switch is kept until it is released, in either database.
#[test]
fn the_kill_switch_is_kept_until_released() {
    on_both(|db| {
        block_on(async {
            let store = Store::open(&db.url).await.unwrap();
            assert_eq!(store.kill_switch().await.unwrap(), None);
            store.engage_kill_switch(1_000).await.unwrap();
            store.engage_kill_switch(2_000).await.unwrap();
            store.close().await;
            let store = Store::open(&db.url).await.unwrap();
            assert_eq!(
                store.kill_switch().await.unwrap(),
                Some(1_000),
                "{}",
                db.url
            );
            assert!(store.release_kill_switch().await.unwrap());
            assert!(!store.release_kill_switch().await.unwrap());
            assert_eq!(store.kill_switch().await.unwrap(), None);
            store.close().await;
        })
    });
}

#[test]
fn on_postgres_without_timescaledb_odds_are_partitioned_by_time() {
    let db = TestDb::postgres();
    let (kind, series): (String, String) = block_on(async {
        let store = Store::open(&db.url).await.unwrap();
        let Store::Postgres { pool, .. } = &store else {
            unreachable!()
        };
        let kind: String = sqlx::query_scalar(
            "SELECT relkind::text FROM pg_class WHERE relname = 'odds_snapshots'",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        let series: String =
            sqlx::query_scalar("SELECT value FROM store_settings WHERE key = 'time_series'")
                .fetch_one(pool)
                .await
                .unwrap();
        (kind, series)
    });
    if series == "partitions" {
        assert_eq!(kind, "p", "a natively partitioned table");
    } else {
        assert_eq!(series, "timescaledb");
    }
}

#[test]
fn a_bad_url_or_an_unreachable_server_is_a_clear_error() {
    let err = block_on(Store::connect("mysql://x")).unwrap_err();
    assert!(err.to_string().contains("not a database URL"), "{err}");
    let err = block_on(Store::connect("postgres://me:secret@127.0.0.1:1/none")).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("cannot open postgres://me:***@127.0.0.1:1/none"),
        "{text}"
    );
    assert!(!text.contains("secret"), "{text}");
    // Why, not only that the pool gave up waiting.
    assert!(text.contains("no connection within 10s"), "{text}");
    assert!(text.contains("Connection refused"), "{text}");
    // A parameter the driver would ignore (logging its value) is refused by
    // name before any connection: a misspelt sslmode would drop TLS.
    let url = "postgres://me:secret@127.0.0.1:1/none?ssl_mode=require&pasword=secret";
    let text = block_on(Store::connect(url)).unwrap_err().to_string();
    assert!(
        text.starts_with("postgres://me:***@127.0.0.1:1/none?ssl_mode=***&pasword=***: `ssl_mode` is not a connection parameter (known: sslmode, "),
        "{text}"
    );
    assert!(!text.contains("secret"), "{text}");
    // libpq's own parameters, which the driver does not read, are left out
    // (with a warning), not refused: a provider's URL may carry them.
    let admin = pg_admin_url();
    let sep = if admin.contains('?') { '&' } else { '?' };
    let with_libpq = format!("{admin}{sep}connect_timeout=5&target_session_attrs=any");
    let store = block_on(Store::connect(&with_libpq)).expect("libpq's parameters left out");
    block_on(store.close());
}

async fn counts(store: &Store) -> Vec<(&'static str, i64)> {
    let mut out = Vec::new();
    for table in [
        "markets",
        "runners",
        "market_changes",
        "odds_snapshots",
        "dead_letters",
    ] {
        out.push((table, count(store, table).await));
    }
    out
}

fn real_files() -> Vec<std::path::PathBuf> {
    clever_host::backtest::data_files("--data", &[crate::backtest::betfair_data()])
        .expect("real files")
}

#[test]
fn ingesting_the_real_files_twice_changes_nothing() {
    on_both(|db| {
        block_on(async {
            let store = Store::open(&db.url).await.unwrap();
            let mut first = IngestSummary::default();
            for file in real_files() {
                first += clever_host::betfair::ingest::ingest_file(&store, &file, &mut |_| {})
                    .await
                    .unwrap();
            }
            let after_first = counts(&store).await;
            for file in real_files() {
                clever_host::betfair::ingest::ingest_file(&store, &file, &mut |_| {})
                    .await
                    .unwrap();
            }
            assert_eq!(counts(&store).await, after_first, "{}", db.url);
            // Real files are clean; BASIC-1.132153978 and its .gz copy are one market.
            assert_eq!(first.dead_letters, 0);
            assert_eq!(
                after_first,
                [
                    ("markets", 8),
                    ("runners", after_first[1].1),
                    ("market_changes", 58_784),
                    ("odds_snapshots", after_first[3].1),
                    ("dead_letters", 0)
                ]
            );
            assert!(after_first[3].1 > 90_000, "{after_first:?}");
            store.close().await;
        })
    });
}

/// A market of runners 1 and 2 and five lines, three of them bad.
const BAD_FILE: &str = concat!(
    r#"{"op":"mcm","pt":1000,"mc":[{"id":"1.9","img":true,"marketDefinition":{"status":"OPEN","inPlay":false,"betDelay":0,"eventTypeId":"7","marketType":"WIN","numberOfWinners":1,"runners":[{"id":1,"status":"ACTIVE"},{"id":2,"status":"ACTIVE"}]},"rc":[{"id":1,"atb":[[3.0,10]],"atl":[[3.05,5]]}]}]}"#,
    "\n{broken\n",
    r#"{"op":"mcm","pt":2000,"mc":[{"id":"1.9","rc":[{"id":1,"atb":[[3.03,4]]},{"id":2,"atb":[[5.0,4]]}]}]}"#,
    "\n",
    r#"{"op":"mcm","pt":3000,"mc":[{"id":"1.9","rc":[{"id":99,"ltp":4.0}]}]}"#,
    "\n",
    r#"{"op":"mcm","pt":4000,"mc":[{"id":"1.9","rc":[{"id":1,"atl":[[2.5,5]]}]}]}"#,
    "\n",
);

#[test]
fn bad_records_go_to_dead_letters_and_the_rest_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("1.9");
    std::fs::write(&file, BAD_FILE).unwrap();
    on_both(|db| {
        block_on(async {
            let store = Store::open(&db.url).await.unwrap();
            let summary = clever_host::betfair::ingest::ingest_file(&store, &file, &mut |_| {})
                .await
                .unwrap();
            assert_eq!(summary.dead_letters, 4, "{}", db.url);
            let letters: Vec<(String, String)> = match &store {
                Store::Sqlite { pool, .. } => sqlx::query_as(
                    "SELECT position, reason FROM dead_letters ORDER BY position, reason",
                )
                .fetch_all(pool)
                .await
                .unwrap(),
                Store::Postgres { pool, .. } => sqlx::query_as(
                    "SELECT position, reason FROM dead_letters ORDER BY position, reason",
                )
                .fetch_all(pool)
                .await
                .unwrap(),
            };
            let text = format!("{letters:#?}");
            assert!(
                letters[0].0 == "line 2" && letters[0].1.starts_with("invalid JSON"),
                "{text}"
            );
            assert!(
                text.contains("atb price 3.03 is not on the ladder"),
                "{text}"
            );
            assert!(
                text.contains("runner 99 is not in the market's definition"),
                "{text}"
            );
            assert!(text.contains("best lay 2.5 is below best back 3"), "{text}");
            assert!(text.contains("line 3, market 1.9, runner 1"), "{text}");
            // Runner 2's good record on line 3 was kept; the crossed book's
            // line stays in the stream (later deltas build on it).
            let stored: Vec<String> = match &store {
                Store::Sqlite { pool, .. } => {
                    sqlx::query_scalar("SELECT change FROM market_changes ORDER BY seq")
                        .fetch_all(pool)
                        .await
                        .unwrap()
                }
                Store::Postgres { pool, .. } => {
                    sqlx::query_scalar("SELECT change FROM market_changes ORDER BY seq")
                        .fetch_all(pool)
                        .await
                        .unwrap()
                }
            };
            assert_eq!(stored.len(), 4, "{stored:#?}");
            assert!(
                !stored[1].contains("3.03") && stored[1].contains("5.0"),
                "{}",
                stored[1]
            );
            assert_eq!(count(&store, "odds_snapshots").await, 2);
            // Again: nothing new, not even dead letters.
            clever_host::betfair::ingest::ingest_file(&store, &file, &mut |_| {})
                .await
                .unwrap();
            assert_eq!(count(&store, "dead_letters").await, 4);
            store.close().await;
        })
    });
}

#[test]
fn a_backtest_from_the_database_equals_one_from_the_files() {
    use clever_host::backtest::{Backtest, Job, Stored};
    use clever_plugin_artifacts::{BACK_FAV_PREOFF, LAY_LOW_INPLAY, STEAM_CHASER};

    // The .gz copy of BASIC-1.132153978 is the same market: one row stored.
    let files: Vec<_> = real_files()
        .into_iter()
        .filter(|f| !f.to_string_lossy().ends_with(".gz"))
        .collect();
    let rt = crate::support::runtime();
    let plugins: Vec<_> = [LAY_LOW_INPLAY, BACK_FAV_PREOFF, STEAM_CHASER]
        .iter()
        .map(|p| rt.load(p))
        .collect();
    let from_files = Backtest {
        runtime: &rt.runtime,
        format: &clever_host::betfair::StreamFormat::ONE_CORE,
        plugins: plugins.clone(),
        params: "{}".into(),
        risk: Default::default(),
        sim: Default::default(),
        threads: 2,
        stored: None,
        predictions: std::sync::Arc::new(clever_host::engine::NoPredictions),
    }
    .run(&files, &crate::backtest::Quiet)
    .unwrap();
    for db in [TestDb::sqlite(), TestDb::postgres()] {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (store, markets) = runtime.block_on(async {
            let store = Store::open(&db.url).await.unwrap();
            for file in real_files() {
                clever_host::betfair::ingest::ingest_file(&store, &file, &mut |_| {})
                    .await
                    .unwrap();
            }
            let markets = store.find_markets(&Default::default()).await.unwrap();
            (store, markets)
        });
        let stored = Stored { store, runtime };
        let jobs: Vec<Job> = markets.into_iter().map(Job::Stored).collect();
        let from_db = Backtest {
            runtime: &rt.runtime,
            format: &clever_host::betfair::StreamFormat::ONE_CORE,
            plugins: plugins.clone(),
            params: "{}".into(),
            risk: Default::default(),
            sim: Default::default(),
            threads: 2,
            stored: Some(&stored),
            predictions: std::sync::Arc::new(clever_host::engine::NoPredictions),
        }
        .run_jobs(&jobs, &crate::backtest::Quiet)
        .unwrap();
        // The database lists markets in its own order, not the files'.
        assert_eq!(
            by_time(from_db.clone()),
            by_time(from_files.clone()),
            "{}",
            db.url
        );
        assert!(from_db.strategies[0].figures.matched.is_positive());
        let Stored { store, runtime } = stored;
        runtime.block_on(store.close());
    }
}

/// `report` with each strategy's markets in time order (then market id).
fn by_time(mut report: clever_host::backtest::Report) -> clever_host::backtest::Report {
    for s in &mut report.strategies {
        let mut markets: Vec<_> = s.points.drain(..).zip(s.market_ids.drain(..)).collect();
        markets.sort_by(|(a, x), (b, y)| (a.at, x).cmp(&(b.at, y)));
        (s.points, s.market_ids) = markets.into_iter().unzip();
    }
    report
}

#[test]
fn the_daily_roll_up_follows_the_hours_and_old_odds_can_be_dropped() {
    use clever_host::market::Money;
    use clever_host::store::{Performance, VersionRow};
    on_both(|db| {
        block_on(async {
            let store = Store::open(&db.url).await.unwrap();
            let version = store
                .save_version(&VersionRow {
                    name: "s",
                    version: "1.0.0",
                    wit_version: "1.0.0",
                    component: b"\0asm",
                    sha256: "ab",
                    parameters: "{}",
                })
                .await
                .unwrap();
            let day = 1_667_779_200_000; // 2022-11-07 00:00 UTC
            // Ten pence matched per order: as doubles, three of them would
            // sum to 0.30000000000000004.
            let p = |profit| Performance {
                orders: 1,
                matched: Money::from_pennies(10),
                gross_profit: Money::from_pennies(profit),
                commission: Money::ZERO,
                profit: Money::from_pennies(profit),
            };
            store
                .add_performance(version, day + 3_600_000, p(150))
                .await
                .unwrap();
            store
                .add_performance(version, day + 3_700_000, p(-50))
                .await
                .unwrap();
            store
                .add_performance(version, day + 7_300_000, p(200))
                .await
                .unwrap();
            store
                .add_performance(version, day + 86_400_000, p(900))
                .await
                .unwrap();
            let sql_h = "SELECT count(*) FROM strategy_performance_hourly";
            let sql_d = "SELECT orders, matched_pennies, profit_pennies \
                FROM strategy_performance_daily ORDER BY day";
            let (hours, days): (i64, Vec<(i64, i64, i64)>) = match &store {
                Store::Sqlite { pool, .. } => (
                    sqlx::query_scalar(sql_h).fetch_one(pool).await.unwrap(),
                    sqlx::query_as(sql_d).fetch_all(pool).await.unwrap(),
                ),
                Store::Postgres { pool, .. } => (
                    sqlx::query_scalar(sql_h).fetch_one(pool).await.unwrap(),
                    sqlx::query_as(sql_d).fetch_all(pool).await.unwrap(),
                ),
            };
            assert_eq!(hours, 3, "{}", db.url);
            assert_eq!(days, [(3, 30, 300), (1, 10, 900)], "{}", db.url);
            // Retention: ingest the 2022-11-07 race, then drop what is older
            // than 2022-11-07 (only its 2022-11-06 part goes).
            let race = crate::backtest::betfair_data().join("1-206064380.bz2");
            clever_host::betfair::ingest::ingest_file(&store, &race, &mut |_| {})
                .await
                .unwrap();
            let before = count(&store, "odds_snapshots").await;
            let dropped = store.drop_odds_before(day).await.unwrap();
            let after = count(&store, "odds_snapshots").await;
            assert!(
                dropped > 0 && after < before && after > 0,
                "{dropped} {before} {after}"
            );
            store.close().await;
        })
    });
}

/// A database an older build left (migrations 0001 and 0002, money as
/// doubles) keeps its figures, to the penny, when 0003 makes them pennies,
/// and its orders and their events when 0005 rebuilds the order tables.
#[test]
fn money_saved_as_doubles_reads_back_to_the_penny_after_the_pennies_migration() {
    use clever_host::market::Money;
    use sqlx::migrate::Migrator;
    fn up_to_0002(mut all: Migrator) -> Migrator {
        let old: Vec<_> = all.iter().filter(|m| m.version < 3).cloned().collect();
        all.migrations = old.into();
        all
    }
    // 0.30000000000000004 is what three 0.10s summed as doubles give.
    const FIGURES: &str = "INSERT INTO backtest_results (run, strategy_version, orders, \
        matched, gross_profit, commission, profit, roi, rejected, faults, quarantined) \
        VALUES (1, 1, 3, 4046.8700000000003, -900.56, 24.0, -924.5600000000093, -0.23, '{}', \
        0, false); \
        INSERT INTO strategy_performance_hourly (strategy_version, hour, orders, matched, \
        gross_profit, commission, profit) VALUES (1, TS, 3, 0.30000000000000004, -0.005, 0, \
        -0.005); \
        INSERT INTO markets (id, venue, market_id, event_type, market_type, number_of_winners, \
        status) VALUES (1, 'betfair', '1.5', '7', 'WIN', 1, 'CLOSED'); \
        INSERT INTO orders (id, run, strategy_version, market, selection_id, side, order_type, \
        persistence, price, size, placed_at, status) VALUES (1, 1, 1, 1, 7, 'BACK', 'LIMIT', \
        'LAPSE', 2.0, 0.30000000000000004, TS, 'EXECUTION_COMPLETE'); \
        INSERT INTO order_events (order_id, seq, at, kind, price, size) \
        VALUES (1, 0, TS, 'placed', 2.0, 0.30000000000000004)";
    on_both(|db| {
        block_on(async {
            let sqlite = db.url.starts_with("sqlite:");
            let (ts, blob) = if sqlite {
                ("0", "x'00'")
            } else {
                ("now()", "'\\x00'")
            };
            let rows = format!(
                "INSERT INTO strategies (id, name) VALUES (1, 's'); \
                 INSERT INTO strategy_versions (id, strategy, version, wit_version, component, \
                 sha256, created_at) VALUES (1, 1, '1.0.0', '1.0.0', {blob}, 'ab', {ts}); \
                 INSERT INTO backtest_runs (id, started_at, elapsed_ms, config, markets, updates) \
                 VALUES (1, {ts}, 0, '{{}}', 1, 1); {}",
                FIGURES.replace("TS", ts)
            );
            if sqlite {
                let options: sqlx::sqlite::SqliteConnectOptions = db.url.parse().unwrap();
                let pool = sqlx::SqlitePool::connect_with(options.create_if_missing(true))
                    .await
                    .unwrap();
                up_to_0002(sqlx::migrate!("../migrations/sqlite"))
                    .run(&pool)
                    .await
                    .unwrap();
                sqlx::raw_sql(&rows).execute(&pool).await.unwrap();
                pool.close().await;
            } else {
                let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
                up_to_0002(sqlx::migrate!("../migrations/postgres"))
                    .run(&pool)
                    .await
                    .unwrap();
                sqlx::raw_sql(&rows).execute(&pool).await.unwrap();
                pool.close().await;
            }
            let store = Store::open(&db.url).await.unwrap();
            let run = store.run(1).await.unwrap().unwrap();
            let r = &run.results[0];
            // A run saved before 0006 has no metrics and no sweep.
            assert_eq!((r.metrics.as_deref(), run.sweep), (None, None));
            let figures = (r.matched, r.gross_profit, r.commission, r.profit);
            let pennies = Money::from_pennies;
            let want = (
                pennies(404_687),
                pennies(-90_056),
                pennies(2_400),
                pennies(-92_456),
            );
            assert_eq!(figures, want, "{}", db.url);
            let sql = "SELECT matched_pennies, profit_pennies FROM strategy_performance_hourly";
            let hour: (i64, i64) = match &store {
                Store::Sqlite { pool, .. } => sqlx::query_as(sql).fetch_one(pool).await.unwrap(),
                Store::Postgres { pool, .. } => sqlx::query_as(sql).fetch_one(pool).await.unwrap(),
            };
            // Half a penny rounds away from zero, as Money rounds.
            assert_eq!(hour, (30, -1), "{}", db.url);
            let sql = "SELECT o.size_pennies, e.amount_pennies, o.run FROM orders o \
                JOIN order_events e ON e.order_id = o.id";
            let order: Vec<(i64, i64, i64)> = match &store {
                Store::Sqlite { pool, .. } => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
                Store::Postgres { pool, .. } => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
            };
            assert_eq!(order, [(30, 30, 1)], "{}", db.url);
            store.close().await;
        })
    });
}

#[test]
fn the_registry_refuses_other_bytes_under_a_published_version_and_rolls_back() {
    use clever_host::store::{RegistryError, VersionRow};
    on_both(|db| {
        block_on(async {
            let store = Store::open(&db.url).await.unwrap();
            let v = |version, sha: &'static str| VersionRow {
                name: "counter",
                version,
                wit_version: "1.0.0",
                component: sha.as_bytes(),
                sha256: sha,
                parameters: "{}",
            };
            assert!(store.publish(&v("1.0.0", "aa")).await.unwrap());
            // The same bytes again: nothing new.
            assert!(!store.publish(&v("1.0.0", "aa")).await.unwrap());
            let err = store.publish(&v("1.0.0", "bb")).await.unwrap_err();
            assert!(matches!(err, RegistryError::Conflict { .. }), "{err}");
            assert!(
                err.to_string()
                    .contains("already published with other bytes"),
                "{err}"
            );
            assert!(store.publish(&v("1.1.0", "cc")).await.unwrap());
            let err = store.rollback("counter").await.unwrap_err();
            assert!(matches!(err, RegistryError::NoEarlier(_)), "{err}");
            store.activate("counter", "1.0.0").await.unwrap();
            store.activate("counter", "1.1.0").await.unwrap();
            let active = |rows: Vec<clever_host::store::Published>| {
                rows.into_iter()
                    .filter(|r| r.active)
                    .map(|r| r.version)
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                active(store.published("counter", None).await.unwrap()),
                ["1.1.0"]
            );
            assert_eq!(store.rollback("counter").await.unwrap(), "1.0.0");
            assert_eq!(active(store.published("", None).await.unwrap()), ["1.0.0"]);
            let err = store.activate("counter", "9.9.9").await.unwrap_err();
            assert!(
                err.to_string().contains("counter@9.9.9 is not published"),
                "{err}"
            );
            let listed = store.published("", None).await.unwrap();
            assert_eq!(listed.len(), 2, "{listed:?}");
            assert_eq!(listed[0].bytes, 2);
            let sha = |version| store.published_sha256("counter", version);
            assert_eq!(sha("1.1.0").await.unwrap().as_deref(), Some("cc"));
            assert_eq!(sha("9.9.9").await.unwrap(), None);
            store.close().await;
        })
    });
}

/// The store at `url` with strategy `s` 1.0.0 published.
async fn with_s_published(url: &str) -> Store {
    let store = Store::open(url).await.unwrap();
    let version = clever_host::store::VersionRow {
        name: "s",
        version: "1.0.0",
        wit_version: "1.0.0",
        component: b"a",
        sha256: "a1",
        parameters: "{}",
    };
    store.publish(&version).await.unwrap();
    store
}

/// A live order of `s@1.0.0` under `customer_ref`: a back of 10.00 at 2.5
/// on runner 7 of market 1.9, placed at 1,000 ms.
fn order_of_s(customer_ref: &str) -> clever_host::store::NewOrder {
    use clever_sdk::{OrderType, Persistence, Side};
    clever_host::store::NewOrder {
        customer_ref: customer_ref.into(),
        strategy_ref: "host".into(),
        mode: "live",
        strategy: "s".into(),
        version: "1.0.0".into(),
        venue: "betfair",
        market_id: "1.9".into(),
        selection_id: 7,
        side: Side::Back,
        order_type: OrderType::Limit,
        persistence: Persistence::Lapse,
        price: 2.5,
        size: clever_host::market::Money::from_pennies(1000),
        placed_at: 1_000,
    }
}

/// Sessions, on both databases: each start gets its own tag, a session's
/// orders are those whose reference begins with its tag and a dash (not
/// a longer tag's), and a stop is recorded.
#[test]
fn a_session_finds_its_own_orders_by_their_reference() {
    on_both(|db| {
        block_on(async {
            let store = with_s_published(&db.url).await;
            let (first, tag) = store
                .start_session("paper", "betfair", Some("a\nb"))
                .await
                .unwrap();
            let (second, other) = store.start_session("live", "betfair", None).await.unwrap();
            assert_ne!(tag, other);
            let refs = [
                format!("{tag}-1-1"),
                format!("{tag}-2-1"),
                format!("{tag}0-1-1"),
            ];
            for r in refs.iter().chain([&format!("{other}-1-1")]) {
                store.journal_order(&order_of_s(r)).await.unwrap();
            }
            let mine = store.session_orders(&tag).await.unwrap();
            let mine: Vec<_> = mine.iter().map(|o| o.customer_ref.as_str()).collect();
            assert_eq!(mine, [&refs[0], &refs[1]], "{}", db.url);
            store.stop_session(first).await.unwrap();
            let sessions = store.sessions(None).await.unwrap();
            let listed: Vec<_> = sessions.iter().map(|s| (s.id, s.orders)).collect();
            assert_eq!(listed, [(second, 1), (first, 2)], "{}", db.url);
            let one = store.sessions(Some(first)).await.unwrap();
            assert_eq!((one.len(), one[0].recording.as_deref()), (1, Some("a\nb")));
            assert!(one[0].stopped_at >= Some(one[0].started_at), "{one:?}");
            assert_eq!(sessions[0].stopped_at, None);
            assert!(store.run_orders(1).await.unwrap().is_empty());
            store.close().await;
        })
    });
}

/// The order journal, on both databases: an order is written before it is
/// sent (of a published version only, under a reference used once), moves
/// forward only whatever order reports come in, is settled once, a bet the
/// journal never wrote is adopted, and each version's figures add up.
#[test]
fn the_order_journal_moves_orders_forward_only_adopts_strangers_and_settles_once() {
    use clever_host::market::Money;
    use clever_host::store::{BetReport, JournalStatus, OrderQuery, Reported};
    use clever_sdk::{Persistence, Side};
    let p = Money::from_pennies;
    on_both(|db| {
        block_on(async {
            let store = with_s_published(&db.url).await;
            let order = order_of_s;
            for r in ["r-1-1", "r-1-2", "r-1-3"] {
                store.journal_order(&order(r)).await.unwrap();
            }
            let mut unknown = order("r-1-4");
            unknown.version = "9.9.9".into();
            let err = store.journal_order(&unknown).await.unwrap_err();
            assert!(
                err.to_string()
                    .contains("s@9.9.9 is not a published version"),
                "{err}"
            );
            assert!(
                store.journal_order(&order("r-1-1")).await.is_err(),
                "a reference is used once"
            );

            assert!(store.journal_placed("r-1-1", "101", 1_100).await.unwrap());
            let bet = |matched: i64, lapsed: i64, complete| BetReport {
                customer_ref: "r-1-1".into(),
                bet_id: "101".into(),
                market_id: "1.9".into(),
                selection_id: 7,
                side: Side::Back,
                price: 2.5,
                size: p(1000),
                persistence: Persistence::Lapse,
                placed_at: 1_000,
                matched: p(matched),
                average_price: Some(2.5),
                cancelled: p(0),
                lapsed: p(lapsed),
                voided: p(0),
                complete,
            };
            let id = ("betfair", "host", "live");
            let report = |b: BetReport| {
                let store = store.clone();
                async move { store.journal_report(&b, id, 1_200).await.unwrap() }
            };
            assert_eq!(report(bet(400, 0, false)).await, Reported::Updated(true));
            assert_eq!(
                report(bet(400, 0, false)).await,
                Reported::Updated(false),
                "again"
            );
            assert_eq!(
                report(bet(200, 0, false)).await,
                Reported::Updated(false),
                "older"
            );
            assert_eq!(report(bet(600, 400, true)).await, Reported::Updated(true));
            assert_eq!(report(bet(600, 0, false)).await, Reported::Updated(false));
            let late = store.journal_ended("r-1-1", JournalStatus::Rejected, "late", 1_300);
            assert!(
                !late.await.unwrap(),
                "a refusal after the venue reported the bet"
            );
            let failed =
                store.journal_ended("r-1-2", JournalStatus::Failed, "never received", 1_300);
            assert!(failed.await.unwrap());

            let mut stranger = bet(0, 0, false);
            (stranger.customer_ref, stranger.bet_id) = ("other-1-1".into(), "555".into());
            assert_eq!(report(stranger.clone()).await, Reported::Adopted);
            assert_eq!(report(stranger).await, Reported::Updated(false));

            let unsettled = store.journal_unsettled("host").await.unwrap();
            let refs: Vec<&str> = unsettled.iter().map(|o| o.customer_ref.as_str()).collect();
            assert_eq!(refs, ["r-1-1", "r-1-3", "other-1-1"], "{}", db.url);
            assert!(store.journal_settled("r-1-1", p(900), 2_000).await.unwrap());
            assert!(
                !store.journal_settled("r-1-1", p(900), 2_000).await.unwrap(),
                "once"
            );
            assert_eq!(report(bet(700, 300, true)).await, Reported::Settled);

            let orders = store.journal_orders(&OrderQuery::default()).await.unwrap();
            let settled = orders.iter().find(|o| o.customer_ref == "r-1-1").unwrap();
            assert_eq!(settled.status, JournalStatus::ExecutionComplete);
            assert_eq!(
                (settled.matched, settled.lapsed, settled.profit),
                (p(600), p(400), Some(p(900)))
            );
            assert_eq!(
                (settled.placed_at, settled.settled_at),
                (1_000, Some(2_000)),
                "{}",
                db.url
            );
            assert_eq!(settled.version.as_deref(), Some("1.0.0"));
            let failed = OrderQuery {
                status: Some("FAILED".into()),
                ..OrderQuery::default()
            };
            let failed = store.journal_orders(&failed).await.unwrap();
            assert_eq!(failed.len(), 1);
            assert_eq!(failed[0].reason.as_deref(), Some("never received"));

            let sql = "SELECT e.kind, e.amount_pennies FROM order_events e \
                JOIN orders o ON o.id = e.order_id WHERE o.customer_ref = 'r-1-1' ORDER BY e.seq";
            let events: Vec<(String, Option<i64>)> = match &store {
                Store::Sqlite { pool, .. } => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
                Store::Postgres { pool, .. } => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
            };
            let want = [
                ("placed", Some(1000)),
                ("accepted", None),
                ("matched", Some(400)),
                ("matched", Some(200)),
                ("lapsed", Some(400)),
                ("settled", Some(900)),
            ];
            let want: Vec<(String, Option<i64>)> =
                want.iter().map(|(k, a)| (k.to_string(), *a)).collect();
            assert_eq!(events, want, "{}", db.url);

            let results = store.journal_results().await.unwrap();
            let mine = results
                .iter()
                .find(|r| r.strategy.as_deref() == Some("s"))
                .unwrap();
            assert_eq!((mine.orders, mine.unsettled), (3, 1), "{results:?}");
            assert_eq!((mine.matched, mine.profit), (p(600), p(900)));
            let adopted = results.iter().find(|r| r.strategy.is_none()).unwrap();
            assert_eq!((adopted.orders, adopted.unsettled), (1, 1));

            // What a restarted host's risk limits carry over.
            let history = store.journal_history("s", "live").await.unwrap();
            assert_eq!(history.at, 2_000, "the latest placement or settlement");
            assert_eq!(history.placed, [1_000, 1_000, 1_000], "{}", db.url);
            assert_eq!(history.day_profit, p(900));
            let none = store.journal_history("s", "paper").await.unwrap();
            assert_eq!(none, Default::default());
            store.close().await;
        })
    });
}

/// `clever odds latest` and `GET /markets/{id}/odds`, on both databases:
/// after ingesting a real race, each runner's latest stored odds are its
/// last traded price in the file, no later than the file's last update.
#[test]
fn the_latest_odds_of_each_runner_are_the_last_the_file_published() {
    use crate::serve::{clever, ok};
    let race = crate::backtest::betfair_data().join("1.197931750");
    let text = std::fs::read_to_string(&race).unwrap();
    let mut last_traded = std::collections::BTreeMap::new();
    let mut last_pt = 0;
    for line in text.lines() {
        let line: serde_json::Value = serde_json::from_str(line).unwrap();
        last_pt = line["pt"].as_i64().unwrap();
        for rc in line["mc"][0]["rc"].as_array().into_iter().flatten() {
            if let Some(ltp) = rc["ltp"].as_f64() {
                last_traded.insert(rc["id"].as_i64().unwrap(), ltp);
            }
        }
    }
    on_both(|db| {
        ok(&clever(&[
            "ingest",
            race.to_str().unwrap(),
            "--db",
            &db.url,
        ]));
        let out = ok(&clever(&[
            "odds",
            "latest",
            "1.197931750",
            "--db",
            &db.url,
            "--json",
        ]));
        let odds: serde_json::Value = serde_json::from_str(&out).unwrap();
        let got: std::collections::BTreeMap<i64, f64> = (odds.as_array().unwrap().iter())
            .filter(|o| o["last_traded"].is_f64())
            .map(|o| {
                (
                    o["selection_id"].as_i64().unwrap(),
                    o["last_traded"].as_f64().unwrap(),
                )
            })
            .collect();
        assert_eq!(got, last_traded, "{}", db.url);
        let times = odds
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["published_at"].as_i64().unwrap());
        assert!(times.into_iter().all(|t| t <= last_pt));
        let unknown = clever(&["odds", "latest", "1.1", "--db", &db.url]);
        assert!(String::from_utf8_lossy(&unknown.stderr).contains("no stored odds for market 1.1"));
        if db.url.starts_with("postgres") {
            // The server trusts loopback, so a password is taken and ignored:
            // the message must name the database without it.
            let sep = if db.url.contains('?') { '&' } else { '?' };
            let secret = format!("{}{sep}password=hunter2", db.url);
            let unknown = clever(&["odds", "latest", "1.1", "--db", &secret]);
            let said = String::from_utf8_lossy(&unknown.stderr);
            assert!(said.contains("password=***: no stored odds"), "{said}");
            assert!(!said.contains("hunter2"), "{said}");
        }
        let server =
            crate::serve::Server::start(db, &race, &["--speed", "0"], Some(crate::serve::TOKEN));
        assert_eq!(server.get("/markets/1.197931750/odds")["runners"], odds);
        let (status, _) = server.call("GET", "/markets/1.1/odds", None, b"");
        assert_eq!(status, 404);
    });
}

/// Two processes opening one new SQLite file at once (a live and a paper
/// host, say) must not both apply its migrations: one waits for the other.
#[test]
fn two_processes_opening_a_new_sqlite_database_at_once_both_succeed() {
    for round in 0..4 {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("new.db").display());
        let migrate = || {
            std::process::Command::new(env!("CARGO_BIN_EXE_clever"))
                .args(["db", "migrate", "--db", &url])
                .spawn()
                .unwrap()
        };
        let (mut a, mut b) = (migrate(), migrate());
        let (a, b) = (a.wait().unwrap(), b.wait().unwrap());
        assert!(a.success() && b.success(), "round {round}: {a} and {b}");
    }
}

/// A restarting host counts the day's loss from its strategy's trades in
/// its own mode closed since the day began: the store picks them, on
/// both databases, to the millisecond.
#[test]
fn trades_since_picks_one_strategys_trades_of_a_mode_closed_from_a_moment() {
    use clever_host::store::TradeSource;
    on_both(|db| {
        block_on(async {
            let store = Store::open(&db.url).await.unwrap();
            let since = 1_764_979_200_000; // 2025-12-06 00:00 UTC
            let trade = crate::hyperliquid::closed_trade;
            let source = |mode, strategy| TradeSource {
                mode,
                run: None,
                session: None,
                venue: "hyperliquid",
                strategy,
                version: "1.0.0",
            };
            let mine = [
                trade(since - 1, -1),
                trade(since, -20),
                trade(since + 5, 300),
            ];
            store
                .save_trades(source("paper", "a"), &mine)
                .await
                .unwrap();
            let others = [trade(since + 1, -4_000)];
            store
                .save_trades(source("live", "a"), &others)
                .await
                .unwrap();
            store
                .save_trades(source("paper", "b"), &others)
                .await
                .unwrap();
            let found = store.trades_since("a", "paper", since).await.unwrap();
            let picked: Vec<(i64, &str)> = (found.iter())
                .map(|t| (t.closed_at, t.pnl.as_str()))
                .collect();
            assert_eq!(picked, [(since, "-20"), (since + 5, "300")], "{}", db.url);
            assert!(
                store
                    .trades_since("a", "backtest", 0)
                    .await
                    .unwrap()
                    .is_empty()
            );
            store.close().await;
        })
    });
}

/// Order-book orders of running hosts: each one row per session,
/// strategy and id, brought up to date as it changes; a restarting host's
/// hourly count reads one strategy's in its mode from a moment, and
/// `clever orders` filters them, on both databases.
#[test]
fn book_orders_are_kept_as_last_reported_and_read_by_strategy_mode_and_time() {
    use clever_host::store::{BookOrderSource, OrderQuery};
    use clever_sdk::{BookOrder, BookOrderRequest, BookSide, OrderId, OrderStatus};
    use clever_sdk::{RejectReason, Timestamp};
    on_both(|db| {
        block_on(async {
            let store = Store::open(&db.url).await.unwrap();
            let since = 1_764_979_200_000; // 2025-12-06 00:00 UTC
            let source = |mode, session, strategy| BookOrderSource {
                mode,
                session,
                venue: "hyperliquid",
                strategy,
                version: "1.0.0",
            };
            let order = |id, at: i64, status| {
                let request = BookOrderRequest::limit("ETH", BookSide::Buy, 2_999.5, 0.01);
                BookOrder::new(OrderId(id), request, status, Timestamp(at))
            };
            let mut filled = order(2, since + 5, OrderStatus::ExecutionComplete);
            filled.size_filled = 0.01;
            filled.average_price = Some(2_999.5);
            filled.fees = 0.0045;
            let mut refused = order(3, since + 6, OrderStatus::Rejected);
            refused.rejection = Some(RejectReason::VenueError("margin".into()));
            let first = [
                order(1, since - 1, OrderStatus::Pending),
                order(2, since + 5, OrderStatus::Executable),
                filled,
                refused,
            ];
            let s1 = source("live", "s1", "a");
            store
                .save_book_orders(s1, &first, since + 10)
                .await
                .unwrap();
            // A later save brings order 1 up to date, not a second row.
            let done = [order(1, since - 1, OrderStatus::ExecutionComplete)];
            store.save_book_orders(s1, &done, since + 20).await.unwrap();
            let others = [order(1, since + 1, OrderStatus::Pending)];
            for s in [source("paper", "p1", "a"), source("live", "s1", "b")] {
                store.save_book_orders(s, &others, since).await.unwrap();
            }
            // Another session's order 1 is another order.
            let s2 = source("live", "s2", "a");
            store.save_book_orders(s2, &others, since).await.unwrap();

            let placed = store
                .book_orders_placed_since("a", "live", since)
                .await
                .unwrap();
            assert_eq!(placed, [since + 1, since + 5, since + 6], "{}", db.url);
            let all = |strategy: &str, status: Option<&str>| OrderQuery {
                strategy: Some(strategy.into()),
                status: status.map(str::to_owned),
                ..OrderQuery::default()
            };
            let rows = store.book_orders(&all("a", None)).await.unwrap();
            let brief: Vec<(&str, &str, i64, &str)> = (rows.iter())
                .map(|r| {
                    (
                        r.mode.as_str(),
                        r.session.as_str(),
                        r.order_id,
                        r.status.as_str(),
                    )
                })
                .collect();
            let want = [
                ("live", "s1", 3, "REJECTED"),
                ("live", "s1", 2, "EXECUTION_COMPLETE"),
                ("live", "s2", 1, "PENDING"),
                ("paper", "p1", 1, "PENDING"),
                ("live", "s1", 1, "EXECUTION_COMPLETE"),
            ];
            assert_eq!(brief, want, "newest first: {}", db.url);
            let two = &rows[1];
            let money = (two.price.as_str(), two.size.as_str(), two.filled.as_str());
            assert_eq!(money, ("2999.5", "0.01", "0.01"), "{}", db.url);
            assert_eq!(two.average_price.as_deref(), Some("2999.5"));
            assert_eq!((two.fees.as_str(), two.side.as_str()), ("0.0045", "buy"));
            assert_eq!(rows[0].reason.as_deref(), Some("venue-error:margin"));
            let refused = store
                .book_orders(&all("a", Some("REJECTED")))
                .await
                .unwrap();
            assert_eq!(refused.len(), 1, "{}", db.url);
            let in_btc = OrderQuery {
                market_id: Some("BTC".into()),
                ..OrderQuery::default()
            };
            assert!(store.book_orders(&in_btc).await.unwrap().is_empty());
            store.close().await;
        })
    });
}

/// A running host's trades are numbered in its session: the same numbers
/// written twice (a write whose answer was lost, tried again) are stored
/// once, on both databases; the same numbers in another session or of
/// another strategy are other trades, and unnumbered trades (a backtest's)
/// are always stored.
#[test]
fn numbered_trades_are_stored_once_and_unnumbered_ones_always() {
    use clever_host::store::TradeSource;
    on_both(|db| {
        block_on(async {
            let store = Store::open(&db.url).await.unwrap();
            let source = |session, strategy| TradeSource {
                mode: "live",
                run: None,
                session,
                venue: "hyperliquid",
                strategy,
                version: "1.0.0",
            };
            let trade = crate::hyperliquid::closed_trade;
            let two = [trade(1_000, 5), trade(2_000, -3)];
            let first = store.save_session_trades(source(Some("s1"), "a"), 0, &two);
            assert_eq!(first.await.unwrap().len(), 2, "{}", db.url);
            let again = store.save_session_trades(source(Some("s1"), "a"), 0, &two);
            assert!(again.await.unwrap().is_empty(), "stored once: {}", db.url);
            // One stored already, one new: only the new one.
            let next = [trade(2_000, -3), trade(3_000, 1)];
            let next = store.save_session_trades(source(Some("s1"), "a"), 1, &next);
            assert_eq!(next.await.unwrap().len(), 1, "{}", db.url);
            for (session, strategy) in [(Some("s2"), "a"), (Some("s1"), "b")] {
                let other = store.save_session_trades(source(session, strategy), 0, &two);
                assert_eq!(other.await.unwrap().len(), 2, "{}", db.url);
            }
            for _ in 0..2 {
                let unnumbered = store.save_trades(source(None, "c"), &two);
                assert_eq!(unnumbered.await.unwrap().len(), 2, "{}", db.url);
            }
            let count = |strategy| store.trades(strategy, None);
            assert_eq!(count("a").await.unwrap().len(), 5, "{}", db.url);
            assert_eq!(count("b").await.unwrap().len(), 2, "{}", db.url);
            assert_eq!(count("c").await.unwrap().len(), 4, "{}", db.url);
            store.close().await;
        })
    });
}

//! The store on both databases: each test runs on a SQLite file and on the
//! PostgreSQL server at 127.0.0.1:5432 (or `CLEVER_TEST_PG`), each in a
//! database of its own that is dropped afterwards.

use std::sync::atomic::{AtomicU32, Ordering};

use clever_host::store::Store;

/// The server's maintenance database, for creating test databases.
fn pg_admin_url() -> String {
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
}

//! Opening the database: the URL, the pool, and the per-query timeout.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// The kind of database behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// SQLite: times are epoch-millisecond integers; no COPY, no partitions.
    Sqlite,
    /// PostgreSQL: times are timestamps; COPY, and TimescaleDB or day
    /// partitions for the odds.
    Postgres,
}

/// Run `body` on whichever database `store` is, with `pool` bound to its
/// pool and (optionally) `time` to the function turning epoch milliseconds
/// into that database's time value (the integer on SQLite, [`ts`] on
/// PostgreSQL).
///
/// The pools are different types, so the body is compiled once per
/// database; it is written once here. Where the SQL or the logic differs,
/// branch on [`Store::dialect`] instead.
macro_rules! with_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        $crate::connect::with_pool!($store, |$pool, _| $body)
    };
    ($store:expr, |$pool:ident, $time:pat_param| $body:expr) => {
        match $store {
            $crate::connect::Store::Sqlite { pool: $pool, .. } => {
                let $time = |ms: i64| ms;
                $body
            }
            $crate::connect::Store::Postgres { pool: $pool, .. } => {
                let $time = $crate::connect::ts;
                $body
            }
        }
    };
}
pub(crate) use with_pool;

/// Where the database is when neither `--db` nor `DATABASE_URL` says.
pub const DEFAULT_URL: &str = "sqlite://clever.db";
/// The longest any one query may take.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest a caller waits for a pooled connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the store failed, naming the database and the work.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL is not one we know.
    #[error("{url}: not a database URL (use sqlite://FILE or postgres://USER@HOST/DB)")]
    BadUrl {
        /// The URL given (passwords are not shown).
        url: String,
    },
    /// A PostgreSQL URL's query names a parameter neither the driver nor
    /// libpq knows (a misspelling: the driver would ignore it, and log its
    /// value).
    #[error(
        "{url}: {key} is not a connection parameter (known: {})",
        PG_URL_KEYS.join(", ")
    )]
    UnknownParameter {
        /// The URL (passwords are not shown).
        url: String,
        /// The parameter's name, quoted, if it looks like one.
        key: String,
    },
    /// The database could not be reached or opened.
    #[error("cannot open {url}: {source}")]
    Connect {
        /// The URL (passwords are not shown).
        url: String,
        /// What sqlx said.
        source: sqlx::Error,
    },
    /// Nothing could be connected to within the pool's wait, 10 s (the pool
    /// retries a refused connection, in case the server is starting).
    #[error("cannot open {url}: no connection within {ACQUIRE_TIMEOUT:?}, the last try: {reason}")]
    Unreachable {
        /// The URL (passwords are not shown).
        url: String,
        /// Why the last try failed, as sqlx said.
        reason: String,
    },
    /// A migration failed.
    #[error("migrating {url}: {source}")]
    Migrate {
        /// The URL (passwords are not shown).
        url: String,
        /// What sqlx said.
        source: sqlx::migrate::MigrateError,
    },
    /// A query failed.
    #[error("{what}: {source}")]
    Query {
        /// What was being done.
        what: String,
        /// What sqlx said.
        source: sqlx::Error,
    },
    /// An input file could not be read (not a bad line: those are dead letters).
    #[error("{0}")]
    Input(String),
    /// What was asked cannot be done (named in the message).
    #[error("{0}")]
    Invalid(String),
    /// A query took longer than [`QUERY_TIMEOUT`].
    #[error("{what}: timed out after {0:?}", QUERY_TIMEOUT)]
    Timeout {
        /// What was being done.
        what: String,
    },
}

/// The URL to use: `--db` if given, else `DATABASE_URL`, else [`DEFAULT_URL`].
pub fn database_url(flag: Option<&str>) -> String {
    flag.map(str::to_owned)
        .or_else(|| std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| DEFAULT_URL.to_owned())
}

/// An open database.
#[derive(Debug, Clone)]
pub enum Store {
    /// A SQLite file.
    Sqlite {
        /// The pool.
        pool: SqlitePool,
        /// Where it is (for messages).
        url: String,
    },
    /// A PostgreSQL database.
    Postgres {
        /// The pool.
        pool: PgPool,
        /// Where it is (for messages, without a password).
        url: String,
    },
}

/// Why a PostgreSQL server the pool gave up on did not answer: one more
/// try, itself bounded (a host that drops packets would otherwise keep it
/// for the system's own connect timeout, minutes).
async fn why_unreachable(options: &PgConnectOptions) -> String {
    const LAST_TRY: Duration = Duration::from_secs(3);
    match tokio::time::timeout(LAST_TRY, PgConnection::connect_with(options)).await {
        Ok(Ok(connection)) => {
            let _ = connection.close().await;
            "it answers now; try again".to_owned()
        }
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("no answer within {LAST_TRY:?}"),
    }
}

impl Store {
    /// Open the database at `url` (a SQLite file is created on first use)
    /// and apply every pending migration.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let _held = super::migrate::sqlite_lock(url).await?;
        let store = Store::connect_locked(url).await?;
        // One query when nothing is pending; `clever db migrate` runs the
        // full migrator (lock, checksums) every time.
        let pending = store.migration_status().await?.iter().any(|m| !m.applied);
        if pending {
            store.migrate_locked().await?;
        }
        Ok(store)
    }

    /// Open the database at `url` without migrating it.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let _held = super::migrate::sqlite_lock(url).await?;
        Store::connect_locked(url).await
    }

    /// [`Store::connect`], the SQLite lock (if any) already held.
    async fn connect_locked(url: &str) -> Result<Store, StoreError> {
        let shown = without_password(url);
        let connect = |source| StoreError::Connect {
            url: shown.clone(),
            source,
        };
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(connect)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(QUERY_TIMEOUT);
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_with(options)
                .await
                .map_err(connect)?;
            Ok(Store::Sqlite { pool, url: shown })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let url = &pg_url_read(url).map_err(|key| StoreError::UnknownParameter {
                url: shown.clone(),
                key,
            })?;
            let statement_timeout = format!("{}", QUERY_TIMEOUT.as_millis());
            let options = PgConnectOptions::from_str(url)
                .map_err(connect)?
                .options([("statement_timeout", statement_timeout.as_str())]);
            let pool = PgPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_with(options.clone())
                .await;
            match pool {
                Ok(pool) => Ok(Store::Postgres { pool, url: shown }),
                // The pool says only that it timed out; one more try says why.
                Err(sqlx::Error::PoolTimedOut) => Err(StoreError::Unreachable {
                    reason: why_unreachable(&options).await,
                    url: shown,
                }),
                Err(e) => Err(connect(e)),
            }
        } else {
            Err(StoreError::BadUrl { url: shown })
        }
    }

    /// The URL, without a password.
    pub fn url(&self) -> &str {
        match self {
            Store::Sqlite { url, .. } | Store::Postgres { url, .. } => url,
        }
    }

    /// Which database this is, for the few places whose SQL or logic
    /// differs; the rest is written once through [`with_pool!`].
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Store::Sqlite { .. } => Dialect::Sqlite,
            Store::Postgres { .. } => Dialect::Postgres,
        }
    }

    /// Close the pool, waiting for connections to finish.
    pub async fn close(&self) {
        with_pool!(self, |pool| pool.close().await)
    }
}

/// Epoch milliseconds as a PostgreSQL timestamp (SQLite keeps the integer).
pub(crate) fn ts(ms: i64) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono::Utc
        .timestamp_millis_opt(ms)
        .single()
        .unwrap_or_default()
}

/// Upper bounds of the buckets query times are counted in, µs.
pub const QUERY_BUCKETS_US: [u64; 10] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 50_000, 250_000, 1_000_000,
];

/// Every query's time, in this process: calls per bucket of
/// [`QUERY_BUCKETS_US`] (the last above them), and the sum in µs.
static QUERY_TIMES: [AtomicU64; QUERY_BUCKETS_US.len() + 2] =
    [const { AtomicU64::new(0) }; QUERY_BUCKETS_US.len() + 2];

/// How long this process's queries (reads and writes) took: calls per
/// bucket of [`QUERY_BUCKETS_US`], the last above them; and the sum, µs.
pub fn query_times() -> (Vec<u64>, u64) {
    let all: Vec<u64> = QUERY_TIMES
        .iter()
        .map(|c| c.load(Ordering::Relaxed))
        .collect();
    let (counts, sum) = all.split_at(QUERY_BUCKETS_US.len() + 1);
    (counts.to_vec(), sum[0])
}

/// Run `work` under [`QUERY_TIMEOUT`], naming it in any error.
pub(crate) async fn timed<T>(
    what: &str,
    work: impl Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, StoreError> {
    let started = std::time::Instant::now();
    let result = tokio::time::timeout(QUERY_TIMEOUT, work).await;
    let us = started.elapsed().as_micros() as u64;
    let bucket = QUERY_BUCKETS_US.partition_point(|&bound| bound < us);
    QUERY_TIMES[bucket].fetch_add(1, Ordering::Relaxed);
    QUERY_TIMES[QUERY_BUCKETS_US.len() + 1].fetch_add(us, Ordering::Relaxed);
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(source)) => Err(StoreError::Query {
            what: what.to_owned(),
            source,
        }),
        Err(_) => Err(StoreError::Timeout {
            what: what.to_owned(),
        }),
    }
}

/// The query parameters sqlx's PostgreSQL driver reads (sqlx-postgres
/// 0.8, `PgConnectOptions::parse_from_url`), besides `options[NAME]`. It
/// ignores any other with a warning that prints its value: a misspelt
/// `password` would be printed, and a misspelt `sslmode` would fall back
/// to `prefer`, which does not insist on TLS.
const PG_URL_KEYS: &[&str] = &[
    "sslmode",
    "ssl-mode",
    "sslrootcert",
    "ssl-root-cert",
    "ssl-ca",
    "sslcert",
    "ssl-cert",
    "sslkey",
    "ssl-key",
    "statement-cache-capacity",
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "application_name",
    "options",
];

/// libpq's other connection parameters (PostgreSQL 17): a provider's URL
/// may carry them, and the driver does not read them. They are left out,
/// each named in a warning, not refused.
const LIBPQ_ONLY_KEYS: &[&str] = &[
    "passfile",
    "require_auth",
    "channel_binding",
    "connect_timeout",
    "client_encoding",
    "fallback_application_name",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
    "replication",
    "gssencmode",
    "requiressl",
    "sslnegotiation",
    "sslcompression",
    "sslpassword",
    "sslcertmode",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "requirepeer",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "krbsrvname",
    "gsslib",
    "gssdelegation",
    "service",
    "target_session_attrs",
    "load_balance_hosts",
];

/// A server setting sqlx passes on: `options[search_path]`.
fn is_setting(key: &str) -> bool {
    key.strip_prefix("options[")
        .is_some_and(|rest| rest.len() > 1 && rest.ends_with(']'))
}

/// The URL to hand the driver: `url` without libpq's parameters it does
/// not read (each named in a warning); an error naming the first key no
/// one knows (quoted if it looks like a name, else not shown: it may be a
/// piece of a password). A URL that does not parse is left to the driver,
/// whose error names no part of it.
fn pg_url_read(url: &str) -> Result<String, String> {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return Ok(url.to_owned());
    };
    let mut kept = Vec::new();
    for (key, value) in parsed.query_pairs() {
        if PG_URL_KEYS.contains(&key.as_ref()) || is_setting(&key) {
            kept.push((key.into_owned(), value.into_owned()));
        } else if LIBPQ_ONLY_KEYS.contains(&key.as_ref()) {
            tracing::warn!(
                "{key}: a libpq connection parameter this driver does not read; left out"
            );
        } else {
            let named = key.len() <= 40
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-[].".contains(c));
            return Err(if named {
                format!("`{key}`")
            } else {
                "a query parameter (its name not shown: it may be part of a secret)".to_owned()
            });
        }
    }
    if parsed.query().is_some() && kept.len() != parsed.query_pairs().count() {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    Ok(parsed.to_string())
}

/// SQLite's query parameters (none holds a secret).
const SQLITE_URL_KEYS: &[&str] = &["mode", "cache", "immutable", "vfs"];

/// Whether a query parameter's value may be shown: PostgreSQL's (but the
/// password), libpq's (but its passwords) and SQLite's.
fn shown_key(key: &str) -> bool {
    let postgres = PG_URL_KEYS.contains(&key) || LIBPQ_ONLY_KEYS.contains(&key) || is_setting(key);
    (postgres && !key.contains("pass")) || SQLITE_URL_KEYS.contains(&key)
}

/// `url` as it may be shown: any password replaced by `***`, and so is
/// the value of any query parameter not known to hold no secret
/// (`?password=`, or one misspelt) and any fragment.
///
/// A PostgreSQL URL is read as the driver reads it (the `url` crate): the
/// user part ends at the last `@` before the host. One that does not parse
/// (a password with a raw `/`, `?` or `#`, say) shows no user part and no
/// query at all.
pub fn without_password(url: &str) -> String {
    if !(url.starts_with("postgres:") || url.starts_with("postgresql:")) {
        return query_without_password(url);
    }
    let Ok(mut parsed) = url::Url::parse(url) else {
        return unparsed_without_password(url);
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("***"));
    }
    let hidden = |(key, value): (std::borrow::Cow<str>, std::borrow::Cow<str>)| {
        let value = if shown_key(&key) {
            value.into_owned()
        } else {
            "***".into()
        };
        (key.into_owned(), value)
    };
    let pairs: Vec<(String, String)> = parsed.query_pairs().map(hidden).collect();
    if pairs
        .iter()
        .zip(parsed.query_pairs())
        .any(|(a, b)| a.1 != b.1)
    {
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    if parsed.fragment().is_some() {
        parsed.set_fragment(Some("***"));
    }
    parsed.to_string()
}

/// A PostgreSQL URL that does not parse, as it may be shown: everything
/// between `://` and the last `@`, and any query, hidden.
fn unparsed_without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(a URL that does not parse)".to_owned();
    };
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let user = if rest.contains('@') { "***@" } else { "" };
    let host = match host.split_once(['?', '#']) {
        Some((host, _)) => format!("{host}?***"),
        None => host.to_owned(),
    };
    format!("{scheme}://{user}{host}")
}

/// A URL with no user part (SQLite's) with the value of any query
/// parameter [`shown_key`] does not allow, and any fragment, hidden.
fn query_without_password(url: &str) -> String {
    let Some((path, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let (query, fragment) = match query.split_once('#') {
        Some((query, _)) => (query, "#***"),
        None => (query, ""),
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if !shown_key(key) => format!("{key}=***"),
            None if !shown_key(pair) => "***".to_owned(),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{path}?{}{fragment}", pairs.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        let shown = |url| without_password(url);
        assert_eq!(
            shown("postgres://me:secret@db:5432/x"),
            "postgres://me:***@db:5432/x"
        );
        assert_eq!(shown("sqlite://clever.db"), "sqlite://clever.db");
        assert_eq!(
            shown("sqlite:data/clever.db?mode=rwc"),
            "sqlite:data/clever.db?mode=rwc"
        );
        // A password holding an `@` is hidden whole, not up to its `@`.
        assert_eq!(shown("postgres://me:p@ss@db/x"), "postgres://me:***@db/x");
        // An `@` after the host is not a user part.
        assert_eq!(
            shown("postgres://db/x?application_name=a@b"),
            "postgres://db/x?application_name=a@b"
        );
        // Query values: shown for keys known to hold no secret, else hidden,
        // a misspelt password and a fragment with the rest.
        assert_eq!(
            shown("postgres://me@db/x?sslmode=require&password=secret#f"),
            "postgres://me@db/x?sslmode=require&password=***#***"
        );
        assert_eq!(
            shown("postgres://me:a@db/x?sslpassword=b&PASSWORD=c&pasword=d"),
            "postgres://me:***@db/x?sslpassword=***&PASSWORD=***&pasword=***"
        );
        assert_eq!(
            shown("postgres://me@db/x?password=ab&cd"),
            "postgres://me@db/x?password=***&cd=***"
        );
        assert_eq!(shown("postgres://me@db/x"), "postgres://me@db/x");
        assert_eq!(
            shown("postgres://db/x?options[search_path]=a&sslmode=require"),
            "postgres://db/x?options[search_path]=a&sslmode=require"
        );
        // A raw `/`, `?` or `#` in a password: the URL does not parse, and
        // neither the user part nor the query is shown.
        for url in [
            "postgres://me:ab/cd@db/x",
            "postgres://me:ab?cd@db/x",
            "postgres://me:ab#cd@db/x",
        ] {
            let said = shown(url);
            assert_eq!(said, "postgres://***@db/x", "{url}");
        }
        assert_eq!(
            shown("sqlite:a.db?mode=ro&secret#x"),
            "sqlite:a.db?mode=ro&***#***"
        );
    }

    #[test]
    fn a_parameter_no_one_knows_is_named_and_libpqs_are_left_out() {
        let read = |url| pg_url_read(url);
        let url = "postgres://me@db/x?sslmode=require&options[search_path]=a&password=p";
        assert_eq!(read(url).as_deref(), Ok(url));
        assert_eq!(
            read("postgres://me@db/x").as_deref(),
            Ok("postgres://me@db/x")
        );
        assert_eq!(
            read("postgres://me@db/x?ssl_mode=require"),
            Err("`ssl_mode`".to_owned())
        );
        assert_eq!(
            read("postgres://me@db/x?port=5432&pasword=p#f"),
            Err("`pasword`".to_owned())
        );
        assert_eq!(
            read("postgres://me@db/x?options[x=1"),
            Err("`options[x`".to_owned())
        );
        // A key that does not look like a name is not echoed.
        let odd = read("postgres://me@db/x?password=ab&c%20d").unwrap_err();
        assert!(odd.contains("not shown"), "{odd}");
        // libpq's own are left out of what the driver is given.
        assert_eq!(
            read("postgres://me@db/x?connect_timeout=10&sslmode=require").as_deref(),
            Ok("postgres://me@db/x?sslmode=require")
        );
    }

    #[test]
    fn the_flag_wins_then_the_environment_then_the_default() {
        assert_eq!(database_url(Some("sqlite://a.db")), "sqlite://a.db");
        // DATABASE_URL is not set in tests that do not set it.
        if std::env::var_os("DATABASE_URL").is_none() {
            assert_eq!(database_url(None), DEFAULT_URL);
        }
    }
}

//! Migrations: the SQL files under `migrations/`, compiled into the binary,
//! applied on open and shown by `clever db status`.

use std::collections::BTreeSet;

use sqlx::migrate::Migrator;

use super::connect::{Dialect, Store, StoreError, timed, with_pool};

static SQLITE: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("../../migrations/postgres");

/// One migration and whether this database has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationState {
    /// Its version (the file's number).
    pub version: i64,
    /// What it does (from the file name).
    pub description: String,
    /// Applied to this database.
    pub applied: bool,
}

impl Store {
    /// Each database has its own migrations (their SQL differs).
    fn migrator(&self) -> &'static Migrator {
        match self.dialect() {
            Dialect::Sqlite => &SQLITE,
            Dialect::Postgres => &POSTGRES,
        }
    }

    /// Apply every pending migration; returns how many were applied.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        let _held = sqlite_lock(self.url()).await?;
        self.migrate_locked().await
    }

    /// [`Store::migrate`], the SQLite lock (if any) already held.
    pub(crate) async fn migrate_locked(&self) -> Result<usize, StoreError> {
        let before = self.applied_versions().await?.len();
        let result = with_pool!(self, |pool| self.migrator().run(pool).await);
        result.map_err(|source| StoreError::Migrate {
            url: self.url().to_owned(),
            source,
        })?;
        Ok(self.applied_versions().await?.len() - before)
    }

    /// Every migration this build knows, and whether it is applied here.
    pub async fn migration_status(&self) -> Result<Vec<MigrationState>, StoreError> {
        let applied = self.applied_versions().await?;
        Ok(self
            .migrator()
            .iter()
            .map(|m| MigrationState {
                version: m.version,
                description: m.description.to_string(),
                applied: applied.contains(&m.version),
            })
            .collect())
    }

    /// Versions recorded in sqlx's own table (none before the first run).
    async fn applied_versions(&self) -> Result<BTreeSet<i64>, StoreError> {
        const EXISTS_SQLITE: &str =
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'";
        const EXISTS_PG: &str = "SELECT count(*) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'";
        const VERSIONS: &str = "SELECT version FROM _sqlx_migrations WHERE success";
        let what = "reading applied migrations";
        // Each database lists its tables in its own catalogue.
        let exists = match self.dialect() {
            Dialect::Sqlite => EXISTS_SQLITE,
            Dialect::Postgres => EXISTS_PG,
        };
        let versions: Vec<i64> = with_pool!(self, |pool| {
            let n: i64 = timed(what, sqlx::query_scalar(exists).fetch_one(pool)).await?;
            if n == 0 {
                return Ok(BTreeSet::new());
            }
            timed(what, sqlx::query_scalar(VERSIONS).fetch_all(pool)).await?
        });
        Ok(versions.into_iter().collect())
    }
}

/// On a SQLite file, an exclusive lock on `FILE.lock` beside it, held until
/// dropped; nothing elsewhere. sqlx locks PostgreSQL while it migrates, not
/// SQLite: two processes opening one new file at once (a live and a paper
/// host, say) would both switch it to WAL and both apply the first
/// migration. With the lock, the second waits and finds it done.
pub(crate) async fn sqlite_lock(url: &str) -> Result<Option<std::fs::File>, StoreError> {
    let Some(path) = sqlite_path(url) else {
        return Ok(None);
    };
    let lock_path = format!("{path}.lock");
    let locked = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)?;
        file.lock()?;
        Ok::<_, std::io::Error>(file)
    })
    .await;
    let failed = |e: String| StoreError::Invalid(format!("locking {path} to open it: {e}"));
    match locked {
        Ok(Ok(file)) => Ok(Some(file)),
        Ok(Err(e)) => Err(failed(e.to_string())),
        Err(e) => Err(failed(e.to_string())),
    }
}

/// The file of a SQLite URL (none in memory or for PostgreSQL).
fn sqlite_path(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite:")?;
    let path = rest.trim_start_matches("//").split('?').next()?;
    (!path.is_empty() && !path.contains(":memory:")).then(|| path.to_owned())
}

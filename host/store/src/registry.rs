//! The plugin registry: published versions of each strategy, which one is
//! active, and the history of activations (for rollback). A published name
//! and version stand for one component forever: publishing them again with
//! other bytes is refused.

use chrono::Utc;
use serde::Serialize;

use super::connect::{Store, StoreError, timed, with_pool};
use super::runs::VersionRow;

/// Why the registry refused.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The name and version are published with other bytes.
    #[error(
        "{name}@{version} is already published with other bytes (sha256 {existing}); publish a new version"
    )]
    Conflict {
        /// Strategy name.
        name: String,
        /// Its version.
        version: String,
        /// The SHA-256 already published.
        existing: String,
    },
    /// No such strategy or version.
    #[error("{0} is not published (see `clever plugin list`)")]
    Unknown(String),
    /// Nothing to roll back to.
    #[error("{0} has no earlier active version to roll back to")]
    NoEarlier(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A published version.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, sqlx::FromRow)]
pub struct Published {
    /// Strategy name.
    pub name: String,
    /// Semver version.
    pub version: String,
    /// WIT version it exports.
    pub wit_version: String,
    /// SHA-256 of the component.
    pub sha256: String,
    /// Size of the component in bytes.
    pub bytes: i64,
    /// The active version of its strategy.
    pub active: bool,
}

const LIST: &str = "SELECT s.name, v.version, v.wit_version, v.sha256, \
    CAST(length(v.component) AS BIGINT) AS bytes, v.active FROM strategy_versions v \
    JOIN strategies s ON s.id = v.strategy WHERE v.published";

impl Store {
    /// Publish a version; `Ok(false)` if exactly these bytes were already
    /// published under this name and version.
    pub async fn publish(&self, v: &VersionRow<'_>) -> Result<bool, RegistryError> {
        if let Some(existing) = self
            .published(v.name, Some(v.version))
            .await?
            .into_iter()
            .next()
        {
            if existing.sha256 == v.sha256 {
                return Ok(false);
            }
            return Err(RegistryError::Conflict {
                name: v.name.to_owned(),
                version: v.version.to_owned(),
                existing: existing.sha256,
            });
        }
        let id = self.save_version(v).await?;
        let what = "publishing";
        let sql = "UPDATE strategy_versions SET published = $1 WHERE id = $2";
        with_pool!(self, |pool| {
            timed(what, sqlx::query(sql).bind(true).bind(id).execute(pool)).await?;
        });
        Ok(true)
    }

    /// Published versions, all or of one strategy (and version), by name
    /// then version.
    pub async fn published(
        &self,
        name: &str,
        version: Option<&str>,
    ) -> Result<Vec<Published>, StoreError> {
        let what = format!("reading the registry for {name}");
        let sql = format!(
            "{LIST} AND ($1 = '' OR s.name = $1) AND ($2 = '' OR v.version = $2) \
             ORDER BY s.name, v.id"
        );
        let version = version.unwrap_or("");
        with_pool!(self, |pool| {
            let q = sqlx::query_as(&sql).bind(name).bind(version);
            timed(&what, q.fetch_all(pool)).await
        })
    }

    /// Make a published version the active one of its strategy.
    pub async fn activate(&self, name: &str, version: &str) -> Result<(), RegistryError> {
        let ids = self.version_ids(name, version).await?;
        let Some((strategy, id)) = ids else {
            return Err(RegistryError::Unknown(format!("{name}@{version}")));
        };
        self.set_active(strategy, id).await?;
        Ok(())
    }

    /// Go back to the version that was active before the current one.
    pub async fn rollback(&self, name: &str) -> Result<String, RegistryError> {
        let version = self.rollback_target(name).await?;
        self.activate(name, &version).await?;
        Ok(version)
    }

    /// The version a rollback of `name` would make active: the latest
    /// activated one other than the active one.
    pub async fn rollback_target(&self, name: &str) -> Result<String, RegistryError> {
        let what = format!("reading {name}'s activations");
        let sql = "SELECT a.version, v.version FROM strategy_activations a \
            JOIN strategies s ON s.id = a.strategy JOIN strategy_versions v ON v.id = a.version \
            WHERE s.name = $1 ORDER BY a.id DESC";
        let history: Vec<(i64, String)> = with_pool!(self, |pool| {
            timed(&what, sqlx::query_as(sql).bind(name).fetch_all(pool)).await?
        });
        let current = history.first().map(|(id, _)| *id);
        history
            .into_iter()
            .find(|(id, _)| Some(*id) != current)
            .map(|(_, label)| label)
            .ok_or_else(|| RegistryError::NoEarlier(name.to_owned()))
    }

    /// The SHA-256 of a published version, without touching its bytes
    /// (`published` measures them: an 18 MB Python component made a swap
    /// read it all).
    pub async fn published_sha256(
        &self,
        name: &str,
        version: &str,
    ) -> Result<Option<String>, RegistryError> {
        let what = format!("reading the hash of {name}@{version}");
        let sql = "SELECT v.sha256 FROM strategy_versions v \
            JOIN strategies s ON s.id = v.strategy \
            WHERE s.name = $1 AND v.version = $2 AND v.published";
        let row: Option<(String,)> = with_pool!(self, |pool| {
            let q = sqlx::query_as(sql).bind(name).bind(version);
            timed(&what, q.fetch_optional(pool)).await?
        });
        Ok(row.map(|(sha256,)| sha256))
    }

    /// The component bytes of a published version.
    pub async fn component(&self, name: &str, version: &str) -> Result<Vec<u8>, RegistryError> {
        let what = format!("reading {name}@{version}");
        let sql = "SELECT v.component FROM strategy_versions v \
            JOIN strategies s ON s.id = v.strategy \
            WHERE s.name = $1 AND v.version = $2 AND v.published";
        let row: Option<(Vec<u8>,)> = with_pool!(self, |pool| {
            let q = sqlx::query_as(sql).bind(name).bind(version);
            timed(&what, q.fetch_optional(pool)).await?
        });
        row.map(|(bytes,)| bytes)
            .ok_or_else(|| RegistryError::Unknown(format!("{name}@{version}")))
    }

    /// The bytes of the component saved with `sha256` (published or saved
    /// with a run): how a sweep's workers fetch the plugin they run.
    pub async fn component_by_sha256(&self, sha256: &str) -> Result<Vec<u8>, RegistryError> {
        let what = format!("reading the component {sha256}");
        let sql = "SELECT component FROM strategy_versions WHERE sha256 = $1";
        let row: Option<(Vec<u8>,)> = with_pool!(self, |pool| {
            let q = sqlx::query_as(sql).bind(sha256);
            timed(&what, q.fetch_optional(pool)).await?
        });
        row.map(|(bytes,)| bytes)
            .ok_or_else(|| RegistryError::Unknown(format!("component {sha256}")))
    }

    async fn version_ids(
        &self,
        name: &str,
        version: &str,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        let what = format!("finding {name}@{version}");
        let sql = "SELECT v.strategy, v.id FROM strategy_versions v \
            JOIN strategies s ON s.id = v.strategy \
            WHERE s.name = $1 AND v.version = $2 AND v.published";
        with_pool!(self, |pool| {
            let q = sqlx::query_as(sql).bind(name).bind(version);
            timed(&what, q.fetch_optional(pool)).await
        })
    }

    async fn set_active(&self, strategy: i64, version: i64) -> Result<(), StoreError> {
        let what = "activating a version";
        let now = Utc::now().timestamp_millis();
        const OFF: &str = "UPDATE strategy_versions SET active = (id = $1) WHERE strategy = $2";
        const LOG: &str = "INSERT INTO strategy_activations (strategy, version, activated_at) \
            VALUES ($1, $2, $3)";
        with_pool!(self, |pool, time| {
            let mut tx = timed(what, pool.begin()).await?;
            let q = sqlx::query(OFF).bind(version).bind(strategy);
            timed(what, q.execute(&mut *tx)).await?;
            let q = sqlx::query(LOG)
                .bind(strategy)
                .bind(version)
                .bind(time(now));
            timed(what, q.execute(&mut *tx)).await?;
            timed(what, tx.commit()).await
        })
    }
}

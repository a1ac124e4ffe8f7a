//! The queue a sweep spreads over machines: one job per parameter set in
//! `sweep_jobs`, claimed by any number of workers on PostgreSQL.
//!
//! No job-queue crate fits (the reasons are in docs/ARCHITECTURE.md), so
//! this is the textbook `FOR UPDATE SKIP LOCKED` queue with leases: a
//! worker claims a job under a lease it renews while it works; a job whose
//! lease ran out (its worker was killed) is claimed again; each claim
//! counts an attempt, and a job out of attempts is failed with the reason.
//! A worker that lost its lease can no longer finish or fail the job (every
//! write checks the worker), so a job is done once.

use std::time::Duration;

use serde::Serialize;
use sqlx::PgPool;

use super::connect::{Store, StoreError, timed};

/// A job a worker holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    /// Its id.
    pub id: i64,
    /// The sweep it belongs to.
    pub sweep: i64,
    /// Its parameter set's place in the sweep.
    pub position: i32,
    /// What to run (JSON).
    pub payload: String,
    /// This claim's attempt, from 1.
    pub attempt: i32,
}

/// A job as the sweep's coordinator sees it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct JobRow {
    /// Its parameter set's place in the sweep.
    pub position: i32,
    /// `queued`, `running`, `done` or `failed`.
    pub status: String,
    /// Claims so far.
    pub attempts: i32,
    /// The result (JSON), once done.
    pub result: Option<String>,
    /// Why it failed, if it did (the last attempt's reason).
    pub error: Option<String>,
}

fn seconds(lease: Duration) -> f64 {
    lease.as_secs_f64()
}

impl Store {
    fn queue(&self) -> Result<&PgPool, StoreError> {
        match self {
            Store::Postgres { pool, .. } => Ok(pool),
            Store::Sqlite { url, .. } => Err(StoreError::Invalid(format!(
                "{url}: the sweep queue needs PostgreSQL (workers on many machines claim \
                 jobs with FOR UPDATE SKIP LOCKED); give a postgres:// URL"
            ))),
        }
    }

    /// Queue one job per payload for `sweep`, in order, each allowed
    /// `max_attempts` claims.
    pub async fn enqueue(
        &self,
        sweep: i64,
        payloads: &[String],
        max_attempts: i32,
    ) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO sweep_jobs (sweep, position, payload, max_attempts) \
            VALUES ($1, $2, $3, $4)";
        let what = format!("queueing the jobs of sweep {sweep}");
        let pool = self.queue()?;
        let mut tx = timed(&what, pool.begin()).await?;
        for (position, payload) in payloads.iter().enumerate() {
            let q = sqlx::query(SQL)
                .bind(sweep)
                .bind(position as i32)
                .bind(payload)
                .bind(max_attempts);
            timed(&what, q.execute(&mut *tx)).await?;
        }
        timed(&what, tx.commit()).await
    }

    /// Claim the oldest job that is queued, or whose worker's lease ran
    /// out, and has attempts left; hold it for `lease`.
    pub async fn claim(
        &self,
        worker: &str,
        lease: Duration,
    ) -> Result<Option<Claimed>, StoreError> {
        const SQL: &str = "UPDATE sweep_jobs j SET status = 'running', worker = $1, \
            attempts = j.attempts + 1, lease_until = now() + make_interval(secs => $2) \
            WHERE j.id = (SELECT id FROM sweep_jobs \
                WHERE (status = 'queued' OR (status = 'running' AND lease_until < now())) \
                AND attempts < max_attempts ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) \
            RETURNING j.id, j.sweep, j.position, j.payload, j.attempts";
        let q = sqlx::query_as(SQL).bind(worker).bind(seconds(lease));
        let row: Option<(i64, i64, i32, String, i32)> =
            timed("claiming a job", q.fetch_optional(self.queue()?)).await?;
        Ok(row.map(|(id, sweep, position, payload, attempt)| Claimed {
            id,
            sweep,
            position,
            payload,
            attempt,
        }))
    }

    /// Renew `worker`'s lease on job `id`; false if it no longer holds it.
    pub async fn renew(&self, id: i64, worker: &str, lease: Duration) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE sweep_jobs SET lease_until = now() + make_interval(secs => $3) \
            WHERE id = $1 AND worker = $2 AND status = 'running'";
        let q = sqlx::query(SQL).bind(id).bind(worker).bind(seconds(lease));
        let done = timed("renewing a lease", q.execute(self.queue()?)).await?;
        Ok(done.rows_affected() == 1)
    }

    /// Job `id` is done with `result`; false if `worker` no longer held it.
    pub async fn finish_job(
        &self,
        id: i64,
        worker: &str,
        result: &str,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE sweep_jobs SET status = 'done', result = $3, \
            lease_until = NULL, error = NULL WHERE id = $1 AND worker = $2 AND status = 'running'";
        let q = sqlx::query(SQL).bind(id).bind(worker).bind(result);
        let done = timed("finishing a job", q.execute(self.queue()?)).await?;
        Ok(done.rows_affected() == 1)
    }

    /// Job `id` failed for `reason`: queued again if it has attempts
    /// left, else failed. False if `worker` no longer held it.
    pub async fn fail_job(&self, id: i64, worker: &str, reason: &str) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE sweep_jobs SET status = CASE WHEN attempts >= max_attempts \
            THEN 'failed' ELSE 'queued' END, error = $3, worker = NULL, lease_until = NULL \
            WHERE id = $1 AND worker = $2 AND status = 'running'";
        let q = sqlx::query(SQL).bind(id).bind(worker).bind(reason);
        let done = timed("failing a job", q.execute(self.queue()?)).await?;
        Ok(done.rows_affected() == 1)
    }

    /// Every job of `sweep`, in order, after failing those whose last
    /// attempt's lease ran out (their worker died each time).
    pub async fn sweep_jobs(&self, sweep: i64) -> Result<Vec<JobRow>, StoreError> {
        const EXPIRED: &str = "UPDATE sweep_jobs SET status = 'failed', worker = NULL, \
            error = 'its worker stopped answering on each of ' || attempts || ' attempts \
            (killed, or lost its database connection)' \
            WHERE sweep = $1 AND status = 'running' AND lease_until < now() \
            AND attempts >= max_attempts";
        const JOBS: &str = "SELECT position, status, attempts, result, error FROM sweep_jobs \
            WHERE sweep = $1 ORDER BY position";
        let what = format!("reading the jobs of sweep {sweep}");
        let pool = self.queue()?;
        timed(&what, sqlx::query(EXPIRED).bind(sweep).execute(pool)).await?;
        timed(&what, sqlx::query_as(JOBS).bind(sweep).fetch_all(pool)).await
    }
}

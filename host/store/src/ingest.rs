//! [`Ingester`]: rows read from market files into the store, in large
//! batches across files, one batch written while the next is read. The
//! reading (which format, what is refused) is the venue adapter's.
//!
//! Ingesting a file again changes nothing: every row has a natural key.

use std::collections::HashSet;

use serde::Serialize;

use super::connect::{Store, StoreError};
use super::rows::{Batch, ChangeRow, DeadLetter, SnapshotRow};

/// Rows held before a batch is written.
const BATCH_ROWS: usize = 20_000;
/// Longest raw record kept in a dead letter.
const RAW_LIMIT: usize = 4096;

/// What an ingestion did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct IngestSummary {
    /// Markets seen.
    pub markets: u64,
    /// Odds snapshot rows written.
    pub snapshots: u64,
    /// Records refused.
    pub dead_letters: u64,
    /// Stream lines stored.
    pub changes: u64,
}

impl std::ops::AddAssign for IngestSummary {
    fn add_assign(&mut self, o: IngestSummary) {
        self.markets += o.markets;
        self.snapshots += o.snapshots;
        self.dead_letters += o.dead_letters;
        self.changes += o.changes;
    }
}

/// Writes ingested rows into one store, in large batches across files.
pub struct Ingester<'a> {
    store: &'a Store,
    batch: Batch,
    summary: IngestSummary,
    /// Days whose odds partition exists (PostgreSQL without TimescaleDB).
    days: HashSet<i64>,
    partitions: bool,
    /// The batch being written while the next one is read: parsing and
    /// the database work overlap, one batch in flight at most.
    writing: Option<tokio::task::JoinHandle<Result<usize, StoreError>>>,
}

impl Store {
    /// An ingester writing into this store.
    pub async fn ingester(&self) -> Result<Ingester<'_>, StoreError> {
        Ok(Ingester {
            store: self,
            batch: Batch::default(),
            summary: IngestSummary::default(),
            days: HashSet::new(),
            partitions: self.partitioned_odds().await?,
            writing: None,
        })
    }
}

impl Ingester<'_> {
    /// The store written to.
    pub fn store(&self) -> &Store {
        self.store
    }

    /// A market seen for the first time.
    pub fn count_market(&mut self) {
        self.summary.markets += 1;
    }

    /// A stream line kept for replay.
    pub fn change(&mut self, row: ChangeRow) {
        self.batch.changes.push(row);
        self.summary.changes += 1;
    }

    /// A runner's odds after an update.
    pub fn snapshot(&mut self, row: SnapshotRow) {
        self.batch.snapshots.push(row);
    }

    /// A refused record, its raw text cut to a few KiB.
    pub fn dead_letter(&mut self, mut letter: DeadLetter) {
        if letter.raw.len() > RAW_LIMIT {
            let mut end = RAW_LIMIT;
            while !letter.raw.is_char_boundary(end) {
                end -= 1;
            }
            letter.raw.truncate(end);
        }
        self.batch.dead_letters.push(letter);
        self.summary.dead_letters += 1;
    }

    /// Start writing the batch if it is full.
    pub async fn flush_if_full(&mut self) -> Result<(), StoreError> {
        if self.batch.len() >= BATCH_ROWS {
            self.flush().await?;
        }
        Ok(())
    }

    /// Write what is read so far and wait for it (before giving up on a
    /// broken file, say).
    pub async fn write_now(&mut self) -> Result<(), StoreError> {
        self.flush().await?;
        self.written().await
    }

    /// Write what is left; the totals over every file.
    pub async fn finish(mut self) -> Result<IngestSummary, StoreError> {
        self.flush().await?;
        self.written().await?;
        Ok(self.summary)
    }

    /// Wait for the batch in flight, if any.
    async fn written(&mut self) -> Result<(), StoreError> {
        if let Some(writing) = self.writing.take() {
            let written = writing.await.map_err(|e| StoreError::Query {
                what: "writing a batch".into(),
                source: sqlx::Error::Protocol(format!("the writing task failed: {e}")),
            })??;
            self.summary.snapshots += written as u64;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), StoreError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        if self.partitions {
            let new: HashSet<i64> = self
                .batch
                .snapshots
                .iter()
                .map(|r| r.published_at.div_euclid(86_400_000))
                .filter(|d| !self.days.contains(d))
                .collect();
            self.store.create_partitions(&new).await?;
            self.days.extend(new);
        }
        self.written().await?;
        let mut batch = std::mem::take(&mut self.batch);
        let store = self.store.clone();
        self.writing = Some(tokio::spawn(
            async move { store.write_batch(&mut batch).await },
        ));
        Ok(())
    }
}

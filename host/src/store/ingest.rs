//! Ingestion: a Betfair stream file into the store, streamed and batched.
//! Each line is validated; a bad record goes to the dead letters with its
//! reason and position and the rest of the file goes on. What is stored:
//!
//! * `markets` and `runners`, as the file leaves them (status, results, BSP);
//! * `market_changes`: every line verbatim, less refused runner records,
//!   so a backtest from the database replays exactly what the file had;
//! * `odds_snapshots`: each changed runner's best prices and ladder after
//!   each update.
//!
//! Ingesting a file again changes nothing: every row has a natural key.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use clever_sdk::{MarketStatus, RunnerStatus};
use serde::Serialize;

use super::connect::{Store, StoreError};
use super::ladder;
use super::rows::{Batch, ChangeRow, DeadLetter, MarketRow, RunnerRow, SnapshotRow};
use super::validate;
use crate::market::betfair::stream::MarketChange;
use crate::market::betfair::{MarketBook, ReadError, Record, StreamCache, StreamFile};

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

/// Ingests files one after another into one store, writing rows in large
/// batches across files.
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

/// One file's ingestion.
struct Ingest<'a, 'b> {
    to: &'b mut Ingester<'a>,
    source: String,
    cache: StreamCache,
    ids: HashMap<String, i64>,
    defined: HashMap<String, HashSet<u64>>,
    off: HashMap<String, i64>,
}

impl Store {
    /// Ingest one stream file (see [`Ingester`] for many).
    pub async fn ingest_file(
        &self,
        path: &Path,
        on_lines: &mut dyn FnMut(u64),
    ) -> Result<IngestSummary, StoreError> {
        let mut ingester = self.ingester().await?;
        ingester.file(path, on_lines).await?;
        ingester.finish().await
    }

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
    /// Ingest one stream file. `on_lines` hears how many lines are done.
    pub async fn file(
        &mut self,
        path: &Path,
        on_lines: &mut dyn FnMut(u64),
    ) -> Result<(), StoreError> {
        let mut ingest = Ingest {
            to: self,
            source: path.display().to_string(),
            cache: StreamCache::new(),
            ids: HashMap::new(),
            defined: HashMap::new(),
            off: HashMap::new(),
        };
        let mut lines = 0;
        for record in StreamFile::open(path)?.keep_raw() {
            match record {
                Ok(record) => ingest.line(record).await?,
                Err(ReadError::Json {
                    line, message, raw, ..
                }) => ingest.dead(
                    format!("line {line}"),
                    format!("invalid JSON: {message}"),
                    raw,
                ),
                Err(e) => {
                    // Keep what was read before the file broke off.
                    ingest.markets().await?;
                    ingest.to.flush().await?;
                    ingest.to.written().await?;
                    return Err(e.into());
                }
            }
            lines += 1;
            if lines % 1024 == 0 {
                on_lines(lines);
            }
            if ingest.to.batch.len() >= BATCH_ROWS {
                ingest.to.flush().await?;
            }
        }
        on_lines(lines);
        ingest.markets().await
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

impl Ingest<'_, '_> {
    async fn line(&mut self, record: Record) -> Result<(), StoreError> {
        let Record { line, message, raw } = record;
        if message.op != "mcm" {
            return Ok(());
        }
        let raw = raw.unwrap_or_default();
        let mut refused: Vec<(usize, usize)> = Vec::new();
        let mut stored: Vec<&str> = Vec::new();
        for (j, change) in message.mc.iter().enumerate() {
            let bad = self.check(line, j, change, &raw);
            refused.extend(bad.iter().map(|&k| (j, k)));
            let book = if bad.is_empty() {
                self.cache.apply(message.pt, change)
            } else {
                let mut kept = change.clone();
                kept.rc = change
                    .rc
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| !bad.contains(k))
                    .map(|(_, rc)| rc.clone())
                    .collect();
                self.cache.apply(message.pt, &kept)
            };
            let book = BookRows::of(book);
            let market = self.market_id(&change.id, &book).await?;
            self.snapshots(line, market, message.pt, &book, &raw);
            if !stored.contains(&change.id.as_str()) {
                stored.push(&change.id);
            }
        }
        let text = if refused.is_empty() {
            raw
        } else {
            without(&raw, &refused)
        };
        for id in stored {
            let market = self.ids[id];
            self.to.batch.changes.push(ChangeRow {
                market,
                seq: line as i64,
                published_at: message.pt,
                change: text.clone(),
            });
            self.to.summary.changes += 1;
        }
        Ok(())
    }

    /// Validate a market change's runner records; the refused ones' indexes.
    fn check(&mut self, line: u64, j: usize, change: &MarketChange, raw: &str) -> Vec<usize> {
        if let Some(def) = &change.market_definition {
            let ids = self.defined.entry(change.id.clone()).or_default();
            ids.extend(def.runners.iter().map(|r| r.id));
        }
        let known = self.defined.get(&change.id);
        let refused: Vec<(usize, String)> = change
            .rc
            .iter()
            .enumerate()
            .filter_map(|(k, rc)| {
                validate::runner_change(rc, known.map(|ids| ids.contains(&rc.id)))
                    .map(|reason| (k, reason))
            })
            .collect();
        let mut bad = Vec::new();
        for (k, reason) in refused {
            let id = change.rc[k].id;
            let position = format!("line {line}, market {}, runner {id}", change.id);
            self.dead(position, reason, runner_record(raw, j, k));
            bad.push(k);
        }
        bad
    }

    /// The market's row id, saving the market the first time it is seen.
    async fn market_id(&mut self, id: &str, book: &BookRows) -> Result<i64, StoreError> {
        if let Some(&row) = self.ids.get(id) {
            return Ok(row);
        }
        let row = self
            .to
            .store
            .upsert_market(&book.market(&self.source, None))
            .await?;
        self.ids.insert(id.to_owned(), row);
        self.to.summary.markets += 1;
        Ok(row)
    }

    fn snapshots(&mut self, line: u64, market: i64, pt: i64, book: &BookRows, raw: &str) {
        if book.in_play {
            self.off.entry(book.market_id.clone()).or_insert(pt);
        }
        for runner in &book.changed {
            if let Some(reason) = validate::book(runner) {
                let position = format!(
                    "line {line}, market {}, runner {}",
                    book.market_id, runner.selection_id.0
                );
                self.dead(position, reason, raw.to_owned());
                continue;
            }
            self.to.batch.snapshots.push(SnapshotRow {
                published_at: pt,
                market,
                selection_id: runner.selection_id.0 as i64,
                back: runner.best_back().map(|l| (l.price.get(), l.size)),
                lay: runner.best_lay().map(|l| (l.price.get(), l.size)),
                last_traded: runner.last_traded.map(|p| p.get()),
                traded_volume: runner.traded_volume,
                ladder: ladder::encode(&runner.back, &runner.lay),
            });
        }
    }

    fn dead(&mut self, position: String, reason: String, mut raw: String) {
        if raw.len() > RAW_LIMIT {
            let mut end = RAW_LIMIT;
            while !raw.is_char_boundary(end) {
                end -= 1;
            }
            raw.truncate(end);
        }
        self.to.batch.dead_letters.push(DeadLetter {
            source: self.source.clone(),
            position,
            reason,
            raw,
        });
        self.to.summary.dead_letters += 1;
    }

    /// Save each market and its runners as the file leaves them.
    async fn markets(&mut self) -> Result<(), StoreError> {
        let mut markets: Vec<(&String, &i64)> = self.ids.iter().collect();
        markets.sort();
        for (id, &row) in markets {
            let Some(book) = self.cache.get(id) else {
                continue;
            };
            let rows = BookRows::of(book);
            let off = self.off.get(id).copied();
            let store = self.to.store;
            store.upsert_market(&rows.market(&self.source, off)).await?;
            store.upsert_runners(row, &runner_rows(book)).await?;
        }
        Ok(())
    }
}

/// What ingestion needs of a market after an update, owned (the cache is
/// borrowed mutably between updates).
struct BookRows {
    market_id: String,
    in_play: bool,
    row: MarketRow,
    changed: Vec<clever_sdk::Runner>,
}

impl BookRows {
    fn of(book: &MarketBook) -> BookRows {
        let v = &book.view;
        BookRows {
            market_id: v.id.0.clone(),
            in_play: v.in_play,
            row: MarketRow {
                venue: v.venue.clone(),
                market_id: v.id.0.clone(),
                event_type: v.event_type.clone(),
                country: v.country.clone(),
                track: book.track.clone(),
                market_type: v.market_type.clone(),
                number_of_winners: i64::from(v.number_of_winners),
                scheduled_start: (v.start_time.0 != 0).then_some(v.start_time.0),
                actual_start: None,
                status: status_name(v.status).into(),
                base_rate: book.base_rate,
                source: String::new(),
            },
            changed: book.changed.iter().map(|&i| v.runners[i].clone()).collect(),
        }
    }

    fn market(&self, source: &str, actual_start: Option<i64>) -> MarketRow {
        MarketRow {
            source: source.to_owned(),
            actual_start,
            ..self.row.clone()
        }
    }
}

fn runner_rows(book: &MarketBook) -> Vec<RunnerRow> {
    book.view
        .runners
        .iter()
        .zip(&book.runners)
        .map(|(r, full)| RunnerRow {
            selection_id: r.selection_id.0 as i64,
            handicap: full.hc.unwrap_or(0.0),
            name: full.name.clone(),
            sort_priority: (full.sort_priority != u32::MAX)
                .then_some(i64::from(full.sort_priority)),
            status: runner_status_name(r.status).into(),
            adjustment_factor: (r.adjustment_factor != 0.0).then_some(r.adjustment_factor),
            removal_time: full.removal_date,
            result: matches!(
                r.status,
                RunnerStatus::Winner
                    | RunnerStatus::Loser
                    | RunnerStatus::Placed
                    | RunnerStatus::Removed
            )
            .then(|| runner_status_name(r.status).into()),
            bsp: r.bsp,
        })
        .collect()
}

fn status_name(s: MarketStatus) -> &'static str {
    match s {
        MarketStatus::Inactive => "INACTIVE",
        MarketStatus::Open => "OPEN",
        MarketStatus::Suspended => "SUSPENDED",
        MarketStatus::Closed => "CLOSED",
    }
}

fn runner_status_name(s: RunnerStatus) -> &'static str {
    match s {
        RunnerStatus::Active => "ACTIVE",
        RunnerStatus::Winner => "WINNER",
        RunnerStatus::Loser => "LOSER",
        RunnerStatus::Placed => "PLACED",
        RunnerStatus::Removed => "REMOVED",
        RunnerStatus::Hidden => "HIDDEN",
    }
}

/// The raw JSON of runner record `k` of market change `j` in a line.
fn runner_record(raw: &str, j: usize, k: usize) -> String {
    serde_json::from_str::<serde_json::Value>(raw)
        .ok()
        .and_then(|v| {
            v.get("mc")?
                .get(j)?
                .get("rc")?
                .get(k)
                .map(|rc| rc.to_string())
        })
        .unwrap_or_else(|| raw.to_owned())
}

/// The line without the refused runner records `(change, runner)`.
fn without(raw: &str, refused: &[(usize, usize)]) -> String {
    let Ok(mut v) = serde_json::from_str::<serde_json::Value>(raw) else {
        return raw.to_owned();
    };
    let mut refused = refused.to_vec();
    // Remove from the back so earlier indexes stay valid.
    refused.sort_unstable_by(|a, b| b.cmp(a));
    for (j, k) in refused {
        if let Some(rc) = v
            .get_mut("mc")
            .and_then(|mc| mc.get_mut(j))
            .and_then(|c| c.get_mut("rc"))
            .and_then(|rc| rc.as_array_mut())
            .filter(|rc| k < rc.len())
        {
            rc.remove(k);
        }
    }
    v.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_records_are_cut_out_of_the_stored_line() {
        let raw = r#"{"op":"mcm","pt":1,"mc":[{"id":"1.1","rc":[{"id":1,"ltp":2.0},{"id":2,"ltp":2.03},{"id":3,"ltp":2.04}]}]}"#;
        let kept = without(raw, &[(0, 1)]);
        assert!(!kept.contains("2.03") && kept.contains("2.04"), "{kept}");
        assert_eq!(runner_record(raw, 0, 1), r#"{"id":2,"ltp":2.03}"#);
    }
}

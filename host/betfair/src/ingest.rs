//! Ingestion of Betfair stream files into the store. Each line is
//! validated; a bad record goes to the dead letters with its reason and
//! position and the rest of the file goes on. What is stored:
//!
//! * `markets` and `runners`, as the file leaves them (status, results, BSP);
//! * `market_changes`: every line verbatim, less refused runner records,
//!   so a backtest from the database replays exactly what the file had;
//! * `odds_snapshots`: each changed runner's best prices and ladder after
//!   each update.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use clever_sdk::{MarketStatus, RunnerStatus};
use clever_store::rows::{ChangeRow, DeadLetter, MarketRow, RunnerRow, SnapshotRow};
use clever_store::{IngestSummary, Ingester, Store, StoreError, ladder};

use crate::cache::CachedMarket;
use crate::stream::MarketChange;
use crate::{ReadError, Record, StreamCache, StreamFile, validate};

/// One file's ingestion.
struct Ingest<'a, 'b> {
    to: &'b mut Ingester<'a>,
    source: String,
    cache: StreamCache,
    ids: HashMap<String, i64>,
    defined: HashMap<String, HashSet<u64>>,
    off: HashMap<String, i64>,
}

/// Ingest one stream file into `store` (see [`ingest_into`] for many).
pub async fn ingest_file(
    store: &Store,
    path: &Path,
    on_lines: &mut dyn FnMut(u64),
) -> Result<IngestSummary, StoreError> {
    let mut ingester = store.ingester().await?;
    ingest_into(&mut ingester, path, on_lines).await?;
    ingester.finish().await
}

/// Ingest one stream file through `ingester`, giving how many markets it
/// held (none: not a market stream, say). `on_lines` hears how many lines
/// are done.
pub async fn ingest_into(
    ingester: &mut Ingester<'_>,
    path: &Path,
    on_lines: &mut dyn FnMut(u64),
) -> Result<usize, StoreError> {
    let mut ingest = Ingest {
        to: ingester,
        source: path.display().to_string(),
        cache: StreamCache::new(),
        ids: HashMap::new(),
        defined: HashMap::new(),
        off: HashMap::new(),
    };
    let file = StreamFile::open(path).map_err(|e| StoreError::Input(e.to_string()))?;
    let mut lines = 0;
    for record in file.keep_raw() {
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
                ingest.to.write_now().await?;
                return Err(StoreError::Input(e.to_string()));
            }
        }
        lines += 1;
        if lines % 1024 == 0 {
            on_lines(lines);
        }
        ingest.to.flush_if_full().await?;
    }
    on_lines(lines);
    ingest.markets().await?;
    Ok(ingest.ids.len())
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
            self.to.change(ChangeRow {
                market,
                seq: line as i64,
                published_at: message.pt,
                change: text.clone(),
            });
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
            .store()
            .upsert_market(&book.market(&self.source, None))
            .await?;
        self.ids.insert(id.to_owned(), row);
        self.to.count_market();
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
            self.to.snapshot(SnapshotRow {
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

    fn dead(&mut self, position: String, reason: String, raw: String) {
        self.to.dead_letter(DeadLetter {
            source: self.source.clone(),
            position,
            reason,
            raw,
        });
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
            let store = self.to.store();
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
    fn of(market: &CachedMarket) -> BookRows {
        let (book, v) = (&market.book, &market.book.view);
        BookRows {
            market_id: v.id.0.clone(),
            in_play: v.in_play,
            row: MarketRow {
                venue: v.venue.clone(),
                market_id: v.id.0.clone(),
                event_type: v.event_type.clone(),
                country: v.country.clone(),
                track: market.track.clone(),
                market_type: v.market_type.clone(),
                number_of_winners: i64::from(v.number_of_winners),
                scheduled_start: (v.start_time.0 != 0).then_some(v.start_time.0),
                actual_start: None,
                status: status_name(v.status).into(),
                base_rate: book.commission_rate,
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

fn runner_rows(market: &CachedMarket) -> Vec<RunnerRow> {
    let book = &market.book;
    book.view
        .runners
        .iter()
        .zip(&market.runners)
        .zip(&book.depth)
        .map(|((r, full), depth)| RunnerRow {
            selection_id: r.selection_id.0 as i64,
            handicap: full.hc.unwrap_or(0.0),
            name: full.name.clone(),
            sort_priority: (full.sort_priority != u32::MAX)
                .then_some(i64::from(full.sort_priority)),
            status: runner_status_name(r.status).into(),
            adjustment_factor: (r.adjustment_factor != 0.0).then_some(r.adjustment_factor),
            removal_time: depth.removed_at.map(|t| t.0),
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

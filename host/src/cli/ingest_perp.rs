//! `clever ingest --venue hyperliquid`: recorded WebSocket lines (books,
//! candles; trades are replay data, not stored) and REST candle snapshots
//! (a JSON array, `/info` `candleSnapshot`) into the store, each record
//! checked by the adapter; a refused one becomes a dead letter naming the
//! file and line, and the rest goes on. Ingesting again stores nothing
//! twice.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clever_hyperliquid::data::{Candle, L2Book, Level, Message, candles_from_json, read_line};
use serde::Serialize;

use crate::store::Store;
use crate::store::rows::{Batch, DeadLetter};
use crate::store::{BookRow, CandleRow};

const VENUE: &str = "hyperliquid";
/// Rows held before they are written.
const BATCH: usize = 5_000;
/// Longest raw record kept in a dead letter.
const RAW_LIMIT: usize = 4096;

/// What an ingestion stored.
#[derive(Debug, Default, Serialize)]
pub struct PerpSummary {
    /// Candles read (a candle seen again as it grew counts once a file).
    pub candles: u64,
    /// Book snapshots stored that were not stored before.
    pub books: u64,
    /// Records refused.
    pub dead_letters: u64,
}

/// Ingest `files` into `store`, calling `on_file` after each.
pub async fn ingest(
    store: &Store,
    files: &[PathBuf],
    mut on_file: impl FnMut(),
) -> anyhow::Result<PerpSummary> {
    let mut summary = PerpSummary::default();
    for file in files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?;
        let mut rows = Rows::default();
        if text.trim_start().starts_with('[') {
            rows.snapshot(file, &text);
        } else {
            for (i, line) in text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
            {
                rows.line(file, i + 1, line);
                if rows.len() >= BATCH {
                    rows.write(store, &mut summary).await?;
                }
            }
        }
        rows.write(store, &mut summary).await?;
        on_file();
    }
    Ok(summary)
}

/// Rows read and not yet written.
#[derive(Default)]
struct Rows {
    candles: BTreeMap<(String, String, i64), CandleRow>,
    books: Vec<BookRow>,
    dead: Batch,
}

impl Rows {
    fn len(&self) -> usize {
        self.candles.len() + self.books.len() + self.dead.dead_letters.len()
    }

    fn line(&mut self, file: &Path, number: usize, line: &str) {
        match read_line(line) {
            Ok(Message::Book(book)) => self.books.push(book_row(&book)),
            Ok(Message::Candle(candle)) => self.candle(&candle),
            Ok(Message::Trades(_) | Message::Other(_)) => {}
            Err(e) => self.refuse(file, format!("line {number}"), e.to_string(), line),
        }
    }

    /// A REST candle snapshot: all of it, or one dead letter for the file.
    fn snapshot(&mut self, file: &Path, text: &str) {
        let read = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"));
        match read.and_then(|json| candles_from_json(json).map_err(|e| e.to_string())) {
            Ok(candles) => candles.iter().for_each(|c| self.candle(c)),
            Err(e) => self.refuse(file, "candle snapshot".into(), e, text),
        }
    }

    fn candle(&mut self, c: &Candle) {
        let key = (c.coin.clone(), c.interval.clone(), c.open_time);
        // A later line of the same candle is its later state.
        self.candles.insert(
            key,
            CandleRow {
                venue: VENUE.into(),
                coin: c.coin.clone(),
                interval: c.interval.clone(),
                open_time: c.open_time,
                close_time: c.close_time,
                ohlc: [c.open, c.high, c.low, c.close].map(|d| d.normalize().to_string()),
                volume: c.volume.normalize().to_string(),
                trades: i64::try_from(c.trades).unwrap_or(i64::MAX),
            },
        );
    }

    fn refuse(&mut self, file: &Path, position: String, reason: String, raw: &str) {
        let mut end = raw.len().min(RAW_LIMIT);
        while !raw.is_char_boundary(end) {
            end -= 1;
        }
        let source = file.display().to_string();
        self.dead.dead_letters.push(DeadLetter {
            source,
            position,
            reason,
            raw: raw[..end].into(),
        });
    }

    async fn write(&mut self, store: &Store, summary: &mut PerpSummary) -> anyhow::Result<()> {
        let candles: Vec<CandleRow> = std::mem::take(&mut self.candles).into_values().collect();
        summary.books += store.save_perp_data(&candles, &self.books).await?;
        summary.candles += candles.len() as u64;
        summary.dead_letters += self.dead.dead_letters.len() as u64;
        store.write_batch(&mut self.dead).await?;
        self.books.clear();
        Ok(())
    }
}

fn book_row(book: &L2Book) -> BookRow {
    let pair = |l: &Level| (l.px.normalize().to_string(), l.sz.normalize().to_string());
    let side = |levels: &[Level]| {
        levels
            .iter()
            .map(pair)
            .map(|(p, s)| [p, s])
            .collect::<Vec<_>>()
    };
    BookRow {
        venue: VENUE.into(),
        coin: book.coin.clone(),
        at: book.time,
        best_bid: book.bids.first().map(pair),
        best_ask: book.asks.first().map(pair),
        levels: serde_json::json!([side(&book.bids), side(&book.asks)]).to_string(),
    }
}

//! Recordings replayed into the exchange on the wall clock: WebSocket
//! lines (`l2Book`, `trades`, `candle`) as `clever record hyperliquid` and
//! `clever gen --venue hyperliquid` write them, several files merged by
//! time. A candle line counts at its close: the recording does not say
//! when a candle's state was seen, and its close is the latest it could be
//! (never earlier, so no strategy sees a candle before it could have).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clever_hyperliquid::Universe;
use clever_hyperliquid::data::{Message, files_in, read_recording};

use crate::server::Shared;

/// Messages of a recording, in replay order, with their times.
#[derive(Debug, Default)]
pub struct Recording {
    /// (time ms, message), by time.
    pub messages: Vec<(i64, Message)>,
    /// Lines that were not messages: file, line, why.
    pub refused: Vec<String>,
}

impl Recording {
    /// Read `paths` (files, or directories of `.jsonl` files) for coins of
    /// `universe`. Unreadable files and coins the universe does not list
    /// are errors; a bad line is skipped and listed in `refused`.
    pub fn read(paths: &[PathBuf], universe: &Universe) -> Result<Recording, String> {
        let mut recording = Recording::default();
        for path in files_in(paths, &["jsonl"])? {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            for read in read_recording(&text) {
                match read {
                    Ok(message) => recording.push(&path, message, universe)?,
                    Err((line, e)) => recording
                        .refused
                        .push(format!("{}:{line}: {e}", path.display())),
                }
            }
        }
        recording.messages.sort_by_key(|(time, _)| *time);
        if recording.messages.is_empty() {
            return Err(format!(
                "no l2Book, trades or candle line in {}",
                show(paths)
            ));
        }
        Ok(recording)
    }

    fn push(&mut self, path: &Path, message: Message, universe: &Universe) -> Result<(), String> {
        let (coin, time) = match &message {
            Message::Book(book) => (book.coin.as_str(), book.time),
            Message::Trades(trades) => match trades.last() {
                Some(t) => (t.coin.as_str(), t.time),
                None => return Ok(()),
            },
            Message::Candle(c) => (c.coin.as_str(), c.close_time),
            Message::Other(_) => return Ok(()),
        };
        if universe.index(coin).is_none() {
            return Err(format!(
                "{}: coin {coin:?} is not listed (give the venue's meta with --meta)",
                path.display()
            ));
        }
        self.messages.push((time, message));
        Ok(())
    }
}

fn show(paths: &[PathBuf]) -> String {
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    shown.join(", ")
}

/// Replay `recording` into `shared` at `speed` (0: as fast as it goes),
/// after the first subscription if `wait_for_subscriber`.
pub async fn replay(
    shared: std::sync::Arc<Shared>,
    recording: Recording,
    speed: f64,
    wait_for_subscriber: bool,
) {
    if wait_for_subscriber {
        shared.first_subscriber().await;
    }
    let Some(first) = recording.messages.first().map(|(t, _)| *t) else {
        return;
    };
    let started = Instant::now();
    for (time, message) in recording.messages {
        if speed > 0.0 {
            let due = Duration::from_secs_f64((time - first).max(0) as f64 / 1000.0 / speed);
            tokio::time::sleep_until((started + due).into()).await;
        } else {
            tokio::task::yield_now().await;
        }
        shared.venue().apply(message);
    }
    shared.replay_done();
    tracing::info!("replay finished");
}

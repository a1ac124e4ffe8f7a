//! The exchange's market data: stream files replayed on the wall clock at a
//! chosen speed, several files merged by publish time as if their markets
//! ran side by side. Each applied message advances the exchange's tick and
//! wakes every subscriber. Publish times are the recorded ones, so a
//! strategy sees the same times before the off live as in a backtest.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use clever_betfair::{Message, ReadError, Record, StreamFile};
use clever_engine::Pacer;
use clever_sdk::Timestamp;
use tokio::sync::watch;

use crate::faults::Faults;
use crate::markets::Markets;
use crate::orders::Orders;

/// What every connection of the exchange shares.
#[derive(Debug)]
pub struct Shared {
    markets: Mutex<Markets>,
    tick: watch::Sender<u64>,
    orders: Mutex<Orders>,
    order_tick: watch::Sender<u64>,
    /// When the latest message was applied (for the clock between them).
    applied: Mutex<Instant>,
    speed: f64,
    /// Market subscriptions taken so far.
    subscribed: watch::Sender<u64>,
    /// What the exchange is told to get wrong.
    pub faults: Faults,
}

impl Shared {
    /// An exchange with no markets yet, whose clock runs at `speed`, and
    /// whose orders match by `orders`' rules.
    pub fn new(speed: f64, orders: Orders) -> Arc<Shared> {
        Arc::new(Shared {
            markets: Mutex::new(Markets::default()),
            tick: watch::Sender::new(0),
            orders: Mutex::new(orders),
            order_tick: watch::Sender::new(0),
            applied: Mutex::new(Instant::now()),
            speed,
            subscribed: watch::Sender::new(0),
            faults: Faults::default(),
        })
    }

    /// A market subscription was taken.
    pub fn market_subscribed(&self) {
        self.subscribed.send_modify(|n| *n += 1);
    }

    /// Wait until a market subscription has been taken.
    pub async fn first_market_subscriber(&self) {
        let mut subscribed = self.subscribed.subscribe();
        let _ = subscribed.wait_for(|n| *n > 0).await;
    }

    /// The markets, locked (briefly: the replay waits on it).
    pub fn markets(&self) -> MutexGuard<'_, Markets> {
        // A panic while holding the lock leaves whole messages applied or
        // not: the data stays consistent, so carry on.
        self.markets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The account's orders, locked (briefly).
    pub fn orders(&self) -> MutexGuard<'_, Orders> {
        self.orders.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wakes when an order changes.
    pub fn watch_orders(&self) -> watch::Receiver<u64> {
        self.order_tick.subscribe()
    }

    /// Tell order subscribers that orders changed (placed or cancelled
    /// from the Betting API).
    pub fn orders_changed(&self, tick: u64) {
        self.order_tick.send_replace(tick);
    }

    /// Wakes when the tick advances.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.tick.subscribe()
    }

    /// The exchange's time, epoch ms: the latest publish time, moved on by
    /// the wall time since, at the replay's speed.
    pub fn now(&self) -> i64 {
        let pt = self.markets().pt;
        let since = self
            .applied
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .elapsed();
        pt + (since.as_secs_f64() * 1000.0 * self.speed) as i64
    }

    /// Apply one recorded line; a line that is not a message is logged and
    /// skipped (the rest of the replay still runs).
    pub fn apply(&self, raw: &str) {
        let mut message = Message::default();
        if let Err(e) = message.parse(raw) {
            tracing::warn!("replay: a line that is not a message: {e}");
            return;
        }
        self.apply_message(raw, &message);
    }

    /// Apply a line and its parsed message: the stream's markets first,
    /// then the orders, so an order subscriber never hears of a fill
    /// before the market data that caused it. False if it was no market
    /// change (and so changed nothing).
    pub fn apply_message(&self, raw: &str, message: &Message) -> bool {
        match self.markets().apply_line(raw) {
            Ok(true) => {}
            Ok(false) => return false,
            Err(e) => {
                tracing::warn!("replay: a line that is not a message: {e}");
                return false;
            }
        }
        *self.applied.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
        let tick = self.markets().tick;
        self.tick.send_replace(tick);
        let mut orders = self.orders();
        if orders.on_message(message) {
            self.order_tick.send_replace(orders.tick);
        }
        true
    }
}

/// Replay `files` into `shared` at its speed (0: as fast as it goes),
/// merged by publish time; returns, when all are done, how many market
/// changes they held. Run it on a thread
/// of its own: it reads and sleeps.
pub fn replay(files: &[PathBuf], shared: &Shared) -> Result<u64, ReadError> {
    let mut open = Vec::new();
    for path in files {
        let mut file = StreamFile::open(path)?.keep_raw();
        if let Some(first) = next_record(&mut file) {
            open.push((file, first));
        }
    }
    let mut pacer = Pacer::new(shared.speed);
    let mut lines = 0;
    while let Some(at) = earliest(&open) {
        let (file, record) = &mut open[at];
        if let Some(due) = pacer.due(Timestamp(record.message.pt)) {
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
        }
        // Only market changes count: a file of something else replays as 0.
        if let Some(raw) = &record.raw
            && shared.apply_message(raw, &record.message)
        {
            lines += 1;
        }
        match next_record(file) {
            Some(next) => *record = next,
            None => drop(open.swap_remove(at)),
        }
    }
    Ok(lines)
}

/// The file's next message; a line that is not one is logged and skipped,
/// a file that cannot be read further ends.
fn next_record(file: &mut StreamFile) -> Option<Record> {
    loop {
        match file.next()? {
            Ok(record) => return Some(record),
            Err(e @ ReadError::Json { .. }) => tracing::warn!("replay: {e}"),
            Err(e) => {
                tracing::warn!("replay: {e}");
                return None;
            }
        }
    }
}

/// The open file whose next message was published first.
fn earliest(open: &[(StreamFile, Record)]) -> Option<usize> {
    (0..open.len()).min_by_key(|&i| open[i].1.message.pt)
}

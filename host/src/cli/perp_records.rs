//! What a live perpetuals host keeps in the database as it trades: each
//! strategy's book orders placed or changed, and its trades as they
//! close. The engine's thread takes them about once a second and hands
//! them to a writer task, so a slow or failing database never holds up
//! fills and cancels; the writer tries a failed write again, and only
//! a database that keeps failing stops trading.

use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::engine::{BookJournal, Engine, SimClock, wall_now};
use crate::market::TradeRecord;
use crate::store::{BookOrderSource, Store, TradeSource};

/// How many times a write is tried (the wait doubling from
/// [`FIRST_WAIT`]) before trading stops.
const TRIES: u32 = 5;
/// The wait before a failed write is tried again the first time.
pub(super) const FIRST_WAIT: Duration = Duration::from_secs(1);
/// The longest wait between tries once the host is stopping (it waits
/// for its last writes for a bounded time).
const STOPPING_WAIT: Duration = Duration::from_millis(500);

/// What the engine's thread hands the writer: book orders placed or
/// changed, and trades closed, per strategy.
#[derive(Debug, Default)]
pub(super) struct Batch {
    orders: Vec<BookJournal>,
    trades: Vec<Closed>,
}

/// A strategy's trades closed since the last batch.
#[derive(Debug)]
struct Closed {
    name: String,
    version: String,
    /// The first one's number among the strategy's trades this session.
    first: usize,
    trades: Vec<TradeRecord>,
}

impl Batch {
    /// What changed in `engine` since the last call: `taken` counts each
    /// strategy's trades already taken.
    pub(super) fn take(engine: &mut Engine<SimClock>, taken: &mut Vec<usize>) -> Batch {
        let orders = engine.take_book_journal();
        let outcomes = engine.outcomes();
        taken.resize(outcomes.len(), 0);
        let mut trades = Vec::new();
        for (o, done) in outcomes.into_iter().zip(taken.iter_mut()) {
            let mut all = o.trades;
            let first = (*done).min(all.len());
            let new = all.split_off(first);
            *done += new.len();
            if !new.is_empty() {
                let (name, version) = (o.name, o.version);
                trades.push(Closed {
                    name,
                    version,
                    first,
                    trades: new,
                });
            }
        }
        Batch { orders, trades }
    }

    /// Nothing to write.
    pub(super) fn is_empty(&self) -> bool {
        self.orders.is_empty() && self.trades.is_empty()
    }

    /// Leave out the first thing still to write (the one a failed write
    /// stopped at); what it was.
    fn drop_first(&mut self) -> String {
        if !self.orders.is_empty() {
            let j = self.orders.remove(0);
            return format!(
                "{} order change(s) of {}@{}",
                j.orders.len(),
                j.name,
                j.version
            );
        }
        if self.trades.is_empty() {
            return "nothing".into();
        }
        let closed = self.trades.remove(0);
        format!(
            "{} trade(s) of {}@{}",
            closed.trades.len(),
            closed.name,
            closed.version
        )
    }

    /// Write it to `store`, taking out what is written, so that a retry
    /// writes only the rest.
    pub(super) async fn store(
        &mut self,
        store: &Store,
        (mode, session): (&str, &str),
        stored: &mut Stored,
    ) -> anyhow::Result<()> {
        let now = wall_now().0;
        while let Some(journal) = self.orders.first() {
            let source = BookOrderSource {
                mode,
                session,
                venue: "hyperliquid",
                strategy: &journal.name,
                version: &journal.version,
            };
            store.save_book_orders(source, &journal.orders, now).await?;
            self.orders.remove(0);
        }
        while let Some(closed) = self.trades.first() {
            let source = TradeSource {
                mode,
                run: None,
                session: Some(session),
                venue: "hyperliquid",
                strategy: &closed.name,
                version: &closed.version,
            };
            // Numbered: a write whose answer was lost (a timeout, a dropped
            // connection) but went through is not made twice.
            let first = i64::try_from(closed.first).unwrap_or(i64::MAX);
            let ids = (store.save_session_trades(source, first, &closed.trades)).await?;
            if ids.len() < closed.trades.len() {
                tracing::warn!(
                    "{} of {} trade(s) of {} were stored already (a write whose answer was lost)",
                    closed.trades.len() - ids.len(),
                    closed.trades.len(),
                    closed.name
                );
            }
            stored.trades += closed.trades.len();
            self.trades.remove(0);
        }
        Ok(())
    }
}

/// What a writer has stored.
#[derive(Debug, Default)]
pub(super) struct Stored {
    /// Trades.
    pub(super) trades: usize,
}

/// The task that stores what the engine's thread hands it.
pub(super) struct Writer {
    /// Where.
    pub(super) store: Store,
    /// `paper` or `live`, and the session's tag.
    pub(super) of: (&'static str, String),
    /// Why storing failed for good, once it has.
    pub(super) failed: watch::Sender<Option<String>>,
    /// The wait before the first retry (doubled for each next one).
    pub(super) first_wait: Duration,
    /// The host is stopping: retries come at most [`STOPPING_WAIT`] apart.
    pub(super) stopping: watch::Receiver<bool>,
}

impl Writer {
    /// Write each batch the engine's thread sends, in order, until it is
    /// done. A write that fails is tried again after `first_wait`, then
    /// twice that, and so on (at most [`STOPPING_WAIT`] apart once the
    /// host is stopping); after [`TRIES`] failures `failed` says why
    /// trading must stop, and the write that failed is left out (logged).
    /// The rest is kept, and tried once with each later batch and at the
    /// end (a database that is back still hears how the orders ended).
    pub(super) async fn run(mut self, mut batches: mpsc::UnboundedReceiver<Batch>) -> Stored {
        let mut stored = Stored::default();
        let mut left = Batch::default();
        loop {
            let next = batches.recv().await;
            let last = next.is_none();
            if let Some(batch) = next {
                left.orders.extend(batch.orders);
                left.trades.extend(batch.trades);
            }
            // The last time, each thing is tried (each failure leaves one
            // out): the stop's records must not wait behind one that fails.
            while !left.is_empty() {
                self.store_all(&mut left, &mut stored).await;
                if !last {
                    break;
                }
            }
            if last {
                return stored;
            }
        }
    }

    /// Write `batch`, trying again as [`Writer::run`] says; if it still
    /// fails, what failed is left out and the rest stays in `batch`.
    async fn store_all(&mut self, batch: &mut Batch, stored: &mut Stored) {
        let mut wait = self.first_wait;
        for attempt in 1.. {
            let of = (self.of.0, self.of.1.as_str());
            let Err(e) = batch.store(&self.store, of, stored).await else {
                return;
            };
            if self.failed.borrow().is_some() || attempt >= TRIES {
                // What failed is left out, so it cannot hold up the rest.
                let lost = batch.drop_first();
                return self.give_up(&e, attempt, &lost);
            }
            tracing::warn!("storing orders and trades (tried again in {wait:?}): {e:#}");
            if *self.stopping.borrow() {
                tokio::time::sleep(wait.min(STOPPING_WAIT)).await;
            } else {
                // A stop cuts the wait short.
                let _ = tokio::time::timeout(wait, self.stopping.wait_for(|on| *on)).await;
            }
            wait *= 2;
        }
    }

    /// A write failed for the last time, and `lost` is left unstored:
    /// trading must stop, if it has not.
    fn give_up(&self, e: &anyhow::Error, tries: u32, lost: &str) {
        let why = format!("storing orders and closed trades failed ({tries} tries): {e:#}");
        tracing::error!("{why}; left unstored: {lost}");
        if self.failed.borrow().is_none() {
            self.failed.send_replace(Some(why));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::OrderQuery;
    use clever_sdk::{BookOrder, BookOrderRequest, BookSide, OrderId, OrderStatus, Timestamp};
    use rust_decimal::Decimal;

    /// Strategy `name`'s order `id`, and one closed trade.
    fn batch(names: &[&str], id: u64) -> Batch {
        let request = BookOrderRequest::limit("ETH", BookSide::Buy, 3000.0, 0.1);
        let order = BookOrder::new(OrderId(id), request, OrderStatus::Executable, Timestamp(1));
        let trade = TradeRecord {
            instrument: "ETH".into(),
            direction: "long",
            opened_at: 1,
            closed_at: 2,
            size: Decimal::ONE,
            entry: Decimal::from(3_000),
            exit: Decimal::from(3_001),
            stop: None,
            pnl: Decimal::ONE,
            fees: Decimal::ZERO,
            funding: Decimal::ZERO,
            r_multiple: None,
        };
        let version = "1.0.0".to_owned();
        let mut batch = Batch::default();
        for name in names {
            batch.orders.push(BookJournal {
                name: (*name).to_owned(),
                version: version.clone(),
                orders: vec![order.clone()],
            });
            batch.trades.push(Closed {
                name: (*name).to_owned(),
                version: version.clone(),
                first: usize::try_from(id).unwrap_or(0),
                trades: vec![trade.clone()],
            });
        }
        batch
    }

    /// How many trades of `strategy` are stored.
    async fn trades(store: &Store, strategy: &str) -> usize {
        store.trades(strategy, None).await.unwrap().len()
    }

    /// A SQLite store that refuses the trades of strategies named b...
    async fn refusing_b_trades(dir: &tempfile::TempDir) -> Store {
        let store = sqlite(dir).await;
        execute(
            &store,
            "CREATE TRIGGER no_b BEFORE INSERT ON trade_records WHEN NEW.strategy LIKE 'b%' \
             BEGIN SELECT RAISE(ABORT, 'b refused'); END",
        )
        .await;
        store
    }

    /// A writer to `store`, retrying 1 ms apart.
    fn writer(
        store: &Store,
        failed: watch::Sender<Option<String>>,
        stopping: watch::Receiver<bool>,
    ) -> Writer {
        Writer {
            store: store.clone(),
            of: ("paper", "t".into()),
            failed,
            first_wait: Duration::from_millis(1),
            stopping,
        }
    }

    async fn sqlite(dir: &tempfile::TempDir) -> Store {
        let url = format!("sqlite://{}", dir.path().join("w.db").display());
        Store::open(&url).await.unwrap()
    }

    async fn execute(store: &Store, sql: &str) {
        let Store::Sqlite { pool, .. } = store else {
            unreachable!("a SQLite store")
        };
        sqlx::query(sql).execute(pool).await.unwrap();
    }

    /// A database that refuses strategy b's trades: a's orders and trade are
    /// written once, b's trade is tried five times, then left out, and
    /// trading is told to stop; e's trade, after b's, is kept and written
    /// with the next batch (c's), which is tried once.
    #[tokio::test]
    async fn a_database_that_keeps_failing_stops_trading_and_writes_nothing_twice() {
        let dir = tempfile::tempdir().unwrap();
        let store = refusing_b_trades(&dir).await;
        let (send, batches) = mpsc::unbounded_channel();
        let (failed, told) = watch::channel(None);
        let (_stop, stopping) = watch::channel(false);
        let writer = tokio::spawn(writer(&store, failed, stopping).run(batches));
        send.send(batch(&["a", "b", "e"], 1)).unwrap();
        send.send(batch(&["c"], 2)).unwrap();
        drop(send);
        assert_eq!(writer.await.unwrap().trades, 3, "a's, e's and c's");
        let why = told.borrow().clone().unwrap_or_default();
        assert!(
            why.contains("(5 tries)") && why.contains("b refused"),
            "{why}"
        );
        for (strategy, trades) in [("a", 1), ("b", 0), ("c", 1), ("e", 1)] {
            assert_eq!(
                super::tests::trades(&store, strategy).await,
                trades,
                "{strategy}"
            );
        }
        let orders = store.book_orders(&OrderQuery::default()).await.unwrap();
        let mut names: Vec<&str> = orders.iter().map(|o| o.strategy.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["a", "b", "c", "e"]);
        store.close().await;
    }

    /// The last records, as the host stops: each thing that keeps failing
    /// (b's and bb's trades) is left out, and what came after them (e's)
    /// is still written.
    #[tokio::test]
    async fn the_last_records_are_each_tried_though_one_keeps_failing() {
        let dir = tempfile::tempdir().unwrap();
        let store = refusing_b_trades(&dir).await;
        let (send, batches) = mpsc::unbounded_channel();
        let (failed, _told) = watch::channel(None);
        let (_stop, stopping) = watch::channel(true);
        let writer = writer(&store, failed, stopping);
        send.send(batch(&["b"], 1)).unwrap();
        send.send(batch(&["b", "bb", "e"], 2)).unwrap();
        drop(send);
        assert_eq!(writer.run(batches).await.trades, 1);
        assert_eq!(trades(&store, "e").await, 1);
        store.close().await;
    }

    /// A write whose answer was lost but which went through is not made
    /// again: the trade is counted stored, and stored once.
    #[tokio::test]
    async fn a_trade_written_though_its_answer_was_lost_is_not_written_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = sqlite(&dir).await;
        let mut first = batch(&["a"], 1);
        let mut stored = Stored::default();
        first
            .store(&store, ("paper", "t"), &mut stored)
            .await
            .unwrap();
        // The writer heard no answer: it counts nothing, and tries again.
        let mut again = batch(&["a"], 1);
        let mut unaware = Stored::default();
        again
            .store(&store, ("paper", "t"), &mut unaware)
            .await
            .unwrap();
        assert_eq!(unaware.trades, 1);
        assert_eq!(trades(&store, "a").await, 1);
        // A new trade after it is written.
        let mut next = batch(&["a"], 2);
        next.store(&store, ("paper", "t"), &mut unaware)
            .await
            .unwrap();
        assert_eq!(trades(&store, "a").await, 2);
        store.close().await;
    }
}

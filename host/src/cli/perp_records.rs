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

/// What the engine's thread hands the writer: book orders placed or
/// changed, and trades closed (name, version, trades), per strategy.
#[derive(Debug, Default)]
pub(super) struct Batch {
    orders: Vec<BookJournal>,
    trades: Vec<(String, String, Vec<TradeRecord>)>,
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
            let new = all.split_off((*done).min(all.len()));
            *done += new.len();
            if !new.is_empty() {
                trades.push((o.name, o.version, new));
            }
        }
        Batch { orders, trades }
    }

    /// Nothing to write.
    pub(super) fn is_empty(&self) -> bool {
        self.orders.is_empty() && self.trades.is_empty()
    }

    /// Write it to `store`, taking out what is written, so that a retry
    /// writes only the rest; `stored` counts the trades written.
    pub(super) async fn store(
        &mut self,
        store: &Store,
        (mode, session): (&str, &str),
        stored: &mut usize,
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
        while let Some((name, version, trades)) = self.trades.first() {
            let source = TradeSource {
                mode,
                run: None,
                session: Some(session),
                venue: "hyperliquid",
                strategy: name,
                version,
            };
            store.save_trades(source, trades).await?;
            *stored += trades.len();
            self.trades.remove(0);
        }
        Ok(())
    }
}

/// Write each batch the engine's thread sends, in order, until it is
/// done; how many trades were stored. A write that fails is tried again
/// after `first_wait`, then twice that, and so on; after [`TRIES`]
/// failures `failed` says why trading must stop, and later batches are
/// each tried once (a database that is back still hears how the orders
/// ended).
pub(super) async fn write(
    store: Store,
    mut batches: mpsc::UnboundedReceiver<Batch>,
    (mode, session): (&'static str, String),
    (failed, first_wait): (watch::Sender<Option<String>>, Duration),
) -> usize {
    let mut stored = 0;
    while let Some(mut batch) = batches.recv().await {
        let tries = if failed.borrow().is_some() { 1 } else { TRIES };
        let mut wait = first_wait;
        for attempt in 1..=tries {
            let Err(e) = batch.store(&store, (mode, &session), &mut stored).await else {
                break;
            };
            if attempt < tries {
                tracing::warn!("storing orders and trades (tried again in {wait:?}): {e:#}");
                tokio::time::sleep(wait).await;
                wait *= 2;
            } else if failed.borrow().is_none() {
                failed.send_replace(Some(format!(
                    "storing orders and closed trades failed {tries} times: {e:#}; trading stopped"
                )));
            } else {
                tracing::error!("orders and trades left unstored: {e:#}");
            }
        }
    }
    stored
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::BookJournal;
    use crate::store::OrderQuery;
    use clever_sdk::{BookOrder, BookOrderRequest, BookSide, OrderId, OrderStatus, Timestamp};
    use rust_decimal::Decimal;

    fn batch(id: u64) -> Batch {
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
        let (name, version) = ("s".to_owned(), "1.0.0".to_owned());
        Batch {
            orders: vec![BookJournal {
                name: name.clone(),
                version: version.clone(),
                orders: vec![order],
            }],
            trades: vec![(name, version, vec![trade])],
        }
    }

    /// A database that takes orders but not trades: each batch's orders are
    /// written once, its trades tried again and again, and then trading is
    /// told to stop; a later batch is tried once, and its orders written.
    #[tokio::test]
    async fn a_database_that_keeps_failing_stops_trading_and_loses_no_order() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("w.db").display());
        let store = Store::open(&url).await.unwrap();
        let Store::Sqlite { pool, .. } = &store else {
            unreachable!("a SQLite URL")
        };
        sqlx::query("DROP TABLE strategy_notes")
            .execute(pool)
            .await
            .unwrap();
        sqlx::query("DROP TABLE trade_records")
            .execute(pool)
            .await
            .unwrap();
        let (send, batches) = mpsc::unbounded_channel();
        let (failed, told) = watch::channel(None);
        let wait = Duration::from_millis(1);
        let writer = tokio::spawn(write(
            store.clone(),
            batches,
            ("paper", "t".into()),
            (failed, wait),
        ));
        send.send(batch(1)).unwrap();
        send.send(batch(2)).unwrap();
        drop(send);
        assert_eq!(writer.await.unwrap(), 0, "no trade stored");
        let why = told.borrow().clone().unwrap_or_default();
        assert!(why.contains("failed 5 times"), "{why}");
        assert!(why.contains("trading stopped"), "{why}");
        let orders = store.book_orders(&OrderQuery::default()).await.unwrap();
        let ids: Vec<i64> = orders.iter().map(|o| o.order_id).collect();
        assert_eq!(ids, [2, 1], "each written once");
        store.close().await;
    }
}

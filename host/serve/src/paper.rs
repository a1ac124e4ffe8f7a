//! Paper orders in the order journal: a host trading on paper (`clever
//! serve`, `clever live --paper`) writes each order, with its fills and
//! its share of the result, as its market settles, so its orders and
//! results per strategy version are there after a restart, as live
//! orders are. Nothing is at stake on paper, so the writes run behind the
//! loop, on tokio; an order of a market still open when the host stops is
//! not written.

use std::collections::HashMap;
use std::sync::Arc;

use clever_engine::{MarketState, OrderChange, Venue};
use clever_market::{MarketBook, MarketResult, SettledOrder};
use clever_risk::Approved;
use clever_sdk::{MarketId, Order, OrderId, RejectReason, Timestamp};
use clever_store::Store;
use tokio::sync::{mpsc, oneshot};

enum Record {
    Settled {
        strategy: Arc<str>,
        version: String,
        customer_ref: String,
        order: Box<SettledOrder>,
    },
    Flush(oneshot::Sender<()>),
}

/// The writer of paper orders.
#[derive(Clone)]
pub(crate) struct PaperJournal {
    tx: mpsc::UnboundedSender<Record>,
    /// This host run's prefix of every paper order's reference.
    run: Arc<str>,
}

impl PaperJournal {
    /// Start writing into `store` as `mode`, markets named as `venue`'s,
    /// each order's reference beginning with the session's tag `run`, on
    /// the current tokio runtime.
    pub fn start(
        store: Store,
        (mode, venue): (&'static str, &'static str),
        run: Arc<str>,
    ) -> PaperJournal {
        let (tx, mut rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(record) = rx.recv().await {
                match record {
                    Record::Settled {
                        strategy,
                        version,
                        customer_ref,
                        order,
                    } => {
                        let names = (&*strategy, version.as_str());
                        let written = (store)
                            .journal_settled_order(names, (mode, &customer_ref), venue, &order)
                            .await;
                        if let Err(e) = written {
                            tracing::error!("paper order not journalled: {e}");
                        }
                    }
                    Record::Flush(done) => {
                        let _ = done.send(());
                    }
                }
            }
        });
        PaperJournal { tx, run }
    }

    /// Wait until every order handed over so far is written.
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.tx.send(Record::Flush(done)).is_ok() {
            let _ = written.await;
        }
    }

    /// `inner`, with the orders it settles journalled as `strategy`'s,
    /// under references naming `desk`.
    pub fn venue(&self, inner: Box<dyn Venue>, strategy: &str, desk: u32) -> Box<dyn Venue> {
        Box::new(Journalled {
            inner,
            strategy: strategy.into(),
            version: String::new(),
            placed_by: HashMap::new(),
            prefix: format!("{}-{desk}", self.run),
            tx: self.tx.clone(),
        })
    }
}

/// A venue whose settled orders go to the journal.
struct Journalled {
    inner: Box<dyn Venue>,
    strategy: Arc<str>,
    /// The running version, and the version that placed each order not
    /// yet settled (a hot swap may come between).
    version: String,
    placed_by: HashMap<OrderId, String>,
    prefix: String,
    tx: mpsc::UnboundedSender<Record>,
}

impl Venue for Journalled {
    fn place(
        &mut self,
        id: OrderId,
        order: Approved,
        now: Timestamp,
        state: &MarketState,
    ) -> Result<Order, RejectReason> {
        let placed = self.inner.place(id, order, now, state)?;
        self.placed_by.insert(id, self.version.clone());
        Ok(placed)
    }

    fn cancel(&mut self, id: OrderId, now: Timestamp) -> Result<(), RejectReason> {
        self.inner.cancel(id, now)
    }

    fn on_market(&mut self, now: Timestamp, book: &MarketBook, changes: &mut Vec<OrderChange>) {
        self.inner.on_market(now, book, changes)
    }

    fn before_update(
        &mut self,
        next: Timestamp,
        book: &MarketBook,
        changes: &mut Vec<OrderChange>,
    ) {
        self.inner.before_update(next, book, changes)
    }

    fn poll(&mut self, now: Timestamp, changes: &mut Vec<OrderChange>) {
        self.inner.poll(now, changes)
    }

    fn switch_version(&mut self, version: &str) {
        self.version = version.to_owned();
        self.inner.switch_version(version)
    }

    fn order(&self, id: OrderId) -> Option<Order> {
        self.inner.order(id)
    }

    fn orders(&self, market: &MarketId) -> Vec<Order> {
        self.inner.orders(market)
    }

    fn settle(&mut self, book: &MarketBook, changes: &mut Vec<OrderChange>) -> MarketResult {
        let result = self.inner.settle(book, changes);
        for order in &result.settled {
            let version = self.placed_by.remove(&order.order.id);
            let _ = self.tx.send(Record::Settled {
                strategy: self.strategy.clone(),
                version: version.unwrap_or_else(|| self.version.clone()),
                customer_ref: format!("{}-{}", self.prefix, order.order.id.0),
                order: Box::new(order.clone()),
            });
        }
        result
    }
}

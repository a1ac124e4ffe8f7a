//! [`Journal`]: the host's writes to the order journal (the store's
//! `orders` and `order_events`), one at a time and in the order they were
//! asked, so that an answer and the order stream's word on the same order
//! never race. A write that fails stops trading: the host would otherwise
//! trade on without knowing what it has at the exchange.

use clever_market::Money;
use clever_store::{BetReport, JournalOrder, JournalStatus, NewOrder, Reported, Store};
use tokio::sync::{Mutex, watch};

/// The journal of one host's orders.
pub(crate) struct Journal {
    store: Store,
    /// The host's `customerStrategyRef`.
    strategy_ref: String,
    /// Held while writing: one writer at a time.
    turn: Mutex<()>,
    /// Where a failed write says why trading must stop.
    fail: watch::Sender<Option<String>>,
}

/// Wall-clock epoch milliseconds: the journal records when things
/// happened at the exchange, not the feed's time.
pub(crate) fn wall_ms() -> i64 {
    clever_engine::wall_now().0
}

/// Tell `fail` why trading must stop (the first reason is kept), and log it.
pub(crate) fn stop_trading(fail: &watch::Sender<Option<String>>, why: String) {
    tracing::error!("{why}");
    fail.send_if_modified(|was| {
        let first = was.is_none();
        if first {
            *was = Some(why);
        }
        first
    });
}

impl Journal {
    pub fn new(store: Store, strategy_ref: String, fail: watch::Sender<Option<String>>) -> Self {
        Journal {
            store,
            strategy_ref,
            turn: Mutex::new(()),
            fail,
        }
    }

    /// Stop trading: a write failed.
    fn failed(&self, what: String) {
        stop_trading(&self.fail, format!("{what}; trading stops"));
    }

    /// Write an order before it is sent; an error means it must not be.
    pub async fn order(&self, o: &NewOrder) -> Result<(), String> {
        let _turn = self.turn.lock().await;
        self.store.journal_order(o).await.map_err(|e| e.to_string())
    }

    /// The exchange took `customer_ref` as `bet_id`.
    pub async fn placed(&self, customer_ref: &str, bet_id: &str) {
        let _turn = self.turn.lock().await;
        let done = self.store.journal_placed(customer_ref, bet_id, wall_ms());
        if let Err(e) = done.await {
            self.failed(e.to_string());
        }
    }

    /// A pending order ended without a bet (`Rejected` or `Failed`).
    pub async fn ended(&self, customer_ref: &str, status: JournalStatus, reason: &str) {
        let _turn = self.turn.lock().await;
        let done = self
            .store
            .journal_ended(customer_ref, status, reason, wall_ms());
        if let Err(e) = done.await {
            self.failed(e.to_string());
        }
    }

    /// The exchange's word on a bet; `None` if the write failed.
    pub async fn report(&self, bet: &BetReport) -> Option<Reported> {
        let _turn = self.turn.lock().await;
        let done =
            (self.store).journal_report(bet, ("betfair", &self.strategy_ref, "live"), wall_ms());
        match done.await {
            Ok(Reported::Adopted) => {
                tracing::warn!(
                    "adopted bet {} ({}) in market {}: placed under this host's strategy \
                     reference, but not by this host's journal",
                    bet.bet_id,
                    bet.customer_ref,
                    bet.market_id
                );
                Some(Reported::Adopted)
            }
            Ok(done) => Some(done),
            Err(e) => {
                self.failed(e.to_string());
                None
            }
        }
    }

    /// The exchange settled the order with `profit` at `at`.
    pub async fn settled(&self, customer_ref: &str, profit: Money, at: i64) {
        let _turn = self.turn.lock().await;
        let done = self.store.journal_settled(customer_ref, profit, at);
        if let Err(e) = done.await {
            self.failed(e.to_string());
        }
    }

    /// The host's orders not yet settled (nor ended without a bet).
    pub async fn unsettled(&self) -> Result<Vec<JournalOrder>, String> {
        let listed = self.store.journal_unsettled(&self.strategy_ref).await;
        listed.map_err(|e| e.to_string())
    }
}

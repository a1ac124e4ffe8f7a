//! [`Venue`]: where the engine sends approved orders, and what it tells the
//! engine back. The simulated exchange implements it for backtests and
//! paper trading; real venues will implement it for live trading.

use clever_sdk::{
    MarketId, MarketStatus, Order, OrderId, RejectReason, RunnerStatus, SelectionId, Timestamp,
};

use clever_market::{MarketBook, MarketResult};
use clever_risk::Approved;

/// The parts of a market an order is checked against when it is placed:
/// small, and refreshed only when the market's definition changes.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketState {
    /// Open, suspended, closed.
    pub status: MarketStatus,
    /// In play.
    pub in_play: bool,
    /// Seconds of in-play bet delay.
    pub bet_delay: u32,
    /// Each runner's status.
    pub runners: Vec<(SelectionId, RunnerStatus)>,
    /// The venue's version of the definition, if it says one.
    pub version: Option<u64>,
}

impl MarketState {
    /// The state of `book`'s market now.
    pub fn of(book: &MarketBook) -> Self {
        let market = &book.view;
        MarketState {
            version: book.version,
            status: market.status,
            in_play: market.in_play,
            bet_delay: market.bet_delay,
            runners: market
                .runners
                .iter()
                .map(|r| (r.selection_id, r.status))
                .collect(),
        }
    }

    /// An order may be placed on this runner now.
    pub fn check(&self, selection: SelectionId) -> Result<(), RejectReason> {
        match self.runners.iter().find(|(id, _)| *id == selection) {
            Some((_, RunnerStatus::Active)) => {}
            _ => return Err(RejectReason::UnknownSelection),
        }
        if self.status != MarketStatus::Open {
            return Err(RejectReason::MarketNotOpen);
        }
        Ok(())
    }
}

/// An order the venue changed: the order as it is now, and how much stake
/// left the market unmatched (cancelled or lapsed) in this change.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderChange {
    /// The order now.
    pub order: Order,
    /// Stake cancelled or lapsed by this change.
    pub reduced: f64,
}

/// A venue for one strategy's orders.
pub trait Venue: Send {
    /// Take an approved order as `id`, placed at `now` in a market in `state`.
    fn place(
        &mut self,
        id: OrderId,
        order: Approved,
        now: Timestamp,
        state: &MarketState,
    ) -> Result<Order, RejectReason>;
    /// Ask to cancel an order's unmatched stake.
    fn cancel(&mut self, id: OrderId, now: Timestamp) -> Result<(), RejectReason>;
    /// A market update published at `now`: match, lapse, void, and report
    /// every order that changed into `changes`.
    fn on_market(&mut self, now: Timestamp, book: &MarketBook, changes: &mut Vec<OrderChange>);
    /// An update to `book`'s market will be published at `next`: orders
    /// that reach the market before then meet `book` as it stands. Venues
    /// that match nothing themselves (a real exchange) ignore it.
    fn before_update(
        &mut self,
        next: Timestamp,
        book: &MarketBook,
        changes: &mut Vec<OrderChange>,
    ) {
        let _ = (next, book, changes);
    }
    /// Report what the venue did on its own since it was last asked (a
    /// live venue's replies and order stream) into `changes`. Venues that
    /// change orders only when told of the market (the simulated
    /// exchange) have nothing to add.
    fn poll(&mut self, now: Timestamp, changes: &mut Vec<OrderChange>) {
        let _ = (now, changes);
    }
    /// The strategy now runs `version` (a hot swap): orders placed from
    /// now on are its. Venues that record no version ignore it.
    fn switch_version(&mut self, version: &str) {
        let _ = version;
    }
    /// One order, as it is now.
    fn order(&self, id: OrderId) -> Option<Order>;
    /// Every order in a market, oldest first.
    fn orders(&self, market: &MarketId) -> Vec<Order>;
    /// The market closed: settle it, report the orders that changed
    /// (unmatched stake lapses) and forget it.
    fn settle(&mut self, book: &MarketBook, changes: &mut Vec<OrderChange>) -> MarketResult;
}

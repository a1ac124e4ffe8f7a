//! [`BookVenue`]: where a strategy's order-book orders go (WIT 1.1): the
//! simulated order book in backtests and on paper, an exchange's client
//! live. Beside [`Venue`](crate::Venue), which takes betting orders; a
//! desk may have either or both.

use clever_market::{Decimal, InstrumentEvent, TradeRecord};
use clever_sdk::{
    BookOrder, BookOrderRequest, BookPosition, InstrumentInfo, OrderId, RejectReason, Timestamp,
};

/// A venue for order-book instruments.
pub trait BookVenue: Send {
    /// The instrument's trading rules, if this venue trades it.
    fn rules(&self, instrument: &str) -> Option<InstrumentInfo>;
    /// Place an order (checked by risk already) at `now`: it may fill at
    /// once; the order as it stands after, or why the venue refused it.
    fn place(
        &mut self,
        id: OrderId,
        request: BookOrderRequest,
        now: Timestamp,
    ) -> Result<BookOrder, RejectReason>;
    /// Cancel an order's unfilled rest.
    fn cancel(&mut self, id: OrderId, now: Timestamp) -> Result<(), RejectReason>;
    /// Something happened to an instrument: match what it allows, and push
    /// every order that changed onto `changes`.
    fn on_event(&mut self, event: &InstrumentEvent, changes: &mut Vec<BookOrder>);
    /// Orders changed on the venue's own since the last call (a live
    /// venue's fills); none for a simulation.
    fn poll(&mut self, now: Timestamp, changes: &mut Vec<BookOrder>) {
        let _ = (now, changes);
    }
    /// Open orders in an instrument.
    fn open_orders(&self, instrument: &str) -> Vec<BookOrder>;
    /// Every open (pending or resting) order's id, in every instrument.
    fn open_ids(&self) -> Vec<OrderId>;
    /// Whether order `id` is open (pending or resting).
    fn is_open(&self, id: OrderId) -> bool;
    /// The position in an instrument.
    fn position(&self, instrument: &str) -> Option<BookPosition>;
    /// Trades closed so far, oldest first.
    fn trades(&self) -> Vec<TradeRecord>;
    /// The instrument's mark price, if the venue has one yet.
    fn mark(&self, instrument: &str) -> Option<Decimal>;
    /// Profit realised so far over every instrument, after fees and
    /// funding (open positions' included): what risk counts toward the
    /// day's loss.
    fn realised(&self) -> Decimal;
}

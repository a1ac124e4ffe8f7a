//! [`Strategy`]: the trait a strategy author implements.

use crate::book::{Book, BookOrder, Candle, InstrumentFilter, InstrumentState, Trade};
use crate::context::Context;
use crate::market::Market;
use crate::params::Params;
use crate::types::{MarketFilter, Order};

/// A trading strategy. Implement it, then export it with
/// [`export_strategy!`](crate::export_strategy). Every hook but `init` has a
/// default that does nothing, so a strategy writes only what it needs.
pub trait Strategy: 'static {
    /// The markets this strategy wants routed to it (default: all).
    fn markets() -> MarketFilter
    where
        Self: Sized,
    {
        MarketFilter::default()
    }

    /// The parameters `init` reads (WIT 1.3), declared as constants (see
    /// [`Parameter`](crate::Parameter)): the host refuses a name none of
    /// its plugins reads, or a value of the wrong kind, before a run, and
    /// `clever inspect` lists them. `None` (the default): not declared, and
    /// no name is checked.
    fn parameters() -> Option<&'static [crate::Parameter]>
    where
        Self: Sized,
    {
        None
    }

    /// Build the strategy from its parameters. An error refuses to start it.
    fn init(ctx: &mut Context<'_>, params: &Params) -> Result<Self, String>
    where
        Self: Sized;

    /// A market changed; `market` is the whole current view of it.
    fn on_market(&mut self, ctx: &mut Context<'_>, market: &Market) {
        let _ = (ctx, market);
    }

    /// One of this strategy's orders changed.
    fn on_order(&mut self, ctx: &mut Context<'_>, order: &Order) {
        let _ = (ctx, order);
    }

    /// A timer set with [`Context::set_timer`] fired.
    fn on_timer(&mut self, ctx: &mut Context<'_>, token: u64) {
        let _ = (ctx, token);
    }

    /// A market closed; runner statuses and BSPs carry the result.
    fn on_market_closed(&mut self, ctx: &mut Context<'_>, market: &Market) {
        let _ = (ctx, market);
    }

    /// The order-book instruments this strategy trades (WIT 1.1; default:
    /// none, a betting-only strategy).
    fn instruments() -> InstrumentFilter
    where
        Self: Sized,
    {
        InstrumentFilter::default()
    }

    /// An instrument's book changed (a full snapshot).
    fn on_book(&mut self, ctx: &mut Context<'_>, book: &Book) {
        let _ = (ctx, book);
    }

    /// Trades printed, oldest first.
    fn on_trades(&mut self, ctx: &mut Context<'_>, trades: &[Trade]) {
        let _ = (ctx, trades);
    }

    /// A candle closed.
    fn on_candle(&mut self, ctx: &mut Context<'_>, candle: &Candle) {
        let _ = (ctx, candle);
    }

    /// An instrument's mark price or funding changed.
    fn on_instrument(&mut self, ctx: &mut Context<'_>, state: &InstrumentState) {
        let _ = (ctx, state);
    }

    /// One of this strategy's book orders changed.
    fn on_book_order(&mut self, ctx: &mut Context<'_>, order: &BookOrder) {
        let _ = (ctx, order);
    }

    /// State to hand to the next version on a hot swap.
    fn snapshot(&self) -> Vec<u8> {
        Vec::new()
    }

    /// Take over the previous version's [`snapshot`](Strategy::snapshot).
    fn restore(&mut self, ctx: &mut Context<'_>, state: &[u8]) -> Result<(), String> {
        let _ = (ctx, state);
        Ok(())
    }
}

//! # clever-engine: one event loop for every mode
//!
//! A backtest is a file source, the simulated venue and a simulated clock;
//! paper trading swaps in a live source, whose publish times the clock
//! follows (run on between messages by [`Engine::tick`]); live trading a
//! real venue too (DESIGN section 2). Plugins cannot tell them apart, and
//! neither can the engine: it sees [`MarketBook`](clever_market::MarketBook)s
//! from a [`MarketSource`] and [`InstrumentEvent`](clever_market::InstrumentEvent)s
//! of order-book instruments, sends approved orders to a [`Venue`] or a
//! [`BookVenue`], and reads the time from one [`Clock`]. A replay keeps to the wall clock with a
//! [`Pacer`].
//!
//! Owns: time order (timers due before an update fire first, at their own
//! time), routing by each plugin's [`MarketFilter`](clever_sdk::MarketFilter),
//! no lookahead (a plugin sees a market only as published at or before the
//! current event), the one clock, and each strategy's [`Desk`]: its risk
//! book, venue and timers, owned by the plugin's instance as its
//! `HostServices`.
//! Must not know: any venue or data format (Betfair is an adapter crate),
//! whether it runs a backtest, paper or live, the store, the CLI; how
//! orders match (the venue) or what is allowed (risk).

mod book_log;
pub mod book_venue;
pub mod clock;
pub mod desk;
pub mod event_loop;
pub mod pace;
pub mod predictions;
pub mod source;
pub mod venue;
pub mod versions;

pub use book_venue::BookVenue;
pub use clock::{Clock, SimClock, wall_now};
pub use desk::{Desk, DeskEvents, Tally, TimerPass};
pub use event_loop::{
    BookJournal, Engine, StrategyOutcome, StrategyStatus, SwapError, Swapped, Totals,
};
pub use pace::Pacer;
pub use predictions::{NoPredictions, PredictionBook, Predictions, Published, SharedPredictions};
pub use source::{Arrivals, Format, MarketSource, SourceError};
pub use venue::{MarketState, OrderChange, Venue};
pub use versions::{VersionBook, VersionFigures};

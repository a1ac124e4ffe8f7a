//! The engine: one event loop for every mode (DESIGN section 2). A
//! backtest is a file source, the simulated venue and a simulated clock;
//! paper trading swaps in a live source and the wall clock; live trading a
//! real venue too. Plugins cannot tell them apart.
//!
//! Owns: time order (timers due before an update fire first, at their own
//! time), routing by each plugin's [`MarketFilter`](clever_sdk::MarketFilter),
//! no lookahead (a plugin sees a market only as published at or before the
//! current event), and each strategy's [`desk::Desk`]: its risk book, venue
//! and timers, reached by the plugin through [`desk::DeskServices`].
//! Does not know: how orders match (the venue), what is allowed (risk),
//! or where updates come from (the source).

pub mod clock;
pub mod desk;
pub mod event_loop;
pub mod source;
pub mod venue;
pub mod versions;

pub use clock::{Clock, SimClock, WallClock};
pub use desk::{Desk, DeskServices, Tally, TimerPass};
pub use event_loop::{Engine, StrategyOutcome, StrategyStatus, SwapError, Swapped, Totals};
pub use source::{BetfairFileSource, MarketSource, StreamSource};
pub use venue::{MarketState, OrderChange, Venue};
pub use versions::{VersionBook, VersionFigures};

//! Venues: where approved orders go. [`sim`] is the simulated exchange of
//! backtests and paper trading; its rules are docs/SIMULATION.md, and each
//! rule has a unit test in the file that implements it.
//!
//! Owns: order matching, order life (pending, on the book, matched,
//! cancelled, lapsed, voided) and settlement of what matched.
//! Does not know: where market data comes from (the engine hands it every
//! update), or risk (it only takes [`Approved`](crate::risk::Approved) orders).

pub mod book;
pub mod config;
pub mod order;
pub mod settle;
pub mod sim;

pub use config::SimConfig;
pub use settle::MarketResult;
pub use sim::SimVenue;

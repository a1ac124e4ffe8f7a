//! # clever-sim: the simulated exchange
//!
//! [`SimVenue`] is the [`Venue`](clever_engine::Venue) of backtests and
//! paper trading; its rules are docs/SIMULATION.md, each with a test in
//! `host/tests/all/simulation.rs` driven by real stream messages.
//!
//! Owns: order matching, order life (pending, on the book, matched,
//! cancelled, lapsed, voided) and settlement of what matched; for
//! order-book instruments, [`BookSim`] (price-time fills against the
//! replayed book, fees, funding, trade records).
//! Does not know: where market data comes from (the engine hands it every
//! update), risk (it only takes [`Approved`](clever_risk::Approved) orders), or
//! which venue's data it is matching against.

pub mod book;
pub mod book_sim;
pub mod config;
pub mod feed;
pub mod order;
pub mod settle;
pub mod sim;

pub use book_sim::{BookSim, BookSimConfig};
pub use config::SimConfig;
pub use feed::SyntheticSource;
pub use sim::SimVenue;

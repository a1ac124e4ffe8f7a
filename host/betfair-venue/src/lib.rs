//! # clever-betfair-venue: trading on Betfair through the engine
//!
//! [`BetfairVenue`] is the engine's [`Venue`](clever_engine::Venue) for
//! live trading: an approved order becomes a `placeOrders` request over the
//! Betting API, and what happens to it after (placed, matched in parts,
//! cancelled, lapsed) comes from the order stream. Requests run on tokio;
//! their answers reach the venue as news, which the engine collects on its
//! own thread between events ([`Venue::poll`](clever_engine::Venue::poll)).
//! [`Trading`] is what the strategies' venues share: the logged-in client,
//! the order stream, the session's keep-alive, and the routes that bring
//! each order's news to the venue that placed it.
//!
//! Owns: the order references (one `customerStrategyRef` per host, a
//! `customerOrderRef` per order naming its desk), the requests, reading
//! the order stream, settling what matched when a market closes.
//! Must not know: the event loop, plugins, the store; risk (it takes
//! approved orders only).

mod journal;
mod news;
mod reconcile;
mod trading;
mod venue;

pub use news::OrderRef;
pub use reconcile::Reconciled;
pub use trading::{Surprises, Trading, TradingConfig, Wake};
pub use venue::BetfairVenue;

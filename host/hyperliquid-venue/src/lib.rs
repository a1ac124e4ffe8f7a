//! # clever-hyperliquid-venue: trading on Hyperliquid
//!
//! The engine's [`BookVenue`](clever_engine::BookVenue) for Hyperliquid
//! ([`HyperliquidVenue`]): each order is checked against the instrument's
//! rules, given a client order id (cloid) made from the host's start time,
//! the strategy's index and the host's order id, signed ([`client`]) and sent to `/exchange` by a
//! background task ([`link`]), which also follows the account's fills and
//! order updates on the WebSocket. The engine hears of each as it polls.
//! Fills are booked in the exact ledger shared with the simulated book, so
//! a live trade is recorded exactly as a backtest's.
//!
//! Owns: the cloids, the order map (host id, venue oid, cloid), what the
//! venue's answers and fills mean for each order. Must not know: the
//! event loop, plugins, the store; how to sign (the adapter's).

pub mod client;
pub mod link;
pub mod reconcile;
pub mod venue;

pub use client::ExchangeClient;
pub use link::{Link, Reply, Request};
pub use reconcile::{Found, reconcile};
pub use venue::HyperliquidVenue;

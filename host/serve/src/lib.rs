//! # clever-serve: the long-running host and its HTTP API
//!
//! `clever serve` and `clever live`: the engine on its own thread over a
//! [`Feed`] (a paced replay of historical files, or a live stream), with
//! strategies added, hot-swapped and killed while markets keep streaming;
//! and the HTTP API over it ([`api`]). `clever serve` trades on paper
//! against the simulated exchange; `clever live` on Betfair, or on paper.
//!
//! Owns: the loop thread and the commands it takes
//! between events ([`live`]), the slow side of every change, done off the
//! event path ([`handle`]), writing paper orders to the order journal as
//! their markets settle (`paper.rs`), and the routes ([`api`]). Does not know: the
//! feed's format (it is handed a [`Format`](clever_engine::Format)), the
//! venue (it is handed a [`VenueMaker`]; [`Setup::paper`] makes the
//! simulated exchange), how orders match (sim), or how plugins run
//! (runtime).

pub mod alerts;
pub mod api;
pub mod followed;
pub mod handle;
pub mod live;
pub mod metrics;
mod paper;

pub use clever_engine::wall_now;
pub use handle::{
    Activation, HostError, HostHandle, Journalling, Predicted, Publication, Setup, Started,
    VenueMaker,
};

pub use followed::{MarketLadder, MarketSummary, OpenOrder};
pub use live::{
    Command, Feed, HostStatus, Input, LiveLoop, MarketsView, ReplayStatus, SwapDone, SwapReport,
};

//! # clever-serve: the long-running host and its HTTP API
//!
//! `clever serve`: the engine on its own thread over a paced replay of
//! historical files, in paper mode against the simulated exchange, with
//! strategies added, hot-swapped and killed while markets keep streaming;
//! and the HTTP API over it ([`api`]).
//!
//! Owns: the loop thread and the commands it takes
//! between events ([`live`]), the slow side of every change, done off the
//! event path ([`handle`]), and the routes ([`api`]). Does not know: the
//! files' format (it is handed a [`Format`](clever_engine::Format)), how
//! orders match (sim), or how plugins run (runtime).

pub mod api;
pub mod handle;
pub mod live;

pub use handle::{Activation, HostError, HostHandle, Publication, Setup, Started, VenueMaker};
pub use live::{Command, Feed, HostStatus, Input, LiveLoop, ReplayStatus, SwapDone, SwapReport};

//! # clever-host: the Clever Better host
//!
//! Runs strategy plugins (WebAssembly components built with clever-sdk)
//! sandboxed, and owns everything around them. One folder per
//! responsibility:
//!
//! * [`runtime`]: wasmtime, the sandbox, plugin instances, faults.
//! * [`market`]: the market model, Betfair stream files, generated markets.
//! * [`engine`]: the event loop every mode shares: clock, source, venue, desks.
//! * [`exec`]: venues; the simulated exchange and settlement.
//! * [`risk`]: the checks every order passes, in every mode.
//! * [`backtest`]: running plugins over market files, in parallel, with a report.
//! * [`store`]: the database (SQLite or PostgreSQL through sqlx), migrations.
//! * [`cli`]: the `clever` command.
#![deny(unsafe_code)]

pub mod api;
pub mod backtest;
pub mod cli;
pub mod engine;
pub mod exec;
pub mod market;
pub mod risk;
pub mod runtime;
pub mod serve;
pub mod store;

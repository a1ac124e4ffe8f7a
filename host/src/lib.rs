//! # clever-host: the `clever` command
//!
//! The host is a set of crates, one per responsibility (see
//! docs/ARCHITECTURE.md for their arrows); this one wires them together
//! into the `clever` command ([`cli`]) and re-exports them under one roof
//! for tests, benches and tools:
//!
//! * [`market`]: the venue-neutral market model and the settled ledger.
//! * [`runtime`]: wasmtime, the sandbox, plugin instances, faults.
//! * [`engine`]: the event loop every mode shares: clock, desks, the
//!   `MarketSource` and `Venue` traits.
//! * [`risk`]: the checks every order passes, in every mode.
//! * [`sim`]: the simulated exchange and settlement.
//! * [`betfair`]: the Betfair adapter: stream files, cache, ingestion.
//! * [`betfair_exchange`]: a local Betfair Exchange (`clever exchange`).
//! * [`betfair_venue`]: trading on Betfair through the engine (`clever live`).
//! * [`store`]: the database (SQLite or PostgreSQL through sqlx).
//! * [`backtest`]: plugins over market files, in parallel, with a report.
//! * [`analytics`]: metrics and Monte Carlo over a run's settled markets.
//! * [`serve`]: the long-running host and its HTTP API.
#![deny(unsafe_code)]

pub mod cli;

pub use clever_analytics as analytics;
pub use clever_backtest as backtest;
pub use clever_betfair as betfair;
pub use clever_betfair_exchange as betfair_exchange;
pub use clever_betfair_venue as betfair_venue;
pub use clever_engine as engine;
pub use clever_market as market;
pub use clever_risk as risk;
pub use clever_runtime as runtime;
pub use clever_serve as serve;
pub use clever_sim as sim;
pub use clever_store as store;

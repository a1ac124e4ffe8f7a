//! The host's integration tests: one binary (wasmtime is linked once), a
//! module per room. The Wasm plugins are built once per run by
//! `clever-plugin-artifacts`.

mod support;

mod alerts;
mod backtest;
mod cli;
mod crash;
mod desk;
mod fuzz_regressions;
mod generate;
mod hostile;
mod hyperliquid;
mod limits;
mod live;
mod load;
mod market_delivery;
mod market_golden;
mod predictions;
mod queue;
mod sandbox;
mod serve;
mod simulation;
mod stage;
mod state;
mod store;

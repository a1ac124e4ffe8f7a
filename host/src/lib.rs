//! # clever-host: the Clever Better host
//!
//! Runs strategy plugins (WebAssembly components built with clever-sdk)
//! sandboxed, and owns everything around them. One folder per
//! responsibility:
//!
//! * [`runtime`]: wasmtime, the sandbox, plugin instances, faults.
//! * [`market`]: the market model, Betfair stream files, generated markets.
//! * [`risk`]: the checks every order passes, in every mode.
//! * [`cli`]: the `clever` command.
#![deny(unsafe_code)]

pub mod cli;
pub mod market;
pub mod risk;
pub mod runtime;

//! The market model: what the host knows about a market. Markets are
//! clever-sdk's [`Market`](clever_sdk::Market) views (one type on both
//! sides of the boundary), identified to plugins by a host-assigned handle.
//! This room will hold the Betfair stream reader and the market cache;
//! today it holds the synthetic market used by `clever run` and benches.

pub mod synthetic;

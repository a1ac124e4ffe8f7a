//! The market model: what the host knows about a market. Markets are
//! clever-sdk's [`Market`](clever_sdk::Market) views (one type on both
//! sides of the boundary), identified to plugins by a host-assigned handle.
//! `betfair` reads Betfair stream files into a market cache; `synthetic`
//! is the seeded market used by `clever run` and the benches.

pub mod betfair;
pub mod synthetic;

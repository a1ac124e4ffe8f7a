//! The market model: what the host knows about a market. Markets are
//! clever-sdk's [`Market`](clever_sdk::Market) views (one type on both
//! sides of the boundary), identified to plugins by a host-assigned handle.
//! `betfair` reads Betfair stream files into a market cache; `generate`
//! writes plausible racing markets in that format (`clever gen`);
//! `synthetic` is the seeded in-memory market of `clever run` and benches.

pub mod betfair;
pub mod generate;
pub mod synthetic;

//! # clever-market: the market model every part of the host shares
//!
//! Owns: what a market is to the host, whatever venue it trades on:
//! [`MarketBook`] (the plugin-facing [`Market`](clever_sdk::Market) view,
//! each runner's full depth, what an update changed), the ledger a venue
//! settles into ([`MarketResult`], [`SettledOrder`], [`Fill`]),
//! [`synthetic`], a seeded market in memory, and [`MarketMap`], the map
//! by market id every part looks an update's market up in.
//! Must not know: any venue's wire format (adapters convert at their
//! border), the engine, the store.
//!
//! Betting markets (runners, back and lay ladders, BSP, non-runner
//! reductions) are [`MarketBook`]s; order-book instruments (bids, asks,
//! trades, candles, funding) arrive as [`InstrumentEvent`]s beside them, and
//! their closed trades are [`TradeRecord`]s.

pub mod book;
pub mod instrument;
pub mod ledger;
pub mod market_map;
pub mod money;
pub mod positions;
pub mod prediction;
pub mod synthetic;

pub use book::{Ladder, MarketBook, RunnerDepth, cents, round_half_away};
pub use instrument::{InstrumentEvent, TradeRecord, exact};
pub use ledger::{Figures, Fill, MarketResult, SettledOrder, round2};
pub use market_map::{MarketMap, short_eq};
pub use money::{Money, allocate};
pub use positions::{Positions, check_order};
pub use prediction::Published;
pub use rust_decimal::Decimal;

//! # clever-sdk: write Clever Better strategies in Rust
//!
//! A strategy implements [`Strategy`] and is exported with one macro,
//! [`export_strategy!`]. Built with `clever build <crate dir>`, it becomes a
//! WebAssembly component that the host runs sandboxed, in a backtest, on
//! paper or live, with the same code. The same strategy runs natively under
//! [`harness::Harness`] in plain `cargo test`.
//!
//! ## Brief overview
//!
//! * [`Strategy`]: the hooks (`on_market`, `on_order`, `on_timer`, ...).
//! * [`Context`]: the host during a hook: place/cancel orders, the clock,
//!   logs, signals, timers, predictions, key-value state.
//! * [`Market`], [`Runner`], [`Levels`]: the typed market view, updated
//!   inside the plugin from compact deltas, so reading it is free.
//! * [`ladder`]: the Betfair price ladder ([`Price`], ticks, rounding).
//! * [`odds`]: implied probability, book percentage, profit, liability, Kelly.
//! * [`rules`]: Betfair's order rules, shared with the host.
//! * [`book`] (WIT 1.1): order-book instruments (perpetuals): the book,
//!   trades, candles, funding, buy/sell orders, positions, tick and lot
//!   rounding, R multiples.
//! * [`harness`]: run and assert a strategy natively.
//!
//! ## A complete strategy
//!
//! ```
//! use clever_sdk::prelude::*;
//!
//! /// Backs the favourite once per market before the off.
//! struct BackFavourite {
//!     stake: f64,
//!     done: Vec<MarketId>,
//! }
//!
//! impl Strategy for BackFavourite {
//!     fn markets() -> MarketFilter {
//!         MarketFilter::default().market_types(&["WIN"]).pre_off_only()
//!     }
//!
//!     fn init(_ctx: &mut Context<'_>, params: &Params) -> Result<Self, String> {
//!         Ok(BackFavourite { stake: params.f64_or("stake", 2.0)?, done: Vec::new() })
//!     }
//!
//!     fn on_market(&mut self, ctx: &mut Context<'_>, market: &Market) {
//!         if market.in_play || self.done.contains(&market.id) {
//!             return;
//!         }
//!         let favourite = market
//!             .active_runners()
//!             .filter_map(|r| r.best_back().map(|b| (r.selection_id, b.price)))
//!             .min_by(|a, b| a.1.get().total_cmp(&b.1.get()));
//!         if let Some((selection, price)) = favourite {
//!             if price.get() < 4.0 && ctx.back(&market.id, selection, price, self.stake).is_ok() {
//!                 self.done.push(market.id.clone());
//!             }
//!         }
//!     }
//! }
//!
//! export_strategy!(BackFavourite);
//!
//! // The same strategy, tested natively:
//! let mut h = clever_sdk::harness::Harness::<BackFavourite>::new(r#"{"stake": 5}"#).unwrap();
//! let mut market = Market::new("1.200");
//! for (id, price) in [(1, 3.5), (2, 6.0)] {
//!     let mut r = Runner::new(id);
//!     r.back = Levels::from_slice(&[PriceSize::new(price, 100.0)]);
//!     market.runners.push(r);
//! }
//! h.market(&market);
//! h.market(&market);
//! assert_eq!(h.orders().len(), 1, "once per market");
//! assert_eq!(h.orders()[0].request.selection_id, SelectionId(1));
//! assert_eq!(h.orders()[0].request.size, 5.0);
//! ```
#![deny(missing_docs)]

// Lets the generated bindings name this crate the same way from inside and outside.
extern crate self as clever_sdk;

pub mod book;
mod context;
mod convert;
#[cfg(not(target_arch = "wasm32"))]
pub mod harness;
#[cfg(not(target_arch = "wasm32"))]
pub mod harness_book;
pub mod ladder;
mod market;
pub mod odds;
mod params;
pub mod rules;
mod strategy;
mod types;
pub mod wire;

#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod guest;

pub use book::{
    Book, BookOrder, BookOrderRequest, BookPosition, BookSide, Candle, InstrumentFilter,
    InstrumentId, InstrumentInfo, InstrumentState, Level, TimeInForce, Trade,
};
pub use context::Context;
pub use ladder::{Price, Rounding};
pub use market::{Levels, MAX_DEPTH, Market, PriceSize, Runner};
pub use params::{Parameter, ParameterInfo, ParameterKind, Params};
pub use strategy::Strategy;
pub use types::*;

/// The README's strategy example compiles (checked by `cargo test --doc`).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

/// The version of the WIT package this SDK builds against.
pub const WIT_VERSION: &str = "1.3.0";

/// Everything a strategy usually needs, in one import.
pub mod prelude {
    pub use crate::export_strategy;
    pub use crate::{
        Book, BookOrder, BookOrderRequest, BookPosition, BookSide, Candle, InstrumentFilter,
        InstrumentInfo, InstrumentState, TimeInForce, Trade,
    };
    pub use crate::{
        Context, Levels, LogLevel, Market, MarketFilter, MarketId, MarketInterest, Order, OrderId,
        OrderRequest, OrderStatus, Parameter, Params, Persistence, Price, PriceSize, RejectReason,
        Rounding, Runner, RunnerStatus, SelectionId, Side, Signal, Strategy, Timestamp,
    };
}

/// Implementation details the macro needs; not part of the API.
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod __private {
    pub use crate::guest::*;
    pub use wit_bindgen;
}

/// Export a [`Strategy`] as the plugin's implementation of the WIT hooks.
/// Its name and version are the crate's (`CARGO_PKG_NAME`,
/// `CARGO_PKG_VERSION`); `export_strategy!(S, name = "...")` names it
/// otherwise (two crates of one workspace building two versions of one
/// strategy, say). Outside Wasm it expands to nothing, so the same crate
/// also builds natively for tests.
#[macro_export]
macro_rules! export_strategy {
    ($strategy:ty) => {
        $crate::export_strategy!($strategy, name = env!("CARGO_PKG_NAME"));
    };
    ($strategy:ty, name = $name:expr) => {
        // Natively nothing is exported; naming `init` keeps the strategy
        // "used", so a plugin crate builds warning-free for native tests.
        #[cfg(not(target_arch = "wasm32"))]
        const _: fn(
            &mut $crate::Context<'_>,
            &$crate::Params,
        ) -> ::core::result::Result<$strategy, ::std::string::String> =
            <$strategy as $crate::Strategy>::init;
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct CleverPlugin;
            impl $crate::__private::Guest for CleverPlugin {
                fn describe() -> $crate::__private::WitDescriptor {
                    $crate::__private::describe::<$strategy>(
                        $name,
                        env!("CARGO_PKG_VERSION"),
                    )
                }
                fn init(params: String) -> Result<(), String> {
                    $crate::__private::init::<$strategy>(&params)
                }
                fn on_market(update: Vec<u8>) {
                    $crate::__private::on_market(&update)
                }
                #[allow(clippy::too_many_arguments)]
                fn on_runner(
                    head: u64, selection: u64, publish_time: i64, last_traded: f64,
                    traded_volume: f64, total_matched: f64, l0: u64, l1: u64, l2: u64,
                    l3: u64, l4: u64, l5: u64, l6: u64, l7: u64, l8: u64, l9: u64,
                ) {
                    $crate::__private::on_runner($crate::wire::RunnerDelta {
                        head, selection, publish_time, last_traded, traded_volume, total_matched,
                        levels: [l0, l1, l2, l3, l4, l5, l6, l7, l8, l9],
                    })
                }
                fn on_order(order: $crate::__private::WitOrder) {
                    $crate::__private::on_order(order)
                }
                fn on_timer(token: u64) {
                    $crate::__private::on_timer(token)
                }
                fn on_market_closed(market: $crate::__private::WitMarket) {
                    $crate::__private::on_market_closed(market)
                }
                fn snapshot() -> Vec<u8> {
                    $crate::__private::snapshot()
                }
                fn restore(state: Vec<u8>) -> Result<(), String> {
                    $crate::__private::restore(&state)
                }
            }
            impl $crate::__private::BookGuest for CleverPlugin {
                fn instruments() -> $crate::__private::WitInstrumentFilter {
                    $crate::__private::instruments::<$strategy>()
                }
                fn on_book(book: $crate::__private::WitBook) {
                    $crate::__private::on_book(book)
                }
                fn on_trades(trades: Vec<$crate::__private::WitTrade>) {
                    $crate::__private::on_trades(trades)
                }
                fn on_candle(candle: $crate::__private::WitCandle) {
                    $crate::__private::on_candle(candle)
                }
                fn on_instrument(state: $crate::__private::WitInstrumentState) {
                    $crate::__private::on_instrument(state)
                }
                fn on_book_order(order: $crate::__private::WitBookOrder) {
                    $crate::__private::on_book_order(order)
                }
            }
            impl $crate::__private::ParametersGuest for CleverPlugin {
                fn parameters() -> Option<Vec<$crate::__private::WitParameter>> {
                    $crate::__private::parameters::<$strategy>()
                }
            }
            $crate::__private::bindings::__export_plugin!(CleverPlugin with_types_in $crate::__private::bindings);
        };
    };
}

//! # clever-betfair-exchange: a local Betfair Exchange
//!
//! A server that other tools can talk to as if it were Betfair (issue 12),
//! so the live path is tested over the wire, and Betfair's own client
//! libraries can be pointed at it. It replays stream files on the wall
//! clock ([`mod@replay`]), keeps their markets in the Stream API's terms
//! ([`markets`]), and serves them over TLS ([`tls`]) on the Exchange Stream
//! API ([`stream`]), each subscription seeing them through its filters
//! ([`view`]).
//!
//! Part of the Betfair adapter: it speaks Betfair's protocols through
//! `clever_betfair::esa`. Must not know: the engine's loop, plugins, the
//! store.

pub mod betting;
pub mod exchange;
pub mod faults;
pub mod https;
pub mod markets;
pub mod order_view;
pub mod orders;
pub mod replay;
pub mod sessions;
pub mod stream;
pub mod tls;
pub mod view;

pub use exchange::{Exchange, Running};
pub use faults::{CallFault, FaultRequest, Faults, fault_routes};
pub use orders::Orders;
pub use replay::{Shared, replay};
pub use sessions::{Account, Sessions};
pub use stream::{Limits, StreamServer};
pub use tls::Identity;

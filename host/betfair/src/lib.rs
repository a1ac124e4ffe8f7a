//! # clever-betfair: the Betfair adapter
//!
//! Betfair's Stream API market data in Betfair's own names (`stream`),
//! historical files read plain, gzip or bzip2 (`file`, decompressed on a
//! second thread by `background`, or a bzip2 file's blocks on every core
//! by `bz2_blocks`), the market cache that applies each
//! change as the Stream API defines it, straight into the host's
//! [`MarketBook`](clever_market::MarketBook) (`cache`), the engine's
//! [`MarketSource`](clever_engine::MarketSource) over a file or stored lines
//! (`source`), ingestion into the store (`ingest`, with the record checks of
//! `validate`), and plausible generated racing markets (`generate`,
//! `clever gen`), and the Exchange Stream API's control messages and
//! framing for live connections and the local exchange
//! (`clever-betfair-exchange`) alike (`esa`), and the live clients
//! (`client`: the Stream API, the Betting API with login, recording).
//!
//! Owns: everything that knows Betfair's formats. Converts at its border:
//! no Betfair type leaves this crate.
//! Must not know: the engine's loop, risk, the simulated exchange.

pub mod ahead;
mod apart;
pub mod background;
pub mod bz2_blocks;
pub mod cache;
pub mod client;
pub mod esa;
pub mod file;
mod flat;
pub mod generate;
pub mod ingest;
mod parse;
mod scan;
pub mod source;
pub mod stream;
pub mod validate;

pub use cache::{CachedMarket, StreamCache};
pub use file::{ReadError, Record, StreamFile};
pub use source::{BetfairFileSource, LeftRunners, StoredRecords, StreamFormat, StreamSource};
pub use stream::{ChangeType, Message, Points};

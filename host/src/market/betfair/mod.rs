//! Betfair's Stream API market data: the message types (Betfair's names),
//! reading historical files (plain, gzip, bzip2), and the market cache that
//! applies each change as the Stream API defines it.

pub mod background;
pub mod cache;
pub mod file;
pub mod stream;

pub use cache::{MarketBook, StreamCache};
pub use file::{ReadError, Record, StreamFile};
pub use stream::Message;

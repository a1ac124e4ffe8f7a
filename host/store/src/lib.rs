//! The store: the trading schema in a real database through sqlx, SQLite
//! by default (a file, nothing to install) and PostgreSQL for teams and
//! live trading, with one design on both (`migrations/sqlite/`,
//! `migrations/postgres/`).
//!
//! Owns: where the database is (`--db`, else `DATABASE_URL`, else
//! `sqlite://clever.db`), the connection pool and its limits, migrations,
//! and a timeout on every query (timed, for `GET /metrics`).
//! Does not know: any market format (a venue adapter reads files and hands
//! it rows; stored stream lines are text to it) or the engine.

mod alerts;
mod book_orders;
mod connect;
mod ingest;
mod journal;
pub mod ladder;
mod maintain;
mod migrate;
mod odds;
mod perp_data;
mod prediction_input;
mod predictions;
mod queue;
mod registry;
mod replay;
pub mod rows;
mod runs;
mod sessions;
mod switches;
mod trades;
mod write;

pub use alerts::{AlertRow, DeliveryRow, Due, NewAlert};
pub use book_orders::{BookOrderRow, BookOrderSource};
pub use connect::{
    DEFAULT_URL, QUERY_BUCKETS_US, QUERY_TIMEOUT, Store, StoreError, database_url, query_times,
    without_password,
};
pub use ingest::{IngestSummary, Ingester};
pub use journal::{
    BetReport, History, JournalOrder, JournalStatus, NewOrder, OrderQuery, Reported, VersionResult,
};
pub use maintain::Performance;
pub use migrate::MigrationState;
pub use odds::LatestOdds;
pub use perp_data::{BookRow, CandleRow};
pub use prediction_input::{
    PredictionImport, from_json as predictions_from_json, parse as parse_predictions,
};
pub use predictions::{ModelRow, PredictionRow};
pub use queue::{Claimed, JobRow};
pub use registry::{Published, RegistryError};
pub use replay::{MarketQuery, StoredLines, StoredMarket};
pub use runs::{ResultRow, RunRow, VersionRow};
pub use sessions::{SessionRow, session_tag};
pub use trades::{NoteRow, TradeRow, TradeSource};

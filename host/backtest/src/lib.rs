//! # clever-backtest: backtests
//!
//! Run strategy plugins over market files (or markets stored in the
//! database) through the engine, the simulated exchange and risk, one file
//! per task on all cores, and add the results up in file order, so the
//! report is the same whatever the number of threads.
//!
//! Owns: finding the files, the worker pool, the report.
//! Does not know: any file format (it is handed a
//! [`Format`](clever_engine::Format)), matching (sim), checks (risk), the
//! loop (engine).

pub mod files;
pub mod perp;
pub mod report;
pub mod run;

pub use files::data_files;
pub use perp::{PerpBacktest, PerpReport, TradeSummary};
pub use report::{Report, StrategyReport, logged_warnings};
pub use run::{Backtest, Job, OpenedAhead, Progress, Stored};

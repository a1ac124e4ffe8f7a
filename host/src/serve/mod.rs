//! The long-running host (`clever serve`): the engine on its own thread
//! over a paced replay of historical files, in paper mode against the
//! simulated exchange, with strategies added, hot-swapped and killed while
//! markets keep streaming.
//!
//! Owns: pacing ([`pace`]), the loop thread and the commands it takes
//! between events ([`live`]), and the slow side of every change, done off
//! the event path ([`handle`]). Does not know: HTTP (`api`), how orders
//! match (`exec`), or how plugins run (`runtime`).

pub mod handle;
pub mod live;
pub mod pace;

pub use handle::{Activation, HostError, HostHandle, Publication, Setup, Started};
pub use live::{Command, HostStatus, LiveLoop, ReplayStatus, SwapDone, SwapReport};
pub use pace::Pacer;

//! Faults the exchange can be told to commit, so clients are tested against
//! what Betfair does on a bad day (issue 12): drop every stream connection,
//! stall them (nothing sent, not even heartbeats), flag stream data as
//! stale (`status: 503`), and answer the next Betting API calls slowly or
//! with `TIMEOUT`, `TOO_MANY_REQUESTS`, `DUPLICATE_TRANSACTION` or
//! `INVALID_SESSION_INFORMATION`. Each switch is set at run time, by the
//! test or the operator holding the exchange.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

/// How the next Betting API call goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallFault {
    /// Answered correctly, after this long.
    Slow(Duration),
    /// Done, but answered as timed out: a placement's report says
    /// `TIMEOUT` (the order is on the book all the same); other calls get
    /// `TIMEOUT_ERROR`.
    Timeout,
    /// Refused as `TOO_MANY_REQUESTS`, not done.
    TooManyRequests,
    /// A placement refused as `DUPLICATE_TRANSACTION`, not done.
    DuplicateTransaction,
    /// Refused as `INVALID_SESSION_INFORMATION`, not done.
    InvalidSession,
}

/// The exchange's fault switches.
#[derive(Debug)]
pub struct Faults {
    drops: watch::Sender<u64>,
    stalled_until: Mutex<Option<Instant>>,
    stale: AtomicBool,
    calls: Mutex<VecDeque<CallFault>>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            drops: watch::Sender::new(0),
            stalled_until: Mutex::new(None),
            stale: AtomicBool::new(false),
            calls: Mutex::new(VecDeque::new()),
        }
    }
}

impl Faults {
    /// Close every open stream connection now, without a word.
    pub fn drop_streams(&self) {
        self.drops.send_modify(|n| *n += 1);
    }

    /// Wakes when streams are to be dropped.
    pub fn watch_drops(&self) -> watch::Receiver<u64> {
        self.drops.subscribe()
    }

    /// Send nothing on any stream for `how_long` (from now).
    pub fn stall_streams(&self, how_long: Duration) {
        let until = Instant::now() + how_long;
        *self
            .stalled_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(until);
    }

    /// Until when streams are stalled, if they are.
    pub fn stalled_until(&self) -> Option<Instant> {
        let until = *self
            .stalled_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        until.filter(|t| *t > Instant::now())
    }

    /// Mark stream messages stale (`status: 503`) or current again.
    pub fn set_stale(&self, stale: bool) {
        self.stale.store(stale, Ordering::Relaxed);
    }

    /// Whether stream messages say their data may be stale.
    pub fn stale(&self) -> bool {
        self.stale.load(Ordering::Relaxed)
    }

    /// The next Betting API call goes wrong this way (queued in order).
    pub fn next_call(&self, fault: CallFault) {
        self.calls().push_back(fault);
    }

    /// The fault the call being answered now must commit, if any.
    pub fn take_call(&self) -> Option<CallFault> {
        self.calls().pop_front()
    }

    fn calls(&self) -> std::sync::MutexGuard<'_, VecDeque<CallFault>> {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

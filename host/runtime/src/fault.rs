//! Faults: a plugin that trapped, ran out of fuel, hit its memory limit or
//! returned more than it may. Each is recorded with the plugin, version,
//! hook and cause; enough of them quarantine the plugin.

use std::fmt;

/// The hook that was running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hook {
    /// `describe`.
    Describe,
    /// `init`.
    Init,
    /// `on-market`.
    OnMarket,
    /// `on-order`.
    OnOrder,
    /// `on-timer`.
    OnTimer,
    /// `on-market-closed`.
    OnMarketClosed,
    /// `snapshot`.
    Snapshot,
    /// `restore`.
    Restore,
    /// `instruments` (1.1).
    Instruments,
    /// `parameters` (1.3).
    Parameters,
    /// `on-book` (1.1).
    OnBook,
    /// `on-trades` (1.1).
    OnTrades,
    /// `on-candle` (1.1).
    OnCandle,
    /// `on-instrument` (1.1).
    OnInstrument,
    /// `on-book-order` (1.1).
    OnBookOrder,
}

impl Hook {
    /// Hooks the engine calls for market events; these share the event's
    /// fuel and run under the per-call deadline. The others (loading,
    /// starting, handing over) get the `init` budgets.
    pub fn is_event(self) -> bool {
        matches!(
            self,
            Hook::OnMarket
                | Hook::OnOrder
                | Hook::OnTimer
                | Hook::OnMarketClosed
                | Hook::OnBook
                | Hook::OnTrades
                | Hook::OnCandle
                | Hook::OnInstrument
                | Hook::OnBookOrder
        )
    }
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Hook::Describe => "describe",
            Hook::Init => "init",
            Hook::OnMarket => "on-market",
            Hook::OnOrder => "on-order",
            Hook::OnTimer => "on-timer",
            Hook::OnMarketClosed => "on-market-closed",
            Hook::Instruments => "instruments",
            Hook::Parameters => "parameters",
            Hook::OnBook => "on-book",
            Hook::OnTrades => "on-trades",
            Hook::OnCandle => "on-candle",
            Hook::OnInstrument => "on-instrument",
            Hook::OnBookOrder => "on-book-order",
            Hook::Snapshot => "snapshot",
            Hook::Restore => "restore",
        })
    }
}

/// Why a hook call was cut off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultCause {
    /// The fuel budget for the call ran out (an endless or too-long loop,
    /// or imports whose host work used it up).
    OutOfFuel,
    /// The calls for one market event used up `fuel_per_event` between
    /// them (many timers or order changes, each doing a lot).
    EventFuel {
        /// The per-event budget.
        limit: u64,
    },
    /// The call ran past its wall-clock deadline (paper and live only)
    /// and was interrupted.
    Deadline {
        /// The deadline, milliseconds.
        ms: u64,
    },
    /// The plugin handed the host more bytes in one call (the arguments
    /// of an import, or a hook's result) than `import_bytes`; refused
    /// before anything was copied.
    TooMuchData {
        /// Bytes allowed in one call.
        limit: usize,
    },
    /// The plugin called an import the sandbox forbids (sleeping, waiting,
    /// name lookups), or asked a WASI import for more than it gives.
    Forbidden(String),
    /// A memory grow past the limit was refused.
    MemoryLimit {
        /// Bytes the guest asked for.
        requested: usize,
        /// Bytes allowed.
        limit: usize,
    },
    /// The Wasm stack overflowed (runaway recursion).
    StackOverflow,
    /// The guest panicked; the message from its stderr.
    Panic(String),
    /// Any other trap, with wasmtime's description.
    Trap(String),
    /// `init` refused to start a rebuilt instance (after an earlier fault),
    /// so the plugin cannot run again.
    InitRefused(String),
    /// A returned string or list was larger than allowed.
    OversizedOutput {
        /// Bytes returned.
        bytes: usize,
        /// Bytes allowed.
        limit: usize,
    },
}

impl fmt::Display for FaultCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultCause::OutOfFuel => f.write_str("fuel exhausted"),
            FaultCause::EventFuel { limit } => {
                write!(
                    f,
                    "event fuel exhausted: the calls for one event used all {limit}"
                )
            }
            FaultCause::Deadline { ms } => {
                write!(f, "deadline: still running after {ms} ms, interrupted")
            }
            FaultCause::TooMuchData { limit } => write!(
                f,
                "handed the host more than {limit} bytes in one call (import_bytes)"
            ),
            FaultCause::Forbidden(what) => write!(f, "forbidden: {what}"),
            FaultCause::MemoryLimit { requested, limit } => {
                write!(
                    f,
                    "memory limit: asked for {requested} bytes, limit {limit}"
                )
            }
            FaultCause::StackOverflow => f.write_str("stack overflow"),
            // componentize-py's panic after a Python exception says only
            // that; the traceback is the message.
            FaultCause::Panic(message) if message.starts_with("Traceback") => {
                write!(f, "Python exception: {message}")
            }
            FaultCause::Panic(message) => write!(f, "panic: {message}"),
            FaultCause::Trap(message) => write!(f, "trap: {message}"),
            FaultCause::InitRefused(reason) => {
                write!(f, "init refused after a rebuild: {reason}")
            }
            FaultCause::OversizedOutput { bytes, limit } => {
                write!(f, "output of {bytes} bytes exceeds the limit of {limit}")
            }
        }
    }
}

/// One recorded fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Plugin name.
    pub plugin: String,
    /// Plugin version.
    pub version: String,
    /// The hook that faulted.
    pub hook: Hook,
    /// What happened.
    pub cause: FaultCause,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}@{} faulted in {}: {}",
            self.plugin, self.version, self.hook, self.cause
        )
    }
}

/// The error a forbidden import traps with.
#[derive(Debug)]
pub(crate) struct Forbidden(pub(crate) String);

impl fmt::Display for Forbidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Forbidden {}

/// How the refusal of wasmtime's per-call copy budget (our `import_bytes`)
/// begins; its error type is private, so it is known by its message.
const HOSTCALL_FUEL_MESSAGE: &str = "too much data is being copied";

/// Turn a wasmtime error from a hook call into its cause; `deadline_ms`
/// is the deadline the call ran under, if one was armed.
pub(crate) fn classify(
    error: &wasmtime::Error,
    memory_refused: Option<(usize, usize)>,
    panic_message: Option<String>,
    deadline_ms: Option<u64>,
    import_bytes: usize,
) -> FaultCause {
    if let Some((requested, limit)) = memory_refused {
        return FaultCause::MemoryLimit { requested, limit };
    }
    if let Some(Forbidden(what)) = error.downcast_ref::<Forbidden>() {
        return FaultCause::Forbidden(what.clone());
    }
    match error.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::OutOfFuel) => FaultCause::OutOfFuel,
        Some(wasmtime::Trap::Interrupt) => FaultCause::Deadline {
            ms: deadline_ms.unwrap_or(0),
        },
        Some(wasmtime::Trap::StackOverflow) => FaultCause::StackOverflow,
        Some(wasmtime::Trap::UnreachableCodeReached) if panic_message.is_some() => {
            FaultCause::Panic(panic_message.unwrap_or_default())
        }
        Some(trap) => FaultCause::Trap(trap.to_string()),
        // The cause, without wasmtime's backtrace around it.
        None => {
            let cause = error.root_cause().to_string();
            if cause.starts_with(HOSTCALL_FUEL_MESSAGE) {
                FaultCause::TooMuchData {
                    limit: import_bytes,
                }
            } else {
                FaultCause::Trap(cause)
            }
        }
    }
}

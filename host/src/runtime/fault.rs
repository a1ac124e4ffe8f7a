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
            Hook::Snapshot => "snapshot",
            Hook::Restore => "restore",
        })
    }
}

/// Why a hook call was cut off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultCause {
    /// The fuel budget for the call ran out (an endless or too-long loop).
    OutOfFuel,
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
            FaultCause::MemoryLimit { requested, limit } => {
                write!(
                    f,
                    "memory limit: asked for {requested} bytes, limit {limit}"
                )
            }
            FaultCause::StackOverflow => f.write_str("stack overflow"),
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

/// Turn a wasmtime error from a hook call into its cause.
pub(crate) fn classify(
    error: &wasmtime::Error,
    memory_refused: Option<(usize, usize)>,
    panic_message: Option<String>,
) -> FaultCause {
    if let Some((requested, limit)) = memory_refused {
        return FaultCause::MemoryLimit { requested, limit };
    }
    match error.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::OutOfFuel) => FaultCause::OutOfFuel,
        Some(wasmtime::Trap::StackOverflow) => FaultCause::StackOverflow,
        Some(wasmtime::Trap::UnreachableCodeReached) if panic_message.is_some() => {
            FaultCause::Panic(panic_message.unwrap_or_default())
        }
        Some(trap) => FaultCause::Trap(trap.to_string()),
        None => FaultCause::Trap(format!("{error:#}")),
    }
}

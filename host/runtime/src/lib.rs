//! The sandboxed plugin runtime: wasmtime (48.x LTS) behind a narrow API.
//!
//! Owns: the Engine and Linker ([`Runtime`]), loading and caching compiled
//! components ([`LoadedPlugin`], [`ComponentCache`]), the sandbox (no
//! filesystem, network, environment or stdio; host clocks and seeded
//! randomness; fuel, memory, table and per-call budgets in [`Limits`]), and
//! running hooks on a [`PluginInstance`] with fault recording and
//! quarantine. Does not know: where markets come from, how orders match,
//! or risk. It reaches those only through [`HostServices`].

mod bindings;
mod book_hooks;
mod cache;
mod deadline;
mod deny;
mod fault;
mod imports;
mod instance;
mod limits;
mod log_gate;
mod parameters;
mod plugin;
mod recording;
mod sandbox;
mod services;
mod stamp;
mod timing;

use std::path::PathBuf;

pub use cache::{CompileSource, ComponentCache, sha256_hex};
pub use fault::{Fault, FaultCause, Hook};
pub use instance::{HookError, PluginInstance, Stats};
pub use limits::{Limits, LimitsError};
pub use limits::{RANDOM_BYTES_PER_REQUEST, STATE_ENTRY_OVERHEAD, rates};
pub use parameters::{check_params, printable};
pub use plugin::{LoadedPlugin, Runtime, RuntimeConfig, WIT_MAJOR, WIT_VERSION, default_cache_dir};
pub use recording::RecordingServices;
pub use sandbox::{Dropped, HostHeld};
pub use services::{HostServices, InertServices};
pub use timing::{HOOK_BUCKETS_US, HOOK_SAMPLE, HookTimes};

/// Why a component could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The wasmtime engine could not be configured.
    #[error("cannot set up the Wasm engine: {0}")]
    Engine(String),
    /// The component file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The bytes are not a valid WebAssembly component.
    #[error("not a valid WebAssembly component: {0}")]
    Invalid(String),
    /// A component, but not of the `clever:strategy/plugin` world.
    #[error("not a Clever Better strategy: {0}")]
    NotAStrategy(String),
    /// Built against a WIT major version this host does not speak.
    #[error(
        "built against clever:strategy@{found}, this host speaks {supported} (same major version needed)"
    )]
    IncompatibleWit {
        /// The plugin's WIT version.
        found: String,
        /// The host's.
        supported: String,
    },
    /// `describe` faulted.
    #[error("describe failed: {0}")]
    Describe(String),
    /// `describe` returned something unusable.
    #[error("bad descriptor: {0}")]
    BadDescriptor(String),
}

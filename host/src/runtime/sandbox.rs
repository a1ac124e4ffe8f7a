//! The store data of one plugin instance: a locked-down WASI context (no
//! filesystem, network, environment, arguments or inherited stdio; clocks
//! that read the engine's clock; a seeded random generator) and the host
//! side of the imports (services, budgets, key-value state, counters).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use rand::SeedableRng;
use rand_chacha::ChaCha12Rng;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};

use super::limits::{Limiter, Limits};
use super::services::HostServices;

/// The engine's clock as the guest's WASI clocks see it, in milliseconds.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClockCell(Arc<AtomicI64>);

impl ClockCell {
    pub(crate) fn set(&self, millis: i64) {
        self.0.store(millis, Ordering::Relaxed);
    }
    fn millis(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl HostWallClock for ClockCell {
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }
    fn now(&self) -> Duration {
        Duration::from_millis(self.millis().max(0) as u64)
    }
}

impl HostMonotonicClock for ClockCell {
    fn resolution(&self) -> u64 {
        1_000_000
    }
    fn now(&self) -> u64 {
        (self.millis().max(0) as u64).saturating_mul(1_000_000)
    }
}

/// What the guest may still do within the current call.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct CallBudget {
    pub(crate) orders: u32,
    pub(crate) log_lines: u32,
    pub(crate) log_bytes: usize,
    pub(crate) signals: u32,
}

impl CallBudget {
    pub(crate) fn fresh(limits: &Limits) -> Self {
        CallBudget {
            orders: limits.orders_per_call,
            log_lines: limits.log_lines_per_call,
            log_bytes: limits.log_bytes_per_call,
            signals: limits.signals_per_call,
        }
    }
}

/// What the sandbox cut off, over the plugin's life.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Dropped {
    /// Log lines dropped over the per-call budget.
    pub log_lines: u64,
    /// Signals dropped over the per-call budget.
    pub signals: u64,
    /// Orders refused as `rate-limited`.
    pub orders: u64,
    /// State writes refused over the byte budget.
    pub state_writes: u64,
}

/// Key-value state kept by the host, within a byte budget.
#[derive(Debug, Default)]
pub(crate) struct KvState {
    pub(crate) entries: BTreeMap<String, Vec<u8>>,
    pub(crate) bytes: usize,
}

/// The host side of a plugin: outlives any one Wasm instance, so state,
/// counters and services survive a faulted instance being rebuilt.
pub(crate) struct HostSide {
    pub(crate) services: Box<dyn HostServices>,
    pub(crate) limits: Limits,
    pub(crate) budget: CallBudget,
    pub(crate) dropped: Dropped,
    pub(crate) kv: KvState,
    pub(crate) clock: ClockCell,
}

/// Store data: the disposable sandbox plus the lasting host side.
pub(crate) struct PluginState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: Limiter,
    pub(crate) stderr: MemoryOutputPipe,
    pub(crate) host: HostSide,
}

impl PluginState {
    /// A fresh sandbox around `host`; `seed` makes the guest's randomness
    /// repeatable.
    pub(crate) fn new(host: HostSide, seed: u64) -> Self {
        let stderr = MemoryOutputPipe::new(host.limits.stderr_bytes);
        let mut wasi = WasiCtx::builder();
        // The builder starts with empty stdin, discarded stdout, no env,
        // no args and no preopened directories; network is denied below.
        wasi.stderr(stderr.clone())
            .wall_clock(host.clock.clone())
            .monotonic_clock(host.clock.clone())
            .secure_random(ChaCha12Rng::seed_from_u64(seed))
            .insecure_random(ChaCha12Rng::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15))
            .insecure_random_seed(seed as u128)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        PluginState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            limiter: Limiter::new(&host.limits),
            stderr,
            host,
        }
    }

    /// The panic message the guest printed, if any.
    pub(crate) fn panic_message(&self) -> Option<String> {
        let text = String::from_utf8_lossy(&self.stderr.contents()).into_owned();
        let start = text.rfind("panicked at")?;
        let message: String = text[start..].lines().take(2).collect::<Vec<_>>().join(" ");
        Some(message.chars().take(512).collect())
    }
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

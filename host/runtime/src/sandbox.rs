//! The store data of one plugin instance: a locked-down WASI context (no
//! filesystem, network, environment, arguments or inherited stdio; clocks
//! that read the engine's clock; a seeded random generator) and the host
//! side of the imports (services, budgets, key-value state, counters).

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use clever_sdk::Timestamp;
use rand::SeedableRng;
use rand_chacha::ChaCha12Rng;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};

use super::limits::{Limiter, Limits, RANDOM_BYTES_PER_REQUEST, STATE_ENTRY_OVERHEAD};
use super::log_gate::LogGate;
use super::services::HostServices;

/// The engine's clock as the guest's WASI clocks see it, in milliseconds.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClockCell(Arc<AtomicI64>);

impl ClockCell {
    pub(crate) fn set(&self, millis: i64) {
        self.0.store(millis, Ordering::Relaxed);
    }
    pub(crate) fn millis(&self) -> i64 {
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
    /// State writes refused over the byte or entry budget.
    pub state_writes: u64,
    /// Timers refused over the pending-timer cap.
    pub timers: u64,
}

impl Dropped {
    /// The refusals that happened, by what was refused, for reports:
    /// `(name, count)`, counts above zero only.
    pub fn refusals(&self) -> impl Iterator<Item = (&'static str, u64)> {
        [
            ("log-lines", self.log_lines),
            ("signals", self.signals),
            ("orders-rate-limited", self.orders),
            ("state-writes", self.state_writes),
            ("timers", self.timers),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
    }
}

/// Key-value state kept by the host, within a byte and an entry budget.
#[derive(Debug, Default)]
pub(crate) struct KvState {
    pub(crate) entries: BTreeMap<String, Vec<u8>>,
    /// Keys, values and [`STATE_ENTRY_OVERHEAD`] per entry.
    pub(crate) bytes: usize,
}

impl KvState {
    /// What an entry counts toward the byte budget.
    pub(crate) fn cost(key: &str, value: &[u8]) -> usize {
        key.len() + value.len() + STATE_ENTRY_OVERHEAD
    }

    /// Store `value` under `key` if both budgets allow; false if not.
    pub(crate) fn set(&mut self, key: String, value: Vec<u8>, limits: &Limits) -> bool {
        let old = self.entries.get(&key).map(|v| Self::cost(&key, v));
        let new_total = self.bytes - old.unwrap_or(0) + Self::cost(&key, &value);
        let entries = self.entries.len() + usize::from(old.is_none());
        if new_total > limits.state_bytes || entries > limits.state_entries {
            return false;
        }
        self.bytes = new_total;
        self.entries.insert(key, value);
        true
    }

    /// Remove `key`, if it is there.
    pub(crate) fn delete(&mut self, key: &str) {
        if let Some(v) = self.entries.remove(key) {
            self.bytes -= Self::cost(key, &v);
        }
    }
}

/// What the host holds for a plugin now, to check it against the caps.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct HostHeld {
    /// Timers pending (kept by the engine's desk; 0 where no engine runs).
    pub timers: usize,
    /// Key-value entries.
    pub state_entries: usize,
    /// Key-value bytes, with the per-entry overhead.
    pub state_bytes: usize,
    /// Markets whose last delivery is kept, to send the next as a delta;
    /// each is forgotten when it closes.
    pub markets: usize,
}

/// The host side of a plugin: outlives any one Wasm instance, so state,
/// counters and services survive a faulted instance being rebuilt.
pub(crate) struct HostSide {
    pub(crate) services: Box<dyn HostServices>,
    /// `name@version`, naming the plugin in the host's log.
    pub(crate) tag: String,
    pub(crate) limits: Limits,
    pub(crate) budget: CallBudget,
    pub(crate) dropped: Dropped,
    pub(crate) kv: KvState,
    pub(crate) clock: ClockCell,
    /// How many of its log lines the host's log prints.
    pub(crate) log_gate: LogGate,
    /// Fuel the imports of the running host call have earned; the call
    /// hook takes it from the plugin's fuel as the call returns.
    pub(crate) debt: u64,
}

impl HostSide {
    /// The time the engine set on the instance.
    pub(crate) fn now(&self) -> Timestamp {
        Timestamp(self.clock.millis())
    }
}

/// Store data: the disposable sandbox plus the lasting host side.
pub(crate) struct PluginState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: Limiter,
    pub(crate) stderr: MemoryOutputPipe,
    /// What the guest may still write to stdout in this call.
    pub(crate) stdout: CappedSink,
    pub(crate) host: HostSide,
}

impl PluginState {
    /// A fresh sandbox around `host`; `seed` makes the guest's randomness
    /// repeatable.
    pub(crate) fn new(host: HostSide, seed: u64) -> Self {
        let stderr = MemoryOutputPipe::new(host.limits.stderr_bytes);
        let stdout = CappedSink::default();
        let mut wasi = WasiCtx::builder();
        // The builder starts with empty stdin, no env, no args and no
        // preopened directories; network is denied below. Stdout is
        // discarded within a per-call budget, so writing costs the host
        // little; random bytes come in small requests.
        wasi.stderr(stderr.clone())
            .stdout(stdout.clone())
            .max_random_size(RANDOM_BYTES_PER_REQUEST)
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
            stdout,
            host,
        }
    }

    /// Start a hook call: fresh per-call budgets.
    pub(crate) fn begin_call(&mut self) {
        let limits = &self.host.limits;
        self.host.budget = CallBudget::fresh(limits);
        self.host.debt = 0;
        self.stdout.reset(limits.stdout_bytes_per_call);
    }

    /// What the guest printed about its failure, if anything.
    pub(crate) fn panic_message(&self) -> Option<String> {
        guest_failure(&String::from_utf8_lossy(&self.stderr.contents()))
    }
}

/// Most characters of a Python traceback kept (its end, where the
/// exception is, when it is longer).
const MAX_TRACEBACK_CHARS: usize = 8 * 1024;

/// A guest's own account of its failure in its stderr: a Python traceback
/// whole (componentize-py prints it, then panics with a line that says only
/// that an exception was thrown), else a Rust panic's first lines.
pub(crate) fn guest_failure(stderr: &str) -> Option<String> {
    const TRACEBACK: &str = "Traceback (most recent call last):";
    let panic_at = stderr.rfind("panicked at");
    let before_panic = &stderr[..panic_at.unwrap_or(stderr.len())];
    if let Some(start) = before_panic.rfind(TRACEBACK) {
        let traceback = before_panic[start..].trim_end();
        let thread_line = traceback.rfind("\nthread '").unwrap_or(traceback.len());
        let traceback = traceback[..thread_line].trim_end();
        let count = traceback.chars().count();
        let mut kept: String = if count > MAX_TRACEBACK_CHARS {
            let tail: String = traceback
                .chars()
                .skip(count - MAX_TRACEBACK_CHARS)
                .collect();
            format!("{TRACEBACK}\n  ...\n{tail}")
        } else {
            traceback.to_owned()
        };
        if traceback.contains("ModuleNotFoundError") {
            kept.push_str(
                "\n(an import inside a function? a component holds only the modules its \
                 module imports when loaded: import at the top of the module)",
            );
        }
        return Some(kept);
    }
    let start = panic_at?;
    let message: String = stderr[start..]
        .lines()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    Some(message.chars().take(512).collect())
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The guest's stdout: discarded, within a per-call byte budget. A write
/// past the budget traps, so printing in a loop cannot keep the host busy.
#[derive(Debug, Clone, Default)]
pub(crate) struct CappedSink {
    left: Arc<AtomicUsize>,
}

impl CappedSink {
    fn reset(&self, budget: usize) {
        self.left.store(budget, Ordering::Relaxed);
    }

    fn take(&self, n: usize) -> bool {
        self.left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(n)
            })
            .is_ok()
    }
}

impl OutputStream for CappedSink {
    fn write(&mut self, bytes: bytes::Bytes) -> Result<(), StreamError> {
        if self.take(bytes.len()) {
            Ok(())
        } else {
            Err(over_budget())
        }
    }
    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }
    fn check_write(&mut self) -> Result<usize, StreamError> {
        // Trap at once when spent: a blocking write would otherwise wait
        // for room that never comes.
        match self.left.load(Ordering::Relaxed) {
            0 => Err(over_budget()),
            left => Ok(left),
        }
    }
}

fn over_budget() -> StreamError {
    StreamError::Trap(wasmtime::format_err!(
        "stdout budget of this call exceeded (stdout_bytes_per_call)"
    ))
}

#[wasmtime_wasi::async_trait]
impl Pollable for CappedSink {
    async fn ready(&mut self) {}
}

impl IsTerminal for CappedSink {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CappedSink {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

/// The WASIp3 side of the same sink (not linked today; the trait asks for it).
impl tokio::io::AsyncWrite for CappedSink {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let n = buf.len().min(self.left.load(Ordering::Relaxed));
        self.take(n);
        Poll::Ready(Ok(n))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::guest_failure;

    #[test]
    fn a_python_traceback_is_kept_whole_and_a_rust_panic_by_its_line() {
        let python = "Traceback (most recent call last):\n  File \"/1/app.py\", line 11, in on_market\n  \
                      File \"/1/app.py\", line 5, in deeper\nValueError: no runners\n\
                      thread '<unnamed>' panicked at runtime/src/lib.rs:1280:25:\n\
                      Python function threw an unexpected exception\n";
        assert_eq!(
            guest_failure(python).as_deref(),
            Some(
                "Traceback (most recent call last):\n  File \"/1/app.py\", line 11, in on_market\n  \
                 File \"/1/app.py\", line 5, in deeper\nValueError: no runners"
            )
        );
        let missing = "Traceback (most recent call last):\nModuleNotFoundError: No module named 'decimal'\n\
                       thread '<unnamed>' panicked at x.rs:1:1:\nboom\n";
        assert!(guest_failure(missing).is_some_and(|m| m.contains("import at the top")));
        let rust =
            "thread '<unnamed>' panicked at src/lib.rs:9:5:\nindex out of bounds\nnote: ...\n";
        assert_eq!(
            guest_failure(rust).as_deref(),
            Some("panicked at src/lib.rs:9:5: index out of bounds")
        );
        assert_eq!(guest_failure("just a log line\n"), None);
        let long = format!(
            "Traceback (most recent call last):\n{}KeyError: 7\nthread 'x' panicked at a:1:1:\nb\n",
            "  File \"/1/app.py\", line 1, in f\n".repeat(1000)
        );
        let kept = guest_failure(&long).unwrap_or_default();
        assert!(kept.ends_with("KeyError: 7") && kept.chars().count() < 8 * 1024 + 100);
    }
}

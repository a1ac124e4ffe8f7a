//! The sandbox's budgets: what one plugin may use per hook call and in all.
//! Every limit has a documented default; a TOML `[sandbox]` table (or any
//! serde source) can override any of them.

use serde::Deserialize;

/// Limits applied to every plugin instance.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Fuel (about one unit per Wasm instruction) for one hook call.
    /// Default 10,000,000: milliseconds of work, far above any sane update handler.
    pub fuel_per_call: u64,
    /// Fuel for `init` and `restore`, which may parse parameters or state.
    /// Default 100,000,000.
    pub fuel_per_init: u64,
    /// Linear memory per instance, bytes. Default 64 MiB.
    pub memory_bytes: usize,
    /// Elements per table. Default 10,000.
    pub table_elements: usize,
    /// Core instances, tables and memories a component may create. Default 32 each.
    pub instances: usize,
    /// Wasm stack, bytes. Default 512 KiB (wasmtime's default).
    pub stack_bytes: usize,
    /// Log lines kept per call; the rest are dropped and counted. Default 100.
    pub log_lines_per_call: u32,
    /// Log bytes kept per call. Default 16 KiB.
    pub log_bytes_per_call: usize,
    /// A running host (paper and live): a plugin's log lines it prints
    /// per minute, after a burst of as many; the rest are counted, not
    /// printed, and the next printed line says how many. Backtests print
    /// every line asked for. Default 120.
    pub log_lines_per_minute: u32,
    /// Signals kept per call. Default 100.
    pub signals_per_call: u32,
    /// Orders (place and replace) accepted per call; the rest are refused as
    /// `rate-limited`. Default 50.
    pub orders_per_call: u32,
    /// Bytes of key-value state a plugin may hold. Default 1 MiB.
    pub state_bytes: usize,
    /// Largest string or byte list a hook may return (an `init` error, a
    /// snapshot). Default 1 MiB.
    pub output_bytes: usize,
    /// Bytes of the guest's stderr kept to explain a panic. Default 64 KiB.
    pub stderr_bytes: usize,
    /// Faults after which a plugin is quarantined. Default 3.
    pub max_faults: u32,
    /// Fuel shared by every hook call the engine makes to one plugin for
    /// one market event (the timers due before it, its order changes, the
    /// update, the close). Each call still gets at most `fuel_per_call`.
    /// Default 20,000,000: two whole calls' worth.
    pub fuel_per_event: u64,
    /// Wall-clock deadline of one hook call in paper and live modes,
    /// milliseconds; past it the call is interrupted (a `deadline` fault).
    /// Backtests do not arm it: fuel alone decides there. Default 50.
    pub deadline_ms: u64,
    /// The same deadline for `init`, `snapshot` and `restore`. Default 1,000.
    pub init_deadline_ms: u64,
    /// Timers a plugin may have pending; setting one more is refused and
    /// counted. Default 1,000.
    pub pending_timers: usize,
    /// Key-value entries a plugin may hold (besides `state_bytes`, where
    /// each entry also counts [`STATE_ENTRY_OVERHEAD`] bytes). Default 10,000.
    pub state_entries: usize,
    /// Longest signal name kept; a longer one is dropped and counted.
    /// Default 64 bytes.
    pub signal_name_bytes: usize,
    /// Bytes a plugin may hand the host in one import call (strings and
    /// lists, summed) or hook result (never less than `output_bytes`);
    /// more traps before anything is copied. Default 1 MiB + 64 KiB: a
    /// state value as large as the whole state budget.
    pub import_bytes: usize,
    /// Bytes a plugin may write to its stdout per call (kept nowhere);
    /// more is a fault. Default 16 KiB.
    pub stdout_bytes_per_call: usize,
}

/// What the host's work on a plugin's behalf costs the plugin, in fuel.
///
/// Every import is charged while it runs, so a plugin cannot buy host work
/// with anything but its own fuel. The rates make a unit of fuel buy about
/// as much host time as it buys of guest instructions: about 0.19 ns here
/// (a whole call's 10,000,000 in 1.9 ms), measured with the other figures
/// by `cargo bench -p clever-host --bench hostile` (docs/BENCHMARKS.md,
/// "Import costs"). A call that spends its whole budget on imports stalls
/// the host about as long as one that spends it on a loop; where a rate
/// must err, it errs on the dear side.
pub mod rates {
    /// Every call into the host, the plugin's own imports and WASI alike:
    /// the crossing, the call hooks, lifting and lowering, and for calls
    /// that return a list a call back into the guest's allocator; 190 to
    /// 300 ns measured.
    pub const IMPORT_CALL: u64 = 1_500;
    /// Fuel per KiB of bytes copied either way (state values and other
    /// byte lists): a copy with its allocation, about 0.1 to 0.15 ns a
    /// byte; one unit a byte.
    pub const PER_KIB: u64 = 1_024;
    /// Fuel per KiB of text handed in (log lines, signal names, ids, keys):
    /// a fresh allocation, a copy and UTF-8 validation, about 0.3 ns a
    /// byte; two units a byte.
    pub const PER_KIB_TEXT: u64 = 2_048;
    /// Each order placed, cancelled or replaced (risk checks, the venue)
    /// and each order or position listed back (built, converted and
    /// copied with its strings): 300 to 700 ns.
    pub const PER_ORDER: u64 = 3_500;
    /// Each timer or key-value entry set, moved or removed (a tree insert
    /// or removal): about 60 ns.
    pub const PER_ENTRY: u64 = 300;

    /// Fuel for copying `bytes` bytes of a byte list.
    pub fn bytes(bytes: usize) -> u64 {
        (bytes as u64).saturating_mul(PER_KIB).div_ceil(1024)
    }

    /// Fuel for taking in `bytes` bytes of text.
    pub fn text(bytes: usize) -> u64 {
        (bytes as u64).saturating_mul(PER_KIB_TEXT).div_ceil(1024)
    }

    /// Fuel for `n` orders or positions.
    pub fn orders(n: usize) -> u64 {
        (n as u64).saturating_mul(PER_ORDER)
    }

    /// Fuel for `n` timer or state entries.
    pub fn entries(n: usize) -> u64 {
        (n as u64).saturating_mul(PER_ENTRY)
    }
}

/// Bytes each key-value entry counts toward `state_bytes` beyond its key
/// and value: what the host's tree spends on it, so a flood of empty
/// entries fills the budget as fast as the memory it costs.
pub const STATE_ENTRY_OVERHEAD: usize = 64;

/// Most random bytes WASI hands out per request (`get-random-bytes`); a
/// larger request traps. Seeding a hash map takes 16.
pub const RANDOM_BYTES_PER_REQUEST: u64 = 4_096;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel_per_call: 10_000_000,
            fuel_per_init: 100_000_000,
            memory_bytes: 64 << 20,
            table_elements: 10_000,
            instances: 32,
            stack_bytes: 512 << 10,
            log_lines_per_call: 100,
            log_bytes_per_call: 16 << 10,
            log_lines_per_minute: 120,
            signals_per_call: 100,
            orders_per_call: 50,
            state_bytes: 1 << 20,
            output_bytes: 1 << 20,
            stderr_bytes: 64 << 10,
            max_faults: 3,
            fuel_per_event: 20_000_000,
            deadline_ms: 50,
            init_deadline_ms: 1_000,
            pending_timers: 1_000,
            state_entries: 10_000,
            signal_name_bytes: 64,
            import_bytes: (1 << 20) + (64 << 10),
            stdout_bytes_per_call: 16 << 10,
        }
    }
}

/// The largest Wasm stack a plugin may be given. The host runs plugins on
/// threads with Rust's default 2 MiB stack, which also holds the host's
/// own frames: a guest stack larger than what is left would overflow the
/// host's thread (and end the process) instead of trapping in the guest.
pub const MAX_STACK_BYTES: usize = 1 << 20;

impl Limits {
    /// Whether these limits can be enforced as set; the error names the key.
    pub fn check(&self) -> Result<(), String> {
        if self.stack_bytes > MAX_STACK_BYTES {
            return Err(format!(
                "sandbox.stack_bytes = {} is above {MAX_STACK_BYTES} (1 MiB): a plugin's stack \
                 must fit in the host thread that runs it",
                self.stack_bytes
            ));
        }
        Ok(())
    }
}

/// Why a limits file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LimitsError {
    /// The file could not be read.
    #[error("cannot read limits file {path}: {source}")]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid TOML, or a key is unknown or of the wrong type.
    #[error("bad limits file {path}: {message}")]
    Parse {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong and where (line and column).
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsFile {
    #[serde(default)]
    sandbox: Limits,
}

impl Limits {
    /// Read the `[sandbox]` table of a TOML file; keys left out keep their
    /// defaults, unknown keys are an error (a typo must not pass silently).
    pub fn from_toml_file(path: &std::path::Path) -> Result<Limits, LimitsError> {
        let text = std::fs::read_to_string(path).map_err(|source| LimitsError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml_str(&text).map_err(|message| LimitsError::Parse {
            path: path.to_owned(),
            message,
        })
    }

    /// Parse the `[sandbox]` table from TOML text, and check it.
    pub fn from_toml_str(text: &str) -> Result<Limits, String> {
        let limits = toml::from_str::<LimitsFile>(text)
            .map(|f| f.sandbox)
            .map_err(|e| e.to_string())?;
        limits.check()?;
        Ok(limits)
    }
}

/// Enforces [`Limits`] on memory and tables, and remembers whether the
/// memory limit was what stopped the guest (a trap alone does not say).
pub(crate) struct Limiter {
    memory_bytes: usize,
    table_elements: usize,
    instances: usize,
    /// The size a refused memory grow asked for.
    pub(crate) memory_refused: Option<usize>,
}

impl Limiter {
    pub(crate) fn new(limits: &Limits) -> Self {
        Limiter {
            memory_bytes: limits.memory_bytes,
            table_elements: limits.table_elements,
            instances: limits.instances,
            memory_refused: None,
        }
    }
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            self.memory_refused = Some(desired);
            // An error traps at once; `Ok(false)` would let the guest's
            // allocator abort with a less telling trap.
            wasmtime::bail!(
                "memory limit: {desired} bytes asked, {} allowed",
                self.memory_bytes
            );
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= self.table_elements)
    }

    fn instances(&self) -> usize {
        self.instances
    }

    fn tables(&self) -> usize {
        self.instances
    }

    fn memories(&self) -> usize {
        self.instances
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_overrides_some_keys_and_keeps_the_other_defaults() {
        let limits =
            Limits::from_toml_str("[sandbox]\nmax_faults = 1\nfuel_per_call = 500\n").unwrap();
        assert_eq!(limits.max_faults, 1);
        assert_eq!(limits.fuel_per_call, 500);
        assert_eq!(limits.memory_bytes, Limits::default().memory_bytes);
        assert_eq!(Limits::from_toml_str("").unwrap(), Limits::default());
    }

    #[test]
    fn toml_errors_name_the_key_and_line() {
        let err = Limits::from_toml_str("[sandbox]\nmax_fault = 1\n").unwrap_err();
        assert!(err.contains("max_fault") && err.contains("line 2"), "{err}");
        let err = Limits::from_toml_str("[sandbox]\nmax_faults = \"three\"\n").unwrap_err();
        assert!(err.contains("max_faults"), "{err}");
    }

    #[test]
    fn a_wasm_stack_beyond_what_a_host_thread_leaves_is_refused() {
        let at_most = format!("[sandbox]\nstack_bytes = {MAX_STACK_BYTES}\n");
        assert_eq!(
            Limits::from_toml_str(&at_most).unwrap().stack_bytes,
            MAX_STACK_BYTES
        );
        let above = format!("[sandbox]\nstack_bytes = {}\n", MAX_STACK_BYTES + 1);
        let err = Limits::from_toml_str(&above).unwrap_err();
        assert!(
            err.contains("stack_bytes") && err.contains("1 MiB"),
            "{err}"
        );
        let config = crate::RuntimeConfig {
            limits: Limits {
                stack_bytes: 8 << 20,
                ..Limits::default()
            },
            ..crate::RuntimeConfig::default()
        };
        let Err(err) = crate::Runtime::new(config) else {
            panic!("an 8 MiB Wasm stack was accepted");
        };
        assert!(err.to_string().contains("stack_bytes"), "{err}");
    }

    #[test]
    fn the_example_file_matches_the_defaults() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sandbox.toml");
        assert_eq!(Limits::from_toml_file(&path).unwrap(), Limits::default());
    }
}

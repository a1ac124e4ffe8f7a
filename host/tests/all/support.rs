//! Shared helpers: a runtime with its own cache directory, loading the
//! built plugins, and starting instances with recording services.

use std::path::Path;
use std::sync::Arc;

use clever_host::market::synthetic::SyntheticMarket;
use clever_host::runtime::{
    Limits, LoadedPlugin, PluginInstance, RecordingServices, Runtime, RuntimeConfig,
};
use clever_sdk::Timestamp;

/// The off of the synthetic test market.
pub const OFF: Timestamp = Timestamp(1_700_000_000_000);

pub struct TestRuntime {
    pub runtime: Runtime,
    /// The runtime's own cache directory, if it has one.
    pub cache: Option<tempfile::TempDir>,
}

/// A runtime with default limits, sharing one compile cache across the
/// test binary so each plugin compiles once per run.
pub fn runtime() -> TestRuntime {
    static SHARED: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let dir = SHARED.get_or_init(|| tempfile::tempdir().expect("temp dir"));
    let runtime = Runtime::new(RuntimeConfig {
        limits: Limits::default(),
        cache_dir: Some(dir.path().to_owned()),
        seed: 42,
        ladder_depth: 3,
        deadline: false,
    })
    .expect("runtime");
    TestRuntime {
        runtime,
        cache: None,
    }
}

pub fn runtime_with(limits: Limits) -> TestRuntime {
    runtime_config(RuntimeConfig {
        limits,
        ..RuntimeConfig::default()
    })
}

/// A runtime with its own cache directory and seed 42, as configured.
pub fn runtime_config(config: RuntimeConfig) -> TestRuntime {
    let cache = tempfile::tempdir().expect("temp dir");
    let runtime = Runtime::new(RuntimeConfig {
        cache_dir: Some(cache.path().to_owned()),
        seed: 42,
        ..config
    })
    .expect("runtime");
    TestRuntime {
        runtime,
        cache: Some(cache),
    }
}

impl TestRuntime {
    pub fn load(&self, path: &str) -> Arc<LoadedPlugin> {
        self.runtime
            .load_file(Path::new(path))
            .unwrap_or_else(|e| panic!("load {path}: {e}"))
    }

    /// Load and start a plugin with recording services at `OFF - 10 min`.
    pub fn start(&self, path: &str, params: &str) -> (PluginInstance, RecordingServices) {
        let plugin = self.load(path);
        let services = RecordingServices::new();
        let instance = self
            .runtime
            .instantiate(
                &plugin,
                params,
                OFF.plus_millis(-600_000),
                Box::new(services.clone()),
            )
            .unwrap_or_else(|e| panic!("start {path}: {e}"));
        (instance, services)
    }
}

/// A 14-runner, 3-level synthetic market.
pub fn market(seed: u64) -> SyntheticMarket {
    SyntheticMarket::new("1.1", seed, 14, 3, OFF)
}

/// The fixture-reader's (update count, checksum) from its snapshot.
pub fn reader_state(instance: &mut PluginInstance) -> (u64, f64) {
    let bytes = instance.snapshot().expect("reader snapshot");
    let count = u64::from_le_bytes(bytes[0..8].try_into().expect("8 bytes"));
    let checksum = f64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes"));
    (count, checksum)
}

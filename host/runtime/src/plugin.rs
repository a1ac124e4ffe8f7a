//! [`Runtime`]: the one wasmtime Engine and Linker of a host, and loading a
//! component into a [`LoadedPlugin`]: compiled (or taken from the cache),
//! checked to be a strategy of a compatible WIT version, pre-instantiated,
//! and asked who it is.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use clever_sdk::{Descriptor, InstrumentFilter, ParameterInfo, Timestamp};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine};

use super::RuntimeError;
use super::bindings::{PluginPre, book, described};
use super::cache::{self, CompileSource, ComponentCache, Described};
use super::instance::{HookError, PluginInstance};
use super::limits::Limits;
use super::parameters;
use super::sandbox::PluginState;
use super::services::{HostServices, InertServices};
use super::{deadline, deny};

/// The WIT major version this host implements.
pub const WIT_MAJOR: u64 = 1;
/// The WIT version this host was built with.
pub const WIT_VERSION: &str = clever_sdk::WIT_VERSION;

/// How to build a [`Runtime`].
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// The sandbox's budgets.
    pub limits: Limits,
    /// Where compiled components are cached; `None` compiles every load.
    pub cache_dir: Option<PathBuf>,
    /// Seed of every plugin's WASI random generator (with its name mixed in).
    pub seed: u64,
    /// Ladder levels per side sent to plugins (1 to 10). Default 3.
    pub ladder_depth: u8,
    /// Arm the wall-clock deadline (`Limits::deadline_ms`) on every call:
    /// on for paper and live trading, off for backtests, where it would
    /// make results depend on the machine's speed. Default off.
    pub deadline: bool,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            limits: Limits::default(),
            cache_dir: default_cache_dir(),
            seed: 0,
            ladder_depth: 3,
            deadline: false,
        }
    }
}

/// `$CLEVER_CACHE_DIR`, else `$XDG_CACHE_HOME/clever/components`, else
/// `~/.cache/clever/components`.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CLEVER_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("clever").join("components"))
}

/// The engine for `config` (fuel metering on, concurrency support off:
/// hooks are synchronous, and the async machinery costs on every call;
/// epoch interruption only with the `deadline`, since its checks cost a
/// little in every loop).
fn engine(config: &RuntimeConfig, deadline: bool) -> Result<Engine, RuntimeError> {
    config.limits.check().map_err(RuntimeError::Engine)?;
    let mut wasm = Config::new();
    wasm.consume_fuel(true)
        .epoch_interruption(deadline)
        .concurrency_support(false)
        .max_wasm_stack(config.limits.stack_bytes);
    Engine::new(&wasm).map_err(|e| RuntimeError::Engine(format!("{e:#}")))
}

/// One Engine and one Linker shared by every plugin of a host.
pub struct Runtime {
    engine: Engine,
    linker: Linker<PluginState>,
    cache: Option<ComponentCache>,
    config: RuntimeConfig,
    /// The last few components loaded, so a swap back to one of them (or
    /// a second load of the same bytes) neither reads the cache nor calls
    /// `describe` again.
    recent: Mutex<VecDeque<Arc<LoadedPlugin>>>,
}

/// How many loaded components [`Runtime`] keeps at hand.
const RECENT: usize = 8;

impl Runtime {
    /// Build the engine and the linker for `config`.
    pub fn new(config: RuntimeConfig) -> Result<Self, RuntimeError> {
        let engine_error = |e: wasmtime::Error| RuntimeError::Engine(format!("{e:#}"));
        let engine = engine(&config, config.deadline)?;
        if config.deadline {
            deadline::start_ticker(&engine).map_err(|e| {
                RuntimeError::Engine(format!("cannot start the deadline clock: {e}"))
            })?;
        }
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(engine_error)?;
        deny::shadow_forbidden_wasi(&mut linker).map_err(engine_error)?;
        // The 1.1 world's imports include the 1.0 world's.
        book::BookPlugin::add_to_linker::<PluginState, HasSelf<PluginState>>(&mut linker, |s| s)
            .map_err(engine_error)?;
        let cache = config.cache_dir.clone().map(ComponentCache::new);
        Ok(Runtime {
            engine,
            linker,
            cache,
            config,
            recent: Mutex::new(VecDeque::with_capacity(RECENT)),
        })
    }

    /// Compile `bytes` into the cache for both engines the host builds:
    /// without the deadline (backtests, sweeps) and with it (serving and
    /// live hosts), whose compiled code differs. Publishing calls this, so
    /// whichever loads the version next, a hot swap or a backtest, takes it
    /// from the cache: a Python component takes about 20 s to compile.
    /// Without a cache directory there is nothing to fill.
    pub fn precompile(&self, bytes: &[u8]) -> Result<Vec<CompileSource>, RuntimeError> {
        let Some(cache) = &self.cache else {
            return Ok(Vec::new());
        };
        let sha256 = cache::sha256_hex(bytes);
        let mut sources = Vec::with_capacity(2);
        for deadline in [false, true] {
            let engine = if deadline == self.config.deadline {
                self.engine.clone()
            } else {
                engine(&self.config, deadline)?
            };
            sources.push(cache.load_or_compile(&engine, bytes, &sha256)?.1);
        }
        Ok(sources)
    }

    /// The configuration in force.
    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    /// Load a component file.
    pub fn load_file(&self, path: &Path) -> Result<Arc<LoadedPlugin>, RuntimeError> {
        match self.load_file_cached(path)? {
            Some(plugin) => Ok(plugin),
            None => self.load_file_bytes(path),
        }
    }

    /// Load a component file from its bytes, read afresh: compiled, or
    /// taken from the cache if it was compiled meanwhile. For a file
    /// [`Runtime::load_file_cached`] did not find: the bytes are hashed
    /// as they are, so a file changed since is compiled under its own
    /// hash.
    pub fn load_file_bytes(&self, path: &Path) -> Result<Arc<LoadedPlugin>, RuntimeError> {
        let bytes = std::fs::read(path).map_err(|source| RuntimeError::Io {
            path: path.to_owned(),
            source,
        })?;
        self.load_bytes(&bytes)
    }

    /// Load a component file if the compile cache holds it compiled
    /// (about a millisecond); `None` if it must be compiled (seconds).
    /// Its SHA-256 is the one the cache remembers for the file's stamp
    /// if the file is untouched since it was hashed (see `stamp`).
    pub fn load_file_cached(&self, path: &Path) -> Result<Option<Arc<LoadedPlugin>>, RuntimeError> {
        let io = |source| RuntimeError::Io {
            path: path.to_owned(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let sha256 = match &self.cache {
            Some(cache) => cache.sha256_of_file(path, file),
            None => cache::sha256_hex_of(file),
        };
        self.load_cached(&sha256.map_err(io)?)
    }

    /// Load a component from its bytes: compile or take from the cache,
    /// check it against the strategy world, and learn what it declares.
    pub fn load_bytes(&self, bytes: &[u8]) -> Result<Arc<LoadedPlugin>, RuntimeError> {
        let sha256 = cache::sha256_hex(bytes);
        if let Some(plugin) = self.recently_loaded(&sha256) {
            return Ok(plugin);
        }
        let (component, source) = match &self.cache {
            Some(cache) => cache.load_or_compile(&self.engine, bytes, &sha256)?,
            None => (
                cache::compile(&self.engine, bytes)?,
                CompileSource::Compiled,
            ),
        };
        self.finish(component, sha256, source)
    }

    /// Load the component whose SHA-256 is `sha256` from the compile
    /// cache alone, if it is there: no bytes to read or hash. A registry
    /// that knows a version's hash swaps to it this way; an 18 MB Python
    /// component spends tens of milliseconds on those otherwise.
    pub fn load_cached(&self, sha256: &str) -> Result<Option<Arc<LoadedPlugin>>, RuntimeError> {
        if let Some(plugin) = self.recently_loaded(sha256) {
            return Ok(Some(plugin));
        }
        let Some(component) = (self.cache.as_ref()).and_then(|c| c.load(&self.engine, sha256))
        else {
            return Ok(None);
        };
        self.finish(component, sha256.to_owned(), CompileSource::Cache)
            .map(Some)
    }

    fn recently_loaded(&self, sha256: &str) -> Option<Arc<LoadedPlugin>> {
        let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent.iter().find(|p| p.sha256 == sha256).cloned()
    }

    fn remember(&self, plugin: &Arc<LoadedPlugin>) {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if recent.len() == RECENT {
            recent.pop_front();
        }
        recent.push_back(plugin.clone());
    }

    /// Check a compiled component against the strategy world, prepare its
    /// instances and learn what it declares (see [`Runtime::declare`]).
    fn finish(
        &self,
        component: Component,
        sha256: String,
        source: CompileSource,
    ) -> Result<Arc<LoadedPlugin>, RuntimeError> {
        let wit_version = self.wit_version(&component)?;
        let instance_pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| RuntimeError::NotAStrategy(format!("{e:#}")))?;
        // A 1.1 component may trade order-book instruments; a 1.0 one
        // (or one that does not) has no book hooks.
        let book = book::BookHooksIndices::new(&instance_pre).ok();
        // A 1.3 component may say which parameters it reads.
        let parameters_export = described::ParametersIndices::new(&instance_pre).ok();
        let pre = PluginPre::new(instance_pre)
            .map_err(|e| RuntimeError::NotAStrategy(format!("{e:#}")))?;
        let mut plugin = LoadedPlugin {
            pre,
            book,
            instruments: None,
            parameters_export,
            parameters: None,
            descriptor: Descriptor {
                name: "(loading)".into(),
                version: "0.0.0".into(),
                sdk_version: String::new(),
                markets: Default::default(),
            },
            sha256,
            wit_version,
            source,
            config: self.config.clone(),
            engine: self.engine.clone(),
        };
        self.declare(&mut plugin)?;
        let plugin = Arc::new(plugin);
        self.remember(&plugin);
        Ok(plugin)
    }

    /// Ask `plugin` who it is, (1.1) which instruments it trades and (1.3)
    /// which parameters it reads, each in a throwaway instance, unless the cache holds its answers from
    /// the same limits and seed (see `cache::Described`); keep fresh ones.
    fn declare(&self, plugin: &mut LoadedPlugin) -> Result<(), RuntimeError> {
        let conditions = cache::conditions(&self.config.limits, self.config.seed);
        let cache = self.cache.as_ref();
        if let Some(described) =
            cache.and_then(|c| c.described(&self.engine, &plugin.sha256, &conditions))
        {
            plugin.descriptor = checked(described.descriptor)?;
            plugin.instruments = described.instruments.filter(|_| plugin.book.is_some());
            plugin.parameters = (described.parameters)
                .filter(|_| plugin.parameters_export.is_some())
                .map(parameters::checked)
                .transpose()?;
            return Ok(());
        }
        // The descriptor first: the instruments call's seed and faults name it.
        plugin.descriptor = describe(plugin)?;
        if plugin.book.is_some() {
            plugin.instruments = PluginInstance::instruments(plugin, Box::new(InertServices))
                .map_err(|e| RuntimeError::Describe(e.to_string()))?;
        }
        let declared = PluginInstance::parameters(plugin, Box::new(InertServices))
            .map_err(|e| RuntimeError::Describe(e.to_string()))?;
        plugin.parameters = declared.map(parameters::checked).transpose()?;
        if let Some(cache) = cache {
            let described = Described {
                conditions,
                descriptor: plugin.descriptor.clone(),
                instruments: plugin.instruments.clone(),
                parameters: plugin.parameters.clone(),
            };
            cache.store_described(&self.engine, &plugin.sha256, &described);
        }
        Ok(())
    }

    /// The `clever:strategy` version the component exports its hooks at.
    fn wit_version(&self, component: &Component) -> Result<String, RuntimeError> {
        let ty = component.component_type();
        let name = ty
            .exports(&self.engine)
            .map(|(name, _)| name.to_owned())
            .find(|name| name.starts_with("clever:strategy/hooks"))
            .ok_or_else(|| {
                RuntimeError::NotAStrategy("it does not export clever:strategy/hooks".into())
            })?;
        let version = name
            .split_once('@')
            .map(|(_, v)| v.to_owned())
            .ok_or_else(|| {
                RuntimeError::NotAStrategy(format!("export `{name}` carries no version"))
            })?;
        let parsed = semver::Version::parse(&version).map_err(|e| {
            RuntimeError::NotAStrategy(format!("export `{name}` has a bad version: {e}"))
        })?;
        if parsed.major != WIT_MAJOR {
            return Err(RuntimeError::IncompatibleWit {
                found: version,
                supported: WIT_VERSION.to_owned(),
            });
        }
        Ok(version)
    }

    /// Start an instance of `plugin` with `params` (JSON text) and the
    /// engine's `services`; `init` runs now, seeing the time `now`.
    pub fn instantiate(
        &self,
        plugin: &Arc<LoadedPlugin>,
        params: &str,
        now: Timestamp,
        services: Box<dyn HostServices>,
    ) -> Result<PluginInstance, HookError> {
        PluginInstance::start(plugin.clone(), params, now, services)
    }
}

/// A component ready to instantiate, with what it declared about itself.
pub struct LoadedPlugin {
    pub(crate) pre: PluginPre<PluginState>,
    /// The 1.1 book hooks, if the component exports them.
    pub(crate) book: Option<book::BookHooksIndices>,
    /// The instruments it wants (none for a betting-only strategy).
    pub(crate) instruments: Option<InstrumentFilter>,
    /// The 1.3 `parameters` export, if the component has it.
    pub(crate) parameters_export: Option<described::ParametersIndices>,
    /// The parameters it declared (1.3), if it did.
    pub(crate) parameters: Option<Vec<ParameterInfo>>,
    pub(crate) descriptor: Descriptor,
    pub(crate) sha256: String,
    pub(crate) wit_version: String,
    pub(crate) source: CompileSource,
    pub(crate) config: RuntimeConfig,
    pub(crate) engine: Engine,
}

impl LoadedPlugin {
    /// Name, version and market filter, as the plugin declared them.
    pub fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }
    /// The order-book instruments it trades (1.1), if any.
    pub fn instruments(&self) -> Option<&InstrumentFilter> {
        self.instruments
            .as_ref()
            .filter(|f| !f.instruments.is_empty())
    }
    /// The parameters `init` reads, as it declared them (1.3); `None` if
    /// it did not say (any name may be one).
    pub fn parameters(&self) -> Option<&[ParameterInfo]> {
        self.parameters.as_deref()
    }
    /// SHA-256 of the component bytes, hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
    /// The WIT version the plugin was built against.
    pub fn wit_version(&self) -> &str {
        &self.wit_version
    }
    /// Whether this load compiled or came from the cache.
    pub fn compile_source(&self) -> CompileSource {
        self.source
    }
    /// The RNG seed of this plugin's instances: the host's seed mixed with its name.
    pub(crate) fn seed(&self) -> u64 {
        let mut seed = self.config.seed ^ 0xcbf2_9ce4_8422_2325;
        for b in self.descriptor.name.bytes() {
            seed = (seed ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
        seed
    }
}

/// Call `describe` in a throwaway instance and check what comes back.
fn describe(plugin: &LoadedPlugin) -> Result<Descriptor, RuntimeError> {
    let descriptor = PluginInstance::describe(plugin, Box::new(InertServices))
        .map_err(|e| RuntimeError::Describe(e.to_string()))?;
    checked(descriptor)
}

/// `descriptor` if its name and version are usable (a cached one is
/// checked again: the file is only as sound as the disk it is on).
fn checked(descriptor: Descriptor) -> Result<Descriptor, RuntimeError> {
    let name_ok = !descriptor.name.is_empty()
        && descriptor.name.len() <= 64
        && descriptor
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !name_ok {
        let shown: String = descriptor.name.chars().take(64).collect();
        return Err(RuntimeError::BadDescriptor(format!(
            "name `{shown}` must be 1 to 64 characters of a-z, 0-9, - and _"
        )));
    }
    if let Err(e) = semver::Version::parse(&descriptor.version) {
        let shown: String = descriptor.version.chars().take(64).collect();
        return Err(RuntimeError::BadDescriptor(format!(
            "version `{shown}` is not semver: {e}"
        )));
    }
    Ok(descriptor)
}

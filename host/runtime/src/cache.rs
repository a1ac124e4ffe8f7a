//! Compiled components cached on disk, keyed by the component's SHA-256 and
//! the engine's compatibility hash, so a second load of the same bytes skips
//! Cranelift entirely. Beside each compiled component lies what it declared
//! of itself ([`Described`]), so a cached load also skips the throwaway
//! instances that `describe` and `instruments` run in.

use std::fs::File;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use clever_sdk::{Descriptor, InstrumentFilter, ParameterInfo};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use super::RuntimeError;
use super::stamp::{self, Stamp};

/// How a component was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompileSource {
    /// Compiled now (and stored, if a cache is configured).
    Compiled,
    /// Loaded from the on-disk cache: no compilation.
    Cache,
}

/// A directory of serialized components.
#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: PathBuf,
}

/// The hex SHA-256 of a component's bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// [`sha256_hex`] of what `reader` holds, read 64 KiB at a time: a
/// component of 250 KB in four reads, not the thirty of `io::copy`'s
/// 8 KiB (a backtest hashes each plugin it loads before it can start).
pub fn sha256_hex_of(reader: impl std::io::Read) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    // `io::copy` reads a `BufReader` through its own buffer.
    std::io::copy(
        &mut std::io::BufReader::with_capacity(64 * 1024, reader),
        &mut hasher,
    )?;
    Ok(hex::encode(hasher.finalize()))
}

impl ComponentCache {
    /// A cache in `dir` (created on first store).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ComponentCache { dir: dir.into() }
    }

    /// Where the cache lives.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_for(&self, engine: &Engine, sha256: &str) -> PathBuf {
        let mut h = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        self.dir.join(format!("{sha256}-{:016x}.cwasm", h.finish()))
    }

    /// What the component with this SHA-256 declared of itself, if it was
    /// described under `conditions` (see [`Described`]). A missing,
    /// damaged or stale file is no entry: the caller describes afresh.
    pub(crate) fn described(
        &self,
        engine: &Engine,
        sha256: &str,
        conditions: &str,
    ) -> Option<Described> {
        let path = self.path_for(engine, sha256).with_extension("described");
        let described: Described = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
        (described.conditions == conditions).then_some(described)
    }

    /// Keep what a component declared beside its compiled code. A failure
    /// costs only the next load a describe, so it is logged, not raised.
    pub(crate) fn store_described(&self, engine: &Engine, sha256: &str, described: &Described) {
        let path = self.path_for(engine, sha256).with_extension("described");
        let written = serde_json::to_vec(described)
            .map_err(std::io::Error::other)
            .and_then(|bytes| write_whole(&self.dir, &path, &bytes));
        // Quietly: a cache shared read-only would say so on every load.
        if let Err(e) = written {
            tracing::debug!(path = %path.display(), "cannot keep what it declared: {e}");
        }
    }

    /// The SHA-256 of the plugin file `file`, opened at `path`: the one
    /// remembered for the file's stamp if it is untouched since (see
    /// `stamp`), else hashed as it is read, through a small buffer, and
    /// remembered. (A compiled one in the cache is then loaded without
    /// the whole file in memory: a fresh copy of it was a tenth of a
    /// short backtest's page faults.)
    pub(crate) fn sha256_of_file(&self, path: &Path, file: File) -> std::io::Result<String> {
        let stamps = self.dir.join("stamps");
        let stamp = (file.metadata().ok()).and_then(|meta| Stamp::of(path, &meta));
        if let Some(sha256) = stamp.as_ref().and_then(|s| stamp::remembered(&stamps, s)) {
            return Ok(sha256);
        }
        let sha256 = sha256_hex_of(file)?;
        if let Some(stamp) = &stamp {
            stamp::remember(&stamps, stamp, &sha256, SystemTime::now());
        }
        Ok(sha256)
    }

    /// The cached component with this SHA-256, if there is a usable one.
    pub(crate) fn load(&self, engine: &Engine, sha256: &str) -> Option<Component> {
        let path = self.path_for(engine, sha256);
        path.exists().then(|| deserialize(engine, &path).ok())?
    }

    /// The compiled component for `bytes`, from the cache when present.
    pub(crate) fn load_or_compile(
        &self,
        engine: &Engine,
        bytes: &[u8],
        sha256: &str,
    ) -> Result<(Component, CompileSource), RuntimeError> {
        // A stale or damaged entry is not fatal: fall through and recompile.
        if let Some(component) = self.load(engine, sha256) {
            return Ok((component, CompileSource::Cache));
        }
        let path = self.path_for(engine, sha256);
        let component = compile(engine, bytes)?;
        if let Err(e) = self.store(&component, &path) {
            tracing::warn!(path = %path.display(), "cannot write component cache: {e}");
        }
        Ok((component, CompileSource::Compiled))
    }

    fn store(&self, component: &Component, path: &Path) -> std::io::Result<()> {
        let bytes = component
            .serialize()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        write_whole(&self.dir, path, &bytes)
    }
}

/// Write `bytes` to `path` in `dir` through a temporary file and a rename,
/// so a concurrent reader never sees half a file. The temporary name
/// keeps the final one whole and adds the process and a count, so two
/// writers (the two files of one component, or two threads loading the
/// same component) never share one.
pub(crate) fn write_whole(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    std::fs::create_dir_all(dir)?;
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}-{n}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// What a component returned from `describe` and (1.1) `instruments`, and
/// the conditions it ran under. Both hooks run in a sandbox whose clock
/// stands at zero, with inert services and a seeded random generator, so
/// the same bytes, engine and [`conditions`] give the same answers again:
/// the cache keeps them instead of starting two throwaway instances per
/// load (a twentieth of a one-line backtest's time, docs/BENCHMARKS.md,
/// sixteenth sitting). Other conditions ask afresh.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Described {
    /// [`conditions`] when it was asked.
    pub(crate) conditions: String,
    pub(crate) descriptor: Descriptor,
    pub(crate) instruments: Option<InstrumentFilter>,
    /// What it declared of its parameters (1.3).
    #[serde(default)]
    pub(crate) parameters: Option<Vec<ParameterInfo>>,
}

/// Bump when what `describe`, `instruments` or `parameters` can see, or
/// what is kept of them, changes within one host version (the sandbox, the
/// fuel charged for host work, the seed's mixing; 2: the parameters kept
/// too): kept answers from before are then asked again.
pub(crate) const DESCRIBED: u32 = 2;

/// The conditions a component is described under: everything besides its
/// bytes and the engine (both in the file's name) that could change what
/// its hooks return, or whether they finish.
pub(crate) fn conditions(limits: &super::Limits, seed: u64) -> String {
    let host = env!("CARGO_PKG_VERSION");
    format!("host {host}, format {DESCRIBED}; {limits:?}; seed {seed}")
}

pub(crate) fn compile(engine: &Engine, bytes: &[u8]) -> Result<Component, RuntimeError> {
    if let Some(why) = not_a_component(bytes) {
        return Err(RuntimeError::Invalid(why));
    }
    Component::new(engine, bytes).map_err(|e| RuntimeError::Invalid(format!("{e:#}")))
}

/// Why `bytes` cannot be a component, told from its 8-byte header, for the
/// common mistakes: wasmparser's own words for them are a byte dump over a
/// dozen lines, or "a wasm module with a component parser".
fn not_a_component(bytes: &[u8]) -> Option<String> {
    const MAGIC: &[u8] = b"\0asm";
    // The version field of a core module (a component's is 0d 00 01 00).
    const CORE_MODULE: &[u8] = &[1, 0, 0, 0];
    if bytes.is_empty() {
        return Some("it is empty".into());
    }
    if !bytes.starts_with(MAGIC) && !MAGIC.starts_with(bytes) {
        let begins: String = bytes[..bytes.len().min(4)]
            .iter()
            .flat_map(|&b| std::ascii::escape_default(b))
            .map(char::from)
            .collect();
        return Some(format!(
            "it begins \"{begins}\", where WebAssembly begins \"\\0asm\""
        ));
    }
    match bytes.get(4..8) {
        None => Some(format!(
            "{} bytes, too short for WebAssembly's 8-byte header",
            bytes.len()
        )),
        Some(CORE_MODULE) => Some(
            "it is a core WebAssembly module; strategies are components, \
             as `clever build` makes them"
                .into(),
        ),
        Some(_) => None,
    }
}

#[allow(unsafe_code)]
fn deserialize(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: the file was written by `store` above from a component this
    // engine compiled, under a name that includes its compatibility hash;
    // wasmtime still checks the header and refuses an incompatible file.
    // The cache directory must be as trusted as the binary itself.
    unsafe { Component::deserialize_file(engine, path) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_cannot_be_a_component_is_named_for_what_it_is() {
        let engine = Engine::default();
        let why = |bytes: &[u8]| match compile(&engine, bytes) {
            Err(RuntimeError::Invalid(why)) => why,
            Err(other) => panic!("{other}"),
            Ok(_) => panic!("{bytes:?} compiled"),
        };
        assert_eq!(why(b""), "it is empty");
        assert_eq!(
            why(b"nope, not wasm"),
            r#"it begins "nope", where WebAssembly begins "\0asm""#
        );
        // A native program handed over by mistake.
        assert!(why(b"\x7fELF\x02\x01\x01\0").contains(r#"begins "\x7fELF""#));
        assert_eq!(
            why(b"\0as"),
            "3 bytes, too short for WebAssembly's 8-byte header"
        );
        assert_eq!(
            why(b"\0asm\x0d\0"),
            "6 bytes, too short for WebAssembly's 8-byte header"
        );
        assert!(why(b"\0asm\x01\0\0\0").starts_with("it is a core WebAssembly module"));
        // A component's header with nothing valid after it: wasmtime's words.
        let rest = why(b"\0asm\x0d\0\x01\0\xff\xff");
        assert!(!rest.contains("core WebAssembly module"), "{rest}");
        assert!(!rest.contains("too short"), "{rest}");
        // A well-formed empty component passes the header.
        assert!(compile(&engine, b"\0asm\x0d\0\x01\0").is_ok());
    }

    #[test]
    fn hashing_as_read_gives_the_hash_of_the_bytes() {
        // Past the read buffer's size, and across its boundary.
        let bytes: Vec<u8> = (0..200_003u32).map(|i| (i * 7 % 251) as u8).collect();
        for len in [0, 1, 65_535, 65_536, 65_537, 131_072, bytes.len()] {
            let read = sha256_hex_of(&bytes[..len]).unwrap();
            assert_eq!(read, sha256_hex(&bytes[..len]), "{len}");
        }
        // A reader interrupted, then giving a few bytes at a time.
        let interrupted = Stutter {
            rest: &bytes,
            calls: 0,
        };
        assert_eq!(sha256_hex_of(interrupted).unwrap(), sha256_hex(&bytes));
    }

    /// Every third read is interrupted; the others give at most 1,000 bytes.
    struct Stutter<'a> {
        rest: &'a [u8],
        calls: usize,
    }

    impl std::io::Read for Stutter<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.calls += 1;
            if self.calls.is_multiple_of(3) {
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            let n = buf.len().min(self.rest.len()).min(1_000);
            buf[..n].copy_from_slice(&self.rest[..n]);
            self.rest = &self.rest[n..];
            Ok(n)
        }
    }
}

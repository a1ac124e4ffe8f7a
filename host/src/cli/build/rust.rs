//! Rust strategies: cargo for `wasm32-wasip2` in release, with LTO.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

/// The Rust target plugins are built for.
const TARGET: &str = "wasm32-wasip2";

/// Build the crate in `crate_dir` and return its component's path.
pub fn build(crate_dir: &Path) -> anyhow::Result<PathBuf> {
    ensure_target()?;
    cargo_build(&crate_dir.join("Cargo.toml"))
}

/// Fail with the install command if the wasm target's standard library is missing.
fn ensure_target() -> anyhow::Result<()> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .with_context(|| format!("cannot run `{rustc}`: is Rust installed?"))?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if !sysroot.join("lib/rustlib").join(TARGET).is_dir() {
        bail!(
            "the Rust target {TARGET} is not installed; install it with:\n\n    rustup target add {TARGET}\n"
        );
    }
    Ok(())
}

/// Run cargo, pass its diagnostics through, and find the component it wrote.
fn cargo_build(manifest: &Path) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut child = Command::new(&cargo)
        .args(["build", "--release", "--target", TARGET])
        .arg("--manifest-path")
        .arg(manifest)
        .args(["--message-format", "json-render-diagnostics"])
        // Plugins are small: whole-program optimization is cheap and lets
        // the SDK's accessors inline into strategy code.
        .env("CARGO_PROFILE_RELEASE_LTO", "true")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
        // The workspace keeps line tables for the host; a plugin needs none:
        // without them a component is ~20 times smaller and loads faster.
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot run `{cargo}`"))?;
    let stdout = child.stdout.take().context("cargo's stdout")?;
    let manifest = manifest.canonicalize()?;
    let mut wasm = None;
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if let Some(path) = component_of(&msg, &manifest) {
            wasm = Some(path);
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("cargo build failed ({status})");
    }
    wasm.with_context(|| {
        format!(
            "cargo built no component for {}: does the crate have `crate-type = [\"cdylib\"]`?",
            manifest.display()
        )
    })
}

/// The `.wasm` file of a `compiler-artifact` message for this manifest's cdylib.
fn component_of(msg: &serde_json::Value, manifest: &Path) -> Option<PathBuf> {
    if msg["reason"] != "compiler-artifact" {
        return None;
    }
    let same_crate = msg["manifest_path"]
        .as_str()
        .and_then(|p| Path::new(p).canonicalize().ok())
        .is_some_and(|p| p == manifest);
    let cdylib = msg["target"]["kind"]
        .as_array()
        .is_some_and(|kinds| kinds.iter().any(|k| k == "cdylib"));
    if !same_crate || !cdylib {
        return None;
    }
    msg["filenames"]
        .as_array()?
        .iter()
        .filter_map(|f| f.as_str())
        .find(|f| f.ends_with(".wasm"))
        .map(PathBuf::from)
}

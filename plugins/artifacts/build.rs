//! Builds every plugin in the workspace's `plugins/` (examples, hostile
//! plugins, fixtures) for `wasm32-wasip2` in one release cargo run, so that
//! tests and benches build them once per run. Emits `gen.rs` with a path
//! constant per plugin (`HOSTILE_LOOP`, `FIXTURE_READER`, ...) and the
//! `foreach_hostile!` macro. `CLEVER_SKIP_PLUGINS=1` skips the build (for
//! lint-only jobs); the constants then point at files that do not exist.

use std::env;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

struct PluginCrate {
    package: String,
    dir: PathBuf,
}

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir
        .join("../..")
        .canonicalize()
        .expect("workspace root");
    let plugins = discover(&root.join("plugins"));
    let target_dir = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("wasm-plugins");
    println!("cargo:rerun-if-env-changed=CLEVER_SKIP_PLUGINS");
    println!("cargo:rerun-if-changed={}", root.join("wit").display());
    println!("cargo:rerun-if-changed={}", root.join("sdk").display());
    println!("cargo:rerun-if-changed={}", root.join("plugins").display());
    for p in &plugins {
        println!("cargo:rerun-if-changed={}", p.dir.display());
    }
    if env::var_os("CLEVER_SKIP_PLUGINS").is_none() {
        build(&root, &target_dir, &plugins);
    }
    let out = target_dir.join(TARGET).join("release");
    write_gen(&out, &plugins);
}

/// Plugin crates: `plugins/<name>`, `plugins/hostile/<name>`, `plugins/fixtures/<name>`.
fn discover(plugins: &Path) -> Vec<PluginCrate> {
    let mut found = Vec::new();
    let mut dirs: Vec<PathBuf> = Vec::new();
    for group in [
        plugins.to_path_buf(),
        plugins.join("hostile"),
        plugins.join("fixtures"),
    ] {
        let Ok(entries) = std::fs::read_dir(&group) else {
            continue;
        };
        for entry in entries.flatten() {
            dirs.push(entry.path());
        }
    }
    dirs.sort();
    for dir in dirs {
        let manifest = dir.join("Cargo.toml");
        if dir.ends_with("artifacts") || !manifest.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&manifest).expect("read plugin manifest");
        let package = text
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("name = \"")
                    .and_then(|r| r.strip_suffix('"'))
            })
            .expect("plugin manifest has a name")
            .to_owned();
        found.push(PluginCrate { package, dir });
    }
    found
}

fn build(root: &Path, target_dir: &Path, plugins: &[PluginCrate]) {
    let sysroot = Command::new(env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .args(["--print", "sysroot"])
        .output()
        .expect("run rustc --print sysroot");
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if !sysroot.join("lib/rustlib").join(TARGET).exists() {
        panic!(
            "the Rust target {TARGET} is not installed; install it with:\n    rustup target add {TARGET}"
        );
    }
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args(["build", "--release", "--target", TARGET])
        .env("CARGO_TARGET_DIR", target_dir)
        // Plugins are small: whole-program optimization is cheap and lets
        // the SDK's accessors inline into strategy code.
        .env("CARGO_PROFILE_RELEASE_LTO", "true")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo");
    for p in plugins {
        cmd.args(["-p", &p.package]);
    }
    // As wasmtime's test-programs do: the outer build's flags and wrappers
    // (clippy, coverage, RUSTFLAGS for the host) must not leak into the guests.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "CARGO_BUILD_TARGET",
        "CARGO_PROFILE_RELEASE_DEBUG",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().expect("run cargo build for the plugins");
    assert!(status.success(), "building the Wasm plugins failed");
    // Rebuild when any source a plugin was built from changes.
    let out = target_dir.join(TARGET).join("release");
    for p in plugins {
        let dep_file = out.join(format!("{}.d", p.package.replace('-', "_")));
        if let Ok(text) = std::fs::read_to_string(&dep_file) {
            for path in text.split_whitespace().skip(1) {
                let path = path.trim_end_matches(':');
                if Path::new(path).exists() {
                    println!("cargo:rerun-if-changed={path}");
                }
            }
        }
    }
}

fn write_gen(out: &Path, plugins: &[PluginCrate]) {
    let mut code = String::new();
    let mut hostile = Vec::new();
    for p in plugins {
        let file = p.package.replace('-', "_");
        let constant = file.to_uppercase();
        let path = out.join(format!("{file}.wasm"));
        writeln!(
            code,
            "/// The built component of `{}`.\npub const {constant}: &str = {:?};",
            p.package,
            path.display().to_string()
        )
        .unwrap();
        if let Some(name) = file.strip_prefix("hostile_") {
            hostile.push(name.to_owned());
        }
    }
    writeln!(code, "/// Every plugin: (package name, component path).").unwrap();
    writeln!(code, "pub const ALL: &[(&str, &str)] = &[").unwrap();
    for p in plugins {
        let constant = p.package.replace('-', "_").to_uppercase();
        writeln!(code, "    ({:?}, {constant}),", p.package).unwrap();
    }
    writeln!(code, "];").unwrap();
    writeln!(
        code,
        "/// Calls `$mac!(name)` for each hostile plugin, e.g. to make an untested one a compile error.\n#[macro_export]\nmacro_rules! foreach_hostile {{\n    ($mac:ident) => {{"
    )
    .unwrap();
    for name in &hostile {
        writeln!(code, "        $mac!({name});").unwrap();
    }
    writeln!(code, "    }};\n}}").unwrap();
    let dest = PathBuf::from(env::var("OUT_DIR").expect("set by cargo")).join("gen.rs");
    std::fs::write(dest, code).expect("write gen.rs");
}

//! Replays every input in `fuzz/regressions/<target>/` through the check
//! its fuzz target runs (`fuzz/checks.rs`, shared), plus the real Betfair
//! files and the example settings as seeds, so a crash once found and
//! fixed stays fixed, in every `cargo test`.

#[path = "../../../fuzz/checks.rs"]
mod checks;

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The regression inputs of `target` (none yet is fine).
fn regressions(target: &str) -> Vec<Vec<u8>> {
    let dir = root().join("fuzz/regressions").join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    files.sort();
    files.iter().map(|f| read(f)).collect()
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn betfair_files() -> Vec<PathBuf> {
    let dir = crate::backtest::betfair_data();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn betfair_stream() {
    for input in regressions("betfair_stream") {
        checks::betfair_stream(&input);
    }
    for file in betfair_files() {
        checks::betfair_stream(&read(&file));
    }
}

#[test]
fn packed_update() {
    for input in regressions("packed_update") {
        checks::packed_update(&input);
    }
}

#[test]
fn component() {
    let runtime = checks::publish_runtime();
    for input in regressions("component") {
        checks::component(&runtime, &input);
    }
    checks::component(
        &runtime,
        &read(Path::new(clever_plugin_artifacts::FIXTURE_READER)),
    );
}

#[test]
fn api_body() {
    for input in regressions("api_body") {
        checks::api_body(&input);
    }
    checks::api_body(br#"{"version":"1.2.3","alongside":true}"#);
}

#[test]
fn toml_config() {
    for input in regressions("toml_config") {
        checks::toml_config(&input);
    }
    for name in ["risk.toml", "simulation.toml", "sandbox.toml"] {
        checks::toml_config(&read(&root().join("examples").join(name)));
    }
}

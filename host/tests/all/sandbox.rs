//! The sandbox gives a plugin nothing of the machine: no environment,
//! arguments, files or network; its clock is the host's and its randomness
//! is seeded, so two runs see the same values.

use clever_host::runtime::{Limits, RecordingServices, Runtime, RuntimeConfig};
use clever_plugin_artifacts as artifacts;

use crate::support;

fn probe(seed: u64) -> Vec<(String, f64)> {
    let cache = tempfile::tempdir().unwrap();
    let runtime = Runtime::new(RuntimeConfig {
        limits: Limits::default(),
        cache_dir: Some(cache.path().to_owned()),
        seed,
        ladder_depth: 3,
        deadline: false,
    })
    .unwrap();
    let plugin = runtime
        .load_file(std::path::Path::new(artifacts::FIXTURE_SANDBOX_PROBE))
        .unwrap();
    let services = RecordingServices::new();
    runtime
        .instantiate(&plugin, "{}", support::OFF, Box::new(services.clone()))
        .unwrap();
    let signals = services.recorded().signals.clone();
    signals.into_iter().map(|s| (s.name, s.value)).collect()
}

fn value(signals: &[(String, f64)], name: &str) -> f64 {
    signals
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| *v)
        .unwrap_or_else(|| panic!("no signal {name}"))
}

#[test]
fn no_environment_files_or_network() {
    let s = probe(1);
    assert_eq!(value(&s, "env_vars"), 0.0);
    assert_eq!(value(&s, "args"), 0.0);
    assert_eq!(
        value(&s, "fs_root_entries"),
        -1.0,
        "no directory is reachable"
    );
    assert_eq!(value(&s, "file_read"), 0.0);
    assert_eq!(value(&s, "tcp_connect"), 0.0);
}

#[test]
fn clock_is_the_hosts_and_randomness_is_seeded() {
    let a = probe(1);
    assert_eq!(value(&a, "wall_clock_ms"), support::OFF.0 as f64);
    let b = probe(1);
    assert_eq!(
        value(&a, "random"),
        value(&b, "random"),
        "same seed, same randomness"
    );
    let c = probe(2);
    assert_ne!(
        value(&a, "random"),
        value(&c, "random"),
        "another seed, other randomness"
    );
}

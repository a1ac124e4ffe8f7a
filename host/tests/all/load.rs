//! Loading components: descriptors, the compile cache, and refusals of
//! things that are not (compatible) strategies.

use std::path::Path;

use clever_host::runtime::{CompileSource, Runtime, RuntimeConfig, RuntimeError};
use clever_plugin_artifacts as artifacts;

use crate::support;

#[test]
fn every_plugin_describes_itself() {
    let rt = support::runtime();
    for (package, path) in artifacts::ALL {
        if *package == "fixture-wit-v2" {
            continue;
        }
        let plugin = rt.load(path);
        let d = plugin.descriptor();
        // The two counter crates are two versions of one strategy, named
        // `counter` with `export_strategy!(.., name = "counter")`.
        let (name, version) = match *package {
            "fixture-counter" => ("counter", "1.0.0"),
            "fixture-counter-next" => ("counter", "1.1.0"),
            other => (other, "1.0.0"),
        };
        assert_eq!((d.name.as_str(), d.version.as_str()), (name, version));
        assert_eq!(d.sdk_version, env!("CARGO_PKG_VERSION"));
        assert_eq!(plugin.wit_version(), "1.0.0");
        assert_eq!(plugin.sha256().len(), 64);
    }
    let fav = rt.load(artifacts::BACK_FAV_PREOFF);
    assert!(
        !fav.descriptor().markets.in_play,
        "back-fav-preoff wants pre-off only"
    );
}

#[test]
fn second_load_comes_from_the_cache() {
    let cache = tempfile::tempdir().unwrap();
    let config = RuntimeConfig {
        cache_dir: Some(cache.path().to_owned()),
        ..RuntimeConfig::default()
    };
    let first = Runtime::new(config.clone()).unwrap();
    let p = first
        .load_file(Path::new(artifacts::FIXTURE_READER))
        .unwrap();
    assert_eq!(p.compile_source(), CompileSource::Compiled);
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 1);
    // A new runtime (a new process, as far as the cache can tell).
    let second = Runtime::new(config).unwrap();
    let p = second
        .load_file(Path::new(artifacts::FIXTURE_READER))
        .unwrap();
    assert_eq!(p.compile_source(), CompileSource::Cache);
    // And the cached component runs.
    let mut instance = second
        .instantiate(
            &p,
            "{}",
            clever_sdk::Timestamp(0),
            Box::new(clever_host::runtime::InertServices),
        )
        .unwrap();
    let mut feed = support::market(8);
    let (market, _) = feed.step();
    instance.on_market(1, market, None).unwrap();
}

#[test]
fn a_damaged_cache_entry_is_recompiled() {
    let rt = support::runtime_with(Default::default());
    rt.load(artifacts::FIXTURE_READER);
    let dir = rt.cache.as_ref().expect("own cache").path();
    for entry in std::fs::read_dir(dir).unwrap() {
        std::fs::write(entry.unwrap().path(), b"garbage").unwrap();
    }
    let p = rt.load(artifacts::FIXTURE_READER);
    assert_eq!(p.compile_source(), CompileSource::Compiled);
}

#[test]
fn refuses_what_is_not_a_strategy() {
    let rt = support::runtime();
    let err = rt.runtime.load_bytes(b"definitely not wasm").err().unwrap();
    assert!(matches!(err, RuntimeError::Invalid(_)), "{err}");
    // An empty core module: valid Wasm, not a component.
    let err = rt.runtime.load_bytes(b"\0asm\x01\0\0\0").err().unwrap();
    assert!(matches!(err, RuntimeError::Invalid(_)), "{err}");
    // An empty component: no hooks exported.
    let err = rt.runtime.load_bytes(b"\0asm\x0d\0\x01\0").err().unwrap();
    assert!(matches!(err, RuntimeError::NotAStrategy(_)), "{err}");
    assert!(err.to_string().contains("clever:strategy/hooks"));
}

#[test]
fn refuses_an_incompatible_wit_major() {
    let rt = support::runtime();
    let err = rt
        .runtime
        .load_file(Path::new(artifacts::FIXTURE_WIT_V2))
        .err()
        .unwrap();
    match err {
        RuntimeError::IncompatibleWit { found, supported } => {
            assert_eq!(found, "2.0.0");
            assert_eq!(supported, "1.0.0");
        }
        other => panic!("expected IncompatibleWit, got {other}"),
    }
}

#[test]
fn a_missing_file_names_the_path() {
    let rt = support::runtime();
    let err = rt
        .runtime
        .load_file(Path::new("/no/such/plugin.wasm"))
        .err()
        .unwrap();
    assert!(err.to_string().contains("/no/such/plugin.wasm"), "{err}");
}

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
            "fixture-wit-1-0" => ("wit-one-oh", "1.0.0"),
            other => (other, "1.0.0"),
        };
        assert_eq!((d.name.as_str(), d.version.as_str()), (name, version));
        // The SDK builds against 1.3; one fixture is built against the frozen 1.0.
        let (sdk, wit) = match *package {
            "fixture-wit-1-0" => ("none", "1.0.0"),
            _ => (env!("CARGO_PKG_VERSION"), "1.3.0"),
        };
        assert_eq!((d.sdk_version.as_str(), plugin.wit_version()), (sdk, wit));
        let trades = match *package {
            "perp-breakout" => Some(3),
            "fixture-book-rester" => Some(1),
            _ => None,
        };
        assert_eq!(
            plugin.instruments().map(|f| f.instruments.len()),
            trades,
            "{package}"
        );
        assert_eq!(plugin.sha256().len(), 64);
        // The examples that declare their parameters (WIT 1.3); the rest,
        // and every component of an older WIT, say nothing.
        let declared = (plugin.parameters()).map(|list| list.len());
        let wanted = match *package {
            "lay-low-inplay" => Some(3),
            "back-fav-preoff" => Some(2),
            "perp-breakout" => Some(5),
            "value-kelly" => Some(6),
            "steam-chaser" => Some(3),
            _ => None,
        };
        assert_eq!(declared, wanted, "{package}");
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
    assert_eq!(kept(cache.path(), "cwasm").len(), 1);
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
    // What a component declared is kept with it: its parameters (WIT 1.3)
    // come from the cache as they came from the component.
    let asked = first
        .load_file(Path::new(artifacts::LAY_LOW_INPLAY))
        .unwrap();
    let kept = second
        .load_file(Path::new(artifacts::LAY_LOW_INPLAY))
        .unwrap();
    assert_eq!(kept.compile_source(), CompileSource::Cache);
    assert_eq!(asked.parameters().map(<[_]>::len), Some(3));
    assert_eq!(kept.parameters(), asked.parameters());
}

#[test]
fn a_damaged_cache_entry_is_recompiled() {
    let rt = support::runtime_with(Default::default());
    rt.load(artifacts::FIXTURE_READER);
    let dir = rt.cache.as_ref().expect("own cache").path();
    // Every file, the plugin file's stamp among them if it was kept.
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            for stamp in std::fs::read_dir(&path).unwrap() {
                std::fs::write(stamp.unwrap().path(), b"garbage").unwrap();
            }
        } else {
            std::fs::write(path, b"garbage").unwrap();
        }
    }
    // A new runtime: the first keeps what it loaded at hand.
    let config = RuntimeConfig {
        cache_dir: Some(dir.to_owned()),
        ..RuntimeConfig::default()
    };
    let second = Runtime::new(config).unwrap();
    let p = second
        .load_file(Path::new(artifacts::FIXTURE_READER))
        .unwrap();
    assert_eq!(p.compile_source(), CompileSource::Compiled);
    assert!(second.load_cached(p.sha256()).unwrap().is_some());
}

#[test]
fn an_untouched_plugin_file_is_loaded_by_its_stamp_and_a_rewritten_one_hashed_again() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = dir.path().join("plugin.wasm");
    std::fs::copy(artifacts::FIXTURE_READER, &plugin).unwrap();
    // Only a file whose times are three seconds old is remembered.
    std::thread::sleep(std::time::Duration::from_millis(3_100));
    let config = RuntimeConfig {
        cache_dir: Some(dir.path().join("cache")),
        ..RuntimeConfig::default()
    };
    let first = Runtime::new(config.clone()).unwrap();
    let first = first.load_file(&plugin).unwrap();
    let stamps = dir.path().join("cache").join("stamps");
    let [stamp]: [std::path::PathBuf; 1] = (std::fs::read_dir(&stamps).unwrap())
        .map(|e| e.unwrap().path())
        .collect::<Vec<_>>()
        .try_into()
        .unwrap();
    // A second runtime takes the hash from the stamp, not from the file:
    // made to name a hash the cache does not hold (no load writes that),
    // the stamp leaves the file to be compiled.
    let text = std::fs::read_to_string(&stamp).unwrap();
    std::fs::write(&stamp, text.replace(first.sha256(), &"0".repeat(64))).unwrap();
    let second = Runtime::new(config.clone()).unwrap();
    assert!(second.load_file_cached(&plugin).unwrap().is_none());
    // Written again, the same bytes: a new change time, so hashed again,
    // and found compiled.
    std::fs::write(&plugin, std::fs::read(&plugin).unwrap()).unwrap();
    let third = Runtime::new(config).unwrap();
    let again = third.load_file_cached(&plugin).unwrap().expect("compiled");
    assert_eq!(again.sha256(), first.sha256());
}

#[test]
fn a_published_component_loads_by_its_hash_from_the_cache_alone() {
    let cache = tempfile::tempdir().unwrap();
    let config = RuntimeConfig {
        cache_dir: Some(cache.path().to_owned()),
        ..RuntimeConfig::default()
    };
    let bytes = std::fs::read(artifacts::FIXTURE_READER).unwrap();
    let publisher = Runtime::new(config.clone()).unwrap();
    let sha256 = publisher.load_bytes(&bytes).unwrap().sha256().to_owned();
    assert_eq!(
        publisher.precompile(&bytes).unwrap(),
        [CompileSource::Cache, CompileSource::Compiled],
        "publishing compiles for the engine with the deadline too"
    );
    assert_eq!(kept(cache.path(), "cwasm").len(), 2);
    // A serving host (deadline on) and a backtest (off), in other processes.
    for deadline in [true, false] {
        let host = Runtime::new(RuntimeConfig {
            deadline,
            ..config.clone()
        })
        .unwrap();
        let p = host.load_cached(&sha256).unwrap().expect("in the cache");
        assert_eq!(p.compile_source(), CompileSource::Cache);
        assert_eq!(p.descriptor().name, "fixture-reader");
    }
    let unknown = "0".repeat(64);
    assert!(publisher.load_cached(&unknown).unwrap().is_none());
}

/// The files in a cache directory with extension `ext`.
fn kept(dir: &Path, ext: &str) -> Vec<std::path::PathBuf> {
    let entries = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path());
    entries
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect()
}

#[test]
fn a_cached_load_takes_what_the_component_declared_under_the_same_limits() {
    let cache = tempfile::tempdir().unwrap();
    let config = RuntimeConfig {
        cache_dir: Some(cache.path().to_owned()),
        ..RuntimeConfig::default()
    };
    // A 1.1 plugin that trades instruments: both of its answers are kept.
    let path = Path::new(artifacts::PERP_BREAKOUT);
    let load = |config: &RuntimeConfig| Runtime::new(config.clone()).unwrap().load_file(path);
    let first = load(&config).unwrap();
    assert_eq!(first.instruments().map(|f| f.instruments.len()), Some(3));
    let [file] = kept(cache.path(), "described").try_into().unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let rename = |name: &str| {
        let renamed = text.replace("\"perp-breakout\"", &format!("\"{name}\""));
        assert_ne!(renamed, text);
        std::fs::write(&file, renamed).unwrap();
    };
    // A new runtime (a new process, as far as the cache can tell) reports
    // the kept name: it ran no `describe` of its own.
    rename("kept-by-the-cache");
    let second = load(&config).unwrap();
    assert_eq!(second.compile_source(), CompileSource::Cache);
    assert_eq!(second.descriptor().name, "kept-by-the-cache");
    assert_eq!(second.instruments(), first.instruments());
    // What is read back is checked as `describe`'s answer is.
    rename("Not A Name");
    let refused = load(&config).err().expect("a bad kept name is refused");
    assert!(
        matches!(refused, RuntimeError::BadDescriptor(_)),
        "{refused}"
    );
    // Other limits or another seed could change what the hooks return
    // (or whether they finish): the component is asked again.
    rename("kept-by-the-cache");
    let mut limits = config.limits.clone();
    limits.fuel_per_init -= 1;
    let other_limits = load(&RuntimeConfig {
        limits,
        ..config.clone()
    })
    .unwrap();
    assert_eq!(other_limits.descriptor(), first.descriptor());
    rename("kept-by-the-cache");
    let other_seed = load(&RuntimeConfig {
        seed: 7,
        ..config.clone()
    })
    .unwrap();
    assert_eq!(other_seed.descriptor(), first.descriptor());
    assert_eq!(other_seed.instruments(), first.instruments());
    // A damaged file is no entry: described afresh, and kept again.
    std::fs::write(&file, b"garbage").unwrap();
    let damaged = load(&config).unwrap();
    assert_eq!(damaged.descriptor(), first.descriptor());
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("perp-breakout")
    );
    // Every write went through a temporary file of its own, renamed whole
    // (beside the two, a directory of the plugin files' stamps may lie).
    let files = |dir: &Path| {
        let entries = std::fs::read_dir(dir).into_iter().flatten();
        let names = entries.map(|e| e.unwrap().path());
        names.filter(|p| p.is_file()).collect::<Vec<_>>()
    };
    let whole = kept(cache.path(), "cwasm").len() + kept(cache.path(), "described").len();
    assert_eq!((files(cache.path()).len(), whole), (2, 2));
    let stamps = files(&cache.path().join("stamps"));
    assert!(stamps.len() <= 1, "{stamps:?}");
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
            assert_eq!(supported, "1.3.0");
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

/// A component built against the frozen `clever:strategy@1.0.0` (no SDK,
/// wit-bindgen alone) loads on the 1.1 host and runs as it did: every
/// update delivered (on-market and the on-runner fast path), its order
/// placed through the 1.0 import, its key-value state and timers kept, and
/// no book hook called (it has none).
#[test]
fn a_plugin_built_against_wit_1_0_loads_and_runs_on_the_1_1_host() {
    let rt = support::runtime();
    let plugin = rt.load(artifacts::FIXTURE_WIT_1_0);
    assert_eq!(plugin.wit_version(), "1.0.0");
    assert!(plugin.instruments().is_none());
    let (mut instance, services) = rt.start(artifacts::FIXTURE_WIT_1_0, "{}");
    assert!(!instance.trades_books());
    let mut market = support::market(3);
    services.set_market(market.market());
    instance.set_time(market.market().publish_time);
    instance.on_market(1, market.market(), None).unwrap();
    let mut calls = 1;
    for _ in 0..200 {
        let (now, changed) = market.step();
        let (now, changed) = (now.clone(), changed.to_vec());
        services.set_market(&now);
        instance.set_time(now.publish_time);
        instance.on_market(1, &now, Some(&changed)).unwrap();
        calls += 1;
    }
    let book = clever_sdk::harness_book::book("ETH", 0, (3500.0, 3500.1));
    instance.on_book(&book).unwrap();
    let snapshot = instance.snapshot().unwrap();
    assert_eq!(u64::from_le_bytes(snapshot[..8].try_into().unwrap()), calls);
    let recorded = services.recorded();
    assert_eq!(recorded.orders.len(), 1, "one order per market");
    let order = &recorded.orders[0].request;
    assert_eq!(
        (order.market_id.as_str(), order.price.get(), order.size),
        ("1.1", 1000.0, 2.0)
    );
    assert_eq!(order.selection_id, market.market().runners[0].selection_id);
    assert_eq!(recorded.timers.len(), 1, "its timer is pending");
    assert_eq!(
        instance.stats().calls,
        calls + 2,
        "init, the updates and the snapshot; no book call"
    );
}

/// A 1.1 strategy receives books and candles through the runtime and
/// places book orders that the services check against the instrument.
#[test]
fn a_1_1_plugin_trades_an_order_book_through_the_runtime() {
    use clever_sdk::InstrumentInfo;
    let rt = support::runtime();
    let (mut instance, services) = rt.start(artifacts::PERP_BREAKOUT, r#"{"lookback": 3}"#);
    assert!(instance.trades_books());
    services
        .recorded()
        .books()
        .rules
        .insert("ETH".into(), InstrumentInfo::hyperliquid_perp("ETH", 4, 25));
    let candle = |minute: i64, high: f64, low: f64, close: f64| {
        clever_sdk::harness_book::candle_1m("ETH", minute, (high, low, close))
    };
    for minute in 0..3 {
        let book = clever_sdk::harness_book::book("ETH", minute * 60_000, (3499.9, 3500.0));
        instance.on_book(&book).unwrap();
        instance
            .on_candle(&candle(minute, 3510.0, 3490.0, 3500.0))
            .unwrap();
    }
    instance
        .on_book(&clever_sdk::harness_book::book(
            "ETH",
            180_000,
            (3519.9, 3520.0),
        ))
        .unwrap();
    instance
        .on_candle(&candle(3, 3521.0, 3505.0, 3520.5))
        .unwrap();
    let mut recorded = services.recorded();
    let books = recorded.books();
    let orders = &books.orders;
    assert_eq!(orders.len(), 1, "{:?}", books.rejections);
    assert_eq!(
        (orders[0].request.price, orders[0].request.size),
        (3523.6, 0.6666)
    );
}

//! What each fuzz target checks, shared with the regression test that
//! replays `fuzz/regressions/` in `cargo test`
//! (`host/tests/all/fuzz_regressions.rs`). Every reader of outside input
//! must answer bad bytes with an error, never a panic, a hang or an
//! unbounded allocation; where a round trip exists, it must hold.

use std::io::Write as _;

use clever_host::betfair::BetfairFileSource;
use clever_host::engine::MarketSource;
use clever_host::runtime::{Runtime, RuntimeConfig};
use clever_sdk::wire::{self, MarketCache, Runners};

/// Betfair stream files (plain, gzip, bzip2) through the line parser and
/// the market cache, as a backtest reads them; every market view the
/// cache produces also goes through the packed codec and back unchanged.
pub fn betfair_stream(data: &[u8]) {
    let Ok(mut file) = tempfile::NamedTempFile::new() else {
        return;
    };
    if file.write_all(data).is_err() {
        return;
    }
    let Ok(mut source) = BetfairFileSource::open(file.path()) else {
        return;
    };
    let mut buf = Vec::new();
    let mut decoded = MarketCache::new();
    while let Some(next) = source.next_update() {
        let Ok(book) = next else { continue };
        buf.clear();
        wire::encode(&mut buf, 1, &book.view, 10, Runners::All);
        let back = decoded.apply(&buf).expect("an encoded market decodes");
        assert_eq!(back.id, book.view.id);
        assert_eq!(back.runners.len(), book.view.runners.len());
    }
    let _ = source.unfinished();
}

/// The packed update codec (what the SDK decodes inside a plugin) on
/// arbitrary bytes: an error or a market, never a panic.
pub fn packed_update(data: &[u8]) {
    let mut cache = MarketCache::new();
    // Several updates in one input: a full image may be followed by deltas.
    for chunk in data.split(|b| *b == 0xff).take(16) {
        let _ = cache.apply(chunk);
    }
}

/// The runtime every `component` call shares: defaults, no compile cache
/// (inputs are new bytes every time).
pub fn publish_runtime() -> Runtime {
    Runtime::new(RuntimeConfig {
        cache_dir: None,
        ..RuntimeConfig::default()
    })
    .expect("a runtime with the default configuration")
}

/// Component validation on publish (`clever plugin publish`, `POST
/// /plugins`): any bytes load or are refused with a reason.
pub fn component(runtime: &Runtime, data: &[u8]) {
    if let Err(e) = runtime.load_bytes(data) {
        assert!(!e.to_string().is_empty());
    }
}

/// The API's request bodies: `POST /plugins/{name}/activate`.
pub fn api_body(data: &[u8]) {
    if let Ok(body) = clever_host::serve::api::ActivateBody::parse(data) {
        assert!(!body.version.is_empty());
    }
}

/// The TOML settings files: sandbox limits, risk limits, the simulated
/// exchange.
pub fn toml_config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = clever_host::runtime::Limits::from_toml_str(text);
    let _ = clever_host::risk::RiskLimits::from_toml_str(text);
    let _ = clever_host::sim::SimConfig::from_toml_str(text);
}

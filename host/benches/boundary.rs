//! The cost of delivering one market update across the Wasm boundary to a
//! plugin that reads every runner's best back and lay (14 runners, 3
//! levels a side), against the same logic as a native Rust call.
//!
//! Run: `cargo bench -p clever-host --bench boundary`
//! Medians: `python3 scripts/bench-medians.py update`

use std::hint::black_box;

use clever_host::market::synthetic::SyntheticMarket;
use clever_host::runtime::{InertServices, Runtime, RuntimeConfig};
use clever_sdk::wire::{self, MarketCache, Runners};
use clever_sdk::{Market, Timestamp};
use criterion::{Criterion, criterion_group, criterion_main};

// Few enough states to stay in cache, so the benchmark measures the call,
// not memory; enough that branch predictors cannot learn one update.
const STATES: usize = 16;

/// Pre-generated market states and the runner each update changed.
fn states() -> Vec<(Market, [usize; 1])> {
    let mut feed = SyntheticMarket::new("1.1", 3, 14, 3, Timestamp(1_700_000_000_000));
    (0..STATES)
        .map(|_| {
            let (m, c) = feed.step();
            (m.clone(), [c[0]])
        })
        .collect()
}

fn boundary(c: &mut Criterion) {
    let states = states();
    let cache = std::env::temp_dir().join("clever-bench-cache");
    let runtime = Runtime::new(RuntimeConfig {
        cache_dir: Some(cache),
        ..RuntimeConfig::default()
    })
    .expect("runtime");
    let plugin = runtime
        .load_file(std::path::Path::new(
            clever_plugin_artifacts::FIXTURE_READER,
        ))
        .expect("load reader");
    let mut reader = runtime
        .instantiate(&plugin, "{}", Timestamp(0), Box::new(InertServices))
        .expect("start reader");

    let mut group = c.benchmark_group("update");
    let mut i = 0;
    group.bench_function("wasm_delta", |b| {
        b.iter(|| {
            let (m, changed) = &states[i % STATES];
            i += 1;
            reader.on_market(1, m, Some(changed)).expect("on_market");
        })
    });
    // The floor: a hook with one scalar argument that does nothing.
    group.bench_function("wasm_bare_call", |b| {
        b.iter(|| reader.on_timer(black_box(0)).expect("on_timer"))
    });
    // The same one-runner delta forced onto the packed list path (the
    // runner listed twice), to compare with the scalar fast path above.
    group.bench_function("wasm_delta_list_path", |b| {
        b.iter(|| {
            let (m, changed) = &states[i % STATES];
            i += 1;
            reader
                .on_market(1, m, Some(&[changed[0], changed[0]]))
                .expect("on_market");
        })
    });
    // No runner changed: what the boundary itself costs.
    group.bench_function("wasm_empty_delta", |b| {
        b.iter(|| {
            let (m, _) = &states[i % STATES];
            i += 1;
            reader.on_market(1, m, Some(&[])).expect("on_market");
        })
    });
    group.bench_function("wasm_full_image", |b| {
        b.iter(|| {
            let (m, _) = &states[i % STATES];
            i += 1;
            reader.on_market(2, m, None).expect("on_market");
        })
    });
    // The same logic called natively on the host's market: the floor.
    let mut sum = 0.0;
    group.bench_function("native_call", |b| {
        b.iter(|| {
            let (m, _) = &states[i % STATES];
            i += 1;
            sum += fixture_reader::read_market(black_box(m));
        })
    });
    // Natively, but paying the same encode/decode as the Wasm path.
    let mut view = MarketCache::new();
    let mut buf = Vec::with_capacity(4096);
    buf.clear();
    wire::encode(&mut buf, 1, &states[0].0, 3, Runners::All);
    view.apply(&buf).expect("full image");
    group.bench_function("native_with_codec", |b| {
        b.iter(|| {
            let (m, changed) = &states[i % STATES];
            i += 1;
            buf.clear();
            wire::encode(&mut buf, 1, m, 3, Runners::Changed(changed));
            let market = view.apply(black_box(&buf)).expect("delta");
            sum += fixture_reader::read_market(market);
        })
    });
    group.finish();
    black_box(sum);
}

criterion_group!(benches, boundary);
criterion_main!(benches);

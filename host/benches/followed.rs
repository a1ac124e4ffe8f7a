//! What the dashboard's view of the markets costs the serving loop: one
//! `Followed::saw` per market update (issue 18), on an open 10-runner
//! market with three levels a side, its prices moving between calls so
//! no copy is skipped. Compare with the host's whole cost per update in
//! docs/BENCHMARKS.md ("markets open at once": 15 to 28 µs).
//!
//! Run: `cargo bench -p clever-host --bench followed`

use std::hint::black_box;

use clever_sdk::{Levels, Market, MarketStatus, Price, PriceSize, Runner, Timestamp};
use clever_serve::followed::Followed;
use criterion::{Criterion, criterion_group, criterion_main};

fn market(id: &str, tick: u32) -> Market {
    let mut m = Market::new(id);
    m.status = MarketStatus::Open;
    m.country = Some("GB".into());
    m.start_time = Timestamp(1_767_268_800_000);
    m.publish_time = Timestamp(1_767_268_000_000 + i64::from(tick));
    m.runners = (0..10u64)
        .map(|i| {
            let base = 2.0 + i as f64 + f64::from(tick % 7) * 0.02;
            let side = |sign: f64| {
                let levels: Vec<PriceSize> = (0..3)
                    .map(|k| PriceSize {
                        price: Price(base + sign * 0.02 * k as f64),
                        size: 100.0 + k as f64,
                    })
                    .collect();
                Levels::from_slice(&levels)
            };
            let mut r = Runner::new(1000 + i);
            r.back = side(-1.0);
            r.lay = side(1.0);
            r.last_traded = Some(Price(base));
            r
        })
        .collect();
    m
}

fn saw(c: &mut Criterion) {
    // Forty markets followed, as a host following a racing day might.
    let mut followed = Followed::default();
    for i in 0..40 {
        followed.saw(&market(&format!("1.{i}"), 0));
    }
    let updates: Vec<Market> = (0..64).map(|t| market("1.7", t)).collect();
    let mut next = 0;
    c.bench_function("followed_saw_10_runners", |b| {
        b.iter(|| {
            next = (next + 1) % updates.len();
            followed.saw(black_box(&updates[next]));
        })
    });
}

criterion_group!(benches, saw);
criterion_main!(benches);

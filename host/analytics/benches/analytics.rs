//! What the analytics cost beside the backtest they follow: the metrics
//! of a run's settled markets, and a Monte Carlo resampling of them.
//!
//! Run: `cargo bench -p clever-analytics --bench analytics`.

use clever_analytics::{Bankroll, MarketPoint, Metrics, MonteCarlo};
use clever_market::Money;
use criterion::{Criterion, criterion_group, criterion_main};

/// `n` markets a quarter of an hour apart, wins and losses mixed.
fn points(n: i64) -> Vec<MarketPoint> {
    (0..n)
        .map(|i| MarketPoint {
            at: 1_767_225_600_000 + i * 900_000,
            matched: Money::from_pennies(200 + i % 7 * 100),
            commission: Money::from_pennies(i % 3),
            profit: Money::from_pennies((i * 7919 % 1000) - 480),
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let bankroll = Bankroll::new(Money::from_pennies(100_000)).expect("a bankroll");
    for n in [1_000, 100_000] {
        let pts = points(n);
        c.bench_function(&format!("metrics of {n} markets"), |b| {
            b.iter(|| Metrics::of(std::hint::black_box(&pts), bankroll))
        });
    }
    let pts = points(1_000);
    let mc = MonteCarlo {
        samples: 1_000,
        seed: 1,
        ruin: 0.5,
    };
    c.bench_function("monte carlo, 1000 samples of 1000 markets", |b| {
        b.iter(|| mc.run(std::hint::black_box(&pts), bankroll))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);

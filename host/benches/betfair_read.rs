//! Reading a Betfair PRO file into the market cache: the floor under any
//! backtest of it. `1-206064380.bz2` is 18,793 updates of a 13-runner race.
//!
//! Run: `cargo bench -p clever-host --bench betfair_read`
//! Medians: `python3 scripts/bench-medians.py read`
//! Compare: `hyperfine 'bzcat ../shared/data/betfair/1-206064380.bz2 > /dev/null'`

use std::path::PathBuf;

use clever_host::betfair::{BetfairFileSource, StreamCache, StreamFile};
use clever_host::engine::MarketSource;
use criterion::{Criterion, criterion_group, criterion_main};

/// As a backtest reads: one message reused from line to line.
fn read(path: &std::path::Path) -> usize {
    let mut source = BetfairFileSource::open(path).expect("open");
    let mut updates = 0;
    while let Some(update) = source.next_update() {
        update.expect("valid line");
        updates += 1;
    }
    updates
}

/// A new message for every line (how ingestion reads, to keep the text).
fn read_owned(path: &std::path::Path) -> usize {
    let mut cache = StreamCache::new();
    let mut updates = 0;
    for record in StreamFile::open(path).expect("open") {
        let msg = record.expect("valid line").message;
        for mc in &msg.mc {
            cache.apply(msg.pt, mc);
            updates += 1;
        }
    }
    updates
}

fn betfair_read(c: &mut Criterion) {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/betfair");
    let bz2 = data.join("1-206064380.bz2");
    // The decompressed copy lives in the build's temp dir, never in the repository.
    let plain = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("1-206064380");
    if !plain.exists() {
        let mut out = Vec::new();
        std::io::copy(
            &mut bzip2::read::MultiBzDecoder::new(std::fs::File::open(&bz2).expect("bz2")),
            &mut out,
        )
        .expect("decompress");
        std::fs::write(&plain, out).expect("write");
    }
    let mut group = c.benchmark_group("read");
    group.sample_size(20);
    group.bench_function("pro_file_bz2", |b| b.iter(|| read(&bz2)));
    group.bench_function("pro_file_plain", |b| b.iter(|| read(&plain)));
    group.bench_function("pro_file_plain_owned", |b| b.iter(|| read_owned(&plain)));
    group.finish();
}

criterion_group!(benches, betfair_read);
criterion_main!(benches);

//! `clever gen`: generated markets are valid Betfair stream files that our
//! reader and cache accept, plausible at every step, and byte-identical
//! for the same seed.

use std::collections::BTreeMap;
use std::path::Path;

use clever_host::betfair::generate::{GenConfig, generate};
use clever_host::betfair::{StreamCache, StreamFile};
use clever_sdk::{MarketStatus, RunnerStatus};

fn contents(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

#[test]
fn same_seed_same_bytes_other_seed_other_markets() {
    let config = GenConfig {
        markets: 4,
        seed: 9,
        ..GenConfig::default()
    };
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    generate(&config, a.path()).unwrap();
    generate(&config, b.path()).unwrap();
    generate(&GenConfig { seed: 10, ..config }, c.path()).unwrap();
    assert_eq!(contents(a.path()), contents(b.path()));
    assert_eq!(contents(a.path()).len(), 4);
    assert_ne!(
        contents(a.path()).values().next(),
        contents(c.path()).values().next()
    );
}

#[test]
fn generated_markets_are_plausible_at_every_update() {
    let dir = tempfile::tempdir().unwrap();
    let paths = generate(
        &GenConfig {
            markets: 40,
            seed: 3,
            ..GenConfig::default()
        },
        dir.path(),
    )
    .unwrap();
    let mut removals = 0;
    for path in paths {
        let mut cache = StreamCache::new();
        let mut statuses = Vec::new();
        let mut id = String::new();
        for record in StreamFile::open(&path).unwrap() {
            let msg = record.unwrap_or_else(|e| panic!("{e}")).message;
            for mc in &msg.mc {
                id = mc.id.clone();
                let market = cache.apply(msg.pt, mc);
                let book = &market.book;
                let v = &book.view;
                let state = (v.status, v.in_play);
                if statuses.last() != Some(&state) {
                    statuses.push(state);
                }
                for r in v.active_runners() {
                    // At 1000 nothing can be offered above; at 1.01 nothing below.
                    assert!(
                        r.best_back().is_some() || r.best_lay().is_some(),
                        "{path:?}"
                    );
                    for l in r.back.as_slice().iter().chain(r.lay.as_slice()) {
                        assert!(l.price.is_on_ladder() && l.size > 0.0, "{path:?}");
                    }
                    if let (Some(back), Some(lay)) = (r.best_back(), r.best_lay()) {
                        assert!(
                            lay.price.get() > back.price.get(),
                            "{path:?}: lay below back"
                        );
                    }
                }
            }
        }
        assert_eq!(
            statuses,
            vec![
                (MarketStatus::Open, false),
                (MarketStatus::Suspended, false),
                (MarketStatus::Open, true),
                (MarketStatus::Suspended, true),
                (MarketStatus::Closed, true),
            ],
            "{path:?}"
        );
        let book = &cache.get(&id).unwrap().book;
        let winners: Vec<_> = book
            .view
            .runners
            .iter()
            .filter(|r| r.status == RunnerStatus::Winner)
            .collect();
        assert_eq!(winners.len(), 1, "{path:?}");
        assert!(winners[0].bsp.is_some());
        for r in book
            .view
            .runners
            .iter()
            .filter(|r| r.status == RunnerStatus::Removed)
        {
            removals += 1;
            assert!(r.adjustment_factor > 0.0);
            assert!(r.bsp.is_none());
            assert!(
                r.back.is_empty() && r.lay.is_empty(),
                "a non-runner's offers are cleared"
            );
        }
    }
    assert!(removals > 0, "40 markets include a non-runner");
}

#[test]
fn the_command_writes_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_clever"))
        .args(["gen", "--markets", "3", "--seed", "5", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(contents(dir.path()).len(), 3);
}

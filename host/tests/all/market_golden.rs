//! The Betfair reader and market cache against real files in
//! `../shared/data/betfair/`: a golden test against betfairlightweight's
//! market books for `BASIC-1.132153978`, and every compression and line
//! ending reading the same messages.

use std::path::PathBuf;

use clever_host::betfair::{StreamCache, StreamFile};
use clever_sdk::{MarketStatus, RunnerStatus};
use serde_json::Value;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/betfair")
        .join(name)
}

fn status_name(s: MarketStatus) -> &'static str {
    match s {
        MarketStatus::Inactive => "INACTIVE",
        MarketStatus::Open => "OPEN",
        MarketStatus::Suspended => "SUSPENDED",
        MarketStatus::Closed => "CLOSED",
    }
}

fn runner_status_name(s: RunnerStatus) -> &'static str {
    match s {
        RunnerStatus::Active => "ACTIVE",
        RunnerStatus::Winner => "WINNER",
        RunnerStatus::Loser => "LOSER",
        RunnerStatus::Placed => "PLACED",
        RunnerStatus::Removed => "REMOVED",
        RunnerStatus::Hidden => "HIDDEN",
    }
}

fn ladder(v: &Value) -> Vec<(f64, f64)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|l| (l["price"].as_f64().unwrap(), l["size"].as_f64().unwrap()))
        .collect()
}

#[test]
fn basic_file_matches_betfairlightweight_market_books() {
    let expected: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(data("BASIC-1.132153978-processed.json")).unwrap(),
    )
    .unwrap();
    let mut cache = StreamCache::new();
    let mut n = 0;
    for record in StreamFile::open(&data("BASIC-1.132153978")).unwrap() {
        let msg = record.unwrap().message;
        for mc in &msg.mc {
            let market = cache.apply(msg.pt, mc);
            let book = &market.book;
            let want = &expected[n];
            let at = format!("book {n} (publish time {})", msg.pt);
            let v = &book.view;
            assert_eq!(v.id.as_str(), want["marketId"], "{at}");
            assert_eq!(status_name(v.status), want["status"], "{at}");
            assert_eq!(v.in_play, want["inplay"], "{at}");
            assert_eq!(v.bet_delay as u64, want["betDelay"], "{at}");
            assert_eq!(v.number_of_winners as u64, want["numberOfWinners"], "{at}");
            assert_eq!(
                v.publish_time.0,
                want["publishTime"].as_i64().unwrap(),
                "{at}"
            );
            assert_eq!(
                v.total_matched,
                want["totalMatched"].as_f64().unwrap(),
                "{at}"
            );
            assert_eq!(
                market.active_runners.map(u64::from),
                want["numberOfActiveRunners"].as_u64(),
                "{at}"
            );
            let runners = want["runners"].as_array().unwrap();
            assert_eq!(v.runners.len(), runners.len(), "{at}");
            for (r, w) in v.runners.iter().zip(runners) {
                let at = format!("{at}, runner {}", r.selection_id.0);
                assert_eq!(r.selection_id.0, w["selectionId"].as_u64().unwrap(), "{at}");
                assert_eq!(runner_status_name(r.status), w["status"], "{at}");
                assert_eq!(
                    Some(r.adjustment_factor),
                    w["adjustmentFactor"].as_f64(),
                    "{at}"
                );
                assert_eq!(
                    r.last_traded.map(|p| p.0),
                    w["lastPriceTraded"].as_f64(),
                    "{at}"
                );
                assert_eq!(r.bsp, w["sp"]["actualSP"].as_f64(), "{at}");
                assert_eq!(r.traded_volume, w["totalMatched"].as_f64().unwrap(), "{at}");
                let back: Vec<(f64, f64)> = r
                    .back
                    .as_slice()
                    .iter()
                    .map(|l| (l.price.0, l.size))
                    .collect();
                let lay: Vec<(f64, f64)> = r
                    .lay
                    .as_slice()
                    .iter()
                    .map(|l| (l.price.0, l.size))
                    .collect();
                assert_eq!(back, ladder(&w["ex"]["availableToBack"]), "{at}");
                assert_eq!(lay, ladder(&w["ex"]["availableToLay"]), "{at}");
            }
            n += 1;
        }
    }
    assert_eq!(n, expected.len(), "one market book per market change");
}

/// Message count and final state of a file.
fn summary(name: &str) -> (usize, String) {
    let mut cache = StreamCache::new();
    let mut count = 0;
    let mut last = String::new();
    for record in StreamFile::open(&data(name)).unwrap() {
        let msg = record.unwrap_or_else(|e| panic!("{e}")).message;
        for mc in &msg.mc {
            let market = cache.apply(msg.pt, mc);
            let book = &market.book;
            last = format!("{:?}", book.view);
        }
        count += 1;
    }
    (count, last)
}

#[test]
fn gzip_with_crlf_reads_the_same_as_plain() {
    let plain = summary("BASIC-1.132153978");
    assert_eq!(plain.0, 480);
    assert_eq!(summary("BASIC-1.132153978.gz"), plain);
}

#[test]
fn bzip2_pro_file_reads_every_line_and_settles() {
    let mut cache = StreamCache::new();
    let mut lines = 0;
    for record in StreamFile::open(&data("1-206064380.bz2")).unwrap() {
        let msg = record.unwrap().message;
        for mc in &msg.mc {
            cache.apply(msg.pt, mc);
        }
        lines += 1;
    }
    assert_eq!(lines, 18_793);
    let book = &cache.get("1.206064380").unwrap().book;
    assert_eq!(book.view.status, MarketStatus::Closed);
    let winner = book
        .view
        .runners
        .iter()
        .find(|r| r.status == RunnerStatus::Winner)
        .unwrap();
    assert_eq!(winner.selection_id.0, 38523163);
    assert_eq!(winner.bsp, Some(13.0));
    let removed: Vec<u64> = book
        .view
        .runners
        .iter()
        .filter(|r| r.status == RunnerStatus::Removed)
        .map(|r| r.selection_id.0)
        .collect();
    assert_eq!(removed, vec![39540410]);
}

#[test]
fn a_broken_line_is_an_error_with_its_position_and_reading_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken");
    std::fs::write(
        &path,
        "{\"op\":\"mcm\",\"pt\":1,\"mc\":[]}\r\n{oops\r\n\r\n{\"op\": \"mcm\", \"clk\": null, \"pt\": 2, \"mc\": []}\n",
    )
    .unwrap();
    let results: Vec<_> = StreamFile::open(&path).unwrap().collect();
    assert_eq!(results.len(), 3);
    let err = results[1].as_ref().unwrap_err().to_string();
    assert!(err.contains("broken:2:"), "{err}");
    assert_eq!(
        results[2].as_ref().unwrap().message.pt,
        2,
        "self-recorded style line"
    );
}

//! Market updates cross the boundary packed: a full image first, then
//! deltas. The plugin's view must equal the host's after every update,
//! which the reader proves by summing best levels exactly as a native call.

use clever_plugin_artifacts as artifacts;
use clever_sdk::Market;

use crate::support;

/// The reader's logic, natively: sum of price x size over best levels.
fn read_market(market: &Market) -> f64 {
    market
        .runners
        .iter()
        .flat_map(|r| [r.best_back(), r.best_lay()])
        .flatten()
        .map(|l| l.price.get() * l.size)
        .sum()
}

#[test]
fn deltas_keep_the_plugin_view_equal_to_the_host_view() {
    let rt = support::runtime();
    let (mut reader, _) = rt.start(artifacts::FIXTURE_READER, "{}");
    let mut feed = support::market(11);
    let mut native = 0.0;
    for _ in 0..500 {
        let (market, changed) = feed.step();
        reader.on_market(7, market, Some(changed)).unwrap();
        native += read_market(market);
    }
    let (count, checksum) = support::reader_state(&mut reader);
    assert_eq!(count, 500);
    assert_eq!(
        checksum.to_bits(),
        native.to_bits(),
        "bit-identical to native"
    );
}

#[test]
fn a_rebuilt_instance_gets_a_full_image_again() {
    // After a fault the new instance has no view: the host must resend it whole.
    let rt = support::runtime();
    let (mut hostile, services) = rt.start(artifacts::HOSTILE_PANIC, "{}");
    let mut feed = support::market(12);
    let (market, changed) = feed.step();
    services.set_market(market);
    assert!(hostile.on_market(1, market, Some(changed)).is_err());
    // Still a delta request, but the rebuilt plugin panics on its message,
    // which proves it decoded a market (a delta for an unknown handle would
    // only be logged by the SDK).
    let err = hostile.on_market(1, market, Some(changed)).unwrap_err();
    assert!(
        err.to_string().contains("hostile panic on market 1.1"),
        "{err}"
    );
}

#[test]
fn fuel_use_is_deterministic() {
    let run = || {
        let rt = support::runtime();
        let (mut reader, _) = rt.start(artifacts::FIXTURE_READER, "{}");
        let mut feed = support::market(13);
        for _ in 0..100 {
            let (market, changed) = feed.step();
            reader.on_market(1, market, Some(changed)).unwrap();
        }
        reader.stats().fuel_consumed
    };
    assert_eq!(run(), run());
}

#[test]
fn back_fav_preoff_backs_the_favourite_once() {
    let rt = support::runtime();
    let (mut plugin, services) = rt.start(artifacts::BACK_FAV_PREOFF, "{}");
    let mut feed = support::market(14);
    let mut expected = None;
    for _ in 0..50 {
        let (market, changed) = feed.step();
        services.set_market(market);
        plugin.set_time(market.publish_time);
        if expected.is_none() {
            let fav = market
                .runners
                .iter()
                .filter_map(|r| r.best_back().map(|b| (r.selection_id, b.price)))
                .min_by(|a, b| a.1.get().total_cmp(&b.1.get()))
                .unwrap();
            if fav.1.get() < 4.0 {
                expected = Some(fav);
            }
        }
        // As the engine does: nothing once the plugin is done with it.
        if services.recorded().wants(market) {
            plugin.on_market(1, market, Some(changed)).unwrap();
        }
    }
    let recorded = services.recorded();
    let orders = &recorded.orders;
    let (selection, price) = expected.expect("seed 14 has a favourite under 4.0");
    assert_eq!(orders.len(), 1);
    // It said so through the WIT import, once it had backed.
    let interest = recorded.interest.get(&orders[0].request.market_id);
    assert_eq!(interest, Some(&clever_sdk::MarketInterest::NothingMore));
    assert_eq!(orders[0].request.selection_id, selection);
    assert_eq!(orders[0].request.price, price);
    assert_eq!(orders[0].request.size, 2.0);
}

//! State handed across instances through the Wasm boundary: `snapshot`
//! from one instance, `restore` into another (what a hot swap will do), and
//! a refused restore leaving the plugin as it was.

use clever_host::runtime::HookError;
use clever_plugin_artifacts as artifacts;
use clever_sdk::{Levels, Market, PriceSize, Runner};

use crate::support;

fn market(back: f64) -> Market {
    let mut m = Market::new("1.9");
    m.runners.push(Runner::new(4));
    m.runners[0].back = Levels::from_slice(&[PriceSize::new(back, 50.0)]);
    m
}

#[test]
fn snapshot_restores_into_a_new_instance() {
    let rt = support::runtime();
    let (mut old, old_services) = rt.start(artifacts::STEAM_CHASER, r#"{"ticks": 1}"#);
    old_services.set_market(&market(5.0));
    old.on_market(1, &market(5.0), None).unwrap();
    let state = old.snapshot().unwrap();
    let text = String::from_utf8_lossy(&state).into_owned();
    assert!(
        text.contains("\"1.9\"") && text.contains("\"first\":5.0"),
        "{text}"
    );

    let (mut new, services) = rt.start(artifacts::STEAM_CHASER, r#"{"ticks": 1}"#);
    new.restore(&state).unwrap();
    services.set_market(&market(4.9));
    new.on_market(1, &market(4.9), None).unwrap();
    assert_eq!(
        services.recorded().orders.len(),
        1,
        "the new instance knew the first price"
    );
}

#[test]
fn a_refused_restore_is_reported_and_the_plugin_keeps_running() {
    let rt = support::runtime();
    let (mut plugin, services) = rt.start(artifacts::STEAM_CHASER, r#"{"ticks": 1}"#);
    match plugin.restore(b"not json") {
        Err(HookError::Refused(reason)) => assert!(reason.contains("bad snapshot"), "{reason}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    services.set_market(&market(5.0));
    plugin.on_market(1, &market(5.0), None).unwrap();
    assert!(plugin.faults().is_empty());
}

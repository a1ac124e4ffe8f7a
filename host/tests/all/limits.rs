//! Each limit in obeyed/violated pairs: the same plugin passes under the
//! default and fails in exactly the expected way when the limit is lowered.

use clever_host::runtime::{FaultCause, HookError, Limits};
use clever_plugin_artifacts as artifacts;

use crate::support;

#[test]
fn fuel_obeyed_and_violated() {
    let rt = support::runtime();
    let (mut reader, _) = rt.start(artifacts::FIXTURE_READER, "{}");
    let mut feed = support::market(3);
    let (market, _) = feed.step();
    reader
        .on_market(1, market, None)
        .expect("enough fuel by default");

    let rt = support::runtime_with(Limits {
        fuel_per_call: 100,
        ..Limits::default()
    });
    let (mut reader, _) = rt.start(artifacts::FIXTURE_READER, "{}");
    match reader.on_market(1, market, None) {
        Err(HookError::Faulted(f)) => assert_eq!(f.cause, FaultCause::OutOfFuel),
        other => panic!("expected out of fuel, got {other:?}"),
    }
}

#[test]
fn max_faults_is_configurable() {
    let rt = support::runtime_with(Limits {
        max_faults: 1,
        ..Limits::default()
    });
    let (mut hostile, services) = rt.start(artifacts::HOSTILE_INFINITE_LOOP, "{}");
    let mut feed = support::market(4);
    let (market, changed) = feed.step();
    assert!(matches!(
        hostile.on_market(1, market, Some(changed)),
        Err(HookError::Faulted(_))
    ));
    assert!(hostile.is_quarantined());
    assert_eq!(
        hostile.on_market(1, market, Some(changed)),
        Err(HookError::Quarantined)
    );
    assert_eq!(services.cancel_all_calls(), 1);
}

#[test]
fn memory_limit_obeyed_and_violated() {
    // The reader fits in 64 MiB; the allocating plugin is stopped at 8 MiB.
    let rt = support::runtime_with(Limits {
        memory_bytes: 8 << 20,
        ..Limits::default()
    });
    let (mut reader, _) = rt.start(artifacts::FIXTURE_READER, "{}");
    let (mut alloc, _) = rt.start(artifacts::HOSTILE_ALLOC, "{}");
    let mut feed = support::market(5);
    let (market, _) = feed.step();
    reader
        .on_market(1, market, None)
        .expect("reader fits in 8 MiB");
    match alloc.on_market(1, market, None) {
        Err(HookError::Faulted(f)) => {
            assert!(matches!(f.cause, FaultCause::MemoryLimit { limit, .. } if limit == 8 << 20))
        }
        other => panic!("expected memory limit, got {other:?}"),
    }
}

#[test]
fn order_budget_obeyed_when_raised() {
    let rt = support::runtime_with(Limits {
        orders_per_call: 1_000,
        ..Limits::default()
    });
    let (mut flood, services) = rt.start(artifacts::HOSTILE_ORDER_FLOOD, "{}");
    let mut feed = support::market(6);
    let (market, _) = feed.step();
    services.set_market(market);
    flood.on_market(1, market, None).expect("runs");
    assert_eq!(services.recorded().orders.len(), 1_000);
    assert_eq!(flood.dropped().orders, 0);
}

#[test]
fn log_budget_obeyed_when_raised() {
    let rt = support::runtime_with(Limits {
        log_lines_per_call: 2_000,
        log_bytes_per_call: 2_000 * 100,
        ..Limits::default()
    });
    let (mut flood, services) = rt.start(artifacts::HOSTILE_LOG_FLOOD, "{}");
    let mut feed = support::market(7);
    let (market, _) = feed.step();
    flood.on_market(1, market, None).expect("runs");
    assert_eq!(services.recorded().logs.len(), 2_000);
    assert_eq!(flood.dropped().log_lines, 0);
}

#[test]
fn output_limit_obeyed_when_raised() {
    // With room for 64 MiB of output the huge string is an ordinary refusal.
    let rt = support::runtime_with(Limits {
        output_bytes: 64 << 20,
        memory_bytes: 256 << 20,
        ..Limits::default()
    });
    let plugin = rt.load(artifacts::HOSTILE_HUGE_STRING);
    let err = rt
        .runtime
        .instantiate(
            &plugin,
            "{}",
            clever_sdk::Timestamp(0),
            Box::new(clever_host::runtime::InertServices),
        )
        .err()
        .expect("init refuses");
    match err {
        HookError::Refused(text) => {
            assert_eq!(text.chars().count(), 1025, "shortened to 1 KiB + …")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn state_survives_a_rebuild_and_a_refused_restart_counts_as_a_fault() {
    let rt = support::runtime();
    let (mut plugin, _) = rt.start(artifacts::FIXTURE_REFUSE_RESTART, "{}");
    let mut feed = support::market(9);
    let (market, _) = feed.step();
    let causes: Vec<_> = (0..4).map(|_| plugin.on_market(1, market, None)).collect();
    assert!(
        matches!(&causes[0], Err(HookError::Faulted(f)) if matches!(f.cause, FaultCause::Panic(_)))
    );
    // The rebuilt instance found `started` in the state the host kept.
    for c in &causes[1..3] {
        assert!(
            matches!(c, Err(HookError::Faulted(f)) if matches!(&f.cause, FaultCause::InitRefused(r) if r.contains("refusing to start again"))),
            "{c:?}"
        );
    }
    assert_eq!(causes[3], Err(HookError::Quarantined));
}

//! The hostile suite: each hostile plugin runs beside a healthy reader on
//! the same runtime; the test asserts the exact fault, that quarantine
//! follows the configured number of faults and cancels the plugin's open
//! orders, and that the reader saw every update.

use clever_host::runtime::{FaultCause, Hook, HookError, PluginInstance, RecordingServices};
use clever_plugin_artifacts as artifacts;

use crate::support::{self, TestRuntime};

const UPDATES: usize = 6;

/// Feed `UPDATES` updates to a hostile plugin and a healthy reader; return
/// each hostile result and check the reader kept going.
fn run_beside_reader(
    rt: &TestRuntime,
    hostile: &mut PluginInstance,
    services: &RecordingServices,
) -> Vec<Result<(), HookError>> {
    let (mut reader, _) = rt.start(artifacts::FIXTURE_READER, "{}");
    let mut feed = support::market(1);
    let mut results = Vec::new();
    for _ in 0..UPDATES {
        let (market, changed) = feed.step();
        services.set_market(market);
        results.push(hostile.on_market(1, market, Some(changed)));
        reader
            .on_market(1, market, Some(changed))
            .expect("reader runs");
    }
    assert_eq!(support::reader_state(&mut reader).0, UPDATES as u64);
    results
}

/// Assert three faults of `expected` kind, then quarantine.
fn assert_faults_then_quarantine(
    results: &[Result<(), HookError>],
    hostile: &PluginInstance,
    services: &RecordingServices,
    expected: impl Fn(&FaultCause) -> bool,
) {
    for (i, result) in results.iter().enumerate() {
        match result {
            Err(HookError::Faulted(fault)) if i < 3 => {
                assert_eq!(fault.hook, Hook::OnMarket);
                assert!(expected(&fault.cause), "unexpected cause: {}", fault.cause);
            }
            Err(HookError::Quarantined) if i >= 3 => {}
            other => panic!("update {i}: unexpected {other:?}"),
        }
    }
    assert!(hostile.is_quarantined());
    assert_eq!(hostile.faults().len(), 3);
    assert_eq!(
        hostile.stats().instantiations,
        3,
        "rebuilt after each fault"
    );
    assert_eq!(services.cancel_all_calls(), 1, "open orders cancelled once");
}

#[test]
fn infinite_loop() {
    let rt = support::runtime();
    let (mut hostile, services) = rt.start(artifacts::HOSTILE_INFINITE_LOOP, "{}");
    let results = run_beside_reader(&rt, &mut hostile, &services);
    assert_faults_then_quarantine(&results, &hostile, &services, |c| {
        *c == FaultCause::OutOfFuel
    });
    assert_eq!(hostile.faults()[0].plugin, "hostile-infinite-loop");
    assert_eq!(hostile.faults()[0].version, "1.0.0");
}

#[test]
fn alloc() {
    let rt = support::runtime();
    let (mut hostile, services) = rt.start(artifacts::HOSTILE_ALLOC, "{}");
    let results = run_beside_reader(&rt, &mut hostile, &services);
    assert_faults_then_quarantine(
        &results,
        &hostile,
        &services,
        |c| matches!(c, FaultCause::MemoryLimit { requested, limit } if *limit == 64 << 20 && requested > limit),
    );
}

#[test]
fn panic() {
    let rt = support::runtime();
    let (mut hostile, services) = rt.start(artifacts::HOSTILE_PANIC, "{}");
    let results = run_beside_reader(&rt, &mut hostile, &services);
    assert_faults_then_quarantine(
        &results,
        &hostile,
        &services,
        |c| matches!(c, FaultCause::Panic(m) if m.contains("hostile panic on market 1.1")),
    );
    // One order per faulted call; quarantine cancelled every one of them.
    let recorded = services.recorded();
    assert_eq!(recorded.orders.len(), 3);
    assert!(
        recorded
            .orders
            .iter()
            .all(|o| !o.is_open() && o.size_cancelled == o.request.size)
    );
}

#[test]
fn stack() {
    let rt = support::runtime();
    let (mut hostile, services) = rt.start(artifacts::HOSTILE_STACK, "{}");
    let results = run_beside_reader(&rt, &mut hostile, &services);
    assert_faults_then_quarantine(&results, &hostile, &services, |c| {
        *c == FaultCause::StackOverflow
    });
}

#[test]
fn log_flood() {
    let rt = support::runtime();
    let (mut hostile, services) = rt.start(artifacts::HOSTILE_LOG_FLOOD, "{}");
    let results = run_beside_reader(&rt, &mut hostile, &services);
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    // 100 lines a call kept (100 lines x 100 bytes fits in 16 KiB), the rest dropped.
    assert_eq!(services.recorded().logs.len(), 100 * UPDATES);
    assert_eq!(hostile.dropped().log_lines, (10_000 - 100) * UPDATES as u64);
    assert!(!hostile.is_quarantined());
}

#[test]
fn order_flood() {
    let rt = support::runtime();
    let (mut hostile, services) = rt.start(artifacts::HOSTILE_ORDER_FLOOD, "{}");
    let results = run_beside_reader(&rt, &mut hostile, &services);
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    let recorded = services.recorded();
    assert_eq!(
        recorded.orders.len(),
        50 * UPDATES,
        "the per-call order budget"
    );
    assert_eq!(hostile.dropped().orders, (10_000 - 50) * UPDATES as u64);
    // The plugin was told, typed: `rate-limited`.
    let limited: Vec<f64> = recorded
        .signals
        .iter()
        .filter(|s| s.name == "rate_limited")
        .map(|s| s.value)
        .collect();
    assert_eq!(limited, vec![9_950.0; UPDATES]);
}

#[test]
fn huge_string() {
    let rt = support::runtime();
    let plugin = rt.load(artifacts::HOSTILE_HUGE_STRING);
    let services = RecordingServices::new();
    let err = rt
        .runtime
        .instantiate(&plugin, "{}", Box::new(services))
        .err()
        .expect("init must be refused");
    match err {
        HookError::Faulted(fault) => {
            assert_eq!(fault.hook, Hook::Init);
            assert_eq!(
                fault.cause,
                FaultCause::OversizedOutput {
                    bytes: 48 << 20,
                    limit: 1 << 20
                }
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    // A healthy plugin on the same runtime still starts and runs.
    let (mut reader, _) = rt.start(artifacts::FIXTURE_READER, "{}");
    let mut feed = support::market(2);
    let (market, _) = feed.step();
    reader.on_market(1, market, None).expect("reader runs");
}

/// Every hostile plugin in plugins/hostile has a test above.
macro_rules! assert_tested {
    ($name:ident) => {
        const _: fn() = $name;
    };
}
clever_plugin_artifacts::foreach_hostile!(assert_tested);

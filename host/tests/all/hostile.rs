//! The hostile suite: each hostile plugin runs beside a healthy plugin on
//! the same runtime; the test asserts the exact fault or refusal, that
//! quarantine follows the configured number of faults and cancels the
//! plugin's open orders, that the healthy plugin's results are exactly
//! those it gives alone, and that what the host holds for the hostile
//! plugin stays within its caps.
//!
//! Two stages: beside the fixture reader with recording services (every
//! update delivered, the reader's checksum compared), and beside
//! back-fav-preoff in the engine over a real Betfair file (timers, orders
//! and event fuel need the engine; its whole outcome is compared).

use std::path::PathBuf;
use std::sync::OnceLock;

use clever_host::engine::StrategyOutcome;
use clever_host::runtime::{
    FaultCause, Hook, HookError, Limits, PluginInstance, RecordingServices, RuntimeConfig,
};
use clever_plugin_artifacts as artifacts;
use clever_sdk::Timestamp;

use crate::stage::stage;
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
    assert_eq!(
        support::reader_state(&mut reader),
        reader_alone(rt),
        "the reader's results beside a hostile plugin are those it gives alone"
    );
    results
}

/// The reader's (updates, checksum) over the same feed with nobody beside it.
fn reader_alone(rt: &TestRuntime) -> (u64, f64) {
    let (mut reader, _) = rt.start(artifacts::FIXTURE_READER, "{}");
    let mut feed = support::market(1);
    for _ in 0..UPDATES {
        let (market, changed) = feed.step();
        reader
            .on_market(1, market, Some(changed))
            .expect("reader runs");
    }
    let state = support::reader_state(&mut reader);
    assert_eq!(state.0, UPDATES as u64);
    state
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
    assert_eq!(hostile.dropped().log_lines, (2_000 - 100) * UPDATES as u64);
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
    assert_eq!(hostile.dropped().orders, (1_000 - 50) * UPDATES as u64);
    // The plugin was told, typed: `rate-limited`.
    let limited: Vec<f64> = recorded
        .signals
        .iter()
        .filter(|s| s.name == "rate_limited")
        .map(|s| s.value)
        .collect();
    assert_eq!(limited, vec![950.0; UPDATES]);
}

#[test]
fn huge_string() {
    let rt = support::runtime();
    let plugin = rt.load(artifacts::HOSTILE_HUGE_STRING);
    let services = RecordingServices::new();
    let err = rt
        .runtime
        .instantiate(&plugin, "{}", Timestamp(0), Box::new(services))
        .err()
        .expect("init must be refused");
    match err {
        HookError::Faulted(fault) => {
            assert_eq!(fault.hook, Hook::Init);
            // 48 MiB is over `import_bytes`: refused before it is copied.
            assert_eq!(
                fault.cause,
                FaultCause::TooMuchData {
                    limit: Limits::default().import_bytes
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

// ---- Host work: imports must be paid for, host-held state capped. ----

/// A real market (GB horse racing, 2022) for the engine stage.
fn market_file() -> PathBuf {
    crate::backtest::betfair_data().join("1.197931750")
}

/// back-fav-preoff's outcome alone on the engine stage.
fn healthy_alone(rt: &TestRuntime) -> &'static StrategyOutcome {
    static ALONE: OnceLock<StrategyOutcome> = OnceLock::new();
    ALONE.get_or_init(|| {
        let staged = stage(
            &rt.runtime,
            &[(artifacts::BACK_FAV_PREOFF, "{}")],
            &market_file(),
        );
        let healthy = staged.outcomes[0].clone();
        assert!(healthy.tally.placed > 0, "the healthy plugin trades");
        healthy
    })
}

/// Stage `hostile` with `params` beside back-fav-preoff, check the healthy
/// plugin did exactly what it does alone, and return the hostile outcome
/// and the number of events.
fn beside_healthy(rt: &TestRuntime, hostile: &str, params: &str) -> (StrategyOutcome, u64) {
    let staged = stage(
        &rt.runtime,
        &[(artifacts::BACK_FAV_PREOFF, "{}"), (hostile, params)],
        &market_file(),
    );
    assert_eq!(
        &staged.outcomes[0],
        healthy_alone(rt),
        "back-fav-preoff beside {hostile} {params} must give what it gives alone"
    );
    (staged.outcomes[1].clone(), staged.events)
}

fn signals_named(services: &RecordingServices, name: &str) -> Vec<f64> {
    let recorded = services.recorded();
    let named = recorded.signals.iter().filter(|s| s.name == name);
    named.map(|s| s.value).collect()
}

/// Feed `UPDATES` updates beside the reader; every call must succeed.
fn run_obeyed(rt: &TestRuntime, path: &str, params: &str) -> (PluginInstance, RecordingServices) {
    let (mut plugin, services) = rt.start(path, params);
    let results = run_beside_reader(rt, &mut plugin, &services);
    assert!(results.iter().all(|r| r.is_ok()), "{params}: {results:?}");
    assert!(plugin.faults().is_empty());
    (plugin, services)
}

#[test]
fn timer_flood() {
    let rt = support::runtime();
    // Obeyed: 100 timers an update stay under the cap of 1,000.
    let (plugin, services) = run_obeyed(&rt, artifacts::HOSTILE_TIMER_FLOOD, r#"{"timers":100}"#);
    assert_eq!(services.recorded().timers.len(), 100 * UPDATES);
    assert_eq!(plugin.dropped().timers, 0);
    // Violated: 2,000 an update; 1,000 are kept, every other is refused and counted.
    let (plugin, services) = run_obeyed(&rt, artifacts::HOSTILE_TIMER_FLOOD, r#"{"timers":2000}"#);
    assert_eq!(services.recorded().timers.len(), 1_000);
    assert_eq!(plugin.dropped().timers, 2_000 * UPDATES as u64 - 1_000);

    // In the engine, over a whole market: timers fire and are set again,
    // the desk never holds more than the cap, and every attempt is either
    // kept, fired or refused.
    let (hostile, _) = beside_healthy(&rt, artifacts::HOSTILE_TIMER_FLOOD, r#"{"timers":2000}"#);
    assert!(hostile.faults.is_empty(), "{:?}", hostile.faults);
    assert!(hostile.held.timers <= Limits::default().pending_timers);
    let fired = hostile.tally.signals;
    assert!(fired > 0 && hostile.dropped.timers > 0);
    assert_eq!(
        hostile.updates * 2_000,
        fired + hostile.held.timers as u64 + hostile.dropped.timers,
        "set = fired + pending + refused"
    );
}

#[test]
fn timer_rearmed_from_on_timer_waits_for_the_next_event() {
    let rt = support::runtime();
    // One timer, due at once, set again for "now" every time it fires:
    // it must fire once per event, not forever within one.
    let params = r#"{"timers":1,"once":1,"after_ms":0,"rearm":1}"#;
    let (hostile, events) = beside_healthy(&rt, artifacts::HOSTILE_TIMER_FLOOD, params);
    assert!(hostile.faults.is_empty(), "{:?}", hostile.faults);
    let fired = hostile.tally.signals;
    assert!(fired < events, "{fired} firings in {events} events");
    assert!(
        fired + 1 >= hostile.updates,
        "it fired before every delivered update after the first ({fired} < {})",
        hostile.updates
    );
    assert_eq!(hostile.held.timers, 1);
}

#[test]
fn heavy_timers_due_together_share_the_event_fuel() {
    let rt = support::runtime();
    // 50 timers due in the same event, each burning most of a call's fuel:
    // together they may spend `fuel_per_event` and no more.
    let params = r#"{"timers":50,"once":1,"after_ms":1000,"burn":1000000}"#;
    let (hostile, _) = beside_healthy(&rt, artifacts::HOSTILE_TIMER_FLOOD, params);
    // Each rebuilt instance sets its 50 again and faults again: three
    // times, then quarantine.
    let limit = Limits::default().fuel_per_event;
    assert_eq!(hostile.faults.len(), 3);
    for fault in &hostile.faults {
        assert_eq!(fault.cause, FaultCause::EventFuel { limit });
        assert_eq!(fault.hook, Hook::OnTimer);
    }
    assert!(hostile.quarantined);
    let fired = hostile.tally.signals;
    assert!((3..50).contains(&fired), "{fired} of 150 timers ran");
}

#[test]
fn state_abuse() {
    let rt = support::runtime();
    let limits = Limits::default();
    // Obeyed: three reads of a 1,000 KiB value an update.
    let (plugin, services) = run_obeyed(&rt, artifacts::HOSTILE_STATE_ABUSE, r#"{"reads":3}"#);
    assert_eq!(signals_named(&services, "reads"), vec![3.0; UPDATES]);
    assert!(plugin.host_held().state_bytes <= limits.state_bytes);
    // Violated: reading without end runs out of fuel, as the bytes cost it.
    let (mut hostile, services) = rt.start(artifacts::HOSTILE_STATE_ABUSE, "{}");
    let results = run_beside_reader(&rt, &mut hostile, &services);
    assert_faults_then_quarantine(&results, &hostile, &services, |c| {
        *c == FaultCause::OutOfFuel
    });
    assert!(hostile.host_held().state_bytes <= limits.state_bytes);
}

#[test]
fn state_entry_flood_stops_at_the_entry_cap() {
    let rt = support::runtime();
    let limits = Limits::default();
    // 2,000 new entries an update beside a 1 KiB value: 9,999 fit under
    // the entry cap (the value is the 10,000th), the rest are refused.
    let params = r#"{"value_kib":1,"entries":2000}"#;
    let (hostile, services) = run_obeyed(&rt, artifacts::HOSTILE_STATE_ABUSE, params);
    let stored: f64 = signals_named(&services, "stored").iter().sum();
    assert_eq!(stored, 9_999.0);
    assert_eq!(
        hostile.dropped().state_writes,
        2_000 * UPDATES as u64 - 9_999
    );
    let held = hostile.host_held();
    assert_eq!(held.state_entries, limits.state_entries);
    assert!(held.state_bytes <= limits.state_bytes);
}

#[test]
fn huge_strings() {
    let rt = support::runtime();
    // Obeyed: 32-byte lines and signal names, ten of each an update.
    let (plugin, services) = run_obeyed(
        &rt,
        artifacts::HOSTILE_HUGE_STRINGS,
        r#"{"bytes":32,"calls":10}"#,
    );
    assert_eq!(services.recorded().logs.len(), 10 * UPDATES);
    assert_eq!(services.recorded().signals.len(), 10 * UPDATES);
    assert_eq!(plugin.dropped(), Default::default());
    // Violated: 1 MiB strings without end. Each costs a MiB of fuel, so
    // the call runs out; none is kept (over the log budget and the
    // signal-name cap) and each is counted.
    let (mut hostile, services) = rt.start(artifacts::HOSTILE_HUGE_STRINGS, "{}");
    let results = run_beside_reader(&rt, &mut hostile, &services);
    assert_faults_then_quarantine(&results, &hostile, &services, |c| {
        *c == FaultCause::OutOfFuel
    });
    assert!(services.recorded().logs.is_empty() && services.recorded().signals.is_empty());
    let dropped = hostile.dropped();
    assert!(dropped.log_lines > 0 && dropped.signals > 0, "{dropped:?}");
}

#[test]
fn strings_over_the_import_cap_trap_before_the_host_copies_them() {
    let rt = support::runtime();
    let (mut hostile, services) = rt.start(artifacts::HOSTILE_HUGE_STRINGS, r#"{"bytes":4194304}"#);
    let results = run_beside_reader(&rt, &mut hostile, &services);
    assert_faults_then_quarantine(&results, &hostile, &services, |c| {
        *c == FaultCause::TooMuchData {
            limit: Limits::default().import_bytes,
        }
    });
    assert!(services.recorded().logs.is_empty());
}

#[test]
fn open_orders() {
    let rt = support::runtime();
    // Obeyed: 50 resting orders an update, listed three times.
    let (_, services) = run_obeyed(&rt, artifacts::HOSTILE_OPEN_ORDERS, r#"{"reads":3}"#);
    let seen: Vec<f64> = (1..=UPDATES).map(|n| 50.0 * n as f64).collect();
    assert_eq!(signals_named(&services, "seen"), seen);
    // Violated: listing without end; each list costs fuel by its orders.
    let (mut hostile, services) = rt.start(artifacts::HOSTILE_OPEN_ORDERS, "{}");
    let results = run_beside_reader(&rt, &mut hostile, &services);
    assert_faults_then_quarantine(&results, &hostile, &services, |c| {
        *c == FaultCause::OutOfFuel
    });
    // In the engine, risk caps what it may rest (200 open orders), and
    // the healthy plugin is untouched.
    let (hostile, _) = beside_healthy(&rt, artifacts::HOSTILE_OPEN_ORDERS, r#"{"reads":5}"#);
    assert!(hostile.faults.is_empty(), "{:?}", hostile.faults);
    assert!(
        hostile
            .tally
            .rejected
            .get("risk-limit:max-open-orders")
            .is_some_and(|n| *n > 0)
    );
}

#[test]
fn wasi_abuse() {
    let rt = support::runtime();
    run_obeyed(&rt, artifacts::HOSTILE_WASI_ABUSE, r#"{"abuse":"none"}"#);
    type Expected = fn(&FaultCause) -> bool;
    let cases: [(&str, Expected); 3] = [
        // Sleeping would block the event loop in real time: forbidden.
        (
            "sleep",
            |c| matches!(c, FaultCause::Forbidden(m) if m.contains("sleeping")),
        ),
        // Printing past the per-call stdout budget traps.
        (
            "stdout",
            |c| matches!(c, FaultCause::Trap(m) if m.contains("stdout")),
        ),
        // Every WASI call costs fuel too, so a clock loop runs out.
        ("clock", |c| *c == FaultCause::OutOfFuel),
    ];
    for (abuse, expected) in cases {
        let params = format!(r#"{{"abuse":"{abuse}"}}"#);
        let (mut hostile, services) = rt.start(artifacts::HOSTILE_WASI_ABUSE, &params);
        let results = run_beside_reader(&rt, &mut hostile, &services);
        assert_faults_then_quarantine(&results, &hostile, &services, expected);
    }
}

#[test]
fn a_call_past_its_deadline_is_interrupted_in_paper_and_live() {
    // Fuel for minutes of looping, so only the deadline can stop it.
    let limits = Limits {
        fuel_per_call: 200_000_000_000,
        fuel_per_event: 200_000_000_000,
        deadline_ms: 20,
        ..Limits::default()
    };
    let rt = support::runtime_config(RuntimeConfig {
        limits: limits.clone(),
        deadline: true,
        ..RuntimeConfig::default()
    });
    let (mut hostile, services) = rt.start(artifacts::HOSTILE_INFINITE_LOOP, "{}");
    let results = run_beside_reader(&rt, &mut hostile, &services);
    assert_faults_then_quarantine(&results, &hostile, &services, |c| {
        *c == FaultCause::Deadline { ms: 20 }
    });
    // A backtest never arms it: with small fuel the same plugin faults on
    // fuel, whatever the clock says.
    let rt = support::runtime_config(RuntimeConfig {
        limits: Limits {
            fuel_per_call: 1_000_000,
            ..limits
        },
        ..RuntimeConfig::default()
    });
    let (mut hostile, services) = rt.start(artifacts::HOSTILE_INFINITE_LOOP, "{}");
    let results = run_beside_reader(&rt, &mut hostile, &services);
    assert_faults_then_quarantine(&results, &hostile, &services, |c| {
        *c == FaultCause::OutOfFuel
    });
}

//! Each limit in obeyed/violated pairs: the same plugin passes under the
//! default and fails in exactly the expected way when the limit is lowered.

use clever_host::runtime::{FaultCause, HookError, Limits, RuntimeConfig};
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

/// What a test thread's tracing printed: every event, with its fields.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Two updates to the log flood (100 lines kept of each call's 2,000)
/// under `config`, and its stop: the lines the host's log printed, the
/// number it said it hid, the seconds it took, and the lines the desk got.
fn flood_logs(config: RuntimeConfig) -> (usize, usize, f64, usize) {
    let rt = support::runtime_config(config);
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let started = std::time::Instant::now();
    let delivered = tracing::subscriber::with_default(subscriber, || {
        let (mut flood, services) = rt.start(artifacts::HOSTILE_LOG_FLOOD, "{}");
        let mut feed = support::market(7);
        for _ in 0..2 {
            let (market, _) = feed.step();
            flood.on_market(1, market, None).expect("runs");
        }
        drop(flood);
        services.recorded().logs.len()
    });
    let seconds = started.elapsed().as_secs_f64();
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let printed = text
        .lines()
        .filter(|l| l.contains(&"x".repeat(100)))
        .count();
    let said = " log lines of this plugin not shown";
    let hidden = (text.lines().filter(|l| l.contains(said)))
        .map(|l| {
            let before = l.split(said).next().unwrap_or_default();
            let n = before.rsplit(' ').next().unwrap_or_default();
            n.parse::<usize>()
                .unwrap_or_else(|_| panic!("a count: {l}"))
        })
        .sum();
    (printed, hidden, seconds, delivered)
}

#[test]
fn log_lines_per_minute_obeyed_in_a_running_host_and_not_in_a_backtest() {
    // Alone in a process of its own: tracing keeps what each call site
    // wants per process, and the other tests' threads log through the
    // same call sites under another subscriber.
    let exe = std::env::current_exe().unwrap();
    let name = "limits::log_rate_in_a_process_of_its_own";
    let out = std::process::Command::new(exe)
        .args([name, "--exact", "--ignored", "--test-threads=1"])
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}{stderr}");
}

#[test]
#[ignore = "run alone, in a process of its own, by the test above"]
fn log_rate_in_a_process_of_its_own() {
    let limits = Limits {
        log_lines_per_minute: 30,
        ..Limits::default()
    };
    let running = RuntimeConfig {
        limits: limits.clone(),
        deadline: true,
        ..RuntimeConfig::default()
    };
    let (printed, hidden, seconds, delivered) = flood_logs(running);
    assert_eq!(delivered, 200, "the desk gets every line kept");
    // A burst of 30, then one line every 2 s while the calls ran.
    let most = 30 + (seconds / 2.0).ceil() as usize;
    assert!(
        (30..=most).contains(&printed),
        "{printed} printed in {seconds} s"
    );
    assert_eq!(printed + hidden, 200, "the rest are said to be hidden");
    let backtest = RuntimeConfig {
        limits,
        ..RuntimeConfig::default()
    };
    let (printed, hidden, _, delivered) = flood_logs(backtest);
    assert_eq!(
        (printed, hidden, delivered),
        (200, 0, 200),
        "a backtest prints every line asked for"
    );
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

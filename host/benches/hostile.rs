//! What hostile plugins cost the host, with the default limits.
//!
//! 1. Import costs: the wall time of one hook call that spends its whole
//!    fuel budget (10,000,000) on guest instructions, against calls that
//!    spend it on each kind of import. The fuel rates in
//!    `runtime/limits.rs` are right when the ratios are near 1.
//! 2. Stalls: each hostile plugin beside back-fav-preoff in the engine over
//!    a real Betfair market, in paper mode (deadline armed); the longest
//!    time the event loop spent on one event. Target: under 20 ms.
//!
//! Run: `cargo bench -p clever-host --bench hostile` (prints two tables).

#[path = "../tests/all/stage.rs"]
#[allow(dead_code)]
mod stage;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clever_host::market::synthetic::SyntheticMarket;
use clever_host::runtime::{Limits, RecordingServices, Runtime, RuntimeConfig};
use clever_plugin_artifacts as artifacts;
use clever_sdk::Timestamp;

const SAMPLES: usize = 15;

fn runtime(limits: Limits, deadline: bool) -> Runtime {
    Runtime::new(RuntimeConfig {
        limits,
        cache_dir: Some(std::env::temp_dir().join("clever-bench-cache")),
        deadline,
        ..RuntimeConfig::default()
    })
    .expect("runtime")
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Median wall time of an `on-market` call of `path` with `params` that
/// ends in a fault or returns, with the instance already started.
fn call_time(rt: &Runtime, path: &str, params: &str) -> (Duration, String) {
    let plugin = rt.load_file(Path::new(path)).expect("load");
    let services = RecordingServices::new();
    let mut feed = SyntheticMarket::new("1.1", 7, 14, 3, Timestamp(1_700_000_000_000));
    let start = Timestamp(1_700_000_000_000 - 600_000);
    let mut instance = rt
        .instantiate(&plugin, params, start, Box::new(services.clone()))
        .expect("start");
    let mut times = Vec::new();
    let mut outcome = String::from("ok");
    for _ in 0..SAMPLES {
        let (market, _) = feed.step();
        services.set_market(market);
        // Rebuild a faulted instance (and run its init) outside the timing.
        let _ = instance.on_timer(u64::MAX);
        let start = Instant::now();
        let result = instance.on_market(1, market, None);
        times.push(start.elapsed());
        if let Err(e) = result {
            outcome = e.to_string();
        }
    }
    let outcome = outcome.rsplit(": ").next().unwrap_or_default().to_owned();
    (median(times), outcome)
}

fn import_costs() {
    let rt = runtime(
        Limits {
            max_faults: u32::MAX,
            ..Limits::default()
        },
        false,
    );
    let cases: [(&str, &str, &str); 8] = [
        (
            "guest loop (the reference)",
            artifacts::HOSTILE_INFINITE_LOOP,
            "{}",
        ),
        (
            "state-get of 1,000 KiB",
            artifacts::HOSTILE_STATE_ABUSE,
            "{}",
        ),
        (
            "state-get of 1 KiB",
            artifacts::HOSTILE_STATE_ABUSE,
            r#"{"value_kib":1}"#,
        ),
        (
            "log + signal of 1 MiB",
            artifacts::HOSTILE_HUGE_STRINGS,
            "{}",
        ),
        (
            "log + signal of 100 B",
            artifacts::HOSTILE_HUGE_STRINGS,
            r#"{"bytes":100}"#,
        ),
        ("open-orders of 50+", artifacts::HOSTILE_OPEN_ORDERS, "{}"),
        (
            "set-timer",
            artifacts::HOSTILE_TIMER_FLOOD,
            r#"{"timers":100000000}"#,
        ),
        (
            "WASI wall clock",
            artifacts::HOSTILE_WASI_ABUSE,
            r#"{"abuse":"clock"}"#,
        ),
    ];
    // Each case is paired with a run of the reference just before it, so
    // the ratio holds while the machine's speed drifts.
    println!(
        "\n| call spending its fuel on | median ms | guest loop beside it, ms | ratio | ended by |"
    );
    println!("| --- | ---: | ---: | ---: | --- |");
    let reference = cases[0];
    for (label, path, params) in cases {
        let (base, _) = call_time(&rt, reference.1, reference.2);
        let (t, outcome) = call_time(&rt, path, params);
        println!(
            "| {label} | {:.2} | {:.2} | {:.2} | {outcome} |",
            t.as_secs_f64() * 1e3,
            base.as_secs_f64() * 1e3,
            t.as_secs_f64() / base.as_secs_f64()
        );
    }
    // The state-entry flood is bounded by its cap, not fuel; its cost per
    // call is shown for completeness.
    let (t, outcome) = call_time(
        &rt,
        artifacts::HOSTILE_STATE_ABUSE,
        r#"{"value_kib":1,"entries":10000}"#,
    );
    println!(
        "| state-set of 10,000 new entries | {:.2} | | {outcome} |",
        t.as_secs_f64() * 1e3
    );
}

fn stalls() {
    let rt = runtime(Limits::default(), true);
    let file =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/betfair/1.197931750");
    let healthy = (artifacts::BACK_FAV_PREOFF, "{}");
    let cases: [(&str, &str, &str); 12] = [
        ("(back-fav-preoff alone)", "", ""),
        ("infinite-loop", artifacts::HOSTILE_INFINITE_LOOP, "{}"),
        ("alloc", artifacts::HOSTILE_ALLOC, "{}"),
        ("log-flood", artifacts::HOSTILE_LOG_FLOOD, "{}"),
        ("order-flood", artifacts::HOSTILE_ORDER_FLOOD, "{}"),
        ("timer-flood", artifacts::HOSTILE_TIMER_FLOOD, "{}"),
        (
            "timer-flood, re-armed",
            artifacts::HOSTILE_TIMER_FLOOD,
            r#"{"timers":1000,"once":1,"after_ms":0,"rearm":1}"#,
        ),
        (
            "timer-flood, 1,000 heavy due at once",
            artifacts::HOSTILE_TIMER_FLOOD,
            r#"{"timers":1000,"once":1,"after_ms":1000,"burn":1000000}"#,
        ),
        ("state-abuse (reads)", artifacts::HOSTILE_STATE_ABUSE, "{}"),
        ("huge-strings", artifacts::HOSTILE_HUGE_STRINGS, "{}"),
        ("open-orders", artifacts::HOSTILE_OPEN_ORDERS, "{}"),
        (
            "wasi-abuse (sleep, stdout, clock)",
            artifacts::HOSTILE_WASI_ABUSE,
            "",
        ),
    ];
    println!("\n| beside back-fav-preoff | longest event, ms (median of 3) | faults |");
    println!("| --- | ---: | --- |");
    for (label, path, params) in cases {
        let variants: Vec<String> = if label.starts_with("wasi") {
            ["sleep", "stdout", "clock"]
                .iter()
                .map(|a| format!(r#"{{"abuse":"{a}"}}"#))
                .collect()
        } else {
            vec![params.to_owned()]
        };
        let mut longest = Duration::ZERO;
        let mut faults = Vec::new();
        for params in &variants {
            let mut runs = Vec::new();
            for _ in 0..3 {
                let plugins: Vec<(&str, &str)> = if path.is_empty() {
                    vec![healthy]
                } else {
                    vec![healthy, (path, params.as_str())]
                };
                let staged = stage::stage(&rt, &plugins, &file);
                runs.push(staged.longest_event);
                if let Some(o) = staged.outcomes.get(1) {
                    faults = o.faults.iter().map(|f| f.cause.to_string()).collect();
                }
            }
            longest = longest.max(median(runs));
        }
        let shown = faults.first().cloned().unwrap_or_else(|| "none".into());
        println!(
            "| {label} | {:.2} | {} × {shown} |",
            longest.as_secs_f64() * 1e3,
            faults.len()
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument picks one table.
    let which: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if which.is_empty() || which.iter().any(|w| w == "imports") {
        import_costs();
    }
    if which.is_empty() || which.iter().any(|w| w == "stalls") {
        stalls();
    }
}

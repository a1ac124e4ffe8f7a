//! `GET /metrics`: the host in Prometheus' text format (version 0.0.4).
//! Every figure is read when scraped, from the loop's status report and
//! the store: nothing keeps a second set of counters to drift from the
//! first. The format is written here (a few lines per metric kind) rather
//! than through a registry crate, because the figures are snapshots the
//! loop already owns, not metric objects updated in place.

use std::fmt::Write as _;

use clever_engine::Tally;
use clever_runtime::{HOOK_BUCKETS_US, HOOK_SAMPLE};
use clever_store::QUERY_BUCKETS_US;

use crate::live::HostStatus;

/// What the store says, for a scrape.
#[derive(Debug, Clone, Default)]
pub struct StoreFigures {
    /// Alert deliveries sent, given up, waiting.
    pub deliveries: (i64, i64, i64),
    /// Journalled orders the venue never received, by strategy.
    pub failed_orders: Vec<(String, i64)>,
    /// Query times: calls per bucket of `QUERY_BUCKETS_US` (the last
    /// above them), and the sum in µs.
    pub query_times: (Vec<u64>, u64),
}

/// The exposition of `status` and `store` for a host trading on `venue`.
pub fn render(status: &HostStatus, venue: &str, store: &StoreFigures) -> String {
    let mut out = Text::default();
    let r = &status.replay;
    out.head("clever_updates_total", "counter", "Market updates handled.");
    out.line("clever_updates_total", &[], r.updates as f64);
    out.head(
        "clever_kill_switch",
        "gauge",
        "1 while the kill switch is on.",
    );
    out.line(
        "clever_kill_switch",
        &[],
        f64::from(u8::from(status.killed)),
    );
    out.head(
        "clever_market_data_lag_seconds",
        "gauge",
        "Wall clock minus the publish time of the latest update, when it was handled.",
    );
    if let Some(lag) = r.lag_ms {
        out.line("clever_market_data_lag_seconds", &[], lag as f64 / 1e3);
    }
    out.head(
        "clever_market_data_lag_max_seconds",
        "gauge",
        "The largest lag so far.",
    );
    out.line(
        "clever_market_data_lag_max_seconds",
        &[],
        r.max_lag_ms as f64 / 1e3,
    );
    strategies(&mut out, status, venue, store);
    let (sent, failed, waiting) = store.deliveries;
    out.head(
        "clever_alerts_sent_total",
        "counter",
        "Alert deliveries a webhook took.",
    );
    out.line("clever_alerts_sent_total", &[], sent as f64);
    out.head(
        "clever_alerts_failed_total",
        "counter",
        "Alert deliveries given up.",
    );
    out.line("clever_alerts_failed_total", &[], failed as f64);
    out.head(
        "clever_alerts_waiting",
        "gauge",
        "Alert deliveries not yet sent.",
    );
    out.line("clever_alerts_waiting", &[], waiting as f64);
    let (counts, sum) = &store.query_times;
    out.head(
        "clever_store_query_duration_seconds",
        "histogram",
        "Database queries (journal and alert writes, reads) of this process.",
    );
    out.histogram(
        "clever_store_query_duration_seconds",
        &[],
        (&QUERY_BUCKETS_US, counts),
        *sum,
    );
    out.0
}

fn strategies(out: &mut Text, status: &HostStatus, venue: &str, store: &StoreFigures) {
    let by = |s: &str| vec![("strategy", s.to_owned()), ("venue", venue.to_owned())];
    let mut counter = |name: &str, help: &str, count: fn(&Tally) -> u64| {
        out.head(name, "counter", help);
        for s in &status.strategies {
            out.line(name, &by(&s.label), count(&s.tally) as f64);
        }
    };
    counter(
        "clever_orders_placed_total",
        "Orders risk and the venue took.",
        |t| t.placed,
    );
    counter(
        "clever_plugin_warnings_total",
        "Log lines of level warn or error a strategy wrote, printed or not.",
        |t| t.warnings,
    );
    out.head(
        "clever_orders_refused_total",
        "counter",
        "Orders refused, by reason.",
    );
    for s in &status.strategies {
        for (reason, n) in &s.tally.rejected {
            let mut labels = by(&s.label);
            labels.push(("reason", reason.clone()));
            out.line("clever_orders_refused_total", &labels, *n as f64);
        }
    }
    out.head(
        "clever_orders_failed_total",
        "counter",
        "Orders the venue never received.",
    );
    for (strategy, n) in &store.failed_orders {
        out.line("clever_orders_failed_total", &by(strategy), *n as f64);
    }
    out.head(
        "clever_matched_stake_total",
        "counter",
        "Stake matched in settled markets.",
    );
    for s in &status.strategies {
        let matched = s.totals.figures.matched.to_f64();
        out.line("clever_matched_stake_total", &by(&s.label), matched);
    }
    out.head(
        "clever_execution_success_ratio",
        "gauge",
        "Orders placed over orders asked for (placed and refused).",
    );
    for s in &status.strategies {
        let refused: u64 = s.tally.rejected.values().sum();
        let asked = s.tally.placed + refused;
        if asked > 0 {
            let ratio = s.tally.placed as f64 / asked as f64;
            out.line("clever_execution_success_ratio", &by(&s.label), ratio);
        }
    }
    out.head(
        "clever_strategy_faults",
        "gauge",
        "Faults of the version running now.",
    );
    out.head("clever_strategy_quarantined", "gauge", "1 if quarantined.");
    for s in &status.strategies {
        let labels = [("strategy", s.label.clone())];
        out.line("clever_strategy_faults", &labels, s.faults as f64);
        out.line(
            "clever_strategy_quarantined",
            &labels,
            f64::from(u8::from(s.quarantined)),
        );
    }
    let help = format!("Time in the plugin's hooks; one call in {HOOK_SAMPLE} is timed.");
    out.head("clever_hook_duration_seconds", "histogram", &help);
    for s in &status.strategies {
        let t = &s.hook_times;
        let labels = [("strategy", s.label.clone())];
        let buckets = (&HOOK_BUCKETS_US[..], &t.counts[..]);
        out.histogram("clever_hook_duration_seconds", &labels, buckets, t.sum_us);
    }
}

/// The text being written.
#[derive(Default)]
struct Text(String);

impl Text {
    fn head(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    fn line(&mut self, name: &str, labels: &[(&str, String)], value: f64) {
        let _ = writeln!(self.0, "{name}{} {value}", braces(labels));
    }

    /// A histogram from µs `bounds` and per-bucket `counts` (one more
    /// than the bounds: the last above them), cumulated as the format
    /// wants, in seconds.
    fn histogram(
        &mut self,
        name: &str,
        labels: &[(&str, String)],
        (bounds, counts): (&[u64], &[u64]),
        sum_us: u64,
    ) {
        let mut seen = 0;
        for (i, count) in counts.iter().enumerate() {
            seen += count;
            let le = bounds
                .get(i)
                .map_or("+Inf".into(), |us| (*us as f64 / 1e6).to_string());
            let mut with = labels.to_vec();
            with.push(("le", le));
            self.line(&format!("{name}_bucket"), &with, seen as f64);
        }
        self.line(&format!("{name}_sum"), labels, sum_us as f64 / 1e6);
        self.line(&format!("{name}_count"), labels, seen as f64);
    }
}

/// `{a="x",b="y"}` with the values escaped, or nothing.
fn braces(labels: &[(&str, String)]) -> String {
    if labels.is_empty() {
        return String::new();
    }
    let escape = |v: &str| {
        v.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    };
    let inner: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_is_cumulative_and_labels_are_escaped() {
        let mut t = Text::default();
        t.histogram(
            "h",
            &[("s", "a\"b".into())],
            (&[10, 100], &[1, 2, 3]),
            2_000_000,
        );
        let lines: Vec<&str> = t.0.lines().collect();
        assert_eq!(
            lines,
            [
                "h_bucket{s=\"a\\\"b\",le=\"0.00001\"} 1",
                "h_bucket{s=\"a\\\"b\",le=\"0.0001\"} 3",
                "h_bucket{s=\"a\\\"b\",le=\"+Inf\"} 6",
                "h_sum{s=\"a\\\"b\"} 2",
                "h_count{s=\"a\\\"b\"} 6",
            ]
        );
    }
}

//! Alerts from a running host to a local webhook receiver over real
//! HTTP: odds-watch's signals on a real race trip a rule, the kill switch
//! raises one of the host's own, a receiver that fails first gets each
//! alert once in the end, and a host killed while its receiver is down
//! leaves its alerts in the outbox for the next start to deliver, none
//! twice.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::serve::{Server, TOKEN};
use crate::store::TestDb;

/// A webhook receiver on loopback: answers 500 to its first `fail_first`
/// requests, and to every request while `down`; 200 otherwise, keeping
/// each accepted body by its idempotency key.
struct Receiver {
    url: String,
    fail_first: Arc<AtomicUsize>,
    down: Arc<AtomicBool>,
    requests: Arc<AtomicUsize>,
    accepted: Arc<Mutex<Vec<(String, Value)>>>,
}

impl Receiver {
    fn start(fail_first: usize) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let receiver = Receiver {
            url,
            fail_first: Arc::new(AtomicUsize::new(fail_first)),
            down: Arc::new(AtomicBool::new(false)),
            requests: Arc::new(AtomicUsize::new(0)),
            accepted: Arc::new(Mutex::new(Vec::new())),
        };
        let (fail, down) = (receiver.fail_first.clone(), receiver.down.clone());
        let (requests, accepted) = (receiver.requests.clone(), receiver.accepted.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                // A connection closed before its request line is no request:
                // a host killed mid-delivery leaves one in the backlog.
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                    continue;
                }
                let (mut length, mut key) = (0, String::new());
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    if lower.starts_with("idempotency-key:") {
                        key = line["idempotency-key:".len()..].trim().to_owned();
                    }
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    continue; // cut off mid-request: nothing was delivered
                }
                requests.fetch_add(1, Ordering::SeqCst);
                let failing = down.load(Ordering::SeqCst)
                    || fail
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok();
                let status = if failing {
                    "500 Internal Server Error"
                } else {
                    "200 OK"
                };
                if !failing {
                    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    accepted.lock().unwrap().push((key, body));
                }
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
            }
        });
        receiver
    }

    /// How many times each idempotency key was accepted.
    fn accepted(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for (key, _) in self.accepted.lock().unwrap().iter() {
            *counts.entry(key.clone()).or_default() += 1;
        }
        counts
    }
}

fn race() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/betfair/1.197931750")
}

/// An alert file posting to `url`, with the drift rule if `rule`.
fn alert_file(dir: &Path, url: &str, rule: bool) -> PathBuf {
    let rule = match rule {
        true => {
            "[[rule]]\nname = \"drift\"\nsignal = \"price-drifted\"\ncomparison = \">=\"\n\
                 threshold = 0.05\ncooldown_secs = 120\nseverity = \"warning\"\n"
        }
        false => "",
    };
    let text = format!(
        "backoff_ms = 50\nmax_backoff_ms = 200\n{rule}\
         [[webhook]]\nname = \"hook\"\nurl = \"{url}\"\nmax_attempts = 1000\ntimeout_ms = 2000\n"
    );
    let path = dir.join(if rule.is_empty() {
        "quiet.toml"
    } else {
        "alerts.toml"
    });
    std::fs::write(&path, text).unwrap();
    path
}

/// `clever serve` of the race with odds-watch active, alerting as `alerts`.
fn serving(db: &TestDb, dir: &Path, alerts: &Path) -> Server {
    let params = dir.join("watch.json");
    std::fs::write(&params, r#"{"move_share": 0.05, "within_secs": 60}"#).unwrap();
    let params = format!("odds-watch={}", params.display());
    let alerts = alerts.to_str().unwrap();
    let args = ["--speed", "0", "--params", &params, "--alerts", alerts];
    Server::start(db, &race(), &args, Some(TOKEN))
}

/// `GET /alerts` once `ready` holds of them and every delivery is sent.
fn all_delivered(server: &Server, ready: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let alerts = server.get("/alerts?limit=1000");
        let alerts = alerts.as_array().cloned().unwrap_or_default();
        let sent = |a: &Value| {
            a["deliveries"]
                .as_array()
                .is_some_and(|d| d.iter().all(|d| d["sent_at"].is_i64()))
        };
        if ready(&alerts) && alerts.iter().all(sent) {
            return alerts;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "{alerts:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn signals_and_the_kill_switch_reach_a_webhook_that_fails_first_once_each() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    crate::live::published(&db.url, clever_plugin_artifacts::ODDS_WATCH);
    let receiver = Receiver::start(3);
    let server = serving(
        &db,
        dir.path(),
        &alert_file(dir.path(), &receiver.url, true),
    );
    server.wait_for("the replay", |h| h["replay"]["finished"] == true);
    let (status, answer) = server.call("POST", "/kill", Some(TOKEN), b"");
    assert_eq!(status, 200, "{answer}");
    let alerts = all_delivered(&server, |a| a.iter().any(|a| a["name"] == "kill-switch"));
    let drifts: Vec<_> = alerts.iter().filter(|a| a["name"] == "drift").collect();
    assert!(!drifts.is_empty(), "{alerts:?}");
    for a in &drifts {
        assert_eq!(
            (&a["source"], &a["strategy"]),
            (&"signal".into(), &"odds-watch".into())
        );
        assert!(
            a["value"].as_f64().unwrap() >= 0.05 && a["threshold"] == 0.05,
            "{a}"
        );
        assert!(
            a["market_id"] == "1.197931750" && a["selection_id"].is_i64(),
            "{a}"
        );
    }
    let kill = alerts
        .iter()
        .find(|a| a["name"] == "kill-switch")
        .expect("the kill switch");
    assert_eq!(kill["source"], "host");
    // Each alert accepted exactly once; the first three attempts failed
    // and were retried.
    let accepted = receiver.accepted();
    let ids: BTreeMap<String, usize> = alerts
        .iter()
        .map(|a| (format!("clever-alert-{}", a["id"]), 1))
        .collect();
    assert_eq!(accepted, ids);
    assert_eq!(receiver.requests.load(Ordering::SeqCst), alerts.len() + 3);
    let retried: i64 = alerts
        .iter()
        .map(|a| a["deliveries"][0]["attempts"].as_i64().unwrap() - 1)
        .sum();
    assert_eq!(retried, 3, "{alerts:?}");
    let bodies = receiver.accepted.lock().unwrap().clone();
    assert!(
        bodies
            .iter()
            .all(|(_, b)| b["name"].is_string() && b["id"].is_i64()),
        "{bodies:?}"
    );
}

#[test]
fn alerts_a_killed_host_could_not_deliver_are_delivered_by_the_next_start_once() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    crate::live::published(&db.url, clever_plugin_artifacts::ODDS_WATCH);
    let receiver = Receiver::start(0);
    receiver.down.store(true, Ordering::SeqCst);
    let server = serving(
        &db,
        dir.path(),
        &alert_file(dir.path(), &receiver.url, true),
    );
    server.wait_for("the replay", |h| h["replay"]["finished"] == true);
    let start = Instant::now();
    let raised = loop {
        let alerts = server.get("/alerts?limit=1000");
        let alerts = alerts.as_array().cloned().unwrap_or_default();
        let tried = |a: &Value| a["deliveries"][0]["attempts"].as_i64().unwrap_or(0) > 0;
        if !alerts.is_empty() && alerts.iter().all(tried) {
            break alerts;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "{alerts:?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(server); // SIGKILL, mid-delivery: every delivery failed so far
    assert!(receiver.accepted().is_empty());
    receiver.down.store(false, Ordering::SeqCst);
    // The next start raises nothing new (no rule) and delivers the rest.
    let server = serving(
        &db,
        dir.path(),
        &alert_file(dir.path(), &receiver.url, false),
    );
    let alerts = all_delivered(&server, |a| a.len() >= raised.len());
    assert_eq!(alerts.len(), raised.len(), "nothing new, nothing lost");
    let ids: BTreeMap<String, usize> = alerts
        .iter()
        .map(|a| (format!("clever-alert-{}", a["id"]), 1))
        .collect();
    assert_eq!(receiver.accepted(), ids, "each once");
}

/// The host's own events: a plugin that panics on every update raises
/// `strategy-faulted` for each fault and `strategy-quarantined` once.
#[test]
fn a_faulting_strategy_raises_the_hosts_own_alerts() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let (name, _) = crate::live::published(&db.url, clever_plugin_artifacts::HOSTILE_PANIC);
    let receiver = Receiver::start(0);
    let alerts = alert_file(dir.path(), &receiver.url, false);
    let args = ["--speed", "0", "--alerts", alerts.to_str().unwrap()];
    let server = Server::start(&db, &race(), &args, Some(TOKEN));
    let quarantined = |a: &[Value]| a.iter().any(|a| a["name"] == "strategy-quarantined");
    let alerts = all_delivered(&server, quarantined);
    let faulted = alerts
        .iter()
        .filter(|a| a["name"] == "strategy-faulted")
        .count();
    let status = server.get("/strategies");
    let faults = status[0]["faults"].as_u64().unwrap() as usize;
    assert!(
        faults > 1 && faulted == faults,
        "{faulted} alerts for {faults} faults: {status}"
    );
    let once = alerts
        .iter()
        .filter(|a| a["name"] == "strategy-quarantined")
        .count();
    assert_eq!(once, 1);
    assert!(
        alerts
            .iter()
            .all(|a| a["strategy"] == name.as_str() && a["source"] == "host")
    );
    assert!(alerts.iter().any(|a| {
        a["message"]
            .as_str()
            .unwrap_or("")
            .contains("hostile panic")
    }));
    assert_eq!(receiver.accepted().len(), alerts.len());
}

/// `GET /metrics`, scraped from a host serving the race with
/// back-fav-preoff and the reader fixture: every line is Prometheus' text
/// format, and the figures are the host's own (its status, the store).
#[test]
fn metrics_are_scraped_in_prometheus_text_format_and_match_the_status() {
    let db = TestDb::sqlite();
    crate::live::published(&db.url, clever_plugin_artifacts::BACK_FAV_PREOFF);
    // The reader wants every update (back-fav-preoff is done with the
    // market once it has backed), so its hooks are timed often enough.
    crate::live::published(&db.url, clever_plugin_artifacts::FIXTURE_READER);
    let server = Server::start(&db, &race(), &["--speed", "0"], Some(TOKEN));
    server.wait_for("the replay", |h| h["replay"]["finished"] == true);
    let strategies = server.get("/strategies");
    let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
    let mut response = agent
        .get(&format!("{}/metrics", server.url()))
        .call()
        .unwrap();
    let kind = response
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    let text = response.body_mut().read_to_string().unwrap();
    let mut samples = BTreeMap::new();
    let mut typed = std::collections::BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            typed.insert(name.to_owned());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("{line}"));
        let name = series.split('{').next().unwrap();
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .fold(name, |n, s| n.strip_suffix(s).unwrap_or(n));
        assert!(
            typed.contains(name) || typed.contains(family),
            "no TYPE for {line}"
        );
        samples.insert(series.to_owned(), value);
    }
    let back = (strategies.as_array().unwrap().iter())
        .find(|s| s["name"] == "back-fav-preoff")
        .unwrap();
    let placed = back["tally"]["placed"].as_f64().unwrap();
    assert!(placed > 0.0, "{strategies}");
    let labels = "{strategy=\"back-fav-preoff\",venue=\"betfair\"}";
    assert_eq!(
        samples[&format!("clever_orders_placed_total{labels}")],
        placed
    );
    assert_eq!(
        samples[&format!("clever_execution_success_ratio{labels}")],
        1.0
    );
    assert_eq!(
        samples[&format!("clever_plugin_warnings_total{labels}")],
        back["tally"]["warnings"].as_f64().unwrap()
    );
    assert_eq!(samples["clever_updates_total"], 166.0);
    let hooks = samples["clever_hook_duration_seconds_count{strategy=\"fixture-reader\"}"];
    let all =
        samples["clever_hook_duration_seconds_bucket{strategy=\"fixture-reader\",le=\"+Inf\"}"];
    // One hook call in 16 is timed; there were more than 166.
    assert!(
        hooks >= (166 / 16) as f64 && hooks == all,
        "{hooks} hook calls timed"
    );
    assert!(samples["clever_store_query_duration_seconds_count"] > 0.0);
    // The race was run in 2022: its data is years behind the wall clock.
    assert!(samples["clever_market_data_lag_seconds"] > 3.0 * 365.0 * 86_400.0);
    assert_eq!(samples["clever_kill_switch"], 0.0);
}

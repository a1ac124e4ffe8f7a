//! `clever serve` end to end: the registry, the HTTP API on loopback and a
//! hot swap mid-replay, against the real binary, a real SQLite file and
//! generated stream files; plus the engine's swap on its own.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use clever_host::engine::{Desk, Engine, SimClock, SwapError};
use clever_host::market::{Decimal, Money};
use clever_host::risk::{RiskBook, RiskLimits};
use clever_host::runtime::InertServices;
use clever_host::sim::{SimConfig, SimVenue};
use clever_plugin_artifacts as artifacts;
use clever_sdk::Timestamp;
use serde_json::{Value, json};

use super::store::TestDb;
use super::support;

pub(crate) const TOKEN: &str = "test-token-5e1f";

pub(crate) fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve-cache")
}

pub(crate) fn clever(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clever"))
        .args(args)
        .env("CLEVER_CACHE_DIR", cache_dir())
        .env("CLEVER_API_TOKEN", TOKEN)
        .output()
        .expect("run clever")
}

pub(crate) fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "clever failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Generated stream files, `markets` of them.
fn generated(markets: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().to_str().expect("utf-8 path");
    ok(&clever(&[
        "gen",
        "--markets",
        &markets.to_string(),
        "--seed",
        "11",
        "--out",
        out,
    ]));
    dir
}

/// A sandbox file with a 10 s deadline: a debug build on a busy CI machine
/// may be descheduled for longer than the default 50 ms, and a deadline
/// fault would rebuild the counter mid-test. The default deadline is
/// tested in `hostile`.
pub(crate) fn generous_deadline() -> &'static Path {
    static FILE: std::sync::OnceLock<tempfile::NamedTempFile> = std::sync::OnceLock::new();
    FILE.get_or_init(|| {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        std::io::Write::write_all(
            &mut file,
            b"[sandbox]\ndeadline_ms = 10_000\ninit_deadline_ms = 60_000\n",
        )
        .expect("write the limits file");
        file
    })
    .path()
}

/// A running `clever serve` (or `clever live`), killed when dropped.
pub(crate) struct Server {
    child: Child,
    url: String,
}

impl Server {
    /// Start serving `data` from `db` with `args`; the token comes from the
    /// environment unless `token` is `None`.
    pub(crate) fn start(db: &TestDb, data: &Path, args: &[&str], token: Option<&str>) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_clever"));
        cmd.args([
            "serve",
            "--db",
            &db.url,
            "--listen",
            "127.0.0.1:0",
            "--replay",
        ])
        .arg(data)
        .arg("--limits")
        .arg(generous_deadline())
        .args(args)
        .env("CLEVER_CACHE_DIR", cache_dir())
        .env_remove("CLEVER_API_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
        if let Some(token) = token {
            cmd.env("CLEVER_API_TOKEN", token);
        }
        Server::spawn(cmd, "clever serve: listening on ")
    }

    /// Run `cmd` and wait for the line starting `prefix` and ending in
    /// its API's URL.
    pub(crate) fn spawn(mut cmd: Command, prefix: &str) -> Server {
        cmd.stdout(Stdio::piped());
        let mut child = cmd.spawn().expect("start clever");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(url) = line.strip_prefix(prefix) {
                        break url.to_owned();
                    }
                }
                _ => {
                    let status = child.wait().expect("wait");
                    panic!("clever stopped before listening: {status}");
                }
            }
        };
        // Keep reading, so the host never writes into a closed pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Server { child, url }
    }

    pub(crate) fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &[u8],
    ) -> (u16, Value) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let url = format!("{}{path}", self.url);
        let response = if method == "GET" {
            agent.get(&url).call()
        } else {
            let mut request = agent.post(&url).content_type("application/json");
            if let Some(token) = token {
                request = request.header("Authorization", format!("Bearer {token}"));
            }
            request.send(body)
        };
        let mut response = response.expect("HTTP call");
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// The API's base URL.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Whether the process still runs.
    pub(crate) fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub(crate) fn get(&self, path: &str) -> Value {
        let (status, body) = self.call("GET", path, None, b"");
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    fn post(&self, path: &str, body: Value) -> Value {
        let (status, answer) = self.call("POST", path, Some(TOKEN), body.to_string().as_bytes());
        assert_eq!(status, 200, "POST {path}: {answer}");
        answer
    }

    /// Wait until `ready` holds of `/health`.
    pub(crate) fn wait_for(&self, what: &str, ready: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let health = self.get("/health");
            if ready(&health) {
                return health;
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "waiting for {what}: {health}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn version_figures<'a>(strategy: &'a Value, version: &str) -> &'a Value {
    strategy["versions"]
        .as_array()
        .and_then(|v| v.iter().find(|f| f["version"] == version))
        .unwrap_or_else(|| panic!("no figures for {version}: {strategy}"))
}

#[test]
fn a_version_swapped_in_mid_replay_takes_over_without_losing_or_repeating_an_event() {
    let db = TestDb::sqlite();
    let data = generated(400);
    ok(&clever(&[
        "plugin",
        "publish",
        artifacts::FIXTURE_COUNTER,
        "--db",
        &db.url,
    ]));
    ok(&clever(&[
        "plugin",
        "activate",
        "counter@1.0.0",
        "--db",
        &db.url,
    ]));
    let server = Server::start(&db, data.path(), &["--speed", "0"], Some(TOKEN));

    // 1.1.0 arrives over HTTP, through the CLI, while the replay runs.
    let out = ok(&clever(&[
        "plugin",
        "publish",
        artifacts::FIXTURE_COUNTER_NEXT,
        "--host",
        &server.url,
        "--json",
    ]));
    let published: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        (published["name"].as_str(), published["version"].as_str()),
        (Some("counter"), Some("1.1.0"))
    );

    server.wait_for("the first updates", |h| {
        h["replay"]["updates"].as_u64() > Some(0)
    });
    let swap = server.post("/plugins/counter/activate", json!({ "version": "1.1.0" }));
    assert_eq!(swap["outcome"], "swapped", "{swap}");
    assert_eq!(swap["swap"]["from"], "1.0.0");
    assert!(
        swap["swap"]["ready_ms"].is_number(),
        "1.1.0 handled no event before the replay ended: {swap}"
    );
    // The open orders stayed, and the new version's `open-orders` shows it
    // exactly those (it signals the count from `restore`).
    let inherited = &server.get("/strategies")[0]["tally"]["last_signals"]["inherited_open_orders"];
    assert_eq!(
        inherited.as_f64(),
        swap["swap"]["open_orders"].as_f64(),
        "{swap}"
    );
    // The old version beside the new one, for comparison, on its own desk.
    let beside = server.post(
        "/plugins/counter/activate",
        json!({ "version": "1.0.0", "alongside": true }),
    );
    assert_eq!(beside["label"], "counter@1.0.0", "{beside}");

    let health = server.wait_for("the end of the replay", |h| h["replay"]["finished"] == true);
    let replayed = health["replay"]["updates"].as_u64().expect("updates");
    assert_eq!(health["replay"]["markets"], 400);
    let strategies = server.get("/strategies");
    let counter = &strategies[0];
    assert_eq!(counter["label"], "counter");
    assert_eq!(counter["version"], "1.1.0");
    let (old, new) = (
        version_figures(counter, "1.0.0"),
        version_figures(counter, "1.1.0"),
    );
    let (seen_old, seen_new) = (
        old["events"].as_u64().unwrap(),
        new["events"].as_u64().unwrap(),
    );
    assert!(seen_old > 0 && seen_new > 0, "{counter}");
    assert_eq!(
        seen_old + seen_new,
        replayed,
        "every event exactly once: {counter}"
    );
    // The plugin's own counter crossed the swap in its snapshot.
    assert_eq!(
        counter["tally"]["last_signals"]["count"].as_f64(),
        Some(replayed as f64)
    );
    // Every order is booked to the version that placed it.
    let orders = old["orders"].as_u64().unwrap() + new["orders"].as_u64().unwrap();
    assert_eq!(orders, counter["tally"]["placed"].as_u64().unwrap());
    assert!(
        old["orders"].as_u64() > Some(0) && new["orders"].as_u64() > Some(0),
        "{counter}"
    );
    // One ledger: the versions' figures add up to the totals exactly.
    for figure in ["orders", "matched", "gross_profit", "commission", "profit"] {
        let sum = money(&old[figure]) + money(&new[figure]);
        assert_eq!(
            sum,
            money(&counter["totals"][figure]),
            "{figure}: {counter}"
        );
    }
    let beside = &strategies[1];
    assert_eq!(
        (beside["label"].as_str(), beside["version"].as_str()),
        (Some("counter@1.0.0"), Some("1.0.0"))
    );
    assert!(beside["events"].as_u64() > Some(0) && beside["events"].as_u64() < Some(replayed));

    // The registry follows the host.
    let shown = ok(&clever(&[
        "plugin",
        "show",
        "counter@1.1.0",
        "--db",
        &db.url,
        "--json",
    ]));
    let shown: Value = serde_json::from_str(&shown).expect("JSON");
    assert_eq!(shown[0]["active"], true, "{shown}");
    let back = ok(&clever(&[
        "plugin",
        "rollback",
        "counter",
        "--host",
        &server.url,
        "--json",
    ]));
    let back: Value = serde_json::from_str(&back).expect("JSON");
    assert_eq!(
        (back["version"].as_str(), back["outcome"].as_str()),
        (Some("1.0.0"), Some("swapped")),
        "{back}"
    );
    assert_eq!(server.get("/strategies")[0]["version"], "1.0.0");

    let killed = server.post("/kill", json!({}));
    assert_eq!(killed["killed"], true);
    assert_eq!(server.get("/health")["killed"], true);

    // The switch survives a restart, until it is released.
    drop(server);
    let server = Server::start(&db, data.path(), &["--speed", "0"], Some(TOKEN));
    assert_eq!(server.get("/health")["killed"], true);
    let released = server.post("/kill/release", json!({}));
    assert_eq!(released["was_killed"], true, "{released}");
    assert_eq!(server.get("/health")["killed"], false);
    drop(server);
    let server = Server::start(&db, data.path(), &["--speed", "0"], Some(TOKEN));
    assert_eq!(server.get("/health")["killed"], false);

    // `clever kill` from another process reaches the running host through
    // the database, and so does its release.
    let pulled = ok(&clever(&["kill", "--db", &db.url]));
    assert!(pulled.starts_with("the kill switch is on: "), "{pulled}");
    let killed = |want: bool| {
        let waited = std::time::Instant::now();
        while server.get("/health")["killed"] != want {
            assert!(
                waited.elapsed() < std::time::Duration::from_secs(15),
                "the host did not follow the database's kill switch to {want}"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    };
    killed(true);
    let released = ok(&clever(&["kill", "--release", "--db", &db.url]));
    assert!(
        released.starts_with("the kill switch is released (it was pulled "),
        "{released}"
    );
    killed(false);
    let again = ok(&clever(&["kill", "--release", "--db", &db.url]));
    assert_eq!(again.trim(), "the kill switch was not on: nothing changed");
    // A database that does not exist has no host to stop: refused, not made.
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("mistyped.db");
    let out = clever(&["kill", "--db", &format!("sqlite://{}", missing.display())]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && said.contains("no such database"),
        "{said}"
    );
    assert!(!missing.exists());
}

#[test]
fn calls_that_change_something_need_the_token_and_bad_uploads_are_refused_with_the_reason() {
    let db = TestDb::sqlite();
    let data = generated(2);
    let dir = tempfile::tempdir().unwrap();
    let misspelt = dir.path().join("lay.json");
    std::fs::write(&misspelt, r#"{"belwo": 1.8}"#).unwrap();
    let params = format!("lay-low-inplay={}", misspelt.display());
    let server = Server::start(
        &db,
        data.path(),
        &["--speed", "0", "--max-upload-mb", "1", "--params", &params],
        Some(TOKEN),
    );
    for (token, why) in [(None, "needs"), (Some("wrong"), "wrong")] {
        let (status, body) = server.call("POST", "/kill", token, b"");
        assert_eq!(status, 401, "{body}");
        assert!(
            body["error"].as_str().is_some_and(|e| e.contains(why)),
            "{body}"
        );
    }
    assert_eq!(
        server.get("/health")["killed"],
        false,
        "refused calls change nothing"
    );

    let upload = |bytes: &[u8]| server.call("POST", "/plugins", Some(TOKEN), bytes);
    let (status, body) = upload(b"not wasm at all");
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("not a valid WebAssembly component"),
        "{body}"
    );
    let (status, body) = upload(&std::fs::read(artifacts::FIXTURE_WIT_V2).unwrap());
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("clever:strategy@2"),
        "{body}"
    );
    let (status, _) = upload(&vec![0u8; 1024 * 1024 + 1]);
    assert_eq!(status, 413);
    let (status, body) = upload(b"");
    assert_eq!(status, 400, "{body}");
    let (status, body) = upload(&std::fs::read(artifacts::FIXTURE_COUNTER).unwrap());
    assert_eq!(status, 201, "{body}");
    let (status, body) = upload(&std::fs::read(artifacts::FIXTURE_COUNTER).unwrap());
    assert_eq!(
        (status, &body["new"]),
        (200, &json!(false)),
        "the same bytes again: {body}"
    );

    let activate =
        |body: &[u8]| server.call("POST", "/plugins/counter/activate", Some(TOKEN), body);
    let (status, body) = activate(b"{\"version\": \"9.9.9\"}");
    assert_eq!(status, 404, "{body}");
    let (status, body) = activate(b"{\"versoin\": \"1.0.0\"}");
    assert_eq!(status, 400, "{body}");
    let (status, body) = activate(b"{\"version\": \"one\"}");
    assert_eq!(status, 400, "{body}");
    let (status, body) = server.call("POST", "/plugins/counter/rollback", Some(TOKEN), b"");
    assert_eq!(status, 409, "nothing earlier: {body}");
    let (status, body) = activate(b"{\"version\": \"1.0.0\"}");
    assert_eq!(
        (status, &body["outcome"]),
        (200, &json!("started")),
        "{body}"
    );
    // Its parameters name one it does not declare: not started, and why.
    let (status, body) = upload(&std::fs::read(artifacts::LAY_LOW_INPLAY).unwrap());
    assert_eq!(status, 201, "{body}");
    let (status, body) = server.call(
        "POST",
        "/plugins/lay-low-inplay/activate",
        Some(TOKEN),
        b"{\"version\": \"1.0.0\"}",
    );
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["error"],
        "--params lay-low-inplay: `belwo` is not a parameter of lay-low-inplay@1.0.0 (its \
         parameters: stake, below, cancel_after_ms); did you mean `below`? (so \
         lay-low-inplay@1.0.0 did not start)"
    );
    let running = server.get("/strategies");
    assert!(!running.to_string().contains("lay-low-inplay"), "{running}");
}

#[test]
fn the_host_will_not_serve_the_api_without_a_token_unless_told_it_is_local() {
    let db = TestDb::sqlite();
    let data = generated(1);
    let replay = data.path().to_str().unwrap();
    let base = ["serve", "--db", &db.url, "--replay", replay, "--listen"];
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_clever"))
            .args(base)
            .args(extra)
            .env_remove("CLEVER_API_TOKEN")
            .output()
            .expect("run clever")
    };
    let out = run(&["127.0.0.1:0"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--token-file FILE or $CLEVER_API_TOKEN")
    );
    let out = run(&["0.0.0.0:0", "--insecure-local"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback addresses only"));
    let empty = tempfile::NamedTempFile::new().unwrap();
    let out = run(&[
        "127.0.0.1:0",
        "--token-file",
        empty.path().to_str().unwrap(),
    ]);
    let said = String::from_utf8_lossy(&out.stderr);
    let wanted = format!("{}: the API token is empty", empty.path().display());
    assert!(said.contains(&wanted), "{said}");

    let server = Server::start(&db, data.path(), &["--insecure-local"], None);
    let (status, body) = server.call("POST", "/kill", None, b"");
    assert_eq!((status, &body["killed"]), (200, &json!(true)), "{body}");
}

/// The documented routes are exactly the served ones, each answers (no
/// 404 or 405), and those that change something require the token.
#[test]
fn the_openapi_file_documents_every_route_and_only_those() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut documented = Vec::new();
    for (route, methods) in doc["paths"].as_object().expect("paths") {
        for (method, op) in methods.as_object().expect("methods") {
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            documented.push((method.to_uppercase(), route.clone(), secured));
        }
    }
    documented.sort();
    let mut served: Vec<_> = clever_host::serve::api::routes()
        .into_iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned(), r.changes))
        .collect();
    served.sort();
    assert_eq!(
        documented, served,
        "docs/openapi.json and api::routes() differ"
    );

    let db = TestDb::sqlite();
    let data = generated(1);
    let server = Server::start(&db, data.path(), &[], Some(TOKEN));
    for (method, route, secured) in &served {
        let concrete = route.replace("{name}", "counter");
        if *secured {
            let (status, _) = server.call(method, &concrete, None, b"");
            assert_eq!(status, 401, "{method} {route} without the token");
        }
        let (status, body) = server.call(method, &concrete, Some(TOKEN), b"{}");
        assert!(
            status != 404
                || body["error"]
                    .as_str()
                    .is_some_and(|e| e.contains("not published") || e.contains("no stored odds")),
            "{method} {route}: {status} {body}"
        );
        assert_ne!(status, 405, "{method} {route}");
    }
}

fn desk() -> Box<Desk> {
    Box::new(Desk::new(
        RiskBook::new(RiskLimits::default()),
        Box::new(SimVenue::new(SimConfig::default())),
    ))
}

#[test]
fn a_failed_restore_keeps_the_running_version_and_its_desk() {
    let rt = support::runtime();
    let running = rt
        .runtime
        .instantiate(
            &rt.load(artifacts::FIXTURE_REFUSE_RESTART),
            "{}",
            Timestamp(0),
            desk(),
        )
        .unwrap();
    let mut engine = Engine::new(SimClock::default());
    engine.add_strategy_as("s".into(), running);
    // The counter cannot restore from the fixture's empty snapshot.
    let next = rt
        .runtime
        .instantiate(
            &rt.load(artifacts::FIXTURE_COUNTER),
            "{}",
            Timestamp(0),
            Box::new(InertServices),
        )
        .unwrap();
    let err = engine.swap("s", next).unwrap_err();
    assert!(matches!(err, SwapError::Restore { .. }), "{err}");
    assert!(
        err.to_string().contains("snapshot of 0 bytes has no count"),
        "{err}"
    );
    let status = &engine.statuses()[0];
    assert_eq!(
        status.name, "fixture-refuse-restart",
        "the old version stays"
    );
    assert_eq!(status.versions.len(), 1);
    // The desk came back with it: the engine still reaches it.
    assert_eq!(engine.kill_one("s"), 0);
    assert!(matches!(
        engine.swap(
            "nobody",
            rt.runtime
                .instantiate(
                    &rt.load(artifacts::FIXTURE_COUNTER),
                    "{}",
                    Timestamp(0),
                    desk()
                )
                .unwrap()
        ),
        Err(SwapError::Unknown(_))
    ));
}

/// A JSON number of the API as exact money (the API writes pennies).
fn money(v: &Value) -> Money {
    let text = v.to_string();
    let exact: Decimal = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
    assert_eq!(exact, exact.round_dp(2), "{text} is not whole pennies");
    Money::new(exact)
}

/// SIGTERM, what a service manager sends, stops the host as Ctrl-C does:
/// the API stops, the final status is printed, and it exits cleanly.
/// An active strategy whose parameters file names one it does not declare
/// stops the host at start-up, before anything trades, saying why.
#[test]
fn a_misspelt_parameter_of_an_active_strategy_stops_the_host_at_start() {
    let db = TestDb::sqlite();
    let data = generated(2);
    crate::live::published(&db.url, artifacts::LAY_LOW_INPLAY);
    let dir = tempfile::tempdir().unwrap();
    let misspelt = dir.path().join("lay.json");
    std::fs::write(&misspelt, r#"{"stake": 2, "cancel_after": 500}"#).unwrap();
    let mut out = Command::new(env!("CARGO_BIN_EXE_clever"))
        .args(["serve", "--db", &db.url, "--listen", "127.0.0.1:0"])
        .arg("--replay")
        .arg(data.path())
        .args(["--speed", "0", "--insecure-local", "--params"])
        .arg(format!("lay-low-inplay={}", misspelt.display()))
        .arg("--params")
        .arg(format!("lay_low_inplay={}", misspelt.display()))
        .env("CLEVER_CACHE_DIR", cache_dir())
        .env_remove("CLEVER_API_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start clever serve");
    // Were it started, it would serve until stopped.
    let started = std::time::Instant::now();
    while out.try_wait().expect("wait").is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = out.kill();
            panic!("the host started with a misspelt parameter");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = out.wait_with_output().expect("its output");
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains(
            "error: --params lay-low-inplay: `cancel_after` is not a parameter of \
             lay-low-inplay@1.0.0 (its parameters: stake, below, cancel_after_ms); did you mean \
             `cancel_after_ms`? (so lay-low-inplay@1.0.0 did not start)"
        ),
        "{said}"
    );
    // A NAME no published strategy has is named too: its file is unused.
    assert!(
        said.contains(
            "warning: --params lay_low_inplay: no strategy is published under that name yet, \
             so its file is not used until one is"
        ),
        "{said}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("listening on"));
}

#[test]
fn sigterm_stops_the_host_as_gracefully_as_ctrl_c() {
    let db = TestDb::sqlite();
    let data = generated(3);
    let mut child = Command::new(env!("CARGO_BIN_EXE_clever"))
        .args([
            "serve",
            "--db",
            &db.url,
            "--listen",
            "127.0.0.1:0",
            "--replay",
        ])
        .arg(data.path())
        .args(["--speed", "0", "--insecure-local"])
        .env("CLEVER_CACHE_DIR", cache_dir())
        .env_remove("CLEVER_API_TOKEN")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start clever serve");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = lines.next().expect("a line").expect("utf-8");
    assert!(first.contains("listening on"), "{first}");
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(term.success());
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status}");
    let last = lines
        .map_while(Result::ok)
        .last()
        .expect("the final status");
    let last: Value = serde_json::from_str(&last).expect("JSON");
    assert_eq!(last["mode"], "replay", "{last}");
    // Its session is marked stopped, the files it replayed its recording.
    let sessions = ok(&clever(&["runs", "sessions", "--db", &db.url, "--json"]));
    let sessions: Value = serde_json::from_str(&sessions).expect("JSON");
    let session = &sessions[0];
    assert_eq!(
        (sessions.as_array().map(Vec::len), &session["mode"]),
        (Some(1), &json!("replay"))
    );
    let (started, stopped) = (&session["started_at"], &session["stopped_at"]);
    assert!(
        stopped.is_i64() && stopped.as_i64() >= started.as_i64(),
        "{session}"
    );
    let replayed = session["recording"]
        .as_str()
        .unwrap_or_default()
        .lines()
        .count();
    assert_eq!(replayed, 3, "{session}");
}

//! Model predictions reach strategies in every mode, never ahead of
//! their time: value-kelly backs every runner of a real greyhound race as
//! soon as the model's probability (0.99: an edge at any price) is
//! visible. A prediction published at an update's publish time is
//! visible at that update; one published a millisecond later only at the
//! next, in a backtest (both databases) and in a running host.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::serve::{Server, TOKEN, clever, ok};
use crate::store::{TestDb, on_both};

fn race() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/betfair/1.197931750")
}

/// The race's market id, its runners, and the publish time of each update.
fn race_facts() -> (String, Vec<u64>, Vec<i64>) {
    let text = std::fs::read_to_string(race()).expect("the race file");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let first = &lines[0]["mc"][0];
    let runners = first["marketDefinition"]["runners"].as_array().unwrap();
    let runners = runners.iter().map(|r| r["id"].as_u64().unwrap()).collect();
    let times = lines.iter().map(|l| l["pt"].as_i64().unwrap()).collect();
    (first["id"].as_str().unwrap().to_owned(), runners, times)
}

/// The update whose time the predictions are published at (or just after).
const AT: usize = 10;

/// Predictions of `model` for every runner, published at `at`, as JSON lines.
fn predictions(model: &str, (market, runners): (&str, &[u64]), at: i64) -> String {
    (runners.iter())
        .map(|r| {
            let row = json!({ "model": model, "version": "1", "market": market,
                "selection": r, "probability": 0.99, "published_at": at });
            format!("{row}\n")
        })
        .collect()
}

/// A database with model `on` predicting at the update's time and model
/// `after` a millisecond later; the update times.
fn seeded(db: &TestDb, dir: &Path) -> Vec<i64> {
    let (market, runners, times) = race_facts();
    let mut lines = predictions("on", (&market, &runners), times[AT]);
    lines += &predictions("after", (&market, &runners), times[AT] + 1);
    let file = dir.join("predictions.jsonl");
    std::fs::write(&file, lines).unwrap();
    for model in ["on", "after"] {
        ok(&clever(&[
            "models", "register", model, "1", "--db", &db.url,
        ]));
    }
    let out = ok(&clever(&[
        "predictions",
        "import",
        file.to_str().unwrap(),
        "--db",
        &db.url,
        "--json",
    ]));
    let summary: Value = serde_json::from_str(&out).unwrap();
    let n = 2 * runners.len();
    assert_eq!(
        (&summary["stored"], &summary["refused"]),
        (&json!(n), &json!(0))
    );
    times
}

/// value-kelly's parameters reading `model`: a 2.00 stake on every runner.
fn params(model: &str) -> String {
    json!({ "model": model, "fraction": 1.0, "bankroll": 1000, "max_stake": 2 }).to_string()
}

/// When value-kelly's orders were placed in a saved backtest reading
/// `model`, earliest first.
fn backtested(db: &TestDb, model: &str) -> Vec<i64> {
    let out = kelly_on_the_race(model, &["--db", &db.url, "--save"]);
    ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let run = stderr.lines().find_map(|l| l.strip_prefix("saved as run "));
    let run = run.and_then(|l| l.split(':').next()).unwrap();
    let orders = crate::store::block_on(async {
        let store = clever_host::store::Store::open(&db.url).await.unwrap();
        let orders = store.run_orders(run.parse().unwrap()).await.unwrap();
        store.close().await;
        orders
    });
    let mut placed: Vec<i64> = orders.iter().map(|o| o.placed_at).collect();
    placed.sort();
    placed
}

/// `clever backtest` of value-kelly reading `model` over the race, with
/// `options`.
fn kelly_on_the_race(model: &str, options: &[&str]) -> std::process::Output {
    let data = race();
    let params = params(model);
    let mut args = vec!["backtest", "--plugin", clever_plugin_artifacts::VALUE_KELLY];
    args.extend(["--data", data.to_str().unwrap(), "--params", &params]);
    args.extend(options);
    clever(&args)
}

#[test]
fn a_prediction_is_seen_in_a_backtest_from_its_publish_time_and_not_a_millisecond_before() {
    on_both(|db| {
        let dir = tempfile::tempdir().unwrap();
        let times = seeded(db, dir.path());
        let runners = race_facts().1.len();
        let on = backtested(db, "on");
        assert_eq!(on.len(), runners, "{}: every runner backed once", db.url);
        assert_eq!(on[0], times[AT], "{}: seen at its own update", db.url);
        let after = backtested(db, "after");
        assert_eq!(after.len(), runners, "{}", db.url);
        assert_eq!(
            after[0],
            times[AT + 1],
            "{}: not seen before the next",
            db.url
        );
        // Without a database the backtest reads no predictions at all.
        let none = ok(&kelly_on_the_race("on", &["--json"]));
        let none: Value = serde_json::from_str(&none).unwrap();
        assert_eq!(none["strategies"][0]["orders"], 0, "{none}");
    });
}

/// The same in a running host (`clever serve`, paper): the predictions
/// stored when it starts are read as of each update, and the journal
/// shows the first order at the update after the one the prediction
/// missed by a millisecond. Then a model service publishes over
/// `POST /predictions`: good rows stored, bad ones refused by name.
#[test]
fn a_running_host_sees_a_prediction_from_its_publish_time_and_takes_new_ones_by_post() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let times = seeded(&db, dir.path());
    crate::live::published(&db.url, clever_plugin_artifacts::VALUE_KELLY);
    let params_file = dir.path().join("params.json");
    std::fs::write(&params_file, params("after")).unwrap();
    let params = format!("value-kelly={}", params_file.display());
    let server = Server::start(
        &db,
        &race(),
        &["--speed", "0", "--params", &params],
        Some(TOKEN),
    );
    server.wait_for("the replay", |h| h["replay"]["finished"] == true);
    let start = Instant::now();
    let placed = loop {
        let orders = server.get("/orders?strategy=value-kelly");
        let orders = orders["orders"].as_array().cloned().unwrap_or_default();
        if orders.len() == race_facts().1.len() {
            let mut placed: Vec<i64> = orders
                .iter()
                .map(|o| o["placed_at"].as_i64().unwrap())
                .collect();
            placed.sort();
            break placed;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "{orders:?}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(placed[0], times[AT + 1], "not seen at the update it missed");

    let (market, runners, _) = race_facts();
    let good = json!({ "model": "on", "version": "1", "market": market,
        "selection": runners[0], "probability": 0.4, "published_at": "2022-04-19T18:30:00Z" });
    let mut bad = good.clone();
    bad["probability"] = json!(1.5);
    let mut unknown = good.clone();
    unknown["model"] = json!("nobody");
    let body = json!([good, bad, unknown]).to_string();
    let (status, answer) = server.call("POST", "/predictions", Some(TOKEN), body.as_bytes());
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (&answer["stored"], &answer["refused"]),
        (&json!(1), &json!(2)),
        "{answer}"
    );
    let reasons = answer["reasons"].to_string();
    assert!(reasons.contains("item 2: probability 1.5"), "{reasons}");
    assert!(
        reasons.contains("model nobody@1 is not registered"),
        "{reasons}"
    );
    let (status, _) = server.call("POST", "/predictions", None, body.as_bytes());
    assert_eq!(status, 401);
    let (status, answer) = server.call("POST", "/predictions", Some(TOKEN), b"not json");
    assert_eq!(status, 400, "{answer}");
    let models = ok(&clever(&["models", "list", "--db", &db.url, "--json"]));
    let models: Value = serde_json::from_str(&models).unwrap();
    let on = models
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "on")
        .unwrap();
    assert_eq!(on["predictions"], json!(runners.len() + 1), "{models}");
}

/// value-kelly on the shared files with predictions made from their
/// results (`scripts/predictions-from-results`, seeded): it finds value,
/// trades, and its markets settle; the same seed, the same result.
#[test]
fn value_kelly_trades_and_settles_on_predictions_made_from_the_results() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let data = crate::backtest::betfair_data();
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/predictions-from-results");
    let out = std::process::Command::new("python3")
        .arg(&script)
        .arg(&data)
        .args(["--seed", "7"])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = dir.path().join("demo.jsonl");
    std::fs::write(&file, &out.stdout).unwrap();
    ok(&clever(&[
        "models", "register", "demo", "1", "--db", &db.url,
    ]));
    ok(&clever(&[
        "predictions",
        "import",
        file.to_str().unwrap(),
        "--db",
        &db.url,
    ]));
    let report = |db: &str| -> Value {
        let out = ok(&clever(&[
            "backtest",
            "--plugin",
            clever_plugin_artifacts::VALUE_KELLY,
            "--data",
            data.to_str().unwrap(),
            "--db",
            db,
            "--params",
            r#"{"model":"demo","bankroll":1000,"fraction":0.5}"#,
            "--json",
        ]));
        serde_json::from_str(&out).unwrap()
    };
    let first = report(&db.url);
    let s = &first["strategies"][0];
    assert!(s["orders"].as_u64().unwrap_or(0) > 0, "{s}");
    assert!(s["matched"].as_f64().unwrap_or(0.0) > 0.0, "{s}");
    let traded = s["metrics"]["markets"].as_u64().unwrap_or(0);
    assert!(traded > 0, "settled markets: {s}");
    eprintln!("value-kelly on predictions from the results: {s}");
    let again = &report(&db.url)["strategies"][0];
    assert_eq!(
        (&again["orders"], &again["profit"]),
        (&s["orders"], &s["profit"])
    );
}

//! A sweep spread over worker processes through the PostgreSQL queue
//! (`clever sweep --queue`, `clever worker`): a worker killed mid-job
//! loses nothing (its set is claimed again once its lease runs out), a set
//! that fails every time ends failed with its reason, and every done set
//! has the figures a sweep on one machine gives.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use clever_host::store::Store;
use clever_plugin_artifacts as artifacts;
use serde_json::Value;

use crate::serve::{cache_dir, clever, ok};
use crate::store::TestDb;

const GRIDS: [&str; 2] = ["below=1.5,2,2.5", "stake=2,3"];

#[test]
fn a_sweep_over_killed_and_failing_workers_loses_no_set_and_names_what_failed() {
    let db = TestDb::postgres();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    ok(&clever(&[
        "gen",
        "--markets",
        "20",
        "--seed",
        "8",
        "--spacing-secs",
        "3600",
        "--out",
        data,
    ]));
    ok(&clever(&["ingest", data, "--db", &db.url]));
    let mut args = vec!["sweep", "--plugin", artifacts::LAY_LOW_INPLAY];
    args.extend(["--grid", GRIDS[0], "--grid", GRIDS[1], "--json"]);
    let alone = sets(&ok(&clever(&[&args[..], &["--data", data]].concat())));
    // A stake that is not a number is refused before anything is queued:
    // the plugin declares `stake` a number (WIT 1.3).
    let mut not_a_number = vec!["sweep", "--plugin", artifacts::LAY_LOW_INPLAY];
    not_a_number.extend(["--grid", "stake=2,x", "--queue", &db.url]);
    let refused = ended_within_a_minute(&not_a_number, "a stake of \"x\" was queued");
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("--grid: `stake` = \"x\": lay-low-inplay@1.0.0 reads it as a number"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    // The queued sweep also has three sets whose stake is below 0: the
    // plugin refuses them at every attempt.
    let mut queued = vec!["sweep", "--plugin", artifacts::LAY_LOW_INPLAY, "--json"];
    queued.extend(["--grid", GRIDS[0], "--grid", "stake=2,3,-1"]);
    queued.extend(["--queue", &db.url, "--attempts", "2"]);
    let coordinator = Command::new(env!("CARGO_BIN_EXE_clever"))
        .args(&queued)
        .env("CLEVER_CACHE_DIR", cache_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A lone worker claims the first set, and is killed before it ends.
    let (mut first, claims) = worker(&db.url);
    let claimed = claims.recv_timeout(Duration::from_secs(60)).unwrap();
    first.kill().unwrap();
    let _ = first.wait();
    assert!(claimed.contains("set 0 (attempt 1)"), "{claimed}");
    let workers: Vec<(Child, Receiver<String>)> = (0..2).map(|_| worker(&db.url)).collect();
    let pid = coordinator.id().to_string();
    let (done, finished) = channel();
    std::thread::spawn(move || done.send(coordinator.wait_with_output()));
    let Ok(out) = finished.recv_timeout(Duration::from_secs(180)) else {
        let _ = Command::new("kill").args(["-9", &pid]).status();
        panic!("the sweep did not finish in 180 s");
    };
    let out = out.unwrap();
    for (mut child, _) in workers {
        let _ = child.kill();
        let _ = child.wait();
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let queued = sets(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(queued, alone, "{stderr}");
    assert!(stderr.contains("3 failed"), "{stderr}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = rt.block_on(Store::open(&db.url)).unwrap();
    let jobs = rt.block_on(store.sweep_jobs(1)).unwrap();
    let killed = jobs.iter().find(|j| j.position == 0).unwrap();
    assert_eq!(
        (killed.status.as_str(), killed.attempts),
        ("done", 2),
        "{killed:?}"
    );
    let failed: Vec<_> = jobs.iter().filter(|j| j.status == "failed").collect();
    assert_eq!(failed.len(), 3, "{jobs:?}");
    for job in failed {
        assert_eq!(job.attempts, 2, "{job:?}");
        let why = job.error.as_deref().unwrap_or_default();
        assert!(why.contains("stake"), "{why}");
    }
    // A selection that matches nothing fails at once, and queues no set
    // for workers to fail one attempt after another.
    let mut none = vec!["sweep", "--plugin", artifacts::LAY_LOW_INPLAY];
    none.extend([
        "--grid",
        GRIDS[0],
        "--queue",
        &db.url,
        "--from",
        "2030-01-01",
    ]);
    let out = ended_within_a_minute(&none, "a sweep that selects no market was queued");
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("no stored market matches --from 2030-01-01 (it holds 20 in all)"),
        "{said}"
    );
    assert!(rt.block_on(store.sweep_jobs(2)).unwrap().is_empty());
    rt.block_on(store.close());
}

/// Each set's parameters and metrics, by parameters.
fn sets(json: &str) -> HashMap<String, Value> {
    let out: Value = serde_json::from_str(json).unwrap();
    (out["sets"].as_array().unwrap().iter())
        .map(|s| (s["params"].to_string(), s["metrics"].clone()))
        .collect()
}

/// `clever ARGS`, which must end within a minute: a sweep queued when it
/// should have been refused would wait for workers that never come
/// (`queued` says which).
fn ended_within_a_minute(args: &[&str], queued: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_clever"))
        .args(args)
        .env("CLEVER_CACHE_DIR", cache_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("{queued}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// A `clever worker` on `url` with a 2 s lease; the lines where it claims
/// a set.
fn worker(url: &str) -> (Child, Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_clever"))
        .args([
            "worker",
            "--queue",
            url,
            "--lease-secs",
            "2",
            "--threads",
            "1",
        ])
        .env("CLEVER_CACHE_DIR", cache_dir())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("claimed") {
                let _ = tx.send(line);
            }
        }
    });
    (child, rx)
}

//! The `clever` binary end to end: build a plugin crate, inspect the
//! component, run plugins, and the errors a user meets first.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use clever_host::market::Decimal;
use clever_plugin_artifacts as artifacts;

fn clever(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clever"))
        .args(args)
        .env("CLEVER_CACHE_DIR", cache_dir())
        .env_remove("CLEVER_LOG")
        .output()
        .expect("run clever")
}

fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-cache")
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn build_prints_a_component_that_clever_loads() {
    let dir = workspace().join("plugins/back-fav-preoff");
    let out = clever(&["build", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let path = text.lines().last().expect("a path").trim().to_owned();
    assert!(path.ends_with("back_fav_preoff.wasm"), "{text}");
    assert!(Path::new(&path).is_file());

    let out = clever(&["inspect", &path, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["name"], "back-fav-preoff");
    assert_eq!(report["version"], "1.0.0");
    assert_eq!(report["wit_version"], "1.3.0");
    assert_eq!(report["in_play"], false);
    let declared: Vec<String> = (report["parameters"].as_array().unwrap().iter())
        .map(|p| format!("{} {} {}", p["name"], p["kind"], p["default"]))
        .collect();
    assert_eq!(
        declared,
        [r#""stake" "number" "2.0""#, r#""max_price" "number" "4.0""#]
    );
    let text = stdout(&clever(&["inspect", &path]));
    let listed = "  parameters   stake = 2.0 (a number): stake of the back\n               \
                  max_price = 4.0 (a number): back the favourite only below this price\n";
    assert!(text.contains(listed), "{text}");
}

#[test]
fn build_of_a_directory_without_a_project_says_what_it_looked_for() {
    let out = clever(&["build", "/definitely/not/here"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("/definitely/not/here holds no strategy project")
            && err.contains("Cargo.toml (Rust)")
            && err.contains("pyproject.toml or app.py (Python)"),
        "{err}"
    );
}

#[test]
fn build_without_the_wasm_target_prints_the_install_command() {
    // A rustc whose sysroot has no wasm32-wasip2 standard library.
    let sysroot = tempfile::tempdir().unwrap();
    let fake = sysroot.path().join("rustc");
    std::fs::write(
        &fake,
        format!("#!/bin/sh\necho {}\n", sysroot.path().display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = workspace().join("plugins/back-fav-preoff");
    let out = Command::new(env!("CARGO_BIN_EXE_clever"))
        .args(["build", dir.to_str().unwrap()])
        .env("RUSTC", &fake)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("rustup target add wasm32-wasip2"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn run_contains_a_hostile_plugin_beside_a_healthy_one() {
    let out = clever(&[
        "run",
        "--plugin",
        artifacts::FIXTURE_READER,
        "--plugin",
        artifacts::HOSTILE_INFINITE_LOOP,
        "--updates",
        "20",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let plugins = report["plugins"].as_array().unwrap();
    assert_eq!(plugins[0]["name"], "fixture-reader");
    assert_eq!(plugins[0]["updates"], 20);
    assert_eq!(plugins[0]["quarantined"], false);
    assert_eq!(plugins[1]["name"], "hostile-infinite-loop");
    assert_eq!(plugins[1]["updates"], 0);
    assert_eq!(plugins[1]["quarantined"], true);
    assert_eq!(plugins[1]["faults"].as_array().unwrap().len(), 3);
    assert!(
        plugins[1]["faults"][0]
            .as_str()
            .unwrap()
            .contains("fuel exhausted")
    );
}

#[test]
fn run_and_inspect_name_bad_input() {
    let bogus = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bogus.wasm");
    std::fs::write(&bogus, b"nope").unwrap();
    for args in [
        &["run", "--plugin", bogus.to_str().unwrap(), "--updates", "1"][..],
        &["inspect", bogus.to_str().unwrap()],
    ] {
        let out = clever(args);
        assert!(!out.status.success());
        let err = stderr(&out);
        assert!(
            err.contains("bogus.wasm") && err.contains("not a valid WebAssembly component"),
            "{args:?}: {err}"
        );
        // What the bytes are instead, on one line: no byte dump.
        assert!(err.contains(r#"it begins "nope""#), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    }
    // A market of nothing is refused before any plugin is loaded.
    for (flag, said) in [
        ("--runners", "--runners must be"),
        ("--updates", "--updates must be"),
    ] {
        let out = clever(&["run", "--plugin", bogus.to_str().unwrap(), flag, "0"]);
        assert!(!out.status.success());
        assert!(stderr(&out).contains(said), "{}", stderr(&out));
    }
}

#[test]
fn run_reads_limits_from_a_toml_file() {
    let dir = tempfile::tempdir().unwrap();
    let limits = dir.path().join("limits.toml");
    std::fs::write(&limits, "[sandbox]\nmax_faults = 1\n").unwrap();
    let out = clever(&[
        "run",
        "--plugin",
        artifacts::HOSTILE_INFINITE_LOOP,
        "--updates",
        "5",
        "--limits",
        limits.to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["plugins"][0]["faults"].as_array().unwrap().len(), 1);
    assert_eq!(report["plugins"][0]["quarantined"], true);

    std::fs::write(&limits, "[sandbox]\nmax_fualts = 1\n").unwrap();
    let out = clever(&[
        "run",
        "--plugin",
        artifacts::FIXTURE_READER,
        "--limits",
        limits.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("max_fualts"), "{}", stderr(&out));
}

#[test]
fn run_fires_timers_so_lay_low_inplay_cancels_what_stays_unmatched() {
    // The synthetic market has no bet delay, and a lay at the best lay
    // price arriving before the next update matches in full (rule 2): a
    // second's latency lets the book move first, so some lays rest.
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("simulation.toml");
    std::fs::write(&sim, "[simulation]\nplacement_latency_ms = 1000\n").unwrap();
    let out = clever(&[
        "run",
        "--plugin",
        artifacts::LAY_LOW_INPLAY,
        "--updates",
        "2000",
        "--simulation",
        sim.to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let plugin = &report["plugins"][0];
    let orders = plugin["orders"].as_u64().unwrap();
    let cancelled = plugin["cancelled"].as_u64().unwrap();
    // In play for the second half; every order not matched within 2 s is
    // cancelled from its timer (the plugin cancels nothing else).
    assert!(orders > 100, "{plugin}");
    assert!(cancelled > 0, "its timers fired: {plugin}");
    assert!(
        plugin["matched"].as_f64().unwrap() > 0.0,
        "orders match against the simulated exchange: {plugin}"
    );
}

fn betfair(file: &str) -> String {
    workspace()
        .join("../shared/data/betfair")
        .join(file)
        .display()
        .to_string()
}

#[test]
fn backtest_json_is_one_object_with_exactly_the_documented_fields() {
    let data = betfair("1-206064380.bz2");
    let args = |threads: &'static str| {
        let out = clever(&[
            "backtest",
            "--plugin",
            artifacts::LAY_LOW_INPLAY,
            "--plugin",
            artifacts::BACK_FAV_PREOFF,
            "--data",
            &data,
            "--threads",
            threads,
            "--json",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        assert_eq!(text.trim().lines().count(), 1, "{text}");
        serde_json::from_str::<serde_json::Value>(&text).expect("one JSON object")
    };
    let mut one = args("1");
    let mut keys: Vec<&str> = one
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, ["elapsed_ms", "markets", "strategies", "updates"]);
    let s = &one["strategies"][0];
    let mut keys: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "commission",
            "faults",
            "gross_profit",
            "matched",
            "metrics",
            "name",
            "orders",
            "profit",
            "quarantined",
            "rejected",
            "roi",
            "sandbox_refused",
            "version"
        ]
    );
    assert_eq!(s["name"], "lay-low-inplay");
    assert_eq!(one["updates"], 18_793);
    let mut two = args("2");
    one.as_object_mut().unwrap().remove("elapsed_ms");
    two.as_object_mut().unwrap().remove("elapsed_ms");
    assert_eq!(one, two);
}

#[test]
fn backtest_prints_a_table_reads_risk_limits_and_writes_per_market_rows() {
    let dir = tempfile::tempdir().unwrap();
    let risk = dir.path().join("risk.toml");
    std::fs::write(&risk, "[risk]\nmax_stake = 1.5\n").unwrap();
    let csv = dir.path().join("markets.csv");
    let race = betfair("1-206064380.bz2");
    let on_the_race = [
        "--plugin",
        artifacts::BACK_FAV_PREOFF,
        "--data",
        &race,
        "--risk",
        risk.to_str().unwrap(),
    ];
    let backtest = [&["backtest"][..], &on_the_race].concat();
    let out = clever(&[&backtest[..], &["--markets-csv", csv.to_str().unwrap()]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("back-fav-preoff@"), "{text}");
    let rows = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(
        rows.lines().collect::<Vec<_>>(),
        [
            "market_id,strategy,version,orders,matched,gross_profit,commission,profit",
            "1.206064380,back-fav-preoff,1.0.0,0,0.00,0.00,0.00,0.00"
        ]
    );
    // Its 2.00 stake is over the 1.50 limit: refused, and counted. It
    // asks again on every update before the off, and is refused each time.
    let refused = "rejected risk-limit:max-stake: 18224\n";
    assert!(text.contains(refused), "{text}");
    // It logs each refusal; they are said once, at the end, counted.
    let said = stderr(&out);
    let warned: Vec<&str> = said.lines().filter(|l| l.contains("logged")).collect();
    assert_eq!(
        warned,
        [
            "warning: back-fav-preoff@1.0.0 logged 18224 warnings, among them \
             \"back SelectionId(39008736) @ 1.01 refused: risk-limit:max-stake\", \
             \"back SelectionId(39008736) @ 1.02 refused: risk-limit:max-stake\", \
             \"back SelectionId(39008736) @ 3.2 refused: risk-limit:max-stake\""
        ],
        "{said}"
    );
    // A sweep says them once over its sets, not once a set.
    let sweep = [
        &["sweep"][..],
        &on_the_race,
        &["--grid", "stake=2,3", "--json"],
    ];
    let swept = clever(&sweep.concat());
    let said = stderr(&swept);
    let warned: Vec<&str> = said.lines().filter(|l| l.contains("logged")).collect();
    assert_eq!(warned.len(), 1, "{said}");
    assert!(
        warned[0].starts_with("warning: back-fav-preoff@1.0.0 logged ")
            && warned[0].ends_with(" (in 2 of 2 sets)"),
        "{said}"
    );
    // Asked for, the host's log has it as it came, at its level, named
    // (and with no colour codes, as stderr is not a terminal).
    let logged = Command::new(env!("CARGO_BIN_EXE_clever"))
        .args(&backtest)
        .env("CLEVER_CACHE_DIR", cache_dir())
        .env("CLEVER_LOG", "warn")
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let said = stderr(&logged);
    assert!(
        said.lines().any(|l| l.contains("WARN")
            && l.contains("plugin=back-fav-preoff@1.0.0")
            && l.contains("refused: ")),
        "{said}"
    );
}

#[test]
fn the_per_market_rows_add_up_to_the_report_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("markets.csv");
    let mut args = vec!["backtest", "--plugin", artifacts::LAY_LOW_INPLAY];
    args.extend(["--plugin", artifacts::BACK_FAV_PREOFF, "--json"]);
    args.extend(["--markets-csv", csv.to_str().unwrap()]);
    let files: Vec<String> = ["1-206064380.bz2", "1-166811431.bz2", "1-180305278.bz2"]
        .iter()
        .map(|f| betfair(f))
        .collect();
    for f in &files {
        args.extend(["--data", f.as_str()]);
    }
    let out = clever(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let rows = std::fs::read_to_string(&csv).unwrap();
    for strategy in report["strategies"].as_array().unwrap() {
        let name = strategy["name"].as_str().unwrap();
        // matched, gross_profit, commission, profit: columns 4 to 7.
        let mut sums = [Decimal::ZERO; 4];
        for row in rows
            .lines()
            .skip(1)
            .filter(|r| r.split(',').nth(1) == Some(name))
        {
            for (sum, cell) in sums.iter_mut().zip(row.split(',').skip(4)) {
                *sum += cell.parse::<Decimal>().unwrap();
            }
        }
        let figures = ["matched", "gross_profit", "commission", "profit"];
        for (sum, figure) in sums.iter().zip(figures) {
            let total: Decimal = strategy[figure].to_string().parse().unwrap();
            assert_eq!(*sum, total, "{name} {figure}");
        }
        assert!(
            sums[0] > Decimal::ZERO,
            "{name} matched something: {strategy}"
        );
        // The metrics are made of the same markets: the ones that matched.
        let m = &strategy["metrics"];
        let traded = (rows.lines().skip(1))
            .filter(|r| r.split(',').nth(1) == Some(name))
            .filter(|r| r.split(',').nth(4) != Some("0.00"))
            .count();
        assert_eq!(m["markets"], traded, "{name}: {m}");
        let pairs = [("net_profit", "profit"), ("turnover", "matched")];
        for (metric, figure) in pairs.into_iter().chain([("commission", "commission")]) {
            assert_eq!(m[metric], strategy[figure], "{name} {metric}");
        }
        // Three races on three days, months apart: every day between counts.
        assert!(m["days"].as_u64() > Some(30), "{name}: {m}");
        assert_eq!(m["daily"].as_array().unwrap().len(), 3, "{name}: {m}");
    }
}

#[test]
fn backtest_errors_name_the_bad_input() {
    let out = clever(&[
        "backtest",
        "--plugin",
        artifacts::BACK_FAV_PREOFF,
        "--data",
        "/no/such/dir",
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--data /no/such/dir"),
        "{}",
        stderr(&out)
    );
    let dir = tempfile::tempdir().unwrap();
    let risk = dir.path().join("risk.toml");
    std::fs::write(&risk, "[risk]\nmax_stak = 1.5\n").unwrap();
    let out = clever(&[
        "backtest",
        "--plugin",
        artifacts::BACK_FAV_PREOFF,
        "--data",
        &betfair("1-206064380.bz2"),
        "--risk",
        risk.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("risk.toml") && err.contains("max_stak"),
        "{err}"
    );
    let out = clever(&[
        "backtest",
        "--plugin",
        artifacts::BACK_FAV_PREOFF,
        "--data",
        &betfair("1-206064380.bz2"),
        "--params",
        "[1]",
    ]);
    assert!(
        stderr(&out).contains("--params must be a JSON object"),
        "{}",
        stderr(&out)
    );
    // Parameters are checked against what the plugins declare (WIT 1.3),
    // before anything runs: a name none reads, a value of the wrong kind.
    let run_with = |other: &str, params: &str| {
        let out = clever(&[
            "backtest",
            "--plugin",
            artifacts::LAY_LOW_INPLAY,
            "--plugin",
            other,
            "--data",
            &betfair("1-206064380.bz2"),
            "--params",
            params,
        ]);
        (out.status.success(), stderr(&out))
    };
    let with_params = |params: &str| run_with(artifacts::BACK_FAV_PREOFF, params);
    let (ok, err) = with_params(r#"{"stake": 3, "max_prise": 5}"#);
    assert!(!ok);
    assert_eq!(
        err,
        "error: --params: `max_prise` is a parameter of none of lay-low-inplay@1.0.0 \
         (stake, below, cancel_after_ms), back-fav-preoff@1.0.0 (stake, max_price); did you \
         mean `max_price`?\n"
    );
    let (ok, err) = with_params(r#"{"cancel_after_ms": 2.5}"#);
    assert!(!ok);
    assert_eq!(
        err,
        "error: --params: `cancel_after_ms` = 2.5: lay-low-inplay@1.0.0 reads it as a whole \
         number of 0 or more\n"
    );
    // A key one of them reads is fine, though the other ignores it.
    let (ok, err) = with_params(r#"{"below": 1.8, "max_price": 3}"#);
    assert!(ok, "{err}");
    // Beside a plugin that declares nothing (WIT 1.0), any name may be
    // its, but a declared one is still of its kind.
    let (ok, err) = run_with(artifacts::FIXTURE_WIT_1_0, r#"{"typo": 1}"#);
    assert!(ok, "{err}");
    let (ok, err) = run_with(artifacts::FIXTURE_WIT_1_0, r#"{"cancel_after_ms": 2.5}"#);
    assert!(!ok);
    assert_eq!(
        err,
        "error: --params: `cancel_after_ms` = 2.5: lay-low-inplay@1.0.0 reads it as a whole \
         number of 0 or more\n"
    );
}

#[test]
fn backtest_warns_about_a_bad_line_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("1.1");
    std::fs::write(
        &file,
        concat!(
            r#"{"op":"mcm","pt":1,"mc":[{"id":"1.1","img":true,"marketDefinition":{"status":"OPEN","inPlay":false,"runners":[{"id":1,"status":"ACTIVE"}]},"rc":[{"id":1,"atb":[[2.0,10]]}]}]}"#,
            "\n{not json\n",
            r#"{"op":"mcm","pt":2,"mc":[{"id":"1.1","rc":[{"id":1,"atb":[[2.0,5]]}]}]}"#,
            "\n"
        ),
    )
    .unwrap();
    let out = clever(&[
        "backtest",
        "--plugin",
        artifacts::FIXTURE_READER,
        "--data",
        file.to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("1.1:2:"), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["updates"], 2);
}

#[test]
fn live_refuses_settings_betfair_does_not_have_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("live.toml");
    for (line, said) in [
        (
            "commission_rate = 150.0",
            "betfair.commission_rate = 150 must be a percent from 0 to 100",
        ),
        (
            r#"strategy_ref = """#,
            "betfair.strategy_ref must be 1 to 15 characters",
        ),
    ] {
        std::fs::write(&config, format!("[betfair]\n{line}\n")).unwrap();
        let out = clever(&["live", "--config", config.to_str().unwrap(), "--paper"]);
        assert!(!out.status.success());
        let wanted = format!("{}: {said}", config.display());
        assert!(stderr(&out).contains(&wanted), "{}", stderr(&out));
    }
}

#[test]
fn db_migrate_and_status_on_a_new_sqlite_file_and_a_missing_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("x.db").display());
    let out = clever(&["db", "status", "--db", &url]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("pending"), "{}", stdout(&out));
    let out = clever(&["db", "migrate", "--db", &url]);
    // Every migration this build has (the schema, the registry, money
    // in pennies, the kill switch, the order journal, run analytics, the
    // sweep queue, sessions, prediction features, the alert outbox, trade
    // records, order-book orders).
    assert!(
        stdout(&out).contains("13 migration(s) applied"),
        "{}",
        stdout(&out)
    );
    let out = clever(&["db", "status", "--db", &url]);
    let text = stdout(&out);
    assert!(
        text.contains("applied") && !text.contains("pending"),
        "{text}"
    );
    let out = clever(&["db", "status", "--db", "mysql://nope"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("not a database URL"),
        "{}",
        stderr(&out)
    );
    // The cause is said once, though sqlx's error and its source repeat it.
    let admin = crate::store::pg_admin_url();
    let server = admin
        .rsplit_once('/')
        .map_or(admin.as_str(), |(server, _)| server);
    let missing = format!("{server}/clever_no_such_database");
    let out = clever(&["db", "status", "--db", &missing]);
    assert!(!out.status.success());
    let said = stderr(&out);
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(
        said.contains(r#"database "clever_no_such_database" does not exist"#),
        "{said}"
    );
}

#[test]
fn ingest_then_backtest_from_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("c.db").display());
    let bad = dir.path().join("bad");
    std::fs::write(&bad, "{not json\n").unwrap();
    let race = betfair("1-206064380.bz2");
    let out = clever(&[
        "ingest",
        &race,
        bad.to_str().unwrap(),
        "--db",
        &url,
        "--json",
    ]);
    // A dead letter is a warning, not a failure.
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: 1 record(s) refused"),
        "{}",
        stderr(&out)
    );
    // The bad file held nothing else: said, not left to the totals.
    let nothing = format!("warning: {}: no market in it", bad.display());
    assert!(stderr(&out).contains(&nothing), "{}", stderr(&out));
    assert!(!stderr(&out).contains("1-206064380.bz2: no market"));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(summary["markets"], 1);
    assert_eq!(summary["dead_letters"], 1);
    assert!(summary["snapshots"].as_u64().unwrap() > 10_000, "{summary}");
    let run = |args: &[&str]| {
        let mut all = vec!["backtest", "--plugin", artifacts::LAY_LOW_INPLAY, "--json"];
        all.extend_from_slice(args);
        let out = clever(&all);
        assert!(out.status.success(), "{}", stderr(&out));
        let mut v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        v.as_object_mut().unwrap().remove("elapsed_ms");
        v
    };
    let from_db = run(&["--db", &url, "--market", "1.206064380"]);
    assert_eq!(from_db, run(&["--data", &race]));
    assert_eq!(
        from_db,
        run(&["--db", &url, "--track", "Moe", "--from", "2022-11-07"])
    );
    let out = clever(&[
        "backtest",
        "--plugin",
        artifacts::LAY_LOW_INPLAY,
        "--db",
        &url,
        "--market",
        "1.5",
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--market 1.5: not in"),
        "{}",
        stderr(&out)
    );
    // Filters that match nothing are named, with what the database holds.
    let refused = |filters: &[&str], said: &str| {
        let mut args = vec![
            "backtest",
            "--plugin",
            artifacts::LAY_LOW_INPLAY,
            "--db",
            &url,
        ];
        args.extend_from_slice(filters);
        let out = clever(&args);
        assert!(!out.status.success());
        assert!(stderr(&out).contains(said), "{}", stderr(&out));
    };
    refused(
        &["--track", "Nowhere", "--from", "2022-11-07"],
        "no stored market matches --from 2022-11-07 --track Nowhere (it holds 1 in all)",
    );
    refused(
        &["--from", "2022-11-08", "--to", "2022-11-07"],
        "--from 2022-11-08 is after --to 2022-11-07",
    );
    refused(
        &["--market", "1.206064380", "--track", "Nowhere"],
        "--market 1.206064380: stored, but --track Nowhere leaves it out",
    );
    let empty = format!("sqlite://{}", dir.path().join("empty.db").display());
    let out = clever(&[
        "backtest",
        "--plugin",
        artifacts::LAY_LOW_INPLAY,
        "--db",
        &empty,
    ]);
    assert!(
        stderr(&out).contains("empty.db: holds no market yet"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_saved_run_is_listed_and_shown_with_its_orders_on_both_databases() {
    for db in [
        crate::store::TestDb::sqlite(),
        crate::store::TestDb::postgres(),
    ] {
        let race = betfair("1-206064380.bz2");
        let out = clever(&[
            "backtest",
            "--plugin",
            artifacts::LAY_LOW_INPLAY,
            "--plugin",
            artifacts::BACK_FAV_PREOFF,
            "--data",
            &race,
            "--save",
            "--db",
            &db.url,
            "--monte-carlo",
            "200",
            "--seed",
            "5",
            "--json",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stderr(&out).contains("saved as run 1"), "{}", stderr(&out));
        let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        let out = clever(&["runs", "list", "--db", &db.url, "--json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let runs: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        let run = &runs[0];
        assert_eq!(runs.as_array().unwrap().len(), 1);
        assert_eq!(run["id"], 1);
        assert_eq!(run["markets"], report["markets"]);
        assert_eq!(run["updates"], report["updates"]);
        // Every accepted order is saved, with its life.
        let orders: u64 = report["strategies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["orders"].as_u64().unwrap())
            .sum();
        assert_eq!(run["orders"], orders);
        // The saved results are the report's, to the penny.
        for strategy in report["strategies"].as_array().unwrap() {
            let saved = run["results"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["name"] == strategy["name"])
                .unwrap();
            for figure in ["orders", "matched", "gross_profit", "commission", "profit"] {
                assert_eq!(saved[figure], strategy[figure], "{figure}: {saved}");
            }
            // And so are its metrics and resampling.
            assert!(strategy["metrics"]["bankroll"] == 1000.0, "{strategy}");
            assert_eq!(saved["metrics"], strategy["metrics"]);
            assert_eq!(saved["monte_carlo"], strategy["monte_carlo"]);
        }
        let config: serde_json::Value =
            serde_json::from_str(run["config"].as_str().unwrap()).unwrap();
        assert_eq!(config["risk"]["max_stake"], 100.0);
        assert_eq!(config["simulation"]["placement_latency_ms"], 120);
        let shown = clever(&["runs", "show", "1", "--db", &db.url, "--json"]);
        let shown: serde_json::Value = serde_json::from_str(&stdout(&shown)).unwrap();
        assert_eq!(shown[0], *run);
        compared_with_a_second_run(&db.url, &race, run);
        let missing = clever(&["runs", "show", "9", "--db", &db.url]);
        assert!(!missing.status.success());
        assert!(
            stderr(&missing).contains("no run 9"),
            "{}",
            stderr(&missing)
        );
    }
}

/// A second run of `race` with the same Monte Carlo seed, saved beside
/// `first` (run 1): `clever runs compare 1 2` shows both, side by side,
/// with the same resampling.
fn compared_with_a_second_run(db: &str, race: &str, first: &serde_json::Value) {
    let again = [
        "backtest",
        "--plugin",
        artifacts::LAY_LOW_INPLAY,
        "--data",
        race,
    ];
    let mut args = again.to_vec();
    args.extend(["--save", "--db", db, "--monte-carlo", "200", "--seed", "5"]);
    let out = clever(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(table.contains("max drawdown % bankroll"), "{table}");
    assert!(table.contains("monte carlo, lay-low-inplay@"), "{table}");
    let compared = clever(&["runs", "compare", "1", "2", "--db", db, "--json"]);
    let runs: serde_json::Value = serde_json::from_str(&stdout(&compared)).unwrap();
    assert_eq!(runs[0], *first);
    let lay = |run: &serde_json::Value| {
        let results = run["results"].as_array().unwrap().iter();
        results
            .clone()
            .find(|r| r["name"] == "lay-low-inplay")
            .cloned()
            .unwrap()
    };
    assert_eq!(lay(&runs[0])["monte_carlo"], lay(&runs[1])["monte_carlo"]);
    assert_eq!(lay(&runs[0])["metrics"], lay(&runs[1])["metrics"]);
    let text = stdout(&clever(&["runs", "compare", "1", "2", "--db", db]));
    for heading in [
        "1: lay-low-inplay@",
        "1: back-fav-preoff@",
        "2: lay-low-inplay@",
    ] {
        assert!(text.contains(heading), "{heading}: {text}");
    }
    assert!(text.contains("profit factor"), "{text}");
}

#[test]
fn plugin_publish_refuses_what_is_not_a_strategy_and_activates_what_is() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("r.db").display());
    let out = clever(&[
        "plugin",
        "publish",
        artifacts::BACK_FAV_PREOFF,
        "--db",
        &url,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("back-fav-preoff@1.0.0 published"),
        "{}",
        stdout(&out)
    );
    let again = clever(&[
        "plugin",
        "publish",
        artifacts::BACK_FAV_PREOFF,
        "--db",
        &url,
    ]);
    assert!(
        stdout(&again).contains("already published"),
        "{}",
        stdout(&again)
    );
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"not wasm").unwrap();
    let out = clever(&["plugin", "publish", junk.to_str().unwrap(), "--db", &url]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("refused"), "{}", stderr(&out));
    let out = clever(&["plugin", "publish", artifacts::FIXTURE_WIT_V2, "--db", &url]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("refused"), "{}", stderr(&out));
    let out = clever(&["plugin", "activate", "back-fav-preoff@1.0.0", "--db", &url]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = clever(&["plugin", "show", "back-fav-preoff", "--db", &url, "--json"]);
    let rows: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(rows[0]["active"], true);
    assert_eq!(rows[0]["wit_version"], "1.3.0");
    let out = clever(&["plugin", "rollback", "back-fav-preoff", "--db", &url]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no earlier active version"),
        "{}",
        stderr(&out)
    );
    let out = clever(&["plugin", "show", "nope@1.0.0", "--db", &url]);
    assert!(
        stderr(&out).contains("nope@1.0.0 is not published"),
        "{}",
        stderr(&out)
    );
}

/// `clever sweep`: every combination of the grids, ranked by the chosen
/// metric, each set's figures those of a backtest with its parameters,
/// saved as the runs of one sweep; a seeded random draw repeats itself.
#[test]
fn a_sweep_ranks_every_parameter_set_as_its_own_backtest_would() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let db = format!("sqlite://{}", dir.path().join("sweep.db").display());
    let gen_args = [
        "gen",
        "--markets",
        "8",
        "--seed",
        "3",
        "--spacing-secs",
        "43200",
    ];
    let out = clever(&[&gen_args[..], &["--out", data.to_str().unwrap()]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    // A file with no market: warned about once a sweep, not once a set.
    std::fs::write(data.join("stray"), "").unwrap();
    let data = data.to_str().unwrap();
    let sweep = |extra: &[&str]| {
        let mut args = vec![
            "sweep",
            "--plugin",
            artifacts::LAY_LOW_INPLAY,
            "--data",
            data,
        ];
        args.extend(["--grid", "below=1.5..2.5:0.5", "--grid", "stake=2,5"]);
        args.extend(extra);
        let out = clever(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        let warned = stderr(&out).matches("stray: no market in it").count();
        assert_eq!(warned, 1, "{}", stderr(&out));
        assert!(
            !stderr(&out).contains("gave the same result"),
            "{}",
            stderr(&out)
        );
        serde_json::from_str::<serde_json::Value>(&stdout(&out)).unwrap()
    };
    let all = sweep(&["--rank-by", "net_profit", "--save", "--db", &db, "--json"]);
    let sets = all["sets"].as_array().unwrap();
    assert_eq!((sets.len(), all["markets"].as_u64()), (6, Some(8)));
    let profits: Vec<f64> = (sets.iter())
        .map(|s| s["metrics"]["net_profit"].as_f64().unwrap())
        .collect();
    assert!(profits.windows(2).all(|w| w[0] >= w[1]), "{profits:?}");
    assert!(
        profits.first() != profits.last(),
        "the sets differ: {profits:?}"
    );
    let ranks: Vec<u64> = sets.iter().map(|s| s["rank"].as_u64().unwrap()).collect();
    assert_eq!(ranks, [1, 2, 3, 4, 5, 6]);
    let mut combos: Vec<String> = (sets.iter())
        .map(|s| format!("{}/{}", s["params"]["below"], s["params"]["stake"]))
        .collect();
    combos.sort();
    // 2.0 is written as the whole number it is.
    let mut wanted = ["1.5/2", "1.5/5", "2/2", "2/5", "2.5/2", "2.5/5"];
    wanted.sort();
    assert_eq!(combos, wanted);
    // The best set, backtested on its own, gives the same metrics.
    let best = &sets[0];
    let params = best["params"].to_string();
    let alone = clever(&[
        "backtest",
        "--plugin",
        artifacts::LAY_LOW_INPLAY,
        "--data",
        data,
        "--params",
        &params,
        "--json",
    ]);
    let alone: serde_json::Value = serde_json::from_str(&stdout(&alone)).unwrap();
    assert_eq!(alone["strategies"][0]["metrics"], best["metrics"]);
    // Saved: one run per set, each with its parameters and results.
    let runs = clever(&["runs", "list", "--sweep", "1", "--db", &db, "--json"]);
    let runs: serde_json::Value = serde_json::from_str(&stdout(&runs)).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 6);
    let best_run = (runs.as_array().unwrap().iter())
        .find(|r| r["id"] == best["run"])
        .unwrap();
    let config: serde_json::Value =
        serde_json::from_str(best_run["config"].as_str().unwrap()).unwrap();
    assert_eq!(config["params"], best["params"]);
    assert_eq!(best_run["results"][0]["metrics"], best["metrics"]);
    // A random draw of 3 with a seed: the same 3 again.
    let drawn = |seed| sweep(&["--random", "3", "--seed", seed, "--json"])["sets"].clone();
    let params = |sets: &serde_json::Value| -> Vec<String> {
        let mut p: Vec<String> = (sets.as_array().unwrap().iter())
            .map(|s| s["params"].to_string())
            .collect();
        p.sort();
        p
    };
    // A name the plugin does not declare is refused before any set runs,
    // with the one it likely meant.
    let typo = clever(&[
        "sweep",
        "--plugin",
        artifacts::LAY_LOW_INPLAY,
        "--data",
        data,
        "--grid",
        "belwo=1,2",
    ]);
    assert!(!typo.status.success());
    assert_eq!(
        stderr(&typo),
        "error: --grid: `belwo` is not a parameter of lay-low-inplay@1.0.0 (its parameters: \
         stake, below, cancel_after_ms); did you mean `below`?\n"
    );
    // A declared parameter that changes nothing on this data is said to.
    let idle = clever(&[
        "sweep",
        "--plugin",
        artifacts::LAY_LOW_INPLAY,
        "--data",
        data,
        "--grid",
        "stake=2,5",
        "--grid",
        "cancel_after_ms=2000,2001",
        "--json",
    ]);
    assert!(idle.status.success(), "{}", stderr(&idle));
    let said = "warning: every value of `cancel_after_ms` gave the same result: on this data, \
                lay-low-inplay's `cancel_after_ms` changes nothing\n";
    assert!(stderr(&idle).ends_with(said), "{}", stderr(&idle));
    // A plugin that declares nothing (built against WIT 1.0) is swept with
    // any name, unchecked.
    let undeclared = clever(&[
        "sweep",
        "--plugin",
        artifacts::FIXTURE_WIT_1_0,
        "--data",
        data,
        "--grid",
        "typo=1,2",
        "--json",
    ]);
    assert!(undeclared.status.success(), "{}", stderr(&undeclared));
    let said = "warning: every set gave the same result";
    assert!(
        stderr(&undeclared).contains(said),
        "{}",
        stderr(&undeclared)
    );
    let first = params(&drawn("9"));
    assert_eq!(first.len(), 3);
    assert_eq!(first, params(&drawn("9")));
    let bad = clever(&[
        "sweep",
        "--plugin",
        artifacts::LAY_LOW_INPLAY,
        "--data",
        data,
        "--grid",
        "below=2..1:0.1",
    ]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("below=2..1:0.1"), "{}", stderr(&bad));
}

/// `clever walk-forward`: each step's out-of-sample result is exactly a
/// backtest of the chosen set over the markets that settled in that
/// window, and the stitched result adds the steps up.
#[test]
fn walk_forward_steps_are_backtests_of_the_chosen_set_on_the_next_window() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let gen_args = [
        "gen",
        "--markets",
        "30",
        "--seed",
        "5",
        "--spacing-secs",
        "10800",
    ];
    let out = clever(&[&gen_args[..], &["--out", data.to_str().unwrap()]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    let mut args = vec!["walk-forward", "--plugin", artifacts::LAY_LOW_INPLAY];
    args.extend(["--data", data.to_str().unwrap()]);
    args.extend(["--grid", "below=1.5..3:0.5", "--grid", "stake=2,5"]);
    args.extend(["--in-sample", "12h", "--out-of-sample", "12h", "--json"]);
    let out = clever(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let steps = report["steps"].as_array().unwrap();
    assert!(steps.len() >= 3, "{report}");
    // Each market settles at its last line's publish time.
    let settled: Vec<(i64, PathBuf)> = (std::fs::read_dir(&data).unwrap())
        .map(|e| e.unwrap().path())
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let last: serde_json::Value =
                serde_json::from_str(text.lines().last().unwrap()).unwrap();
            (last["pt"].as_i64().unwrap(), path)
        })
        .collect();
    let (mut stitched, mut compared) = (Decimal::ZERO, 0);
    for step in steps {
        let (from, to) = (
            step["out_of_sample"][0].as_i64(),
            step["out_of_sample"][1].as_i64(),
        );
        let chosen = &report["sets"][step["chosen"].as_u64().unwrap() as usize];
        let mut args = vec![
            "backtest".to_owned(),
            "--plugin".into(),
            artifacts::LAY_LOW_INPLAY.into(),
        ];
        args.extend(["--params".into(), chosen.to_string(), "--json".into()]);
        let inside = settled
            .iter()
            .filter(|(at, _)| Some(*at) >= from && Some(*at) < to);
        let mut any = false;
        for (_, path) in inside {
            args.extend(["--data".into(), path.display().to_string()]);
            any = true;
        }
        let oos = &step["out_of_sample_metrics"]["net_profit"];
        let oos: Decimal = oos.to_string().parse().unwrap();
        stitched += oos;
        if !any {
            assert_eq!(oos, Decimal::ZERO, "{step}");
            continue;
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let alone = clever(&args);
        let alone: serde_json::Value = serde_json::from_str(&stdout(&alone)).unwrap();
        let profit: Decimal = alone["strategies"][0]["profit"]
            .to_string()
            .parse()
            .unwrap();
        assert_eq!(profit, oos, "{step}");
        compared += usize::from(alone["strategies"][0]["orders"].as_u64() > Some(0));
    }
    assert!(compared >= 2, "only {compared} windows traded: {report}");
    let total: Decimal = report["out_of_sample"]["net_profit"]
        .to_string()
        .parse()
        .unwrap();
    assert_eq!(total, stitched);
    let short = clever(&[&args[..9], &["--in-sample", "30d", "--out-of-sample", "1d"]].concat());
    assert!(!short.status.success());
    assert!(
        stderr(&short).contains("does not span"),
        "{}",
        stderr(&short)
    );
}

//! The local Hyperliquid over the wire, with our own signer: signatures
//! and nonces checked as the venue checks them, resting orders filled as
//! the replayed market moves through them, hourly funding, the WebSocket's
//! pings, acknowledgements and idle close, and `clever record hyperliquid`
//! writing what the exchange sends. (The official Python SDK against the
//! same exchange: scripts/check-hyperliquid-exchange.)

use std::path::PathBuf;
use std::time::Duration;

use clever_hyperliquid::data::{Message, read_line, read_recording};
use clever_hyperliquid::{Action, Limit, OrderType, OrderWire, PrivateKey, Tif, sign_l1_action};
use clever_hyperliquid_exchange::{Exchange, Recording, Running};
use futures_util::{SinkExt, StreamExt};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as Frame;

const KEY: &str = "0x0123456789012345678901234567890123456789012345678901234567890123";
/// A second made-up test key, for an account traded under tight risk limits.
const LIMITED_KEY: &str = "0x1111111111111111111111111111111111111111111111111111111111111111";
/// An hour boundary, and a second after it.
const HOUR: i64 = 1_767_225_600_000;

fn key() -> PrivateKey {
    PrivateKey::parse(KEY).unwrap()
}

fn book_line(time: i64, bid: &str, ask: &str) -> String {
    json!({"channel": "l2Book", "data": {"coin": "ETH", "time": time,
        "levels": [[{"px": bid, "sz": "1", "n": 1}], [{"px": ask, "sz": "1", "n": 1}]]}})
    .to_string()
}

/// An exchange that has replayed `lines` (as fast as it goes) for one
/// account holding 10,000 USDC.
async fn exchange(lines: &[String], idle: Duration) -> (Running, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ETH.jsonl"), lines.join("\n")).unwrap();
    let accounts = vec![(key().address(), Decimal::from(10_000))];
    let exchange = Exchange {
        speed: 0.0,
        idle,
        ..Exchange::local(vec![dir.path().into()], accounts)
    };
    let running = exchange.start().await.unwrap();
    running.shared.replayed().await;
    (running, dir)
}

fn order(px: &str, sz: &str, tif: Tif) -> Action {
    let wire = OrderWire {
        a: 1,
        b: true,
        p: px.into(),
        s: sz.into(),
        r: false,
        t: OrderType::Limit(Limit { tif }),
        c: None,
    };
    Action::Order {
        orders: vec![wire],
        grouping: "na".into(),
    }
}

fn signed(action: &Action, nonce: u64, expires: Option<u64>, mainnet: bool) -> Value {
    let signature = sign_l1_action(&key(), action, (nonce, None, expires), mainnet).unwrap();
    json!({"action": action, "nonce": nonce, "signature": signature, "vaultAddress": null, "expiresAfter": expires})
}

async fn post(running: &Running, path: &str, body: &Value) -> Value {
    let url = format!("http://{}{path}", running.addr);
    let reply = reqwest::Client::new()
        .post(url)
        .json(body)
        .send()
        .await
        .unwrap();
    reply.json().await.unwrap()
}

/// Sign and send a resting buy of 0.01 ETH at 2900.
async fn place_2900(running: &Running, nonce: u64, expires: Option<u64>, mainnet: bool) -> Value {
    let action = order("2900", "0.01", Tif::Gtc);
    post(
        running,
        "/exchange",
        &signed(&action, nonce, expires, mainnet),
    )
    .await
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_and_nonces_are_checked_as_the_venue_checks_them() {
    let (running, _dir) = exchange(
        &[book_line(HOUR + 1000, "3000", "3001")],
        Duration::from_secs(60),
    )
    .await;
    let nonce = now_ms();
    let place = signed(&order("2900", "0.01", Tif::Gtc), nonce, None, false);
    let placed = post(&running, "/exchange", &place).await;
    assert!(
        placed["response"]["data"]["statuses"][0]["resting"]["oid"].is_u64(),
        "{placed}"
    );

    let again = post(&running, "/exchange", &place).await;
    assert_eq!(again["status"], "err");
    assert!(
        again["response"].as_str().unwrap().contains("already used"),
        "{again}"
    );

    // The same signature over another action recovers someone else.
    let mut forged = signed(&order("2900", "0.01", Tif::Gtc), nonce + 1, None, false);
    forged["action"] = json!(order("2901", "0.01", Tif::Gtc));
    let refused = post(&running, "/exchange", &forged).await;
    let text = refused["response"].as_str().unwrap();
    assert!(
        text.starts_with("User or API Wallet 0x") && text.ends_with("does not exist."),
        "{refused}"
    );
    assert!(!text.contains(&key().address().to_string()), "{text}");

    let refusal = |reply: Value| reply["response"].as_str().unwrap_or_default().to_owned();
    let mainnet = refusal(place_2900(&running, nonce + 2, None, true).await);
    assert!(
        mainnet.contains("does not exist"),
        "signed for mainnet: {mainnet}"
    );
    let expired = refusal(place_2900(&running, nonce + 3, Some(nonce - 1), false).await);
    assert!(expired.contains("expired"), "{expired}");
    let stale = refusal(place_2900(&running, nonce - 3 * 86_400_000, None, false).await);
    assert!(stale.contains("outside the window"), "{stale}");

    let open = post(
        &running,
        "/info",
        &json!({"type": "openOrders", "user": key().address().to_string()}),
    )
    .await;
    assert_eq!(
        open.as_array().map(Vec::len),
        Some(1),
        "only the first order was placed: {open}"
    );
}

async fn next_json(
    ws: &mut (impl StreamExt<Item = Result<Frame, tokio_tungstenite::tungstenite::Error>> + Unpin),
) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if let Frame::Text(text) = frame
            && let Ok(value) = serde_json::from_str::<Value>(text.as_str())
        {
            return value;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resting_orders_fill_as_the_market_moves_through_them_and_positions_pay_funding_each_hour()
{
    let (running, _dir) = exchange(
        &[book_line(HOUR + 1000, "3000", "3001")],
        Duration::from_secs(60),
    )
    .await;
    let user = key().address().to_string();
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", running.addr))
        .await
        .unwrap();
    for sub in [
        json!({"type": "userFills", "user": user}),
        json!({"type": "userEvents", "user": user}),
    ] {
        ws.send(Frame::Text(
            json!({"method": "subscribe", "subscription": sub})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    }
    assert_eq!(next_json(&mut ws).await["channel"], "subscriptionResponse");
    let snapshot = next_json(&mut ws).await;
    assert_eq!(snapshot["data"]["isSnapshot"], true, "{snapshot}");
    assert_eq!(next_json(&mut ws).await["channel"], "subscriptionResponse");

    let placed = post(
        &running,
        "/exchange",
        &signed(&order("3000.5", "0.1", Tif::Gtc), now_ms(), None, false),
    )
    .await;
    assert!(
        placed["response"]["data"]["statuses"][0]["resting"].is_object(),
        "{placed}"
    );

    // The market's ask comes down to 3000: the buy at 3000.5 was in the way.
    let apply = |line: String| running.shared.venue().apply(read_line(&line).unwrap());
    apply(book_line(HOUR + 2000, "2999", "3000"));
    let fills = next_json(&mut ws).await;
    assert_eq!(fills["channel"], "userFills", "{fills}");
    let fill = &fills["data"]["fills"][0];
    assert_eq!(
        (
            fill["px"].as_str(),
            fill["sz"].as_str(),
            fill["crossed"].as_bool()
        ),
        (Some("3000.5"), Some("0.1"), Some(false))
    );
    // Maker fee 0.015% of 300.05, to the micro-dollar (half to even).
    assert_eq!(fill["fee"], "0.045008");
    assert_eq!(
        next_json(&mut ws).await["data"]["fills"][0]["oid"],
        fill["oid"],
        "userEvents hears the same fill"
    );

    // An hour on: the long pays size x oracle (the mid) x the hourly rate.
    apply(book_line(HOUR + 3_600_000 + 500, "2999", "3000"));
    let funding = next_json(&mut ws).await;
    assert_eq!(funding["channel"], "user", "{funding}");
    let paid: Decimal = "0.003749375".parse().unwrap(); // 0.1 x 2999.5 x 0.0000125
    assert_eq!(funding["data"]["funding"]["usdc"], (-paid).to_string());
    let state = post(
        &running,
        "/info",
        &json!({"type": "clearinghouseState", "user": user}),
    )
    .await;
    let expected = Decimal::from(10_000) - "0.045008".parse::<Decimal>().unwrap() - paid;
    assert_eq!(
        state["marginSummary"]["totalRawUsd"],
        expected.to_string(),
        "{state}"
    );
    assert_eq!(state["assetPositions"][0]["position"]["entryPx"], "3000.5");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_websocket_greets_answers_pings_acknowledges_and_closes_an_idle_connection() {
    let (running, _dir) = exchange(
        &[book_line(HOUR, "3000", "3001")],
        Duration::from_millis(1500),
    )
    .await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", running.addr))
        .await
        .unwrap();
    let greeting = ws.next().await.unwrap().unwrap();
    assert_eq!(
        greeting,
        Frame::Text("Websocket connection established.".into())
    );
    ws.send(Frame::Text(r#"{"method":"ping"}"#.into()))
        .await
        .unwrap();
    assert_eq!(next_json(&mut ws).await, json!({"channel": "pong"}));
    let sub = json!({"type": "l2Book", "coin": "ETH"});
    ws.send(Frame::Text(
        json!({"method": "subscribe", "subscription": sub})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let ack = next_json(&mut ws).await;
    assert_eq!(
        ack,
        json!({"channel": "subscriptionResponse", "data": {"method": "subscribe", "subscription": sub}})
    );
    let book = next_json(&mut ws).await;
    assert_eq!(
        (
            book["channel"].as_str(),
            book["data"]["levels"][1][0]["px"].as_str()
        ),
        (Some("l2Book"), Some("3001"))
    );
    let bad = json!({"method": "subscribe", "subscription": {"type": "nonsense"}});
    ws.send(Frame::Text(bad.to_string().into())).await.unwrap();
    assert_eq!(next_json(&mut ws).await["channel"], "error");
    // Nothing more to send it: the exchange closes the connection.
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match ws.next().await {
                Some(Ok(Frame::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            }
        }
    });
    assert!(
        closed.await.is_ok(),
        "an idle connection was still open after 10 s"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clever_record_hyperliquid_writes_lines_the_exchange_replays() {
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let clever = env!("CARGO_BIN_EXE_clever");
    let generated = std::process::Command::new(clever)
        .args([
            "gen",
            "--venue",
            "hyperliquid",
            "--coins",
            "ETH",
            "--minutes",
            "2",
            "--out",
        ])
        .arg(data.path())
        .output()
        .unwrap();
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let accounts = vec![(key().address(), Decimal::from(10_000))];
    let exchange = Exchange {
        speed: 20.0,
        wait_for_subscriber: true,
        ..Exchange::local(vec![data.path().into()], accounts)
    };
    let running = exchange.start().await.unwrap();
    let mut record = std::process::Command::new(clever);
    record
        .args([
            "record",
            "hyperliquid",
            "--coins",
            "ETH",
            "--seconds",
            "3",
            "--url",
        ])
        .arg(format!("ws://{}/ws", running.addr))
        .arg("--out")
        .arg(out.path());
    let recorded = tokio::task::spawn_blocking(move || record.output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        recorded.status.success(),
        "{}",
        String::from_utf8_lossy(&recorded.stderr)
    );
    let text = std::fs::read_to_string(out.path().join("ETH.jsonl")).unwrap();
    let messages: Vec<Message> = read_recording(&text)
        .into_iter()
        .map(|m| m.unwrap())
        .collect();
    let books = messages
        .iter()
        .filter(|m| matches!(m, Message::Book(_)))
        .count();
    let trades = messages
        .iter()
        .filter(|m| matches!(m, Message::Trades(_)))
        .count();
    assert!(
        books >= 20 && trades >= 5,
        "3 s at 20x: {books} books, {trades} trades"
    );
    let replayable = Recording::read(
        &[PathBuf::from(out.path())],
        &clever_hyperliquid::Universe::standard(),
    )
    .unwrap();
    assert_eq!(
        (replayable.messages.len(), replayable.refused.len()),
        (messages.len(), 0)
    );
}

/// `clever gen --venue hyperliquid` into `out`.
fn generate(coins: &str, minutes: &str, seed: &str, out: &str) {
    let args = [
        "gen",
        "--venue",
        "hyperliquid",
        "--coins",
        coins,
        "--minutes",
        minutes,
    ];
    clever(&[&args[..], &["--seed", seed, "--out", out]].concat());
}

fn clever(args: &[&str]) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_clever"))
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "clever {args:?}: {stderr}");
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

#[test]
fn recordings_and_candle_snapshots_are_ingested_checked_and_once_on_both_databases() {
    crate::store::on_both(|db| {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_str().unwrap();
        generate("ETH", "3", "1", data);
        let eth = dir.path().join("ETH.jsonl");
        let generated = std::fs::read_to_string(&eth).unwrap();
        // A crossed book: refused, named by its line; the rest is kept.
        let bad = book_line(HOUR, "3002", "3001");
        std::fs::write(&eth, format!("{generated}{bad}\n")).unwrap();
        let snapshot = json!([{"t": HOUR, "T": HOUR + 899_999, "s": "ETH", "i": "15m", "o": "3500.1",
            "c": "3510.25", "h": "3520", "l": "3490.5", "v": "12.0001", "n": 40}]);
        std::fs::write(dir.path().join("eth-15m.json"), snapshot.to_string()).unwrap();

        let ingest = [
            "ingest",
            "--venue",
            "hyperliquid",
            data,
            "--json",
            "--db",
            &db.url,
        ];
        let first = clever(&ingest);
        assert_eq!(
            first,
            json!({"candles": 4, "books": 180, "dead_letters": 1}),
            "{}",
            db.url
        );
        let again = clever(&ingest);
        assert_eq!(again["books"], 0, "nothing is stored twice");

        crate::store::block_on(async {
            let store = clever_host::store::Store::open(&db.url).await.unwrap();
            let candles = store
                .perp_candles("hyperliquid", "ETH", "1m", (0, i64::MAX))
                .await
                .unwrap();
            let written: Vec<Value> = (generated.lines())
                .filter(|l| l.contains("\"candle\""))
                .map(|l| serde_json::from_str::<Value>(l).unwrap()["data"].clone())
                .collect();
            assert_eq!(candles.len(), written.len());
            for (row, line) in candles.iter().zip(&written) {
                let ohlc = ["o", "h", "l", "c"].map(|k| {
                    let d: Decimal = line[k].as_str().unwrap().parse().unwrap();
                    d.normalize().to_string()
                });
                assert_eq!(
                    (row.open_time, &row.ohlc),
                    (line["t"].as_i64().unwrap(), &ohlc)
                );
            }
            let quarter = store
                .perp_candles("hyperliquid", "ETH", "15m", (HOUR, HOUR + 1))
                .await
                .unwrap();
            assert_eq!(
                quarter[0].ohlc,
                ["3500.1", "3520", "3490.5", "3510.25"].map(String::from)
            );
            let books = store
                .perp_books("hyperliquid", "ETH", (0, i64::MAX))
                .await
                .unwrap();
            assert_eq!(books.len(), 180);
            assert!(books.windows(2).all(|w| w[0].at < w[1].at));
            assert!(
                books
                    .iter()
                    .all(|b| b.best_bid.as_ref().unwrap().0 < b.best_ask.as_ref().unwrap().0)
            );
            if let clever_host::store::Store::Postgres { pool, .. } = &store {
                let q = "SELECT value FROM store_settings WHERE key = 'time_series'";
                let series: String = sqlx::query_scalar(q).fetch_one(pool).await.unwrap();
                let q = "SELECT count(*) FROM pg_inherits WHERE inhparent = 'perp_books'::regclass";
                let days: i64 = sqlx::query_scalar(q).fetch_one(pool).await.unwrap();
                assert!(
                    series != "partitions" || days == 1,
                    "three minutes, one day partition: {days}"
                );
            }
            store.close().await;
        });
    });
}

/// The example perp strategy in a backtest of generated markets: it
/// trades, every trade is recorded with its R multiple, the figures add up
/// exactly, and the same data gives the same report.
#[test]
fn perp_breakout_backtests_over_generated_markets_with_trades_in_r() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    generate("ETH,BTC", "240", "4", data);
    let plugin = clever_plugin_artifacts::PERP_BREAKOUT;
    let run = || {
        clever(&[
            "backtest",
            "--venue",
            "hyperliquid",
            "--plugin",
            plugin,
            "--data",
            data,
            "--params",
            r#"{"lookback": 8, "risk": 25}"#,
            "--json",
        ])
    };
    let report = run();
    assert_eq!(report, run(), "the same data, the same report");
    assert_eq!(report["refused_lines"], 0);
    let strategy = &report["strategies"][0];
    let trades = strategy["trades"].as_array().unwrap();
    assert!(
        trades.len() >= 3,
        "a breakout strategy over 4 hours trades: {strategy}"
    );
    assert_eq!(
        strategy["summary"]["trades"].as_u64(),
        Some(trades.len() as u64)
    );
    // Money is exact inside; JSON carries it as numbers (serde-float).
    let d = |v: &Value| v.to_string().parse::<Decimal>().unwrap();
    let pnl: Decimal = trades.iter().map(|t| d(&t["pnl"])).sum();
    let total = d(&strategy["summary"]["pnl"]);
    assert!(
        (pnl - total).abs() < Decimal::new(1, 6),
        "the trades add up to the total: {pnl} {total}"
    );
    for t in trades {
        let (entry, exit, stop, r) = (
            d(&t["entry"]),
            d(&t["exit"]),
            d(&t["stop"]),
            d(&t["r_multiple"]),
        );
        let sign = if t["direction"] == "long" {
            Decimal::ONE
        } else {
            -Decimal::ONE
        };
        let measured = (exit - entry) * sign / ((entry - stop) * sign);
        assert!((r - measured).abs() < Decimal::new(1, 3), "{t}");
        // Exits are at the stop or the 2R target, give or take the touch.
        assert!(r > Decimal::new(-15, 1) && r < Decimal::new(3, 0), "{t}");
        assert!(t["closed_at"].as_i64() > t["opened_at"].as_i64());
    }
    assert_eq!(
        strategy["rejected"],
        json!({}),
        "every order was on the tick and lot"
    );

    // Risk in a backtest: limits below the smallest trade's value stop
    // every opening order, by the order's value or by the position's.
    let smallest = (trades.iter())
        .map(|t| d(&t["size"]) * d(&t["entry"]))
        .min()
        .unwrap();
    let half = (smallest / Decimal::TWO).round_dp(2);
    let files = tempfile::tempdir().unwrap();
    for (key, reason) in [
        ("max_order_notional", "risk-limit:max-stake"),
        ("max_position_notional", "risk-limit:max-market-liability"),
    ] {
        let risk = files.path().join(format!("{key}.toml"));
        std::fs::write(&risk, format!("[risk]\n{key} = {half}\n")).unwrap();
        let mut args = vec!["backtest", "--venue", "hyperliquid", "--plugin", plugin];
        args.extend(["--data", data, "--params", r#"{"lookback": 8, "risk": 25}"#]);
        args.extend(["--risk", risk.to_str().unwrap(), "--json"]);
        let limited = &clever(&args)["strategies"][0];
        assert_eq!(limited["summary"]["trades"], 0, "{key} = {half}: {limited}");
        assert_eq!(limited["orders"], 0, "{key} = {half}: {limited}");
        assert!(
            limited["rejected"][reason].as_u64() > Some(0),
            "{key} = {half}: {limited}"
        );
    }
}

/// A file that is not a recording (a Betfair stream here) is warned about
/// in a few lines, not one per line, and named as adding nothing.
#[test]
fn a_file_that_is_not_a_recording_is_warned_about_in_a_few_lines() {
    let file = crate::backtest::betfair_data().join("1.197931750");
    let text = std::fs::read_to_string(&file).unwrap();
    let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_clever"))
        .args(["backtest", "--venue", "hyperliquid", "--json", "--plugin"])
        .arg(clever_plugin_artifacts::PERP_BREAKOUT)
        .arg("--data")
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["events"], 0);
    assert_eq!(report["refused_lines"], lines);
    let name = file.display();
    let warned: Vec<&str> = stderr.lines().collect();
    assert_eq!(warned.len(), 5, "{stderr}");
    assert!(
        warned[0].starts_with(&format!("warning: {name}:1: ")),
        "{stderr}"
    );
    assert_eq!(
        warned[3],
        format!("warning: {name}: {lines} lines refused in all")
    );
    assert_eq!(
        warned[4],
        format!("warning: {name}: no recorded message in it, so it adds nothing to the report")
    );
}

/// A saved perp backtest keeps every trade with its strategy version and
/// a backtest flag; notes attach to a version and, optionally, to one of
/// its trades (a trade of another version is refused by name).
#[test]
fn saved_trades_carry_notes_on_both_databases() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    generate("ETH", "90", "2", data);
    crate::store::on_both(|db| {
        let report = clever(&[
            "backtest",
            "--venue",
            "hyperliquid",
            "--plugin",
            clever_plugin_artifacts::PERP_BREAKOUT,
            "--data",
            data,
            "--params",
            r#"{"lookback": 5}"#,
            "--save",
            "--db",
            &db.url,
            "--json",
        ]);
        let traded = report["strategies"][0]["trades"].as_array().unwrap().len();
        assert!(traded > 0, "{report}");
        let listed = clever(&[
            "notes",
            "list",
            "perp-breakout@1.0.0",
            "--db",
            &db.url,
            "--json",
        ]);
        let trades = listed["trades"].as_array().unwrap();
        assert_eq!(trades.len(), traded);
        assert!(
            trades
                .iter()
                .all(|t| t["mode"] == "backtest" && t["run"] == report["run"])
        );
        let first = trades[0]["id"].as_i64().unwrap().to_string();
        let added = clever(&[
            "notes",
            "add",
            "perp-breakout@1.0.0",
            "breakouts at the open fail",
            "--trade",
            &first,
            "--db",
            &db.url,
            "--json",
        ]);
        assert!(added["note"].is_i64());
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_clever"))
            .args([
                "notes",
                "add",
                "perp-breakout@9.9.9",
                "wrong version",
                "--trade",
                &first,
                "--db",
                &db.url,
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && stderr.contains("is not a trade of perp-breakout@9.9.9"),
            "{stderr}"
        );
        let listed = clever(&["notes", "list", "perp-breakout", "--db", &db.url, "--json"]);
        let notes = listed["notes"].as_array().unwrap();
        assert_eq!(notes.len(), 1);
        assert_eq!(
            (notes[0]["trade"].to_string(), notes[0]["text"].as_str()),
            (first.clone(), Some("breakouts at the open fail"))
        );
        // A strategy with nothing saved: one line, no table heading.
        let none = std::process::Command::new(env!("CARGO_BIN_EXE_clever"))
            .args(["notes", "list", "no-such-strategy", "--db", &db.url])
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&none.stdout);
        assert_eq!(said, "no trades or notes for no-such-strategy\n");
    });
}

/// The example perp strategy live against the local Hyperliquid: its
/// orders reach the exchange signed and with client order ids, and every
/// trade the host records (as `live`) was priced exactly by the exchange's
/// own fills.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn perp_breakout_trades_live_against_the_local_hyperliquid() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let start = chrono::Utc::now().to_rfc3339();
    let args = [
        "gen",
        "--venue",
        "hyperliquid",
        "--coins",
        "ETH",
        "--minutes",
        "120",
        "--seed",
        "9",
        "--start",
        &start,
    ];
    clever(&[&args[..], &["--out", data.to_str().unwrap()]].concat());
    let limited = PrivateKey::parse(LIMITED_KEY).unwrap();
    let accounts = vec![
        (key().address(), Decimal::from(100_000)),
        (limited.address(), Decimal::from(100_000)),
    ];
    // A risk file no opening order passes: an order worth more than 1.
    let risk = dir.path().join("risk.toml");
    std::fs::write(&risk, "[risk]\nmax_order_notional = 1\n").unwrap();
    let exchange = Exchange {
        speed: 60.0,
        wait_for_subscriber: true,
        ..Exchange::local(vec![data], accounts)
    };
    let running = exchange.start().await.unwrap();
    // Two databases: two processes must not migrate one new SQLite file at once.
    let db_of = |paper: bool| {
        format!(
            "sqlite://{}",
            dir.path()
                .join(if paper { "paper.db" } else { "live.db" })
                .display()
        )
    };
    // The same strategy live and, beside it, on paper on the same feed; and
    // live for a second account under the risk file above.
    let host = |paper: bool, risk: Option<&std::path::Path>| {
        let db = match risk {
            Some(_) => format!("sqlite://{}", dir.path().join("limited.db").display()),
            None => db_of(paper),
        };
        let mut host = std::process::Command::new(env!("CARGO_BIN_EXE_clever"));
        host.args([
            "live",
            "--venue",
            "hyperliquid",
            "--plugin",
            clever_plugin_artifacts::PERP_BREAKOUT,
        ])
        .args([
            "--params",
            r#"{"lookback": 2, "risk": 25, "target_r": 1}"#,
            "--seconds",
            "50",
            "--db",
            &db,
        ])
        .arg("--url")
        .arg(format!("http://{}", running.addr))
        .env("HYPERLIQUID_PRIVATE_KEY", KEY);
        if paper {
            host.arg("--paper").env_remove("HYPERLIQUID_PRIVATE_KEY");
        }
        if let Some(risk) = risk {
            host.arg("--risk")
                .arg(risk)
                .env("HYPERLIQUID_PRIVATE_KEY", LIMITED_KEY);
        }
        tokio::task::spawn_blocking(move || host.output())
    };
    // And on paper for a strategy that lost 5,000 on paper earlier today:
    // its day's loss limit (1,000) holds across the restart.
    let lost = format!("sqlite://{}", dir.path().join("lost.db").display());
    let day = |ms: i64| ms.div_euclid(86_400_000);
    let seeded_on = day(chrono::Utc::now().timestamp_millis());
    seed_a_loss(&lost, -5_000).await;
    let mut lost_host = std::process::Command::new(env!("CARGO_BIN_EXE_clever"));
    lost_host
        .args([
            "live",
            "--venue",
            "hyperliquid",
            "--paper",
            "--seconds",
            "50",
        ])
        .args(["--plugin", clever_plugin_artifacts::PERP_BREAKOUT])
        .args(["--params", r#"{"lookback": 2, "risk": 25, "target_r": 1}"#])
        .args(["--db", &lost])
        .arg("--url")
        .arg(format!("http://{}", running.addr));
    let lost_host = tokio::task::spawn_blocking(move || lost_host.output());
    let (live, paper, limited_host) = (
        host(false, None),
        host(true, None),
        host(false, Some(&risk)),
    );
    let (out, paper) = (live.await.unwrap().unwrap(), paper.await.unwrap().unwrap());
    let limited_out = limited_host.await.unwrap().unwrap();
    let limited_err = String::from_utf8_lossy(&limited_out.stderr);
    assert!(limited_out.status.success(), "{limited_err}");
    let lost_out = lost_host.await.unwrap().unwrap();
    let lost_err = String::from_utf8_lossy(&lost_out.stderr);
    assert!(lost_out.status.success(), "{lost_err}");
    // Unless the day turned while it ran, it said so and opened nothing.
    if day(chrono::Utc::now().timestamp_millis()) == seeded_on {
        let reached = "perp-breakout: today's realised loss in paper trading, 5000.00, has \
                       reached daily_loss_limit 1000";
        assert!(lost_err.contains(reached), "{lost_err}");
        let refused = (lost_err.lines())
            .find_map(|l| {
                l.strip_prefix(
                    "perp-breakout@1.0.0: 0 orders placed, refused: risk-limit:daily-loss ",
                )
            })
            .and_then(|n| n.parse::<u64>().ok());
        assert!(refused.is_some_and(|n| n > 0), "{lost_err}");
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        paper.status.success(),
        "{}",
        String::from_utf8_lossy(&paper.stderr)
    );
    assert!(!stderr.contains(&KEY[2..]), "the key is never printed");

    let user = key().address().to_string();
    let fills = post(
        &running,
        "/info",
        &json!({"type": "userFills", "user": user}),
    )
    .await;
    let fills = fills.as_array().unwrap();
    assert!(
        fills.len() >= 2,
        "the strategy traded at the exchange: {stderr}"
    );
    assert!(
        fills.iter().all(|f| f["cloid"].is_string()),
        "every order carried a cloid"
    );
    // Under the risk file, every opening order stopped before the venue.
    let refused = (limited_err.lines())
        .find_map(|l| {
            l.strip_prefix("perp-breakout@1.0.0: 0 orders placed, refused: risk-limit:max-stake ")
        })
        .and_then(|n| n.parse::<u64>().ok());
    assert!(refused.is_some_and(|n| n > 0), "{limited_err}");
    assert!(
        limited_err.contains("an order's value at most 1, "),
        "{limited_err}"
    );
    for ask in ["userFills", "openOrders"] {
        let user = limited.address().to_string();
        let answer = post(&running, "/info", &json!({"type": ask, "user": user})).await;
        assert_eq!(
            answer,
            json!([]),
            "{ask} of the limited account: {limited_err}"
        );
    }

    let mut trades = Vec::new();
    for paper in [false, true] {
        let store = clever_host::store::Store::open(&db_of(paper))
            .await
            .unwrap();
        trades.extend(store.trades("perp-breakout", None).await.unwrap());
        store.close().await;
    }
    let average = |side: &str, from: i64, to: i64| {
        let mine = fills
            .iter()
            .filter(|f| f["side"] == side && (from..=to).contains(&f["time"].as_i64().unwrap()));
        let (value, size) = mine.fold((Decimal::ZERO, Decimal::ZERO), |(v, s), f| {
            let (px, sz): (Decimal, Decimal) = (
                f["px"].as_str().unwrap().parse().unwrap(),
                f["sz"].as_str().unwrap().parse().unwrap(),
            );
            (v + px * sz, s + sz)
        });
        (value / size).round_dp(8).normalize().to_string()
    };
    let (trades, paper): (Vec<_>, Vec<_>) = trades.into_iter().partition(|t| t.mode == "live");
    eprintln!(
        "{} fills at the exchange; {} live and {} paper trades",
        fills.len(),
        trades.len(),
        paper.len()
    );
    assert!(!paper.is_empty(), "paper traded too, in the simulated book");
    assert!(!trades.is_empty(), "a live trade closed: {stderr}");
    for t in &trades {
        let (open, close) = if t.direction == "long" {
            ("B", "A")
        } else {
            ("A", "B")
        };
        assert_eq!(t.entry, average(open, t.opened_at, t.closed_at), "{t:?}");
        assert_eq!(t.exit, average(close, t.opened_at, t.closed_at), "{t:?}");
        let brief: Vec<String> = fills
            .iter()
            .map(|f| {
                format!(
                    "{} {} {} {} oid {} {}",
                    f["time"], f["side"], f["sz"], f["px"], f["oid"], f["dir"]
                )
            })
            .collect();
        assert!(
            t.r_multiple.is_some(),
            "{t:?}\n{}\n{stderr}",
            brief.join("\n")
        );
    }
}

/// Store a paper trade of perp-breakout closed now with `pnl`.
async fn seed_a_loss(db: &str, pnl: i64) {
    let store = clever_host::store::Store::open(db).await.unwrap();
    let trade = closed_trade(chrono::Utc::now().timestamp_millis(), pnl);
    let source = clever_host::store::TradeSource {
        mode: "paper",
        run: None,
        session: None,
        venue: "hyperliquid",
        strategy: "perp-breakout",
        version: "1.0.0",
    };
    store.save_trades(source, &[trade]).await.unwrap();
    store.close().await;
}

/// A long trade of one ETH from 3,000, a minute long, closed at `closed_at`
/// with `pnl` (no fees, no funding).
pub(crate) fn closed_trade(closed_at: i64, pnl: i64) -> clever_host::market::TradeRecord {
    clever_host::market::TradeRecord {
        instrument: "ETH".into(),
        direction: "long",
        opened_at: closed_at - 60_000,
        closed_at,
        size: Decimal::ONE,
        entry: Decimal::from(3_000),
        exit: Decimal::from(3_000 + pnl),
        stop: None,
        pnl: Decimal::from(pnl),
        fees: Decimal::ZERO,
        funding: Decimal::ZERO,
        r_multiple: None,
    }
}

/// A live host restarted while the account holds a position and an
/// earlier session's order rests: it takes the position over and cancels
/// that order, leaving an order that is not the host's alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_live_host_takes_over_positions_and_cancels_an_earlier_sessions_orders() {
    let (running, dir) = exchange(
        &[book_line(HOUR + 1000, "3000", "3001")],
        Duration::from_secs(60),
    )
    .await;
    let order = |px: &str, sz: &str, tif: Tif, cloid: Option<u128>| {
        let wire = OrderWire {
            a: 1,
            b: true,
            p: px.into(),
            s: sz.into(),
            r: false,
            t: OrderType::Limit(Limit { tif }),
            c: cloid.map(clever_hyperliquid::Cloid),
        };
        Action::Order {
            orders: vec![wire],
            grouping: "na".into(),
        }
    };
    let nonce = now_ms();
    let placed = [
        order("3001", "0.1", Tif::Ioc, None),
        order("2900", "0.01", Tif::Gtc, Some((7 << 64) | 1)),
        order("2901", "0.01", Tif::Gtc, None),
    ];
    for (i, action) in placed.iter().enumerate() {
        let reply = post(
            &running,
            "/exchange",
            &signed(action, nonce + i as u64, None, false),
        )
        .await;
        assert!(
            reply["response"]["data"]["statuses"][0]
                .get("error")
                .is_none(),
            "{reply}"
        );
    }
    let db = format!("sqlite://{}", dir.path().join("restart.db").display());
    let plugin = clever_plugin_artifacts::PERP_BREAKOUT;
    let stderr = live_for_seconds(
        &running,
        plugin,
        &db,
        &["--seconds", "2", "--leverage", "7"],
    )
    .await;
    assert!(
        stderr.contains("the account holds ETH 0.1 at 3001: taken over"),
        "{stderr}"
    );
    assert!(
        stderr.contains("cancelled 1 order(s) an earlier session left resting"),
        "{stderr}"
    );
    assert!(
        stderr.contains("left 1 open order(s) without a clever cloid alone"),
        "{stderr}"
    );
    assert_eq!(
        open_prices(&running).await,
        ["2901"],
        "only the stranger still rests"
    );
    let state = post(
        &running,
        "/info",
        &json!({"type": "clearinghouseState", "user": key().address().to_string()}),
    )
    .await;
    let leverage = &state["assetPositions"][0]["position"]["leverage"];
    assert_eq!(
        leverage["value"], 7,
        "the host set the account's leverage (a signed updateLeverage): {state}"
    );

    // A host that stops while its strategy's order rests cancels it first:
    // nobody would be watching it.
    let db = format!("sqlite://{}", dir.path().join("rester.db").display());
    let plugin = clever_plugin_artifacts::FIXTURE_BOOK_RESTER;
    let stderr = live_for_seconds(&running, plugin, &db, &["--seconds", "3"]).await;
    assert!(
        stderr.contains("fixture-book-rester@1.0.0: 1 orders placed, none refused"),
        "{stderr}"
    );
    assert!(
        stderr.contains("stopping: cancelled 1 open order(s)"),
        "{stderr}"
    );
    assert_eq!(
        open_prices(&running).await,
        ["2901"],
        "the stopped host's order is gone: {stderr}"
    );
    // The database keeps the order as it ended: `clever orders` lists it,
    // and a host started within the hour counts it toward the hourly limit.
    // A tenth under the best bid, 3000; cancelled with nothing filled.
    let want = [
        "fixture-book-rester",
        "live",
        "ETH",
        "buy",
        "2700",
        "EXECUTION_COMPLETE",
        "0",
    ];
    assert_eq!(book_orders(&db), [want.map(str::to_owned)]);
    let hourly = dir.path().join("hourly.toml");
    std::fs::write(&hourly, "[risk]\nmax_orders_per_hour = 1\n").unwrap();
    let hourly = hourly.to_str().unwrap();
    let args = ["--seconds", "3", "--risk", hourly];
    let stderr = live_for_seconds(&running, plugin, &db, &args).await;
    let refused =
        "fixture-book-rester@1.0.0: 0 orders placed, refused: risk-limit:max-orders-per-hour";
    assert!(stderr.contains(refused), "{stderr}");
    assert_eq!(open_prices(&running).await, ["2901"], "{stderr}");
    // On paper too, though the simulated book drops a cancelled order
    // without a word: the database hears that it ended.
    let paper = format!("sqlite://{}", dir.path().join("paper.db").display());
    let args = ["--seconds", "3", "--paper"];
    let stderr = live_for_seconds(&running, plugin, &paper, &args).await;
    let placed = "fixture-book-rester@1.0.0: 1 orders placed, none refused";
    assert!(stderr.contains(placed), "{stderr}");
    let want = [
        "fixture-book-rester",
        "paper",
        "ETH",
        "buy",
        "2700",
        "EXECUTION_COMPLETE",
        "0",
    ];
    assert_eq!(book_orders(&paper), [want.map(str::to_owned)], "{stderr}");

    // The database's kill switch, pulled by `clever kill` while the order
    // rests, stops the host trading and cancels the order; the host runs on.
    let db = format!("sqlite://{}", dir.path().join("killed.db").display());
    let mut host = live_command(&running, plugin, &db, &["--seconds", "12"]);
    let host = tokio::task::spawn_blocking(move || host.output());
    until(&running, 2, "the rester's order rests").await;
    crate::serve::ok(&crate::serve::clever(&["kill", "--db", &db]));
    until(&running, 1, "the kill switch cancelled the order").await;
    assert!(
        !host.is_finished(),
        "cancelled while the host ran on, not by its stop"
    );
    let out = host.await.unwrap().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let pulled = "the kill switch was pulled: trading stopped, 1 open order(s) asked to cancel";
    assert!(stderr.contains(pulled), "{stderr}");
    // A host started while it is on places nothing until it is released,
    // not even an order its strategy places from `init`.
    let at_start = ["--seconds", "2", "--params", r#"{"at_start": 2800}"#];
    let stderr = live_for_seconds(&running, plugin, &db, &at_start).await;
    assert!(
        stderr.contains("the kill switch is on (it was pulled before this host started)"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "fixture-book-rester@1.0.0: 0 orders placed, refused: risk-limit:kill-switch 1\n"
        ),
        "{stderr}"
    );
    assert_eq!(open_prices(&running).await, ["2901"], "{stderr}");
}

/// The order-book orders `clever orders` lists in `db`, newest first:
/// strategy, mode, instrument, side, price, status and size filled.
fn book_orders(db: &str) -> Vec<[String; 7]> {
    let listed = crate::serve::ok(&crate::serve::clever(&["orders", "--db", db, "--json"]));
    let listed: Value = serde_json::from_str(&listed).unwrap();
    let fields = [
        "strategy",
        "mode",
        "instrument",
        "side",
        "price",
        "status",
        "filled",
    ];
    (listed["book_orders"].as_array().unwrap().iter())
        .map(|o| fields.map(|f| o[f].as_str().unwrap().to_owned()))
        .collect()
}

/// Wait (at most 15 s) until `n` orders rest for `KEY`'s account.
async fn until(running: &Running, n: usize, what: &str) {
    let waited = std::time::Instant::now();
    loop {
        let open = open_prices(running).await;
        if open.len() == n {
            return;
        }
        assert!(
            waited.elapsed() < Duration::from_secs(15),
            "{what}: {open:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `clever live --venue hyperliquid` of `plugin` on the account of `KEY`
/// against `running`, stored in `db`, with `args`; its stderr, once it
/// ended well.
async fn live_for_seconds(running: &Running, plugin: &str, db: &str, args: &[&str]) -> String {
    let mut live = live_command(running, plugin, db, args);
    let out = tokio::task::spawn_blocking(move || live.output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

/// The command of [`live_for_seconds`].
fn live_command(running: &Running, plugin: &str, db: &str, args: &[&str]) -> std::process::Command {
    let mut live = std::process::Command::new(env!("CARGO_BIN_EXE_clever"));
    live.args([
        "live",
        "--venue",
        "hyperliquid",
        "--plugin",
        plugin,
        "--db",
        db,
    ])
    .args(args)
    .arg("--url")
    .arg(format!("http://{}", running.addr))
    .env("HYPERLIQUID_PRIVATE_KEY", KEY);
    live
}

/// The limit prices of the orders resting for `KEY`'s account.
async fn open_prices(running: &Running) -> Vec<String> {
    let user = key().address().to_string();
    let open = post(
        running,
        "/info",
        &json!({"type": "openOrders", "user": user}),
    )
    .await;
    (open.as_array().unwrap().iter())
        .filter_map(|o| Some(o["limitPx"].as_str()?.to_owned()))
        .collect()
}

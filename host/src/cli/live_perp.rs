//! `clever live --venue hyperliquid [--paper]`: order-book strategies on
//! Hyperliquid's live feed (or a local one). Paper matches orders in the
//! simulated book against the live books; live signs them and sends them
//! to the venue (`clever-hyperliquid-venue`). Every closed trade is stored
//! as it closes, marked `paper` or `live`, with the session.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clever_hyperliquid::data::read_line;
use clever_hyperliquid::events::LiveEvents;
use clever_hyperliquid::feed::{FeedEvent, follow};
use clever_hyperliquid::{PrivateKey, Universe};
use clever_hyperliquid_venue::{ExchangeClient, HyperliquidVenue, Link, reconcile};
use serde_json::json;

use crate::engine::{BookVenue, Desk, Engine, SimClock, wall_now};
use crate::market::{Decimal, InstrumentEvent, Money};
use crate::risk::{DAY_MS, HOUR_MS, RiskBook, RiskLimits};
use crate::runtime::{LoadedPlugin, Runtime, RuntimeConfig};
use crate::sim::{BookSim, BookSimConfig, SimConfig, SimVenue};
use crate::store::{Store, database_url};

use super::perp_records::{Batch, FIRST_WAIT, Stored, Writer};

/// The leverage traded at unless `--leverage` says.
const DEFAULT_LEVERAGE: u32 = 20;

/// The environment variable that may hold the account's private key.
const KEY_ENV: &str = "HYPERLIQUID_PRIVATE_KEY";

/// What `clever live --venue hyperliquid` takes.
#[derive(Debug, clap::Args)]
pub struct LiveArgs {
    /// Hyperliquid: a strategy component (.wasm); repeat for several.
    #[arg(long = "plugin")]
    plugins: Vec<PathBuf>,
    /// Hyperliquid: strategy parameters (a JSON object) for every plugin.
    #[arg(long, default_value = "{}")]
    params: String,
    /// Hyperliquid: the venue's REST base (its WebSocket is found from it).
    #[arg(long, default_value = clever_hyperliquid_venue::client::MAINNET)]
    url: String,
    /// Hyperliquid: a file holding the account's private key (64 hex
    /// digits); else $HYPERLIQUID_PRIVATE_KEY. Live only; never printed.
    #[arg(long)]
    key_file: Option<PathBuf>,
    /// Hyperliquid: the leverage to trade at (live: set at the venue, cross
    /// margin, for each instrument traded; capped at the instrument's).
    #[arg(long, default_value_t = DEFAULT_LEVERAGE)]
    leverage: u32,
    /// Hyperliquid: stop after this many seconds (by default at Ctrl-C or SIGTERM).
    #[arg(long)]
    seconds: Option<u64>,
    /// Hyperliquid: where sessions and trades are stored [default:
    /// $DATABASE_URL, else sqlite://clever.db].
    #[arg(long)]
    db: Option<String>,
    /// Hyperliquid: risk limits, a TOML file with a `[risk]` table (see
    /// examples/risk.toml: `max_order_notional`, `max_position_notional`,
    /// `daily_loss_limit`, the order counts).
    #[arg(long)]
    risk: Option<PathBuf>,
    /// Hyperliquid: sandbox limits, a TOML file with a `[sandbox]` table
    /// (see examples/sandbox.toml).
    #[arg(long)]
    limits: Option<PathBuf>,
}

impl LiveArgs {
    pub fn run(&self, paper: bool) -> anyhow::Result<()> {
        anyhow::ensure!(
            !self.plugins.is_empty(),
            "--venue hyperliquid needs at least one --plugin"
        );
        let key = if paper { None } else { Some(self.key()?) };
        let risk = super::settings::risk(self.risk.as_deref())?;
        // Real time, beside the feed: a call that overstays its deadline
        // is interrupted, as in any running host.
        let runtime = Runtime::new(RuntimeConfig {
            limits: super::settings::sandbox(self.limits.as_deref())?,
            deadline: true,
            ..RuntimeConfig::default()
        })?;
        let plugins = super::backtest::load(&runtime, &self.plugins)?;
        let mut names = std::collections::BTreeSet::new();
        for plugin in &plugins {
            let name = &plugin.descriptor().name;
            anyhow::ensure!(
                names.insert(name),
                "two --plugin are the strategy {name}: a host runs a strategy once (its \
                 orders and trades are kept by its name)"
            );
        }
        let params =
            serde_json::from_str(&self.params).context("--params must be a JSON object")?;
        super::backtest::check_params(&plugins, &params, "--params")?;
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        tokio.block_on(self.live(runtime, plugins, (key, risk)))
    }

    /// The first of these options given, which only Hyperliquid reads.
    pub fn given(&self) -> Option<&'static str> {
        let given = [
            ("--plugin", !self.plugins.is_empty()),
            ("--params", self.params != "{}"),
            ("--key-file", self.key_file.is_some()),
            ("--seconds", self.seconds.is_some()),
            ("--db", self.db.is_some()),
            ("--risk", self.risk.is_some()),
            ("--limits", self.limits.is_some()),
            (
                "--url",
                self.url != clever_hyperliquid_venue::client::MAINNET,
            ),
            ("--leverage", self.leverage != DEFAULT_LEVERAGE),
        ];
        given.into_iter().find(|(_, on)| *on).map(|(name, _)| name)
    }

    fn key(&self) -> anyhow::Result<PrivateKey> {
        let text = match &self.key_file {
            Some(path) => std::fs::read_to_string(path)
                .with_context(|| format!("reading the key file {}", path.display()))?,
            None => std::env::var(KEY_ENV).map_err(|_| {
                anyhow::anyhow!(
                    "live trading needs the account's key: --key-file FILE or ${KEY_ENV}"
                )
            })?,
        };
        // The error names the problem, never the text.
        PrivateKey::parse(&text).map_err(|e| anyhow::anyhow!("the private key: {e}"))
    }

    async fn live(
        &self,
        runtime: Runtime,
        plugins: Vec<Arc<LoadedPlugin>>,
        (key, risk): (Option<PrivateKey>, RiskLimits),
    ) -> anyhow::Result<()> {
        let mut signalled = super::serve::signalled();
        let mode = if key.is_some() { "live" } else { "paper" };
        let instruments: Vec<String> = (plugins.iter())
            .filter_map(|p| p.instruments())
            .flat_map(|f| f.instruments.clone())
            .collect();
        anyhow::ensure!(
            !instruments.is_empty(),
            "no plugin trades an order-book instrument"
        );
        let store = Store::open(&database_url(self.db.as_deref())).await?;
        let (session, tag) = store.start_session(mode, "hyperliquid", None).await?;
        let info = ExchangeClient::new(&self.url, key.unwrap_or_else(throwaway_key))
            .map_err(anyhow::Error::msg)?;
        let universe = Universe::from_json(
            info.info(&json!({"type": "meta"}))
                .await
                .map_err(anyhow::Error::msg)?,
        )
        .map_err(anyhow::Error::msg)?;
        let listed: Vec<String> = instruments
            .iter()
            .filter(|i| universe.index(i).is_some())
            .cloned()
            .collect();
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        // The account's feed outlives the market's: a stopping host's
        // cancels are answered, and fills still heard of, until it is done.
        let (link_stop_tx, link_stop) = tokio::sync::watch::channel(false);
        let client = Arc::new(info);
        // What marks this start's cloids (their high 64 bits): its time, not
        // the database's session number, which another database repeats
        // (and the venue refuses a cloid it has seen before).
        let stamp = u64::try_from(wall_now().0).context("the clock is before 1970")?;
        let found = match mode {
            "live" => Some(
                reconcile(&client, &universe, stamp)
                    .await
                    .map_err(anyhow::Error::msg)?,
            ),
            _ => None,
        };
        if found.is_some() {
            set_leverage(&client, &universe, &listed, self.leverage).await?;
        }
        if let Some(found) = &found {
            for (coin, size, entry) in &found.positions {
                eprintln!("the account holds {coin} {size} at {entry}: taken over");
            }
            if found.cancelled > 0 {
                eprintln!(
                    "cancelled {} order(s) an earlier session left resting",
                    found.cancelled
                );
            }
            if found.strangers > 0 {
                eprintln!(
                    "left {} open order(s) without a clever cloid alone",
                    found.strangers
                );
            }
            anyhow::ensure!(
                plugins.len() == 1 || found.positions.is_empty(),
                "the account holds positions and several strategies run: which one owns them is not known"
            );
        }
        let killed = store.kill_switch().await?.is_some();
        // What can fail is read before any strategy starts: one's `init`
        // may place orders, which must not be left resting by an error.
        let now = wall_now().0;
        let mut pasts = Vec::with_capacity(plugins.len());
        for plugin in &plugins {
            let name = &plugin.descriptor().name;
            let today = realised_today(&store, name, mode, now).await?;
            let placed = (store.book_orders_placed_since(name, mode, now - HOUR_MS)).await?;
            pasts.push((placed, today));
        }
        let mut engine = Engine::new(SimClock::default());
        for ((index, plugin), (placed, today)) in plugins.iter().enumerate().zip(pasts) {
            let venue: Box<dyn BookVenue> = if let Some(found) = &found {
                // An asset's id is its index in the venue's list.
                let rules = (universe.instrument_rules().into_iter().enumerate())
                    .filter_map(|(i, rules)| Some((u32::try_from(i).ok()?, rules)))
                    .collect();
                let link = Link::start(client.clone(), link_stop.clone());
                let mut venue = HyperliquidVenue::new(rules, stamp, link)
                    .with_leverage(self.leverage)
                    .for_strategy(u16::try_from(index).context("too many strategies")?);
                // One strategy per account: the first takes the positions over.
                if plugins.len() == 1 {
                    for (coin, size, entry) in &found.positions {
                        venue.adopt(coin, *size, *entry, wall_now());
                    }
                }
                Box::new(venue)
            } else {
                Box::new(BookSim::new(
                    BookSimConfig::default(),
                    universe.instrument_rules(),
                ))
            };
            let mut book = RiskBook::new(risk.clone());
            // Killed before `init` runs: it may place orders too.
            book.set_kill_switch(killed);
            let name = &plugin.descriptor().name;
            if -today >= Money::from_f64(risk.daily_loss_limit) {
                eprintln!(
                    "{name}: today's realised loss in {mode} trading, {}, has reached \
                     daily_loss_limit {}: it may only reduce positions until 00:00 UTC",
                    -today, risk.daily_loss_limit
                );
            }
            // The day's loss and the hourly order count carry over.
            book.carry_over(&placed, (now, today));
            let desk = Desk::new(book, Box::new(SimVenue::new(SimConfig::default())))
                .with_book_venue(venue)
                .journalling_book_orders();
            let started = runtime.instantiate(plugin, &self.params, wall_now(), Box::new(desk));
            let instance = match started {
                Ok(instance) => instance,
                Err(e) => {
                    // Those started before may have placed orders: they
                    // are cancelled, and kept for the hourly count.
                    tokio::task::block_in_place(|| wind_down(&mut engine));
                    let mut orders = Batch::take(&mut engine, &mut Vec::new());
                    let stored = &mut Stored::default();
                    if let Err(e) = orders.store(&store, (mode, &tag), stored).await {
                        tracing::error!("the started strategies' orders left unstored: {e:#}");
                    }
                    return Err(e.into());
                }
            };
            engine.add_strategy(instance);
        }
        eprintln!(
            "clever live ({mode}) on {}: {} for {}; session {tag}",
            self.url,
            plugin_names(&plugins),
            listed.join(", ")
        );
        eprintln!(
            "risk per strategy: an order's value at most {}, a position's {}, the day's loss {} \
             (--risk FILE sets them)",
            risk.max_order_notional, risk.max_position_notional, risk.daily_loss_limit
        );
        if killed {
            eprintln!(
                "the kill switch is on (it was pulled before this host started): no order is \
                 placed until `clever kill --release`"
            );
        }
        // The database's kill switch, read off the engine's thread: a slow
        // database must not hold up fills and cancels.
        let (switch_tx, kill_switch) = tokio::sync::watch::channel(killed);
        let watching = tokio::spawn(super::kill::watch_kill_switch(store.clone(), switch_tx));
        let (events_tx, events) = mpsc::channel();
        tokio::spawn(feed(client.ws_url(), listed, stop.clone(), events_tx));
        // Orders and trades are written off the engine's thread too.
        let (saves, batches) = tokio::sync::mpsc::unbounded_channel();
        let (failed_tx, failed) = tokio::sync::watch::channel(None);
        let unstored = failed.clone();
        let writer = Writer {
            store: store.clone(),
            of: (mode, tag),
            failed: failed_tx,
            first_wait: FIRST_WAIT,
            stopping: stop.clone(),
        };
        let writer = tokio::spawn(writer.run(batches));
        // The engine may end on its own (its database failing): the host
        // must not idle on without it.
        let (ended_tx, ended_rx) = tokio::sync::oneshot::channel::<()>();
        let engine_thread = std::thread::spawn(move || {
            let sink = Sink {
                killed,
                kill_switch,
                saves,
                failed,
            };
            let result = run_engine(engine, events, stop, sink);
            let _ = ended_tx.send(());
            result
        });
        let until = self.seconds.map(Duration::from_secs);
        let sleep = async {
            match until {
                Some(after) => tokio::time::sleep(after).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = sleep => {}
            () = &mut signalled => {}
            _ = ended_rx => eprintln!("the engine stopped on its own"),
        }
        let _ = stop_tx.send(true);
        let ended = tokio::task::block_in_place(|| engine_thread.join());
        let _ = link_stop_tx.send(true);
        watching.abort();
        let _ = watching.await;
        let written = finish_writing(writer).await;
        let orders = ended.map_err(|_| anyhow::anyhow!("the engine thread panicked"))?;
        store.stop_session(session).await?;
        store.close().await;
        for line in orders? {
            eprintln!("{line}");
        }
        let trades = written?;
        // The last records (the stop's cancels) may have failed to store.
        if let Some(why) = unstored.borrow().clone() {
            anyhow::bail!(why);
        }
        eprintln!("stopped: {trades} trades stored (clever notes list NAME)");
        Ok(())
    }
}

/// How long a stopping host waits for the last orders and trades to be
/// stored.
const WRITING_GRACE: Duration = Duration::from_secs(30);

/// Wait for the writer to store what it was sent (the engine's thread,
/// and with it the writer's sender, is gone); how many trades it stored.
async fn finish_writing(mut writer: tokio::task::JoinHandle<Stored>) -> anyhow::Result<usize> {
    match tokio::time::timeout(WRITING_GRACE, &mut writer).await {
        Ok(Ok(stored)) => Ok(stored.trades),
        Ok(Err(e)) => Err(anyhow::anyhow!(
            "the task storing orders and trades failed: {e}"
        )),
        Err(_) => {
            writer.abort();
            Err(anyhow::anyhow!(
                "the database did not take the last orders and trades in {} s: they may not \
                 be stored (the venue still has them)",
                WRITING_GRACE.as_secs()
            ))
        }
    }
}

/// What `strategy` realised today (UTC, the day of `now`) in `mode`, from
/// the trades earlier sessions stored: the day's loss limit holds across
/// restarts, as a Betfair host's does.
async fn realised_today(
    store: &Store,
    strategy: &str,
    mode: &str,
    now: i64,
) -> anyhow::Result<Money> {
    let day_start = now - now.rem_euclid(DAY_MS);
    let mut today = Decimal::ZERO;
    for t in store.trades_since(strategy, mode, day_start).await? {
        let pnl: Decimal = (t.pnl.parse()).with_context(|| {
            format!(
                "stored trade {} of {strategy}: its profit {:?} is not a number",
                t.id, t.pnl
            )
        })?;
        today += pnl;
    }
    Ok(Money::new(today))
}

/// Set the account's leverage for each instrument traded (cross margin),
/// capped at the instrument's maximum: the venue's margin and the host's
/// view of it then agree.
async fn set_leverage(
    client: &ExchangeClient,
    universe: &Universe,
    coins: &[String],
    leverage: u32,
) -> anyhow::Result<()> {
    for coin in coins {
        let (Some(asset), Some(max)) = (
            universe.index(coin),
            universe.index(coin).and_then(|a| universe.get(a)),
        ) else {
            continue;
        };
        let leverage = leverage.clamp(1, max.max_leverage);
        let action = clever_hyperliquid::Action::UpdateLeverage {
            asset,
            is_cross: true,
            leverage,
        };
        let answer = client.act(&action).await.map_err(anyhow::Error::msg)?;
        anyhow::ensure!(
            answer["status"] == "ok",
            "setting {coin}'s leverage to {leverage}: {}",
            answer["response"]
        );
    }
    Ok(())
}

fn plugin_names(plugins: &[Arc<LoadedPlugin>]) -> String {
    let names: Vec<String> = plugins
        .iter()
        .map(|p| format!("{}@{}", p.descriptor().name, p.descriptor().version))
        .collect();
    names.join(", ")
}

/// Paper reads only `/info`, which needs no key: any will do.
fn throwaway_key() -> PrivateKey {
    // A valid secp256k1 scalar (1); it signs nothing.
    let one = format!("{:064x}", 1);
    PrivateKey::parse(&one).unwrap_or_else(|_| unreachable!("1 is a valid private key"))
}

/// The market feed: books, trades and one-minute candles of `coins`, as
/// engine events.
async fn feed(
    url: String,
    coins: Vec<String>,
    stop: tokio::sync::watch::Receiver<bool>,
    events: mpsc::Sender<InstrumentEvent>,
) {
    let subscriptions: Vec<serde_json::Value> = (coins.iter())
        .flat_map(|c| {
            [
                json!({"type": "l2Book", "coin": c}),
                json!({"type": "trades", "coin": c}),
                json!({"type": "candle", "coin": c, "interval": "1m"}),
            ]
        })
        .collect();
    let mut live = LiveEvents::default();
    follow(&url, &subscriptions, stop, |event| {
        if let FeedEvent::Data { text, .. } = event {
            match read_line(text) {
                Ok(message) => live
                    .push(message)
                    .into_iter()
                    .for_each(|e| drop(events.send(e))),
                Err(e) => tracing::warn!("hyperliquid feed: {e}"),
            }
        }
    })
    .await;
}

/// What the engine's thread hears besides the market, and where its
/// records go.
struct Sink {
    /// The database's kill switch as the desks were set from it ...
    killed: bool,
    /// ... and as last read.
    kill_switch: tokio::sync::watch::Receiver<bool>,
    /// Orders and trades to store, about once a second.
    saves: tokio::sync::mpsc::UnboundedSender<Batch>,
    /// Why storing them failed for good, if it did.
    failed: tokio::sync::watch::Receiver<Option<String>>,
}

/// The engine's loop: each event as it comes, the venues polled and the
/// clock moved on between them; orders and closed trades handed on to be
/// stored. Returns a line per strategy on its orders.
fn run_engine(
    mut engine: Engine<SimClock>,
    events: mpsc::Receiver<InstrumentEvent>,
    stop: tokio::sync::watch::Receiver<bool>,
    sink: Sink,
) -> anyhow::Result<Vec<String>> {
    let mut taken: Vec<usize> = Vec::new();
    let mut last_save = Instant::now();
    // From what the desks were set from: a pull since is a change.
    let mut killed = sink.killed;
    // The wall clock from the start: an order placed on the first event
    // is dated now, not at that event's time (a replay's may be years old).
    engine.tick(wall_now());
    loop {
        // The feed ends as the host stops: that is a stop too.
        let ended = match events.recv_timeout(Duration::from_millis(100)) {
            Ok(event) => {
                engine.on_instrument(&event);
                false
            }
            Err(mpsc::RecvTimeoutError::Timeout) => false,
            Err(mpsc::RecvTimeoutError::Disconnected) => true,
        };
        engine.tick(wall_now());
        engine.poll_venues();
        let stopping = ended || *stop.borrow();
        if stopping {
            wind_down(&mut engine);
        }
        let on = *sink.kill_switch.borrow();
        if !stopping && on != killed {
            killed = on;
            follow_kill_switch(&mut engine, on);
        }
        if stopping || last_save.elapsed() >= Duration::from_secs(1) {
            last_save = Instant::now();
            let batch = Batch::take(&mut engine, &mut taken);
            if !batch.is_empty() {
                let _ = sink.saves.send(batch);
            }
        }
        let failed = sink.failed.borrow().clone();
        if let Some(why) = failed {
            // Stop trading before giving up: nothing rests unwatched.
            if !stopping {
                wind_down(&mut engine);
                let _ = sink.saves.send(Batch::take(&mut engine, &mut taken));
            }
            return Err(anyhow::anyhow!(why));
        }
        if stopping {
            break;
        }
    }
    Ok(order_lines(&engine))
}

/// The kill switch changed to `on`: stop trading and cancel every open
/// order, or trade again.
fn follow_kill_switch(engine: &mut Engine<SimClock>, on: bool) {
    if on {
        let asked = engine.kill();
        eprintln!(
            "the kill switch was pulled: trading stopped, {asked} open order(s) asked to cancel \
             (`clever kill --release` to trade again)"
        );
    } else {
        engine.release();
        eprintln!("the kill switch was released: trading again");
    }
}

/// How long a stopping host waits for the venue to confirm its cancels.
const CANCEL_GRACE: Duration = Duration::from_secs(5);

/// Stop trading as a host stops: pull the kill switch, so no order rests
/// at the venue with nobody watching it, and wait a little for the venue
/// to say each cancel is done. Positions stay as they are: closing them
/// is the strategy's or the trader's call, not the host's.
fn wind_down(engine: &mut Engine<SimClock>) {
    engine.tick(wall_now());
    let asked = engine.kill();
    let started = Instant::now();
    engine.poll_venues();
    while engine.open_book_orders() > 0 && started.elapsed() < CANCEL_GRACE {
        std::thread::sleep(Duration::from_millis(20));
        engine.tick(wall_now());
        engine.poll_venues();
    }
    let left = engine.open_book_orders();
    match (asked, left) {
        (0, 0) => {}
        (_, 0) => eprintln!("stopping: cancelled {asked} open order(s)"),
        _ => eprintln!(
            "warning: stopping: {left} order(s) may still rest at the venue (no answer to their \
             cancel in {} s); the next start cancels them",
            CANCEL_GRACE.as_secs()
        ),
    }
}

/// `name@version: N orders placed, refused: reason N, ...` per strategy.
fn order_lines(engine: &Engine<SimClock>) -> Vec<String> {
    (engine.outcomes().iter())
        .map(|o| {
            let refused: Vec<String> = (o.tally.rejected.iter())
                .map(|(reason, n)| format!("{reason} {n}"))
                .collect();
            let refused = match refused.is_empty() {
                true => "none refused".to_owned(),
                false => format!("refused: {}", refused.join(", ")),
            };
            format!(
                "{}@{}: {} orders placed, {refused}",
                o.name, o.version, o.tally.placed
            )
        })
        .collect()
}

//! [`LiveLoop`]: the engine running on its own thread over a [`Feed`] (a
//! paced replay of files, or a live stream), taking [`Command`]s between
//! two events. Everything slow (compiling,
//! instantiating, `init`) happens before a command is sent; the loop only
//! does what must happen between events: add a ready instance, hand state
//! from one version to the next, kill, report.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use flume::{Receiver, RecvTimeoutError, TryRecvError};

use serde::Serialize;
use tokio::sync::oneshot;

use super::alerts::Alerter;
use super::followed::{Followed, MarketLadder, MarketSummary, OpenOrder};
use super::handle::HostError;
use clever_engine::Pacer;
use clever_engine::{Arrivals, Engine, Format, MarketSource, SimClock};
use clever_engine::{StrategyStatus, SwapError};
use clever_runtime::PluginInstance;
use clever_sdk::Timestamp;

/// How long an activation waits for the new version's first event before
/// answering without it.
const READY_WAIT: Duration = Duration::from_secs(2);

/// Where the loop's market updates come from.
pub enum Feed {
    /// Historical files, in order, paced to the wall clock at `speed`
    /// (0: as fast as possible).
    Replay {
        /// The files.
        files: Vec<PathBuf>,
        /// The pace.
        speed: f64,
    },
    /// A live stream: its lines, and word that a live venue has news.
    Live(Receiver<Input>),
}

/// What a live feed hands the loop.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// One line of the market stream, as received.
    Line(String),
    /// A live venue has news of orders: poll the venues.
    Venue,
    /// The stream stopped for good (why).
    Ended(String),
}

/// Longest wait for input on a live feed before the clock moves on.
const IDLE_TICK: Duration = Duration::from_millis(250);

/// What the loop is asked to do between two events.
pub enum Command {
    /// Start a strategy whose instance is ready.
    Add {
        /// How it is known (`name`, or `name@version` beside the active one).
        label: String,
        /// Started on its own desk.
        instance: PluginInstance,
        /// Answered once it is in the loop, or refused if a strategy of
        /// that label is running already.
        reply: oneshot::Sender<Result<(), HostError>>,
    },
    /// Hand a running strategy over to a ready instance of another version.
    Swap {
        /// The running strategy.
        label: String,
        /// Started without a desk: the swap hands it the strategy's.
        instance: PluginInstance,
        /// When the activation was asked for.
        asked: Instant,
        /// Answered once the new version handled an event (or could not).
        reply: oneshot::Sender<Result<SwapDone, SwapError>>,
    },
    /// Report the replay and every strategy.
    Status(oneshot::Sender<HostStatus>),
    /// Report the markets followed, and one market's ladder if asked.
    Markets {
        /// The market whose ladder is wanted.
        ladder: Option<String>,
        /// Answered with what the loop holds.
        reply: oneshot::Sender<MarketsView>,
    },
    /// Report the orders open now, in one market or in all.
    OpenOrders {
        /// The market, or every market.
        market: Option<String>,
        /// Answered with every strategy's open orders.
        reply: oneshot::Sender<Vec<OpenOrder>>,
    },
    /// Stop all trading; answers how many orders were asked to cancel.
    Kill(oneshot::Sender<usize>),
    /// Trade again after a kill.
    Release(oneshot::Sender<()>),
}

/// How a hot swap went.
#[derive(Debug, Clone, Serialize)]
pub struct SwapReport {
    /// The version that was running.
    pub from: String,
    /// The version running now.
    pub to: String,
    /// Bytes of state handed over.
    pub state_bytes: usize,
    /// Orders open at the hand-over; they stay with the strategy, and the
    /// new version sees them.
    pub open_orders: usize,
    /// How long the event loop stood still for the hand-over, microseconds.
    pub stall_us: u64,
    /// From the activate call to the new version's first event handled,
    /// milliseconds; `None` if no event came for it within 2 s.
    pub ready_ms: Option<f64>,
}

/// A finished swap: its report, and the old instance for the caller to
/// drop off the event loop.
pub struct SwapDone {
    /// How it went.
    pub report: SwapReport,
    /// The version that was running.
    pub retired: PluginInstance,
}

/// The replay's progress.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReplayStatus {
    /// Files to replay.
    pub files: usize,
    /// Files started so far.
    pub started: usize,
    /// Files that could not be opened.
    pub unreadable: usize,
    /// Market updates handled.
    pub updates: u64,
    /// Distinct markets seen.
    pub markets: u64,
    /// Lines skipped as bad input.
    pub bad_lines: u64,
    /// Publish time of the latest update (ms since the epoch).
    pub publish_time: Option<i64>,
    /// Every file has been replayed.
    pub finished: bool,
    /// Replay speed (0 = as fast as possible).
    pub speed: f64,
    /// The longest the loop took over one update (all strategies), µs.
    pub longest_update_us: u64,
    /// The longest the loop stood still for one command between two
    /// updates (a swap's hand-over, a status report), µs.
    pub longest_command_us: u64,
    /// The wall clock minus the latest update's publish time when it was
    /// handled, ms (a replay's is as old as its data).
    pub lag_ms: Option<i64>,
    /// The largest lag so far, ms.
    pub max_lag_ms: i64,
}

/// The host as it stands.
#[derive(Debug, Clone, Serialize)]
pub struct HostStatus {
    /// `replay`, `paper` or `live`.
    pub mode: &'static str,
    /// The replay's progress.
    pub replay: ReplayStatus,
    /// The kill switch is on.
    pub killed: bool,
    /// Every running strategy.
    pub strategies: Vec<StrategyStatus>,
}

/// The markets a host follows, and one's ladder with the orders on it.
#[derive(Debug, Clone, Serialize)]
pub struct MarketsView {
    /// Open markets by start time, then recently closed ones.
    pub markets: Vec<MarketSummary>,
    /// The ladder asked for, if that market is open.
    pub ladder: Option<MarketLadder>,
    /// The strategies' open orders in that market.
    pub orders: Vec<OpenOrder>,
}

/// A swapped-in version waiting for its first event.
struct Watch {
    label: String,
    events_before: u64,
    asked: Instant,
    report: SwapReport,
    retired: PluginInstance,
    reply: oneshot::Sender<Result<SwapDone, SwapError>>,
}

/// The engine on its thread.
pub struct LiveLoop {
    engine: Engine<SimClock>,
    commands: Receiver<Command>,
    pacer: Pacer,
    feed: Option<Feed>,
    format: Box<dyn Format>,
    mode: &'static str,
    status: ReplayStatus,
    killed: bool,
    watches: Vec<Watch>,
    followed: Followed,
    /// Raises the host's alerts, with the faults each strategy had when
    /// last looked at.
    alerts: Option<(Alerter, HashMap<String, Faults>)>,
}

/// A strategy's fault count, and whether it is quarantined.
type Faults = (usize, bool);

impl LiveLoop {
    /// A loop over `feed` in `format`, with the strategies already in
    /// `engine`; `mode` names it in the status (`replay`, `paper`, `live`).
    pub fn new(
        engine: Engine<SimClock>,
        commands: Receiver<Command>,
        feed: Feed,
        format: Box<dyn Format>,
        mode: &'static str,
    ) -> Self {
        let (files, speed) = match &feed {
            Feed::Replay { files, speed } => (files.len(), *speed),
            Feed::Live(_) => (0, 1.0),
        };
        let status = ReplayStatus {
            files,
            speed,
            ..ReplayStatus::default()
        };
        LiveLoop {
            engine,
            commands,
            pacer: Pacer::new(speed),
            feed: Some(feed),
            format,
            mode,
            status,
            killed: false,
            watches: Vec::new(),
            followed: Followed::default(),
            alerts: None,
        }
    }

    /// Raise an alert through `alerter` when a strategy faults or is
    /// quarantined.
    pub fn alerting(mut self, alerter: Alerter) -> Self {
        self.alerts = Some((alerter, HashMap::new()));
        self
    }

    /// Alert each strategy that faulted, or was quarantined, since the
    /// last look.
    fn alert_faults(&mut self) {
        let Some((alerter, seen)) = &mut self.alerts else {
            return;
        };
        let now = self.engine.now();
        for (label, faults, quarantined) in self.engine.faults() {
            let before = seen.get(label).copied().unwrap_or((0, false));
            if before == (faults.len(), quarantined) {
                continue;
            }
            seen.insert(label.to_owned(), (faults.len(), quarantined));
            let last = faults.last().map_or_else(String::new, |f| f.to_string());
            if faults.len() > before.0 {
                let message = format!("{label} faulted: {last}");
                let value = (faults.len() as f64, None);
                alerter.host_event("strategy-faulted", value, Some(label), message, now);
            }
            if quarantined && !before.1 {
                let message = format!("{label} is quarantined after {} faults", faults.len());
                let value = (faults.len() as f64, None);
                alerter.host_event("strategy-quarantined", value, Some(label), message, now);
            }
        }
    }

    /// Start killed (the kill switch was on when the host last stopped):
    /// every strategy, and any added later, refuses new orders.
    pub fn killed(mut self) -> Self {
        self.kill();
        self
    }

    fn open_orders(&self, market: Option<&str>) -> Vec<OpenOrder> {
        let market = market.map(clever_sdk::MarketId::from);
        let orders = self.engine.open_orders(market.as_ref());
        orders
            .iter()
            .map(|(label, order)| OpenOrder::of(label, order))
            .collect()
    }

    /// Stop all trading; how many orders were asked to cancel.
    fn kill(&mut self) -> usize {
        self.killed = true;
        self.engine.kill()
    }

    /// Run the feed to its end, then keep answering commands until every
    /// sender is gone.
    pub fn run(mut self) {
        let going_on = match self.feed.take() {
            Some(Feed::Replay { files, .. }) => self.replay_files(&files),
            Some(Feed::Live(inputs)) => self.follow(&inputs),
            None => true,
        };
        if !going_on {
            return;
        }
        self.status.finished = true;
        self.answer_watches();
        tracing::info!(updates = self.engine.updates(), "feed finished");
        while let Ok(command) = self.commands.recv() {
            self.handle(command);
        }
    }

    /// Replay `files` in order; `false` if the host is shutting down.
    fn replay_files(&mut self, files: &[PathBuf]) -> bool {
        for path in files {
            self.status.started += 1;
            let mut source = match self.format.open_file(path) {
                Ok(source) => source,
                Err(e) => {
                    tracing::warn!("replay: skipped {}: {e}", path.display());
                    self.status.unreadable += 1;
                    continue;
                }
            };
            if !self.replay(source.as_mut()) {
                return false;
            }
            self.engine.finish(source.as_ref());
        }
        true
    }

    /// Follow a live feed until it ends; `false` if the host is shutting
    /// down. Between lines the clock runs on from the latest publish time
    /// at the wall clock's pace, so timers fire when due.
    fn follow(&mut self, inputs: &Receiver<Input>) -> bool {
        let mut arrivals = Arrivals::default();
        let mut source = self.format.follow(arrivals.clone());
        let mut clock = FeedClock::default();
        // Rare and short-lived: not worth boxing the command.
        #[allow(clippy::large_enum_variant)]
        enum Got {
            Command(Result<Command, flume::RecvError>),
            Input(Result<Input, flume::RecvError>),
        }
        loop {
            // The feed's clock may trail the engine's (a message published
            // a little earlier than the last): wait against the later. A
            // timer already due (set while timers fired) waits a
            // millisecond, so a plugin re-arming one cannot spin the loop.
            let now = clock.now().map(|now| now.max(self.engine.now()));
            let wait = match (self.engine.next_timer(), now) {
                (Some(due), Some(now)) => {
                    let ms = (due.0 - now.0).clamp(1, IDLE_TICK.as_millis() as i64);
                    Duration::from_millis(ms as u64)
                }
                _ => IDLE_TICK,
            };
            let got = flume::Selector::new()
                .recv(&self.commands, Got::Command)
                .recv(inputs, Got::Input)
                .wait_timeout(wait);
            match got {
                Err(_) => {
                    if let Some(now) = clock.now() {
                        self.engine.tick(now);
                    }
                }
                Ok(Got::Command(Ok(command))) => self.handle(command),
                Ok(Got::Command(Err(_))) => return false,
                Ok(Got::Input(Ok(Input::Line(line)))) => {
                    arrivals.push(line);
                    self.drain(source.as_mut(), &mut clock);
                }
                Ok(Got::Input(Ok(Input::Venue))) => self.engine.poll_venues(),
                Ok(Got::Input(Ok(Input::Ended(why)))) => {
                    tracing::error!("the market stream ended: {why}");
                    return true;
                }
                Ok(Got::Input(Err(_))) => return true,
            }
        }
    }

    /// Apply every update the lines so far make.
    fn drain(&mut self, source: &mut dyn MarketSource, clock: &mut FeedClock) {
        while let Some(next) = source.next_update() {
            match next {
                Ok(book) => {
                    clock.saw(book.view.publish_time);
                    self.update(book);
                }
                Err(e) => self.bad_line(e),
            }
        }
    }

    fn update(&mut self, book: &clever_market::MarketBook) {
        let start = Instant::now();
        self.engine.on_update(book);
        self.followed.saw(&book.view);
        self.alert_faults();
        let took = start.elapsed().as_micros() as u64;
        self.status.longest_update_us = self.status.longest_update_us.max(took);
        self.status.publish_time = Some(book.view.publish_time.0);
        let lag = crate::wall_now().0 - book.view.publish_time.0;
        self.status.lag_ms = Some(lag);
        self.status.max_lag_ms = self.status.max_lag_ms.max(lag);
        if !self.watches.is_empty() {
            self.answer_watches();
        }
    }

    fn bad_line(&mut self, e: clever_engine::SourceError) {
        self.status.bad_lines += 1;
        if self.status.bad_lines <= 3 {
            tracing::warn!("feed: skipped {e}");
        }
    }

    /// One source to its end; `false` if the host is shutting down.
    fn replay(&mut self, source: &mut dyn MarketSource) -> bool {
        loop {
            // Orders arriving before the next update meet the book as it
            // stands (see `Engine::before_update`), once that update is due.
            if let Some((at, book)) = source.upcoming() {
                let due = self.pacer.due(at);
                if !self.take_commands(due) {
                    return false;
                }
                self.engine.before_update(at, book);
            }
            let Some(next) = source.next_update() else {
                break;
            };
            let book = match next {
                Ok(book) => book,
                Err(e) => {
                    self.bad_line(e);
                    continue;
                }
            };
            let due = self.pacer.due(book.view.publish_time);
            if !self.take_commands(due) {
                return false;
            }
            self.update(book);
        }
        true
    }

    /// Handle commands until `due` (at once if `None`); `false` if every
    /// sender is gone.
    fn take_commands(&mut self, due: Option<Instant>) -> bool {
        loop {
            let wait = due.map(|d| d.saturating_duration_since(Instant::now()));
            let command = match wait {
                Some(wait) if !wait.is_zero() => match self.commands.recv_timeout(wait) {
                    Ok(command) => command,
                    Err(RecvTimeoutError::Timeout) => return true,
                    Err(RecvTimeoutError::Disconnected) => return false,
                },
                _ => match self.commands.try_recv() {
                    Ok(command) => command,
                    Err(TryRecvError::Empty) => return true,
                    Err(TryRecvError::Disconnected) => return false,
                },
            };
            self.handle(command);
        }
    }

    fn handle(&mut self, command: Command) {
        let start = Instant::now();
        self.run_command(command);
        let took = start.elapsed().as_micros() as u64;
        self.status.longest_command_us = self.status.longest_command_us.max(took);
    }

    fn run_command(&mut self, command: Command) {
        match command {
            Command::Add {
                label,
                instance,
                reply,
            } => {
                if self.engine.delivered(&label).is_some() {
                    let _ = reply.send(Err(HostError::AlreadyRunning(label)));
                    return;
                }
                self.engine.add_strategy_as(label.clone(), instance);
                if self.killed {
                    self.engine.kill_one(&label);
                }
                let _ = reply.send(Ok(()));
            }
            Command::Swap {
                label,
                instance,
                asked,
                reply,
            } => self.swap(label, instance, asked, reply),
            Command::Status(reply) => {
                let replay = ReplayStatus {
                    updates: self.engine.updates(),
                    markets: self.engine.markets(),
                    ..self.status.clone()
                };
                let _ = reply.send(HostStatus {
                    mode: self.mode,
                    replay,
                    killed: self.killed,
                    strategies: self.engine.statuses(),
                });
            }
            Command::Markets { ladder, reply } => {
                let ladder = ladder.and_then(|id| self.followed.ladder(&id));
                let orders = match &ladder {
                    Some(l) => self.open_orders(Some(&l.market.id)),
                    None => Vec::new(),
                };
                let markets = self.followed.summaries();
                let _ = reply.send(MarketsView {
                    markets,
                    ladder,
                    orders,
                });
            }
            Command::OpenOrders { market, reply } => {
                let _ = reply.send(self.open_orders(market.as_deref()));
            }
            Command::Kill(reply) => {
                let asked = self.kill();
                let _ = reply.send(asked);
            }
            Command::Release(reply) => {
                self.killed = false;
                self.engine.release();
                let _ = reply.send(());
            }
        }
    }

    fn swap(
        &mut self,
        label: String,
        instance: PluginInstance,
        asked: Instant,
        reply: oneshot::Sender<Result<SwapDone, SwapError>>,
    ) {
        let events_before = self.engine.delivered(&label).unwrap_or(0);
        let start = Instant::now();
        let swapped = self.engine.swap(&label, instance);
        let stall_us = start.elapsed().as_micros() as u64;
        let swapped = match swapped {
            Ok(swapped) => swapped,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        tracing::info!(%label, from = %swapped.from, to = %swapped.to, stall_us, "swapped");
        self.watches.push(Watch {
            label,
            events_before,
            asked,
            report: SwapReport {
                from: swapped.from,
                to: swapped.to,
                state_bytes: swapped.state_bytes,
                open_orders: swapped.open_orders,
                stall_us,
                ready_ms: None,
            },
            retired: swapped.retired,
            reply,
        });
        if self.status.finished {
            self.answer_watches();
        }
    }

    /// Answer each swap whose new version has handled an event, has waited
    /// long enough, or never will (the replay is over).
    fn answer_watches(&mut self) {
        let finished = self.status.finished;
        let mut waiting = Vec::new();
        for mut w in std::mem::take(&mut self.watches) {
            let events = self.engine.delivered(&w.label).unwrap_or(0);
            if events > w.events_before {
                w.report.ready_ms = Some(w.asked.elapsed().as_secs_f64() * 1000.0);
            } else if !finished && w.asked.elapsed() < READY_WAIT {
                waiting.push(w);
                continue;
            }
            let _ = w.reply.send(Ok(SwapDone {
                report: w.report,
                retired: w.retired,
            }));
        }
        self.watches = waiting;
    }
}

/// A live feed's time: the latest publish time seen, run on by the wall
/// clock since it arrived. Against Betfair it is the exchange's clock
/// (within the network's latency); against a local exchange replaying old
/// files it is the files' time, as a backtest of them sees it.
#[derive(Debug, Default)]
struct FeedClock {
    last: Option<(Timestamp, Instant)>,
}

impl FeedClock {
    fn saw(&mut self, t: Timestamp) {
        if self.last.is_none_or(|(seen, _)| t >= seen) {
            self.last = Some((t, Instant::now()));
        }
    }

    /// `None` before the first update.
    fn now(&self) -> Option<Timestamp> {
        let (t, at) = self.last?;
        Some(Timestamp(t.0 + at.elapsed().as_millis() as i64))
    }
}

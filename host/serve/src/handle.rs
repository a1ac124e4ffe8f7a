//! [`HostHandle`]: what the API (or anything else) may ask of a running
//! host. Slow work (reading the registry, compiling, instantiating, `init`)
//! happens here, off the event loop; the loop is sent only ready instances.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use tokio::sync::oneshot;

use super::followed::OpenOrder;
use super::live::{Command, HostStatus, MarketsView, SwapReport};
use clever_engine::{Desk, SharedPredictions, SwapError, Venue};
use clever_risk::{RiskBook, RiskLimits};
use clever_runtime::{
    HookError, HostServices, InertServices, LoadedPlugin, PluginInstance, Runtime, RuntimeError,
    check_params,
};
use clever_sdk::Timestamp;
use clever_sim::{SimConfig, SimVenue};
use clever_store::{
    PredictionImport, RegistryError, Store, StoreError, VersionRow, predictions_from_json,
};

use crate::alerts::Alerter;
use crate::paper::PaperJournal;

/// Why the host refused or failed a request.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The upload is not a strategy this host can run.
    #[error("refused: {0}")]
    Refused(#[from] RuntimeError),
    /// The registry refused (conflict, unknown version, nothing earlier).
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The new version would not start (`init` refused or faulted).
    #[error("{label}@{version} did not start: {error}")]
    Start {
        /// The strategy.
        label: String,
        /// The version.
        version: String,
        /// Why.
        error: Box<HookError>,
    },
    /// Its parameters name one it does not declare (WIT 1.3), or give one
    /// a value of the wrong kind: it is not started.
    #[error("--params {label}: {reason} (so {label}@{version} did not start)")]
    Params {
        /// The strategy's name (its parameters are the name's).
        label: String,
        /// The version.
        version: String,
        /// What was wrong.
        reason: String,
    },
    /// The hand-over failed; the old version stays active.
    #[error(transparent)]
    Swap(#[from] SwapError),
    /// That version is already running beside the active one.
    #[error("{0} is already running")]
    AlreadyRunning(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The event loop has stopped.
    #[error("the event loop has stopped")]
    Stopped,
    /// This host names no venue's markets (set up without
    /// `Setup::predicting`), so it takes no predictions and reads no odds.
    #[error("this host names no venue's markets: it takes no predictions and reads no stored odds")]
    NoVenue,
}

/// A published upload.
#[derive(Debug, Clone, Serialize)]
pub struct Publication {
    /// Strategy name, as the component declares it.
    pub name: String,
    /// Its semver version.
    pub version: String,
    /// The WIT version it was built against.
    pub wit_version: String,
    /// SHA-256 of the bytes.
    pub sha256: String,
    /// False if exactly these bytes were already published.
    pub new: bool,
}

/// What an activation did.
#[derive(Debug, Clone, Serialize)]
pub struct Activation {
    /// How the strategy is known in the host.
    pub label: String,
    /// The version now running under that label.
    pub version: String,
    /// `swapped`, `started` or `unchanged`.
    pub outcome: &'static str,
    /// The hand-over, when there was one.
    pub swap: Option<SwapReport>,
}

/// Makes each strategy's venue (given the strategy's name): the simulated
/// exchange on paper, a real venue live.
pub type VenueMaker = Arc<dyn Fn(&str) -> Box<dyn Venue> + Send + Sync>;

/// Risk, venue and parameters every strategy starts with.
#[derive(Clone)]
pub struct Setup {
    /// Risk limits of each strategy's desk.
    pub risk: RiskLimits,
    /// Each strategy's venue.
    pub venue: VenueMaker,
    /// Parameters (JSON) by strategy name; `{}` for the others.
    pub params: HashMap<String, String>,
    /// How orders are kept in the order journal.
    pub journal: Journalling,
    /// The model predictions its strategies read.
    pub predictions: Predicted,
    /// Where its alerts go, if anywhere.
    pub alerts: Option<Alerter>,
}

/// The model predictions a host's strategies read: those stored when it
/// starts, then each one published to it (`POST /predictions`).
#[derive(Clone, Default)]
pub struct Predicted {
    /// What the strategies read, each as of its `now`.
    pub book: SharedPredictions,
    /// The venue whose markets they name, as the store keeps them; none:
    /// the host takes no predictions.
    pub venue: Option<&'static str>,
}

/// How a host's orders reach the order journal. Its orders of a mode
/// count toward each new desk's risk limits (orders in the last hour, the
/// day's loss), so they hold across restarts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Journalling {
    /// Not kept (tests, benchmarks).
    Off,
    /// The venue writes each order before it sends it (live), as `mode`.
    ByVenue(&'static str),
    /// Each order is written as its market settles (paper), as `mode`,
    /// its market named as `venue`'s.
    AtSettlement {
        /// `paper`, `replay`.
        mode: &'static str,
        /// The venue whose markets these are (`betfair`).
        venue: &'static str,
        /// The session's tag (`Store::start_session`), the prefix of every
        /// order's reference.
        session: Arc<str>,
    },
}

impl Journalling {
    fn mode(&self) -> Option<&'static str> {
        match self {
            Journalling::Off => None,
            Journalling::ByVenue(mode) | Journalling::AtSettlement { mode, .. } => Some(*mode),
        }
    }
}

impl Setup {
    /// Paper trading: every strategy matched by its own simulated exchange
    /// with `sim`'s settings.
    pub fn paper(risk: RiskLimits, sim: SimConfig, params: HashMap<String, String>) -> Setup {
        Setup {
            risk,
            venue: Arc::new(move |_| Box::new(SimVenue::new(sim.clone()))),
            params,
            journal: Journalling::Off,
            predictions: Predicted::default(),
            alerts: None,
        }
    }

    /// The same, its plugins' signals and the host's events raising
    /// alerts through `alerter`.
    pub fn alerting(self, alerter: Alerter) -> Setup {
        Setup {
            alerts: Some(alerter),
            ..self
        }
    }

    /// The same, its strategies reading the predictions stored for
    /// `venue`'s markets and those published to the host.
    pub fn predicting(self, venue: &'static str) -> Setup {
        let predictions = Predicted {
            venue: Some(venue),
            ..Predicted::default()
        };
        Setup {
            predictions,
            ..self
        }
    }

    /// The same, with orders journalled as `journal` says.
    pub fn journalled(self, journal: Journalling) -> Setup {
        Setup { journal, ..self }
    }
}

/// A strategy started on its own desk, not yet in the loop.
pub struct Started {
    /// How it is known.
    pub label: String,
    /// The running instance, owning its desk.
    pub instance: PluginInstance,
}

/// The running host, as the API sees it.
pub struct HostHandle {
    commands: flume::Sender<Command>,
    runtime: Arc<Runtime>,
    store: Store,
    setup: Setup,
    /// Writes paper orders to the journal, if they are kept.
    paper: Option<PaperJournal>,
    /// Desks started, to name paper orders' references.
    desks: std::sync::atomic::AtomicU32,
}

impl HostHandle {
    /// A handle sending to the loop behind `commands` (on a tokio runtime
    /// when `setup` journals paper orders: the writer runs there).
    pub fn new(
        commands: flume::Sender<Command>,
        runtime: Arc<Runtime>,
        store: Store,
        setup: Setup,
    ) -> Self {
        let paper = match &setup.journal {
            Journalling::AtSettlement {
                mode,
                venue,
                session,
            } => Some(PaperJournal::start(
                store.clone(),
                (*mode, *venue),
                session.clone(),
            )),
            _ => None,
        };
        HostHandle {
            commands,
            runtime,
            store,
            setup,
            paper,
            desks: std::sync::atomic::AtomicU32::new(1),
        }
    }

    /// A wait until every paper order settled before it is first polled
    /// is in the journal; it holds nothing of the host, so the loop may
    /// stop (and settle) before it is awaited.
    pub fn journal_flushed(&self) -> impl Future<Output = ()> + Send + 'static {
        let paper = self.paper.clone();
        async move {
            if let Some(paper) = paper {
                paper.flush().await;
            }
        }
    }

    /// Load the predictions stored for the host's markets; how many.
    pub async fn load_predictions(&self) -> Result<usize, HostError> {
        let Some(venue) = self.setup.predictions.venue else {
            return Ok(0);
        };
        let rows = self.store.predictions(venue, None).await?;
        let book = &self.setup.predictions.book;
        book.extend(rows.iter().map(|r| r.published()));
        Ok(rows.len())
    }

    /// Validate, store and make visible the predictions of a JSON body
    /// (one object or an array): bad ones are dead letters.
    pub async fn publish_predictions(
        &self,
        body: serde_json::Value,
    ) -> Result<PredictionImport, HostError> {
        let Some(venue) = self.setup.predictions.venue else {
            return Err(HostError::NoVenue);
        };
        let rows = predictions_from_json(body);
        let (summary, stored) = (self.store)
            .import_checked("POST /predictions", venue, rows)
            .await?;
        (self.setup.predictions.book).extend(stored.iter().map(|r| r.published()));
        Ok(summary)
    }

    /// The registry's database.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Check and publish a component.
    pub async fn publish(&self, bytes: Vec<u8>) -> Result<Publication, HostError> {
        let runtime = self.runtime.clone();
        let (plugin, bytes) = blocking(move || runtime.load_bytes(&bytes).map(|p| (p, bytes)))
            .await
            .ok_or(HostError::Stopped)??;
        let new = self
            .store
            .publish(&version_row(&plugin, &bytes, "{}"))
            .await?;
        let d = plugin.descriptor();
        Ok(Publication {
            name: d.name.clone(),
            version: d.version.clone(),
            wit_version: plugin.wit_version().to_owned(),
            sha256: plugin.sha256().to_owned(),
            new,
        })
    }

    /// Load a published version (compiled, or from the compile cache).
    pub async fn load(&self, name: &str, version: &str) -> Result<Arc<LoadedPlugin>, HostError> {
        // By its hash from the compile cache when it is there (publishing
        // puts it there): the bytes, 18 MB for a Python strategy, are then
        // neither read from the database nor hashed again.
        if let Some(sha256) = self.store.published_sha256(name, version).await? {
            let runtime = self.runtime.clone();
            let cached = blocking(move || runtime.load_cached(&sha256)).await;
            if let Some(plugin) = cached.ok_or(HostError::Stopped)?? {
                return Ok(plugin);
            }
        }
        let bytes = self.store.component(name, version).await?;
        let runtime = self.runtime.clone();
        Ok(blocking(move || runtime.load_bytes(&bytes))
            .await
            .ok_or(HostError::Stopped)??)
    }

    /// Start `plugin` under `label` on a fresh desk of its own; its `init`
    /// sees the time `now` (the loop's).
    pub async fn start(
        &self,
        label: String,
        plugin: Arc<LoadedPlugin>,
        now: Timestamp,
    ) -> Result<Started, HostError> {
        let name = &plugin.descriptor().name;
        let mut risk = RiskBook::new(self.setup.risk.clone());
        if let Some(mode) = self.setup.journal.mode() {
            let history = self.store.journal_history(name, mode).await?;
            risk.carry_over(&history.placed, (history.at, history.day_profit));
        }
        let mut venue = (self.setup.venue)(name);
        if let Some(paper) = &self.paper {
            let desk = self
                .desks
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            venue = paper.venue(venue, name, desk);
        }
        let predictions = Arc::new(self.setup.predictions.book.clone());
        let mut desk = Desk::new(risk, venue).with_predictions(predictions);
        if let Some(alerter) = &self.setup.alerts {
            desk = desk.with_events(alerter.for_desk(name));
        }
        let instance = self
            .instantiate(&label, plugin, Box::new(desk), now)
            .await?;
        Ok(Started { label, instance })
    }

    async fn instantiate(
        &self,
        label: &str,
        plugin: Arc<LoadedPlugin>,
        services: Box<dyn HostServices>,
        now: Timestamp,
    ) -> Result<PluginInstance, HostError> {
        let version = plugin.descriptor().version.clone();
        let name = &plugin.descriptor().name;
        let params = self
            .setup
            .params
            .get(name)
            .cloned()
            .unwrap_or_else(|| "{}".into());
        // Checked before `init`: a misspelt name would run with its default.
        let bad = |reason: String| HostError::Params {
            label: name.clone(),
            version: version.clone(),
            reason,
        };
        if let Ok(given) = serde_json::from_str(&params) {
            check_params(std::slice::from_ref(&plugin), &given).map_err(bad)?;
        }
        let runtime = self.runtime.clone();
        blocking(move || runtime.instantiate(&plugin, &params, now, services))
            .await
            .ok_or(HostError::Stopped)?
            .map_err(|error| HostError::Start {
                label: label.to_owned(),
                version,
                error: Box::new(error),
            })
    }

    /// Make `name@version` run: hot-swapped into the running strategy, or
    /// started if none runs; with `alongside`, started as a second strategy
    /// `name@version` on its own desk, for comparison (the registry's
    /// active version is then left as it is).
    pub async fn activate(
        &self,
        name: &str,
        version: &str,
        alongside: bool,
    ) -> Result<Activation, HostError> {
        let asked = Instant::now();
        let plugin = self.load(name, version).await?;
        let status = self.status().await?;
        let running = |label: &str| status.strategies.iter().find(|s| s.label == label);
        // The loop's time: the publish time of the latest update.
        let now = Timestamp(status.replay.publish_time.unwrap_or(0));
        if alongside {
            let label = format!("{name}@{version}");
            if running(&label).is_some() {
                return Err(HostError::AlreadyRunning(label));
            }
            self.add(self.start(label.clone(), plugin, now).await?)
                .await?;
            return Ok(activation(label, version, "started", None));
        }
        let Some(current) = running(name) else {
            self.add(self.start(name.to_owned(), plugin, now).await?)
                .await?;
            self.store.activate(name, version).await?;
            return Ok(activation(name.to_owned(), version, "started", None));
        };
        if current.version == version {
            self.store.activate(name, version).await?;
            return Ok(activation(name.to_owned(), version, "unchanged", None));
        }
        // Its `init` runs before it has the strategy's desk, so it cannot
        // trade there; the swap hands the desk over.
        let instance = self
            .instantiate(name, plugin, Box::new(InertServices), now)
            .await?;
        let (reply, answer) = oneshot::channel();
        self.send(Command::Swap {
            label: name.to_owned(),
            instance,
            asked,
            reply,
        })?;
        let done = answer.await.map_err(|_| HostError::Stopped)??;
        let report = done.report;
        // Freeing the old instance's memory is slow; not on this task either.
        tokio::task::spawn_blocking(move || drop(done.retired));
        self.store.activate(name, version).await?;
        Ok(activation(
            name.to_owned(),
            version,
            "swapped",
            Some(report),
        ))
    }

    /// Go back to the version active before the current one.
    pub async fn rollback(&self, name: &str) -> Result<Activation, HostError> {
        let version = self.store.rollback_target(name).await?;
        self.activate(name, &version, false).await
    }

    /// Stop all trading; how many orders were asked to cancel. The switch
    /// is kept in the database: a restarted host starts killed until it
    /// is released.
    pub async fn kill(&self) -> Result<usize, HostError> {
        let now = crate::wall_now().0;
        self.store.engage_kill_switch(now).await?;
        let cancelled = self.stop_trading().await?;
        if let Some(alerter) = &self.setup.alerts {
            let message = format!("the kill switch is on: {cancelled} orders cancelled");
            let value = (cancelled as f64, None);
            alerter.host_event("kill-switch", value, None, message, Timestamp(now));
        }
        Ok(cancelled)
    }

    /// The venue whose markets this host trades, as the store names them.
    pub fn market_venue(&self) -> Option<&'static str> {
        self.setup.predictions.venue
    }

    /// Where alerts go, if anywhere.
    pub fn alerter(&self) -> Option<Alerter> {
        self.setup.alerts.clone()
    }

    /// Stop all trading for this run only (a stopping host cancelling its
    /// orders): the switch is not kept for the next start.
    pub async fn stop_trading(&self) -> Result<usize, HostError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Kill(reply))?;
        answer.await.map_err(|_| HostError::Stopped)
    }

    /// Release the kill switch, here and in the database; whether it was on.
    pub async fn release(&self) -> Result<bool, HostError> {
        let was = self.store.release_kill_switch().await?;
        self.resume_trading().await?;
        Ok(was)
    }

    /// Trade again in this host only (the database's switch released
    /// elsewhere): the database is not written.
    pub async fn resume_trading(&self) -> Result<(), HostError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Release(reply))?;
        answer.await.map_err(|_| HostError::Stopped)
    }

    /// The replay and every strategy as they stand.
    pub async fn status(&self) -> Result<HostStatus, HostError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Status(reply))?;
        answer.await.map_err(|_| HostError::Stopped)
    }

    /// The markets followed, and `ladder`'s prices with the orders on it.
    pub async fn markets(&self, ladder: Option<&str>) -> Result<MarketsView, HostError> {
        let (reply, answer) = oneshot::channel();
        let ladder = ladder.map(str::to_owned);
        self.send(Command::Markets { ladder, reply })?;
        answer.await.map_err(|_| HostError::Stopped)
    }

    /// The orders open now, in `market` or in every market.
    pub async fn open_orders(&self, market: Option<&str>) -> Result<Vec<OpenOrder>, HostError> {
        let (reply, answer) = oneshot::channel();
        let market = market.map(str::to_owned);
        self.send(Command::OpenOrders { market, reply })?;
        answer.await.map_err(|_| HostError::Stopped)
    }

    async fn add(&self, started: Started) -> Result<(), HostError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Add {
            label: started.label,
            instance: started.instance,
            reply,
        })?;
        answer.await.map_err(|_| HostError::Stopped)?
    }

    fn send(&self, command: Command) -> Result<(), HostError> {
        self.commands.send(command).map_err(|_| HostError::Stopped)
    }
}

fn activation(
    label: String,
    version: &str,
    outcome: &'static str,
    swap: Option<SwapReport>,
) -> Activation {
    Activation {
        label,
        version: version.to_owned(),
        outcome,
        swap,
    }
}

/// Run CPU-bound work (compiling, `init`) on tokio's blocking pool; `None`
/// if it panicked.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    tokio::task::spawn_blocking(work).await.ok()
}

/// The registry row of a loaded component: its declared name and version,
/// WIT version and hash, with its `component` bytes and the `parameters`
/// it runs with.
pub fn version_row<'a>(
    plugin: &'a LoadedPlugin,
    component: &'a [u8],
    parameters: &'a str,
) -> VersionRow<'a> {
    let d = plugin.descriptor();
    VersionRow {
        name: &d.name,
        version: &d.version,
        wit_version: plugin.wit_version(),
        component,
        sha256: plugin.sha256(),
        parameters,
    }
}

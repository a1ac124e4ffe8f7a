//! `clever live --config FILE [--paper]`: the registry's active strategies
//! on the live Betfair market stream, with the HTTP API of `clever serve`.
//! Orders go to Betfair (or the local exchange the config names) through a
//! `BetfairVenue`; with `--paper` they are matched by the simulated
//! exchange instead. Credentials come from the environment or files the
//! config names, never from the command line, and are never printed.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;
use tokio::sync::{mpsc, watch};

use super::serve::{Api, api_token, finish, open_host, read_params, serve_api, signalled};
use crate::betfair::client::betting::{BettingClient, BettingConfig, Credentials};
use crate::betfair::client::record::Recorder;
use crate::betfair::client::stream::{Endpoint, Event, Retry, Subscription, follow};
use crate::betfair::esa::Settings as StreamSettings;
use crate::betfair::esa::{MarketDataFilter, MarketFilter, MarketSubscription, Secret};
use crate::betfair_venue::{Trading, TradingConfig};
use crate::serve::{Feed, HostHandle, Input, Journalling, Setup};
use crate::store::{Store, database_url};

/// Trade the registry's active strategies on the live market stream.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The venue: Betfair (with --config) or Hyperliquid (order-book
    /// strategies, WIT 1.1; the options marked "Hyperliquid").
    #[arg(long, value_enum, default_value = "betfair")]
    venue: super::hyperliquid::VenueName,
    /// The live settings: a TOML file (see examples/live.toml). Betfair.
    #[arg(long, required_if_eq("venue", "betfair"))]
    config: Option<PathBuf>,
    /// Match orders in the simulated exchange instead of sending them.
    #[arg(long)]
    paper: bool,
    #[command(flatten)]
    hyperliquid: super::live_perp::LiveArgs,
}

/// The live settings file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// Database URL [default: $DATABASE_URL, else sqlite://clever.db].
    db: Option<String>,
    betfair: BetfairConfig,
    #[serde(default)]
    markets: MarketFilter,
    #[serde(default)]
    api: ApiConfig,
    /// Risk limits: a TOML file with a `[risk]` table.
    risk: Option<PathBuf>,
    /// Paper trading's simulated exchange: a file with `[simulation]`.
    simulation: Option<PathBuf>,
    /// Sandbox limits: a file with `[sandbox]`.
    limits: Option<PathBuf>,
    /// Alert rules and webhooks: a file with `[[rule]]` and `[[webhook]]`
    /// tables (see examples/alerts.toml).
    alerts: Option<PathBuf>,
    /// Parameters by strategy name: each a file holding a JSON object.
    #[serde(default)]
    params: HashMap<String, PathBuf>,
    /// Record the market stream here, one file per run, in Betfair's format.
    record_dir: Option<PathBuf>,
}

/// Where Betfair is, and the account.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BetfairConfig {
    #[serde(default = "default_stream")]
    stream: String,
    #[serde(default = "default_identity")]
    identity: String,
    #[serde(default = "default_betting")]
    betting: String,
    /// A certificate (PEM) to trust besides the public roots: a local
    /// exchange's.
    certificate: Option<PathBuf>,
    /// The name the stream's certificate carries [default: its host].
    server_name: Option<String>,
    #[serde(default = "default_rate")]
    requests_per_second: u32,
    #[serde(default = "default_strategy_ref")]
    strategy_ref: String,
    #[serde(default = "default_heartbeat")]
    heartbeat_ms: u64,
    conflate_ms: Option<u64>,
    #[serde(default = "default_keep_alive")]
    keep_alive_secs: u64,
    #[serde(default = "default_commission")]
    commission_rate: f64,
    /// Each Betting API request must be answered within this.
    #[serde(default = "default_request_timeout")]
    request_timeout_ms: u64,
    /// How long a placement of unknown outcome stays pending before the
    /// exchange is asked whether it has it.
    #[serde(default = "default_pending_grace")]
    pending_grace_ms: u64,
    /// How often unsettled orders are looked for among cleared ones.
    #[serde(default = "default_settle_every")]
    settle_every_ms: u64,
    #[serde(default)]
    credentials: CredentialSources,
}

/// Where each credential is read: an environment variable or a file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialSources {
    username_env: Option<String>,
    username_file: Option<PathBuf>,
    password_env: Option<String>,
    password_file: Option<PathBuf>,
    app_key_env: Option<String>,
    app_key_file: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiConfig {
    #[serde(default = "default_listen")]
    listen: SocketAddr,
    token_file: Option<PathBuf>,
    #[serde(default)]
    insecure_local: bool,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            listen: default_listen(),
            token_file: None,
            insecure_local: false,
        }
    }
}

fn default_stream() -> String {
    "stream-api.betfair.com:443".into()
}
fn default_identity() -> String {
    "https://identitysso.betfair.com/api/".into()
}
fn default_betting() -> String {
    "https://api.betfair.com/exchange/betting/json-rpc/v1".into()
}
fn default_rate() -> u32 {
    20
}
fn default_strategy_ref() -> String {
    "clever".into()
}
fn default_heartbeat() -> u64 {
    5_000
}
fn default_keep_alive() -> u64 {
    3_600
}
fn default_commission() -> f64 {
    5.0
}
fn default_request_timeout() -> u64 {
    10_000
}
fn default_pending_grace() -> u64 {
    10_000
}
fn default_settle_every() -> u64 {
    5_000
}
fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8780))
}

impl Config {
    fn read(path: &Path) -> anyhow::Result<Config> {
        let text = super::settings::read(path)?;
        let config: Config = toml::from_str(&text)
            .with_context(|| format!("{}: not live settings", path.display()))?;
        check_market_keys(&text).map_err(|e| super::named(path, e))?;
        let b = &config.betfair;
        if b.strategy_ref.is_empty() || b.strategy_ref.len() > 15 {
            anyhow::bail!(
                "{}: betfair.strategy_ref must be 1 to 15 characters (Betfair's limit)",
                path.display()
            );
        }
        if b.requests_per_second == 0 {
            anyhow::bail!(
                "{}: betfair.requests_per_second must be 1 or more",
                path.display()
            );
        }
        if !(0.0..=100.0).contains(&b.commission_rate) {
            anyhow::bail!(
                "{}: betfair.commission_rate = {} must be a percent from 0 to 100",
                path.display(),
                b.commission_rate
            );
        }
        Ok(config)
    }

    fn params(&self) -> anyhow::Result<HashMap<String, String>> {
        let read = |(name, path): (&String, &PathBuf)| Ok((name.clone(), read_params(path)?));
        self.params.iter().map(read).collect()
    }
}

/// `[markets]` is Betfair's market filter in Betfair's names
/// (`eventTypeIds`, `marketTypes`, ...). Its wire format takes unknown keys
/// quietly; here a misspelt key would widen the subscription to every
/// market, so each key must be one the filter knows.
fn check_market_keys(text: &str) -> Result<(), String> {
    let table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    let Some(given) = table.get("markets").and_then(toml::Value::as_table) else {
        return Ok(());
    };
    let filter: MarketFilter = given
        .clone()
        .try_into()
        .map_err(|e| format!("[markets]: {e}"))?;
    let known = serde_json::to_value(&filter).map_err(|e| e.to_string())?;
    match given.keys().find(|k| known.get(k.as_str()).is_none()) {
        Some(key) => Err(format!(
            "[markets]: unknown key {key:?} (see examples/live.toml for the filter's keys)"
        )),
        None => Ok(()),
    }
}

impl CredentialSources {
    /// The credentials, each from its file or variable ($BETFAIR_USERNAME,
    /// $BETFAIR_PASSWORD, $BETFAIR_APP_KEY by default). Errors name where
    /// they looked, never what they found.
    fn read(&self) -> anyhow::Result<Credentials> {
        let username = secret(&self.username_file, &self.username_env, "BETFAIR_USERNAME")?;
        Ok(Credentials {
            username: username.expose().to_owned(),
            password: secret(&self.password_file, &self.password_env, "BETFAIR_PASSWORD")?,
            app_key: secret(&self.app_key_file, &self.app_key_env, "BETFAIR_APP_KEY")?,
        })
    }
}

fn secret(file: &Option<PathBuf>, env: &Option<String>, default: &str) -> anyhow::Result<Secret> {
    let text = match file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("reading the credential file {}", path.display()))?,
        None => {
            let name = env.as_deref().unwrap_or(default);
            std::env::var(name).map_err(|_| anyhow::anyhow!("${name} is not set"))?
        }
    };
    let text = text.trim();
    if text.is_empty() {
        anyhow::bail!(
            "a credential is empty ({})",
            file.as_ref().map_or_else(
                || format!("${}", env.as_deref().unwrap_or(default)),
                |p| p.display().to_string()
            )
        );
    }
    Ok(Secret::new(text))
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let Some(path) = self
            .config
            .as_ref()
            .filter(|_| self.venue == super::hyperliquid::VenueName::Betfair)
        else {
            return self.hyperliquid.run(self.paper);
        };
        if let Some(option) = self.hyperliquid.given() {
            anyhow::bail!(
                "{option} is for --venue hyperliquid; on Betfair the strategies, parameters, \
                 limits and database come from --config {}",
                path.display()
            );
        }
        let config = Config::read(path)?;
        let credentials = config.betfair.credentials.read()?;
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        tokio.block_on(self.live(config, credentials))
    }

    async fn live(self, config: Config, credentials: Credentials) -> anyhow::Result<()> {
        let names = ("[api] token_file", "[api] insecure_local");
        let api = &config.api;
        let token = api_token(
            api.token_file.as_deref(),
            api.insecure_local,
            api.listen,
            names,
        )?;
        let (client, endpoint) = connect(&config.betfair, credentials).await?;
        tokio::spawn({
            let client = client.clone();
            let every = Duration::from_secs(config.betfair.keep_alive_secs);
            async move { client.keep_alive_every(every).await }
        });
        let (inputs_tx, inputs) = flume::unbounded();
        // Why the host must stop, if a stream stops for good.
        let (fatal, stopped) = watch::channel(None::<String>);
        let url = database_url(config.db.as_deref());
        let store = Store::open(&url).await?;
        let (recorder, recording) = match &config.record_dir {
            Some(dir) => recorder(dir).map(|(r, path)| (Some(r), Some(path)))?,
            None => (None, None),
        };
        let mode = if self.paper { "paper" } else { "live" };
        let recording = recording.map(|path| path.display().to_string());
        let (session_id, tag) = (store)
            .start_session(mode, "betfair", recording.as_deref())
            .await?;
        eprintln!("session {session_id} ({mode}, orders tagged {tag}-)");
        let live = Live {
            client: &client,
            endpoint: &endpoint,
            inputs: &inputs_tx,
            fatal: &fatal,
            store: &store,
            session: &tag,
        };
        let (setup, trading) = self.setup(&config, live)?;
        let host = open_host(store, config.limits.as_deref(), setup).await?;
        let subscription = market_subscription(&config);
        let session = client.session();
        let feed = (inputs_tx, fatal);
        tokio::spawn(market_stream(
            endpoint,
            session,
            subscription,
            feed,
            recorder,
        ));
        let (store, handle, looping, following) = host.start_loop(Feed::Live(inputs), mode)?;
        let api = Api {
            listen: config.api.listen,
            token,
            max_upload: crate::serve::api::DEFAULT_MAX_UPLOAD,
        };
        let mut why = stopped.clone();
        let signal = signalled();
        let stop = async move {
            tokio::select! {
                _ = signal => {}
                _ = why.wait_for(Option::is_some) => {}
            }
        };
        serve_api(api, handle.clone(), &format!("clever live ({mode})"), stop).await?;
        // Stopping for good: a release of the switch now must not resume.
        following.abort();
        let _ = following.await;
        if let Some(trading) = &trading {
            cancel_open_orders(&handle, trading).await;
        }
        finish(handle, looping).await;
        let stopped_session = store.stop_session(session_id).await;
        store.close().await;
        stopped_session?;
        match stopped.borrow().clone() {
            Some(why) => anyhow::bail!("stopped: {why}"),
            None => Ok(()),
        }
    }

    /// Each strategy's venue: the simulated exchange on paper; live,
    /// a `BetfairVenue` of one `Trading`, whose order stream failing stops
    /// the host (through `fatal`).
    fn setup(
        &self,
        config: &Config,
        live: Live<'_>,
    ) -> anyhow::Result<(Setup, Option<Arc<Trading>>)> {
        let risk = super::settings::risk(config.risk.as_deref())?;
        let params = config.params()?;
        let alerter = super::settings::alerts(config.alerts.as_deref(), live.store)?;
        if self.paper {
            let sim = super::settings::simulation(config.simulation.as_deref())?;
            let mut setup = Setup::paper(risk, sim, params).predicting("betfair");
            if let Some(alerter) = alerter {
                setup = setup.alerting(alerter);
            }
            return Ok((
                setup.journalled(Journalling::AtSettlement {
                    mode: "paper",
                    venue: "betfair",
                    session: live.session.into(),
                }),
                None,
            ));
        }
        let wake = live.inputs.clone();
        let surprised = alerter.clone();
        let trading = Arc::new(Trading::start(
            live.client.clone(),
            TradingConfig {
                run: live.session.to_owned(),
                strategy_ref: config.betfair.strategy_ref.clone(),
                stream: live.endpoint.clone(),
                retry: Retry::default(),
                default_commission_rate: config.betfair.commission_rate,
                wake: Arc::new(move || {
                    let _ = wake.send(Input::Venue);
                }),
                surprises: Arc::new(move |adopted, failed| {
                    if let Some(alerter) = &surprised {
                        let message = format!(
                            "reconciliation: {adopted} bets at Betfair the journal never \
                             wrote (adopted), {failed} orders Betfair never received"
                        );
                        let now = crate::serve::wall_now();
                        let value = ((adopted + failed) as f64, None);
                        alerter.host_event("unknown-bets", value, None, message, now);
                    }
                }),
                store: live.store.clone(),
                pending_grace: Duration::from_millis(config.betfair.pending_grace_ms),
                settle_every: Duration::from_millis(config.betfair.settle_every_ms),
            },
        ));
        let (mut failed, fatal) = (trading.failed(), live.fatal.clone());
        tokio::spawn(async move {
            if let Ok(why) = failed.wait_for(Option::is_some).await {
                fatal.send_replace(why.clone());
            }
        });
        let venues = trading.clone();
        let venue: crate::serve::VenueMaker = Arc::new(move |name| Box::new(venues.venue(name)));
        let setup = Setup {
            risk,
            venue,
            params,
            journal: Journalling::ByVenue("live"),
            predictions: crate::serve::Predicted::default(),
            alerts: alerter,
        };
        let setup = setup.predicting("betfair");
        Ok((setup, Some(trading)))
    }
}

/// What a live setup is wired to.
struct Live<'a> {
    client: &'a Arc<BettingClient>,
    endpoint: &'a Endpoint,
    inputs: &'a flume::Sender<Input>,
    fatal: &'a watch::Sender<Option<String>>,
    store: &'a Store,
    /// The session's tag: the prefix of every order's reference.
    session: &'a str,
}

/// Log in to the Betting API and say where the Stream API is.
async fn connect(
    b: &BetfairConfig,
    credentials: Credentials,
) -> anyhow::Result<(Arc<BettingClient>, Endpoint)> {
    let extra_root = match &b.certificate {
        Some(path) => {
            Some(std::fs::read(path).with_context(|| format!("reading {}", path.display()))?)
        }
        None => None,
    };
    let app_key = credentials.app_key.clone();
    let betting = BettingConfig {
        identity_url: b.identity.clone(),
        betting_url: b.betting.clone(),
        extra_root_pem: extra_root.clone(),
        requests_per_second: b.requests_per_second,
        timeout: Duration::from_millis(b.request_timeout_ms),
    };
    let client = BettingClient::connect(betting, credentials)
        .await
        .with_context(|| format!("logging in at {}", b.identity))?;
    let endpoint = Endpoint {
        address: b.stream.clone(),
        server_name: b.server_name.clone().unwrap_or_else(|| host_of(&b.stream)),
        extra_roots_pem: extra_root,
        app_key,
    };
    Ok((Arc::new(client), endpoint))
}

/// On the way out of live trading: ask every open order to cancel, wait
/// (10 s at most) for the exchange's answers, then cancel whatever of the
/// host's strategy reference is still executable there (placements of
/// unknown outcome, cancels that never went), and say what is left.
async fn cancel_open_orders(host: &HostHandle, trading: &Trading) {
    match host.stop_trading().await {
        Ok(0) => {}
        Ok(asked) => eprintln!("stopping: cancelling {asked} open orders"),
        Err(e) => eprintln!("stopping: could not cancel open orders: {e}"),
    }
    let unanswered = trading.answered(Duration::from_secs(10)).await;
    match trading.cancel_remaining().await {
        Ok(0) => {}
        Ok(more) => {
            eprintln!("stopping: cancelled {more} more bets still executable at the exchange")
        }
        Err(e) => eprintln!("warning: could not list the account's open bets ({e}); check them"),
    }
    if unanswered > 0 {
        eprintln!(
            "warning: {unanswered} requests to Betfair still unanswered at exit; \
             check the account's orders"
        );
    }
}

/// The host part of `host:port`.
fn host_of(address: &str) -> String {
    let host = address.rsplit_once(':').map_or(address, |(h, _)| h);
    host.trim_matches(['[', ']']).to_owned()
}

fn market_subscription(config: &Config) -> Subscription {
    Subscription::Markets(MarketSubscription {
        id: Some(1),
        market_filter: Some(config.markets.clone()),
        market_data_filter: Some(MarketDataFilter::full_book()),
        settings: StreamSettings {
            heartbeat_ms: Some(config.betfair.heartbeat_ms),
            conflate_ms: config.betfair.conflate_ms,
            ..StreamSettings::default()
        },
    })
}

/// A new recording in `dir`, named for the time it starts.
fn recorder(dir: &Path) -> anyhow::Result<(Recorder, PathBuf)> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = chrono::Utc::now()
        .format("stream-%Y%m%dT%H%M%S%.3fZ")
        .to_string();
    let path = dir.join(name);
    eprintln!("recording the market stream to {}", path.display());
    let recorder =
        Recorder::create(&path).with_context(|| format!("creating {}", path.display()))?;
    Ok((recorder, path))
}

/// Follow the market stream, handing each line to the event loop (and the
/// recording); tell the loop if the stream stops for good.
async fn market_stream(
    endpoint: Endpoint,
    session: watch::Receiver<Secret>,
    subscription: Subscription,
    (inputs, fatal): (flume::Sender<Input>, watch::Sender<Option<String>>),
    mut recorder: Option<Recorder>,
) {
    let (tx, mut events) = mpsc::channel(4096);
    let following = tokio::spawn(follow(
        endpoint,
        Retry::default(),
        session,
        subscription,
        tx,
    ));
    while let Some(event) = events.recv().await {
        match event {
            Event::Change(line) => {
                // Flushed whenever the stream goes quiet, so a killed host
                // loses at most the burst in hand.
                let quiet = events.is_empty();
                if let Some(r) = recorder.as_mut()
                    && let Err(e) = r
                        .record(&line)
                        .and_then(|_| if quiet { r.flush() } else { Ok(()) })
                {
                    tracing::error!("recording stopped: {e}");
                    recorder = None;
                }
                if inputs.send(Input::Line(line)).is_err() {
                    break;
                }
            }
            Event::Subscribed { resumed, .. } => {
                tracing::info!(resumed, "market stream subscribed")
            }
            Event::Reconnecting { why, wait } => {
                tracing::warn!("market stream: {why}; again in {wait:?}")
            }
        }
    }
    if let Some(r) = recorder.as_mut() {
        let _ = r.flush();
    }
    let why = match following.await {
        Ok(Err(e)) => format!("the market stream stopped: {e}"),
        Ok(Ok(())) => return,
        Err(e) => format!("the market stream stopped: {e}"),
    };
    fatal.send_replace(Some(why.clone()));
    let _ = inputs.send(Input::Ended(why));
}

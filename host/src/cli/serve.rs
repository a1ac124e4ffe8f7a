//! `clever serve`: the long-running host in paper mode over a replay, with
//! the HTTP API. Strategies are the registry's active versions.

use std::collections::HashMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use crate::backtest::data_files;
use crate::betfair::StreamFormat;
use crate::engine::{Engine, SimClock};
use crate::runtime::{Runtime, RuntimeConfig};
use crate::serve::api::{ApiState, DEFAULT_MAX_UPLOAD, Token, router};
use crate::serve::{Command, Feed, HostHandle, Journalling, LiveLoop, Setup};
use crate::store::{Store, database_url};
use clever_sdk::Timestamp;

/// Where the API token comes from when `--token-file` is not given.
const TOKEN_ENV: &str = "CLEVER_API_TOKEN";

/// Run the host over a replay of historical files, with the HTTP API.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Stream files or directories to replay, in order (repeatable).
    #[arg(long, required = true)]
    replay: Vec<PathBuf>,
    /// Replay speed: 1 is real time, 10 ten times faster, 0 as fast as possible.
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Database URL [default: $DATABASE_URL, else sqlite://clever.db]
    #[arg(long)]
    db: Option<String>,
    /// Address the API listens on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8780")]
    listen: SocketAddr,
    /// File holding the API's bearer token [default: $CLEVER_API_TOKEN].
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// Serve without a token (loopback addresses only).
    #[arg(long)]
    insecure_local: bool,
    /// Largest plugin upload accepted, MiB.
    #[arg(long, default_value_t = DEFAULT_MAX_UPLOAD / (1024 * 1024))]
    max_upload_mb: usize,
    /// Risk limits: a TOML file with a `[risk]` table (see examples/risk.toml).
    #[arg(long)]
    risk: Option<PathBuf>,
    /// Simulated exchange settings: a TOML file with a `[simulation]` table.
    #[arg(long)]
    simulation: Option<PathBuf>,
    /// Parameters of one strategy: NAME=FILE, the file a JSON object (repeatable).
    #[arg(long, value_name = "NAME=FILE")]
    params: Vec<String>,
    /// Sandbox limits: a TOML file with a `[sandbox]` table (see
    /// examples/sandbox.toml); the wall-clock deadline is armed here.
    #[arg(long)]
    limits: Option<PathBuf>,
    /// Alert rules and webhooks: a TOML file with `[[rule]]` and
    /// `[[webhook]]` tables (see examples/alerts.toml).
    #[arg(long)]
    alerts: Option<PathBuf>,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let token = self.token()?;
        if !(self.speed.is_finite() && self.speed >= 0.0) {
            anyhow::bail!(
                "--speed must be 0 (as fast as possible) or more, not {}",
                self.speed
            );
        }
        let setup = Setup::paper(
            super::settings::risk(self.risk.as_deref())?,
            super::settings::simulation(self.simulation.as_deref())?,
            self.params()?,
        );
        let files = data_files("--replay", &self.replay)?;
        let url = database_url(self.db.as_deref());
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        tokio.block_on(self.serve(url, token, setup, files))
    }

    fn token(&self) -> anyhow::Result<Option<Token>> {
        let names = ("--token-file FILE", "--insecure-local");
        api_token(
            self.token_file.as_deref(),
            self.insecure_local,
            self.listen,
            names,
        )
    }

    fn params(&self) -> anyhow::Result<HashMap<String, String>> {
        let mut params = HashMap::new();
        for spec in &self.params {
            let (name, path) = spec
                .split_once('=')
                .ok_or_else(|| anyhow::anyhow!("--params {spec}: expected NAME=FILE"))?;
            params.insert(name.to_owned(), read_params(path.as_ref())?);
        }
        Ok(params)
    }

    async fn serve(
        self,
        url: String,
        token: Option<Token>,
        setup: Setup,
        files: Vec<PathBuf>,
    ) -> anyhow::Result<()> {
        let store = Store::open(&url).await?;
        // The files it replays are its recording: a backtest reads them.
        let replayed: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        let (session, tag) = (store)
            .start_session("replay", "betfair", Some(&replayed.join("\n")))
            .await?;
        let mut setup = (setup.predicting("betfair")).journalled(Journalling::AtSettlement {
            mode: "replay",
            venue: "betfair",
            session: tag.into(),
        });
        if let Some(alerter) = super::settings::alerts(self.alerts.as_deref(), &store)? {
            setup = setup.alerting(alerter);
        }
        let feed = Feed::Replay {
            files,
            speed: self.speed,
        };
        let host = open_host(store, self.limits.as_deref(), setup).await?;
        let (store, host, looping, following) = host.start_loop(feed, "replay")?;
        let api = Api {
            listen: self.listen,
            token,
            max_upload: self.max_upload_mb.saturating_mul(1024 * 1024),
        };
        serve_api(api, host.clone(), "clever serve", signalled()).await?;
        following.abort();
        let _ = following.await;
        finish(host, looping).await;
        let stopped = store.stop_session(session).await;
        store.close().await;
        Ok(stopped?)
    }
}

/// The API token from `token_file` or $CLEVER_API_TOKEN, or `None` when
/// `insecure_local` allows it on a loopback `listen` address. `names` are
/// how the caller's settings spell the token file and insecure-local.
pub(super) fn api_token(
    token_file: Option<&Path>,
    insecure_local: bool,
    listen: SocketAddr,
    names: (&str, &str),
) -> anyhow::Result<Option<Token>> {
    let (file, insecure) = names;
    let text = match token_file {
        Some(path) => Some(super::settings::read(path)?),
        None => std::env::var(TOKEN_ENV).ok(),
    };
    match text.as_deref().and_then(Token::new) {
        Some(token) => Ok(Some(token)),
        None if text.is_some() => match token_file {
            Some(path) => anyhow::bail!("{}: the API token is empty", path.display()),
            None => anyhow::bail!("${TOKEN_ENV}: the API token is empty"),
        },
        None if insecure_local => {
            if !listen.ip().is_loopback() {
                anyhow::bail!("{insecure} serves on loopback addresses only, not {listen}");
            }
            Ok(None)
        }
        None => anyhow::bail!(
            "the API needs a bearer token: {file} or ${TOKEN_ENV} \
             (or {insecure} to serve without one on a loopback address)"
        ),
    }
}

/// One strategy's parameters: a file holding a JSON object.
pub(super) fn read_params(path: &Path) -> anyhow::Result<String> {
    let text = super::settings::read(path)?;
    serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&text)
        .with_context(|| format!("{}: parameters must be a JSON object", path.display()))?;
    Ok(text)
}

/// A host before its loop starts: the store, the handle the API asks, an
/// engine with the registry's active versions in it, and the commands the
/// loop will take.
pub(super) struct Host {
    pub store: Store,
    pub handle: Arc<HostHandle>,
    pub engine: Engine<SimClock>,
    pub commands: flume::Receiver<Command>,
    /// The kill switch was on when the host last stopped.
    pub killed: bool,
}

impl Host {
    /// The event loop over `feed`, killed from the start if the switch
    /// is on, on a thread of its own; and the task that follows the
    /// database's switch (abort it before stopping the host's trading).
    pub fn start_loop(self, feed: Feed, mode: &'static str) -> anyhow::Result<Running> {
        let Host {
            store,
            handle,
            engine,
            commands,
            killed,
        } = self;
        if killed {
            eprintln!(
                "the kill switch is on (pulled before this start): no orders until \
                 POST /kill/release or `clever kill --release`"
            );
        }
        // One task, so that aborting and awaiting it stops both halves.
        let (switch, host) = (tokio::sync::watch::channel(killed), Arc::downgrade(&handle));
        let reading = super::kill::watch_kill_switch(store.clone(), switch.0);
        let following = tokio::spawn(async move {
            tokio::join!(reading, follow_kill_switch(switch.1, host, killed));
        });
        let alerter = handle.alerter();
        let looping = std::thread::Builder::new()
            .name("event-loop".into())
            .spawn(move || {
                let mut looping = LiveLoop::new(
                    engine,
                    commands,
                    feed,
                    Box::new(StreamFormat::ONE_CORE),
                    mode,
                );
                if let Some(alerter) = alerter {
                    looping = looping.alerting(alerter);
                }
                match killed {
                    true => looping.killed().run(),
                    false => looping.run(),
                }
            })
            .context("starting the event loop")?;
        Ok((store, handle, looping, following))
    }
}

/// A host whose event loop runs: its store, its handle, the loop's thread,
/// and the task following the database's kill switch.
pub(super) type Running = (
    Store,
    Arc<HostHandle>,
    std::thread::JoinHandle<()>,
    tokio::task::JoinHandle<()>,
);

/// Follow the database's kill switch as `switch` reads it, which another
/// process may pull or release (`clever kill`, another host's `POST
/// /kill`): within a second this host stops trading, or trades again, to
/// match. It commands the event loop only and never writes the switch, so
/// it cannot undo a newer pull or release; it acts on a change of the
/// switch, and only if the host is not already so (its own `POST /kill`
/// changed both). A change it failed to follow is tried again each
/// second. The caller aborts it before the host stops trading for good.
async fn follow_kill_switch(
    mut switch: tokio::sync::watch::Receiver<bool>,
    host: std::sync::Weak<HostHandle>,
    mut seen: bool,
) {
    let second = std::time::Duration::from_secs(1);
    loop {
        // A change, or a second gone by (to try a failed follow again).
        if let Ok(Err(_)) = tokio::time::timeout(second, switch.changed()).await {
            return;
        }
        let on = *switch.borrow_and_update();
        let Some(host) = host.upgrade() else {
            return;
        };
        if on == seen {
            continue;
        }
        match follow(&host, on).await {
            Ok(()) => seen = on,
            Err(e) => tracing::warn!("following the kill switch (asked again in a second): {e}"),
        }
    }
}

/// Make `host` trade (`on` false) or not, as the database's switch says.
async fn follow(host: &HostHandle, on: bool) -> Result<(), crate::serve::HostError> {
    if host.status().await?.killed == on {
        return Ok(());
    }
    if !on {
        host.resume_trading().await?;
        eprintln!("the kill switch was released: trading again");
        return Ok(());
    }
    let asked = host.stop_trading().await?;
    let message = format!(
        "the kill switch was pulled: trading stopped, {asked} open order(s) asked to cancel"
    );
    eprintln!("{message}");
    if let Some(alerter) = host.alerter() {
        let now = crate::serve::wall_now();
        alerter.host_event("kill-switch", (asked as f64, None), None, message, now);
    }
    Ok(())
}

/// Start `store`'s active versions under `setup`,
/// with the sandbox limits of `limits` (a `[sandbox]` file) and the
/// wall-clock deadline armed: a live host runs in real time beside other
/// strategies, so a call that overstays its deadline is interrupted.
pub(super) async fn open_host(
    store: Store,
    limits: Option<&Path>,
    setup: Setup,
) -> anyhow::Result<Host> {
    let runtime = Arc::new(Runtime::new(RuntimeConfig {
        limits: super::settings::sandbox(limits)?,
        deadline: true,
        ..RuntimeConfig::default()
    })?);
    let (commands, receiver) = flume::unbounded();
    let mut named: Vec<String> = setup.params.keys().cloned().collect();
    let handle = Arc::new(HostHandle::new(commands, runtime, store.clone(), setup));
    let predictions = handle.load_predictions().await?;
    if predictions > 0 {
        eprintln!("{predictions} model predictions from {}", store.url());
    }
    let mut engine = Engine::new(SimClock::default()).keep_totals_only();
    // A misspelt NAME in `--params NAME=FILE` would leave the file unused.
    let published = store.published("", None).await?;
    named.retain(|name| !published.iter().any(|row| &row.name == name));
    named.sort();
    for name in named {
        eprintln!(
            "warning: --params {name}: no strategy is published under that name yet, so its \
             file is not used until one is"
        );
    }
    start_active(&store, &handle, &mut engine).await?;
    let killed = store.kill_switch().await?.is_some();
    Ok(Host {
        store,
        handle,
        engine,
        commands: receiver,
        killed,
    })
}

/// Start the registry's active versions in `engine` before the first
/// event, so they see every one; a version that will not start is warned
/// of and left out.
async fn start_active(
    store: &Store,
    host: &HostHandle,
    engine: &mut Engine<SimClock>,
) -> anyhow::Result<()> {
    for row in store.published("", None).await?.iter().filter(|r| r.active) {
        let started = async {
            let plugin = host.load(&row.name, &row.version).await?;
            host.start(row.name.clone(), plugin, Timestamp(0)).await
        };
        match started.await {
            Ok(s) => engine.add_strategy_as(s.label, s.instance),
            // The operator's own settings: mended before anything trades,
            // not a strategy quietly left out.
            Err(e @ crate::serve::HostError::Params { .. }) => return Err(e.into()),
            Err(e) => eprintln!("warning: {}@{} not started: {e}", row.name, row.version),
        }
    }
    Ok(())
}

/// Where and how the HTTP API serves.
pub(super) struct Api {
    pub listen: SocketAddr,
    pub token: Option<Token>,
    pub max_upload: usize,
}

/// Serve the HTTP API over `host` until `stop` completes.
pub(super) async fn serve_api(
    api: Api,
    host: Arc<HostHandle>,
    name: &str,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(api.listen)
        .await
        .with_context(|| format!("listening on {}", api.listen))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    println!("{name}: listening on http://{addr}");
    // Scripts and tests wait for that line.
    std::io::stdout().flush().context("writing to stdout")?;
    println!("{name}: dashboard on http://{addr}/ui");
    let state = Arc::new(ApiState {
        host,
        token: api.token,
        max_upload: api.max_upload,
    });
    // The dashboard's live streams never end by themselves: told to close,
    // they end, and the graceful shutdown can finish.
    let (closing, closed) = tokio::sync::watch::channel(false);
    let stop = async move {
        stop.await;
        let _ = closing.send(true);
    };
    let app = router(state.clone()).merge(clever_dashboard::router(state, closed));
    // The dashboard reads the peer's address (open reads on loopback only).
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
        .context("serving the API")
}

/// Print the host's final status, wait for its event loop to stop and
/// for its paper orders to be journalled.
pub(super) async fn finish(host: Arc<HostHandle>, looping: std::thread::JoinHandle<()>) {
    if let Ok(status) = host.status().await
        && let Ok(line) = serde_json::to_string(&status)
    {
        println!("{line}");
    }
    let journalled = host.journal_flushed();
    drop(host);
    let _ = tokio::task::spawn_blocking(move || looping.join()).await;
    journalled.await;
}

/// Ctrl-C, or SIGTERM (what a service manager sends): both stop the host
/// the same way. The handlers are installed when this is called, not when
/// the wait is first polled: a signal sent as soon as the host says it is
/// listening must not kill it unannounced. Call it inside the runtime.
pub(super) fn signalled() -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        let interrupt = signal(SignalKind::interrupt());
        if let (Ok(mut term), Ok(mut interrupt)) = (term, interrupt) {
            return Box::pin(async move {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = interrupt.recv() => {}
                }
            });
        }
    }
    Box::pin(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

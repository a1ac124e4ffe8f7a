//! `clever exchange`: a local exchange on loopback (or any address) for
//! the live path's tests and for trying a client without an account: a
//! Betfair Exchange that replays stream files and speaks Betfair's
//! protocols over TLS, or (`--venue hyperliquid`) a Hyperliquid that
//! replays recorded books.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clever_betfair::esa::Secret;
use clever_betfair_exchange::{Account, Exchange, Identity, Limits};

use super::hyperliquid::{ExchangeArgs, VenueName, serve_exchange};
use crate::backtest::data_files;

/// Environment variables holding the exchange's one account.
const ACCOUNT_ENV: [&str; 3] = [
    "CLEVER_EXCHANGE_USERNAME",
    "CLEVER_EXCHANGE_PASSWORD",
    "CLEVER_EXCHANGE_APP_KEY",
];

/// Run a local exchange over replayed markets. Betfair: the account
/// clients log in to comes from $CLEVER_EXCHANGE_USERNAME,
/// $CLEVER_EXCHANGE_PASSWORD and $CLEVER_EXCHANGE_APP_KEY. Hyperliquid:
/// accounts are given with --account.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The venue to be.
    #[arg(long, value_enum, default_value = "betfair")]
    venue: VenueName,
    #[command(flatten)]
    hyperliquid: ExchangeArgs,
    /// Files or directories to replay, merged by time: Betfair stream
    /// files, or Hyperliquid WebSocket lines (`.jsonl` in a directory).
    #[arg(long, required = true, num_args = 1..)]
    replay: Vec<PathBuf>,
    /// Replay speed: 1 is real time, 10 ten times faster, 0 as fast as possible.
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Betfair: address of the Exchange Stream API (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8443")]
    stream_listen: SocketAddr,
    /// Betfair: address of the identity and Betting API endpoints (HTTPS).
    #[arg(long, default_value = "127.0.0.1:8444")]
    https_listen: SocketAddr,
    /// Betfair: write the exchange's certificate (PEM) here, for clients to trust.
    #[arg(long)]
    cert_out: Option<PathBuf>,
    /// Betfair: serve this certificate (PEM) instead of a self-signed one made at start.
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// Betfair: the certificate's PKCS #8 private key (PEM).
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// Betfair: seconds a session lives after login or keep-alive.
    #[arg(long, default_value_t = 12 * 3600)]
    session_secs: u64,
    /// Betfair: how orders match: a TOML file with a `[simulation]` table, as for
    /// backtests (see docs/SIMULATION.md).
    #[arg(long)]
    simulation: Option<PathBuf>,
    /// Start the replay only once a client has subscribed (so
    /// it sees every update, as a backtest of the files does).
    #[arg(long)]
    wait_for_subscriber: bool,
    /// Betfair: let faults be switched from outside the process: `POST
    /// /_exchange/faults` on the HTTPS address, with the account's app key
    /// as `X-Application` (for tests; see docs/ARCHITECTURE.md).
    #[arg(long)]
    fault_control: bool,
    /// Betfair: markets one stream subscription may select.
    #[arg(long, default_value_t = Limits::default().markets)]
    max_markets: usize,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        if !(self.speed.is_finite() && self.speed >= 0.0) {
            anyhow::bail!(
                "--speed must be 0 (as fast as possible) or more, not {}",
                self.speed
            );
        }
        if self.venue == VenueName::Hyperliquid {
            return runtime()?.block_on(serve_exchange(
                &self.hyperliquid,
                self.replay.clone(),
                self.speed,
                self.wait_for_subscriber,
            ));
        }
        let account = account_from_env()?;
        let identity = self.identity()?;
        if let Some(path) = &self.cert_out {
            std::fs::write(path, identity.certificate_pem())
                .with_context(|| format!("writing the certificate to {}", path.display()))?;
        }
        let files = data_files("--replay", &self.replay)?;
        runtime()?.block_on(self.serve(account, identity, files))
    }

    fn identity(&self) -> anyhow::Result<Identity> {
        match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => {
                let read = |p: &PathBuf| {
                    std::fs::read(p).with_context(|| format!("reading {}", p.display()))
                };
                Identity::from_pem(&read(cert)?, &read(key)?)
                    .with_context(|| format!("{} and {}", cert.display(), key.display()))
            }
            _ => Identity::self_signed(&["localhost", "127.0.0.1"])
                .context("making a self-signed certificate"),
        }
    }

    async fn serve(
        self,
        account: Account,
        identity: Identity,
        files: Vec<PathBuf>,
    ) -> anyhow::Result<()> {
        let exchange = Exchange {
            account,
            speed: self.speed,
            matching: super::settings::simulation(self.simulation.as_deref())?,
            limits: Limits {
                markets: self.max_markets,
                ..Limits::default()
            },
            stream_listen: self.stream_listen,
            https_listen: self.https_listen,
            identity,
            session_lifetime: Duration::from_secs(self.session_secs),
            fault_control: self.fault_control,
        };
        let running = exchange.start().await.with_context(|| {
            format!(
                "listening on {} and {}",
                self.stream_listen, self.https_listen
            )
        })?;
        // One line for scripts to read where to connect.
        println!(
            "{}",
            serde_json::json!({"stream": running.stream.to_string(), "https": running.https.to_string(),
                "certificate": self.cert_out.as_ref().map(|p| p.display().to_string())})
        );
        if self.wait_for_subscriber {
            eprintln!("waiting for a market subscription before replaying");
            running.shared.first_market_subscriber().await;
        }
        match running
            .replay(files)
            .await
            .context("the replay thread failed")?
        {
            Ok(lines) => {
                if lines == 0 {
                    eprintln!(
                        "warning: no market change in the replayed files (are they Betfair \
                         stream files?): there is nothing to subscribe to"
                    );
                }
                eprintln!("replay done: {lines} market changes; still serving (Ctrl-C stops)");
                // A second line for scripts: every market is settled now.
                println!("{}", serde_json::json!({ "replayed": lines }));
                std::io::Write::flush(&mut std::io::stdout()).context("writing to stdout")?;
            }
            Err(e) => eprintln!("replay stopped: {e}; still serving (Ctrl-C stops)"),
        }
        // Ctrl-C or SIGTERM.
        super::serve::signalled().await;
        Ok(())
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn account_from_env() -> anyhow::Result<Account> {
    let [user, password, app_key] = ACCOUNT_ENV.map(|name| std::env::var(name).ok());
    match (user, password, app_key) {
        (Some(username), Some(password), Some(app_key))
            if !username.is_empty() && !password.is_empty() && !app_key.is_empty() =>
        {
            Ok(Account {
                username,
                password: Secret::new(password),
                app_key: Secret::new(app_key),
            })
        }
        _ => anyhow::bail!(
            "the exchange's account comes from the environment: set {}, {} and {} (none may be empty)",
            ACCOUNT_ENV[0],
            ACCOUNT_ENV[1],
            ACCOUNT_ENV[2]
        ),
    }
}

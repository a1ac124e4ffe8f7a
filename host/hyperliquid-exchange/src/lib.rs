//! # clever-hyperliquid-exchange: a local Hyperliquid
//!
//! A server that speaks Hyperliquid's perpetuals API (protocol notes D.3
//! to D.10) on loopback, so the host's Hyperliquid venue is tested over
//! the wire and the official Python SDK can be pointed at it. It replays
//! recorded or generated books, trades and candles ([`replay`]); matches
//! orders price-time against them with maker and taker fees ([`book`]);
//! keeps accounts with positions, margin and hourly funding
//! ([`account`]); checks every action's signature and nonce as the venue
//! does ([`server`]); and serves `/info` ([`info`]), `/exchange` and the
//! WebSocket ([`ws`]).
//!
//! Part of the Hyperliquid adapter. Must not know: the engine, plugins,
//! the store.

pub mod account;
pub mod book;
pub mod info;
pub mod json;
pub mod replay;
pub mod server;
pub mod venue;
pub mod ws;

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clever_hyperliquid::{Address, Universe};
use rust_decimal::Decimal;

pub use replay::Recording;
pub use server::Shared;
pub use venue::{Rates, Venue};

/// The venue closes a connection it has sent nothing for this long.
pub const IDLE: Duration = Duration::from_secs(60);

/// How to run a local Hyperliquid.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Recordings to replay (files or directories of `.jsonl`).
    pub replay: Vec<PathBuf>,
    /// The perpetuals listed.
    pub universe: Universe,
    /// Accounts and the USDC each starts with.
    pub accounts: Vec<(Address, Decimal)>,
    /// Fees and funding.
    pub rates: Rates,
    /// Replay speed: 1 real time, 0 as fast as it goes.
    pub speed: f64,
    /// Where to listen.
    pub listen: SocketAddr,
    /// Check signatures as mainnet (source `a`) instead of testnet.
    pub mainnet: bool,
    /// Close connections sent nothing for this long.
    pub idle: Duration,
    /// Start the replay at the first WebSocket subscription.
    pub wait_for_subscriber: bool,
}

impl Exchange {
    /// An exchange replaying `replay` for `accounts`, on a loopback port
    /// the system picks, with the venue's fees and limits.
    pub fn local(replay: Vec<PathBuf>, accounts: Vec<(Address, Decimal)>) -> Exchange {
        Exchange {
            replay,
            universe: Universe::standard(),
            accounts,
            rates: Rates::default(),
            speed: 1.0,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            mainnet: false,
            idle: IDLE,
            wait_for_subscriber: false,
        }
    }

    /// Read the recordings, bind, and serve on the current tokio runtime.
    pub async fn start(self) -> Result<Running, String> {
        if self.accounts.is_empty() {
            return Err("the exchange needs at least one account".into());
        }
        let recording = Recording::read(&self.replay, &self.universe)?;
        for refused in &recording.refused {
            tracing::warn!("replay: skipped {refused}");
        }
        let venue = Venue::new(self.universe, &self.accounts, self.rates, self.speed);
        let shared = Shared::new(venue, self.mainnet, self.idle);
        let listener = (tokio::net::TcpListener::bind(self.listen).await)
            .map_err(|e| format!("listening on {}: {e}", self.listen))?;
        let addr = listener
            .local_addr()
            .map_err(|e: io::Error| e.to_string())?;
        let app = server::routes(shared.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("the exchange stopped serving: {e}");
            }
        });
        let skipped = recording.refused.len();
        tokio::spawn(replay::replay(
            shared.clone(),
            recording,
            self.speed,
            self.wait_for_subscriber,
        ));
        Ok(Running {
            addr,
            shared,
            skipped,
        })
    }
}

/// A started exchange.
#[derive(Debug)]
pub struct Running {
    /// Where it listens (`http://{addr}` is the base URL).
    pub addr: SocketAddr,
    /// Its state.
    pub shared: Arc<Shared>,
    /// Lines of the recordings that were skipped.
    pub skipped: usize,
}

//! A whole local exchange in one call: both endpoints bound and serving,
//! sharing one account, one set of markets and one set of orders. Used by
//! `clever exchange` and by tests that run it in-process.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clever_betfair::ReadError;
use clever_sim::SimConfig;

use crate::betting::{Betting, betting_routes};
use crate::faults::fault_routes;
use crate::https::{identity_routes, serve};
use crate::orders::Orders;
use crate::replay::{Shared, replay};
use crate::sessions::{Account, SESSION_LIFETIME, Sessions};
use crate::stream::{Limits, StreamServer};
use crate::tls::Identity;

/// How to run an exchange.
pub struct Exchange {
    /// The account clients log in to.
    pub account: Account,
    /// Replay speed (0: as fast as it goes).
    pub speed: f64,
    /// How orders match.
    pub matching: SimConfig,
    /// The Stream API's limits.
    pub limits: Limits,
    /// Where the Stream API listens.
    pub stream_listen: SocketAddr,
    /// Where the identity endpoints and the Betting API listen.
    pub https_listen: SocketAddr,
    /// The TLS certificate both serve.
    pub identity: Identity,
    /// How long a session lives after login or keep-alive.
    pub session_lifetime: Duration,
    /// Faults may be switched over HTTPS (`POST /_exchange/faults`), for
    /// tests that hold the exchange as a process.
    pub fault_control: bool,
}

impl Exchange {
    /// An exchange for `account` on loopback ports the system picks, with
    /// a new self-signed certificate and Betfair's limits.
    pub fn local(account: Account) -> Result<Exchange, rcgen::Error> {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        Ok(Exchange {
            account,
            speed: 1.0,
            matching: SimConfig::default(),
            limits: Limits::default(),
            stream_listen: loopback,
            https_listen: loopback,
            identity: Identity::self_signed(&["localhost", "127.0.0.1"])?,
            session_lifetime: SESSION_LIFETIME,
            fault_control: false,
        })
    }

    /// Bind both endpoints and serve them on the current tokio runtime.
    pub async fn start(self) -> io::Result<Running> {
        let sessions = Arc::new(Sessions::new(self.account, self.session_lifetime));
        let shared = Shared::new(self.speed, Orders::new(self.matching));
        let (identity, stream_sessions) = (&self.identity, sessions.clone());
        let stream = StreamServer::bind(
            self.stream_listen,
            identity,
            stream_sessions,
            shared.clone(),
            self.limits,
        )
        .await?;
        let stream_addr = stream.local_addr()?;
        tokio::spawn(stream.serve());
        let betting = Betting {
            sessions: sessions.clone(),
            shared: shared.clone(),
        };
        let mut routes = identity_routes(sessions.clone()).merge(betting_routes(betting));
        if self.fault_control {
            routes = routes.merge(fault_routes(shared.clone(), sessions.clone()));
        }
        let https = serve(self.https_listen, identity, routes).await?;
        Ok(Running {
            stream: stream_addr,
            https,
            certificate_pem: self.identity.certificate_pem(),
            shared,
            sessions,
        })
    }
}

/// An exchange that is serving.
pub struct Running {
    /// The Stream API's address.
    pub stream: SocketAddr,
    /// The identity endpoints' and Betting API's address.
    pub https: SocketAddr,
    /// The certificate clients must trust (PEM).
    pub certificate_pem: String,
    /// Its markets, orders and fault switches.
    pub shared: Arc<Shared>,
    /// Its account's sessions.
    pub sessions: Arc<Sessions>,
}

impl Running {
    /// Replay `files` on a thread of the runtime's blocking pool; the
    /// handle yields the number of messages once they are done.
    pub fn replay(&self, files: Vec<PathBuf>) -> tokio::task::JoinHandle<Result<u64, ReadError>> {
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || replay(&files, &shared))
    }
}

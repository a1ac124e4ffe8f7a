//! The host's Exchange Stream API client (venue-protocols A.1 to A.9): one
//! subscription (markets or orders) over TLS that stays up. It logs in with
//! the current session token, detects a silent connection (nothing for two
//! heartbeat intervals), reconnects with exponential backoff, one attempt
//! at a time, and resumes from the last clocks it was sent (`initialClk`,
//! `clk`), taking a fresh image when the server answers `INVALID_CLOCK`.
//! Errors no retry can mend (a connection or subscription limit, a bad app
//! key) end it with [`StreamError::Fatal`] instead of a retry loop.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

use crate::esa::{
    ErrorCode, MAX_LINE, MarketSubscription, OrderSubscription, Request, Secret, Settings, Status,
    StatusCode, heartbeat_in_force, to_line,
};

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `host:port`.
    pub address: String,
    /// The name the certificate must carry (a host name or an address).
    pub server_name: String,
    /// Certificates to trust besides the public roots (PEM), for a local
    /// exchange's self-signed one.
    pub extra_roots_pem: Option<Vec<u8>>,
    /// The application key.
    pub app_key: Secret,
}

/// How the client retries.
#[derive(Debug, Clone)]
pub struct Retry {
    /// The first wait after a failure; doubles with each failure in a row.
    pub first: Duration,
    /// The longest wait.
    pub most: Duration,
    /// Connecting and the TLS handshake must finish within this.
    pub connect_timeout: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            first: Duration::from_millis(500),
            most: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// What to subscribe to.
#[derive(Debug, Clone)]
pub enum Subscription {
    /// Market changes (`mcm`).
    Markets(MarketSubscription),
    /// Order changes (`ocm`).
    Orders(OrderSubscription),
}

impl Subscription {
    fn settings_mut(&mut self) -> &mut Settings {
        match self {
            Subscription::Markets(s) => &mut s.settings,
            Subscription::Orders(s) => &mut s.settings,
        }
    }

    fn request(&self) -> Request {
        match self {
            Subscription::Markets(s) => Request::MarketSubscription(s.clone()),
            Subscription::Orders(s) => Request::OrderSubscription(s.clone()),
        }
    }
}

/// What the client hands on.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A change message (`mcm` or `ocm`) as received, one line of JSON.
    Change(String),
    /// Connected and subscribed (again): `resumed` if from a clock.
    Subscribed {
        /// The server's name for the connection.
        connection_id: String,
        /// True when it resumed from the last clocks; false for a fresh image.
        resumed: bool,
    },
    /// The connection was lost; the client waits `wait` and tries again.
    Reconnecting {
        /// Why.
        why: String,
        /// The wait before the next attempt.
        wait: Duration,
    },
}

/// Why the client stopped for good.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StreamError {
    /// An error no retry can mend.
    #[error("stream refused for good: {0}")]
    Fatal(String),
}

/// Why one connection ended.
enum Ended {
    /// The consumer is gone: stop quietly.
    Consumer,
    /// Try again after a wait.
    Retry(String),
    /// The clocks were refused: try again at once, for a fresh image.
    FreshImage,
    /// Stop.
    Fatal(String),
}

/// Follow `subscription` until the receiver of `events` is dropped or an
/// error no retry mends. The session token is read from `session` at each
/// connection (another task renews it).
pub async fn follow(
    endpoint: Endpoint,
    retry: Retry,
    session: watch::Receiver<Secret>,
    mut subscription: Subscription,
    events: mpsc::Sender<Event>,
) -> Result<(), StreamError> {
    let tls = connector(&endpoint)?;
    let mut wait = retry.first;
    loop {
        let ended = connection(
            &endpoint,
            &retry,
            &tls,
            &session,
            &mut subscription,
            &events,
        )
        .await;
        let why = match ended {
            Ended::Consumer => return Ok(()),
            Ended::Fatal(why) => return Err(StreamError::Fatal(why)),
            Ended::FreshImage => {
                let settings = subscription.settings_mut();
                (settings.initial_clk, settings.clk) = (None, None);
                continue;
            }
            Ended::Retry(why) => why,
        };
        tracing::warn!("stream {}: {why}; again in {wait:?}", endpoint.address);
        let told = Event::Reconnecting { why, wait };
        if events.send(told).await.is_err() {
            return Ok(());
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(retry.most);
    }
}

fn connector(endpoint: &Endpoint) -> Result<TlsConnector, StreamError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = &endpoint.extra_roots_pem {
        use tokio_rustls::rustls::pki_types::CertificateDer;
        use tokio_rustls::rustls::pki_types::pem::PemObject;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| StreamError::Fatal(format!("trusted certificate: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| StreamError::Fatal(format!("trusted certificate: {e}")))?;
        }
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StreamError::Fatal(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

type Lines = BufReader<TlsStream<TcpStream>>;

/// One connection: connect, log in, subscribe, hand on changes until it
/// fails or goes quiet.
async fn connection(
    endpoint: &Endpoint,
    retry: &Retry,
    tls: &TlsConnector,
    session: &watch::Receiver<Secret>,
    subscription: &mut Subscription,
    events: &mpsc::Sender<Event>,
) -> Ended {
    let mut lines = match connect(endpoint, retry, tls).await {
        Ok(lines) => lines,
        Err(why) => return Ended::Retry(why),
    };
    let greeting = match read(&mut lines, retry.connect_timeout).await {
        Ok(line) => line,
        Err(why) => return Ended::Retry(why),
    };
    let connection_id = serde_json::from_str::<Greeting>(&greeting)
        .map(|g| g.connection_id)
        .unwrap_or_default();
    let login = Request::Authentication {
        id: Some(1),
        app_key: Some(endpoint.app_key.clone()),
        session: Some(session.borrow().clone()),
    };
    if let Err(ended) = ask(&mut lines, &login, retry.connect_timeout).await {
        return ended;
    }
    let resumed = subscription.settings_mut().clk.is_some();
    if let Err(ended) = ask(&mut lines, &subscription.request(), retry.connect_timeout).await {
        return ended;
    }
    let told = Event::Subscribed {
        connection_id,
        resumed,
    };
    if events.send(told).await.is_err() {
        return Ended::Consumer;
    }
    let asked = subscription.settings_mut().heartbeat_ms;
    let silence = Duration::from_millis(2 * heartbeat_in_force(asked));
    loop {
        let line = match read(&mut lines, silence).await {
            Ok(line) => line,
            Err(why) => return Ended::Retry(why),
        };
        match take(&line, subscription.settings_mut()) {
            Err(ended) => return ended,
            Ok(false) => continue,
            Ok(true) => {}
        }
        if events.send(Event::Change(line)).await.is_err() {
            return Ended::Consumer;
        }
    }
}

async fn connect(endpoint: &Endpoint, retry: &Retry, tls: &TlsConnector) -> Result<Lines, String> {
    let name = ServerName::try_from(endpoint.server_name.clone())
        .map_err(|e| format!("server name {:?}: {e}", endpoint.server_name))?;
    let connecting = async {
        let tcp = TcpStream::connect(&endpoint.address).await?;
        tcp.set_nodelay(true)?;
        tls.connect(name, tcp).await
    };
    match tokio::time::timeout(retry.connect_timeout, connecting).await {
        Ok(Ok(stream)) => Ok(BufReader::new(stream)),
        Ok(Err(e)) => Err(format!("connecting: {e}")),
        Err(_) => Err(format!(
            "connecting: no answer in {:?}",
            retry.connect_timeout
        )),
    }
}

/// Send a request and read its status; a failure says how to go on.
async fn ask(lines: &mut Lines, request: &Request, wait: Duration) -> Result<(), Ended> {
    let line = to_line(request).map_err(|e| Ended::Fatal(e.to_string()))?;
    let sent = async {
        lines.get_mut().write_all(&line).await?;
        lines.get_mut().flush().await
    };
    sent.await
        .map_err(|e| Ended::Retry(format!("sending: {e}")))?;
    let reply = read(lines, wait).await.map_err(Ended::Retry)?;
    match serde_json::from_str::<Status>(&reply) {
        Ok(status) if status.status_code == StatusCode::Success => Ok(()),
        Ok(status) => Err(refused(&status)),
        Err(e) => Err(Ended::Retry(format!("not a status: {e}"))),
    }
}

/// How to go on after a refusal.
fn refused(status: &Status) -> Ended {
    let code = status.error_code;
    let why = format!(
        "{:?}: {}",
        code,
        status.error_message.as_deref().unwrap_or_default()
    );
    match code {
        Some(ErrorCode::InvalidClock) => Ended::FreshImage,
        Some(
            ErrorCode::SubscriptionLimitExceeded
            | ErrorCode::MaxConnectionLimitExceeded
            | ErrorCode::InvalidAppKey
            | ErrorCode::NoAppKey
            | ErrorCode::NotAuthorized
            | ErrorCode::InvalidInput
            | ErrorCode::InvalidRequest,
        ) => Ended::Fatal(why),
        _ => Ended::Retry(why),
    }
}

/// Read one line within `wait`; silence, a closed connection or a line
/// over the limit is a reason to reconnect.
async fn read(lines: &mut Lines, wait: Duration) -> Result<String, String> {
    let mut line = Vec::new();
    let limit = MAX_LINE as u64 + 2;
    let mut limited = (&mut *lines).take(limit);
    match tokio::time::timeout(wait, limited.read_until(b'\n', &mut line)).await {
        Err(_) => Err(format!("nothing for {wait:?}")),
        Ok(Err(e)) => Err(format!("reading: {e}")),
        Ok(Ok(0)) => Err("closed by the server".into()),
        Ok(Ok(_)) if line.last() != Some(&b'\n') => Err("a line over the limit".into()),
        Ok(Ok(_)) => {
            let text = String::from_utf8_lossy(&line);
            Ok(text.trim_end().to_owned())
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Greeting {
    connection_id: String,
}

/// The parts of a change message the client itself reads.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Head {
    op: String,
    initial_clk: Option<String>,
    clk: Option<String>,
    segment_type: Option<String>,
}

/// Keep the clocks of a change message (A.7: `initialClk` whenever sent,
/// `clk` from unsegmented messages and the last segment): true for a
/// change to hand on, false for a status that needs nothing; a failure
/// status in mid-stream ends the connection.
fn take(line: &str, settings: &mut Settings) -> Result<bool, Ended> {
    let head: Head = serde_json::from_str(line)
        .map_err(|e| Ended::Retry(format!("a line that is not a message: {e}")))?;
    if head.op == "status" {
        let status: Status =
            serde_json::from_str(line).map_err(|e| Ended::Retry(format!("a bad status: {e}")))?;
        return match status.status_code {
            StatusCode::Success => Ok(false),
            StatusCode::Failure => Err(refused(&status)),
        };
    }
    if head.initial_clk.is_some() {
        settings.initial_clk = head.initial_clk;
    }
    let last = matches!(head.segment_type.as_deref(), None | Some("SEG_END"));
    if last && head.clk.is_some() {
        settings.clk = head.clk;
    }
    Ok(true)
}

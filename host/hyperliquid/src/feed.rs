//! The WebSocket client (protocol notes D.3): connect (`ws://` or
//! `wss://`), subscribe, hand every data frame on, ping every 50 s so the
//! venue never closes the connection as idle, and on any failure reconnect
//! with backoff and subscribe again (the venue answers a subscription with
//! a snapshot, so nothing is assumed carried over). Non-JSON frames (the
//! venue's greeting) and acknowledgements are skipped.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_tungstenite::tungstenite::Message as Frame;

/// The official SDK pings this often; the venue closes after 60 s quiet.
const PING_EVERY: Duration = Duration::from_secs(50);
const FIRST_WAIT: Duration = Duration::from_millis(500);
const MOST_WAIT: Duration = Duration::from_secs(30);

/// What the feed tells its user.
#[derive(Debug)]
pub enum FeedEvent<'a> {
    /// Connected and subscribed (again, after a reconnect).
    Connected,
    /// A data frame: its channel, its text as received, and its JSON.
    Data {
        /// `l2Book`, `trades`, `candle`, `orderUpdates`, `user`, ...
        channel: &'a str,
        /// The frame as it came.
        text: &'a str,
        /// The frame parsed.
        value: &'a Value,
    },
    /// The connection was lost; the feed reconnects after `wait`.
    Lost {
        /// Why.
        why: String,
        /// How long until the next try.
        wait: Duration,
    },
}

/// Follow `url` with `subscriptions` until `stop` turns true, calling
/// `on_event` for each event. A failed connection is retried forever
/// with backoff (0.5 s doubling to 30 s); only `stop` ends it.
pub async fn follow(
    url: &str,
    subscriptions: &[Value],
    mut stop: watch::Receiver<bool>,
    mut on_event: impl FnMut(FeedEvent<'_>),
) {
    let mut wait = FIRST_WAIT;
    while !*stop.borrow() {
        let why = tokio::select! {
            result = connection(url, subscriptions, &mut on_event, &mut wait) => match result {
                Ok(()) => "the venue closed the connection".to_string(),
                Err(e) => e,
            },
            _ = stop.wait_for(|s| *s) => return,
        };
        tracing::warn!("hyperliquid feed {url}: {why}; again in {wait:?}");
        on_event(FeedEvent::Lost { why, wait });
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        wait = (wait * 2).min(MOST_WAIT);
    }
}

/// One connection, until it fails.
async fn connection(
    url: &str,
    subscriptions: &[Value],
    on_event: &mut impl FnMut(FeedEvent<'_>),
    wait: &mut Duration,
) -> Result<(), String> {
    let stream = connect(url).await?;
    let (mut tx, mut rx) = stream.split();
    for subscription in subscriptions {
        let frame = json!({"method": "subscribe", "subscription": subscription}).to_string();
        tx.send(Frame::Text(frame.into()))
            .await
            .map_err(|e| format!("subscribing: {e}"))?;
    }
    on_event(FeedEvent::Connected);
    *wait = FIRST_WAIT;
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    loop {
        tokio::select! {
            _ = ping.tick() => {
                let frame = Frame::Text(json!({"method": "ping"}).to_string().into());
                tx.send(frame).await.map_err(|e| format!("pinging: {e}"))?;
            }
            frame = rx.next() => match frame {
                Some(Ok(Frame::Text(text))) => on_text(text.as_str(), on_event),
                Some(Ok(Frame::Close(_))) | None => return Ok(()),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(format!("reading: {e}")),
            },
        }
    }
}

fn on_text(text: &str, on_event: &mut impl FnMut(FeedEvent<'_>)) {
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return; // the greeting, in plain text
    };
    let channel = value["channel"].as_str().unwrap_or("");
    if matches!(channel, "" | "pong" | "subscriptionResponse") {
        return;
    }
    if channel == "error" {
        tracing::warn!("hyperliquid feed: the venue says {}", value["data"]);
        return;
    }
    on_event(FeedEvent::Data {
        channel,
        text,
        value: &value,
    });
}

/// A plain or TLS connection.
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

type Socket = tokio_tungstenite::WebSocketStream<Box<dyn Io>>;

async fn connect(url: &str) -> Result<Socket, String> {
    let (tls, rest) = match url.split_once("://") {
        Some(("wss", rest)) => (true, rest),
        Some(("ws", rest)) => (false, rest),
        _ => return Err(format!("{url:?} is not a ws:// or wss:// URL")),
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    let port = if authority.contains(':') {
        ""
    } else if tls {
        ":443"
    } else {
        ":80"
    };
    let tcp = TcpStream::connect(format!("{authority}{port}"))
        .await
        .map_err(|e| format!("connecting to {authority}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    let stream: Box<dyn Io> = if tls {
        let name = ServerName::try_from(host.to_owned()).map_err(|e| format!("{host}: {e}"))?;
        let tls =
            (connector()?.connect(name, tcp).await).map_err(|e| format!("TLS with {host}: {e}"))?;
        Box::new(tls)
    } else {
        Box::new(tcp)
    };
    let (socket, _) = tokio_tungstenite::client_async(url, stream)
        .await
        .map_err(|e| format!("WebSocket handshake with {url}: {e}"))?;
    Ok(socket)
}

fn connector() -> Result<TlsConnector, String> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

//! The local exchange's Exchange Stream API endpoint (venue-protocols A.1 to
//! A.9): TLS, the `connection` greeting, authentication against the
//! exchange's credentials with Betfair's error codes, heartbeats both ways,
//! and market subscriptions served from the replayed markets: an image
//! (`SUB_IMAGE`, segmented when large), then deltas as the replay moves,
//! conflated to `conflateMs`, `HEARTBEAT`s when quiet, and a resume from a
//! clock (`RESUB_DELTA`, or `INVALID_CLOCK` for a token it never issued).
//! A request before a good `authentication` gets `NO_SESSION`. Order
//! subscriptions are refused with `INVALID_REQUEST`, "not served yet",
//! without closing, until the exchange takes orders.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use clever_betfair::esa::{
    Connection, ErrorCode, MAX_LINE, MarketSubscription, Request, Secret, Status,
    conflation_in_force, heartbeat_in_force, to_line,
};
use serde_json::{Map, Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tokio_rustls::TlsAcceptor;

use crate::replay::Shared;
use crate::sessions::Sessions;
use crate::tls::Identity;
use crate::view::View;

/// The endpoint's limits, Betfair's by default.
#[derive(Debug, Clone)]
pub struct Limits {
    /// How long a new connection may stay silent before `TIMEOUT` (A.1).
    pub first_message: Duration,
    /// Logged-in connections the account may hold at once.
    pub connections: u32,
    /// Markets one subscription may select (`SUBSCRIPTION_LIMIT_EXCEEDED`).
    pub markets: usize,
    /// An image longer than this (JSON bytes) is split into segments when
    /// the subscription allows it.
    pub segment_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            first_message: Duration::from_secs(15),
            connections: 10,
            markets: 200,
            segment_bytes: 256 << 10,
        }
    }
}

/// What every connection shares.
struct Context {
    sessions: Arc<Sessions>,
    shared: Arc<Shared>,
    limits: Limits,
    /// Logged-in connections now open.
    open: AtomicU32,
    /// Names this exchange's resume tokens, so another run's are refused.
    epoch: u64,
}

/// The Stream API endpoint, bound and ready to serve.
pub struct StreamServer {
    listener: TcpListener,
    tls: TlsAcceptor,
    context: Arc<Context>,
    accepted: AtomicU64,
}

impl StreamServer {
    /// Listen on `addr` with `identity`, accepting the sessions of
    /// `sessions`, serving the markets of `shared`.
    pub async fn bind(
        addr: SocketAddr,
        identity: &Identity,
        sessions: Arc<Sessions>,
        shared: Arc<Shared>,
        limits: Limits,
    ) -> io::Result<Self> {
        let epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64 & 0xffff_ffff);
        Ok(StreamServer {
            listener: TcpListener::bind(addr).await?,
            tls: identity.acceptor()?,
            context: Arc::new(Context {
                sessions,
                shared,
                limits,
                open: AtomicU32::new(0),
                epoch,
            }),
            accepted: AtomicU64::new(0),
        })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serve connections until the task is dropped; each on its own task.
    pub async fn serve(self) {
        loop {
            let (tcp, peer) = match self.listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, say: wait rather than spin.
                    tracing::warn!("stream endpoint: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let number = self.accepted.fetch_add(1, Ordering::Relaxed) + 1;
            let (tls, context) = (self.tls.clone(), self.context.clone());
            tokio::spawn(async move {
                let result = match tls.accept(tcp).await {
                    Ok(stream) => Session::new(&context, number).run(stream).await,
                    Err(e) => Err(e),
                };
                if let Err(e) = result {
                    tracing::debug!("stream connection {number} from {peer}: {e}");
                }
            });
        }
    }
}

/// A market subscription being served.
struct Markets {
    id: Option<i32>,
    view: View,
    /// The tick the client has everything up to.
    tick: u64,
    conflate: Duration,
    heartbeat: Duration,
    /// When data (or a heartbeat) last went out.
    last_sent: Instant,
    /// When the last delta was made.
    last_flush: Instant,
    /// When the next delta is due, if the markets moved.
    flush_at: Option<Instant>,
}

/// One connection's state.
struct Session<'a> {
    context: &'a Context,
    number: u64,
    authenticated: bool,
    markets: Option<Markets>,
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        if self.authenticated {
            self.context.open.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl<'a> Session<'a> {
    fn new(context: &'a Context, number: u64) -> Self {
        Session {
            context,
            number,
            authenticated: false,
            markets: None,
        }
    }

    async fn run<S>(mut self, stream: S) -> io::Result<()>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (read, mut write) = tokio::io::split(stream);
        let (tx, mut requests) = mpsc::channel(16);
        let _reader = AbortOnDrop(tokio::spawn(read_requests(read, tx)));
        let mut ticks = self.context.shared.watch();
        let connection_id = format!("local-{:06}", self.number);
        send(&mut write, &to_line(&Connection { connection_id })?).await?;
        let silent_until = Instant::now() + self.context.limits.first_message;
        let mut heard = false;
        loop {
            let flush_at = self.markets.as_ref().and_then(|m| m.flush_at);
            let beat_at = self.markets.as_ref().map(|m| m.last_sent + m.heartbeat);
            let far = Instant::now() + Duration::from_secs(3600);
            tokio::select! {
                request = requests.recv() => {
                    let Some(request) = request else { return Ok(()) };
                    heard = true;
                    let (lines, open) = self.answer(request);
                    for line in &lines {
                        send(&mut write, line).await?;
                    }
                    if !open {
                        return write.shutdown().await;
                    }
                    if self.markets.is_some() {
                        ticks.borrow_and_update();
                    }
                }
                _ = sleep_until(silent_until), if !heard => {
                    let wait = self.context.limits.first_message.as_millis();
                    let why = format!("no message within {wait} ms");
                    let status = Status::failure(None, ErrorCode::Timeout, why);
                    send(&mut write, &to_line(&status)?).await?;
                    return write.shutdown().await;
                }
                moved = ticks.changed(), if self.markets.is_some() => {
                    if moved.is_err() {
                        return Ok(());
                    }
                    self.moved();
                }
                _ = sleep_until(flush_at.unwrap_or(far)), if flush_at.is_some() => {
                    if let Some(line) = self.delta()? {
                        send(&mut write, &line).await?;
                    }
                }
                _ = sleep_until(beat_at.unwrap_or(far)), if beat_at.is_some() => {
                    let line = self.heartbeat()?;
                    send(&mut write, &line).await?;
                }
            }
        }
    }

    /// The lines a request is answered with, and whether the connection
    /// stays open.
    fn answer(&mut self, request: Result<Request, Status>) -> (Vec<Vec<u8>>, bool) {
        let status = match request {
            Err(status) => status,
            Ok(Request::Authentication {
                id,
                app_key,
                session,
            }) => self.authenticate(id, app_key.as_ref(), session.as_ref()),
            Ok(request) if !self.authenticated => {
                Status::failure(request.id(), ErrorCode::NoSession, "authenticate first")
            }
            Ok(Request::Heartbeat { id }) => Status::success(id),
            Ok(Request::MarketSubscription(subscription)) => {
                return match self.subscribe(&subscription) {
                    Ok(lines) => (lines, true),
                    Err(status) => (line_of(&status), !status.connection_closed),
                };
            }
            Ok(Request::OrderSubscription(s)) => {
                let mut refused =
                    Status::failure(s.id, ErrorCode::InvalidRequest, "not served yet");
                // Refusing what is not built yet should not end the session.
                refused.connection_closed = false;
                refused
            }
        };
        (line_of(&status), !status.connection_closed)
    }

    fn authenticate(
        &mut self,
        id: Option<i32>,
        app_key: Option<&Secret>,
        session: Option<&Secret>,
    ) -> Status {
        let (app_key, session) = (app_key.map(Secret::expose), session.map(Secret::expose));
        if let Err(refused) = self.context.sessions.check(app_key, session) {
            let code = refused.stream_code();
            return Status::failure(id, code, "authentication refused");
        }
        let limit = self.context.limits.connections;
        if !self.authenticated {
            let open = self.context.open.fetch_add(1, Ordering::Relaxed) + 1;
            if open > limit {
                self.context.open.fetch_sub(1, Ordering::Relaxed);
                let why = format!("{limit} connections already open");
                return Status::failure(id, ErrorCode::MaxConnectionLimitExceeded, why);
            }
            self.authenticated = true;
        }
        let open = self.context.open.load(Ordering::Relaxed);
        Status {
            connections_available: Some(limit.saturating_sub(open)),
            ..Status::success(id)
        }
    }

    /// Replace the market subscription: its status, then its image or,
    /// resuming from a clock, what changed since.
    fn subscribe(&mut self, subscription: &MarketSubscription) -> Result<Vec<Vec<u8>>, Status> {
        let id = subscription.id;
        let settings = &subscription.settings;
        let token = settings.clk.as_deref().or(settings.initial_clk.as_deref());
        let markets = self.context.shared.markets();
        let resume = match token {
            None => None,
            Some(token) => Some(self.clock_tick(token, markets.tick).ok_or_else(|| {
                Status::failure(
                    id,
                    ErrorCode::InvalidClock,
                    "a clock this exchange never sent",
                )
            })?),
        };
        let mut view = View::new(subscription);
        let selected = view.count(&markets);
        let limit = self.context.limits.markets;
        if selected > limit {
            let why = format!("{selected} markets selected; at most {limit}");
            return Err(Status::failure(
                id,
                ErrorCode::SubscriptionLimitExceeded,
                why,
            ));
        }
        let (conflate, heartbeat) = (
            conflation_in_force(settings.conflate_ms),
            heartbeat_in_force(settings.heartbeat_ms),
        );
        let mut head = self.head(id, markets.pt, markets.tick);
        head.insert("conflateMs".into(), json!(conflate));
        head.insert("heartbeatMs".into(), json!(heartbeat));
        let mut lines = line_of(&Status::success(id));
        match resume {
            Some(since) => {
                view.resume(&markets, since);
                let mut items = view.delta(&markets, since);
                mark_conflated(&mut items, markets.tick > since + 1);
                head.insert("ct".into(), json!("RESUB_DELTA"));
                head.insert("mc".into(), Value::Array(items));
                lines.push(to_line(&head).map_err(internal)?);
            }
            None => {
                let items = view.image(&markets);
                let segment = settings.segmentation_enabled.unwrap_or(true);
                let limit = segment.then_some(self.context.limits.segment_bytes);
                head.insert("initialClk".into(), head["clk"].clone());
                head.insert("ct".into(), json!("SUB_IMAGE"));
                lines.extend(image_lines(head, items, limit).map_err(internal)?);
            }
        }
        self.markets = Some(Markets {
            id,
            view,
            tick: markets.tick,
            conflate: Duration::from_millis(conflate),
            heartbeat: Duration::from_millis(heartbeat),
            last_sent: Instant::now(),
            last_flush: Instant::now(),
            flush_at: None,
        });
        Ok(lines)
    }

    /// The markets moved: a delta is due now, or once the conflation
    /// interval since the last one has passed.
    fn moved(&mut self) {
        if let Some(m) = &mut self.markets
            && m.flush_at.is_none()
        {
            m.flush_at = Some((m.last_flush + m.conflate).max(Instant::now()));
        }
    }

    /// What changed since the client's tick, if anything it subscribed to.
    fn delta(&mut self) -> io::Result<Option<Vec<u8>>> {
        let markets = self.context.shared.markets();
        let Some(m) = &mut self.markets else {
            return Ok(None);
        };
        let mut items = m.view.delta(&markets, m.tick);
        mark_conflated(&mut items, markets.tick > m.tick + 1);
        (m.flush_at, m.last_flush) = (None, Instant::now());
        m.tick = markets.tick;
        if items.is_empty() {
            return Ok(None);
        }
        m.last_sent = Instant::now();
        let id = m.id;
        let mut head = self.head(id, markets.pt, markets.tick);
        head.insert("mc".into(), Value::Array(items));
        Ok(Some(to_line(&head)?))
    }

    fn heartbeat(&mut self) -> io::Result<Vec<u8>> {
        let now = self.context.shared.now();
        let Some(m) = &mut self.markets else {
            return Ok(Vec::new());
        };
        m.last_sent = Instant::now();
        let (id, tick) = (m.id, m.tick);
        let mut head = self.head(id, now, tick);
        head.insert("ct".into(), json!("HEARTBEAT"));
        Ok(to_line(&head)?)
    }

    /// The keys every change message starts with.
    fn head(&self, id: Option<i32>, pt: i64, tick: u64) -> Map<String, Value> {
        let mut head = Map::new();
        head.insert("op".into(), json!("mcm"));
        head.insert("id".into(), json!(id));
        head.insert("clk".into(), json!(self.clock(tick)));
        head.insert("pt".into(), json!(pt));
        head
    }

    /// The resume token for `tick`: opaque to clients, naming this run.
    fn clock(&self, tick: u64) -> String {
        format!("{:x}-{tick}", self.context.epoch)
    }

    /// The tick a token names, if this run issued it.
    fn clock_tick(&self, token: &str, now: u64) -> Option<u64> {
        let (epoch, tick) = token.split_once('-')?;
        let epoch = u64::from_str_radix(epoch, 16).ok()?;
        let tick: u64 = tick.parse().ok()?;
        (epoch == self.context.epoch && tick <= now).then_some(tick)
    }
}

/// Flag market changes that merge several of the replay's (A.8 `con`).
fn mark_conflated(items: &mut [Value], merged: bool) {
    if merged {
        for item in items.iter_mut().filter(|i| i.get("img").is_none()) {
            item["con"] = json!(true);
        }
    }
}

/// An image as one message, or, over `limit` bytes, as segments
/// (`SEG_START` ... `SEG_END`) with the clocks on the last one only, so
/// that a client cut off mid-image does not resume from it.
fn image_lines(
    head: Map<String, Value>,
    items: Vec<Value>,
    limit: Option<usize>,
) -> serde_json::Result<Vec<Vec<u8>>> {
    let mut parts: Vec<Vec<Value>> = Vec::new();
    let mut part = Vec::new();
    let mut size = 0;
    for item in items {
        let len = serde_json::to_vec(&item)?.len();
        if limit.is_some_and(|limit| size + len > limit) && !part.is_empty() {
            parts.push(std::mem::take(&mut part));
            size = 0;
        }
        size += len;
        part.push(item);
    }
    parts.push(part);
    let count = parts.len();
    let mut lines = Vec::with_capacity(count);
    for (i, part) in parts.into_iter().enumerate() {
        let mut message = head.clone();
        if count > 1 {
            let kind = match i {
                0 => "SEG_START",
                i if i + 1 == count => "SEG_END",
                _ => "SEG",
            };
            message.insert("segmentType".into(), json!(kind));
            if i + 1 < count {
                message.remove("clk");
                message.remove("initialClk");
            }
        }
        message.insert("mc".into(), Value::Array(part));
        lines.push(to_line(&message)?);
    }
    Ok(lines)
}

fn line_of(status: &Status) -> Vec<Vec<u8>> {
    // A status is plain data: it always serializes.
    to_line(status).map(|l| vec![l]).unwrap_or_default()
}

fn internal(e: serde_json::Error) -> Status {
    Status::failure(None, ErrorCode::UnexpectedError, e.to_string())
}

/// Read the client's lines into requests until it closes; a line that is
/// too long or not a request goes on as the status it gets.
async fn read_requests<R: AsyncRead + Unpin>(
    read: R,
    requests: mpsc::Sender<Result<Request, Status>>,
) {
    let mut reader = BufReader::new(read);
    let mut line = Vec::new();
    loop {
        line.clear();
        let limit = MAX_LINE as u64 + 2;
        let read = (&mut reader).take(limit).read_until(b'\n', &mut line).await;
        let request = match read {
            Ok(0) | Err(_) => return,
            Ok(n) if n as u64 == limit && line.last() != Some(&b'\n') => {
                let why = format!("a line over {MAX_LINE} bytes");
                Err(Status::failure(None, ErrorCode::InvalidInput, why))
            }
            Ok(_) => Request::from_line(String::from_utf8_lossy(&line).trim_end()),
        };
        let last = request.is_err();
        if requests.send(request).await.is_err() || last {
            return;
        }
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn send<W: AsyncWrite + Unpin>(write: &mut W, line: &[u8]) -> io::Result<()> {
    write.write_all(line).await?;
    write.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpStream;
    use tokio_rustls::TlsConnector;
    use tokio_rustls::rustls::{ClientConfig, RootCertStore, pki_types::ServerName};

    /// The account's sessions, one of them open: "session-1".
    fn sessions() -> Arc<Sessions> {
        let account = crate::sessions::Account {
            username: "user".into(),
            password: Secret::new("pass"),
            app_key: Secret::new("key-1"),
        };
        Arc::new(Sessions::new(account, crate::sessions::SESSION_LIFETIME).with_token("session-1"))
    }

    /// A running exchange endpoint and a client connector that trusts it.
    async fn start(wait: Duration) -> (SocketAddr, TlsConnector) {
        let limits = Limits {
            first_message: wait,
            ..Limits::default()
        };
        start_with(Shared::new(1.0), limits).await
    }

    async fn start_with(shared: Arc<Shared>, limits: Limits) -> (SocketAddr, TlsConnector) {
        let identity = Identity::self_signed(&["localhost"]).unwrap();
        let addr = "127.0.0.1:0".parse().unwrap();
        let server = StreamServer::bind(addr, &identity, sessions(), shared, limits)
            .await
            .unwrap();
        let addr = server.local_addr().unwrap();
        tokio::spawn(server.serve());
        let mut roots = RootCertStore::empty();
        roots.add(identity.certificate.clone()).unwrap();
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        (addr, TlsConnector::from(Arc::new(config)))
    }

    type Client = BufReader<tokio_rustls::client::TlsStream<TcpStream>>;

    async fn connect(addr: SocketAddr, tls: &TlsConnector) -> Client {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        BufReader::new(tls.connect(name, tcp).await.unwrap())
    }

    /// The next line from the server as JSON; `None` once it has closed.
    async fn next(client: &mut Client) -> Option<serde_json::Value> {
        let mut line = String::new();
        let n = client.read_line(&mut line).await.unwrap_or(0);
        (n > 0).then(|| {
            assert!(line.ends_with("\r\n"), "{line:?}");
            serde_json::from_str(&line).unwrap()
        })
    }

    async fn ask(client: &mut Client, line: &str) -> serde_json::Value {
        client.get_mut().write_all(line.as_bytes()).await.unwrap();
        client.get_mut().write_all(b"\r\n").await.unwrap();
        next(client).await.unwrap()
    }

    #[tokio::test]
    async fn a_client_is_greeted_logs_in_and_gets_a_status_per_request() {
        let (addr, tls) = start(Limits::default().first_message).await;
        let mut client = connect(addr, &tls).await;
        let hello = next(&mut client).await.unwrap();
        assert_eq!(hello["op"], "connection");
        assert!(
            hello["connectionId"]
                .as_str()
                .is_some_and(|id| !id.is_empty())
        );
        let auth = r#"{"op":"authentication","id":1,"appKey":"key-1","session":"session-1"}"#;
        let ok = ask(&mut client, auth).await;
        assert_eq!(
            ok,
            serde_json::json!({"op":"status","id":1,"statusCode":"SUCCESS",
                "connectionClosed":false,"connectionsAvailable":9})
        );
        let beat = ask(&mut client, r#"{"op":"heartbeat","id":7}"#).await;
        assert_eq!(
            (beat["id"].as_i64(), beat["statusCode"].as_str()),
            (Some(7), Some("SUCCESS"))
        );
        let sub = ask(&mut client, r#"{"op":"orderSubscription","id":2}"#).await;
        assert_eq!(
            (sub["errorCode"].as_str(), sub["connectionClosed"].as_bool()),
            (Some("INVALID_REQUEST"), Some(false))
        );
        // Garbage is INVALID_INPUT, and the server hangs up.
        let bad = ask(&mut client, "{not json").await;
        assert_eq!(
            (bad["errorCode"].as_str(), bad["connectionClosed"].as_bool()),
            (Some("INVALID_INPUT"), Some(true))
        );
        assert!(next(&mut client).await.is_none());
    }

    #[tokio::test]
    async fn bad_credentials_and_early_requests_get_betfairs_codes_and_a_closed_connection() {
        let (addr, tls) = start(Limits::default().first_message).await;
        for (line, code) in [
            (r#"{"op":"heartbeat","id":3}"#, "NO_SESSION"),
            (
                r#"{"op":"authentication","id":1,"session":"session-1"}"#,
                "NO_APP_KEY",
            ),
            (
                r#"{"op":"authentication","id":1,"appKey":"nope","session":"session-1"}"#,
                "INVALID_APP_KEY",
            ),
            (
                r#"{"op":"authentication","id":1,"appKey":"key-1"}"#,
                "NO_SESSION",
            ),
            (
                r#"{"op":"authentication","id":1,"appKey":"key-1","session":"old"}"#,
                "INVALID_SESSION_INFORMATION",
            ),
        ] {
            let mut client = connect(addr, &tls).await;
            next(&mut client).await.unwrap();
            let status = ask(&mut client, line).await;
            assert_eq!(status["errorCode"].as_str(), Some(code), "{line}");
            assert_eq!(status["connectionClosed"].as_bool(), Some(true), "{line}");
            assert!(!status.to_string().contains("session-1"), "{status}");
            assert!(next(&mut client).await.is_none(), "{line}");
        }
    }

    #[tokio::test]
    async fn a_silent_client_gets_timeout_and_is_dropped() {
        let (addr, tls) = start(Duration::from_millis(200)).await;
        let mut client = connect(addr, &tls).await;
        next(&mut client).await.unwrap();
        let late = next(&mut client).await.unwrap();
        assert_eq!(
            (
                late["errorCode"].as_str(),
                late["connectionClosed"].as_bool()
            ),
            (Some("TIMEOUT"), Some(true))
        );
        assert!(next(&mut client).await.is_none());
    }

    const TWO_MARKETS: &str = r#"{"op":"mcm","pt":1000,"mc":[
        {"id":"1.2","img":true,"marketDefinition":{"status":"OPEN","eventTypeId":"7"},
         "rc":[{"id":7,"atb":[[2.0,10],[1.9,5]]}]},
        {"id":"1.3","img":true,"marketDefinition":{"status":"OPEN","eventTypeId":"4339"},
         "rc":[{"id":8,"atl":[[3.0,1]]}]}]}"#;
    const AUTH: &str = r#"{"op":"authentication","id":1,"appKey":"key-1","session":"session-1"}"#;

    async fn logged_in(addr: SocketAddr, tls: &TlsConnector) -> Client {
        let mut client = connect(addr, tls).await;
        next(&mut client).await.unwrap();
        let ok = ask(&mut client, AUTH).await;
        assert_eq!(ok["statusCode"], "SUCCESS", "{ok}");
        client
    }

    async fn replayed() -> (Arc<Shared>, SocketAddr, TlsConnector) {
        let shared = Shared::new(0.0);
        shared.apply(TWO_MARKETS);
        let (addr, tls) = start_with(shared.clone(), Limits::default()).await;
        (shared, addr, tls)
    }

    const HORSES: &str = r#"{"op":"marketSubscription","id":5,"marketFilter":{"eventTypeIds":["7"]},
        "marketDataFilter":{"fields":["EX_ALL_OFFERS","EX_MARKET_DEF"]},"heartbeatMs":500}"#;

    #[tokio::test]
    async fn a_subscription_gets_an_image_then_deltas_heartbeats_and_a_resume() {
        let (shared, addr, tls) = replayed().await;
        let mut client = logged_in(addr, &tls).await;
        let status = ask(&mut client, &HORSES.replace('\n', "")).await;
        assert_eq!(
            (status["id"].as_i64(), status["statusCode"].as_str()),
            (Some(5), Some("SUCCESS"))
        );
        let image = next(&mut client).await.unwrap();
        assert_eq!(
            (image["ct"].as_str(), image["id"].as_i64()),
            (Some("SUB_IMAGE"), Some(5))
        );
        assert_eq!(image["initialClk"], image["clk"]);
        assert_eq!(image["mc"].as_array().map(Vec::len), Some(1), "{image}");
        assert_eq!(
            image["mc"][0]["rc"][0]["atb"],
            json!([[1.9, 5.0], [2.0, 10.0]])
        );

        shared
            .apply(r#"{"op":"mcm","pt":1100,"mc":[{"id":"1.2","rc":[{"id":7,"atb":[[2.0,0]]}]}]}"#);
        let delta = next(&mut client).await.unwrap();
        assert_eq!(
            delta["mc"],
            json!([{"id":"1.2","rc":[{"id":7,"atb":[[2.0,0.0]]}]}])
        );
        assert_eq!((delta.get("ct"), delta["pt"].as_i64()), (None, Some(1100)));
        let clk = delta["clk"].as_str().unwrap().to_owned();

        // A change to a market it did not select sends nothing; a
        // heartbeat comes after 500 ms of quiet.
        shared
            .apply(r#"{"op":"mcm","pt":1200,"mc":[{"id":"1.3","rc":[{"id":8,"atl":[[3.0,0]]}]}]}"#);
        let beat = next(&mut client).await.unwrap();
        assert_eq!(
            (beat["ct"].as_str(), beat.get("mc")),
            (Some("HEARTBEAT"), None)
        );
        drop(client);

        shared.apply(
            r#"{"op":"mcm","pt":1300,"mc":[{"id":"1.2","rc":[{"id":7,"atb":[[1.95,4]]}]}]}"#,
        );
        let mut client = logged_in(addr, &tls).await;
        let resume = HORSES.replace('\n', "").replace(
            "\"heartbeatMs\"",
            &format!("\"clk\":\"{clk}\",\"heartbeatMs\""),
        );
        ask(&mut client, &resume).await;
        let patch = next(&mut client).await.unwrap();
        assert_eq!(patch["ct"], "RESUB_DELTA");
        assert_eq!(
            patch["mc"],
            json!([{"id":"1.2","con":true,"rc":[{"id":7,"atb":[[1.95,4.0]]}]}])
        );

        let mut client = logged_in(addr, &tls).await;
        let forged = HORSES
            .replace('\n', "")
            .replace("\"heartbeatMs\"", "\"clk\":\"abc-1\",\"heartbeatMs\"");
        let refused = ask(&mut client, &forged).await;
        assert_eq!(
            (
                refused["errorCode"].as_str(),
                refused["connectionClosed"].as_bool()
            ),
            (Some("INVALID_CLOCK"), Some(true))
        );
    }

    #[tokio::test]
    async fn big_images_come_in_segments_with_the_clock_on_the_last() {
        let shared = Shared::new(0.0);
        shared.apply(TWO_MARKETS);
        let limits = Limits {
            segment_bytes: 10,
            ..Limits::default()
        };
        let (addr, tls) = start_with(shared, limits).await;
        let mut client = logged_in(addr, &tls).await;
        ask(
            &mut client,
            r#"{"op":"marketSubscription","id":2,"marketDataFilter":{"fields":["EX_ALL_OFFERS"]}}"#,
        )
        .await;
        let first = next(&mut client).await.unwrap();
        let last = next(&mut client).await.unwrap();
        assert_eq!(
            (first["segmentType"].as_str(), first.get("clk")),
            (Some("SEG_START"), None)
        );
        assert_eq!(last["segmentType"], "SEG_END");
        assert!(
            last["clk"].is_string() && last["initialClk"].is_string(),
            "{last}"
        );
        let ids = [&first["mc"][0]["id"], &last["mc"][0]["id"]];
        assert_eq!(ids, [&json!("1.2"), &json!("1.3")]);
    }

    #[tokio::test]
    async fn the_markets_and_connections_limits_answer_with_betfairs_codes() {
        let shared = Shared::new(0.0);
        shared.apply(TWO_MARKETS);
        let limits = Limits {
            markets: 1,
            connections: 1,
            ..Limits::default()
        };
        let (addr, tls) = start_with(shared, limits).await;
        let mut client = logged_in(addr, &tls).await;
        let too_many = ask(&mut client, r#"{"op":"marketSubscription","id":2}"#).await;
        assert_eq!(
            (
                too_many["errorCode"].as_str(),
                too_many["connectionClosed"].as_bool()
            ),
            (Some("SUBSCRIPTION_LIMIT_EXCEEDED"), Some(false))
        );
        assert_eq!(
            ask(&mut client, r#"{"op":"heartbeat","id":3}"#).await["statusCode"],
            "SUCCESS"
        );

        let mut second = connect(addr, &tls).await;
        next(&mut second).await.unwrap();
        let full = ask(&mut second, AUTH).await;
        assert_eq!(full["errorCode"], "MAX_CONNECTION_LIMIT_EXCEEDED");
        drop(client);
        // The first one's slot frees once the server sees it gone.
        for attempt in 0.. {
            let mut again = connect(addr, &tls).await;
            next(&mut again).await.unwrap();
            if ask(&mut again, AUTH).await["statusCode"] == "SUCCESS" {
                break;
            }
            assert!(attempt < 50, "the slot never freed");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

//! The local exchange's Exchange Stream API endpoint (venue-protocols A.1 to
//! A.9): TLS, the `connection` greeting, authentication against the
//! exchange's credentials with Betfair's error codes, heartbeats both ways,
//! and market subscriptions served from the replayed markets: an image
//! (`SUB_IMAGE`, segmented when large), then deltas as the replay moves,
//! conflated to `conflateMs`, `HEARTBEAT`s when quiet, and a resume from a
//! clock (`RESUB_DELTA`, or `INVALID_CLOCK` for a token it never issued).
//! Order subscriptions are served the same way from the account's orders
//! (`ocm`, see `order_view`). A request before a good `authentication`
//! gets `NO_SESSION`.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use clever_betfair::esa::{
    Connection, ErrorCode, MAX_LINE, MarketSubscription, OrderSubscription, Request, Secret,
    Settings, Status, conflation_in_force, heartbeat_in_force, to_line,
};
use serde_json::{Map, Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tokio_rustls::TlsAcceptor;

use crate::order_view::OrderView;
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

/// The pacing of one subscription's messages.
struct Feed {
    /// The subscription's request id, on every message.
    id: Option<i32>,
    /// The tick the client has everything up to.
    tick: u64,
    conflate: Duration,
    heartbeat: Duration,
    /// When data (or a heartbeat) last went out.
    last_sent: Instant,
    /// When the last delta was made.
    last_flush: Instant,
    /// When the next delta is due, if the data moved.
    flush_at: Option<Instant>,
}

impl Feed {
    fn new(id: Option<i32>, tick: u64, settings: &Settings) -> Feed {
        Feed {
            id,
            tick,
            conflate: Duration::from_millis(conflation_in_force(settings.conflate_ms)),
            heartbeat: Duration::from_millis(heartbeat_in_force(settings.heartbeat_ms)),
            last_sent: Instant::now(),
            last_flush: Instant::now(),
            flush_at: None,
        }
    }

    /// The data moved: a delta is due now, or once the conflation
    /// interval since the last one has passed.
    fn moved(&mut self) {
        if self.flush_at.is_none() {
            self.flush_at = Some((self.last_flush + self.conflate).max(Instant::now()));
        }
    }

    /// A delta is being made up to `tick`.
    fn flushed(&mut self, tick: u64) {
        (self.flush_at, self.last_flush, self.tick) = (None, Instant::now(), tick);
    }

    fn beat_at(&self) -> Instant {
        self.last_sent + self.heartbeat
    }
}

/// Which of a connection's two subscriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Markets,
    Orders,
}

impl Kind {
    fn op(self) -> &'static str {
        match self {
            Kind::Markets => "mcm",
            Kind::Orders => "ocm",
        }
    }
}

/// One connection's state.
struct Session<'a> {
    context: &'a Context,
    number: u64,
    authenticated: bool,
    markets: Option<(Feed, View)>,
    orders: Option<(Feed, OrderView)>,
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
            orders: None,
        }
    }

    fn feed(&mut self, kind: Kind) -> Option<&mut Feed> {
        match kind {
            Kind::Markets => self.markets.as_mut().map(|(f, _)| f),
            Kind::Orders => self.orders.as_mut().map(|(f, _)| f),
        }
    }

    /// The data of `kind` moved: its delta now if one is due (no
    /// conflation pending), else nothing until the flush timer. A sleep
    /// that is already due still waits for the timer's next millisecond
    /// tick, which would add that much to every message.
    fn moved(&mut self, kind: Kind) -> io::Result<Vec<Vec<u8>>> {
        let Some(feed) = self.feed(kind) else {
            return Ok(Vec::new());
        };
        feed.moved();
        if feed.flush_at.is_some_and(|at| at <= Instant::now()) {
            return self.delta(kind);
        }
        Ok(Vec::new())
    }

    /// When each feed's next delta and heartbeat are due.
    fn timers(&self) -> [Option<Instant>; 4] {
        let m = self.markets.as_ref().map(|(f, _)| f);
        let o = self.orders.as_ref().map(|(f, _)| f);
        [
            m.and_then(|f| f.flush_at),
            o.and_then(|f| f.flush_at),
            m.map(Feed::beat_at),
            o.map(Feed::beat_at),
        ]
    }

    async fn run<S>(mut self, stream: S) -> io::Result<()>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (read, mut write) = tokio::io::split(stream);
        let (tx, mut requests) = mpsc::channel(16);
        let _reader = AbortOnDrop(tokio::spawn(read_requests(read, tx)));
        let shared = &self.context.shared;
        let (mut market_ticks, mut order_ticks) = (shared.watch(), shared.watch_orders());
        let mut drops = shared.faults.watch_drops();
        let connection_id = format!("local-{:06}", self.number);
        send(&mut write, &to_line(&Connection { connection_id })?).await?;
        let silent_until = Instant::now() + self.context.limits.first_message;
        let mut heard = false;
        loop {
            let [m_flush, o_flush, m_beat, o_beat] = self.timers();
            let far = Instant::now() + Duration::from_secs(3600);
            let at = |t: Option<Instant>| sleep_until(t.unwrap_or(far));
            let (markets, orders) = (self.markets.is_some(), self.orders.is_some());
            let lines = tokio::select! {
                request = requests.recv() => {
                    let Some(request) = request else { return Ok(()) };
                    heard = true;
                    let (lines, open) = self.answer(request);
                    market_ticks.borrow_and_update();
                    order_ticks.borrow_and_update();
                    if !open {
                        send_all(&mut write, &lines).await?;
                        return write.shutdown().await;
                    }
                    lines
                }
                _ = drops.changed() => return Ok(()),
                _ = sleep_until(silent_until), if !heard => {
                    let wait = self.context.limits.first_message.as_millis();
                    let why = format!("no message within {wait} ms");
                    let status = Status::failure(None, ErrorCode::Timeout, why);
                    send(&mut write, &to_line(&status)?).await?;
                    return write.shutdown().await;
                }
                moved = market_ticks.changed(), if markets => {
                    moved.map_err(io::Error::other)?;
                    self.moved(Kind::Markets)?
                }
                moved = order_ticks.changed(), if orders => {
                    moved.map_err(io::Error::other)?;
                    self.moved(Kind::Orders)?
                }
                _ = at(m_flush), if m_flush.is_some() => self.delta(Kind::Markets)?,
                _ = at(o_flush), if o_flush.is_some() => self.delta(Kind::Orders)?,
                _ = at(m_beat), if m_beat.is_some() => self.heartbeat(Kind::Markets)?,
                _ = at(o_beat), if o_beat.is_some() => self.heartbeat(Kind::Orders)?,
            };
            if let Some(until) = shared.faults.stalled_until() {
                sleep_until(until).await;
            }
            send_all(&mut write, &lines).await?;
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
                return outcome(self.subscribe_markets(&subscription));
            }
            Ok(Request::OrderSubscription(subscription)) => {
                return outcome(self.subscribe_orders(&subscription));
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
    fn subscribe_markets(
        &mut self,
        subscription: &MarketSubscription,
    ) -> Result<Vec<Vec<u8>>, Status> {
        let (id, settings) = (subscription.id, &subscription.settings);
        let markets = self.context.shared.markets();
        let resume = self.resume_tick(id, settings, markets.tick)?;
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
        let feed = Feed::new(id, markets.tick, settings);
        let items = match resume {
            Some(since) => {
                view.resume(&markets, since);
                let mut items = view.delta(&markets, since);
                mark_conflated(&mut items, markets.tick > since + 1);
                items
            }
            None => view.image(&markets),
        };
        let lines = self.first_lines(Kind::Markets, &feed, markets.pt, resume, items, settings);
        drop(markets);
        self.markets = Some((feed, view));
        self.context.shared.market_subscribed();
        lines
    }

    /// Replace the order subscription, as for markets.
    fn subscribe_orders(
        &mut self,
        subscription: &OrderSubscription,
    ) -> Result<Vec<Vec<u8>>, Status> {
        let (id, settings) = (subscription.id, &subscription.settings);
        let now = self.context.shared.now();
        let orders = self.context.shared.orders();
        let resume = self.resume_tick(id, settings, orders.tick)?;
        let view = OrderView::new(subscription);
        let feed = Feed::new(id, orders.tick, settings);
        let items = match resume {
            Some(since) => view.delta(&orders, since),
            None => view.image(&orders),
        };
        drop(orders);
        let lines = self.first_lines(Kind::Orders, &feed, now, resume, items, settings);
        self.orders = Some((feed, view));
        lines
    }

    /// The tick a subscription resumes from, if it gave a clock.
    fn resume_tick(&self, id: Option<i32>, s: &Settings, now: u64) -> Result<Option<u64>, Status> {
        let Some(token) = s.clk.as_deref().or(s.initial_clk.as_deref()) else {
            return Ok(None);
        };
        let tick = self.clock_tick(token, now).ok_or_else(|| {
            Status::failure(
                id,
                ErrorCode::InvalidClock,
                "a clock this exchange never sent",
            )
        })?;
        Ok(Some(tick))
    }

    /// A subscription's status line, then its image (segmented if big) or
    /// its `RESUB_DELTA`.
    fn first_lines(
        &self,
        kind: Kind,
        feed: &Feed,
        pt: i64,
        resume: Option<u64>,
        items: Vec<Value>,
        settings: &Settings,
    ) -> Result<Vec<Vec<u8>>, Status> {
        let mut head = self.head(kind, feed.id, pt, feed.tick);
        head.insert("conflateMs".into(), json!(feed.conflate.as_millis() as u64));
        head.insert(
            "heartbeatMs".into(),
            json!(feed.heartbeat.as_millis() as u64),
        );
        let mut lines = line_of(&Status::success(feed.id));
        let key = if kind == Kind::Markets { "mc" } else { "oc" };
        if resume.is_some() {
            head.insert("ct".into(), json!("RESUB_DELTA"));
            head.insert(key.into(), Value::Array(items));
            lines.push(to_line(&head).map_err(internal)?);
        } else {
            let segment = settings.segmentation_enabled.unwrap_or(true);
            let limit = segment.then_some(self.context.limits.segment_bytes);
            head.insert("initialClk".into(), head["clk"].clone());
            head.insert("ct".into(), json!("SUB_IMAGE"));
            lines.extend(image_lines(head, key, items, limit).map_err(internal)?);
        }
        Ok(lines)
    }

    /// What changed since the client's tick, if anything it subscribed to.
    fn delta(&mut self, kind: Kind) -> io::Result<Vec<Vec<u8>>> {
        let shared = self.context.shared.clone();
        let (items, tick, pt) = match kind {
            Kind::Markets => {
                let markets = shared.markets();
                let Some((feed, view)) = &mut self.markets else {
                    return Ok(Vec::new());
                };
                let mut items = view.delta(&markets, feed.tick);
                mark_conflated(&mut items, markets.tick > feed.tick + 1);
                (items, markets.tick, markets.pt)
            }
            Kind::Orders => {
                let now = shared.now();
                let orders = shared.orders();
                let Some((feed, view)) = &self.orders else {
                    return Ok(Vec::new());
                };
                (view.delta(&orders, feed.tick), orders.tick, now)
            }
        };
        let Some(feed) = self.feed(kind) else {
            return Ok(Vec::new());
        };
        feed.flushed(tick);
        if items.is_empty() {
            return Ok(Vec::new());
        }
        feed.last_sent = Instant::now();
        let id = feed.id;
        let mut head = self.head(kind, id, pt, tick);
        let key = if kind == Kind::Markets { "mc" } else { "oc" };
        head.insert(key.into(), Value::Array(items));
        Ok(vec![to_line(&head)?])
    }

    fn heartbeat(&mut self, kind: Kind) -> io::Result<Vec<Vec<u8>>> {
        let now = self.context.shared.now();
        let Some(feed) = self.feed(kind) else {
            return Ok(Vec::new());
        };
        feed.last_sent = Instant::now();
        let (id, tick) = (feed.id, feed.tick);
        let mut head = self.head(kind, id, now, tick);
        head.insert("ct".into(), json!("HEARTBEAT"));
        Ok(vec![to_line(&head)?])
    }

    /// The keys every change message starts with.
    fn head(&self, kind: Kind, id: Option<i32>, pt: i64, tick: u64) -> Map<String, Value> {
        let mut head = Map::new();
        head.insert("op".into(), json!(kind.op()));
        head.insert("id".into(), json!(id));
        head.insert("clk".into(), json!(self.clock(tick)));
        head.insert("pt".into(), json!(pt));
        if self.context.shared.faults.stale() {
            head.insert("status".into(), json!(503));
        }
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
    key: &str,
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
        message.insert(key.into(), Value::Array(part));
        lines.push(to_line(&message)?);
    }
    Ok(lines)
}

fn outcome(lines: Result<Vec<Vec<u8>>, Status>) -> (Vec<Vec<u8>>, bool) {
    match lines {
        Ok(lines) => (lines, true),
        Err(status) => (line_of(&status), !status.connection_closed),
    }
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

async fn send_all<W: AsyncWrite + Unpin>(write: &mut W, lines: &[Vec<u8>]) -> io::Result<()> {
    for line in lines {
        send(write, line).await?;
    }
    Ok(())
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
        start_with(
            Shared::new(1.0, crate::Orders::new(Default::default())),
            limits,
        )
        .await
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
        assert_eq!(sub["statusCode"], "SUCCESS");
        let image = next(&mut client).await.unwrap();
        assert_eq!(
            (image["op"].as_str(), image["ct"].as_str(), &image["oc"]),
            (Some("ocm"), Some("SUB_IMAGE"), &json!([]))
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
        let shared = Shared::new(0.0, crate::Orders::new(Default::default()));
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
        let shared = Shared::new(0.0, crate::Orders::new(Default::default()));
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
        let shared = Shared::new(0.0, crate::Orders::new(Default::default()));
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

    #[tokio::test]
    async fn an_order_subscription_hears_of_each_order_and_its_fill() {
        let shared = Shared::new(0.0, crate::Orders::new(Default::default()));
        let open = r#"{"op":"mcm","pt":1000,"mc":[{"id":"1.2","img":true,
            "marketDefinition":{"status":"OPEN","inPlay":false,"betDelay":0,
                "runners":[{"id":7,"status":"ACTIVE","sortPriority":1}]},
            "rc":[{"id":7,"atb":[[2.0,10]],"atl":[[2.1,30]]}]}]}"#;
        shared.apply(&open.replace('\n', ""));
        let (addr, tls) = start_with(shared.clone(), Limits::default()).await;
        let mut client = logged_in(addr, &tls).await;
        let sub =
            r#"{"op":"orderSubscription","id":4,"orderFilter":{"customerStrategyRefs":["s1"]}}"#;
        assert_eq!(ask(&mut client, sub).await["statusCode"], "SUCCESS");
        assert_eq!(next(&mut client).await.unwrap()["oc"], json!([]));

        let back = crate::orders::Placement {
            selection_id: 7,
            handicap: 0.0,
            side: clever_sdk::Side::Back,
            price: 2.0,
            size: 2.0,
            persistence: clever_sdk::Persistence::Lapse,
            customer_order_ref: Some("o-1".into()),
        };
        let tick = {
            let mut orders = shared.orders();
            orders
                .place("1.2", &[back], (Some("s1"), None), None, 1000)
                .unwrap();
            orders.tick
        };
        shared.orders_changed(tick);
        let placed = next(&mut client).await.unwrap();
        let uo = &placed["oc"][0]["orc"][0]["uo"][0];
        assert_eq!(
            (
                uo["status"].as_str(),
                uo["sm"].as_f64(),
                uo["rfs"].as_str(),
                uo["rfo"].as_str()
            ),
            (Some("E"), Some(0.0), Some("s1"), Some("o-1"))
        );
        shared.apply(
            r#"{"op":"mcm","pt":2000,"mc":[{"id":"1.2","rc":[{"id":7,"atb":[[2.0,11]]}]}]}"#,
        );
        let filled = next(&mut client).await.unwrap();
        let runner = &filled["oc"][0]["orc"][0];
        assert_eq!(
            (
                runner["uo"][0]["status"].as_str(),
                runner["uo"][0]["sm"].as_f64()
            ),
            (Some("EC"), Some(2.0))
        );
        assert_eq!(runner["mb"], json!([[2.0, 2.0]]));
    }
}

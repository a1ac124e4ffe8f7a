//! The local exchange's Stream API endpoint (issue 12), first part: TLS
//! with a self-signed certificate made at start, the `connection`
//! greeting, authentication against the exchange's credentials, heartbeats,
//! and Betfair's status replies and error codes (venue-protocols.md A.1 to
//! A.4). A request before a good `authentication` gets `NO_SESSION` (and
//! the connection closes, as every error but one does). Market and order
//! subscriptions are refused with `INVALID_REQUEST`, "not served yet",
//! without closing, until the replay behind them exists.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::esa::{Connection, ErrorCode, MAX_LINE, Request, Secret, Status, to_line};

/// How long a new connection may stay silent before `TIMEOUT` (A.1).
pub const FIRST_MESSAGE: Duration = Duration::from_secs(15);

/// Connections an account may hold (Betfair's default is 10; the reply to
/// `authentication` counts the others).
const CONNECTIONS: u32 = 10;

/// What the exchange accepts as a logged-in client.
#[derive(Debug, Clone)]
pub struct Access {
    /// The application key.
    pub app_key: Secret,
    /// The session token.
    pub session: Secret,
}

impl Access {
    /// Betfair's answer to these credentials: `None` if they are good.
    fn check(&self, app_key: Option<&Secret>, session: Option<&Secret>) -> Option<ErrorCode> {
        match (app_key, session) {
            (None, _) => Some(ErrorCode::NoAppKey),
            (Some(key), _) if key != &self.app_key => Some(ErrorCode::InvalidAppKey),
            (_, None) => Some(ErrorCode::NoSession),
            (_, Some(s)) if s != &self.session => Some(ErrorCode::InvalidSessionInformation),
            _ => None,
        }
    }
}

/// A certificate and its key, DER encoded.
pub struct Identity {
    /// The certificate (give it to clients as their trust root).
    pub certificate: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl Identity {
    /// A new self-signed certificate for `names` (host names or addresses).
    pub fn self_signed(names: &[&str]) -> Result<Identity, rcgen::Error> {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let made = rcgen::generate_simple_self_signed(names)?;
        Ok(Identity {
            certificate: made.cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(made.key_pair.serialize_der()),
        })
    }

    fn acceptor(&self) -> io::Result<TlsAcceptor> {
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| {
                b.with_no_client_auth().with_single_cert(
                    vec![self.certificate.clone()],
                    PrivateKeyDer::Pkcs8(self.key.clone_key()),
                )
            })
            .map_err(io::Error::other)?;
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

/// The Stream API endpoint, bound and ready to serve.
pub struct StreamServer {
    listener: TcpListener,
    tls: TlsAcceptor,
    access: Arc<Access>,
    connections: Arc<AtomicU64>,
    first_message: Duration,
}

impl StreamServer {
    /// Listen on `addr` with `identity`, accepting `access`.
    pub async fn bind(addr: SocketAddr, identity: &Identity, access: Access) -> io::Result<Self> {
        Ok(StreamServer {
            listener: TcpListener::bind(addr).await?,
            tls: identity.acceptor()?,
            access: Arc::new(access),
            connections: Arc::new(AtomicU64::new(0)),
            first_message: FIRST_MESSAGE,
        })
    }

    /// Wait this long for a new connection's first message, not 15 s.
    pub fn first_message_within(mut self, wait: Duration) -> Self {
        self.first_message = wait;
        self
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
            let number = self.connections.fetch_add(1, Ordering::Relaxed) + 1;
            let (tls, access, wait) = (self.tls.clone(), self.access.clone(), self.first_message);
            tokio::spawn(async move {
                if let Err(e) = connection(tls, tcp, &access, number, wait).await {
                    tracing::debug!("stream connection {number} from {peer}: {e}");
                }
            });
        }
    }
}

async fn connection(
    tls: TlsAcceptor,
    tcp: TcpStream,
    access: &Access,
    n: u64,
    first_message: Duration,
) -> io::Result<()> {
    let stream = tls.accept(tcp).await?;
    let (read, mut write) = tokio::io::split(stream);
    let mut lines = BufReader::new(read);
    let connection_id = format!("local-{n:06}");
    send(&mut write, &Connection { connection_id }).await?;
    let mut authenticated = false;
    let mut first = true;
    let mut line = Vec::new();
    loop {
        let read = next_line(&mut lines, &mut line);
        let read = if first {
            match tokio::time::timeout(first_message, read).await {
                Ok(read) => read?,
                Err(_) => {
                    let why = format!("no message within {} ms", first_message.as_millis());
                    send(&mut write, &Status::failure(None, ErrorCode::Timeout, why)).await?;
                    return write.shutdown().await;
                }
            }
        } else {
            read.await?
        };
        first = false;
        if !read {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        let status = reply(
            Request::from_line(text.trim_end()),
            access,
            &mut authenticated,
        );
        send(&mut write, &status).await?;
        if status.connection_closed {
            return write.shutdown().await;
        }
    }
}

/// The status a request gets, and whether the connection is now logged in.
fn reply(request: Result<Request, Status>, access: &Access, authenticated: &mut bool) -> Status {
    let request = match request {
        Ok(request) => request,
        Err(status) => return status,
    };
    let id = request.id();
    match request {
        Request::Authentication {
            app_key, session, ..
        } => match access.check(app_key.as_ref(), session.as_ref()) {
            Some(code) => Status::failure(id, code, "authentication refused"),
            None => {
                *authenticated = true;
                Status {
                    connections_available: Some(CONNECTIONS - 1),
                    ..Status::success(id)
                }
            }
        },
        _ if !*authenticated => Status::failure(id, ErrorCode::NoSession, "authenticate first"),
        Request::Heartbeat { .. } => Status::success(id),
        Request::MarketSubscription(_) | Request::OrderSubscription(_) => {
            let mut refused = Status::failure(id, ErrorCode::InvalidRequest, "not served yet");
            // Refusing what is not built yet should not end the session.
            refused.connection_closed = false;
            refused
        }
    }
}

/// Read one line (up to `MAX_LINE` bytes and its LF) into `line`; false
/// at the end of the stream.
async fn next_line<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    line: &mut Vec<u8>,
) -> io::Result<bool> {
    line.clear();
    let limit = MAX_LINE as u64 + 2;
    let n = AsyncReadExt::take(&mut *reader, limit)
        .read_until(b'\n', line)
        .await?;
    Ok(n > 0)
}

async fn send<W: AsyncWrite + Unpin, T: serde::Serialize>(
    write: &mut W,
    message: &T,
) -> io::Result<()> {
    let line = to_line(message).map_err(io::Error::other)?;
    write.write_all(&line).await?;
    write.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_rustls::TlsConnector;
    use tokio_rustls::rustls::{ClientConfig, RootCertStore, pki_types::ServerName};

    fn access() -> Access {
        Access {
            app_key: Secret::new("key-1"),
            session: Secret::new("session-1"),
        }
    }

    /// A running exchange endpoint and a client connector that trusts it.
    async fn start(wait: Duration) -> (SocketAddr, TlsConnector) {
        let identity = Identity::self_signed(&["localhost"]).unwrap();
        let server = StreamServer::bind("127.0.0.1:0".parse().unwrap(), &identity, access())
            .await
            .unwrap()
            .first_message_within(wait);
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
        let (addr, tls) = start(FIRST_MESSAGE).await;
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
        let sub = ask(&mut client, r#"{"op":"marketSubscription","id":2}"#).await;
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
        let (addr, tls) = start(FIRST_MESSAGE).await;
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
}

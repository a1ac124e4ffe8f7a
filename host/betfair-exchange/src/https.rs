//! The exchange's HTTPS side: the identity endpoints (venue-protocols B.2:
//! `login`, `certlogin`, `keepAlive`, `logout`) at `/api/...`, and the
//! Betting API at `/exchange/betting/json-rpc/v1` ([`crate::betting`]).
//! TLS handshakes run on tasks of their own, so a client that stalls in
//! one holds up nobody.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Form, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::sessions::Sessions;
use crate::tls::Identity;

/// How long a client may take over its TLS handshake.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// The routes of the identity endpoints.
pub fn identity_routes(sessions: Arc<Sessions>) -> Router {
    Router::new()
        .route("/api/login", post(login))
        .route("/api/certlogin", post(cert_login))
        .route("/api/keepAlive", post(keep_alive))
        .route("/api/logout", post(logout))
        .with_state(sessions)
}

/// Serve `routes` over TLS with `identity` on `addr`; returns where it
/// listens, and runs until the runtime stops.
pub async fn serve(
    addr: SocketAddr,
    identity: &Identity,
    routes: Router,
) -> io::Result<SocketAddr> {
    let listener = TlsListener::bind(addr, identity.acceptor()?).await?;
    let local = listener.addr;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, routes).await {
            tracing::error!("https endpoint stopped: {e}");
        }
    });
    Ok(local)
}

/// Accepts TCP connections and hands on those whose handshake completed.
struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    addr: SocketAddr,
}

impl TlsListener {
    async fn bind(addr: SocketAddr, tls: TlsAcceptor) -> io::Result<TlsListener> {
        let tcp = TcpListener::bind(addr).await?;
        let addr = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let (stream, peer) = match tcp.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        tracing::warn!("https endpoint: accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                // A reply in more than one segment would otherwise wait
                // for the client's acknowledgement of the first (Nagle).
                if let Err(e) = stream.set_nodelay(true) {
                    tracing::debug!("https endpoint: nodelay for {peer}: {e}");
                }
                let (tls, tx) = (tls.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE, tls.accept(stream)).await {
                        Ok(Ok(stream)) => drop(tx.send((stream, peer)).await),
                        Ok(Err(e)) => tracing::debug!("https handshake from {peer}: {e}"),
                        Err(_) => tracing::debug!("https handshake from {peer} timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { ready, addr })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(ready) => ready,
            // The accepting task only ends with the runtime.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.addr)
    }
}

/// A header's value, if present and text.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

type Fields = Form<HashMap<String, String>>;

/// The username and password of a login form, if both are there.
fn credentials(form: &HashMap<String, String>) -> Option<(&str, &str)> {
    Some((form.get("username")?, form.get("password")?))
}

/// Interactive login: `{token, product, status, error}`.
async fn login(State(sessions): State<Arc<Sessions>>, Form(form): Fields) -> Json<Value> {
    let product = sessions.app_key().expose();
    let Some((username, password)) = credentials(&form) else {
        return Json(
            json!({"token":"","product":product,"status":"FAIL","error":"INPUT_VALIDATION_ERROR"}),
        );
    };
    Json(match sessions.login(username, password) {
        Some(token) => {
            json!({"token":token.expose(),"product":product,"status":"SUCCESS","error":""})
        }
        None => {
            json!({"token":"","product":product,"status":"FAIL","error":"INVALID_USERNAME_OR_PASSWORD"})
        }
    })
}

/// Certificate ("bot") login: `{sessionToken, loginStatus}`. The client
/// certificate is not checked: nothing here could vouch for one.
async fn cert_login(State(sessions): State<Arc<Sessions>>, Form(form): Fields) -> Json<Value> {
    let Some((username, password)) = credentials(&form) else {
        return Json(json!({"loginStatus":"INPUT_VALIDATION_ERROR"}));
    };
    Json(match sessions.login(username, password) {
        Some(token) => json!({"sessionToken":token.expose(),"loginStatus":"SUCCESS"}),
        None => json!({"loginStatus":"INVALID_USERNAME_OR_PASSWORD"}),
    })
}

/// The reply of keep-alive and logout: the token back, or `NO_SESSION`.
fn session_reply(sessions: &Sessions, token: Option<&str>, ok: bool) -> Json<Value> {
    let product = sessions.app_key().expose();
    let token = token.unwrap_or_default();
    Json(if ok {
        json!({"token":token,"product":product,"status":"SUCCESS","error":""})
    } else {
        json!({"token":token,"product":product,"status":"FAIL","error":"NO_SESSION"})
    })
}

async fn keep_alive(State(sessions): State<Arc<Sessions>>, headers: HeaderMap) -> Json<Value> {
    let token = header(&headers, "X-Authentication");
    let ok = token.is_some_and(|t| sessions.keep_alive(t));
    session_reply(&sessions, token, ok)
}

async fn logout(State(sessions): State<Arc<Sessions>>, headers: HeaderMap) -> Json<Value> {
    let token = header(&headers, "X-Authentication");
    let ok = token.is_some_and(|t| sessions.logout(t));
    session_reply(&sessions, token, ok)
}

//! The WebSocket at `/ws` (protocol notes D.3, D.4): subscriptions with
//! an acknowledgement, the current book at once on `l2Book` and a
//! snapshot first on `userFills`, then updates as the exchange changes;
//! `ping` gets `pong`; `post` carries info requests and signed actions;
//! a connection sent nothing for the idle time (60 s) is closed.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::extract::ws::{Message as Frame, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use clever_hyperliquid::Address;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use crate::server::{Shared, act};
use crate::venue::Event;

/// What a connection listens to.
#[derive(Debug, Clone, PartialEq)]
enum Sub {
    Book(String),
    Trades(String),
    Candle(String, String),
    Mids,
    Orders(Address),
    Fills(Address),
    UserEvents(Address),
}

fn parse(sub: &Value) -> Result<Sub, String> {
    let field = |name: &str| {
        sub[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("{name:?} is missing"))
    };
    let user = || -> Result<Address, String> {
        field("user")?
            .to_lowercase()
            .parse()
            .map_err(|e| format!("user: {e}"))
    };
    match sub["type"].as_str().unwrap_or("") {
        "l2Book" => Ok(Sub::Book(field("coin")?)),
        "trades" => Ok(Sub::Trades(field("coin")?)),
        "candle" => Ok(Sub::Candle(field("coin")?, field("interval")?)),
        "allMids" => Ok(Sub::Mids),
        "orderUpdates" => Ok(Sub::Orders(user()?)),
        "userFills" => Ok(Sub::Fills(user()?)),
        "userEvents" => Ok(Sub::UserEvents(user()?)),
        other => Err(format!("Invalid subscription type {other:?}")),
    }
}

pub(crate) async fn upgrade(State(shared): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| connection(shared, socket))
}

struct Connection {
    shared: Arc<Shared>,
    socket: WebSocket,
    subs: Vec<Sub>,
    last_sent: Instant,
}

impl Connection {
    async fn send(&mut self, value: Value) -> bool {
        self.last_sent = Instant::now();
        self.socket
            .send(Frame::Text(value.to_string().into()))
            .await
            .is_ok()
    }

    /// Answer one frame from the client; false ends the connection.
    async fn on_frame(&mut self, text: &str) -> bool {
        let Ok(request) = serde_json::from_str::<Value>(text) else {
            return self
                .send(json!({"channel": "error", "data": format!("Invalid JSON: {text}")}))
                .await;
        };
        match request["method"].as_str().unwrap_or("") {
            "ping" => self.send(json!({"channel": "pong"})).await,
            "subscribe" => self.subscribe(&request["subscription"]).await,
            "unsubscribe" => {
                let gone = parse(&request["subscription"]);
                self.subs.retain(|s| Some(s) != gone.as_ref().ok());
                let ack = json!({"method": "unsubscribe", "subscription": request["subscription"]});
                self.send(json!({"channel": "subscriptionResponse", "data": ack}))
                    .await
            }
            "post" => {
                let reply = self.post(&request["request"]);
                self.send(
                    json!({"channel": "post", "data": {"id": request["id"], "response": reply}}),
                )
                .await
            }
            other => {
                self.send(json!({"channel": "error", "data": format!("Unknown method {other:?}")}))
                    .await
            }
        }
    }

    async fn subscribe(&mut self, subscription: &Value) -> bool {
        let sub = match parse(subscription) {
            Ok(sub) => sub,
            Err(e) => return self.send(json!({"channel": "error", "data": e})).await,
        };
        let ack = json!({"method": "subscribe", "subscription": subscription});
        if !self
            .send(json!({"channel": "subscriptionResponse", "data": ack}))
            .await
        {
            return false;
        }
        let first = match &sub {
            Sub::Book(coin) => self
                .shared
                .venue()
                .book_json(coin)
                .map(|d| json!({"channel": "l2Book", "data": d})),
            Sub::Fills(user) => {
                let fills = self
                    .shared
                    .venue()
                    .info(&json!({"type": "userFills", "user": user.to_string()}));
                let fills = fills.unwrap_or_else(|_| json!([]));
                Some(
                    json!({"channel": "userFills", "data": {"isSnapshot": true, "user": user.to_string(), "fills": fills}}),
                )
            }
            _ => None,
        };
        self.subs.push(sub);
        self.shared.subscribed();
        match first {
            Some(message) => self.send(message).await,
            None => true,
        }
    }

    fn post(&self, request: &Value) -> Value {
        let payload = request["payload"].clone();
        let (kind, reply) = match request["type"].as_str() {
            Some("info") => ("info", self.shared.venue().info(&payload)),
            Some("action") => ("action", act(&self.shared, payload)),
            _ => (
                "error",
                Err("a post request's type is info or action".to_string()),
            ),
        };
        match reply {
            Ok(payload) => json!({"type": kind, "payload": payload}),
            Err(e) => json!({"type": "error", "payload": e}),
        }
    }

    /// The frames an exchange event makes for this connection.
    fn frames(&self, event: &Event) -> Vec<Value> {
        let has = |sub: Sub| self.subs.contains(&sub);
        let mut out = Vec::new();
        match event {
            Event::Book(coin, data) => {
                if has(Sub::Book(coin.clone())) {
                    out.push(json!({"channel": "l2Book", "data": data}));
                }
                if has(Sub::Mids) {
                    let mids = self
                        .shared
                        .venue()
                        .info(&json!({"type": "allMids"}))
                        .unwrap_or_default();
                    out.push(json!({"channel": "allMids", "data": {"mids": mids}}));
                }
            }
            Event::Trades(coin, data) if has(Sub::Trades(coin.clone())) => {
                out.push(json!({"channel": "trades", "data": data}));
            }
            Event::Candle(coin, interval, data)
                if has(Sub::Candle(coin.clone(), interval.clone())) =>
            {
                out.push(json!({"channel": "candle", "data": data}));
            }
            Event::Orders(user, data) if has(Sub::Orders(*user)) => {
                out.push(json!({"channel": "orderUpdates", "data": data}));
            }
            Event::Fills(user, fills) => {
                if has(Sub::Fills(*user)) {
                    out.push(json!({"channel": "userFills", "data": {"user": user.to_string(), "fills": fills}}));
                }
                if has(Sub::UserEvents(*user)) {
                    out.push(json!({"channel": "user", "data": {"fills": fills}}));
                }
            }
            Event::Funding(user, funding) if has(Sub::UserEvents(*user)) => {
                out.push(json!({"channel": "user", "data": {"funding": funding}}));
            }
            _ => {}
        }
        out
    }
}

async fn connection(shared: Arc<Shared>, socket: WebSocket) {
    let mut events = shared.venue().events();
    let idle = shared.idle;
    let mut conn = Connection {
        shared,
        socket,
        subs: Vec::new(),
        last_sent: Instant::now(),
    };
    // The venue greets in plain text, not JSON; clients must skip it.
    let greeting = Frame::Text("Websocket connection established.".into());
    if conn.socket.send(greeting).await.is_err() {
        return;
    }
    loop {
        let deadline = tokio::time::Instant::from_std(conn.last_sent + idle);
        let alive = tokio::select! {
            frame = conn.socket.recv() => match frame {
                Some(Ok(Frame::Text(text))) => conn.on_frame(text.as_str()).await,
                Some(Ok(Frame::Close(_))) | None | Some(Err(_)) => false,
                Some(Ok(_)) => true,
            },
            event = events.recv() => match event {
                Ok(event) => {
                    let mut ok = true;
                    for frame in conn.frames(&event) {
                        ok = ok && conn.send(frame).await;
                    }
                    ok
                }
                // Too slow to keep up: close, and the client resubscribes
                // and starts again from snapshots.
                Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => false,
            },
            () = tokio::time::sleep_until(deadline) => false,
        };
        if !alive {
            let _ = conn.socket.send(Frame::Close(None)).await;
            return;
        }
    }
}

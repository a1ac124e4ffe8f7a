//! The venue's side of the wire, off the engine's thread: a task sends
//! each signed request and hands the answer back; another follows the
//! account's fills, order updates and funding on the WebSocket
//! (reconnecting and resubscribing; the snapshot a subscription starts
//! with is history, skipped). The engine polls the answers
//! ([`HyperliquidVenue`](crate::HyperliquidVenue) does, in `poll`).

use std::sync::Arc;
use std::sync::mpsc;

use clever_hyperliquid::feed::{FeedEvent, follow};
use clever_hyperliquid::{Action, Cloid};
use clever_sdk::OrderId;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tokio::sync::{mpsc as async_mpsc, watch};

use crate::client::{ExchangeClient, ORDER_GOOD_FOR};

/// What the venue asks of the exchange.
#[derive(Debug)]
pub enum Request {
    /// Place one order (an `order` action of one).
    Place {
        /// The host's order id.
        id: OrderId,
        /// The action.
        action: Action,
    },
    /// Cancel an order (by its cloid: the venue's id may not be known yet).
    Cancel {
        /// The host's order id.
        id: OrderId,
        /// The action.
        action: Action,
    },
}

/// What came back.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// The venue's status of a placed order: `{"resting":…}`,
    /// `{"filled":…}` or `{"error":…}`.
    Placed {
        /// The host's order id.
        id: OrderId,
        /// The status object.
        status: Value,
    },
    /// The venue answered that the request failed as a whole (signature,
    /// nonce, margin): nothing was placed.
    Failed {
        /// The host's order id.
        id: OrderId,
        /// Why.
        why: String,
    },
    /// No answer that says (the network, a timeout, a page that is not
    /// the venue's): the order may be resting, or may never have arrived.
    Unanswered {
        /// The host's order id.
        id: OrderId,
        /// Why.
        why: String,
    },
    /// A cancel's answer: `success` or an error.
    Cancelled {
        /// The host's order id.
        id: OrderId,
        /// None if it went through, else why not.
        error: Option<String>,
    },
    /// A fill of the account.
    Fill {
        /// The venue's order id.
        oid: u64,
        /// The order's client id, if the venue says it.
        cloid: Option<Cloid>,
        /// The coin.
        coin: String,
        /// Bought (true) or sold.
        buy: bool,
        /// Price.
        px: Decimal,
        /// Size.
        sz: Decimal,
        /// Fee paid.
        fee: Decimal,
        /// When (ms).
        time: i64,
        /// The venue's trade id, which no other fill of the account has.
        tid: Option<u64>,
        /// From the snapshot a subscription starts with: the account's
        /// past, of which only missed fills of our orders count.
        history: bool,
    },
    /// An order's status changed at the venue (`open`, `canceled`,
    /// `rejected`, ...).
    Update {
        /// The venue's order id.
        oid: u64,
        /// The order's client id, if the venue says it.
        cloid: Option<Cloid>,
        /// The new status.
        status: String,
    },
    /// Funding received (positive) or paid (negative), USDC.
    Funding {
        /// The coin.
        coin: String,
        /// The amount.
        usdc: Decimal,
    },
}

/// The two channels between the engine's thread and the tasks.
#[derive(Debug)]
pub struct Link {
    /// Requests to send.
    pub requests: async_mpsc::UnboundedSender<Request>,
    /// Answers and account events, in the order they came.
    pub replies: mpsc::Receiver<Reply>,
}

impl Link {
    /// Start the tasks on the current tokio runtime; they end when `stop`
    /// turns true (or the venue is dropped).
    pub fn start(client: Arc<ExchangeClient>, stop: watch::Receiver<bool>) -> Link {
        let (requests, mut incoming) = async_mpsc::unbounded_channel::<Request>();
        let (tx, replies) = mpsc::channel();
        let sender = client.clone();
        let answers = tx.clone();
        tokio::spawn(async move {
            while let Some(request) = incoming.recv().await {
                let reply = send(&sender, request).await;
                if answers.send(reply).is_err() {
                    return;
                }
            }
        });
        let user = client.address().to_string();
        let subscriptions = [
            json!({"type": "userFills", "user": user}),
            json!({"type": "orderUpdates", "user": user}),
            json!({"type": "userEvents", "user": user}),
        ];
        let url = client.ws_url();
        tokio::spawn(async move {
            follow(&url, &subscriptions, stop, |event| {
                if let FeedEvent::Data { channel, value, .. } = event {
                    for reply in account_events(channel, &value["data"]) {
                        let _ = tx.send(reply);
                    }
                }
            })
            .await;
        });
        Link { requests, replies }
    }
}

async fn send(client: &ExchangeClient, request: Request) -> Reply {
    match request {
        Request::Place { id, action } => match client.signed(&action, Some(ORDER_GOOD_FOR)) {
            // Not signed, so not sent: nothing can rest.
            Err(why) => Reply::Failed { id, why },
            Ok(body) => placed(id, client.send_signed(&body).await),
        },
        Request::Cancel { id, action } => {
            let error = match client.act(&action).await {
                Ok(answer) if answer["status"] == "ok" => {
                    let status = &answer["response"]["data"]["statuses"][0];
                    (status != "success").then(|| text(&status["error"]))
                }
                Ok(answer) => Some(text(&answer["response"])),
                Err(why) => Some(why),
            };
            Reply::Cancelled { id, error }
        }
    }
}

/// What a sent placement's answer says.
fn placed(id: OrderId, answer: Result<Value, String>) -> Reply {
    match answer {
        Ok(answer) if answer["status"] == "ok" => {
            let status = answer["response"]["data"]["statuses"][0].clone();
            Reply::Placed { id, status }
        }
        Ok(answer) => Reply::Failed {
            id,
            why: text(&answer["response"]),
        },
        Err(why) => Reply::Unanswered { id, why },
    }
}

fn text(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

fn decimal(value: &Value) -> Option<Decimal> {
    value.as_str()?.parse().ok()
}

/// The account's fills, order updates and funding in a WebSocket message.
fn account_events(channel: &str, data: &Value) -> Vec<Reply> {
    let fills = |list: &Value, history: bool| -> Vec<Reply> {
        (list.as_array().into_iter().flatten())
            .filter_map(|f| {
                Some(Reply::Fill {
                    oid: f["oid"].as_u64()?,
                    cloid: serde_json::from_value(f["cloid"].clone()).ok(),
                    coin: f["coin"].as_str()?.to_owned(),
                    buy: f["side"] == "B",
                    px: decimal(&f["px"])?,
                    sz: decimal(&f["sz"])?,
                    fee: decimal(&f["fee"]).unwrap_or_default(),
                    // Undated, it is dated as it comes.
                    time: f["time"]
                        .as_i64()
                        .unwrap_or_else(|| clever_engine::wall_now().0),
                    tid: f["tid"].as_u64(),
                    history,
                })
            })
            .collect()
    };
    match channel {
        // The snapshot a subscription starts with is what happened before,
        // which may hold fills of ours made while the feed was connecting.
        "userFills" => fills(&data["fills"], data["isSnapshot"] == true),
        "orderUpdates" => (data.as_array().into_iter().flatten())
            .filter_map(|u| {
                let oid = u["order"]["oid"].as_u64()?;
                Some(Reply::Update {
                    oid,
                    cloid: serde_json::from_value(u["order"]["cloid"].clone()).ok(),
                    status: u["status"].as_str()?.to_owned(),
                })
            })
            .collect(),
        "user" => match (
            data["funding"]["coin"].as_str(),
            decimal(&data["funding"]["usdc"]),
        ) {
            (Some(coin), Some(usdc)) => vec![Reply::Funding {
                coin: coin.to_owned(),
                usdc,
            }],
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

//! After a restart: what the account holds at the venue. Orders an
//! earlier session of this host left resting (their cloids say so) are
//! cancelled, since no strategy owns them now; positions are taken over,
//! so a strategy sees what the venue holds, not a flat book.

use clever_hyperliquid::actions::CancelByCloidWire;
use clever_hyperliquid::{Action, Cloid, Universe};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::client::ExchangeClient;

/// What a restart found.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Found {
    /// Positions held: coin, signed size, entry price.
    pub positions: Vec<(String, Decimal, Decimal)>,
    /// Orders of earlier sessions cancelled.
    pub cancelled: usize,
    /// Open orders without a cloid, left alone (not this host's).
    pub strangers: usize,
}

/// Read the account's positions and open orders; cancel the resting
/// orders with a cloid of another start (high 64 bits other than
/// `session`, this start's mark).
pub async fn reconcile(
    client: &ExchangeClient,
    universe: &Universe,
    session: u64,
) -> Result<Found, String> {
    let user = client.address().to_string();
    let state = client
        .info(&json!({"type": "clearinghouseState", "user": user}))
        .await?;
    let mut found = Found::default();
    for p in state["assetPositions"].as_array().into_iter().flatten() {
        let p = &p["position"];
        let number = |v: &Value| v.as_str().and_then(|s| s.parse::<Decimal>().ok());
        if let (Some(coin), Some(size), Some(entry)) =
            (p["coin"].as_str(), number(&p["szi"]), number(&p["entryPx"]))
        {
            found.positions.push((coin.to_owned(), size, entry));
        }
    }
    let open = client
        .info(&json!({"type": "frontendOpenOrders", "user": user}))
        .await?;
    let mut cancels = Vec::new();
    for order in open.as_array().into_iter().flatten() {
        let cloid =
            (order["cloid"].as_str()).and_then(|c| serde_json::from_value::<Cloid>(json!(c)).ok());
        let asset = order["coin"].as_str().and_then(|c| universe.index(c));
        match (cloid, asset) {
            (Some(cloid), Some(asset)) if (cloid.0 >> 64) as u64 != session => {
                cancels.push(CancelByCloidWire { asset, cloid });
            }
            (Some(_), _) => {}
            (None, _) => found.strangers += 1,
        }
    }
    if !cancels.is_empty() {
        found.cancelled = cancels.len();
        let answer = client.act(&Action::CancelByCloid { cancels }).await?;
        if answer["status"] != "ok" {
            return Err(format!(
                "cancelling an earlier session's orders: {}",
                answer["response"]
            ));
        }
    }
    Ok(found)
}

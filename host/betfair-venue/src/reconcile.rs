//! Reconciliation and settlement: bringing the journal into line with
//! what the exchange has, from `listCurrentOrders` (every order not yet
//! settled, matched ones included, which the order stream's image omits)
//! and `listClearedOrders` (settled ones).
//!
//! [`reconcile`] runs when the order stream (re)subscribes, with new
//! orders held: each current order of the host's strategy reference is
//! brought up to date, or adopted if the journal never wrote it; then
//! every journalled order the exchange does not list as current is
//! [`resolve`]d. [`resolve`] alone runs every few seconds: it settles
//! what the exchange has cleared (retried until it has), and ends pending
//! orders the exchange never received.

use std::collections::{HashMap, HashSet};

use std::time::Duration;

use clever_betfair::client::betting::BettingError;
use clever_market::Money;
use clever_store::{JournalOrder, JournalStatus, Reported};
use serde_json::{Value, json};

use crate::journal::wall_ms;
use crate::news::current_bet;
use crate::trading::Shared;

/// Most references asked of the exchange in one call.
const CHUNK: usize = 100;

/// What one reconciliation found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reconciled {
    /// Orders the exchange lists as current.
    pub current: usize,
    /// Journalled orders brought up to date.
    pub updated: usize,
    /// Orders of the strategy reference the journal never wrote, adopted.
    pub adopted: usize,
    /// Orders settled.
    pub settled: usize,
    /// Pending orders the exchange never received, marked failed.
    pub failed: usize,
}

/// Match the exchange's current and cleared orders against the journal
/// (see the module's doc). An error says why trading cannot go on.
pub(crate) async fn reconcile(shared: &Shared) -> Result<Reconciled, String> {
    let mut found = Reconciled::default();
    let current = list_current(shared, None).await?;
    let mut seen = HashSet::new();
    for row in &current {
        let Some(bet) = current_bet(row) else {
            continue;
        };
        found.current += 1;
        seen.insert(bet.customer_ref.clone());
        match shared.report(&bet).await {
            Some(Reported::Adopted) => found.adopted += 1,
            Some(Reported::Updated(true)) => found.updated += 1,
            Some(_) => {}
            None => return Err("the order journal could not be written".into()),
        }
    }
    let unsettled = shared.journal.unsettled().await?;
    let missing = unsettled
        .into_iter()
        .filter(|o| !seen.contains(&o.customer_ref));
    let resolved = resolve(shared, missing.collect(), true).await?;
    found.settled = resolved.settled;
    found.failed = resolved.failed;
    Ok(found)
}

/// Settle or end `orders` (journalled, unsettled, not listed as current
/// by the caller, or not looked for): each the exchange has cleared is
/// settled; each still pending after the grace period and neither cleared
/// nor current was never received, and is marked failed. With `strict`,
/// an order with a bet that the exchange lists nowhere is an error.
pub(crate) async fn resolve(
    shared: &Shared,
    orders: Vec<JournalOrder>,
    strict: bool,
) -> Result<Reconciled, String> {
    let mut done = Reconciled::default();
    let orders: Vec<JournalOrder> = (orders.into_iter())
        .filter(|o| !shared.in_flight(&o.customer_ref))
        .collect();
    if orders.is_empty() {
        return Ok(done);
    }
    let refs: Vec<String> = orders.iter().map(|o| o.customer_ref.clone()).collect();
    let cleared = list_cleared(shared, &refs).await?;
    let mut overdue = Vec::new();
    for o in orders {
        let settled = cleared.get(&o.customer_ref).filter(|c| c.covers(&o));
        if let Some(c) = settled {
            shared
                .journal
                .settled(&o.customer_ref, c.profit, c.at)
                .await;
            shared.not_pending(&o.customer_ref);
            done.settled += 1;
        } else if cleared.contains_key(&o.customer_ref) {
            // Cleared, but its matched stake not yet among the settled
            // bets: asked again next time.
        } else if o.status == JournalStatus::Pending
            && shared.pending_for(&o.customer_ref) >= shared.pending_grace
        {
            overdue.push(o.customer_ref);
        } else if strict && o.status != JournalStatus::Pending {
            return Err(format!(
                "order {} (bet {}) is in the journal as {:?} but the exchange lists it \
                 neither as current nor as cleared",
                o.customer_ref,
                o.bet_id.as_deref().unwrap_or("?"),
                o.status
            ));
        }
    }
    if overdue.is_empty() {
        return Ok(done);
    }
    // A pending order may yet be on the book (its answer was lost): only
    // one the exchange does not list as current was never received.
    let current = list_current(shared, Some(&overdue)).await?;
    let mut seen = HashSet::new();
    for bet in current.iter().filter_map(current_bet) {
        seen.insert(bet.customer_ref.clone());
        if shared.report(&bet).await.is_none() {
            return Err("the order journal could not be written".into());
        }
    }
    for customer_ref in overdue.into_iter().filter(|r| !seen.contains(r)) {
        let why = "never received by the exchange";
        (shared.journal)
            .ended(&customer_ref, JournalStatus::Failed, why)
            .await;
        shared.never_received(&customer_ref);
        shared.not_pending(&customer_ref);
        done.failed += 1;
    }
    Ok(done)
}

/// The exchange's current orders of the host's strategy reference (of
/// `refs` only, if given), every page.
async fn list_current(shared: &Shared, refs: Option<&[String]>) -> Result<Vec<Value>, String> {
    let mut all = Vec::new();
    let chunks: Vec<Option<&[String]>> = match refs {
        Some(refs) => refs.chunks(CHUNK).map(Some).collect(),
        None => vec![None],
    };
    for chunk in chunks {
        let mut query = json!({"customerStrategyRefs": [shared.strategy_ref],
            "orderProjection": "ALL", "recordCount": 1000});
        if let Some(refs) = chunk {
            query["customerOrderRefs"] = json!(refs);
        }
        all.extend(pages(shared, "listCurrentOrders", query, "currentOrders").await?);
    }
    Ok(all)
}

/// What the cleared orders say of one order.
#[derive(Debug, Default)]
struct Cleared {
    /// Profit, summed over its settled parts (zero if nothing matched).
    profit: Money,
    /// When it was settled.
    at: i64,
    /// Listed as settled (its matched stake) or voided.
    matched_part: bool,
}

impl Cleared {
    /// Whether this is the whole of `order`'s settlement: an order with
    /// stake matched must be among the settled (or voided) bets, not only
    /// the lapsed or cancelled ones.
    fn covers(&self, order: &JournalOrder) -> bool {
        self.matched_part || !order.matched.is_positive()
    }
}

/// What the exchange's cleared orders say of each of `refs` that it has
/// settled. Settled bets are asked for last: a market settled between two
/// calls then shows its bets there, with their profit, whatever the calls
/// before saw.
async fn list_cleared(
    shared: &Shared,
    refs: &[String],
) -> Result<HashMap<String, Cleared>, String> {
    let mut settled: HashMap<String, Cleared> = HashMap::new();
    for chunk in refs.chunks(CHUNK) {
        for status in ["LAPSED", "CANCELLED", "VOIDED", "SETTLED"] {
            let query = json!({"betStatus": status, "customerStrategyRefs": [shared.strategy_ref],
                "customerOrderRefs": chunk, "recordCount": 1000});
            for row in pages(shared, "listClearedOrders", query, "clearedOrders").await? {
                let Some(customer_ref) = row["customerOrderRef"].as_str() else {
                    continue;
                };
                let at = (row["settledDate"].as_str())
                    .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
                    .map_or_else(wall_ms, |d| d.timestamp_millis());
                let profit = Money::from_f64(row["profit"].as_f64().unwrap_or(0.0));
                let entry = settled.entry(customer_ref.to_owned()).or_default();
                entry.profit += profit;
                entry.at = entry.at.max(at);
                entry.matched_part |= matches!(status, "SETTLED" | "VOIDED");
            }
        }
    }
    Ok(settled)
}

/// Every page of a listing call.
async fn pages(
    shared: &Shared,
    method: &str,
    mut query: Value,
    key: &str,
) -> Result<Vec<Value>, String> {
    let mut all = Vec::new();
    loop {
        query["fromRecord"] = json!(all.len());
        let page = call(shared, method, &query).await?;
        let rows = page[key].as_array().cloned().unwrap_or_default();
        let more = page["moreAvailable"].as_bool().unwrap_or(false) && !rows.is_empty();
        all.extend(rows);
        if !more {
            return Ok(all);
        }
    }
}

/// A listing call, tried again (up to four times, waiting longer each
/// time) while the failure is one that passes: no answer, a timeout, too
/// many requests, a busy service.
async fn call(shared: &Shared, method: &str, query: &Value) -> Result<Value, String> {
    let mut wait = Duration::from_millis(250);
    for _ in 0..4 {
        match shared.client.call(method, query.clone()).await {
            Ok(page) => return Ok(page),
            Err(e) if passing(&e) => {
                tracing::warn!("{method}: {e}; trying again in {wait:?}");
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            Err(e) => return Err(format!("{method}: {e}")),
        }
    }
    (shared.client.call(method, query.clone()).await).map_err(|e| format!("{method}: {e}"))
}

fn passing(e: &BettingError) -> bool {
    match e {
        BettingError::Transport { .. } => true,
        BettingError::Refused { code, .. } => {
            ["TIMEOUT_ERROR", "TOO_MANY_REQUESTS", "SERVICE_BUSY"].contains(&code.as_str())
        }
        _ => false,
    }
}

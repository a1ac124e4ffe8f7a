//! What reaches a venue from the Betting API and the order stream, and the
//! order reference that routes it there.

use clever_market::Money;
use clever_sdk::{OrderId, Persistence, Side};
use clever_store::BetReport;
use serde::Deserialize;

/// The `customerOrderRef` of one order: `{run}-{desk}-{order}`, unique per
/// host run (Betfair allows 32 characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderRef {
    /// The venue (one per strategy) that placed it.
    pub desk: u32,
    /// The desk's id for it.
    pub order: OrderId,
}

impl OrderRef {
    /// The reference as sent, for the host run `run`.
    pub fn text(self, run: &str) -> String {
        format!("{run}-{}-{}", self.desk, self.order.0)
    }

    /// Read a reference sent by the host run `run`; `None` for any other.
    pub fn parse(run: &str, text: &str) -> Option<OrderRef> {
        let rest = text.strip_prefix(run)?.strip_prefix('-')?;
        let (desk, order) = rest.split_once('-')?;
        Some(OrderRef {
            desk: desk.parse().ok()?,
            order: OrderId(order.parse().ok()?),
        })
    }
}

/// What one venue is told.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum News {
    /// The exchange took the order as this bet.
    Placed { id: OrderId, bet_id: String },
    /// The exchange refused it (Betfair's error code): nothing was placed.
    Refused { id: OrderId, code: String },
    /// No answer, or one that does not say: it may or may not be on the
    /// book. The order stays pending until the order stream tells.
    Unknown { id: OrderId, why: String },
    /// A cancel was not done (or not answered): it may be asked again.
    CancelFailed { id: OrderId, why: String },
    /// The order as the order stream reports it now.
    Reported(Reported),
}

/// One order in an order stream message (A.10); sizes are cumulative.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reported {
    pub id: OrderId,
    pub bet_id: String,
    pub matched: f64,
    pub average_price: Option<f64>,
    pub cancelled: f64,
    pub lapsed: f64,
    /// Nothing left to match (`EC`).
    pub complete: bool,
}

#[derive(Deserialize)]
struct Ocm {
    op: String,
    #[serde(default)]
    oc: Vec<MarketOrders>,
}

#[derive(Deserialize)]
struct MarketOrders {
    id: String,
    #[serde(default)]
    orc: Vec<RunnerOrders>,
}

#[derive(Deserialize)]
struct RunnerOrders {
    id: u64,
    #[serde(default)]
    uo: Vec<serde_json::Value>,
}

/// One unmatched order of an order stream line (A.10).
#[derive(Deserialize)]
struct Uo {
    id: String,
    status: String,
    #[serde(default)]
    p: f64,
    #[serde(default)]
    s: f64,
    #[serde(default)]
    side: String,
    #[serde(default)]
    pt: String,
    #[serde(default)]
    pd: i64,
    #[serde(default)]
    sm: f64,
    avp: Option<f64>,
    #[serde(default)]
    sc: f64,
    #[serde(default)]
    sl: f64,
    #[serde(default)]
    sv: f64,
    rfo: Option<String>,
}

/// Every order in one order stream line that carries a `customerOrderRef`
/// (the stream follows the host's strategy reference only); other lines
/// give nothing.
pub(crate) fn read_bets(line: &str) -> Result<Vec<BetReport>, String> {
    let ocm: Ocm = serde_json::from_str(line).map_err(|e| format!("an order line: {e}"))?;
    if ocm.op != "ocm" {
        return Ok(Vec::new());
    }
    let mut bets = Vec::new();
    for market in ocm.oc {
        for runner in market.orc {
            for uo in runner.uo {
                // Each order on its own: one that does not read is
                // skipped, not the others' news in the same line.
                let uo: Uo = match serde_json::from_value(uo) {
                    Ok(uo) => uo,
                    Err(e) => {
                        tracing::warn!("order stream: skipped an order that does not read: {e}");
                        continue;
                    }
                };
                let Some(customer_ref) = uo.rfo else { continue };
                bets.push(BetReport {
                    customer_ref,
                    bet_id: uo.id,
                    market_id: market.id.clone(),
                    selection_id: runner.id,
                    side: if uo.side == "L" {
                        Side::Lay
                    } else {
                        Side::Back
                    },
                    price: uo.p,
                    size: Money::from_f64(uo.s),
                    persistence: match uo.pt.as_str() {
                        "P" => Persistence::Persist,
                        "MOC" => Persistence::MarketOnClose,
                        _ => Persistence::Lapse,
                    },
                    placed_at: uo.pd,
                    matched: Money::from_f64(uo.sm),
                    average_price: uo.avp,
                    cancelled: Money::from_f64(uo.sc),
                    lapsed: Money::from_f64(uo.sl),
                    voided: Money::from_f64(uo.sv),
                    complete: uo.status == "EC",
                });
            }
        }
    }
    Ok(bets)
}

/// One order of `listCurrentOrders` (B.5), if it carries a reference.
pub(crate) fn current_bet(row: &serde_json::Value) -> Option<BetReport> {
    let money = |key: &str| Money::from_f64(row[key].as_f64().unwrap_or(0.0));
    let placed_at = (row["placedDate"].as_str())
        .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
        .map_or(0, |d| d.timestamp_millis());
    Some(BetReport {
        customer_ref: row["customerOrderRef"].as_str()?.to_owned(),
        bet_id: row["betId"].as_str()?.to_owned(),
        market_id: row["marketId"].as_str()?.to_owned(),
        selection_id: row["selectionId"].as_u64()?,
        side: if row["side"] == "LAY" {
            Side::Lay
        } else {
            Side::Back
        },
        price: row["priceSize"]["price"].as_f64().unwrap_or(0.0),
        size: Money::from_f64(row["priceSize"]["size"].as_f64().unwrap_or(0.0)),
        persistence: match row["persistenceType"].as_str() {
            Some("PERSIST") => Persistence::Persist,
            Some("MARKET_ON_CLOSE") => Persistence::MarketOnClose,
            _ => Persistence::Lapse,
        },
        placed_at,
        matched: money("sizeMatched"),
        average_price: row["averagePriceMatched"].as_f64().filter(|p| *p > 0.0),
        cancelled: money("sizeCancelled"),
        lapsed: money("sizeLapsed"),
        voided: money("sizeVoided"),
        complete: row["status"] == "EXECUTION_COMPLETE",
    })
}

/// Where a bet of host run `run` goes, as the venue's news: its desk and
/// its figures. `None` for another run's bets.
pub(crate) fn route(run: &str, bet: &BetReport) -> Option<(u32, Reported)> {
    let to = OrderRef::parse(run, &bet.customer_ref)?;
    Some((
        to.desk,
        Reported {
            id: to.order,
            bet_id: bet.bet_id.clone(),
            matched: bet.matched.to_f64(),
            average_price: bet.average_price,
            cancelled: bet.cancelled.to_f64(),
            lapsed: bet.lapsed.to_f64(),
            complete: bet.complete,
        },
    ))
}

/// Betfair's codes that say a request, or an instruction, was refused
/// before anything was done (B.3, B.7). Any other failure may have left a
/// bet on the book (`ERROR_IN_MATCHER`, `BET_IN_PROGRESS`,
/// `TIMEOUT_ERROR`, `SERVICE_BUSY`, ...): the order then stays pending
/// until the order stream or the current orders tell. So does
/// `DUPLICATE_TRANSACTION`: the same `customerRef` was placed within the
/// last 60 seconds, so this very order may be on the book.
pub(crate) fn nothing_done(code: &str) -> bool {
    const REFUSED: &[&str] = &[
        // The request, refused whole (APINGException).
        "TOO_MANY_REQUESTS",
        "INVALID_INPUT_DATA",
        "INVALID_SESSION_INFORMATION",
        "NO_SESSION",
        "NO_APP_KEY",
        "INVALID_APP_KEY",
        "ACCESS_DENIED",
        "REQUEST_SIZE_EXCEEDS_LIMIT",
        // An instruction, refused on its checks.
        "INVALID_BET_SIZE",
        "INVALID_RUNNER",
        "INVALID_ODDS",
        "INVALID_MARKET_ID",
        "INVALID_ORDER",
        "INVALID_PERSISTENCE_TYPE",
        "INVALID_ORDER_TYPE",
        "INVALID_MIN_FILL_SIZE",
        "INVALID_CUSTOMER_ORDER_REF",
        "INVALID_BID_TYPE",
        "INSUFFICIENT_FUNDS",
        "LOSS_LIMIT_EXCEEDED",
        "MARKET_SUSPENDED",
        "MARKET_NOT_OPEN_FOR_BETTING",
        "RUNNER_REMOVED",
        "BET_TAKEN_OR_LAPSED",
        "NO_ACTION_REQUIRED",
        "REGULATOR_IS_NOT_AVAILABLE",
        "TOO_MANY_INSTRUCTIONS",
        "PERMISSION_DENIED",
    ];
    REFUSED.contains(&code)
}

/// What a `placeOrders` answer (one instruction) says.
pub(crate) fn placed(id: OrderId, reply: &serde_json::Value) -> News {
    let report = &reply["instructionReports"][0];
    let code = report["errorCode"].as_str().or(reply["errorCode"].as_str());
    match (reply["status"].as_str(), report["betId"].as_str(), code) {
        (Some("SUCCESS"), Some(bet_id), _) => News::Placed {
            id,
            bet_id: bet_id.to_owned(),
        },
        (Some("FAILURE" | "PROCESSED_WITH_ERRORS"), _, Some(code)) if nothing_done(code) => {
            News::Refused {
                id,
                code: code.to_owned(),
            }
        }
        (status, _, code) => News::Unknown {
            id,
            why: format!(
                "placeOrders answered {} {}",
                status.unwrap_or("nothing"),
                code.unwrap_or("")
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_name_their_desk_and_order_and_other_runs_are_not_ours() {
        let r = OrderRef {
            desk: 3,
            order: OrderId(42),
        };
        let text = r.text("k3x9f2");
        assert_eq!(text, "k3x9f2-3-42");
        assert!(text.len() <= 32);
        assert_eq!(OrderRef::parse("k3x9f2", &text), Some(r));
        assert_eq!(OrderRef::parse("other", &text), None);
        assert_eq!(OrderRef::parse("k3x9f2", "k3x9f2-x-1"), None);
    }

    #[test]
    fn an_order_line_is_read_into_each_bets_cumulative_sizes_and_routed_by_run() {
        let line = r#"{"op":"ocm","id":2,"clk":"AAA","pt":1,"oc":[{"id":"1.2","orc":[{"id":7,
            "uo":[{"id":"101","p":2.0,"s":4.0,"side":"B","status":"E","sm":1.5,"avp":2.02,
            "sc":0,"sl":0,"sr":2.5,"pt":"L","pd":1700000000000,"rfo":"run1-2-9"},
            {"id":"102","status":"EC","side":"L","sm":0,"sc":2,"rfo":"elsewhere-1-1"},
            {"id":"104","status":"E"},
            {"id":"103","status":"E","sm":null,"rfo":"run1-2-10"}]}]}]}"#;
        let bets = read_bets(line).unwrap();
        assert_eq!(
            bets.len(),
            2,
            "one without a reference, one that does not read"
        );
        let mine = &bets[0];
        assert_eq!((mine.market_id.as_str(), mine.selection_id), ("1.2", 7));
        assert_eq!(mine.matched, Money::from_f64(1.5));
        assert_eq!((mine.side, mine.placed_at), (Side::Back, 1_700_000_000_000));
        assert_eq!(bets[1].side, Side::Lay);
        assert!(bets[1].complete);
        let (desk, r) = route("run1", mine).unwrap();
        assert_eq!(desk, 2);
        assert_eq!(r.id, OrderId(9));
        assert_eq!((r.matched, r.average_price), (1.5, Some(2.02)));
        assert!(!r.complete);
        assert_eq!(route("run1", &bets[1]), None, "another run's bet");
        assert!(read_bets(r#"{"op":"status"}"#).unwrap().is_empty());
        assert!(read_bets("not json").is_err());
    }

    #[test]
    fn a_current_order_reads_as_a_bet_report() {
        let row = serde_json::json!({"betId": "55", "marketId": "1.9", "selectionId": 3,
            "side": "LAY", "priceSize": {"price": 3.5, "size": 10.0}, "status": "EXECUTABLE",
            "persistenceType": "PERSIST", "placedDate": "2026-12-01T10:00:00.000Z",
            "averagePriceMatched": 0.0, "sizeMatched": 0.0, "sizeCancelled": 2.0,
            "sizeLapsed": 0.0, "sizeVoided": 0.0, "customerOrderRef": "r-1-1"});
        let bet = current_bet(&row).unwrap();
        assert_eq!(
            (bet.side, bet.persistence),
            (Side::Lay, Persistence::Persist)
        );
        assert_eq!(bet.average_price, None);
        assert_eq!(bet.cancelled, Money::from_f64(2.0));
        assert_eq!(bet.placed_at, 1_796_119_200_000);
        assert!(current_bet(&serde_json::json!({"betId": "56"})).is_none());
    }

    #[test]
    fn placement_answers_are_placed_refused_or_unknown() {
        let ok = serde_json::json!({"status": "SUCCESS",
            "instructionReports": [{"status": "SUCCESS", "betId": "55"}]});
        assert_eq!(
            placed(OrderId(1), &ok),
            News::Placed {
                id: OrderId(1),
                bet_id: "55".into()
            }
        );
        let refused = serde_json::json!({"status": "FAILURE", "errorCode": "BET_ACTION_ERROR",
            "instructionReports": [{"status": "FAILURE", "errorCode": "INVALID_ODDS"}]});
        assert_eq!(
            placed(OrderId(1), &refused),
            News::Refused {
                id: OrderId(1),
                code: "INVALID_ODDS".into()
            }
        );
        let timeout = serde_json::json!({"status": "TIMEOUT"});
        assert!(matches!(placed(OrderId(1), &timeout), News::Unknown { .. }));
        // A matcher error may have left the bet on the book.
        let unsure = serde_json::json!({"status": "FAILURE", "errorCode": "BET_ACTION_ERROR",
            "instructionReports": [{"status": "FAILURE", "errorCode": "ERROR_IN_MATCHER"}]});
        assert!(matches!(placed(OrderId(1), &unsure), News::Unknown { .. }));
    }
}

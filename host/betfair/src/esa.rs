//! The Exchange Stream API's control messages (`../shared/docs/
//! venue-protocols.md`, A.1 to A.7), for the live client and the local
//! exchange alike: what a client sends ([`Request`]), what the server
//! answers besides market data ([`Connection`], [`Status`]), and the framing
//! both use (one JSON object per line, ended by CRLF). Market changes
//! (`mcm`) are [`Message`](crate::Message).
//!
//! First part of issue 12: nothing serves or connects yet.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The longest line either side accepts (a full image of a big market is
/// far below it); longer is `INVALID_INPUT`, not unbounded memory.
pub const MAX_LINE: usize = 4 << 20;

/// Heartbeat interval asked for, bounds and default (A.5).
pub const HEARTBEAT_MS: (u64, u64, u64) = (500, 5_000, 5_000);
/// Conflation asked for, bounds (A.5).
pub const CONFLATE_MS: (u64, u64) = (0, 120_000);

/// A credential (app key or session token): serialized as it is, never
/// shown by `Debug` (and it has no `Display`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wrap a credential.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The credential itself, to send or to compare.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// What a client sends (A.2): one of four ops, each with the `id` its
/// `status` reply (and, for a subscription, its changes) will carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase")]
pub enum Request {
    /// Log the connection in with an app key and a session token (A.3).
    Authentication {
        /// Request id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<i32>,
        /// The application key.
        #[serde(rename = "appKey", default, skip_serializing_if = "Option::is_none")]
        app_key: Option<Secret>,
        /// The session token from login.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session: Option<Secret>,
    },
    /// Keep firewalls open; answered with a status (A.4).
    Heartbeat {
        /// Request id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<i32>,
    },
    /// Replace the market subscription (A.5).
    MarketSubscription(MarketSubscription),
    /// Replace the order subscription (A.6).
    OrderSubscription(OrderSubscription),
}

impl Request {
    /// Its request id, if it has one.
    pub fn id(&self) -> Option<i32> {
        match self {
            Request::Authentication { id, .. } | Request::Heartbeat { id } => *id,
            Request::MarketSubscription(s) => s.id,
            Request::OrderSubscription(s) => s.id,
        }
    }

    /// Read one line; a line that is not a request is the `INVALID_INPUT`
    /// status the server answers it with (its id, if one could be read).
    pub fn from_line(line: &str) -> Result<Request, Status> {
        if line.len() > MAX_LINE {
            let why = format!("a line of {} bytes; at most {MAX_LINE}", line.len());
            return Err(Status::failure(None, ErrorCode::InvalidInput, why));
        }
        serde_json::from_str(line).map_err(|e| {
            let id = serde_json::from_str::<IdOnly>(line).ok().and_then(|m| m.id);
            Status::failure(id, ErrorCode::InvalidInput, e.to_string())
        })
    }
}

#[derive(Deserialize)]
struct IdOnly {
    id: Option<i32>,
}

/// A market subscription (A.5). Every field is optional on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketSubscription {
    /// Request id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i32>,
    /// Which markets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market_filter: Option<MarketFilter>,
    /// Which data of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market_data_filter: Option<MarketDataFilter>,
    /// Rates and resume tokens.
    #[serde(flatten)]
    pub settings: Settings,
}

/// What market and order subscriptions both set besides their filters
/// (A.5, A.6, A.9).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// Conflation asked for, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflate_ms: Option<u64>,
    /// Longest quiet gap before a heartbeat, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_ms: Option<u64>,
    /// Whether big images may be split into segments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segmentation_enabled: Option<bool>,
    /// Resume token of the image (A.9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_clk: Option<String>,
    /// Latest resume token (A.9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clk: Option<String>,
}

/// Which markets a subscription selects (A.5); absent means any.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)] // The wire's own names, documented in A.5.
pub struct MarketFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bsp_market: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub betting_types: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn_in_play_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market_types: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venues: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_codes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub race_types: Option<Vec<String>>,
}

/// Which data of the selected markets (A.5).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketDataFilter {
    /// The data sets.
    #[serde(default)]
    pub fields: Vec<Field>,
    /// Depth of the level-based ladders, 1 to 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ladder_levels: Option<u8>,
}

impl MarketDataFilter {
    /// Every data set the market cache reads: the full ladders, traded
    /// volume, last traded price, the definition and the BSP figures.
    pub fn full_book() -> MarketDataFilter {
        use Field::*;
        MarketDataFilter {
            fields: vec![
                ExAllOffers,
                ExTraded,
                ExTradedVol,
                ExLtp,
                ExMarketDef,
                SpTraded,
                SpProjected,
            ],
            ladder_levels: None,
        }
    }
}

/// A data set of a market subscription, and the change keys it brings (A.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Field {
    /// `bdatb`/`bdatl`: best levels including virtual prices.
    ExBestOffersDisp,
    /// `batb`/`batl`: best levels.
    ExBestOffers,
    /// `atb`/`atl`: the full ladder.
    ExAllOffers,
    /// `trd`: the traded ladder.
    ExTraded,
    /// `tv`: traded volume.
    ExTradedVol,
    /// `ltp`: last traded price.
    ExLtp,
    /// `marketDefinition`.
    ExMarketDef,
    /// `spb`/`spl`: the BSP ladders.
    SpTraded,
    /// `spn`/`spf`: projected BSP.
    SpProjected,
}

/// An order subscription (A.6).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderSubscription {
    /// Request id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i32>,
    /// Which orders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_filter: Option<OrderFilter>,
    /// Rates and resume tokens.
    #[serde(flatten)]
    pub settings: Settings,
}

/// Which orders an order subscription sends (A.6).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderFilter {
    /// Send the matched position (`mb`/`ml`); Betfair's default is true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_overall_position: Option<bool>,
    /// Only orders placed with these strategy references.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_strategy_refs: Option<Vec<String>>,
    /// Send matches per strategy reference (`smc`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_matched_by_strategy_ref: Option<bool>,
}

/// The interval a subscription's heartbeats come at: what it asked for,
/// held to A.5's bounds, or the default.
pub fn heartbeat_in_force(asked: Option<u64>) -> u64 {
    let (low, high, default) = HEARTBEAT_MS;
    asked.map_or(default, |ms| ms.clamp(low, high))
}

/// The conflation a subscription gets: what it asked for, held to A.5's
/// bounds (none by default).
pub fn conflation_in_force(asked: Option<u64>) -> u64 {
    let (low, high) = CONFLATE_MS;
    asked.map_or(low, |ms| ms.clamp(low, high))
}

/// The server's first message on a new connection (A.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename = "connection", rename_all = "camelCase")]
pub struct Connection {
    /// Names the connection in logs.
    pub connection_id: String,
}

/// The server's one reply to each request, and its report of a protocol
/// error (A.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename = "status", rename_all = "camelCase")]
pub struct Status {
    /// The request's id (absent for a line that could not be read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i32>,
    /// Success or failure.
    pub status_code: StatusCode,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<ErrorCode>,
    /// In words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// The server closes the connection after this message.
    #[serde(default)]
    pub connection_closed: bool,
    /// The connection's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    /// Connections left to the account (on the authentication reply only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections_available: Option<u32>,
}

impl Status {
    /// Request `id` succeeded.
    pub fn success(id: Option<i32>) -> Status {
        Status {
            id,
            status_code: StatusCode::Success,
            error_code: None,
            error_message: None,
            connection_closed: false,
            connection_id: None,
            connections_available: None,
        }
    }

    /// Request `id` failed with `code`; the connection closes unless the
    /// code says otherwise ([`ErrorCode::closes_connection`]).
    pub fn failure(id: Option<i32>, code: ErrorCode, message: impl Into<String>) -> Status {
        Status {
            status_code: StatusCode::Failure,
            error_code: Some(code),
            error_message: Some(message.into()),
            connection_closed: code.closes_connection(),
            ..Status::success(id)
        }
    }
}

/// A status's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StatusCode {
    /// Done.
    Success,
    /// Refused; see the error code.
    Failure,
}

/// Why a request failed (A.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)] // Betfair's own codes, described in A.3.
pub enum ErrorCode {
    InvalidInput,
    Timeout,
    NoAppKey,
    InvalidAppKey,
    NoSession,
    InvalidSessionInformation,
    NotAuthorized,
    MaxConnectionLimitExceeded,
    TooManyRequests,
    SubscriptionLimitExceeded,
    InvalidClock,
    UnexpectedError,
    ConnectionFailed,
    InvalidRequest,
}

impl ErrorCode {
    /// Every error closes the connection except a subscription over the
    /// market limit (A.3).
    pub fn closes_connection(self) -> bool {
        self != ErrorCode::SubscriptionLimitExceeded
    }
}

/// A message as one line on the wire: compact JSON, then CRLF.
pub fn to_line<T: Serialize>(message: &T) -> serde_json::Result<Vec<u8>> {
    let mut line = serde_json::to_vec(message)?;
    line.extend_from_slice(b"\r\n");
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn same_json<T: Serialize>(message: &T, want: &str) {
        let got: Value = serde_json::to_value(message).unwrap();
        let want: Value = serde_json::from_str(want).unwrap();
        assert_eq!(got, want);
    }

    // The examples of venue-protocols.md A.3 to A.6, as clients send them.
    const AUTH: &str = r#"{"op":"authentication","id":1,"appKey":"app-123","session":"tok-456"}"#;
    const MARKETS: &str = r#"{"op":"marketSubscription","id":2,
        "marketFilter":{"eventTypeIds":["7"],"countryCodes":["GB","IE"],"marketTypes":["WIN"]},
        "marketDataFilter":{"fields":["EX_BEST_OFFERS","EX_TRADED","EX_LTP","EX_MARKET_DEF","EX_TRADED_VOL"],"ladderLevels":3},
        "conflateMs":0,"heartbeatMs":5000,"segmentationEnabled":true,
        "initialClk":null,"clk":null}"#;
    const ORDERS: &str = r#"{"op":"orderSubscription","id":3,
        "orderFilter":{"includeOverallPosition":true,"customerStrategyRefs":["strat1"],"partitionMatchedByStrategyRef":false},
        "heartbeatMs":5000,"conflateMs":0,"segmentationEnabled":true}"#;

    #[test]
    fn the_documented_requests_read_and_write_back_the_same() {
        let auth = Request::from_line(AUTH).unwrap();
        let Request::Authentication {
            id,
            app_key: Some(key),
            session: Some(session),
        } = &auth
        else {
            panic!("{auth:?}");
        };
        assert_eq!(
            (*id, key.expose(), session.expose()),
            (Some(1), "app-123", "tok-456")
        );
        same_json(&auth, AUTH);

        let Request::MarketSubscription(markets) = Request::from_line(MARKETS).unwrap() else {
            panic!("not a market subscription");
        };
        let data = markets.market_data_filter.clone().unwrap();
        assert_eq!(data.ladder_levels, Some(3));
        assert!(data.fields.contains(&Field::ExMarketDef));
        let filter = markets.market_filter.clone().unwrap();
        assert_eq!(filter.country_codes.unwrap(), ["GB", "IE"]);
        let settings = &markets.settings;
        assert_eq!(
            (settings.initial_clk.as_deref(), settings.clk.as_deref()),
            (None, None)
        );
        assert_eq!(heartbeat_in_force(settings.heartbeat_ms), 5_000);
        // Written back without the nulls, which mean the same.
        let mut want: Value = serde_json::from_str(MARKETS).unwrap();
        let object = want.as_object_mut().unwrap();
        object.remove("initialClk");
        object.remove("clk");
        same_json(&Request::MarketSubscription(markets), &want.to_string());

        let orders = Request::from_line(ORDERS).unwrap();
        assert_eq!(orders.id(), Some(3));
        same_json(&orders, ORDERS);
        same_json(
            &Request::Heartbeat { id: Some(7) },
            r#"{"op":"heartbeat","id":7}"#,
        );
    }

    #[test]
    fn credentials_never_show_in_debug_output() {
        let auth = Request::from_line(AUTH).unwrap();
        let shown = format!("{auth:?} {auth:#?}");
        assert!(
            !shown.contains("app-123") && !shown.contains("tok-456"),
            "{shown}"
        );
    }

    #[test]
    fn a_bad_line_is_the_invalid_input_status_with_its_id_when_readable() {
        for (line, id) in [
            ("not json", None),
            (r#"{"op":"subscribeEverything","id":9}"#, Some(9)),
            (
                r#"{"op":"marketSubscription","id":4,"marketDataFilter":{"fields":["EX_NOPE"]}}"#,
                Some(4),
            ),
            (r#"{"op":"heartbeat","id":"seven"}"#, None),
        ] {
            let status = Request::from_line(line).unwrap_err();
            assert_eq!(
                (status.id, status.error_code),
                (id, Some(ErrorCode::InvalidInput)),
                "{line}"
            );
            assert!(status.connection_closed, "{line}");
            assert!(
                status
                    .error_message
                    .as_deref()
                    .is_some_and(|m| !m.is_empty())
            );
        }
        let long = format!(r#"{{"op":"heartbeat","pad":"{}"}}"#, "x".repeat(MAX_LINE));
        let status = Request::from_line(&long).unwrap_err();
        assert!(status.error_message.unwrap().contains("at most"));
    }

    #[test]
    fn statuses_are_written_as_betfair_writes_them() {
        let mut ok = Status::success(Some(1));
        ok.connections_available = Some(9);
        same_json(
            &ok,
            r#"{"op":"status","id":1,"statusCode":"SUCCESS","connectionClosed":false,"connectionsAvailable":9}"#,
        );
        let failed = Status::failure(Some(1), ErrorCode::InvalidSessionInformation, "...");
        same_json(
            &failed,
            r#"{"op":"status","id":1,"statusCode":"FAILURE","errorCode":"INVALID_SESSION_INFORMATION","errorMessage":"...","connectionClosed":true}"#,
        );
        let over = Status::failure(Some(2), ErrorCode::SubscriptionLimitExceeded, "200 markets");
        assert!(!over.connection_closed);
        let read: Status = serde_json::from_value(json!({
            "op": "status", "id": 1, "statusCode": "FAILURE",
            "errorCode": "INVALID_SESSION_INFORMATION", "errorMessage": "...",
            "connectionClosed": true
        }))
        .unwrap();
        assert_eq!(read, failed);
        let hello: Connection =
            serde_json::from_str(r#"{"op":"connection","connectionId":"104-170000000001-555001"}"#)
                .unwrap();
        assert_eq!(hello.connection_id, "104-170000000001-555001");
    }

    #[test]
    fn a_line_is_compact_json_ended_by_crlf() {
        let line = to_line(&Request::Heartbeat { id: Some(7) }).unwrap();
        assert_eq!(line, b"{\"op\":\"heartbeat\",\"id\":7}\r\n");
        let subscription = Request::from_line(MARKETS).unwrap();
        let line = to_line(&subscription).unwrap();
        let text = std::str::from_utf8(&line).unwrap();
        assert_eq!(text.find('\n'), Some(text.len() - 1));
        assert_eq!(Request::from_line(text.trim_end()).unwrap(), subscription);
    }

    #[test]
    fn heartbeats_and_conflation_are_held_to_their_bounds() {
        assert_eq!(heartbeat_in_force(None), 5_000);
        assert_eq!(heartbeat_in_force(Some(100)), 500);
        assert_eq!(heartbeat_in_force(Some(60_000)), 5_000);
        assert_eq!(heartbeat_in_force(Some(1_234)), 1_234);
        assert_eq!(conflation_in_force(None), 0);
        assert_eq!(conflation_in_force(Some(500_000)), 120_000);
    }
}

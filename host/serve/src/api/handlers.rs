//! One function per route; each asks the [`HostHandle`](crate::HostHandle)
//! and turns the answer into JSON.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, ApiState};

type Answer = Result<(StatusCode, Json<Value>), ApiError>;

fn ok(value: impl serde::Serialize) -> Answer {
    let value = serde_json::to_value(value)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok((StatusCode::OK, Json(value)))
}

/// `GET /health`: the replay's progress and the kill switch.
pub async fn health(State(state): State<Arc<ApiState>>) -> Answer {
    let status = state.host.status().await?;
    ok(json!({
        "status": "ok",
        "mode": status.mode,
        "replay": status.replay,
        "killed": status.killed,
        "strategies": status.strategies.len(),
    }))
}

/// `GET /plugins`: every published version.
pub async fn list_plugins(State(state): State<Arc<ApiState>>) -> Answer {
    let rows = state
        .host
        .store()
        .published("", None)
        .await
        .map_err(crate::HostError::from)?;
    ok(rows)
}

/// `POST /plugins`: the component is the body.
pub async fn publish(State(state): State<Arc<ApiState>>, body: Bytes) -> Answer {
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "empty body: send the component's bytes (Content-Type: application/wasm)",
        ));
    }
    let publication = state.host.publish(body.to_vec()).await?;
    let code = if publication.new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let (_, body) = ok(publication)?;
    Ok((code, body))
}

/// The body of `POST /plugins/{name}/activate`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivateBody {
    /// The version to run.
    pub version: String,
    /// Run it beside the active version instead of swapping.
    #[serde(default)]
    pub alongside: bool,
}

impl ActivateBody {
    /// Read a request body: JSON with a semver `version`; a clear error
    /// for anything else.
    pub fn parse(body: &[u8]) -> Result<ActivateBody, ApiError> {
        let body: ActivateBody = serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(format!(
                "{e}; expected {{\"version\": \"1.2.3\", \"alongside\": false}}"
            ))
        })?;
        if let Err(e) = semver::Version::parse(&body.version) {
            let shown: String = body.version.chars().take(64).collect();
            return Err(ApiError::bad_request(format!("version {shown:?}: {e}")));
        }
        Ok(body)
    }
}

/// `POST /plugins/{name}/activate`: swap the running strategy to a version.
pub async fn activate(
    State(state): State<Arc<ApiState>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Answer {
    let body = ActivateBody::parse(&body)?;
    ok(state
        .host
        .activate(&name, &body.version, body.alongside)
        .await?)
}

/// `POST /plugins/{name}/rollback`: back to the version active before.
pub async fn rollback(State(state): State<Arc<ApiState>>, Path(name): Path<String>) -> Answer {
    ok(state.host.rollback(&name).await?)
}

/// `GET /strategies`: every running strategy with its figures.
pub async fn strategies(State(state): State<Arc<ApiState>>) -> Answer {
    ok(state.host.status().await?.strategies)
}

/// What `GET /orders` may be asked.
#[derive(Debug, Deserialize)]
pub struct OrdersQuery {
    strategy: Option<String>,
    version: Option<String>,
    status: Option<String>,
    market: Option<String>,
    limit: Option<i64>,
}

/// `GET /orders`: the order journal (newest first, 100 unless `limit`
/// says) and each strategy version's results, kept across restarts.
pub async fn orders(
    State(state): State<Arc<ApiState>>,
    axum::extract::Query(q): axum::extract::Query<OrdersQuery>,
) -> Answer {
    let query = clever_store::OrderQuery {
        strategy: q.strategy,
        version: q.version,
        status: q.status,
        market_id: q.market,
        limit: Some(q.limit.unwrap_or(100).clamp(1, 10_000)),
    };
    let store = state.host.store();
    let orders = (store.journal_orders(&query).await).map_err(crate::HostError::from)?;
    let versions = (store.journal_results().await).map_err(crate::HostError::from)?;
    ok(json!({ "orders": orders, "versions": versions }))
}

/// `POST /kill`: stop all trading.
pub async fn kill(State(state): State<Arc<ApiState>>) -> Answer {
    let cancelled = state.host.kill().await?;
    ok(json!({ "killed": true, "cancelled": cancelled }))
}

/// `POST /kill/release`: trade again; says whether the switch was on.
pub async fn release(State(state): State<Arc<ApiState>>) -> Answer {
    let was = state.host.release().await?;
    ok(json!({ "killed": false, "was_killed": was }))
}

/// `POST /predictions`: a model service publishes probabilities (one
/// object, or an array, of the fields `clever predictions import` reads).
/// Valid ones are stored and visible to strategies from the time each was
/// published; bad ones are dead letters, counted and named in the answer.
pub async fn predictions(State(state): State<Arc<ApiState>>, body: Bytes) -> Answer {
    let body: Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the body is not JSON: {e}"),
        )
    })?;
    ok(state.host.publish_predictions(body).await?)
}

/// What `GET /alerts` may be asked.
#[derive(Debug, Deserialize)]
pub struct AlertsQuery {
    limit: Option<i64>,
}

/// `GET /alerts`: the newest alerts (100 unless `limit` says), each with
/// its deliveries.
pub async fn alerts(
    State(state): State<Arc<ApiState>>,
    axum::extract::Query(q): axum::extract::Query<AlertsQuery>,
) -> Answer {
    let limit = q.limit.unwrap_or(100).clamp(1, 10_000);
    let alerts = (state.host.store().alerts(None, limit).await).map_err(crate::HostError::from)?;
    ok(alerts)
}

/// `GET /markets/{id}/odds`: each runner's latest stored odds (404 if
/// the store has none of the market).
pub async fn market_odds(State(state): State<Arc<ApiState>>, Path(id): Path<String>) -> Answer {
    let venue = state.host.market_venue().ok_or(crate::HostError::NoVenue)?;
    let store = state.host.store();
    let odds = (store.latest_odds(venue, &id).await).map_err(crate::HostError::from)?;
    if odds.is_empty() {
        let why = format!("no stored odds for market {id} (ingest it with `clever ingest`)");
        return Err(ApiError::new(StatusCode::NOT_FOUND, why));
    }
    ok(json!({ "market_id": id, "runners": odds }))
}

/// `GET /metrics`: Prometheus' text format (see `crate::metrics`).
pub async fn metrics(
    State(state): State<Arc<ApiState>>,
) -> Result<([(axum::http::HeaderName, &'static str); 1], String), ApiError> {
    let status = state.host.status().await?;
    let store = state.host.store();
    let figures = crate::metrics::StoreFigures {
        deliveries: store
            .delivery_counts()
            .await
            .map_err(crate::HostError::from)?,
        failed_orders: store
            .journal_failed()
            .await
            .map_err(crate::HostError::from)?,
        query_times: clever_store::query_times(),
    };
    let venue = state.host.market_venue().unwrap_or("none");
    let text = crate::metrics::render(&status, venue, &figures);
    let kind = "text/plain; version=0.0.4; charset=utf-8";
    Ok(([(axum::http::header::CONTENT_TYPE, kind)], text))
}

/// Anything else.
pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("no route {} (see docs/openapi.json)", uri.path()),
    )
}

//! The HTTP API of a running host (axum): plugins, activation and
//! rollback, strategies, the kill switch, model predictions, alerts and
//! health. Every route is in
//! `table` with whether it changes something; those need the bearer
//! token. `docs/openapi.json` documents the same table, and a test keeps
//! the two equal.
//!
//! Owns: routing, authentication, upload limits, turning host errors
//! into status codes. Does not know: how anything is done (`serve`).

mod auth;
mod error;
mod handlers;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{MethodRouter, get, post};

pub use auth::{Token, bearer};
pub use error::ApiError;
pub use handlers::ActivateBody;

use crate::HostHandle;

/// Uploads larger than this are refused with 413 unless the host is told
/// otherwise (`clever serve --max-upload-mb`).
pub const DEFAULT_MAX_UPLOAD: usize = 32 * 1024 * 1024;

/// What every handler shares.
pub struct ApiState {
    /// The running host.
    pub host: Arc<HostHandle>,
    /// The token calls that change something must bear; `None` only when
    /// the host was told `--insecure-local`.
    pub token: Option<Token>,
    /// Largest upload accepted, bytes.
    pub max_upload: usize,
}

/// One route: its method, path (axum syntax) and whether it changes
/// something (and so needs the token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// E.g. `/plugins/{name}/activate`.
    pub path: &'static str,
    /// Needs the bearer token.
    pub changes: bool,
}

const fn read(path: &'static str) -> Route {
    Route {
        method: "GET",
        path,
        changes: false,
    }
}

const fn change(path: &'static str) -> Route {
    Route {
        method: "POST",
        path,
        changes: true,
    }
}

type Handler = MethodRouter<Arc<ApiState>>;

/// Every route with its handler.
fn table(max_upload: usize) -> Vec<(Route, Handler)> {
    vec![
        (read("/health"), get(handlers::health)),
        (read("/plugins"), get(handlers::list_plugins)),
        (
            change("/plugins"),
            post(handlers::publish).layer(DefaultBodyLimit::max(max_upload)),
        ),
        (change("/plugins/{name}/activate"), post(handlers::activate)),
        (change("/plugins/{name}/rollback"), post(handlers::rollback)),
        (read("/strategies"), get(handlers::strategies)),
        (read("/orders"), get(handlers::orders)),
        (change("/kill"), post(handlers::kill)),
        (change("/kill/release"), post(handlers::release)),
        (change("/predictions"), post(handlers::predictions)),
        (read("/alerts"), get(handlers::alerts)),
        (read("/metrics"), get(handlers::metrics)),
        (read("/markets/{id}/odds"), get(handlers::market_odds)),
    ]
}

/// Every route the API serves.
pub fn routes() -> Vec<Route> {
    table(DEFAULT_MAX_UPLOAD)
        .into_iter()
        .map(|(r, _)| r)
        .collect()
}

/// The API over `state`.
pub fn router(state: Arc<ApiState>) -> Router {
    let mut router = Router::new();
    for (route, handler) in table(state.max_upload) {
        let handler = if route.changes {
            handler.route_layer(from_fn_with_state(state.clone(), auth::require_token))
        } else {
            handler
        };
        router = router.route(route.path, handler);
    }
    router.fallback(handlers::not_found).with_state(state)
}

//! # clever-dashboard: the web dashboard of a running host
//!
//! `clever serve` and `clever live` serve it under `/ui`, beside the API.
//! Pages are HTML rendered here ([maud]); what changes is pushed to the
//! page as HTML fragments over server-sent events, and [htmx] (vendored
//! under `assets/`, embedded in the binary) swaps them in and sends the
//! controls' forms. Why this and not a JavaScript build: see
//! `docs/decisions/004-dashboard.md`.
//!
//! Reading is open from loopback; from anywhere else, and for anything
//! that changes state, it needs the API token, given once on the sign-in
//! page and kept by the browser as a cookie derived from it ([`session`]).
//! The host must be served with connect info
//! (`into_make_service_with_connect_info::<SocketAddr>`) for the
//! dashboard to know a loopback reader.
//!
//! Owns: the pages, the live stream, the P&L history it charts, and the
//! sign-in cookie. Does not know: how anything is done; it asks the
//! [`HostHandle`](clever_serve::HostHandle) and the store, as the API does.
//!
//! [maud]: https://maud.lambda.xyz
//! [htmx]: https://htmx.org

mod actions;
mod assets;
mod chart;
mod layout;
mod live;
mod pages;
pub mod session;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_SECURITY_POLICY, X_FRAME_OPTIONS};
use axum::middleware::{from_fn, from_fn_with_state, map_response};
use axum::response::Response;
use axum::routing::{get, post};
use clever_serve::api::ApiState;
use tokio::sync::watch;

pub use chart::History;

/// What every page shares.
pub struct Dashboard {
    /// The API's state: the host, its token, the upload limit.
    pub api: Arc<ApiState>,
    /// Each strategy version's profit over time, sampled every second while the host serves.
    pub history: Mutex<History>,
    /// When this host started serving (ms since the epoch): a page that
    /// reconnects to a restarted host sees it change.
    pub started: i64,
    /// Turns true when the host is stopping: live streams end.
    pub closing: watch::Receiver<bool>,
}

impl Dashboard {
    fn host(&self) -> &clever_serve::HostHandle {
        &self.api.host
    }
}

/// Wait for the next `tick`; `false` once the host is stopping (a task
/// holding the host's handle past then would keep its event loop from
/// ending).
async fn tick_or_close(
    tick: &mut tokio::time::Interval,
    closing: &mut watch::Receiver<bool>,
) -> bool {
    tokio::select! {
        _ = tick.tick() => true,
        _ = closing.wait_for(|closing| *closing) => false,
    }
}

/// The dashboard's routes, all under `/ui`; starts sampling the host's
/// figures for the P&L chart (call inside the tokio runtime). Its live
/// streams end when `closing` turns true (or its sender is gone).
pub fn router(api: Arc<ApiState>, closing: watch::Receiver<bool>) -> Router {
    let max_upload = api.max_upload;
    let dashboard = Arc::new(Dashboard {
        api,
        history: Mutex::new(History::default()),
        started: clever_serve::wall_now().0,
        closing,
    });
    tokio::spawn(chart::sample(dashboard.clone()));
    // Sign-in and the page's own files are open; everything else passes
    // the gate (reads from loopback, or signed in).
    let open = Router::new()
        .route("/ui/login", get(session::login_page).post(session::login))
        .route("/ui/logout", post(session::logout))
        .route("/ui/assets/{file}", get(assets::asset));
    let identify = from_fn_with_state(dashboard.clone(), session::identify);
    // A change must also be signed in and sent by the page.
    let actions = Router::new()
        .route(
            "/ui/actions/publish",
            post(actions::publish).layer(DefaultBodyLimit::max(max_upload)),
        )
        .route("/ui/actions/activate", post(actions::activate))
        .route("/ui/actions/rollback", post(actions::rollback))
        .route("/ui/actions/kill", post(actions::kill))
        .route("/ui/actions/release", post(actions::release))
        .route_layer(from_fn(session::may_change));
    let gated = Router::new()
        .route("/ui", get(pages::strategies::page))
        .route("/ui/", get(pages::strategies::page))
        .route("/ui/orders", get(pages::orders::page))
        .route("/ui/markets", get(pages::markets::page))
        .route("/ui/alerts", get(pages::alerts::page))
        .route("/ui/runs", get(pages::runs::page))
        .route("/ui/runs/{id}", get(pages::runs::run_page))
        .route("/ui/events", get(live::events))
        .merge(actions)
        .route_layer(from_fn(session::gate));
    open.merge(gated)
        .route_layer(identify)
        .layer(map_response(guard_headers))
        .with_state(dashboard)
}

/// Every dashboard answer: no framing (a hidden frame cannot steal a
/// click on Kill switch), and scripts, styles and connections from the
/// host only (htmx is told not to eval, and the pages have no inline
/// script).
async fn guard_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    response
}

const CSP: &str = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                   frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

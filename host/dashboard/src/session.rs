//! Who is reading, and signing in.
//!
//! A reader is *local* when it connects from loopback and asks for the
//! host by a loopback name (a page of another site whose name was rebound
//! to 127.0.0.1 asks by its own name, and is not local). Local readers may
//! read; anyone else must sign in first. Signing in turns the API token,
//! typed once, into a cookie holding its issue time and an HMAC of it
//! keyed by the token ([`Token::session`](clever_serve::api::Token::session)):
//! `HttpOnly`, so page scripts cannot read it, `SameSite=Lax`, and valid
//! for [`SESSION_MS`]. A change also needs the `HX-Request` header, which
//! a form or a cross-site request cannot send without a CORS preflight
//! the host never answers; under `--insecure-local` (no token) only a
//! local reader may change anything.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Form;
use axum::extract::{ConnectInfo, Extension, Request, State};
use axum::http::header::{COOKIE, HOST, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use clever_serve::api::bearer;
use maud::html;
use serde::Deserialize;

use crate::Dashboard;
use crate::layout::{Nav, flash, shell};

const COOKIE_NAME: &str = "clever_session";
/// How long a sign-in lasts.
pub const SESSION_MS: i64 = 7 * 24 * 3600 * 1000;

/// Who sent a request, as far as the dashboard cares.
#[derive(Debug, Clone, Copy)]
pub struct Reader {
    /// On this machine, asking for it by a loopback name.
    pub local: bool,
    /// May change things: signed in (or no token is set and it is local).
    pub signed_in: bool,
}

/// Work out the [`Reader`] of every `/ui` request, for the handlers.
pub async fn identify(
    State(d): State<Arc<Dashboard>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>();
    let host = request.headers().get(HOST).and_then(|v| v.to_str().ok());
    let local = is_local(peer.map(|ConnectInfo(addr)| *addr), host);
    let signed_in = match &d.api.token {
        None => local,
        Some(_) => has_session(&d, request.headers()),
    };
    request.extensions_mut().insert(Reader { local, signed_in });
    next.run(request).await
}

/// Loopback peer (an IPv4-mapped one too) asking by a loopback name. No
/// peer known (a router served without connect info) is not local.
pub fn is_local(peer: Option<SocketAddr>, host: Option<&str>) -> bool {
    if !peer.is_some_and(|p| p.ip().to_canonical().is_loopback()) {
        return false;
    }
    let Some(host) = host else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    let loopback_ip = name
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback());
    loopback_ip || name.eq_ignore_ascii_case("localhost")
}

fn has_session(d: &Dashboard, headers: &HeaderMap) -> bool {
    let Some(token) = &d.api.token else {
        return false;
    };
    if bearer(headers).is_some_and(|b| token.matches(b)) {
        return true;
    }
    let now = clever_serve::wall_now().0;
    cookie(headers).is_some_and(|c| token.session_valid(c, now, SESSION_MS))
}

fn cookie(headers: &HeaderMap) -> Option<&str> {
    let all = headers.get_all(COOKIE).iter();
    let pairs = all
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'));
    pairs
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value)
}

/// Let a local or signed-in reader through; send anyone else's page to
/// the sign-in page, and answer anything else 401.
pub async fn gate(Extension(reader): Extension<Reader>, request: Request, next: Next) -> Response {
    if reader.local || reader.signed_in {
        return next.run(request).await;
    }
    if request.method() == Method::GET && request.uri().path() != "/ui/events" {
        return redirect("/ui/login", None);
    }
    let why = "sign in with the API token first: this host is not being read from its own machine";
    (StatusCode::UNAUTHORIZED, why).into_response()
}

/// Let a change through only signed in and sent by the page; refuse
/// anything else with a message for the page's flash.
pub async fn may_change(
    Extension(reader): Extension<Reader>,
    request: Request,
    next: Next,
) -> Response {
    let refused = |code: StatusCode, why: &str| (code, flash(false, why)).into_response();
    if request.headers().get("hx-request").is_none() {
        let why = "a change through the dashboard must come from its page (HX-Request header)";
        return refused(StatusCode::FORBIDDEN, why);
    }
    if !reader.signed_in {
        let why = "sign in with the API token first (Sign in, top right)";
        return refused(StatusCode::UNAUTHORIZED, why);
    }
    next.run(request).await
}

/// `GET /ui/login`.
pub async fn login_page(
    State(d): State<Arc<Dashboard>>,
    Extension(reader): Extension<Reader>,
) -> Response {
    shell(&d, Nav::Login, reader.signed_in, "", login_form(None)).into_response()
}

fn login_form(error: Option<&str>) -> maud::Markup {
    html! {
        section.card.narrow {
            h2 { "Sign in" }
            p { "Paste the host's API token (the one `clever serve` reads from "
                code { "--token-file" } " or " code { "$CLEVER_API_TOKEN" }
                "). The browser keeps a cookie derived from it for a week, never the token." }
            @if let Some(error) = error { p.flash.error role="alert" { (error) } }
            form method="post" action="/ui/login" {
                label for="token" { "API token" }
                input #token type="password" name="token" autocomplete="current-password" required;
                button type="submit" { "Sign in" }
            }
        }
    }
}

/// The sign-in form's body.
#[derive(Deserialize)]
pub struct Login {
    token: String,
}

/// `POST /ui/login`: a right token sets the cookie and goes to the
/// strategies page; a wrong one says so.
pub async fn login(
    State(d): State<Arc<Dashboard>>,
    Extension(reader): Extension<Reader>,
    Form(form): Form<Login>,
) -> Response {
    let Some(token) = &d.api.token else {
        return redirect("/ui", None);
    };
    if !token.matches(form.token.trim()) {
        let body = login_form(Some("That is not this host's API token."));
        let page = shell(&d, Nav::Login, reader.signed_in, "", body);
        return (StatusCode::UNAUTHORIZED, page).into_response();
    }
    let session = token.session(clever_serve::wall_now().0);
    let max_age = SESSION_MS / 1000;
    let cookie =
        format!("{COOKIE_NAME}={session}; Path=/ui; HttpOnly; SameSite=Lax; Max-Age={max_age}");
    redirect("/ui", Some(cookie))
}

/// `POST /ui/logout` (from the page: `HX-Request`): forget the cookie.
pub async fn logout(headers: HeaderMap) -> Response {
    if headers.get("hx-request").is_none() {
        return (StatusCode::FORBIDDEN, "sign out from the dashboard's page").into_response();
    }
    let gone = format!("{COOKIE_NAME}=; Path=/ui; HttpOnly; SameSite=Lax; Max-Age=0");
    let mut response = ([("hx-redirect", "/ui")], "signed out").into_response();
    if let Ok(gone) = gone.parse() {
        response.headers_mut().insert(SET_COOKIE, gone);
    }
    response
}

fn redirect(to: &str, cookie: Option<String>) -> Response {
    let mut response = (StatusCode::SEE_OTHER, [(LOCATION, to.to_owned())]).into_response();
    if let Some(cookie) = cookie.and_then(|c| c.parse().ok()) {
        response.headers_mut().insert(SET_COOKIE, cookie);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_is_a_loopback_peer_asking_by_a_loopback_name() {
        let v4: SocketAddr = "127.0.0.1:5000".parse().expect("address");
        let v6: SocketAddr = "[::1]:5000".parse().expect("address");
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:5000".parse().expect("address");
        let lan: SocketAddr = "192.168.1.20:5000".parse().expect("address");
        for host in [
            "127.0.0.1:8780",
            "localhost:8780",
            "LOCALHOST",
            "[::1]:8780",
            "127.0.0.2",
        ] {
            assert!(is_local(Some(v4), Some(host)), "{host}");
        }
        assert!(is_local(Some(v6), Some("[::1]:8780")));
        assert!(is_local(Some(mapped), Some("127.0.0.1:8780")));
        // Rebound names, remote peers, and no peer or name are not local.
        assert!(!is_local(Some(v4), Some("evil.example:8780")));
        assert!(!is_local(Some(v4), Some("127.0.0.1.evil.example")));
        assert!(!is_local(Some(v4), None));
        assert!(!is_local(Some(lan), Some("127.0.0.1:8780")));
        assert!(!is_local(None, Some("127.0.0.1:8780")));
    }
}

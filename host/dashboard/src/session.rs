//! Signing in: the API token, typed once, becomes a cookie derived from it
//! ([`Token::session`](clever_serve::api::Token::session)): `HttpOnly`, so
//! page scripts cannot read it, and `SameSite=Strict`, so another site
//! cannot send it. A change also needs the `HX-Request` header, which a
//! form on another site cannot set.

use std::sync::Arc;

use axum::Form;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use crate::Dashboard;
use crate::layout::{Nav, shell};

const COOKIE_NAME: &str = "clever_session";

/// Whether this request may change something: no token is set
/// (`--insecure-local`), or it carries the session cookie or the bearer
/// token.
pub fn signed_in(dashboard: &Dashboard, headers: &HeaderMap) -> bool {
    let Some(token) = &dashboard.api.token else {
        return true;
    };
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer.is_some_and(|b| token.matches(b)) {
        return true;
    }
    cookie(headers).is_some_and(|c| token.session_matches(c))
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

/// Refuse a change that is not signed in, or not sent by the page.
pub fn may_change(dashboard: &Dashboard, headers: &HeaderMap) -> Result<(), (StatusCode, String)> {
    if headers.get("hx-request").is_none() {
        let why = "a change through the dashboard must come from its page (HX-Request header)";
        return Err((StatusCode::FORBIDDEN, why.into()));
    }
    if !signed_in(dashboard, headers) {
        let why = "sign in with the API token first (Sign in, top right)";
        return Err((StatusCode::UNAUTHORIZED, why.into()));
    }
    Ok(())
}

/// `GET /ui/login`.
pub async fn login_page(State(d): State<Arc<Dashboard>>, headers: HeaderMap) -> Response {
    let body = login_form(None);
    shell(&d, Nav::Login, signed_in(&d, &headers), "", body).into_response()
}

fn login_form(error: Option<&str>) -> maud::Markup {
    html! {
        section.card.narrow {
            h2 { "Sign in" }
            p { "Paste the host's API token (the one `clever serve` reads from "
                code { "--token-file" } " or " code { "$CLEVER_API_TOKEN" }
                "). The browser keeps a cookie derived from it, never the token." }
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
    headers: HeaderMap,
    Form(form): Form<Login>,
) -> Response {
    let Some(token) = &d.api.token else {
        return redirect("/ui", None);
    };
    if !token.matches(form.token.trim()) {
        let body = login_form(Some("That is not this host's API token."));
        let page = shell(&d, Nav::Login, signed_in(&d, &headers), "", body);
        return (StatusCode::UNAUTHORIZED, page).into_response();
    }
    let cookie = format!(
        "{COOKIE_NAME}={}; Path=/ui; HttpOnly; SameSite=Strict",
        token.session()
    );
    redirect("/ui", Some(cookie))
}

/// `POST /ui/logout`: forget the cookie.
pub async fn logout() -> Response {
    let gone = format!("{COOKIE_NAME}=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0");
    redirect("/ui", Some(gone))
}

fn redirect(to: &str, cookie: Option<String>) -> Response {
    let mut response = (StatusCode::SEE_OTHER, [(LOCATION, to.to_owned())]).into_response();
    if let Some(cookie) = cookie.and_then(|c| c.parse().ok()) {
        response.headers_mut().insert(SET_COOKIE, cookie);
    }
    response
}

//! What the controls do: each asks the host exactly as the API would and
//! answers a message for the page (and, after a change of versions, the
//! version controls again). The page asks for confirmation first.

use std::sync::Arc;

use axum::Form;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use maud::{Markup, html};
use serde::Deserialize;

use crate::Dashboard;
use crate::layout::flash;
use crate::pages::strategies::controls;

type Answer = (StatusCode, Markup);

/// The message, and the version controls redrawn in place.
async fn with_controls(d: &Dashboard, ok: bool, text: String) -> Answer {
    let code = if ok {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let controls = controls(d, true).await;
    let body = html! {
        (flash(ok, &text))
        div #controls hx-swap-oob="true" { (controls) }
    };
    (code, body)
}

/// `POST /ui/actions/publish`: the component is the body.
pub async fn publish(State(d): State<Arc<Dashboard>>, body: Bytes) -> Answer {
    if body.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            flash(false, "Choose a component (.wasm) first."),
        );
    }
    match d.host().publish(body.to_vec()).await {
        Ok(p) => {
            let what = if p.new {
                "Published"
            } else {
                "Already published:"
            };
            let text = format!("{what} {} {} ({} bytes).", p.name, p.version, body.len());
            with_controls(&d, true, text).await
        }
        Err(e) => with_controls(&d, false, format!("Not published: {e}")).await,
    }
}

/// The activate form.
#[derive(Deserialize)]
pub struct ActivateForm {
    name: String,
    version: String,
    alongside: Option<String>,
}

/// `POST /ui/actions/activate`.
pub async fn activate(State(d): State<Arc<Dashboard>>, Form(form): Form<ActivateForm>) -> Answer {
    let alongside = form.alongside.is_some_and(|v| v == "true" || v == "on");
    let (name, version) = (form.name.trim(), form.version.trim());
    match d.host().activate(name, version, alongside).await {
        Ok(a) => {
            let swap = a.swap.as_ref().map_or_else(String::new, |s| {
                let ready = s.ready_ms.map_or_else(
                    || "no event yet".into(),
                    |ms| format!("ready in {ms:.1} ms"),
                );
                format!(
                    ": swapped from {} ({} bytes of state, {ready})",
                    s.from, s.state_bytes
                )
            });
            let text = format!("{} {} {}{swap}.", a.label, a.outcome, a.version);
            with_controls(&d, true, text).await
        }
        Err(e) => with_controls(&d, false, format!("{name} {version} not activated: {e}")).await,
    }
}

/// The roll-back button's value.
#[derive(Deserialize)]
pub struct NameForm {
    name: String,
}

/// `POST /ui/actions/rollback`.
pub async fn rollback(State(d): State<Arc<Dashboard>>, Form(form): Form<NameForm>) -> Answer {
    match d.host().rollback(form.name.trim()).await {
        Ok(a) => {
            let text = format!("{} rolled back: {} {}.", a.label, a.outcome, a.version);
            with_controls(&d, true, text).await
        }
        Err(e) => with_controls(&d, false, format!("{} not rolled back: {e}", form.name)).await,
    }
}

/// `POST /ui/actions/kill`.
pub async fn kill(State(d): State<Arc<Dashboard>>) -> Answer {
    match d.host().kill().await {
        Ok(n) => (
            StatusCode::OK,
            flash(
                true,
                &format!("Kill switch on: {n} open orders asked to cancel."),
            ),
        ),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            flash(false, &format!("The kill switch failed: {e}")),
        ),
    }
}

/// `POST /ui/actions/release`.
pub async fn release(State(d): State<Arc<Dashboard>>) -> Answer {
    match d.host().release().await {
        Ok(_) => (
            StatusCode::OK,
            flash(true, "Kill switch released: strategies trade again."),
        ),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            flash(false, &format!("Release failed: {e}")),
        ),
    }
}

//! One module per page; each renders its whole page for `GET` and its
//! live fragments for the stream ([`crate::live`]).

pub mod alerts;
pub mod markets;
pub mod orders;
pub mod runs;
pub mod strategies;

use maud::{Markup, html};

use crate::Dashboard;
use crate::layout::span;

/// The strip on every page: mode, the feed's progress, the kill switch
/// (and its control, for a signed-in page).
pub async fn health(d: &Dashboard, signed_in: bool) -> Markup {
    let status = match d.host().status().await {
        Ok(status) => status,
        Err(e) => return html! { p.flash.error { "The host does not answer: " (e) } },
    };
    let r = &status.replay;
    html! {
        div.health data-killed=(status.killed) {
            span.pill.mode { (status.mode) }
            span #host-started data-started=(d.started) {
                "up since " (crate::layout::when(d.started))
            }
            span { (r.updates) " updates · " (r.markets) " markets" }
            @if r.files > 0 {
                span { "files " (r.started) "/" (r.files) @if r.finished { " · finished" } }
            }
            @if let Some(lag) = r.lag_ms.filter(|_| status.mode != "replay") { span title="wall clock minus the data's publish time" { "lag " (span(lag)) } }
            @if status.killed {
                strong.killed role="alert" { "KILL SWITCH ON: no new orders" }
                @if signed_in {
                    button.release hx-post="/ui/actions/release" hx-target="#flash"
                        hx-confirm="Release the kill switch? Strategies will trade again." { "Release" }
                }
            } @else if signed_in {
                button.kill hx-post="/ui/actions/kill" hx-target="#flash"
                    hx-confirm="Pull the kill switch? Every open order is cancelled and no new order is placed until it is released." {
                    "Kill switch"
                }
            }
        }
    }
}

//! One module per page; each renders its whole page for `GET` and its
//! live fragments for the stream ([`crate::live`]).

pub mod alerts;
pub mod markets;
pub mod orders;
pub mod runs;
pub mod strategies;

use maud::{Markup, html};

use clever_serve::{HostError, HostStatus};

use crate::Dashboard;
use crate::layout::{Fragments, region, span};

/// The host's status as the stream asked for it once for all of a
/// page's fragments, or why it could not answer.
pub type Status<'a> = Result<&'a HostStatus, &'a HostError>;

/// The strip on every page: mode and the feed's progress (`health`,
/// which changes with every update), and the kill switch with its control
/// (`kill`, which changes only when the switch does, so the button is not
/// redrawn under the pointer).
pub fn health(d: &Dashboard, status: Status<'_>, signed_in: bool) -> Fragments {
    let status = match status {
        Ok(status) => status,
        Err(e) => {
            let down = html! { p.flash.error { "The host does not answer: " (e) } };
            return vec![("health", down), ("kill", html! {})];
        }
    };
    let r = &status.replay;
    let health = html! {
        div.health data-killed=(status.killed) {
            span.pill.mode { (status.mode) }
            span #host-started data-started=(d.started) {
                "up since " (crate::layout::when(d.started))
            }
            span { (r.updates) " updates · " (r.markets) " markets" }
            @if r.files > 0 {
                span { "files " (r.started) "/" (r.files) @if r.finished { " · finished" } }
            }
            @if let Some(lag) = r.lag_ms.filter(|_| status.mode != "replay") {
                span title="wall clock minus the data's publish time" { "lag " (span(lag)) }
            }
        }
    };
    vec![
        ("health", health),
        ("kill", kill_switch(status.killed, signed_in)),
    ]
}

fn kill_switch(killed: bool, signed_in: bool) -> Markup {
    html! {
        div.killswitch data-killed=(killed) {
            @if killed {
                strong.killed role="alert" { "KILL SWITCH ON: no new orders" }
                @if signed_in {
                    button #release.release hx-post="/ui/actions/release" hx-target="#flash"
                        hx-confirm="Release the kill switch? Strategies will trade again." { "Release" }
                }
            } @else if signed_in {
                button #kill.kill hx-post="/ui/actions/kill" hx-target="#flash"
                    hx-confirm="Pull the kill switch? Every open order is cancelled and no new order is placed until it is released." {
                    "Kill switch"
                }
            }
        }
    }
}

/// The top of every page: the health strip and the kill switch.
pub fn top(fragments: &Fragments) -> Markup {
    html! { div.strip { (region("health", fragments)) (region("kill", fragments)) } }
}

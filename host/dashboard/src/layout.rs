//! The frame of every page (head, navigation, the connection badge) and
//! how figures are shown.

use clever_market::Money;
use maud::{DOCTYPE, Markup, html};

use crate::Dashboard;

/// Named pieces of a page that the live stream replaces as they change.
pub type Fragments = Vec<(&'static str, Markup)>;

/// Which page is showing.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Strategies,
    Orders,
    Markets,
    Alerts,
    Runs,
    Login,
}

const PAGES: &[(Nav, &str, &str)] = &[
    (Nav::Strategies, "/ui", "Strategies"),
    (Nav::Orders, "/ui/orders", "Orders"),
    (Nav::Markets, "/ui/markets", "Markets"),
    (Nav::Alerts, "/ui/alerts", "Alerts"),
    (Nav::Runs, "/ui/runs", "Runs"),
];

/// htmx swaps error answers too: an action's refusal is a message to show.
const HTMX_CONFIG: &str = r#"{"responseHandling":[{"code":".*","swap":true}],"allowEval":false}"#;

/// A whole page: `body` inside the frame; `live` is the stream URL the
/// page listens to (empty: none).
pub fn shell(d: &Dashboard, nav: Nav, signed_in: bool, live: &str, body: Markup) -> Markup {
    let title = PAGES.iter().find(|p| p.0 == nav).map_or("Sign in", |p| p.2);
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="htmx-config" content=(HTMX_CONFIG);
                title { "Clever Better · " (title) }
                // No favicon request (it would be the API's 404).
                link rel="icon" href="data:,";
                link rel="stylesheet" href="/ui/assets/dashboard.css";
                script src="/ui/assets/htmx.min.js" {}
                script src="/ui/assets/sse.min.js" {}
                script src="/ui/assets/dashboard.js" {}
            }
            body hx-ext="sse" sse-connect=[(!live.is_empty()).then_some(live)]
                data-started=(d.started) {
                header.top {
                    a.brand href="/ui" { "Clever Better" }
                    nav {
                        @for (page, href, name) in PAGES {
                            a href=(href) aria-current=[(*page == nav).then_some("page")] { (name) }
                        }
                    }
                    span #conn.conn data-state="connecting" { "connecting" }
                    (sign_in_control(d, signed_in))
                }
                main { div #flash {} (body) }
            }
        }
    }
}

fn sign_in_control(d: &Dashboard, signed_in: bool) -> Markup {
    html! {
        @if d.api.token.is_none() {
            span.muted title="served with --insecure-local: no token needed" { "no token" }
        } @else if signed_in {
            button.link hx-post="/ui/logout" { "Sign out" }
        } @else {
            a.signin href="/ui/login" title="Sign in to change anything" { "Sign in" }
        }
    }
}

/// A live region: `fragment` now, replaced by the stream's `name` events.
pub fn region(name: &'static str, fragments: &Fragments) -> Markup {
    let inner = fragments.iter().find(|(n, _)| *n == name).map(|(_, m)| m);
    html! { div id=(name) sse-swap=(name) { @if let Some(m) = inner { (m) } } }
}

/// Money to the penny, signed, coloured by sign.
pub fn money(m: Money) -> Markup {
    let class = if !m.is_positive() && m != Money::default() {
        "num neg"
    } else if m.is_positive() {
        "num pos"
    } else {
        "num"
    };
    html! { span class=(class) { (format!("{m:.2}")) } }
}

/// A stake or size, two places.
pub fn amount(x: f64) -> String {
    format!("{x:.2}")
}

/// A time of day (UTC) from ms since the epoch.
pub fn clock(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map_or_else(|| "-".into(), |t| t.format("%H:%M:%S").to_string())
}

/// A date and time (UTC) from ms since the epoch.
pub fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map_or_else(|| "-".into(), |t| t.format("%Y-%m-%d %H:%M").to_string())
}

/// A span of ms as `-1h 05m`, `4m 10s` or `35s`.
pub fn span(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let s = ms.unsigned_abs() / 1000;
    match s {
        0..60 => format!("{sign}{s}s"),
        60..3600 => format!("{sign}{}m {:02}s", s / 60, s % 60),
        _ => format!("{sign}{}h {:02}m", s / 3600, s % 3600 / 60),
    }
}

/// A message above the page (an action's outcome).
pub fn flash(ok: bool, text: &str) -> Markup {
    let class = if ok { "flash ok" } else { "flash error" };
    html! { p class=(class) role="status" { (text) } }
}

/// Nothing to show.
pub fn empty(text: &str) -> Markup {
    html! { p.empty { (text) } }
}

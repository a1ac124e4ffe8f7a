//! The markets page: every market the host follows (status, time to the
//! off by the market's own clock), and a chosen market's ladder with the
//! strategies' open orders on it.

use std::sync::Arc;

use axum::extract::{Extension, Query, State};
use clever_serve::{MarketLadder, MarketSummary, OpenOrder};
use maud::{Markup, html};

use crate::Dashboard;
use crate::layout::{Fragments, Nav, amount, empty, region, shell, span};
use crate::live::{View, encode, fragments};
use crate::session::Reader;

/// Markets listed.
const LISTED: usize = 100;

/// `GET /ui/markets?market=ID`.
pub async fn page(
    State(d): State<Arc<Dashboard>>,
    Extension(reader): Extension<Reader>,
    Query(mut view): Query<View>,
) -> Markup {
    view.page = "markets".into();
    let signed_in = reader.signed_in;
    let frags = fragments(&d, &view, signed_in).await;
    let body = html! {
        (crate::pages::top(&frags))
        @if let Some(id) = View::given(&view.market) {
            section.card { h2 { "Ladder of " (id) } (region("ladder", &frags)) }
        }
        section.card { h2 { "Markets followed" } (region("markets", &frags)) }
    };
    shell(&d, Nav::Markets, signed_in, &view.url("markets"), body)
}

/// The live parts: the list, and the ladder if one is chosen.
pub async fn live(d: &Dashboard, view: &View) -> Fragments {
    let chosen = View::given(&view.market);
    let markets = match d.host().markets(chosen).await {
        Ok(m) => m,
        Err(e) => return vec![("markets", html! { p.flash.error { (e) } })],
    };
    let mut out = vec![("markets", list(&markets.markets, chosen))];
    if let Some(id) = chosen {
        let ladder = match &markets.ladder {
            Some(l) => ladder(l, &markets.orders),
            None => empty(&format!(
                "Market {id} is not open on this host (closed, or never seen)."
            )),
        };
        out.push(("ladder", ladder));
    }
    out
}

fn list(markets: &[MarketSummary], chosen: Option<&str>) -> Markup {
    if markets.is_empty() {
        return empty("No market seen yet.");
    }
    html! {
        div.scroll { table.grid #markets-table {
            thead { tr {
                th { "Market" } th { "Type" } th { "Country" } th { "Status" }
                th.num title="scheduled start minus the market's latest publish time" { "To the off" }
                th.num { "Runners" } th.num { "Matched" }
            } }
            tbody { @for m in markets.iter().take(LISTED) {
                tr aria-selected=[(chosen == Some(m.id.as_str())).then_some("true")] {
                    td { a href=(format!("/ui/markets?market={}", encode(&m.id))) { (m.id) } }
                    td { (m.market_type) } td { (m.country.as_deref().unwrap_or("-")) }
                    td { (m.status) @if m.in_play && m.status != "Closed" { " " span.pill.warn { "in play" } } }
                    td.num { @if m.status == "Closed" { "-" } @else { (span(m.start_time - m.publish_time)) } }
                    td.num { (m.runners) } td.num { (amount(m.total_matched)) }
                }
            } }
        } }
        @if markets.len() > LISTED { p.muted { (markets.len() - LISTED) " more not shown" } }
    }
}

fn ladder(l: &MarketLadder, orders: &[OpenOrder]) -> Markup {
    let m = &l.market;
    let level = |side: &[(f64, f64)], i: usize| side.get(i).copied();
    html! {
        p.muted { (m.status) @if m.in_play { " · in play" } " · to the off " (span(m.start_time - m.publish_time)) }
        div.scroll { table.grid.ladder #ladder-table {
            thead { tr {
                th { "Runner" } th.num { "LTP" }
                th.back { "Back 3" } th.back { "Back 2" } th.back { "Back 1" }
                th.lay { "Lay 1" } th.lay { "Lay 2" } th.lay { "Lay 3" }
                th { "Our orders" }
            } }
            tbody { @for r in &l.runners {
                @let mine: Vec<&OpenOrder> = orders.iter().filter(|o| o.selection_id == r.selection_id).collect();
                tr data-selection=(r.selection_id) class=[(r.status != "Active").then_some("removed")] {
                    td { (r.selection_id) @if r.status != "Active" { " " span.muted { (r.status) } } }
                    td.num { (r.last_traded.map_or_else(|| "-".into(), |p| p.to_string())) }
                    @for i in (0..3).rev() { (cell("back", level(&r.back, i), &mine)) }
                    @for i in 0..3 { (cell("lay", level(&r.lay, i), &mine)) }
                    td { @for o in &mine {
                        span class=(format!("pill {}", o.side.to_lowercase())) title=(format!("order {} by {}", o.id, o.strategy)) {
                            (o.strategy) " " (o.side) " " (amount(o.size - o.size_matched)) " @ " (o.price)
                        } " "
                    } }
                }
            } }
        } }
    }
}

/// One price on the ladder; marked if one of our orders rests there.
fn cell(side: &str, level: Option<(f64, f64)>, mine: &[&OpenOrder]) -> Markup {
    let Some((price, size)) = level else {
        return html! { td class=(side) {} };
    };
    let ours = mine.iter().any(|o| (o.price - price).abs() < 1e-9);
    let class = if ours {
        format!("{side} ours")
    } else {
        side.to_owned()
    };
    html! { td class=(class) { strong { (price) } br; span.size { (amount(size)) } } }
}

//! The orders page: orders open on the venue now, and the journal's
//! recent orders (fills, cancels, lapses, settlements), filtered by
//! strategy, market and status.

use std::sync::Arc;

use axum::extract::{Extension, Query, State};
use clever_serve::OpenOrder;
use clever_store::{JournalOrder, JournalStatus, OrderQuery};
use maud::{Markup, html};

use crate::Dashboard;
use crate::layout::{Fragments, Nav, amount, clock, empty, money, region, shell};
use crate::live::{View, encode, fragments};
use crate::session::Reader;

/// Journal rows shown.
const RECENT: i64 = 50;

/// `GET /ui/orders?strategy=&market=&status=`.
pub async fn page(
    State(d): State<Arc<Dashboard>>,
    Extension(reader): Extension<Reader>,
    Query(mut view): Query<View>,
) -> Markup {
    view.page = "orders".into();
    let signed_in = reader.signed_in;
    let frags = fragments(&d, &view, signed_in).await;
    let body = html! {
        (crate::pages::top(&frags))
        section.card {
            h2 { "Orders" }
            (filters(&view))
        }
        section.card { h2 { "Open now" } (region("open-orders", &frags)) }
        section.card { h2 { "Recent (journal, newest first)" } (region("fills", &frags)) }
    };
    shell(&d, Nav::Orders, signed_in, &view.url("orders"), body)
}

fn filters(view: &View) -> Markup {
    let status = View::given(&view.status).unwrap_or("");
    html! {
        form.row.filters method="get" action="/ui/orders" {
            input name="strategy" placeholder="strategy" value=[View::given(&view.strategy)] aria-label="strategy";
            input name="market" placeholder="market id" value=[View::given(&view.market)] aria-label="market";
            select name="status" aria-label="status" {
                option value="" { "any status" }
                @for s in JournalStatus::ALL.map(JournalStatus::text) { option value=(s) selected[s == status] { (s) } }
            }
            button type="submit" { "Filter" }
            a href="/ui/orders" { "clear" }
        }
    }
}

/// The live parts: open orders and the journal.
pub async fn live(d: &Dashboard, view: &View) -> Fragments {
    let strategy = View::given(&view.strategy);
    let open = match d.host().open_orders(View::given(&view.market)).await {
        Ok(mut orders) => {
            // A strategy's orders, those of a version run alongside too
            // (labelled `name@version`), as the journal's are by name.
            let of = |label: &str, s: &str| label == s || label.starts_with(&format!("{s}@"));
            orders.retain(|o| strategy.is_none_or(|s| of(&o.strategy, s)));
            open_table(&orders)
        }
        Err(e) => html! { p.flash.error { (e) } },
    };
    let query = OrderQuery {
        strategy: strategy.map(str::to_owned),
        version: None,
        status: View::given(&view.status).map(str::to_owned),
        market_id: View::given(&view.market).map(str::to_owned),
        limit: Some(RECENT),
    };
    let fills = match d.host().store().journal_orders(&query).await {
        Ok(rows) => journal_table(&rows),
        Err(e) => html! { p.flash.error { "The journal cannot be read: " (e) } },
    };
    vec![("open-orders", open), ("fills", fills)]
}

/// Open orders, as the markets page shows them too.
pub fn open_table(orders: &[OpenOrder]) -> Markup {
    if orders.is_empty() {
        return empty("No open orders.");
    }
    html! {
        div.scroll { table.grid.open-orders {
            thead { tr {
                th { "Placed" } th { "Strategy" } th { "Market" } th { "Runner" } th { "Side" }
                th.num { "Price" } th.num { "Stake" } th.num { "Matched" } th { "Status" }
            } }
            tbody { @for o in orders {
                tr {
                    td { (clock(o.placed_at)) } td { (o.strategy) }
                    td { a href=(format!("/ui/markets?market={}", encode(&o.market_id))) { (o.market_id) } }
                    td { (o.selection_id) } td class=(o.side.to_lowercase()) { (o.side) }
                    td.num { (o.price) } td.num { (amount(o.size)) } td.num { (amount(o.size_matched)) }
                    td { (o.status) }
                }
            } }
        } }
    }
}

fn journal_table(rows: &[JournalOrder]) -> Markup {
    if rows.is_empty() {
        return empty("No orders in the journal match.");
    }
    html! {
        div.scroll { table.grid {
            thead { tr {
                th { "Placed" } th { "Strategy" } th { "Market" } th { "Runner" } th { "Side" }
                th.num { "Price" } th.num { "Stake" } th.num { "Matched" } th.num { "Avg" }
                th { "Status" } th.num { "Profit" }
            } }
            tbody { @for o in rows {
                tr {
                    td { (clock(o.placed_at)) }
                    td { (o.strategy.as_deref().unwrap_or("-")) @if let Some(v) = &o.version { span.muted { "@" (v) } } }
                    td { a href=(format!("/ui/markets?market={}", encode(&o.market_id))) { (o.market_id) } }
                    td { (o.selection_id) } td class=(o.side.to_lowercase()) { (o.side) }
                    td.num { (o.price) } td.num { (o.size) } td.num { (o.matched) }
                    td.num { (o.average_price.map_or_else(|| "-".into(), |p| format!("{p:.2}"))) }
                    td title=[o.reason.as_deref()] { (o.status.text()) }
                    td.num { @match o.profit { Some(p) => (money(p)), None => "-" } }
                }
            } }
        } }
    }
}

//! The alerts page: the strategies' faults as they stand, and the
//! alerts raised (with their webhook deliveries), newest first.

use std::sync::Arc;

use axum::extract::{Extension, State};
use clever_store::AlertRow;
use maud::{Markup, html};

use crate::Dashboard;
use crate::layout::{Fragments, Nav, empty, region, shell, when};
use crate::live::{View, fragments};
use crate::pages::Status;
use crate::session::Reader;

/// Alerts shown.
const SHOWN: i64 = 100;

/// `GET /ui/alerts`.
pub async fn page(State(d): State<Arc<Dashboard>>, Extension(reader): Extension<Reader>) -> Markup {
    let view = View {
        page: "alerts".into(),
        ..View::default()
    };
    let signed_in = reader.signed_in;
    let frags = fragments(&d, &view, signed_in).await;
    let body = html! {
        (crate::pages::top(&frags))
        section.card { h2 { "Faults" } (region("faults", &frags)) }
        section.card { h2 { "Alerts, newest first" } (region("alerts", &frags)) }
    };
    shell(&d, Nav::Alerts, signed_in, &view.url("alerts"), body)
}

/// The live parts: faults and alerts.
pub async fn live(d: &Dashboard, status: Status<'_>) -> Fragments {
    let faults = match status {
        Ok(status) => {
            let faulted = status.strategies.iter().filter(|s| s.faults > 0);
            let rows: Vec<_> = faulted
                .map(|s| {
                    (
                        s.label.clone(),
                        s.version.clone(),
                        s.faults,
                        s.quarantined,
                        s.last_fault.clone(),
                    )
                })
                .collect();
            faults_table(&rows)
        }
        Err(e) => html! { p.flash.error { (e) } },
    };
    let alerts = match d.host().store().alerts(None, SHOWN).await {
        Ok(rows) => alerts_table(&rows),
        Err(e) => html! { p.flash.error { "The alerts cannot be read: " (e) } },
    };
    vec![("faults", faults), ("alerts", alerts)]
}

type FaultRow = (String, String, usize, bool, Option<String>);

fn faults_table(rows: &[FaultRow]) -> Markup {
    if rows.is_empty() {
        return empty("No strategy has faulted.");
    }
    html! {
        div.scroll { table.grid {
            thead { tr { th { "Strategy" } th { "Version" } th.num { "Faults" } th { "State" } th { "Last fault" } } }
            tbody { @for (label, version, n, quarantined, last) in rows {
                tr {
                    td { (label) } td { (version) } td.num { (n) }
                    td { @if *quarantined { span.pill.bad { "quarantined" } } @else { span.pill.warn { "running" } } }
                    td { pre.fault { (last.as_deref().unwrap_or("")) } }
                }
            } }
        } }
    }
}

fn alerts_table(rows: &[AlertRow]) -> Markup {
    if rows.is_empty() {
        return empty("No alerts.");
    }
    html! {
        div.scroll { table.grid #alerts-table {
            thead { tr {
                th { "When" } th { "Severity" } th { "Alert" } th { "Strategy" } th { "Message" } th { "Delivered" }
            } }
            tbody { @for a in rows {
                tr {
                    td { (when(a.raised_at.unwrap_or(a.created_at))) }
                    td { span class=(format!("pill sev-{}", a.severity)) { (a.severity) } }
                    td { (a.source) ": " (a.name) }
                    td { (a.strategy.as_deref().unwrap_or("-")) }
                    td { (a.message.as_deref().unwrap_or("")) }
                    td { (a.deliveries.len()) " webhook(s)" }
                }
            } }
        } }
    }
}

//! The strategies page: what runs, which version, how each version has
//! done since it was swapped in, faults, the P&L chart, and the controls
//! (publish, activate, roll back, run alongside).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Extension, State};
use clever_engine::StrategyStatus;
use clever_store::Published;
use maud::{Markup, html};

use crate::Dashboard;
use crate::layout::{Fragments, Nav, amount, empty, money, region, shell};
use crate::live::{View, fragments};
use crate::pages::Status;
use crate::session::Reader;

/// `GET /ui`.
pub async fn page(State(d): State<Arc<Dashboard>>, Extension(reader): Extension<Reader>) -> Markup {
    let signed_in = reader.signed_in;
    let view = View {
        page: "strategies".into(),
        ..View::default()
    };
    let frags = fragments(&d, &view, signed_in).await;
    let body = html! {
        (crate::pages::top(&frags))
        section.card {
            h2 { "Strategies" }
            (region("strategies", &frags))
        }
        section.card {
            h2 { "Profit over time, per version (since the host started)" }
            (region("pnl", &frags))
        }
        div #controls { (controls(&d, signed_in).await) }
    };
    shell(
        &d,
        Nav::Strategies,
        signed_in,
        &view.url("strategies"),
        body,
    )
}

/// The live parts: the table and the chart.
pub fn live(d: &Dashboard, status: Status<'_>) -> Fragments {
    let table = match status {
        Ok(status) => table(&status.strategies, status.mode),
        Err(e) => html! { p.flash.error { (e) } },
    };
    let chart = crate::chart::svg(&lock(d));
    vec![("strategies", table), ("pnl", chart)]
}

fn lock(d: &Dashboard) -> std::sync::MutexGuard<'_, crate::History> {
    d.history
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn table(strategies: &[StrategyStatus], mode: &str) -> Markup {
    if strategies.is_empty() {
        return empty("No strategy is running. Publish one and activate a version below.");
    }
    html! {
        div.scroll { table.grid #strategies-table {
            thead { tr {
                th { "Strategy" } th { "Version" } th { "Mode" } th.num { "Events" }
                th.num { "Orders" } th.num { "Matched" } th.num { "Profit" } th { "Health" }
            } }
            @for s in strategies {
                tbody data-strategy=(s.label) {
                    tr.strategy {
                        td { strong { (s.label) } }
                        td.version { (s.version) }
                        td { (mode) }
                        td.num { (s.events) }
                        td.num { (s.tally.placed) }
                        td.num { (s.totals.figures.matched) }
                        td.num { (money(s.totals.figures.profit)) }
                        td { (health(s)) }
                    }
                    @for v in &s.versions {
                        tr.version-row data-version=(v.version) {
                            td.indent { "since swap to" }
                            td { (v.version) @if v.version == s.version { " ●" } }
                            td {}
                            td.num { (v.events) }
                            td.num { (v.figures.orders) }
                            td.num { (v.figures.matched) }
                            td.num { (money(v.figures.profit)) }
                            td.muted { "commission " (v.figures.commission) }
                        }
                    }
                }
            }
        } }
    }
}

fn health(s: &StrategyStatus) -> Markup {
    html! {
        @if s.quarantined {
            span.pill.bad title=[s.last_fault.as_deref()] { "quarantined" }
        } @else if s.faults > 0 {
            span.pill.warn title=[s.last_fault.as_deref()] { (s.faults) " faults" }
        } @else {
            span.pill.good { "ok" }
        }
        @let refused: u64 = s.sandbox_refused.values().sum();
        @if refused > 0 { " " span.pill.warn { (refused) " sandbox refusals" } }
        @let calls = s.hook_times.calls();
        @if calls > 0 {
            " " span.muted title="mean time of a hook call" { (amount(s.hook_times.sum_us as f64 / calls as f64)) " µs" }
        }
    }
}

/// The controls: publish a component; per strategy, activate a version
/// (or run it alongside) and roll back. Rendered when the page loads and
/// after each action, not by the stream, so a half-made choice survives.
pub async fn controls(d: &Dashboard, signed_in: bool) -> Markup {
    let published = d.host().store().published("", None).await;
    let running = d
        .host()
        .status()
        .await
        .map(|s| s.strategies)
        .unwrap_or_default();
    html! {
        section.card {
            h2 { "Versions" }
            @if !signed_in {
                p.muted { "Sign in with the API token to publish, activate or roll back." }
            }
            @match published {
                Err(e) => p.flash.error { "The registry cannot be read: " (e) },
                Ok(rows) => (versions(&rows, &running, signed_in)),
            }
            @if signed_in {
                form #publish-form.row {
                    label for="component" { "Publish a component" }
                    input #component type="file" accept=".wasm,application/wasm" name="component";
                    button type="submit" { "Publish" }
                }
            }
        }
    }
}

fn versions(rows: &[Published], running: &[StrategyStatus], signed_in: bool) -> Markup {
    let mut by_name: BTreeMap<&str, Vec<&Published>> = BTreeMap::new();
    for row in rows {
        by_name.entry(&row.name).or_default().push(row);
    }
    if by_name.is_empty() {
        return empty("Nothing is published yet.");
    }
    html! {
        div.scroll { table.grid {
            thead { tr { th { "Strategy" } th { "Running" } th { "Published" } @if signed_in { th { "Change" } } } }
            @for (name, rows) in &by_name {
                @let now: Vec<&str> = running.iter().filter(|s| s.name == *name).map(|s| s.version.as_str()).collect();
                tr data-name=(name) {
                    td { strong { (name) } }
                    td { (now.join(", ")) }
                    td { @for r in rows { span.pill title=(r.sha256) { (r.version) @if r.active { " ●" } } " " } }
                    @if signed_in { td { (change(name, rows)) } }
                }
            }
        } }
    }
}

fn change(name: &str, rows: &[&Published]) -> Markup {
    let vals = serde_json::json!({ "name": name }).to_string();
    html! {
        form.row.activate hx-post="/ui/actions/activate" hx-target="#flash"
            hx-confirm=(format!("Activate the chosen version of {name}?")) {
            input type="hidden" name="name" value=(name);
            select name="version" aria-label=(format!("version of {name}")) {
                @for r in rows.iter().rev() { option value=(r.version) { (r.version) } }
            }
            label.check { input type="checkbox" name="alongside" value="true"; " alongside" }
            button type="submit" { "Activate" }
        }
        button.secondary hx-post="/ui/actions/rollback" hx-vals=(vals) hx-target="#flash"
            hx-confirm=(format!("Roll {name} back to the version active before?")) { "Roll back" }
    }
}

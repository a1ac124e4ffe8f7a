//! Saved backtest runs and sweeps (`clever backtest --save`, `clever
//! sweep`), each with its report: results per strategy version and the
//! configuration it ran with.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use clever_market::Money;
use clever_store::{ResultRow, RunRow};
use maud::{Markup, html};
use serde::Deserialize;

use crate::Dashboard;
use crate::layout::{Nav, empty, money, shell, when};
use crate::live::{View, fragments};
use crate::session::Reader;

/// What the runs page may be asked.
#[derive(Deserialize)]
pub struct RunsQuery {
    sweep: Option<i64>,
}

/// `GET /ui/runs?sweep=N`: every saved run, or one sweep's ranked by profit.
pub async fn page(
    State(d): State<Arc<Dashboard>>,
    Extension(reader): Extension<Reader>,
    Query(q): Query<RunsQuery>,
) -> Markup {
    let signed_in = reader.signed_in;
    let view = View::default();
    let frags = fragments(&d, &view, signed_in).await;
    let runs = d.host().store().runs(q.sweep).await;
    let body = html! {
        (crate::pages::top(&frags))
        @match runs {
            Err(e) => p.flash.error { "The runs cannot be read: " (e) },
            Ok(mut runs) => {
                @if let Some(sweep) = q.sweep {
                    section.card {
                        h2 { "Sweep " (sweep) ", best first" }
                        p { a href="/ui/runs" { "all runs" } }
                        ({ runs.sort_by_key(|r| std::cmp::Reverse(profit(r))); runs_table(&runs) })
                    }
                } @else {
                    section.card { h2 { "Sweeps" } (sweeps(&runs)) }
                    section.card { h2 { "Backtest runs, newest first" } (runs_table(&runs)) }
                }
            }
        }
    };
    shell(&d, Nav::Runs, signed_in, &view.url("runs"), body)
}

fn profit(run: &RunRow) -> Money {
    run.results.iter().map(|r| r.profit).sum()
}

fn sweeps(runs: &[RunRow]) -> Markup {
    let mut by_sweep: BTreeMap<i64, Vec<&RunRow>> = BTreeMap::new();
    for run in runs {
        if let Some(s) = run.sweep {
            by_sweep.entry(s).or_default().push(run);
        }
    }
    if by_sweep.is_empty() {
        return empty("No sweeps saved.");
    }
    html! {
        div.scroll { table.grid {
            thead { tr { th { "Sweep" } th { "Started" } th.num { "Parameter sets" } th.num { "Best profit" } } }
            tbody { @for (sweep, runs) in by_sweep.iter().rev() {
                tr {
                    td { a href=(format!("/ui/runs?sweep={sweep}")) { "sweep " (sweep) } }
                    td { (when(runs.iter().map(|r| r.started_at).min().unwrap_or_default())) }
                    td.num { (runs.len()) }
                    td.num { (money(runs.iter().map(|r| profit(r)).max().unwrap_or_default())) }
                }
            } }
        } }
    }
}

fn runs_table(runs: &[RunRow]) -> Markup {
    if runs.is_empty() {
        return empty("No runs saved. `clever backtest --save` keeps one.");
    }
    html! {
        div.scroll { table.grid #runs-table {
            thead { tr {
                th { "Run" } th { "Started" } th.num { "Markets" } th.num { "Updates" } th.num { "Orders" }
                th { "Strategies" } th.num { "Profit" } th.num { "Took" }
            } }
            tbody { @for r in runs {
                tr {
                    td { a href=(format!("/ui/runs/{}", r.id)) { "run " (r.id) } @if let Some(s) = r.sweep { span.muted { " (sweep " (s) ")" } } }
                    td { (when(r.started_at)) } td.num { (r.markets) } td.num { (r.updates) } td.num { (r.orders) }
                    td { @for x in &r.results { span.pill { (x.name) "@" (x.version) } " " } }
                    td.num { (money(profit(r))) }
                    td.num { (format!("{:.1} s", r.elapsed_ms as f64 / 1000.0)) }
                }
            } }
        } }
    }
}

/// `GET /ui/runs/{id}`: one run's report.
pub async fn run_page(
    State(d): State<Arc<Dashboard>>,
    Extension(reader): Extension<Reader>,
    Path(id): Path<i64>,
) -> (StatusCode, Markup) {
    let signed_in = reader.signed_in;
    let view = View::default();
    let frags = fragments(&d, &view, signed_in).await;
    let (code, report) = match d.host().store().run(id).await {
        Ok(Some(run)) => (StatusCode::OK, report(&run)),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            empty(&format!("No run {id} is saved.")),
        ),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            html! { p.flash.error { (e) } },
        ),
    };
    let body = html! { (crate::pages::top(&frags)) (report) };
    (
        code,
        shell(&d, Nav::Runs, signed_in, &view.url("runs"), body),
    )
}

fn report(run: &RunRow) -> Markup {
    let config = serde_json::from_str::<serde_json::Value>(&run.config)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| run.config.clone());
    html! {
        section.card {
            h2 { "Run " (run.id) }
            p { (when(run.started_at)) " · " (run.markets) " markets · " (run.updates) " updates · "
                (run.orders) " orders saved · took " (format!("{:.1} s", run.elapsed_ms as f64 / 1000.0))
                @if let Some(s) = run.sweep { " · " a href=(format!("/ui/runs?sweep={s}")) { "sweep " (s) } } }
            (results(&run.results))
        }
        section.card { h2 { "Configuration" } pre.config { (config) } }
    }
}

fn results(rows: &[ResultRow]) -> Markup {
    html! {
        div.scroll { table.grid #report-table {
            thead { tr {
                th { "Strategy" } th { "Version" } th.num { "Orders" } th.num { "Matched" }
                th.num { "Gross" } th.num { "Commission" } th.num { "Profit" } th.num { "ROI" } th.num { "Faults" }
            } }
            tbody { @for r in rows {
                tr {
                    td { (r.name) } td { (r.version) } td.num { (r.orders) } td.num { (r.matched) }
                    td.num { (money(r.gross_profit)) } td.num { (r.commission) } td.num { (money(r.profit)) }
                    td.num { (format!("{:.2}%", r.roi * 100.0)) } td.num { (r.faults) }
                }
            } }
            tfoot { tr {
                th { "Total" } th {} th.num { (rows.iter().map(|r| r.orders).sum::<i64>()) }
                th.num { (rows.iter().map(|r| r.matched).sum::<Money>()) }
                th.num { (money(rows.iter().map(|r| r.gross_profit).sum())) }
                th.num { (rows.iter().map(|r| r.commission).sum::<Money>()) }
                th.num { (money(rows.iter().map(|r| r.profit).sum())) } th {} th {}
            } }
        } }
    }
}

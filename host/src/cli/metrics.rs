//! The metrics and Monte Carlo tables `clever backtest` and `clever runs`
//! print: one row per figure, one column per strategy version (or per run
//! and version, side by side). The figures are defined in docs/METRICS.md.

use crate::analytics::{Metrics, Resampled};
use crate::market::Money;

/// One column: its heading and its metrics (none for a run saved before
/// metrics were kept).
pub type Column<'a> = (String, Option<&'a Metrics>);

/// Print the metrics table.
pub fn print(columns: &[Column<'_>]) {
    let width = (columns.iter())
        .map(|(heading, _)| heading.len())
        .max()
        .unwrap_or(0)
        .max(12);
    let mut bankrolls: Vec<String> = (columns.iter())
        .filter_map(|(_, m)| m.map(|m| m.bankroll.money().to_string()))
        .collect();
    bankrolls.dedup();
    println!(
        "metrics (bankroll {}; Sharpe, Sortino and Calmar on daily returns, annualised over 365 days)",
        if bankrolls.is_empty() {
            "-".to_owned()
        } else {
            bankrolls.join(", ")
        }
    );
    print!("{:<26}", "");
    for (heading, _) in columns {
        print!(" {heading:>width$}");
    }
    println!();
    for (name, figure) in ROWS {
        print!("{name:<26}");
        for (_, metrics) in columns {
            let cell = metrics.map_or_else(|| "-".to_owned(), figure);
            print!(" {cell:>width$}");
        }
        println!();
    }
}

/// One figure of a metrics table, as text.
pub type Figure = fn(&Metrics) -> String;

/// The rows of every metrics table (text and HTML), in order.
pub const ROWS: &[(&str, Figure)] = &[
    ("markets traded", |m| m.markets.to_string()),
    ("net profit", |m| m.net_profit.to_string()),
    ("turnover (matched)", |m| m.turnover.to_string()),
    ("commission paid", |m| m.commission.to_string()),
    ("roi on turnover %", |m| percent(m.roi_on_turnover)),
    ("roi on bankroll %", |m| percent(m.roi_on_bankroll)),
    ("strike rate %", |m| m.strike_rate.map_or(none(), percent)),
    ("average win", |m| money(m.average_win)),
    ("average loss", |m| money(m.average_loss)),
    ("profit factor", |m| ratio(m.profit_factor)),
    ("expectancy per market", |m| money(m.expectancy)),
    ("max drawdown", |m| m.max_drawdown.to_string()),
    ("max drawdown % bankroll", |m| {
        percent(m.max_drawdown_of_bankroll)
    }),
    ("longest under a peak", |m| {
        format!(
            "{} ({} mkts)",
            duration(m.max_drawdown_ms),
            m.max_drawdown_markets
        )
    }),
    ("longest losing run", |m| m.longest_losing_run.to_string()),
    ("days", |m| m.days.to_string()),
    ("sharpe", |m| ratio(m.sharpe)),
    ("sortino", |m| ratio(m.sortino)),
    ("calmar", |m| ratio(m.calmar)),
];

fn none() -> String {
    "-".to_owned()
}

fn percent(share: f64) -> String {
    format!("{:.2}", share * 100.0)
}

fn ratio(x: Option<f64>) -> String {
    x.map_or_else(none, |x| format!("{x:.2}"))
}

fn money(m: Option<Money>) -> String {
    m.map_or_else(none, |m| m.to_string())
}

/// `3d 04:10` (days, hours and minutes).
fn duration(ms: i64) -> String {
    let minutes = ms / 60_000;
    let (days, hours, minutes) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    format!("{days}d {hours:02}:{minutes:02}")
}

/// Print a strategy's Monte Carlo resampling.
pub fn print_monte_carlo(heading: &str, r: &Resampled) {
    println!(
        "monte carlo, {heading}: {} samples of its {} markets traded, seed {}",
        r.samples, r.markets, r.seed
    );
    println!(
        "  {:<14} {:>12} {:>12}",
        "percentile", "final profit", "max drawdown"
    );
    let (f, d) = (&r.final_profit, &r.max_drawdown);
    let rows = [
        ("5", f.p5, d.p5),
        ("25", f.p25, d.p25),
        ("50 (median)", f.p50, d.p50),
        ("75", f.p75, d.p75),
        ("95", f.p95, d.p95),
    ];
    for (p, profit, drawdown) in rows {
        println!("  {p:<14} {profit:>12} {drawdown:>12}");
    }
    println!(
        "  ended with a loss: {:.2}%; lost {:.0}% of the bankroll at some point: {:.2}%",
        r.probability_of_loss * 100.0,
        r.ruin * 100.0,
        r.probability_of_ruin * 100.0
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_read_as_days_hours_and_minutes() {
        assert_eq!(super::duration(0), "0d 00:00");
        assert_eq!(
            super::duration((3 * 1440 + 4 * 60 + 10) * 60_000 + 59_999),
            "3d 04:10"
        );
    }
}

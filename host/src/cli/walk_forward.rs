//! `clever walk-forward`: a sweep over all the data, cut by date into
//! in-sample and out-of-sample windows; the best set of each in-sample
//! window is judged on the window after it, and the out-of-sample results
//! are stitched together beside the in-sample ones.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::analytics::metrics::DAY_MS;
use crate::analytics::{Analysis, WalkForward, Windows};

/// Walk-forward analysis of one plugin's parameter sets.
#[derive(Debug, clap::Args)]
#[group(id = "walk_forward")]
pub struct Args {
    #[command(flatten)]
    sweep: super::sweep::Args,
    /// The in-sample window: a number of days (`30d`) or hours (`12h`).
    #[arg(long, value_parser = span)]
    in_sample: i64,
    /// The out-of-sample window that follows each in-sample one.
    #[arg(long, value_parser = span)]
    out_of_sample: i64,
    /// In-sample windows all start at the beginning of the data and grow,
    /// instead of rolling forward at one length.
    #[arg(long)]
    anchored: bool,
}

/// What `clever walk-forward --json` prints.
#[derive(Debug, Serialize)]
struct Report {
    rank_by: &'static str,
    windows: Windows,
    /// The parameter sets, by index.
    sets: Vec<Map<String, Value>>,
    #[serde(flatten)]
    analysis: Analysis,
}

/// `30d` or `12h`, as milliseconds.
fn span(text: &str) -> Result<i64, String> {
    let bad = || format!("{text:?}: expected a number of days (30d) or hours (12h)");
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let n: i64 = number.parse().map_err(|_| bad())?;
    let ms = match unit {
        "d" => n.checked_mul(DAY_MS),
        "h" => n.checked_mul(3_600_000),
        _ => None,
    };
    ms.filter(|&ms| ms > 0).ok_or_else(bad)
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.sweep.report.is_none(),
            "--report: walk-forward writes no HTML report yet (sweep and backtest do)"
        );
        let (_, runs) = self.sweep.run_sets()?;
        super::sweep::warn_logged(&runs);
        self.sweep.warn_idle(&runs);
        let settings = WalkForward {
            windows: if self.anchored {
                Windows::Anchored
            } else {
                Windows::Rolling
            },
            in_sample_ms: self.in_sample,
            out_of_sample_ms: self.out_of_sample,
            rank_by: self.sweep.rank_by,
            bankroll: self.sweep.bankroll,
        };
        let points: Vec<_> = (runs.iter())
            .map(|(_, _, report)| {
                let first = report.strategies.first();
                first.map(|s| s.points.clone()).unwrap_or_default()
            })
            .collect();
        let analysis = settings.analyse(&points).ok_or_else(|| {
            anyhow::anyhow!(
                "the data does not span one in-sample and one out-of-sample window: \
                 shorten --in-sample or --out-of-sample, or give more data"
            )
        })?;
        let report = Report {
            rank_by: settings.rank_by.name(),
            windows: settings.windows,
            sets: runs.into_iter().map(|(set, _, _)| set).collect(),
            analysis,
        };
        if self.sweep.json {
            return super::output::print_json(&report);
        }
        print_report(&report);
        Ok(())
    }
}

fn date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

fn print_report(r: &Report) {
    let a = &r.analysis;
    println!(
        "walk-forward, {} windows, {} steps over {} parameter sets, chosen by {}",
        match r.windows {
            Windows::Rolling => "rolling",
            Windows::Anchored => "anchored",
        },
        a.steps.len(),
        r.sets.len(),
        r.rank_by
    );
    println!(
        "{:<36} {:<36} {:>10} {:>10}  chosen",
        "in sample (UTC)", "out of sample (UTC)", "is profit", "oos profit"
    );
    for s in &a.steps {
        println!(
            "{:<36} {:<36} {:>10} {:>10}  {}",
            format!("{} .. {}", date(s.in_sample.0), date(s.in_sample.1)),
            format!("{} .. {}", date(s.out_of_sample.0), date(s.out_of_sample.1)),
            s.in_sample_metrics.net_profit,
            s.out_of_sample_metrics.net_profit,
            Value::Object(r.sets[s.chosen].clone())
        );
    }
    println!();
    let columns = [
        ("in sample (stitched)".to_owned(), Some(&a.in_sample)),
        (
            "out of sample (stitched)".to_owned(),
            Some(&a.out_of_sample),
        ),
    ];
    super::metrics::print(&columns);
    match a.efficiency {
        Some(e) => println!(
            "walk-forward efficiency (out-of-sample profit a day over in-sample): {:.2}",
            e
        ),
        None => println!("walk-forward efficiency: none (the in-sample profit was not above zero)"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn spans_are_days_or_hours() {
        assert_eq!(super::span("2d"), Ok(2 * 86_400_000));
        assert_eq!(super::span("12h"), Ok(12 * 3_600_000));
        for bad in ["", "d", "0d", "-1d", "3w", "1.5d"] {
            assert!(super::span(bad).is_err(), "{bad}");
        }
    }
}

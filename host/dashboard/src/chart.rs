//! Profit over time per strategy version: sampled from the host every
//! [`EVERY`] while it serves, drawn as an SVG on the server (no chart
//! library in the page). The figures are this run's, as `/strategies`
//! reports them: a restarted host's chart starts again from its start
//! (the journal, on the orders page, keeps every order across restarts).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use maud::{Markup, html};

use crate::Dashboard;
use crate::layout::empty;

/// How often the host's figures are sampled.
const EVERY: Duration = Duration::from_secs(1);
/// A series keeps at most this many points; older ones are thinned.
const MAX_POINTS: usize = 600;
/// A flat series still gets a point this often, so its line reaches now.
const FLAT_EVERY_MS: i64 = 15_000;

/// Each `label@version`'s (time ms, profit) points, oldest first.
#[derive(Default)]
pub struct History {
    series: BTreeMap<String, Vec<(i64, f64)>>,
}

impl History {
    /// Profit of `key` at `at`: kept if it changed, or the last point is
    /// old.
    pub fn record(&mut self, key: &str, at: i64, profit: f64) {
        let points = self.series.entry(key.to_owned()).or_default();
        if let Some(&(t, p)) = points.last()
            && p == profit
            && at - t < FLAT_EVERY_MS
        {
            return;
        }
        points.push((at, profit));
        if points.len() > MAX_POINTS {
            // Keep the first, every other one after it, and the last.
            let last = points.len() - 1;
            let mut i = 0;
            points.retain(|_| {
                i += 1;
                i == 1 || i % 2 == 0 || i - 1 == last
            });
        }
    }
}

/// Sample the host until it stops, or is stopping.
pub async fn sample(d: Arc<Dashboard>) {
    let mut tick = tokio::time::interval(EVERY);
    let mut closing = d.closing.clone();
    while crate::tick_or_close(&mut tick, &mut closing).await {
        let Ok(status) = d.host().status().await else {
            return;
        };
        let now = clever_serve::wall_now().0;
        let mut history = d.history.lock().unwrap_or_else(|p| p.into_inner());
        for s in &status.strategies {
            for v in &s.versions {
                let key = format!("{}@{}", s.label, v.version);
                history.record(&key, now, v.figures.profit.to_f64());
            }
        }
    }
}

const WIDTH: f64 = 800.0;
const HEIGHT: f64 = 220.0;
const PAD: f64 = 36.0;
const COLOURS: &[&str] = &[
    "#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#db2777", "#0891b2", "#65a30d",
];

/// The chart as it stands.
pub fn svg(history: &History) -> Markup {
    let points = history.series.values().flatten();
    let (mut t0, mut t1, mut lo, mut hi) = (i64::MAX, i64::MIN, 0.0f64, 0.0f64);
    for &(t, p) in points {
        (t0, t1, lo, hi) = (t0.min(t), t1.max(t), lo.min(p), hi.max(p));
    }
    if t0 > t1 {
        return empty("No figures yet: the chart starts with the first strategy.");
    }
    let span_t = (t1 - t0).max(1) as f64;
    let span_p = if hi > lo { hi - lo } else { 1.0 };
    let x = |t: i64| PAD + (t - t0) as f64 / span_t * (WIDTH - 2.0 * PAD);
    let y = |p: f64| HEIGHT - PAD - (p - lo) / span_p * (HEIGHT - 2.0 * PAD);
    // Steps, not slopes: profit changes when a market settles, and holds
    // between samples.
    let line = |pts: &[(i64, f64)]| {
        let mut out = Vec::with_capacity(pts.len() * 2);
        for (i, &(t, p)) in pts.iter().enumerate() {
            if i > 0 {
                out.push(format!("{:.1},{:.1}", x(t), y(pts[i - 1].1)));
            }
            out.push(format!("{:.1},{:.1}", x(t), y(p)));
        }
        out.join(" ")
    };
    html! {
        svg.chart #pnl-chart viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img"
            aria-label="profit over time per strategy version" {
            line.axis x1=(PAD) x2=(WIDTH - PAD) y1=(y(0.0)) y2=(y(0.0)) {}
            text.tick x="2" y=(y(hi) + 4.0) { (format!("{hi:.2}")) }
            text.tick x="2" y=(y(lo) + 4.0) { (format!("{lo:.2}")) }
            text.tick x=(PAD) y=(HEIGHT - 8.0) { (crate::layout::clock(t0)) }
            text.tick x=(WIDTH - PAD - 52.0) y=(HEIGHT - 8.0) { (crate::layout::clock(t1)) }
            @for (i, (key, pts)) in history.series.iter().enumerate() {
                @let colour = COLOURS[i % COLOURS.len()];
                polyline.series data-series=(key) points=(line(pts)) fill="none"
                    stroke=(colour) stroke-width="2" {}
                // The latest point, so a series of one point shows too.
                @if let Some(&(t, p)) = pts.last() {
                    circle cx=(format!("{:.1}", x(t))) cy=(format!("{:.1}", y(p))) r="3.5" fill=(colour) {}
                }
            }
        }
        ul.legend {
            @for (i, (key, pts)) in history.series.iter().enumerate() {
                li { span.swatch style=(format!("background:{}", COLOURS[i % COLOURS.len()])) {}
                    (key) " " strong { (format!("{:.2}", pts.last().map_or(0.0, |p| p.1))) } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flat_series_is_not_resampled_until_it_is_old() {
        let mut h = History::default();
        h.record("a@1", 0, 1.0);
        h.record("a@1", 1_000, 1.0);
        h.record("a@1", 2_000, 2.5);
        h.record("a@1", 2_000 + FLAT_EVERY_MS, 2.5);
        assert_eq!(h.series["a@1"], [(0, 1.0), (2_000, 2.5), (17_000, 2.5)]);
    }

    #[test]
    fn a_long_series_is_thinned_but_keeps_its_ends() {
        let mut h = History::default();
        for i in 0..=MAX_POINTS as i64 {
            h.record("a@1", i, i as f64);
        }
        let pts = &h.series["a@1"];
        assert!(pts.len() <= MAX_POINTS / 2 + 2, "{} points", pts.len());
        assert_eq!(pts.first(), Some(&(0, 0.0)));
        assert_eq!(pts.last(), Some(&(MAX_POINTS as i64, MAX_POINTS as f64)));
    }
}
